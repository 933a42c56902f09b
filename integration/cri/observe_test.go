package cri

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// observed is what one container really runs with, seen from every side.
type observed struct {
	// SpecSeccomp is linux.seccomp in the spec containerd keeps and `crictl
	// inspect` shows: the CRI's rendering, before sysgate.
	SpecSeccomp *specs.LinuxSeccomp
	// BundleSeccomp is linux.seccomp in the bundle's config.json, which is
	// what runc loaded: after sysgate.
	BundleSeccomp *specs.LinuxSeccomp
	Pid           int
	// HostSeccomp and HostFilters are the Seccomp: and Seccomp_filters:
	// lines of /proc/<pid>/status read on the host.
	HostSeccomp, HostFilters string
	// ExecSeccomp is the Seccomp: line of /proc/1/status read through
	// `crictl exec` (exec'd processes run under the container's filter too).
	ExecSeccomp string
	// Mkdir is `crictl exec <id> mkdir /tmp/test`'s output; MkdirOK its
	// success. Unshare and Ls likewise for `unshare -m true` and `ls /`.
	Mkdir            string
	MkdirOK          bool
	UnshareOK, LsOK  bool
	Decision         decisionRecord
	BundleDigest     string
	BundleNamesMkdir bool // the bundle's profile has a rule naming mkdir
}

func (o observed) mkdirEPERM() bool {
	return !o.MkdirOK && strings.Contains(o.Mkdir, "Operation not permitted")
}

// observe inspects a running container and execs the seed's checks in it.
func (d *daemon) observe(t testing.TB, id string) observed {
	t.Helper()
	var o observed
	var inspect struct {
		Info struct {
			Pid         int        `json:"pid"`
			RuntimeSpec specs.Spec `json:"runtimeSpec"`
		} `json:"info"`
	}
	if err := json.Unmarshal([]byte(d.crictl(t, "inspect", "-o", "json", id)), &inspect); err != nil {
		t.Fatalf("crictl inspect %s: %v", id, err)
	}
	if inspect.Info.RuntimeSpec.Linux != nil {
		o.SpecSeccomp = inspect.Info.RuntimeSpec.Linux.Seccomp
	}
	o.Pid = inspect.Info.Pid
	o.BundleSeccomp = d.bundleSeccomp(t, id)
	o.BundleDigest = profileDigest(o.BundleSeccomp)
	if o.BundleSeccomp != nil {
		for _, s := range o.BundleSeccomp.Syscalls {
			for _, n := range s.Names {
				o.BundleNamesMkdir = o.BundleNamesMkdir || n == "mkdir" || n == "mkdirat"
			}
		}
	}
	status, err := os.ReadFile("/proc/" + strconv.Itoa(o.Pid) + "/status")
	if err != nil {
		t.Fatalf("container %s pid %d: %v", id, o.Pid, err)
	}
	o.HostSeccomp = statusField(string(status), "Seccomp")
	o.HostFilters = statusField(string(status), "Seccomp_filters")
	out, _ := d.exec(id, "cat", "/proc/1/status")
	o.ExecSeccomp = statusField(out, "Seccomp")
	o.Mkdir, o.MkdirOK = d.exec(id, "mkdir", "/tmp/test")
	_, o.UnshareOK = d.exec(id, "unshare", "-m", "true")
	_, o.LsOK = d.exec(id, "ls", "/")
	o.Decision = d.decisions(t)[id]
	return o
}

// exec runs a command in the container; it returns stdout and stderr
// together, and whether it succeeded.
func (d *daemon) exec(id string, args ...string) (string, bool) {
	out, stderr, err := d.crictlErr(append([]string{"exec", id}, args...)...)
	return out + stderr, err == nil
}

// bundleSeccomp reads the task's bundle. Both containerd 1.6 and 2.x keep
// it at <state>/io.containerd.runtime.v2.task/<namespace>/<id>.
func (d *daemon) bundleSeccomp(t testing.TB, id string) *specs.LinuxSeccomp {
	t.Helper()
	data, err := os.ReadFile(d.bundleDir(id) + "/config.json")
	if err != nil {
		t.Fatalf("bundle of %s: %v", id, err)
	}
	return parseSeccomp(t, data)
}

func parseSeccomp(t testing.TB, configJSON []byte) *specs.LinuxSeccomp {
	var s specs.Spec
	if err := json.Unmarshal(configJSON, &s); err != nil {
		t.Error(err)
		return nil
	}
	if s.Linux == nil {
		return nil
	}
	return s.Linux.Seccomp
}

func (d *daemon) bundleDir(id string) string {
	return filepath.Join(d.state, "io.containerd.runtime.v2.task", "k8s.io", id)
}

func statusField(status, key string) string {
	for _, line := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// profileDigest is sysgate's decision-log digest (spec.digestOf): sha256
// of the profile's JSON encoding.
func profileDigest(p *specs.LinuxSeccomp) string {
	if p == nil {
		return ""
	}
	data, _ := json.Marshal(p)
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}
