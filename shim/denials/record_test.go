package denials

import (
	"strings"
	"testing"
)

// Records as this host's kernel (6.18) writes them: the netlink payload
// and the kernel log line.
const (
	netlinkMkdir = `audit(1796024876.357:591): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=2121 comm="exe" exe="/tmp/auditprobe/ap" sig=0 arch=c000003e syscall=258 compat=0 ip=0x40866e code=0x50000`
	kmsgKill     = `audit: type=1326 audit(1796024831.421:579): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=30734 comm="sysgate-probe" exe="/tmp/sysgate-probe-1805424842/sysgate-probe" sig=31 arch=c000003e syscall=83 compat=0 ip=0x401925 code=0x80000000`
	i386Getpid   = `audit(1796024833.029:583): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=31066 comm=73797367617465 exe="/x" sig=31 arch=40000003 syscall=20 compat=1 ip=0x401965 code=0x80000000`
)

func TestParseRecord(t *testing.T) {
	r, err := ParseRecord([]byte(netlinkMkdir))
	if err != nil {
		t.Fatal(err)
	}
	if r.Serial != 591 || r.Pid != 2121 || r.Comm != "exe" || r.Exe != "/tmp/auditprobe/ap" || r.Arch != 0xc000003e || r.Nr != 258 || r.Code != 0x50000 {
		t.Errorf("parsed %+v", r)
	}
	r, err = ParseRecord([]byte(kmsgKill))
	if err != nil || r.Serial != 579 || r.Signal != 31 || ActionName(r.Code) != "SCMP_ACT_KILL_PROCESS" {
		t.Errorf("kernel log line: %+v, %v", r, err)
	}
	r, err = ParseRecord([]byte(i386Getpid))
	if err != nil || r.Comm != "sysgate" {
		t.Errorf("hex comm: %+v, %v", r, err)
	}
}

// Garbage and truncation give an error naming what is wrong, never a
// half-read record.
func TestParseRecordRefusesGarbage(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "stamp"},
		{"audit(1.0:5", "not closed"},
		{"audit(x:5): pid=1 arch=c000003e syscall=1 code=0", "time"},
		{"audit(1.0:-5): pid=1", "serial"},
		{"audit(1.0:5): arch=c000003e syscall=1 code=0", "no pid= field"},
		{"audit(1.0:5): pid=1 arch=c000003e syscall=1", "no code= field"},
		{"audit(1.0:5): pid=1 pid=2 arch=c000003e syscall=1 code=0", "twice"},
		{"audit(1.0:5): pid=99999999999 arch=c000003e syscall=1 code=0", "pid"},
		{"audit(1.0:5): pid=1 arch=zz syscall=1 code=0", "arch"},
		{`audit(1.0:5): pid=1 comm="unterminated arch=c000003e syscall=1 code=0`, "not closed"},
		{"audit(1.0:5): pid=1 comm=nothex! arch=c000003e syscall=1 code=0", "neither quoted nor hex"},
		{"audit: type=1300 audit(1.0:5): pid=1 arch=c000003e syscall=1 code=0", "not a seccomp record"},
		{netlinkMkdir[:len(netlinkMkdir)/2], "no"},
		{strings.Repeat("a", 10000), "longer"},
	} {
		_, err := ParseRecord([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseRecord(%.40q) = %v, want an error saying %q", tc.in, err, tc.want)
		}
	}
}

// The same number is a different call in each ABI; i386 and x32 are
// flagged as ABI-bypass attempts.
func TestNameSyscall(t *testing.T) {
	for _, tc := range []struct {
		arch   uint32
		nr     int32
		abi    string
		name   string
		bypass bool
	}{
		{0xc000003e, 83, "x86_64", "mkdir", false},
		{0xc000003e, 0x40000000 | 83, "x32", "mkdir", true},
		{0x40000003, 39, "i386", "mkdir", true},
		{0x40000003, 20, "i386", "getpid", true},
		{0xc000003e, 5, "x86_64", "fstat", false},
		{0x40000003, 5, "i386", "open", true},
		{0xc000003e, 4000, "x86_64", "(unknown nr 4000)", false},
		{0x12345, 1, "arch=0x12345", "(unknown nr 1)", false},
	} {
		s := NameSyscall(tc.arch, tc.nr)
		if s.ABI != tc.abi || s.Name != tc.name || s.Bypass != tc.bypass {
			t.Errorf("NameSyscall(%#x, %d) = %+v, want %s %s bypass=%v", tc.arch, tc.nr, s, tc.abi, tc.name, tc.bypass)
		}
	}
}

func TestSerialGapsCountLossesAndTakeBackLateOnes(t *testing.T) {
	var s serialTracker
	for _, n := range []uint64{100, 101, 105, 103, 103, 106} {
		s.see(n)
	}
	if s.gaps != 2 { // 102 and 104 never came; 103 came late
		t.Errorf("gaps = %d, want 2", s.gaps)
	}
}

func TestKmsgAudit(t *testing.T) {
	typ, text, ok := kmsgAudit([]byte("5,1234,11516892118,-;" + kmsgKill + "\n SUBSYSTEM=x\n"))
	if !ok || typ != 1326 || !strings.HasPrefix(string(text), "audit(1796024831.421:579)") {
		t.Errorf("kmsgAudit = %d %q %v", typ, text, ok)
	}
	if _, _, ok := kmsgAudit([]byte("6,1,2,-;eth0: link up")); ok {
		t.Error("a non-audit line was taken")
	}
}

// The parser never panics and never accepts a record without the fields
// attribution needs.
func FuzzParseRecord(f *testing.F) {
	for _, s := range []string{netlinkMkdir, kmsgKill, i386Getpid, "audit(1:1): pid=1", "audit(", `comm="`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRecord(b)
		if err != nil {
			return
		}
		if r.Pid < 0 || !strings.Contains(string(b), "pid=") || !strings.Contains(string(b), "code=") {
			t.Fatalf("accepted %q as %+v", b, r)
		}
		_ = NameSyscall(r.Arch, r.Nr)
	})
}

func TestKmsgSuppressed(t *testing.T) {
	if n, ok := kmsgSuppressed([]byte("4,99,123,-;kauditd_printk_skb: 12 callbacks suppressed\n")); !ok || n != 12 {
		t.Errorf("kmsgSuppressed = %d %v", n, ok)
	}
	if _, ok := kmsgSuppressed([]byte("4,99,123,-;net_ratelimit: 12 callbacks suppressed")); ok {
		t.Error("another subsystem's suppression was counted")
	}
}
