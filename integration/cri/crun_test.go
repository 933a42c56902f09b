package cri

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sysgate/sysgate/integration/helperproc"
	"github.com/sysgate/sysgate/shim"
)

// Handlers with crun behind them, all through one wrapper (crunWrapper)
// that makes crun 1.8.1 run under containerd on this machine:
//   - crun refuses the mixed cgroup v1/v2 layout here ("cgroups in hybrid
//     mode not supported"), so each call runs in a fresh mount namespace
//     that sees only cgroup2, with --cgroup-manager=disabled, as
//     conformance/crun-private.sh does for the conformance suite. The Pods
//     run under the filter under test, but crun manages no cgroups for
//     them.
//   - crun 1.8.1 predates runtime-spec 1.2 and refuses containerd 2.x's
//     bundles (1.3.0 here: "unknown version specified"), so at create the wrapper marks
//     the bundle's ociVersion 1.1.0; the fields crun 1.8.1 reads are 1.1's.
//
// Limitations of this machine, documented in docs/benchmarks.md.
//
// sysgate-runc itself runs in the host's mount namespace (only crun, behind
// it, gets the private one), so a helper can serve it. A helper serves one
// policy file, and the crun handlers have their own, so a flavor with a
// helper gets a second one for the crun policy, as a node with a runc and a
// crun handler runs one helper per policy.
const (
	handlerCrun        = "crun"              // runc shim, BinaryName = the crun wrapper
	handlerSysgateCrun = "sysgate-crun"      // runc shim, BinaryName = sysgate-runc, policy runtime the crun wrapper
	handlerShimCrun    = "sysgate-shim-crun" // sysgate shim, policy runtime the crun wrapper
)

// crunWrapper is the script every crun handler runs crun through.
const crunWrapper = `#!/bin/sh
# crun 1.8.1 under containerd on a cgroup v1 host (integration/cri/crun_test.go).
bundle=
prev=
for a; do
	case $prev in --bundle|-b) bundle=$a ;; esac
	case $a in --bundle=*) bundle=${a#--bundle=} ;; esac
	prev=$a
done
if [ -n "$bundle" ]; then
	sed -i -E 's/"ociVersion": ?"1\.([2-9]|[1-9][0-9])\.[0-9]+[^"]*"/"ociVersion": "1.1.0"/' "$bundle/config.json" || exit 1
fi
exec unshare -m sh -c '
	mount -t cgroup2 none /sys/fs/cgroup || exit 1
	exec "$0" --cgroup-manager=disabled "$@"' %q "$@"
`

// crunHandlers lists the crun handlers this daemon has; none where crun is
// not installed or `sysgate install` wrote the config (TestInstallContainerd
// checks exactly what it adds).
func crunHandlers(d *daemon) []string {
	if d.crunPolicy == "" {
		return nil
	}
	if d.flavor.shimWorks {
		return []string{handlerCrun, handlerSysgateCrun, handlerShimCrun}
	}
	return []string{handlerCrun, handlerSysgateCrun}
}

