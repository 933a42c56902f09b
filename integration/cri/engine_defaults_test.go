package cri

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/conformance/probe"
	"github.com/sysgate/sysgate/filter/syscalls"
)

// engineDefaultCalls are the calls on which a default profile (podman's,
// Docker's, containerd's) is seen: the seed's (mkdir allowed, keyctl
// denied), the capability-gated rules (includes on CAP_SYS_ADMIN,
// CAP_SYS_PTRACE, ...), the argument rules (personality, socket, clone3),
// the default errno (podman's ENOSYS, Docker's EPERM) and the syscalls
// newer than the profiles and than libseccomp 2.5.4 (where runc's ENOSYS
// stub and sysgate's must agree). None of them can harm the node when a
// profile lets it through: every argument is invalid or names nothing.
var engineDefaultCalls = [][]string{
	{"mkdir", "s:/tmp/sysgate-engine", "493"},
	{"keyctl", "0", "-3", "0"},
	{"add_key", "0", "0", "0", "0", "0"},
	{"request_key", "0", "0", "0", "0"},
	{"clone3", "0", "0"},
	{"unshare", "0x10000000"},
	{"unshare", "0x20000"},
	{"personality", "0xffffffff"},
	{"personality", "8"},
	{"personality", "0x40000"},
	{"ptrace", "3", "999999", "0", "0"},
	{"process_vm_readv", "999999", "0", "0", "0", "0", "0"},
	{"kcmp", "999999", "999999", "0", "0", "0"},
	{"bpf", "0", "0", "0"},
	{"perf_event_open", "0", "0", "-1", "-1", "0"},
	{"io_uring_setup", "0", "0"},
	{"userfaultfd", "0x80000000"},
	{"syslog", "10", "0", "0"},
	{"socket", "40", "1", "0"},
	{"socket", "16", "3", "0"},
	{"kexec_load", "0", "0", "0", "0"},
	{"init_module", "0", "0", "0"},
	{"finit_module", "-1", "0", "0"},
	{"delete_module", "0", "0"},
	{"open_by_handle_at", "-1", "0", "0"},
	{"name_to_handle_at", "-100", "s:/", "0", "0", "0"},
	{"setns", "-1", "0"},
	{"chroot", "s:/nonexistent"},
	{"acct", "s:/nonexistent"},
	{"reboot", "0", "0", "0", "0"},
	{"mount", "s:none", "s:/nonexistent", "s:tmpfs", "0", "0"},
	{"umount2", "s:/nonexistent", "0"},
	{"pivot_root", "s:/nonexistent", "s:/nonexistent"},
	{"quotactl", "0", "0", "0", "0"},
	{"fanotify_init", "0x80000000", "0"},
	{"swapon", "s:/nonexistent", "0"},
	{"clock_settime", "99", "0"},
	{"iopl", "99"},
	{"ioperm", "0", "0", "0"},
	{"lookup_dcookie", "0", "0", "0"},
	{"nfsservctl", "0", "0", "0"},
	{"get_mempolicy", "0", "0", "0", "0", "0"},
	{"move_pages", "999999", "0", "0", "0", "0", "0"},
	{"pidfd_getfd", "-1", "0", "0"},
	{"landlock_create_ruleset", "0", "0", "1"},
	{"memfd_secret", "0x80000000"},
	{"futex_waitv", "0", "0", "0", "0", "0"},
	{"cachestat", "-1", "0", "0", "0"},
	{"map_shadow_stack", "0", "0", "0x80000000"},
	{"faccessat2", "-100", "s:/", "0", "0"},
	{"mseal", "0", "0", "0"},
	{"listmount", "0", "0", "0", "0"},
	{"statmount", "0", "0", "0", "0"},
}

// engineProbeScript runs every call through the probe, each framed by
// markers so that one container shows them all.
func engineProbeScript(t *testing.T) string {
	var b strings.Builder
	b.WriteString("grep '^Seccomp:' /proc/self/status\n")
	for i, c := range engineDefaultCalls {
		nr, ok := syscalls.Number(specs.ArchX86_64, c[0])
		if !ok {
			t.Fatalf("%s is not in sysgate's x86_64 table", c[0])
		}
		fmt.Fprintf(&b, "echo '@@begin %d'; /sysgate-probe %d %s; echo \"@@end %d $?\"\n", i, nr, strings.Join(c[1:], " "), i)
	}
	return b.String()
}

