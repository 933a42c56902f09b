package record

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"sigs.k8s.io/yaml"

	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/filter/bpf"
	"github.com/sysgate/sysgate/spec/profile"
)

func TestBuild(t *testing.T) {
	for _, c := range []struct {
		name       string
		calls      Calls
		wantArches []specs.Arch
		wantNames  []string
		unnamed    int
	}{
		{"native only", Calls{specs.ArchX86_64: {0: 3, 1: 1, 231: 1}}, []specs.Arch{specs.ArchX86_64}, []string{"exit_group", "read", "write"}, 0},
		{"i386 seen", Calls{specs.ArchX86_64: {59: 1}, specs.ArchX86: {20: 2}}, []specs.Arch{specs.ArchX86_64, specs.ArchX86}, []string{"execve", "getpid"}, 0},
		{"x32 numbers carry no bit here", Calls{specs.ArchX32: {39: 1}}, []specs.Arch{specs.ArchX86_64, specs.ArchX32}, []string{"getpid"}, 0},
		{"unnamed number", Calls{specs.ArchX86_64: {0: 1, 1024: 5}}, []specs.Arch{specs.ArchX86_64}, []string{"read"}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, meta, err := Build(c.calls, Metadata{})
			if err != nil {
				t.Fatal(err)
			}
			if p.DefaultAction != specs.ActErrno || *p.DefaultErrnoRet != 1 {
				t.Errorf("default %s", p.DefaultAction)
			}
			if !slices.Equal(p.Architectures, c.wantArches) {
				t.Errorf("architectures %v, want %v", p.Architectures, c.wantArches)
			}
			if len(p.Syscalls) != 1 || !slices.Equal(p.Syscalls[0].Names, c.wantNames) {
				t.Errorf("rules %+v, want %v", p.Syscalls, c.wantNames)
			}
			if len(meta.Unnamed) != c.unnamed || meta.Records != c.calls.Total() {
				t.Errorf("metadata %+v", meta)
			}
			data, err := Marshal(p, meta)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := profile.Parse(data); err != nil {
				t.Errorf("sysgate's strict parser refuses a recording: %v", err)
			}
			if back, ok := ReadMetadata(data); !ok || back.Records != meta.Records {
				t.Errorf("metadata not read back: %+v", back)
			}
		})
	}
}

func TestRecordMode(t *testing.T) {
	rd := profile.RuntimeDefault(profile.DefaultCapabilities)
	got := profile.RecordMode(rd)
	if got.DefaultAction != specs.ActLog {
		t.Errorf("default %s", got.DefaultAction)
	}
	for _, r := range got.Syscalls {
		if r.Action != specs.ActAllow && r.Action != specs.ActLog || r.Action == got.DefaultAction {
			t.Errorf("rule %v keeps %s", r.Names, r.Action)
		}
	}
	if _, err := profile.CompileValid(got, filter.Options{}, nil, nil); err != nil {
		t.Errorf("the record-mode profile does not compile: %v", err)
	}
	// The interpreter: nothing RuntimeDefault answers is denied any more.
	prog := compile(t, got)
	for nr := int32(0); nr < 460; nr++ {
		ret, _, err := bpf.Run(prog, bpf.SeccompData{Nr: nr, Arch: bpf.AuditArchX86_64})
		if err != nil {
			t.Fatal(err)
		}
		if a := bpf.RetAction(ret); a != bpf.RetAllow && a != bpf.RetLog && !(a == bpf.RetErrno && ret&bpf.RetData == 38) {
			t.Errorf("nr %d: %s under record mode", nr, bpf.RetName(ret))
		}
	}
}

