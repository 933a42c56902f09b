package verify

import (
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestHandler(t *testing.T) {
	tasks := t.TempDir()
	write := func(dir, name, body string) {
		os.MkdirAll(filepath.Join(tasks, dir), 0o755)
		if err := os.WriteFile(filepath.Join(tasks, dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("sandbox", "shim-binary-path", "/usr/bin/containerd-shim-runc-v2")
	write("sandbox", "runtime", "/usr/local/bin/sysgate-runc")
	write("plain", "shim-binary-path", "/usr/bin/containerd-shim-runc-v2")
	write("plain", "runtime", "")
	os.MkdirAll(filepath.Join(tasks, "app"), 0o755)
	for _, tc := range []struct {
		name, bundle string
		annotations  map[string]string
		runtime      string
		want         string
	}{
		{"CRI-O says", "", map[string]string{"io.kubernetes.cri-o.RuntimeHandler": "sysgate"}, "runc", "sysgate"},
		{"containerd's shim and its runtime", filepath.Join(tasks, "sandbox"), nil, "", "containerd-shim-runc-v2 (sysgate-runc)"},
		{"the default runtime (no BinaryName)", filepath.Join(tasks, "plain"), nil, "", "containerd-shim-runc-v2"},
		{"a Pod's container, through its sandbox's shim", filepath.Join(tasks, "app"), map[string]string{"io.kubernetes.cri.sandbox-id": "sandbox"}, "runc", "containerd-shim-runc-v2 (sysgate-runc)"},
		{"a sandbox id that climbs out is not followed", filepath.Join(tasks, "app"), map[string]string{"io.kubernetes.cri.sandbox-id": "../sandbox"}, "runc", "runc"},
		{"only a runtime's state", "", nil, "crun", "crun"},
	} {
		if got := handler(tc.bundle, &specs.Spec{Annotations: tc.annotations}, tc.runtime); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestSummaryAndFailed(t *testing.T) {
	reports := []*Report{
		{Class: ClassSysgate, Status: StatusEqual},
		{Class: ClassOther, Status: StatusNotDecided},
		{Class: ClassUnconfined, Status: StatusNotDecided},
		{Class: ClassSysgate, Status: StatusEqual},
	}
	if got, want := Summary(reports), "4 containers: 2 confined by sysgate, 1 confined otherwise, 1 unconfined"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
	if Failed(reports) {
		t.Error("containers sysgate never decided for failed a verification of its decisions")
	}
	for _, s := range []Status{StatusDiffers, StatusUnverified} {
		if !Failed(append(reports, &Report{Status: s})) {
			t.Errorf("a container %s did not fail", s)
		}
	}
}
