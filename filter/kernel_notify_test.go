package filter_test

// User notification end to end, the way a container runtime does it: the
// helper loads a SCMP_ACT_NOTIFY filter, hands the listener fd to an agent
// over listenerPath (filter.SendListener) and execs the probe; the test is the
// agent, answering with SECCOMP_IOCTL_NOTIF_RECV/SEND.

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/conformance/probe"
	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/filter/bpf"
	"github.com/sysgate/sysgate/integration/probetest"
	"golang.org/x/sys/unix"
)

func TestKernelUserNotification(t *testing.T) {
	requireSeccomp(t)
	if !filter.KernelActionSupported(bpf.RetUserNotif) {
		t.Skip("this kernel does not implement SECCOMP_RET_USER_NOTIF (Linux >= 5.0)")
	}
	probePath := probetest.BuildForTest(t)
	const profile = `{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],
		"listenerPath":"set by the test","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_NOTIFY"}]}`
	_, prog := compileJSON(t, profile)
	if !prog.NeedsListener() {
		t.Fatalf("a NOTIFY profile compiled without NEW_LISTENER: flags %v", prog.FlagNames())
	}
	for _, tc := range []struct {
		name   string
		abi    string
		nr     int64 // in the ABI's own table
		arch   uint32
		answer filter.NotificationResponse
		want   string
	}{
		{"agent answers EXDEV", probe.ABINative, 83, bpf.AuditArchX86_64, filter.NotificationResponse{Error: -int32(unix.EXDEV)}, "errno:EXDEV"},
		{"agent fakes success", probe.ABINative, 83, bpf.AuditArchX86_64, filter.NotificationResponse{Val: 0}, "allowed"},
		{"i386 call reaches the agent", probe.ABII386, 39, bpf.AuditArchI386, filter.NotificationResponse{Error: -int32(unix.EXDEV)}, "errno:EXDEV"},
		{"agent lets it continue", probe.ABINative, 83, bpf.AuditArchX86_64, filter.NotificationResponse{Flags: unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE}, "allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.abi == probe.ABII386 {
				requireABI(t, filter.ABII386)
			}
			dir := t.TempDir()
			target := filepath.Join(dir, "made")
			sock := filepath.Join(shortTempDir(t), "agent.sock")
			ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			bpf := filepath.Join(dir, "filter.bpf")
			if err := os.WriteFile(bpf, prog.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := helperCommand(ctx, helperNotify, bpf, fmt.Sprint(prog.Flags), sock, "--",
				probePath, "--abi", tc.abi, fmt.Sprint(tc.nr), "s:"+target, "493")
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			agentErr := make(chan error, 1)
			go func() { agentErr <- answerOne(ln, cmd.Process.Pid, tc.nr, tc.arch, tc.answer) }()
			waitErr := cmd.Wait()
			if err := <-agentErr; err != nil {
				t.Errorf("agent: %v", err)
			}
			if waitErr != nil {
				t.Fatalf("helper/probe: %v; stderr: %s", waitErr, stderr.String())
			}
			r, err := probe.Parse([]byte(stdout.String()), cmd.ProcessState)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Outcome(); got != tc.want {
				t.Errorf("probe: %s, want %s", got, tc.want)
			}
			_, statErr := os.Stat(target)
			if made, wantMade := statErr == nil, tc.answer.Flags&unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE != 0; made != wantMade {
				t.Errorf("directory created = %v, want %v (only CONTINUE runs the real mkdir)", made, wantMade)
			}
		})
	}
}

// shortTempDir is a directory for a unix socket: sun_path holds 108 bytes,
// fewer than t.TempDir's names under a long TMPDIR.
func shortTempDir(t *testing.T) string {
	base := os.TempDir()
	if len(base) > 40 {
		base = "/tmp"
	}
	dir, err := os.MkdirTemp(base, "sgn-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// answerOne accepts the runtime's connection, checks the OCI container
// process state that comes with the fd, and answers one notification.
func answerOne(ln *net.UnixListener, pid int, nr int64, arch uint32, resp filter.NotificationResponse) error {
	ln.SetDeadline(time.Now().Add(20 * time.Second))
	conn, err := ln.AcceptUnix()
	if err != nil {
		return err
	}
	defer conn.Close()
	msg, oob := make([]byte, 64<<10), make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := conn.ReadMsgUnix(msg, oob)
	if err != nil {
		return err
	}
	var state specs.ContainerProcessState
	if err := json.Unmarshal(msg[:n], &state); err != nil {
		return fmt.Errorf("container process state: %w", err)
	}
	if len(state.Fds) != 1 || state.Fds[0] != specs.SeccompFdName || state.Pid != pid || state.Metadata != "sysgate-kernel-test" {
		return fmt.Errorf("container process state %+v: want fds [%s], pid %d and the metadata", state, specs.SeccompFdName, pid)
	}
	cmsgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(cmsgs) != 1 {
		return fmt.Errorf("no SCM_RIGHTS message (%v)", err)
	}
	fds, err := unix.ParseUnixRights(&cmsgs[0])
	if err != nil || len(fds) != 1 {
		return fmt.Errorf("SCM_RIGHTS: %v %v", fds, err)
	}
	fd := fds[0]
	defer unix.Close(fd)

	// RECV blocks until a notification arrives; poll first so that a probe
	// that never calls cannot hang the test.
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	deadline := time.Now().Add(20 * time.Second)
	k, err := unix.Poll(pfd, 20000)
	// The Go runtime's preemption signals interrupt poll; that is not a
	// missing notification.
	for err == unix.EINTR && time.Now().Before(deadline) {
		k, err = unix.Poll(pfd, int(time.Until(deadline).Milliseconds())+1)
	}
	if err != nil || k != 1 {
		return fmt.Errorf("no notification within 20 s (poll: %d, %v)", k, err)
	}
	req, err := filter.ReceiveNotification(fd)
	if err != nil {
		return fmt.Errorf("SECCOMP_IOCTL_NOTIF_RECV: %w", err)
	}
	if int64(req.Data.Nr) != nr || req.Data.Arch != arch || int(req.Pid) != pid {
		return fmt.Errorf("notification nr %d arch %#x pid %d, want nr %d arch %#x pid %d", req.Data.Nr, req.Data.Arch, req.Pid, nr, arch, pid)
	}
	resp.ID = req.ID
	if err := filter.RespondNotification(fd, resp); err != nil {
		return fmt.Errorf("SECCOMP_IOCTL_NOTIF_SEND: %w", err)
	}
	return nil
}
