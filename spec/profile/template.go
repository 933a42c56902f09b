package profile

import (
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Template is a profile as written, with Docker's conditional rules kept:
// which rules a container gets depends on its capabilities and on the node
// (architecture, kernel), decided as Docker decides them
// (moby/profiles/seccomp). Profiles without conditions render to the same
// profile for every container.
type Template struct {
	base     specs.LinuxSeccomp // everything but the rules
	rules    []conditionalRule
	hasRules bool // "syscalls" was given, even empty
}

type conditionalRule struct {
	rule               specs.LinuxSyscall
	includes, excludes *Condition
}

// Condition is Docker's Filter: a rule's includes keeps it only when every
// part holds, its excludes drops it when any part holds.
type Condition struct {
	Caps      []string `json:"caps"`
	Arches    []string `json:"arches"`
	MinKernel string   `json:"minKernel"`
}

// orNil drops an empty condition ("includes": {} is in Docker's own
// default.json): it decides nothing.
func (c *Condition) orNil() *Condition {
	if c == nil || len(c.Caps) == 0 && len(c.Arches) == 0 && c.MinKernel == "" {
		return nil
	}
	return c
}

// Conditional reports whether any rule depends on the container or node.
func (t *Template) Conditional() bool {
	return slices.ContainsFunc(t.rules, func(r conditionalRule) bool { return r.includes != nil || r.excludes != nil })
}

// Unconditional is the profile, for a template without conditions; with
// them it is an error, since what the profile means depends on a container.
func (t *Template) Unconditional() (*specs.LinuxSeccomp, error) {
	for i, r := range t.rules {
		if r.includes != nil || r.excludes != nil {
			which := "includes"
			if r.includes == nil {
				which = "excludes"
			}
			return nil, &ParseError{Path: fmt.Sprintf("syscalls[%d].%s", i, which), Problem: `Docker conditional rule (includes/excludes): it depends on the container; render it for a capability set with "sysgate profile render FILE --caps LIST", or use it as a Localhost profile, which is rendered for each container`}
		}
	}
	return t.Render(nil, Node{}), nil
}

// Node is what a rendering reads of the node.
type Node struct {
	// Arch is Docker's name of the node's architecture ("amd64"), which
	// "arches" conditions name.
	Arch string
	// Kernel and Major are the running kernel's version, which
	// "minKernel" conditions compare against.
	Kernel, Major uint64
}

// dockerArch is Docker's spelling of GOARCH (moby's goToNative).
var dockerArch = map[string]string{"386": "x86", "amd64": "amd64", "arm": "arm", "arm64": "arm64"}

// HostNode is this node, read once.
var HostNode = sync.OnceValue(func() Node {
	n := Node{Arch: dockerArch[runtime.GOARCH]}
	var uts unix.Utsname
	if unix.Uname(&uts) == nil {
		fmt.Sscanf(unix.ByteSliceToString(uts.Release[:]), "%d.%d", &n.Kernel, &n.Major)
	}
	return n
})

// Render is the profile a container with the bounding capability set
// bounding gets on node: each rule kept or dropped by its conditions,
// exactly as Docker's setupSeccomp does.
func (t *Template) Render(bounding []string, node Node) *specs.LinuxSeccomp {
	p, _ := t.render(bounding, node)
	return p
}

// render is Render that also returns, per rule kept, its index in the file.
func (t *Template) render(bounding []string, node Node) (*specs.LinuxSeccomp, []int) {
	var index []int
	p := t.base
	p.Architectures = slices.Clone(t.base.Architectures)
	p.Flags = slices.Clone(t.base.Flags)
	if t.hasRules {
		p.Syscalls = []specs.LinuxSyscall{}
	}
	for i, r := range t.rules {
		if r.excludes != nil && r.excludes.anyHolds(bounding, node) {
			continue
		}
		if r.includes != nil && !r.includes.allHold(bounding, node) {
			continue
		}
		p.Syscalls = append(p.Syscalls, keepShape(r.rule))
		index = append(index, i)
	}
	return &p, index
}

// keepShape copies a rule deeply and keeps "names": [] apart from no
// names, which the validator tells apart.
func keepShape(r specs.LinuxSyscall) specs.LinuxSyscall {
	c := copyRule(r)
	if r.Names != nil && c.Names == nil {
		c.Names = []string{}
	}
	return c
}

// AllRules is the profile with every rule, conditions ignored: what
// validation reads, so that its findings name the rules as the file
// numbers them.
func (t *Template) AllRules() *specs.LinuxSeccomp {
	p := t.Render(nil, Node{})
	p.Syscalls = p.Syscalls[:0]
	for _, r := range t.rules {
		p.Syscalls = append(p.Syscalls, keepShape(r.rule))
	}
	return p
}

func (c *Condition) anyHolds(bounding []string, node Node) bool {
	if len(c.Arches) > 0 && slices.Contains(c.Arches, node.Arch) {
		return true
	}
	if slices.ContainsFunc(c.Caps, func(cap string) bool { return slices.Contains(bounding, cap) }) {
		return true
	}
	return c.MinKernel != "" && node.atLeast(c.MinKernel)
}

func (c *Condition) allHold(bounding []string, node Node) bool {
	if len(c.Arches) > 0 && !slices.Contains(c.Arches, node.Arch) {
		return false
	}
	if slices.ContainsFunc(c.Caps, func(cap string) bool { return !slices.Contains(bounding, cap) }) {
		return false
	}
	return c.MinKernel == "" || node.atLeast(c.MinKernel)
}

// atLeast compares the node's kernel with a checked "<kernel>.<major>".
func (n Node) atLeast(minKernel string) bool {
	k, m, _ := parseMinKernel(minKernel)
	return n.Kernel > k || n.Kernel == k && n.Major >= m
}

// parseMinKernel reads Docker's "<kernel>.<major>" (e.g. "4.8"), as
// moby's KernelVersion does: two numbers of at most 255, not both 0.
func parseMinKernel(v string) (kernel, major uint64, err error) {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) != 2 {
		return 0, 0, fmt.Errorf("%q is not a kernel version; write <kernel>.<major>, e.g. \"5.8\"", v)
	}
	if kernel, err = strconv.ParseUint(parts[0], 10, 8); err == nil {
		major, err = strconv.ParseUint(parts[1], 10, 8)
	}
	if err != nil || kernel == 0 && major == 0 {
		return 0, 0, fmt.Errorf("%q is not a kernel version; write <kernel>.<major>, e.g. \"5.8\"", v)
	}
	return kernel, major, nil
}