// crunConfig writes the crun wrapper, the sysgate handlers' crun policy
// and their wrappers under the daemon's directory, and returns the handler
// tables to add to its config; empty when crun is not installed.
//
// The daemon's environment names the runc policy, so sysgate's crun
// handlers name theirs in a script: for sysgate-runc one sh per runtime
// call (its BinaryName), for the shim one per Pod (its runtime_path).
func (d *daemon) crunConfig(t testing.TB, bin string) string {
	t.Helper()
	crun, err := exec.LookPath("crun")
	if err != nil || d.flavor.install {
		return ""
	}
	wrapper := filepath.Join(d.dir, "crun-cri")
	writeFile(t, wrapper, fmt.Sprintf(crunWrapper, crun))
	d.crunPolicy = filepath.Join(d.dir, "sysgate-crun.toml")
	writeFile(t, d.crunPolicy, fmt.Sprintf("runtime = %q\nruntime_kind = \"crun\"\nprofile_root = %q\ncache_dir = %q\ndecision_log = %q\n",
		wrapper, d.profileRoot, filepath.Join(d.dir, "bpf-cache"), d.decisionLog))
	helperSocket := ""
	if d.flavor.helper {
		helperSocket = filepath.Join(d.dir, "helper-crun.sock")
		h, err := helperproc.Start(filepath.Join(bin, "sysgate"), d.crunPolicy, helperSocket)
		if err != nil {
			t.Fatal(err)
		}
		d.crunHelper = h
	}
	binaryWrapper := filepath.Join(d.dir, "sysgate-runc-crun")
	writeFile(t, binaryWrapper, fmt.Sprintf("#!/bin/sh\nexport SYSGATE_CONFIG=%q %s=%q\nexec %q \"$@\"\n", d.crunPolicy, shim.HelperSocketEnv, helperSocket, filepath.Join(bin, "sysgate-runc")))
	shimWrapper := filepath.Join(d.dir, "containerd-shim-sysgate-crun")
	writeFile(t, shimWrapper, fmt.Sprintf("#!/bin/sh\nexport SYSGATE_CONFIG=%q\nexec %q \"$@\"\n", d.crunPolicy, filepath.Join(bin, "containerd-shim-sysgate-v1")))
	for _, f := range []string{wrapper, binaryWrapper, shimWrapper} {
		if err := os.Chmod(f, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	annotations := `pod_annotations = ['seccomp.security.alpha.kubernetes.io/pod', 'container.seccomp.security.alpha.kubernetes.io/*']
  container_annotations = ['seccomp.security.alpha.kubernetes.io/pod', 'container.seccomp.security.alpha.kubernetes.io/*']`
	if d.flavor.configVersion == 2 {
		const table = `[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.%s]
  runtime_type = "io.containerd.runc.v2"
  %s
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.%s.options]
    BinaryName = %q
`
		return fmt.Sprintf(table, handlerCrun, "", handlerCrun, wrapper) +
			fmt.Sprintf(table, handlerSysgateCrun, annotations, handlerSysgateCrun, binaryWrapper)
	}
	const table = `[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.%s]
  runtime_type = 'io.containerd.runc.v2'
  %s
  [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.%s.options]
    BinaryName = %q
`
	return fmt.Sprintf(table, handlerCrun, "", handlerCrun, wrapper) +
		fmt.Sprintf(table, handlerSysgateCrun, annotations, handlerSysgateCrun, binaryWrapper) +
		fmt.Sprintf(`[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.%s]
  runtime_type = 'io.containerd.sysgate.v1'
  runtime_path = %q
  %s
`, handlerShimCrun, shimWrapper, annotations)
}

// TestCrunHandlers runs a RuntimeDefault Pod on every crun handler and
// checks that the container runs under a filter, that it denies what
// RuntimeDefault denies, and that sysgate's handlers decided it and handed
// crun the compiled program.
func TestCrunHandlers(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, d *daemon) {
		handlers := crunHandlers(d)
		if len(handlers) == 0 {
			t.Skip("crun is not installed")
		}
		for _, h := range handlers {
			t.Run(h, func(t *testing.T) {
				rp, err := d.runPod(t, h, pod{Name: "crun-" + h, Seccomp: runtimeDefault, Containers: []container{{Name: "app"}}})
				if err != nil {
					t.Fatalf("%v\n%s", err, d.logTail())
				}
				id := rp.Containers["app"]
				o := d.observe(t, id)
				if o.HostSeccomp != "2" || o.ExecSeccomp != "2" {
					t.Errorf("Seccomp: %q on the host, %q through exec; want 2 (filter mode)", o.HostSeccomp, o.ExecSeccomp)
				}
				if o.UnshareOK {
					t.Errorf("unshare -m succeeded under RuntimeDefault")
				}
				if !o.LsOK {
					t.Errorf("ls / failed under RuntimeDefault")
				}
				rec, decided := d.decisions(t)[id]
				if h == handlerCrun {
					if decided {
						t.Errorf("plain crun: sysgate recorded a decision %+v", rec)
					}
					return
				}
				if !decided || rec.Type != d.flavor.renderedDefaultType || !rec.Handoff {
					t.Errorf("decision %+v (found %v): want type %s with the program handed to crun", rec, decided, d.flavor.renderedDefaultType)
				}
				// The crun policy's own helper served the BinaryName
				// handler's create: this is the path the Pod-start
				// benchmark times.
				if h == handlerSysgateCrun && d.flavor.helper && rec.Via != "helper" {
					t.Errorf("sysgate-runc + crun was not served by the crun policy's helper (via %q): %s", rec.Via, d.crunHelper.Log())
				}
			})
		}
	})
}
