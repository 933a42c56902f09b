package node

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// RootPath is where the process's root directory is in this process's
// mount namespace: a container's root filesystem, <bundle>/rootfs for
// every runtime that follows the OCI layout. It is worked out from the
// kernel's mount tables (the process's mount of "/" and this namespace's
// mount of the same filesystem) and confirmed by comparing device and
// inode, so nothing inside the container can point it elsewhere; a
// container that chroots away from its root filesystem is simply not
// found. It links a container that has no cgroup of its own to the bundle
// its runtime was given.
func RootPath(pid int) (string, error) {
	ours, err := os.ReadFile(ProcRoot + "/self/mountinfo")
	if err != nil {
		return "", err
	}
	return rootPathIn(pid, parseMountinfo(string(ours)))
}

// RootPaths is RootPath for many processes, reading this namespace's mount
// table once; a process whose root cannot be found is left out.
func RootPaths(pids []int) map[int]string {
	out := map[int]string{}
	ours, err := os.ReadFile(ProcRoot + "/self/mountinfo")
	if err != nil {
		return out
	}
	mounts := parseMountinfo(string(ours))
	for _, pid := range pids {
		if path, err := rootPathIn(pid, mounts); err == nil {
			out[pid] = path
		}
	}
	return out
}

func rootPathIn(pid int, ours []mount) (string, error) {
	var want unix.Stat_t
	if err := unix.Stat(fmt.Sprintf("%s/%d/root", ProcRoot, pid), &want); err != nil {
		return "", err
	}
	theirs, err := os.ReadFile(fmt.Sprintf("%s/%d/mountinfo", ProcRoot, pid))
	if err != nil {
		return "", err
	}
	rootMount, ok := mountOf(parseMountinfo(string(theirs)), "/")
	if !ok {
		return "", fmt.Errorf("process %d has no mount at /", pid)
	}
	for _, m := range ours {
		if m.device != rootMount.device {
			continue
		}
		rel, ok := within(rootMount.root, m.root)
		if !ok {
			continue
		}
		path := filepath.Join(m.point, rel)
		var st unix.Stat_t
		if unix.Stat(path, &st) == nil && st.Dev == want.Dev && st.Ino == want.Ino {
			return path, nil
		}
	}
	return "", fmt.Errorf("the root directory of process %d is not visible from this mount namespace", pid)
}

// mount is one line of /proc/PID/mountinfo: the device, the path within
// the filesystem that is mounted, and where.
type mount struct {
	device string // major:minor
	root   string
	point  string
}

func parseMountinfo(data string) []mount {
	var out []mount
	for _, line := range strings.Split(data, "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		out = append(out, mount{device: f[2], root: unescapeMount(f[3]), point: unescapeMount(f[4])})
	}
	return out
}

// mountOf is the mount at point that processes see: the last one listed
// there (later mounts cover earlier ones).
func mountOf(mounts []mount, point string) (mount, bool) {
	var found mount
	ok := false
	for _, m := range mounts {
		if m.point == point {
			found, ok = m, true
		}
	}
	return found, ok
}

// within is path relative to dir when path lies under dir.
func within(path, dir string) (string, bool) {
	if dir == "/" {
		return path, true
	}
	if path == dir {
		return ".", true
	}
	if rest, ok := strings.CutPrefix(path, dir+"/"); ok {
		return rest, true
	}
	return "", false
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }
