package wrapper

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sysgate/sysgate/conformance/bundle"
	"github.com/sysgate/sysgate/spec"
)

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// A real Prometheus (Debian's package) scrapes the helper, and a query
// returns the denial counter for the test's Pod, and the decisions the
// helper planned.
func TestDenialsPrometheusScrapesTheHelper(t *testing.T) {
	requireRoot(t)
	prom, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("Debian's prometheus is not installed (make deps installs it)")
	}
	withAudit(t, true)
	var rt *denialRuntime
	for _, r := range denialRuntimes(t) {
		if r.logsErrno {
			rt = &r
			break
		}
	}
	if rt == nil {
		t.Skip("no runtime here passes SECCOMP_FILTER_FLAG_LOG")
	}
	metrics := freePort(t)
	dn := newDenialNode(t, *rt, fmt.Sprintf("metrics_listen = %q", metrics))
	dn.helperSocket = dn.helper.Socket // creates go through the helper: decisions are counted

	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: sysgate\n    static_configs:\n      - targets: [%q]\n", metrics)), 0o644)
	web := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, prom, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+web)
	logf, _ := os.Create(filepath.Join(dir, "prometheus.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait(); logf.Close() })

	id := newID("prom")
	pod := "web-\"0\"" // a quote in a label value
	res := dn.cmd(false, "run", "--bundle", dn.bundle(bundle.Options{
		Args: []string{"sh", "-c", "mkdir /tmp/x; mkdir /tmp/y; echo done"},
		Annotations: map[string]string{
			"io.kubernetes.cri.container-type": "container", "io.kubernetes.cri.container-name": "app",
			"io.kubernetes.cri.sandbox-name": pod, "io.kubernetes.cri.sandbox-namespace": "metrics-test",
			"io.kubernetes.cri.sandbox-id":                "sandbox0",
			spec.AnnotationContainerSeccompPrefix + "app": "localhost/profiles/deny-mkdir.json",
		},
	}), id)
	dn.cmd(true, "delete", "--force", id)
	if res.code != 0 {
		t.Fatalf("container: %s", res)
	}
	query := func(q string) (float64, string) {
		resp, err := http.Get("http://" + web + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var r struct {
			Data struct {
				Result []struct {
					Value [2]any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if json.Unmarshal(body, &r) != nil || len(r.Data.Result) == 0 {
			return 0, string(body)
		}
		var v float64
		fmt.Sscan(fmt.Sprint(r.Data.Result[0].Value[1]), &v)
		return v, string(body)
	}
	denialQ := `sum(sysgate_seccomp_denials_total{namespace="metrics-test",pod="web-\"0\"",container="app",abi="x86_64",action="SCMP_ACT_ERRNO(1)"})`
	var got float64
	var body string
	for end := time.Now().Add(60 * time.Second); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		if got, body = query(denialQ); got >= 2 {
			break
		}
	}
	if got < 2 {
		log, _ := os.ReadFile(filepath.Join(dir, "prometheus.log"))
		t.Fatalf("Prometheus returns %v for %s (want the 2 mkdir denials):\n%s\nprometheus log:\n%s\nhelper log:\n%s", got, denialQ, body, log, dn.helper.Log())
	}
	t.Logf("Prometheus: %s = %v", denialQ, got)
	if v, body := query(`sysgate_decisions_total{source="container annotation",type="Localhost"}`); v < 1 {
		t.Errorf("no decision counted: %s", body)
	}
	if v, body := query(`sysgate_filter_cache_total`); v < 1 {
		t.Errorf("no cache lookup counted: %s", body)
	}
	if _, body := query(`sysgate_seccomp_records_lost`); !strings.Contains(body, `"result":[{`) {
		t.Errorf("records lost not exported: %s", body)
	}
}