func compile(t *testing.T, p *specs.LinuxSeccomp) []bpf.Instruction {
	t.Helper()
	prog, err := profile.CompileValid(p, filter.Options{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return prog.Instructions
}

func allow(names ...string) *specs.LinuxSeccomp {
	return &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: []specs.Arch{specs.ArchX86_64},
		Syscalls: []specs.LinuxSyscall{{Names: names, Action: specs.ActAllow}}}
}

func TestMerge(t *testing.T) {
	errno38 := uint(38)
	withCond := allow("read")
	withCond.Syscalls = append(withCond.Syscalls, specs.LinuxSyscall{Names: []string{"personality"}, Action: specs.ActAllow,
		Args: []specs.LinuxSeccompArg{{Index: 0, Value: 8, Op: specs.OpEqualTo}}})
	for _, c := range []struct {
		name    string
		in      []*specs.LinuxSeccomp
		want    []string // unconditional allowed names
		wantErr string
	}{
		{"union", []*specs.LinuxSeccomp{allow("read", "write"), allow("write", "openat")}, []string{"openat", "read", "write"}, ""},
		{"conditional kept", []*specs.LinuxSeccomp{withCond, allow("write")}, []string{"read", "write"}, ""},
		{"conditional subsumed", []*specs.LinuxSeccomp{withCond, allow("personality")}, []string{"personality", "read"}, ""},
		{"different defaults", []*specs.LinuxSeccomp{allow("read"), {DefaultAction: specs.ActErrno, DefaultErrnoRet: &errno38}}, nil, "different defaults"},
		{"different default actions", []*specs.LinuxSeccomp{allow("read"), {DefaultAction: specs.ActKillProcess}}, nil, "different defaults"},
		{"other machine", []*specs.LinuxSeccomp{allow("read"), {DefaultAction: specs.ActErrno, Architectures: []specs.Arch{specs.ArchAARCH64}}}, nil, "no kernel reports beside"},
		{"two actions", []*specs.LinuxSeccomp{allow("read"), {DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActKillProcess}}}}, nil, "two actions"},
		{"one profile", []*specs.LinuxSeccomp{allow("read")}, nil, "at least two"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var in []Named
			for i, p := range c.in {
				in = append(in, Named{Name: string(rune('A' + i)), Profile: p})
			}
			got, err := Merge(in)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Errorf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Syscalls[0].Names, c.want) {
				t.Errorf("names %v, want %v", got.Syscalls[0].Names, c.want)
			}
			// By meaning: the union allows a call exactly when an input
			// does, for every ABI, syscall and a sample of arguments
			// (around personality's 8).
			merged := compile(t, got)
			var inputs [][]bpf.Instruction
			for _, p := range c.in {
				inputs = append(inputs, compile(t, p))
			}
			allows := func(prog []bpf.Instruction, d bpf.SeccompData) bool {
				ret, _, err := bpf.Run(prog, d)
				if err != nil {
					t.Fatal(err)
				}
				return bpf.RetAction(ret) == bpf.RetAllow
			}
			for _, abi := range []struct {
				arch uint32
				bits int32
			}{{bpf.AuditArchX86_64, 0}, {bpf.AuditArchI386, 0}, {bpf.AuditArchX86_64, bpf.X32SyscallBit}} {
				for nr := int32(0); nr < 1100; nr++ {
					for _, arg := range []uint64{0, 7, 8, 9, ^uint64(0)} {
						d := bpf.SeccompData{Nr: nr | abi.bits, Arch: abi.arch, Args: [6]uint64{arg}}
						any := false
						for _, in := range inputs {
							any = any || allows(in, d)
						}
						if u := allows(merged, d); u != any {
							t.Errorf("arch %#x nr %d arg %d: union allows %v, an input allows %v", abi.arch, nr, arg, u, any)
						}
					}
				}
			}
		})
	}
}

func TestOutput(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ns", "pod", "ctr.json")
	o, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "another recording of the same name is in progress") {
		t.Errorf("a second lock: %v", err)
	}
	written, err := o.Write([]byte("{}\n"), true)
	if err != nil || written != filepath.Join(dir, "ns", "pod", "ctr.incomplete.json") {
		t.Errorf("incomplete written to %s: %v", written, err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("an incomplete recording took the finished name")
	}
	if written, err = o.Write([]byte("{}\n"), false); err != nil || written != path {
		t.Errorf("complete written to %s: %v", written, err)
	}
	o.Close()
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if e.Name() != "ctr.json" && e.Name() != "ctr.incomplete.json" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
	if o2, err := Open(path); err != nil {
		t.Errorf("the lock was not released: %v", err)
	} else {
		o2.Close()
	}
}

func TestMarshalSPO(t *testing.T) {
	p, meta, err := Build(Calls{specs.ArchX86_64: {0: 1, 59: 1}}, Metadata{Container: "default/web/nginx"})
	if err != nil {
		t.Fatal(err)
	}
	data, err := MarshalSPO(p, meta, "Web_Nginx.v1", "default")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		APIVersion, Kind string
		Metadata         struct {
			Name, Namespace string
			Annotations     map[string]string
		}
		Spec struct {
			DefaultAction string
			Architectures []string
			Syscalls      []struct {
				Action string
				Names  []string
			}
		}
	}
	if err := yaml.UnmarshalStrict(data, &doc); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if doc.Kind != "SeccompProfile" || doc.APIVersion != "security-profiles-operator.x-k8s.io/v1beta1" || doc.Metadata.Name != "web-nginx-v1" ||
		doc.Spec.DefaultAction != "SCMP_ACT_ERRNO" || !slices.Equal(doc.Spec.Syscalls[0].Names, []string{"execve", "read"}) ||
		!strings.Contains(doc.Metadata.Annotations[SPOAnnotation], "default/web/nginx") {
		t.Errorf("%s", data)
	}
}

func TestAddRuntimeInit(t *testing.T) {
	for _, c := range []struct {
		runtime string
		calls   Calls
		added   []string
	}{
		{"runc version 1.2.8", Calls{specs.ArchX86_64: {0: 1}}, []string{"futex"}},
		{"runc version 1.1.5+ds1", Calls{specs.ArchX86_64: {202: 3}}, nil}, // seen: nothing added
		{"crun version 1.8.1", Calls{specs.ArchX86_64: {0: 1}}, nil},
	} {
		var meta Metadata
		if err := AddRuntimeInit(c.calls, c.runtime, &meta); err != nil {
			t.Fatal(err)
		}
		p, _, err := Build(c.calls, meta)
		if err != nil {
			t.Fatal(err)
		}
		hasFutex := slices.Contains(p.Syscalls[0].Names, "futex")
		if !slices.Equal(meta.AddedForRuntime, c.added) || hasFutex != (c.runtime[:4] == "runc") {
			t.Errorf("%s: added %v, futex allowed %v", c.runtime, meta.AddedForRuntime, hasFutex)
		}
	}
}
