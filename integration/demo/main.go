// Command demo is the README's main job: busybox containers run through
// sysgate-runc in front of Debian's runc. It shows the node default applied
// to a container that asks for nothing, a Localhost profile blocking mkdir,
// a traversal path refused, and a create prepared by the resident helper,
// and exits non-zero if anything does not behave.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/conformance/bundle"
	"github.com/sysgate/sysgate/integration/helperproc"
	"github.com/sysgate/sysgate/shim"
	"github.com/sysgate/sysgate/spec"
	"github.com/sysgate/sysgate/spec/profile"
)

func main() {
	bin := flag.String("bin", "bin", "directory with sysgate and sysgate-runc")
	runtime := flag.String("runtime", "/usr/sbin/runc", "the real OCI runtime")
	flag.Parse()
	if err := run(*bin, *runtime); err != nil {
		fmt.Fprintln(os.Stderr, "demo: FAIL:", err)
		os.Exit(1)
	}
	fmt.Println("\ndemo: OK")
}

type demo struct {
	wrapper, sysgate, policy, root, profiles, work, decisions string
	// helperSocket is the helper sysgate-runc asks; empty: none, even if
	// this machine runs one.
	helperSocket string
	n            int
}

func run(bin, runtime string) error {
	work, err := os.MkdirTemp("", "sysgate-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	d := &demo{
		wrapper: abs(filepath.Join(bin, "sysgate-runc")), sysgate: abs(filepath.Join(bin, "sysgate")),
		policy: filepath.Join(work, "config.toml"), root: filepath.Join(work, "state"),
		profiles: filepath.Join(work, "seccomp"), work: work, decisions: filepath.Join(work, "decisions.jsonl"),
	}
	policy := fmt.Sprintf("runtime = %q\nprofile_root = %q\ndefault = \"runtime/default\"\ncache_dir = %q\ndecision_log = %q\n",
		runtime, d.profiles, filepath.Join(work, "cache"), d.decisions)
	if err := os.WriteFile(d.policy, []byte(policy), 0o644); err != nil {
		return err
	}
	fmt.Printf("== node policy (%s)\n%s\n", d.policy, policy)
	if err := d.installAuditProfile(); err != nil {
		return err
	}

	fmt.Println("== 1. a container that asks for nothing gets the node default (RuntimeDefault)")
	out, err := d.container(nil, `grep '^Seccomp:' /proc/self/status; ls / | head -3 | tr '\n' ' '; echo; unshare -m true; mount -t tmpfs none /tmp; true`)
	if err != nil {
		return err
	}
	if err := expect(out, "Seccomp:\t2", "bin dev etc", "unshare: unshare(0x20000): Operation not permitted", "mount: permission denied"); err != nil {
		return err
	}

	fmt.Println("\n== 2. Localhost profiles/audit.json (RuntimeDefault without mkdir), asked for by the Pod annotation")
	pod := map[string]string{spec.AnnotationPodSeccomp: "localhost/profiles/audit.json"}
	out, err = d.container(pod, "mkdir /tmp/test; echo still running: ordinary commands work")
	if err != nil {
		return err
	}
	if err := expect(out, "mkdir: can't create directory '/tmp/test': Operation not permitted", "still running"); err != nil {
		return err
	}

	fmt.Println("\n== 3. a traversal path is refused at create, and the bundle is left as it was")
	bad := map[string]string{spec.AnnotationPodSeccomp: "localhost/../../etc/passwd"}
	out, err = d.container(bad, "echo this must not run")
	if err == nil || strings.Contains(out, "this must not run") || !strings.Contains(out, `must not contain ".."`) {
		return fmt.Errorf("the traversal path was not refused: %v\n%s", err, out)
	}

	fmt.Println("\n== 4. the same Localhost container, prepared by the resident helper (sysgate helper)")
	helper, err := d.startHelper()
	if err != nil {
		return err
	}
	defer helper.Stop()
	out, err = d.container(pod, "mkdir /tmp/test; echo still running: ordinary commands work")
	if err != nil {
		return err
	}
	if err := expect(out, "mkdir: can't create directory '/tmp/test': Operation not permitted", "still running"); err != nil {
		return err
	}
	last, err := d.lastDecision()
	if err != nil {
		return err
	}
	fmt.Printf("   decision log: %s\n", last)
	if !strings.Contains(last, `"via":"helper"`) {
		return fmt.Errorf("the helper did not prepare the create")
	}
	return nil
}

