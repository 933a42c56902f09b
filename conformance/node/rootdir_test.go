package node

import (
	"os"
	"testing"
)

func TestMountinfo(t *testing.T) {
	mounts := parseMountinfo("25 1 254:0 / / rw - ext4 /dev/vda rw\n" +
		"30 25 0:40 / /run rw - tmpfs tmpfs rw\n" +
		"120 95 254:0 /tmp/my\\040dir/rootfs / ro - ext4 /dev/vda rw\n")
	if len(mounts) != 3 || mounts[2].root != "/tmp/my dir/rootfs" {
		t.Fatalf("parsed %+v", mounts)
	}
	if m, ok := mountOf(mounts, "/"); !ok || m.root != "/tmp/my dir/rootfs" {
		t.Errorf("the mount processes see at / is the last one: %+v", m)
	}
	for _, tc := range []struct {
		path, dir, rel string
		ok             bool
	}{
		{"/tmp/b/rootfs", "/", "/tmp/b/rootfs", true},
		{"/b/rootfs", "/b", "rootfs", true},
		{"/b", "/b", ".", true},
		{"/bb/rootfs", "/b", "", false},
	} {
		if rel, ok := within(tc.path, tc.dir); rel != tc.rel || ok != tc.ok {
			t.Errorf("within(%s, %s) = %q, %v", tc.path, tc.dir, rel, ok)
		}
	}
}

// This process's own root is "/" of this namespace.
func TestRootPathOfSelf(t *testing.T) {
	path, err := RootPath(os.Getpid())
	if err != nil || path != "/" {
		t.Errorf("RootPath(self) = %q, %v; want /", path, err)
	}
}
