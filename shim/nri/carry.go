package nri

import (
	"github.com/containerd/nri/pkg/api"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/sysgate/sysgate/spec/refusal"
)

// toOCI is the profile NRI shows (containerd's rendering), as an OCI
// profile: every field NRI's message has.
func toOCI(p *api.LinuxSeccomp) *specs.LinuxSeccomp {
	out := &specs.LinuxSeccomp{
		DefaultAction:    specs.LinuxSeccompAction(p.GetDefaultAction()),
		ListenerPath:     p.GetListenerPath(),
		ListenerMetadata: p.GetListenerMetadata(),
	}
	if e := p.GetDefaultErrno(); e != nil {
		v := uint(e.GetValue())
		out.DefaultErrnoRet = &v
	}
	for _, a := range p.GetArchitectures() {
		out.Architectures = append(out.Architectures, specs.Arch(a))
	}
	for _, f := range p.GetFlags() {
		out.Flags = append(out.Flags, specs.LinuxSeccompFlag(f))
	}
	if len(p.GetSyscalls()) > 0 {
		out.Syscalls = api.ToOCILinuxSyscalls(p.GetSyscalls())
	}
	return out
}

// carried is the profile as containerd will write it into the bundle when
// the plugin adjusts linux.seccomp to p: NRI's generator
// (pkg/runtime-tools/generate AdjustSeccompPolicy, v0.12.3 and its main
// branch) copies every field but defaultErrnoRet. Without it runc and crun
// answer the default action with EPERM; so a defaultErrnoRet of EPERM is
// dropped as NRI will drop it (the digest and the program are then those
// of the profile the runtime reads), and any other value is refused: the
// container would get another errno than its profile says.
func carried(p *specs.LinuxSeccomp) (*specs.LinuxSeccomp, error) {
	if p.DefaultErrnoRet == nil {
		return p, nil
	}
	if *p.DefaultErrnoRet != uint(unix.EPERM) {
		return nil, refusal.Errorf(refusal.InvalidProfile, "the profile's defaultErrnoRet is %d, which NRI cannot carry: containerd's NRI adaptation drops defaultErrnoRet from a plugin's seccomp adjustment, and the runtime would answer %s with EPERM instead; give the default action errnoRet 1 (EPERM), or run this Pod on the sysgate runtime handler", *p.DefaultErrnoRet, p.DefaultAction)
	}
	out := *p
	out.DefaultErrnoRet = nil
	return &out, nil
}