// checkMinKernel refuses a minKernel Docker would refuse.
func checkMinKernel(n *node, path string) error {
	for _, m := range n.members {
		if m.key != "minKernel" || m.value.text == "" {
			continue
		}
		if _, _, err := parseMinKernel(m.value.text); err != nil {
			return &ParseError{Path: joinKey(path, "minKernel"), Problem: err.Error()}
		}
	}
	return nil
}

// checkErrnoNames: podman's profiles (containers-common) name each errno
// beside its number ("errno": "ENOSYS", "errnoRet": 38). The number is
// what every runtime loads; the name must say the same, or the file means
// two things.
func (d *dockerProfile) checkErrnoNames() error {
	check := func(path, name string, number *uint) error {
		switch {
		case name == "":
			return nil
		case number == nil:
			return &ParseError{Path: path, Problem: fmt.Sprintf("%q is given without its number; add the number (%sRet), which is what runtimes load", name, path[strings.LastIndex(path, ".")+1:])}
		case unix.ErrnoName(unix.Errno(*number)) != name:
			return &ParseError{Path: path, Problem: fmt.Sprintf("%q is not errno %d, which the profile gives as the number; make them agree", name, *number)}
		}
		return nil
	}
	if err := check("defaultErrno", d.DefaultErrno, d.DefaultErrnoRet); err != nil {
		return err
	}
	for i, s := range d.Syscalls {
		if err := check(fmt.Sprintf("syscalls[%d].errno", i), s.Errno, s.ErrnoRet); err != nil {
			return err
		}
	}
	return nil
}

// ValidateTemplate validates what the template gives containers: a
// profile without conditions as it is; one with Docker's conditional rules
// rendered on this node for a container with no capabilities, with
// containerd's default set and with every capability, since each rule
// reaches one of them. Findings name the rules as the file numbers them.
func ValidateTemplate(t *Template) []Finding {
	if !t.Conditional() {
		return Validate(t.AllRules())
	}
	var findings []Finding
	seen := map[Finding]bool{}
	for _, caps := range RepresentativeCapabilities() {
		p, index := t.render(caps, HostNode())
		for _, f := range Validate(p) {
			f.Path = renumber(f.Path, index)
			if !seen[f] {
				seen[f] = true
				findings = append(findings, f)
			}
		}
	}
	return findings
}

// renumber turns "syscalls[i]..." of a rendering into the file's index.
func renumber(path string, index []int) string {
	rest, ok := strings.CutPrefix(path, "syscalls[")
	if !ok {
		return path
	}
	end := strings.IndexByte(rest, ']')
	i, err := strconv.Atoi(rest[:max(end, 0)])
	if end < 0 || err != nil || i >= len(index) {
		return path
	}
	return fmt.Sprintf("syscalls[%d]%s", index[i], rest[end+1:])
}

// RepresentativeCapabilities are the containers a conditional profile is
// checked for: no capability, containerd's default set and every
// capability. Docker's conditions test one capability each, so every rule
// reaches one of them.
func RepresentativeCapabilities() [][]string {
	all := slices.DeleteFunc(slices.Clone(CapabilityNames[:]), func(c string) bool { return c == "" })
	return [][]string{nil, DefaultCapabilities, all}
}
