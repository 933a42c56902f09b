package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	toml "github.com/pelletier/go-toml/v2"

	"github.com/sysgate/sysgate/shim/nri"
	"github.com/sysgate/sysgate/spec"
)

// TestNRIUnit: the ConfigMap's unit is deploy/systemd's, and it runs the
// plugin on the default policy and NRI's default socket.
func TestNRIUnit(t *testing.T) {
	o := load(t)
	file, err := os.ReadFile("systemd/sysgate-nri.service")
	if err != nil {
		t.Fatal(err)
	}
	if got := o.configMaps["sysgate-containerd"].Data["sysgate-nri.service"]; got != string(file) {
		t.Errorf("the ConfigMap's sysgate-nri.service differs from deploy/systemd/sysgate-nri.service:\n%s", got)
	}
	want := "ExecStart=/usr/local/bin/sysgate nri --config " + spec.DefaultPolicyPath + " --socket /var/run/nri/nri.sock\n"
	if !strings.Contains(string(file), want) {
		t.Errorf("the unit must run %q", want)
	}
}

// TestNRISnippet: containerd's NRI settings the docs promise: on, and the
// default validator requiring the plugin by the name it registers with.
// (integration/cri runs this very file in its NRI daemon.)
func TestNRISnippet(t *testing.T) {
	data, err := os.ReadFile("containerd/nri-v3.toml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Plugins map[string]struct {
			Disable          bool   `toml:"disable"`
			SocketPath       string `toml:"socket_path"`
			DefaultValidator struct {
				Enable          bool     `toml:"enable"`
				RequiredPlugins []string `toml:"required_plugins"`
				Tolerate        string   `toml:"tolerate_missing_plugins_annotation"`
			} `toml:"default_validator"`
		} `toml:"plugins"`
	}
	if err := toml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	c := doc.Plugins["io.containerd.nri.v1.nri"]
	if c.Disable || c.SocketPath != "/var/run/nri/nri.sock" || !c.DefaultValidator.Enable || len(c.DefaultValidator.RequiredPlugins) != 1 || c.DefaultValidator.RequiredPlugins[0] != nri.DefaultName {
		t.Errorf("NRI settings %+v: want NRI on at its default socket and the validator requiring %q", c, nri.DefaultName)
	}
	if c.DefaultValidator.Tolerate != "" {
		t.Error("a tolerate annotation lets any Pod author skip the plugin")
	}
}

// TestInstallScriptModes runs install.sh in the modes nri and both against
// a fake host: nri installs and starts the plugin's unit and touches no
// containerd config; both does that and the handlers.
func TestInstallScriptModes(t *testing.T) {
	o := load(t)
	sysgate := filepath.Join(t.TempDir(), "sysgate")
	if out, err := exec.Command("go", "build", "-o", sysgate, "../cmd/sysgate").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, mode := range []string{"nri", "both", "bogus"} {
		t.Run(mode, func(t *testing.T) {
			n := stageNode(t, o, sysgate)
			host, img, cfgDir, stubs, calls := n.host, n.img, n.cfgDir, n.stubs, n.calls
			must(t, os.WriteFile(filepath.Join(host, "etc/containerd/config.toml"), []byte("version = 3\n"), 0o644))
			cmd := exec.Command("sh", filepath.Join(cfgDir, "containerd", "install.sh"))
			cmd.Env = append(os.Environ(), "PATH="+stubs+":"+os.Getenv("PATH"), "SYSGATE_HOST="+host,
				"SYSGATE_IMAGE_BIN="+img, "SYSGATE_INSTALL_CONFIG="+cfgDir, "NODE_NAME=node-1", "SYSGATE_MODE="+mode)
			out, err := cmd.CombinedOutput()
			if mode == "bogus" {
				if err == nil || !strings.Contains(string(out), "want handler, nri or both") {
					t.Errorf("an unknown mode: %v\n%s", err, out)
				}
				return
			}
			if err != nil {
				t.Fatalf("install.sh: %v\n%s", err, out)
			}
			got, _ := os.ReadFile(calls)
			for _, call := range []string{"systemctl enable sysgate-nri.service", "systemctl restart sysgate-nri.service", "kubectl label node node-1 sysgate.io/nri=true"} {
				if !strings.Contains(string(got), call) {
					t.Errorf("%q did not run:\n%s", call, got)
				}
			}
			if _, err := os.Stat(filepath.Join(host, "etc/systemd/system/sysgate-nri.service")); err != nil {
				t.Error(err)
			}
			cfg, _ := os.ReadFile(filepath.Join(host, "etc/containerd/config.toml"))
			installed := strings.Contains(string(cfg), "# BEGIN sysgate")
			if installed != (mode == "both") || strings.Contains(string(got), "handler-sysgate=true") != (mode == "both") {
				t.Errorf("mode %s: handlers installed %v:\n%s\n%s", mode, installed, cfg, got)
			}
		})
	}
}
