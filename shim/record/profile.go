package record

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/filter"
)

// Calls is what was observed: per ABI, each syscall number and how often.
type Calls map[specs.Arch]map[int32]uint64

// Total is the number of calls counted.
func (c Calls) Total() uint64 {
	var n uint64
	for _, m := range c {
		for _, v := range m {
			n += v
		}
	}
	return n
}

// Metadata is what a recorded profile says about its recording. It goes in
// the profile's "comment" (the only free field a strict OCI parser and
// runc both accept) as JSON after commentPrefix.
type Metadata struct {
	Recorder  string    `json:"recorder"` // "sysgate <version>"
	Runtime   string    `json:"runtime"`  // "runc 1.1.5", "crun 1.8.1", "sysgate exec"
	Kernel    string    `json:"kernel"`
	Image     string    `json:"image,omitempty"`
	Command   []string  `json:"command,omitempty"`
	Container string    `json:"container,omitempty"` // namespace/pod/container
	Started   time.Time `json:"started"`
	Stopped   time.Time `json:"stopped"`
	// Records is the number of syscalls counted, Lost how many could not be.
	Records uint64 `json:"records"`
	Lost    uint64 `json:"lost"`
	Source  string `json:"source"` // "ebpf" or "audit"
	// PerABI lists the names seen on each ABI: the profile's rules are by
	// name, for every architecture it lists.
	PerABI map[string][]string `json:"perABI"`
	// Unnamed are numbers seen that no syscall table names (ENOSYS to the
	// workload; the profile does not allow them).
	Unnamed []string `json:"unnamed,omitempty"`
	// AddedForRuntime are syscalls allowed although this run did not make
	// them: the runtime's init may make them after loading the filter in
	// other runs (AddRuntimeInit).
	AddedForRuntime []string `json:"addedForRuntime,omitempty"`
}

// goRuntimeInit is what runc's init, a Go program, may call after it
// loaded the container's filter and before it execs, in some runs and not
// others: futex, when the Go runtime on that thread waits for or wakes
// another (measured: present in 3 of 4 recordings under runc 1.2, and a
// replay without it failed to start the container). Denying it kills the
// Go runtime, so a recording through runc allows it.
var goRuntimeInit = []string{"futex"}

// AddRuntimeInit adds to calls what the runtime's init may make after the
// filter in other runs, for a runtime named by its --version line, and
// says so in meta.
func AddRuntimeInit(calls Calls, runtimeVersion string, meta *Metadata) error {
	if !strings.HasPrefix(runtimeVersion, "runc") {
		return nil // crun execs right after loading the filter
	}
	native, err := filter.NativeArch()
	if err != nil {
		return err
	}
	for _, name := range goRuntimeInit {
		nr, ok := filter.SyscallNumber(name, native)
		if !ok {
			continue
		}
		if calls[native] == nil {
			calls[native] = map[int32]uint64{}
		}
		if _, seen := calls[native][nr]; !seen {
			calls[native][nr] = 0
			meta.AddedForRuntime = append(meta.AddedForRuntime, name)
		}
	}
	return nil
}

const commentPrefix = "sysgate recording "

// DefaultErrno is the errno a recorded profile's default action returns.
const DefaultErrno = 1 // EPERM, as containerd's RuntimeDefault

// Build makes the allowlist profile of calls. Names are sysgate's table's
// (filter.SyscallName), so syscalls newer than libseccomp are named too.
// The native ABI is always listed; a name seen on any ABI is allowed on
// every ABI listed, which is exact when one ABI was seen (the usual case)
// and is said in Metadata.PerABI otherwise.
func Build(calls Calls, meta Metadata) (*specs.LinuxSeccomp, Metadata, error) {
	native, err := filter.NativeArch()
	if err != nil {
		return nil, meta, err
	}
	arches := []specs.Arch{native}
	names := map[string]bool{}
	meta.PerABI = map[string][]string{}
	meta.Records = calls.Total()
	for _, arch := range slices.Sorted(maps.Keys(calls)) {
		nrs := calls[arch]
		if len(nrs) == 0 {
			continue
		}
		if arch != native {
			arches = append(arches, arch)
		}
		_, bits, err := filter.AuditArch(arch)
		if err != nil {
			return nil, meta, err
		}
		var seen []string
		for _, nr := range slices.Sorted(maps.Keys(nrs)) {
			name, ok := filter.SyscallName(nr|bits, arch)
			if !ok {
				meta.Unnamed = append(meta.Unnamed, fmt.Sprintf("%s nr %d (%d calls)", arch, nr, nrs[nr]))
				continue
			}
			names[name] = true
			seen = append(seen, name)
		}
		sort.Strings(seen)
		meta.PerABI[string(arch)] = seen
	}
	errno := uint(DefaultErrno)
	p := &specs.LinuxSeccomp{
		DefaultAction:   specs.ActErrno,
		DefaultErrnoRet: &errno,
		Architectures:   arches,
	}
	if len(names) > 0 {
		p.Syscalls = []specs.LinuxSyscall{{Names: slices.Sorted(maps.Keys(names)), Action: specs.ActAllow}}
	}
	return p, meta, nil
}

// document is the profile as written: the OCI fields plus the comment.
type document struct {
	Comment string `json:"comment"`
	*specs.LinuxSeccomp
}

// Marshal is the profile's JSON with meta in its comment.
func Marshal(p *specs.LinuxSeccomp, meta Metadata) ([]byte, error) {
	m, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(document{Comment: commentPrefix + string(m), LinuxSeccomp: p}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// ReadMetadata finds a recording's facts in a profile file's comment.
func ReadMetadata(data []byte) (Metadata, bool) {
	var doc struct {
		Comment string `json:"comment"`
	}
	var meta Metadata
	if json.Unmarshal(data, &doc) != nil || len(doc.Comment) < len(commentPrefix) || doc.Comment[:len(commentPrefix)] != commentPrefix {
		return meta, false
	}
	return meta, json.Unmarshal([]byte(doc.Comment[len(commentPrefix):]), &meta) == nil
}
