package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/spec/profile"
)

// compileFile loads, validates and compiles a profile. A profile with any
// validation error is refused before libseccomp sees it; warnings go to
// stderr so they are seen but do not stop the command. Notes (how sysgate
// treats a name, such as filtering it by number) are left to `profile
// validate`: explain shows them per syscall.
func compileFile(path string, opts filter.Options, stderr io.Writer) (*specs.LinuxSeccomp, *filter.Program, error) {
	p, err := profile.Load(path)
	if err != nil {
		return nil, nil, err
	}
	return compileLoaded(path, p, opts, stderr)
}

// compileLoaded validates and compiles a profile read from path, as
// compileFile does.
func compileLoaded(path string, p *specs.LinuxSeccomp, opts filter.Options, stderr io.Writer) (*specs.LinuxSeccomp, *filter.Program, error) {
	prog, err := profile.CompileValid(p, opts, nil, func(f profile.Finding) {
		if f.Severity == profile.SeverityWarning {
			fmt.Fprintf(stderr, "warning: %s: %s: %s\n", path, f.Path, f.Message)
		}
	})
	var invalid *profile.InvalidError
	switch {
	case errors.As(err, &invalid):
		problems := make([]string, len(invalid.Findings))
		for i, f := range invalid.Findings {
			problems[i] = fmt.Sprintf("%s: %s: %s", path, f.Path, f.Message)
		}
		return nil, nil, fmt.Errorf("invalid profile:\n  %s", strings.Join(problems, "\n  "))
	case err != nil:
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, prog, nil
}

// parseArches reads a comma-separated architecture list; "x86_64", "x86",
// "x32", "aarch64" and "arm" are accepted as well as the SCMP_ARCH_ names.
func parseArches(list string) ([]specs.Arch, error) {
	if list == "" {
		return nil, nil
	}
	var out []specs.Arch
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		arch := specs.Arch(strings.ToUpper(name))
		if !strings.HasPrefix(string(arch), "SCMP_ARCH_") {
			arch = "SCMP_ARCH_" + arch
		}
		if !filter.IsKnownArch(arch) {
			return nil, fmt.Errorf("%w: unknown architecture %q; use x86_64, x86 or x32 (x86 nodes), aarch64 or arm (arm64 nodes)", errUsage, name)
		}
		out = append(out, arch)
	}
	return out, nil
}

// machineOf is the machine a list of architectures from the command line
// is for: the node's when empty, else the one whose family holds them all,
// so that `--arch aarch64` compiles and explains an arm64 node's filter on
// any host.
func machineOf(arches []specs.Arch) (*filter.Machine, error) {
	if len(arches) == 0 {
		return nil, nil
	}
	m := filter.MachineOf(arches[0])
	for _, a := range arches[1:] {
		if filter.MachineOf(a) != m {
			return nil, fmt.Errorf("%w: --arch %s and %s are ABIs of different machines; name one machine's", errUsage, arches[0], a)
		}
	}
	return m, nil
}

func parseOptimize(name string) (int, error) {
	switch name {
	case "linear":
		return filter.OptimizeLinear, nil
	case "tree":
		return filter.OptimizeBinaryTree, nil
	}
	return 0, fmt.Errorf("%w: --optimize must be linear or tree, not %q", errUsage, name)
}
