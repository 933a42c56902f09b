package wrapper

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/conformance/bundle"
	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/shim/denials"
	"github.com/sysgate/sysgate/shim/record"
	"github.com/sysgate/sysgate/spec"
	"github.com/sysgate/sysgate/spec/profile"
)

// redisDebs is where hack/fetch-debs.sh (make deps) puts redis-tools and
// the libraries the host lacks.
const redisDebs = "/var/cache/sysgate-record/debs"

// redisBundle builds, offline, a bundle whose root filesystem holds
// redis-server from Debian's redis-tools package, the libraries it links
// (jemalloc and lzf from their packages, the rest from the host's Debian
// packages) and busybox; it listens on 127.0.0.1:port in the host's network
// namespace, so that a client on the host reaches it over loopback.
func redisBundle(t *testing.T, n *node, port int, annotations map[string]string) string {
	t.Helper()
	debs, _ := filepath.Glob(filepath.Join(redisDebs, "*.deb"))
	if len(debs) < 3 {
		t.Skipf("redis packages are not in %s (make deps fetches them)", redisDebs)
	}
	dir := t.TempDir()
	s, err := bundle.Create(dir, bundle.Options{Annotations: annotations, Args: []string{
		"/usr/bin/redis-server", "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--daemonize", "no", "--protected-mode", "no", "--io-threads", "2",
	}})
	if err != nil {
		t.Fatal(err)
	}
	rootfs := filepath.Join(dir, "rootfs")
	for _, deb := range debs {
		if out, err := exec.Command("dpkg-deb", "-x", deb, rootfs).CombinedOutput(); err != nil {
			t.Fatalf("dpkg-deb -x %s: %v\n%s", deb, err, out)
		}
	}
	// redis-server is redis-check-rdb under another name (the redis-server
	// package only adds the link and a service).
	if err := os.Symlink("redis-check-rdb", filepath.Join(rootfs, "usr/bin/redis-server")); err != nil {
		t.Fatal(err)
	}
	ldd := exec.Command("ldd", filepath.Join(rootfs, "usr/bin/redis-check-rdb"))
	ldd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+filepath.Join(rootfs, "usr/lib/x86_64-linux-gnu"))
	out, err := ldd.Output()
	if err != nil {
		t.Fatalf("ldd: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		var lib string
		switch {
		case len(f) >= 3 && f[1] == "=>":
			lib = f[2]
		case len(f) >= 1 && strings.HasPrefix(f[0], "/"):
			lib = f[0]
		}
		if lib == "" || strings.HasPrefix(lib, rootfs) {
			continue
		}
		data, err := os.ReadFile(lib)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(rootfs, lib)
		os.MkdirAll(filepath.Dir(dst), 0o755)
		if err := os.WriteFile(dst, data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The host's network: the client connects over loopback.
	s.Linux.Namespaces = slices.DeleteFunc(s.Linux.Namespaces, func(ns specs.LinuxNamespace) bool { return ns.Type == specs.NetworkNamespace })
	data, _ := json.MarshalIndent(s, "", "\t")
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// redisSession talks RESP to the server on loopback and returns every
// reply, in order: the workload's output.
func redisSession(t *testing.T, port int) string {
	t.Helper()
	var conn net.Conn
	var err error
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if conn, err = net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("redis never listened on %d: %v", port, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(conn)
	var out strings.Builder
	cmds := [][]string{
		{"PING"}, {"SET", "greeting", "hello"}, {"GET", "greeting"}, {"INCR", "n"}, {"INCRBY", "n", "41"},
		{"RPUSH", "list", "a", "b", "c"}, {"LRANGE", "list", "0", "-1"}, {"HSET", "h", "f", "v"}, {"HGETALL", "h"},
		{"SADD", "s", "x", "y"}, {"SCARD", "s"}, {"EXPIRE", "greeting", "100"}, {"DBSIZE"}, {"DEL", "list"},
		{"SET", "big", strings.Repeat("z", 100000)}, {"STRLEN", "big"}, {"CLIENT", "INFO"}, {"BGSAVE"}, {"WAITSAVE"}, {"FLUSHALL"}, {"DBSIZE"},
	}
	for i := range 200 { // some load: the event loop, the I/O threads
		cmds = append(cmds, []string{"SET", fmt.Sprintf("k%d", i), fmt.Sprint(i)})
	}
	cmds = append(cmds, []string{"DBSIZE"}, []string{"QUIT"})
	send := func(c []string) {
		fmt.Fprintf(conn, "*%d\r\n", len(c))
		for _, a := range c {
			fmt.Fprintf(conn, "$%d\r\n%s\r\n", len(a), a)
		}
	}
	for _, c := range cmds {
		if c[0] == "WAITSAVE" {
			// The fork's end, then the cron's reaping of it (10 Hz): the
			// same calls in every run, not a race with the shutdown.
			for {
				send([]string{"INFO", "persistence"})
				info, err := readReply(r)
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(info, "rdb_bgsave_in_progress:0") {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			time.Sleep(300 * time.Millisecond)
			continue
		}
		fmt.Fprintf(conn, "*%d\r\n", len(c))
		for _, a := range c {
			fmt.Fprintf(conn, "$%d\r\n%s\r\n", len(a), a)
		}
		reply, err := readReply(r)
		if err != nil {
			t.Fatalf("%v: %v", c, err)
		}
		if c[0] == "BGSAVE" || c[0] == "CLIENT" {
			reply = "(" + strings.ToLower(c[0]) + ")" // wording that races the fork; ids and ports
		}
		if len(reply) > 64 {
			reply = fmt.Sprintf("(%d bytes)", len(reply))
		}
		fmt.Fprintf(&out, "%s -> %s\n", c[0], reply)
	}
	return out.String()
}

func readReply(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	switch line[0] {
	case '$':
		var n int
		fmt.Sscan(line[1:], &n)
		if n < 0 {
			return "(nil)", nil
		}
		buf := make([]byte, n+2)
		if _, err := ioReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	case '*':
		var n int
		fmt.Sscan(line[1:], &n)
		var items []string
		for range n {
			item, err := readReply(r)
			if err != nil {
				return "", err
			}
			items = append(items, item)
		}
		return "[" + strings.Join(items, " ") + "]", nil
	}
	return line, nil
}

func ioReadFull(r *bufio.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// runRedis starts the server through sysgate-runc, runs the client session
// and stops the server with SIGTERM (its orderly shutdown is part of the
// workload), waiting until it is gone.
func runRedis(t *testing.T, rn *recordNode, annotations map[string]string, extra func(id string)) (string, string) {
	t.Helper()
	_, portText, _ := net.SplitHostPort(freePort(t))
	var port int
	fmt.Sscan(portText, &port)
	dir := redisBundle(t, rn.node, port, annotations)
	id := newID("redis")
	if res := rn.cmd(false, "create", "--bundle", dir, id); res.code != 0 {
		t.Fatalf("create: %s", res)
	}
	t.Cleanup(func() { rn.cmd(true, "delete", "--force", id) })
	if res := rn.cmd(true, "start", id); res.code != 0 {
		t.Fatalf("start: %s", res)
	}
	out := redisSession(t, port)
	time.Sleep(100 * time.Millisecond) // the server sees the client leave
	if extra != nil {
		extra(id)
	}
	rn.cmd(true, "kill", id, "TERM")
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if res := rn.cmd(true, "state", id); strings.Contains(res.stdout, `"stopped"`) {
			return out, id
		}
	}
	t.Fatalf("redis did not stop on SIGTERM")
	return "", ""
}

// TestRecordServer: redis-server from Debian packages, recorded through
// sysgate-runc on runc and crun with a client on loopback, then replayed
// under its recording: the same replies, no denial, and a syscall it
// never made (mkdir, from `runtime exec` under the container's profile)
// denied.
func TestRecordServer(t *testing.T) {
	requireRoot(t)
	withAudit(t, true)
	for _, rt := range recordRuntimes(t) {
		t.Run(rt.name, func(t *testing.T) {
			rn := newRecordNode(t, rt)
			ann := recordPodAnnotations("team-a", "cache-0", "redis")
			ann[spec.AnnotationRecord] = "redis"
			recorded, _ := runRedis(t, rn, ann, nil)
			path := rn.waitRecording(t, "cache-0", "redis")
			data, _ := os.ReadFile(path)
			p, err := profile.Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			meta, _ := record.ReadMetadata(data)
			names := p.Syscalls[0].Names
			t.Logf("%s: redis recorded: %d syscalls, %d calls, lost %d: %s", rt.name, len(names), meta.Records, meta.Lost, strings.Join(names, " "))
			for _, want := range []string{"epoll_wait", "accept4", "clone3", "futex", "rt_sigreturn"} {
				if !slices.Contains(names, want) && !(want == "clone3" && slices.Contains(names, "clone")) {
					t.Errorf("%s missing from the recording %v", want, names)
				}
			}
			if slices.Contains(names, "mkdir") || slices.Contains(names, "mkdirat") {
				t.Errorf("mkdir recorded")
			}
			rn.addProfileBytes("recordings/redis.json", data)
			replay := recordPodAnnotations("team-b", "cache-1", "redis")
			replay[spec.AnnotationContainerSeccompPrefix+"redis"] = "localhost/recordings/redis.json"
			var mkdir result
			replayed, id := runRedis(t, rn, replay, func(id string) {
				mkdir = rn.cmd(true, "exec", id, "/bin/mkdir", "/tmp/never")
			})
			if replayed != recorded {
				t.Errorf("the replay answered differently\nrecorded:\n%s\nreplay:\n%s", recorded, replayed)
			}
			// Never made, never allowed: the interpreter's verdicts on the
			// recording, and the kernel's on a process exec'd into the
			// container under it. crun exec itself calls statx after
			// loading the container's filter, which a recording of the
			// container's init does not hold: there only the interpreter.
			prog, err := profile.CompileValid(p, filter.Options{}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, never := range []string{"mkdir", "mkdirat", "unshare", "ptrace"} {
				if e, err := filter.Explain(prog, p, specs.ArchX86_64, never); err != nil || e[0].Action != "SCMP_ACT_ERRNO(1)" {
					t.Errorf("%s under the recording: %+v %v", never, e, err)
				}
			}
			if strings.HasPrefix(rt.name, "runc") && (mkdir.code == 0 || !strings.Contains(mkdir.stdout+mkdir.stderr, "Operation not permitted")) {
				t.Errorf("mkdir in the replayed container: %s", mkdir)
			}
			if !rt.logsErrno {
				return
			}
			// A denial of the exec'd process shows the collector sees
			// this runtime's ERRNO records; redis itself must have none.
			got, _ := rn.waitDenials(t, 3*time.Second, func(ds []denials.Denial) bool { return len(ds) > 0 }, "--container", id)
			if len(got) == 0 {
				t.Fatalf("no denial seen for %s's exec", id)
			}
			for _, d := range got {
				if d.Comm == "redis-server" || strings.HasPrefix(d.Comm, "redis") {
					t.Errorf("redis was denied under its recording: %+v", d)
				}
			}
		})
	}
}
