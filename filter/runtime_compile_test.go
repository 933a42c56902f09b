package filter_test

import (
	"testing"

	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/filter/bpf"
)

// What runc, compiling a profile itself with the same libseccomp, makes of
// rules sysgate filters by number: a rule more restrictive than the default
// (or than the ENOSYS runc's stub may answer) is lost; an ALLOW or another
// errno is not a loss of protection; nor a syscall the kernel lacks.
func TestWeakenedByRuntimeCompile(t *testing.T) {
	has := filter.KernelSyscalls{Newest: 470, Known: true}
	for _, tc := range []struct {
		name, profile string
		kernel        filter.KernelSyscalls
		weakened      []string
		instead       string
	}{
		{"denylist", `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["listmount","statmount","mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}`,
			has, []string{"statmount", "listmount"}, "SCMP_ACT_ALLOW"},
		{"denylist, kernel without them", `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["listmount","mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}`,
			filter.KernelSyscalls{Newest: 450, Known: true}, nil, "SCMP_ACT_ALLOW"},
		{"conditional deny under LOG", `{"defaultAction":"SCMP_ACT_LOG","syscalls":[{"names":["mseal"],"action":"SCMP_ACT_TRAP","args":[{"index":2,"value":0,"op":"SCMP_CMP_NE"}]}]}`,
			has, []string{"mseal"}, "SCMP_ACT_LOG"},
		{"allowlist allowing them", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","mseal","listmount"],"action":"SCMP_ACT_ALLOW"}]}`,
			has, nil, "SCMP_ACT_ERRNO(1)"},
		{"another errno", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"},{"names":["listmount"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}`,
			has, nil, "SCMP_ACT_ERRNO(1)"},
		{"kill under a KILL default: runc's stub answers ENOSYS", `{"defaultAction":"SCMP_ACT_KILL_PROCESS","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"},{"names":["listmount"],"action":"SCMP_ACT_KILL_THREAD"}]}`,
			has, []string{"listmount"}, "SCMP_ACT_ERRNO(38)"},
		{"no stub with an ENOSYS default", `{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,"syscalls":[{"names":["listmount"],"action":"SCMP_ACT_TRAP"}]}`,
			has, []string{"listmount"}, "SCMP_ACT_ERRNO(38)"},
		{"names libseccomp knows", `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","clone3"],"action":"SCMP_ACT_KILL"}]}`,
			has, nil, "SCMP_ACT_ALLOW"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := parse(t, tc.profile)
			prog, err := filter.Compile(p, filter.WithKernel(filter.Options{}, tc.kernel))
			if err != nil {
				t.Fatal(err)
			}
			weakened, instead := filter.WeakenedByRuntimeCompile(p, prog)
			var names []string
			for _, n := range weakened {
				names = append(names, n.Name)
			}
			if len(names) != len(tc.weakened) || bpf.RetName(instead) != tc.instead {
				t.Fatalf("weakened %v instead of %s, want %v instead of %s", names, bpf.RetName(instead), tc.weakened, tc.instead)
			}
			for i := range names {
				if names[i] != tc.weakened[i] {
					t.Errorf("weakened %v, want %v", names, tc.weakened)
				}
			}
		})
	}
}
