package install

import (
	"fmt"
	"regexp"
	"strings"
)

// Options says what to install.
type Options struct {
	// Handler is the runtime handler's name: the RuntimeClass handler for
	// containerd and CRI-O, podman's --runtime and Docker's --runtime.
	Handler string
	// RuntimePath is sysgate-runc's absolute path.
	RuntimePath string
	// ShimHandler, when set, adds a second containerd handler that runs
	// containerd-shim-sysgate-v1 (containerd 2.4 and newer, config version
	// 3 only: docs/deploy.md).
	ShimHandler string
	// ContainerdConfigVersion is the version a containerd config without a
	// `version` line gets (2 for containerd 1.x, 3 for 2.x); 0 means 2,
	// which containerd 2.x migrates on load.
	ContainerdConfigVersion int
}

// Defaults for a node installed by `make install`.
const (
	DefaultHandler     = "sysgate"
	DefaultShimHandler = "sysgate-shim"
	DefaultRuntimePath = "/usr/local/bin/sysgate-runc"
	DefaultRecordPath  = "/var/lib/sysgate/install.json"
)

// The annotations containerd must let through to the bundle (it copies only
// allow-listed Pod annotations); spec reads them (a test keeps both equal).
// The record annotation is honoured only in the policy's record_namespaces
// and refused elsewhere, so letting it through weakens nothing.
var seccompAnnotations = []string{"seccomp.security.alpha.kubernetes.io/pod", "container.seccomp.security.alpha.kubernetes.io/*", "io.github.sysgate/record"}

var bareKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func (o Options) check() error {
	if !bareKey.MatchString(o.Handler) {
		return fmt.Errorf("handler name %q: use letters, digits, '-' and '_' only", o.Handler)
	}
	if o.ShimHandler != "" && !bareKey.MatchString(o.ShimHandler) {
		return fmt.Errorf("shim handler name %q: use letters, digits, '-' and '_' only", o.ShimHandler)
	}
	if o.ShimHandler == o.Handler {
		return fmt.Errorf("the shim handler and the handler are both named %q", o.Handler)
	}
	if !strings.HasPrefix(o.RuntimePath, "/") || strings.ContainsAny(o.RuntimePath, "\"\\'\x00\r\n\t") {
		return fmt.Errorf("runtime path %q: give sysgate-runc's absolute path, without quotes, backslashes or control characters", o.RuntimePath)
	}
	return nil
}

// An Engine is one container engine's configuration file and how to add a
// handler to it.
type Engine struct {
	// Name is the engine as the command line says it: containerd, crio,
	// podman, docker.
	Name string
	// DefaultPath is the file edited when no other is given.
	DefaultPath string
	// Binaries: the engine counts as present when one is in PATH.
	Binaries []string
	// Unit is the systemd unit restarted by --restart; empty for podman,
	// which has no daemon and reads its config at every run.
	Unit string
	// Format is "toml" or "json".
	Format string
	// plan returns the inserts that add the handler to before, and a
	// document holding only what they add (for the verification).
	plan func(before []byte, o Options) (inserts []Insert, added string, err error)
	// legacy finds text an older installer added without a record (nil:
	// none), which install then replaces.
	legacy func(current []byte) []Insert
	// lookup returns the binary the handler runs, or found=false.
	lookup func(doc map[string]any, o Options) (binary string, found bool)
}

// Engines are the engines sysgate installs into, in the order it does.
var Engines = []*Engine{containerd, crio, podman, docker}

// EngineNamed returns the engine called name.
func EngineNamed(name string) (*Engine, error) {
	for _, e := range Engines {
		if e.Name == name {
			return e, nil
		}
	}
	return nil, fmt.Errorf("unknown engine %q: want containerd, crio, podman or docker", name)
}

// Lookup reads the handler from an engine's config: the binary it runs,
// and whether it is there at all. For containerd a handler without
// BinaryName runs "runc" from PATH.
func (e *Engine) Lookup(data []byte, o Options) (binary string, found bool, err error) {
	doc, err := decode(e.Format, data)
	if err != nil {
		return "", false, err
	}
	binary, found = e.lookup(doc, o)
	return binary, found, nil
}
