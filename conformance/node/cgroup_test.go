package node

import (
	"strings"
	"testing"
)

func TestParseLayout(t *testing.T) {
	id := strings.Repeat("ab", 32)
	other := strings.Repeat("cd", 32)
	uid := "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
	for _, tc := range []struct {
		name, path string
		want       Layout
		ok         bool
	}{
		{"containerd, systemd driver", "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0.slice/cri-containerd-" + id + ".scope",
			Layout{Engine: "containerd", ID: id, PodUID: uid, Cgroup: "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0.slice/cri-containerd-" + id + ".scope"}, true},
		{"guaranteed Pod, systemd", "/kubepods.slice/kubepods-pod0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0.slice/crio-" + id + ".scope",
			Layout{Engine: "cri-o", ID: id, PodUID: uid, Cgroup: "/kubepods.slice/kubepods-pod0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0.slice/crio-" + id + ".scope"}, true},
		{"CRI-O's monitor is not the container", "/kubepods.slice/kubepods-pod0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0.slice/crio-conmon-" + id + ".scope", Layout{}, false},
		{"kubelet cgroupfs", "/kubepods/burstable/pod" + uid + "/" + id, Layout{ID: id, PodUID: uid, Cgroup: "/kubepods/burstable/pod" + uid + "/" + id}, true},
		{"CRI-O cgroupfs", "/kubepods/pod" + uid + "/crio-" + id, Layout{Engine: "cri-o", ID: id, PodUID: uid, Cgroup: "/kubepods/pod" + uid + "/crio-" + id}, true},
		{"a cgroup the container made below its own", "/kubepods/pod" + uid + "/" + id + "/" + other, Layout{ID: id, PodUID: uid, Cgroup: "/kubepods/pod" + uid + "/" + id}, true},
		{"podman, systemd", "/machine.slice/libpod-" + id + ".scope/container", Layout{Engine: "podman", ID: id, Cgroup: "/machine.slice/libpod-" + id + ".scope"}, true},
		{"podman's monitor", "/machine.slice/libpod-conmon-" + id + ".scope", Layout{}, false},
		{"podman, cgroupfs", "/libpod_parent/libpod-" + id, Layout{Engine: "podman", ID: id, Cgroup: "/libpod_parent/libpod-" + id}, true},
		{"docker, cgroupfs", "/docker/" + id, Layout{Engine: "docker", ID: id, Cgroup: "/docker/" + id}, true},
		{"docker, systemd", "/system.slice/docker-" + id + ".scope", Layout{Engine: "docker", ID: id, Cgroup: "/system.slice/docker-" + id + ".scope"}, true},
		{"a runtime's default /<id>, nested under its caller", "/process_api/abc/" + id, Layout{ID: id, Cgroup: "/process_api/abc/" + id}, true},
		{"a host service", "/system.slice/ssh.service", Layout{}, false},
		{"the root", "/", Layout{}, false},
		{"pod<uid> outside kubepods says nothing", "/pod" + uid + "/x", Layout{}, false},
	} {
		got, ok := ParseLayout(tc.path)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: ParseLayout(%s) = %+v, %v; want %+v, %v", tc.name, tc.path, got, ok, tc.want, tc.ok)
		}
	}
}

func TestContainerOfPrefersTheUnifiedHierarchy(t *testing.T) {
	id := strings.Repeat("ef", 32)
	lines := parseCgroups("4:memory:/process_api/s/" + id + "\n1:name=systemd:/" + id + "\n0::/" + id + "\n")
	l, ok := containerOf(lines)
	if !ok || l.Cgroup != "/"+id {
		t.Errorf("containerOf = %+v, %v; want cgroup /%s", l, ok, id)
	}
	if got := mainCgroup(lines); got != "/"+id {
		t.Errorf("mainCgroup = %s", got)
	}
	v1only := parseCgroups("5:pids:/a\n4:memory:/b\n1:name=systemd:/c\n0::/\n")
	if got := mainCgroup(v1only); got != "/c" {
		t.Errorf("mainCgroup on cgroup v1 = %s, want systemd's /c", got)
	}
}
