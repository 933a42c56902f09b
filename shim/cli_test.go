package shim

import (
	"slices"
	"strings"
	"testing"
)

func TestParseInvocation(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want Invocation
	}{
		{"containerd's runc shim create",
			[]string{"--root", "/run/containerd/runc/k8s.io", "--log", "/run/x/log.json", "--log-format", "json", "--systemd-cgroup", "create", "--bundle", "/run/b", "--pid-file", "/run/b/init.pid", "--console-socket", "/tmp/c.sock", "ctr1"},
			Invocation{Command: "create", ContainerID: "ctr1", Bundle: "/run/b", Log: "/run/x/log.json", LogFormat: "json", bundleArg: 9}},
		{"equals forms",
			[]string{"--log=/l", "--log-format=text", "create", "--bundle=rel", "id2"},
			Invocation{Command: "create", ContainerID: "id2", Bundle: "rel", Log: "/l", LogFormat: "text", bundleArg: 3, bundlePrefix: "--bundle="}},
		{"id before options, -b value",
			[]string{"run", "id3", "-b", "/b3", "--detach"},
			Invocation{Command: "run", ContainerID: "id3", Bundle: "/b3", bundleArg: 3}},
		{"bundle defaults to the working directory",
			[]string{"create", "--no-pivot", "id4"},
			Invocation{Command: "create", ContainerID: "id4", Bundle: ".", bundleArg: -1}},
		{"podman's crun-style globals",
			[]string{"--cgroup-manager", "systemd", "--log-level", "error", "--root", "/run/crun", "create", "--bundle", "/b5", "--pid-file", "/p", "id5"},
			Invocation{Command: "create", ContainerID: "id5", Bundle: "/b5", bundleArg: 8}},
		{"id after --", []string{"create", "-b", "/b6", "--", "id6"},
			Invocation{Command: "create", ContainerID: "id6", Bundle: "/b6", bundleArg: 2}},
		{"passthrough state", []string{"--root", "/r", "state", "id7"}, Invocation{Command: "state", bundleArg: -1}},
		{"passthrough kill", []string{"kill", "id8", "KILL"}, Invocation{Command: "kill", bundleArg: -1}},
		{"version flag only", []string{"--version"}, Invocation{bundleArg: -1}},
		{"create -h", []string{"create", "-h"},
			Invocation{Command: "create", Bundle: ".", bundleArg: -1, CreatesNothing: "it asks for help"}},
		{"run --help with an id", []string{"run", "--help", "id9"},
			Invocation{Command: "run", ContainerID: "id9", Bundle: ".", bundleArg: -1, CreatesNothing: "it asks for help"}},
		{"bare run", []string{"run"},
			Invocation{Command: "run", Bundle: ".", bundleArg: -1, CreatesNothing: "it names 0 containers, not one"}},
		{"two ids", []string{"create", "-b", "/b", "a", "b"},
			Invocation{Command: "create", ContainerID: "a", Bundle: "/b", bundleArg: 2, CreatesNothing: "it names 2 containers, not one"}},
		{"two ids after --", []string{"create", "--", "a", "b"},
			Invocation{Command: "create", ContainerID: "a", Bundle: ".", bundleArg: -1, CreatesNothing: "it names 2 containers, not one"}},
		{"nothing after --", []string{"create", "--"},
			Invocation{Command: "create", Bundle: ".", bundleArg: -1, CreatesNothing: "it names 0 containers, not one"}},
		{"nothing", nil, Invocation{bundleArg: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseInvocation(tc.args)
			if got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// Command lines a runtime reads differently from sysgate, each of which ran
// a container unfiltered before: they are Unclear, never passed on.
func TestParseInvocationUnclear(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"abbreviated global option (crun: --root)", []string{"--roo", "/tmp/x", "create", "-b", "/b", "id"}, `"--roo"`},
		{"unknown global switch", []string{"--no-such", "create", "id"}, `"--no-such"`},
		{"crun's config file option", []string{"create", "-f", "/abs/alt.json", "-b", "/b", "id"}, "another config file"},
		{"crun's config file option, long", []string{"run", "--config=/alt.json", "id"}, "another config file"},
		{"value attached to -b", []string{"create", "-b/dir", "id"}, `"-b/dir"`},
		{"-b=value (crun reads =value)", []string{"create", "-b=/dir", "id"}, `"-b=/dir"`},
		{"unknown create option", []string{"create", "--bundel", "/b", "id"}, `"--bundel"`},
		{"a switch given a value", []string{"create", "--no-pivot=false", "id"}, `"--no-pivot=false"`},
		// runc reads --help=false as no help and creates: it must not pass
		// for a request for help, which goes to the runtime untouched.
		{"help switched off", []string{"create", "--help=false", "id"}, `"--help=false"`},
		{"-h given a value", []string{"run", "-h=0", "id"}, `"-h=0"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseInvocation(tc.args)
			if !strings.Contains(got.Unclear, tc.want) {
				t.Errorf("Unclear = %q, want it to name %s", got.Unclear, tc.want)
			}
		})
	}
}

func TestWithBundle(t *testing.T) {
	for _, tc := range []struct {
		args, want []string
	}{
		{[]string{"create", "--bundle", "link/../b", "id"}, []string{"create", "--bundle", "/real/b", "id"}},
		{[]string{"create", "--bundle=link/../b", "id"}, []string{"create", "--bundle=/real/b", "id"}},
		{[]string{"create", "id"}, []string{"create", "id"}},
	} {
		args := slices.Clone(tc.args)
		got := ParseInvocation(args).WithBundle(args, "/real/b")
		if !slices.Equal(got, tc.want) || !slices.Equal(args, tc.args) {
			t.Errorf("%q: got %q, want %q (and the input unchanged)", tc.args, got, tc.want)
		}
	}
}
