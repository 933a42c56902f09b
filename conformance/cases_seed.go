package conformance

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/spec/profile"
)

// seedCases: the seed document's checks, done the way it does them (a
// shell command through exec, like kubectl exec), and containerd's
// RuntimeDefault, which its Pods ask for.
func seedCases() []Case {
	// The seed's allow-list pattern: block by default, allow what runs.
	noMkdir := denying(specs.ActErrno, anyNr, "mkdir", "mkdirat")
	runtimeDefault := profile.RuntimeDefault(profile.DefaultCapabilities)
	return []Case{
		{
			Name: "seed/blocked-mkdir", Rule: ruleSeedMkdir,
			Summary: "exec mkdir /tmp/test under a profile without mkdir prints busybox's Operation not permitted",
			Profile: noMkdir, Do: Action{Kind: Shell, Command: []string{"mkdir", "/tmp/test"}, Exec: true},
			Want: want("exit:1: mkdir: can't create directory '/tmp/test': Operation not permitted"),
		},
		{
			Name: "seed/plain-command-runs", Rule: ruleSeedBothSides,
			Summary: "under the same profile an ordinary command (ls /) runs",
			Profile: noMkdir, Do: Action{Kind: Shell, Command: []string{"ls", "/"}, Exec: true}, Want: want("exit:0"),
		},
		{
			Name: "seed/runtime-default-blocks-keyctl", Rule: ruleSeedDefault,
			Summary: "RuntimeDefault denies keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING) with EPERM",
			Profile: runtimeDefault, Do: probeCall("keyctl", "0", "-3", "0"), Want: want("errno:EPERM"),
		},
		{
			Name: "seed/runtime-default-allows-mkdir", Rule: ruleSeedBothSides,
			Summary: "RuntimeDefault lets an ordinary syscall (mkdir) through",
			Profile: runtimeDefault, Do: probeCall("mkdir", mkdirArgs...), Want: want("allowed"),
		},
	}
}