var probeFrame = regexp.MustCompile(`(?s)@@begin (\d+)\n(.*?)@@end \d+ (\d+)\n`)

// engineOutcomes reads the script's output: the call (name and
// arguments) to its outcome, and the Seccomp line.
func engineOutcomes(t *testing.T, out string) (map[string]string, string) {
	t.Helper()
	mode := ""
	if m := regexp.MustCompile(`Seccomp:\s*(\d)`).FindStringSubmatch(out); m != nil {
		mode = m[1]
	}
	got := map[string]string{}
	for _, m := range probeFrame.FindAllStringSubmatch(out, -1) {
		i, _ := strconv.Atoi(m[1])
		status, _ := strconv.Atoi(m[3])
		res, err := probe.ParseShell([]byte(m[2]), status)
		outcome := res.Outcome()
		if err != nil {
			outcome = "unreadable: " + err.Error()
		}
		got[strings.Join(engineDefaultCalls[i], " ")] = outcome
	}
	if len(got) != len(engineDefaultCalls) {
		t.Fatalf("%d of %d calls reported:\n%s", len(got), len(engineDefaultCalls), out)
	}
	return got, mode
}

// engineProbeRootfs is busybox and the probe, as a tar for `podman import`
// and `docker import`.
func engineProbeRootfs(t *testing.T, dir string) string {
	t.Helper()
	root := filepath.Join(dir, "probe-rootfs")
	for _, d := range []string{"bin", "proc", "tmp", "dev", "sys", "etc"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := probe.Build(root); err != nil {
		t.Fatal(err)
	}
	tarball := filepath.Join(dir, "probe-rootfs.tar")
	if out, err := exec.Command("sh", "-c", "cp /bin/busybox "+root+"/bin/ && tar -C "+root+" -cf "+tarball+" .").CombinedOutput(); err != nil {
		t.Fatalf("probe rootfs: %v\n%s", err, out)
	}
	return tarball
}

// engineRuntimes writes the two ways sysgate stands in for the engine's
// runc: sysgate-runc in front of runc (runc compiles the profile sysgate
// kept), and in front of crun with sysgate's own compiled program handed
// over (runtime_kind = "crun"), which is where sysgate's compiler decides
// what the kernel enforces. Each is a script naming its own policy, and
// the helper is off so that its runtime is the policy's.
func engineRuntimes(t *testing.T, dir string) (map[string]string, map[string]string) {
	t.Helper()
	crunPrivate, err := filepath.Abs("../../conformance/crun-private.sh")
	if err != nil {
		t.Fatal(err)
	}
	scripts, logs := map[string]string{}, map[string]string{}
	for name, runtime := range map[string]string{"sysgate-runc": "runtime = \"/usr/sbin/runc\"", "sysgate-crun": fmt.Sprintf("runtime = %q\nruntime_kind = \"crun\"", crunPrivate)} {
		policy := filepath.Join(dir, name+".toml")
		logs[name] = filepath.Join(dir, name+"-decisions.jsonl")
		writeFile(t, policy, fmt.Sprintf("%s\nprofile_root = %q\ncache_dir = %q\ndecision_log = %q\n", runtime,
			filepath.Join(dir, "seccomp"), filepath.Join(dir, name+"-cache"), logs[name]))
		scripts[name] = filepath.Join(dir, name)
		writeFile(t, scripts[name], fmt.Sprintf("#!/bin/sh\nSYSGATE_CONFIG=%s SYSGATE_HELPER_SOCKET= exec %s \"$@\"\n", policy, filepath.Join(tools(t), "sysgate-runc")))
		if err := os.Chmod(scripts[name], 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return scripts, logs
}

// TestEngineDefaultsEnforceAlike (issue 19): podman's default profile
// (containers-common's seccomp.json, Docker's format, rendered by podman)
// and Docker's built-in default (rendered by dockerd) behave under sysgate
// as under the engine's own runc, call for call: once with runc compiling
// what sysgate kept, once with crun loading the program sysgate compiled.
// The engine's own run must show the profile at work (mkdir allowed, keyctl
// denied, Seccomp: 2), so that a run that lost its filter cannot pass by
// agreeing with another.
func TestEngineDefaultsEnforceAlike(t *testing.T) {
	requireCRI(t)
	dir, err := os.MkdirTemp("/tmp", "sgeng-") // socket paths are short
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	script := engineProbeScript(t)
	rootfs := engineProbeRootfs(t, dir)
	scripts, logs := engineRuntimes(t, dir)
	const image = "sysgate.test/engine-probe:1"

	// compare runs the script under the engine's own runc and under each
	// of sysgate's runtimes. signature holds outcomes that show the
	// engine's default profile at work, where no filter would differ.
	compare := func(t *testing.T, signature map[string]string, run func(runtime string) (string, error)) {
		own, err := run("runc")
		if err != nil {
			t.Fatalf("the engine's own runc: %v\n%s", err, own)
		}
		want, mode := engineOutcomes(t, own)
		if mode != "2" {
			t.Fatalf("the engine's own run has Seccomp: %q, want 2:\n%s", mode, own)
		}
		for call, outcome := range signature {
			if want[call] != outcome {
				t.Fatalf("the engine's own run does not show its default profile: %s gives %s, want %s:\n%s", call, want[call], outcome, own)
			}
		}
		for _, name := range []string{"sysgate-runc", "sysgate-crun"} {
			out, err := run(name)
			if err != nil {
				t.Errorf("%s: %v\n%s", name, err, out)
				continue
			}
			got, mode := engineOutcomes(t, out)
			if mode != "2" {
				t.Errorf("%s: Seccomp: %s, want 2", name, mode)
			}
			differ := 0
			for _, c := range engineDefaultCalls {
				call := strings.Join(c, " ")
				if got[call] != want[call] {
					differ++
					t.Errorf("%s: %s: %s, the engine's own runc gives %s", name, call, got[call], want[call])
				}
			}
			last := lastDecisionIn(t, logs[name])
			if last.Source != "spec" || last.Handoff != (name == "sysgate-crun") {
				t.Errorf("%s: decided by %q with handoff %v; want the engine's profile kept (spec), handed to crun only behind crun", name, last.Source, last.Handoff)
			}
			t.Logf("%s: %d calls, %d differ from the engine's own runc", name, len(engineDefaultCalls), differ)
		}
		t.Logf("the engine's own outcomes: %v", want)
	}

	t.Run("podman", func(t *testing.T) {
		n := newPodman(t)
		if out, err := n.podman("import", rootfs, image); err != nil {
			t.Fatalf("podman import: %v\n%s", err, out)
		}
		// podman's default allows keyctl (containers-common lists it) and
		// answers what it does not list with ENOSYS (defaultErrnoRet 38).
		compare(t, map[string]string{"mkdir s:/tmp/sysgate-engine 493": "allowed", "add_key 0 0 0 0 0": "errno:ENOSYS", "bpf 0 0 0": "errno:EPERM"}, func(runtime string) (string, error) {
			if runtime == "runc" {
				runtime = "/usr/sbin/runc"
			} else {
				runtime = scripts[runtime]
			}
			return n.podmanWith(runtime, "run", "--rm", "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
				image, "/bin/busybox", "sh", "-c", script)
		})
	})
	t.Run("docker", func(t *testing.T) {
		ddir := filepath.Join(dir, "docker")
		if err := os.MkdirAll(ddir, 0o700); err != nil {
			t.Fatal(err)
		}
		conf := filepath.Join(ddir, "daemon.json")
		runtimes, _ := json.Marshal(map[string]any{"runtimes": map[string]any{
			"sysgate-runc": map[string]string{"path": scripts["sysgate-runc"]},
			"sysgate-crun": map[string]string{"path": scripts["sysgate-crun"]},
		}})
		writeFile(t, conf, string(runtimes))
		cli := startDockerd(t, ddir, conf, filepath.Join(dir, "sysgate-runc.toml"))
		if out, err := cli("import", rootfs, image); err != nil {
			t.Fatalf("docker import: %v\n%s", err, out)
		}
		compare(t, map[string]string{"mkdir s:/tmp/sysgate-engine 493": "allowed", "keyctl 0 -3 0": "errno:EPERM", "personality 0x40000": "errno:EPERM"}, func(runtime string) (string, error) {
			return cli("run", "--rm", "--runtime", runtime, "--network", "none", image, "/bin/busybox", "sh", "-c", script)
		})
	})
}

// lastDecisionIn is the newest record of a decision log.
func lastDecisionIn(t *testing.T, path string) (last struct {
	Source  string
	Handoff bool
}) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("decision log: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
		t.Fatalf("decision log %s: %v", path, err)
	}
	return last
}
