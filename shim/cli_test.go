package shim

import "testing"

func TestParseInvocation(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want Invocation
	}{
		{"containerd's runc shim create",
			[]string{"--root", "/run/containerd/runc/k8s.io", "--log", "/run/x/log.json", "--log-format", "json", "--systemd-cgroup", "create", "--bundle", "/run/b", "--pid-file", "/run/b/init.pid", "--console-socket", "/tmp/c.sock", "ctr1"},
			Invocation{Command: "create", ContainerID: "ctr1", Bundle: "/run/b", Log: "/run/x/log.json", LogFormat: "json"}},
		{"equals forms and short bundle",
			[]string{"--log=/l", "--log-format=text", "create", "-b=rel", "id2"},
			Invocation{Command: "create", ContainerID: "id2", Bundle: "/work/rel", Log: "/l", LogFormat: "text"}},
		{"id before options, -b value",
			[]string{"run", "id3", "-b", "/b3", "--detach"},
			Invocation{Command: "run", ContainerID: "id3", Bundle: "/b3"}},
		{"bundle defaults to the working directory",
			[]string{"create", "--no-pivot", "id4"},
			Invocation{Command: "create", ContainerID: "id4", Bundle: "/work"}},
		{"podman's crun-style globals",
			[]string{"--cgroup-manager", "systemd", "--log-level", "error", "--root", "/run/crun", "create", "--bundle", "/b5", "--pid-file", "/p", "id5"},
			Invocation{Command: "create", ContainerID: "id5", Bundle: "/b5"}},
		{"id after --", []string{"create", "-b", "/b6", "--", "id6"},
			Invocation{Command: "create", ContainerID: "id6", Bundle: "/b6"}},
		{"passthrough state", []string{"--root", "/r", "state", "id7"}, Invocation{Command: "state"}},
		{"passthrough kill", []string{"kill", "id8", "KILL"}, Invocation{Command: "kill"}},
		{"version flag only", []string{"--version"}, Invocation{}},
		{"nothing", nil, Invocation{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseInvocation(tc.args, "/work")
			if got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