// startHelper runs `sysgate helper` for the demo's policy; sysgate-runc
// asks it from then on.
func (d *demo) startHelper() (*helperproc.Process, error) {
	socket := filepath.Join(d.work, "helper.sock")
	fmt.Printf("   $ sysgate helper --config %s --socket %s &\n", d.policy, socket)
	h, err := helperproc.Start(d.sysgate, d.policy, socket)
	if err != nil {
		return nil, err
	}
	d.helperSocket = socket
	return h, nil
}

// lastDecision is the decision log's last line.
func (d *demo) lastDecision() (string, error) {
	data, err := os.ReadFile(d.decisions)
	if err != nil {
		return "", err
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	return lines[len(lines)-1], nil
}

// installAuditProfile writes profiles/audit.json under the profile root.
func (d *demo) installAuditProfile() error {
	p := profile.RuntimeDefault(profile.DefaultCapabilities)
	for i := range p.Syscalls {
		p.Syscalls[i].Names = slices.DeleteFunc(p.Syscalls[i].Names, func(n string) bool { return n == "mkdir" || n == "mkdirat" })
	}
	p.Syscalls = slices.DeleteFunc(p.Syscalls, func(s specs.LinuxSyscall) bool { return len(s.Names) == 0 })
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(d.profiles, "profiles", "audit.json")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	fmt.Printf("== installed %s (%d rules, no mkdir)\n\n", path, len(p.Syscalls))
	return os.WriteFile(path, data, 0o644)
}

// container runs `sh -c script` in a fresh busybox bundle through
// sysgate-runc, printing the decision and the output.
func (d *demo) container(annotations map[string]string, script string) (string, error) {
	d.n++
	dir := filepath.Join(d.work, fmt.Sprintf("bundle%d", d.n))
	if _, err := bundle.Create(dir, bundle.Options{Args: []string{"sh", "-c", script}, Annotations: annotations}); err != nil {
		return "", err
	}
	before, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	if len(annotations) > 0 {
		fmt.Printf("   annotations: %v\n", annotations)
	}
	resolve := exec.Command(d.sysgate, "resolve", "--bundle", dir, "--config", d.policy)
	if out, _ := resolve.CombinedOutput(); len(out) > 0 {
		fmt.Print(indent(string(out)))
	}
	id := fmt.Sprintf("sysgate-demo-%d-%d", os.Getpid(), d.n)
	fmt.Printf("   $ sysgate-runc run --bundle %s %s\n", dir, id)
	cmd := exec.Command(d.wrapper, "--root", d.root, "run", "--bundle", dir, id)
	cmd.Env = append(os.Environ(), spec.PolicyPathEnv+"="+d.policy, shim.HelperSocketEnv+"="+d.helperSocket)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	exec.Command(d.wrapper, "--root", d.root, "delete", "--force", id).Run()
	fmt.Print(indent(buf.String()))
	if err != nil {
		after, _ := os.ReadFile(filepath.Join(dir, "config.json"))
		fmt.Printf("   exit: %v; config.json unchanged: %v\n", err, bytes.Equal(before, after))
		if !bytes.Equal(before, after) {
			return buf.String(), fmt.Errorf("config.json changed although create failed")
		}
	}
	return buf.String(), err
}

func expect(out string, wants ...string) error {
	for _, w := range wants {
		if !strings.Contains(out, w) {
			return fmt.Errorf("expected %q in the container's output", w)
		}
	}
	return nil
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return ""
	}
	return "   | " + strings.ReplaceAll(s, "\n", "\n   | ") + "\n"
}

func abs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}
