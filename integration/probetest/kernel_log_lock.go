package probetest

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// kernelLogLocks are where the one lock file for the whole machine may
// be: go test runs packages side by side, and the kernel's audit switch
// and printk rate limit are shared by all of them. A VM guest's initramfs
// may have no /run; it runs one test binary at a time.
var kernelLogLocks = []string{"/run/sysgate-test-kernel-log.lock", filepath.Join(os.TempDir(), "sysgate-test-kernel-log.lock")}

// HoldKernelLog makes t the only test on the machine that reads seccomp
// audit records from the kernel log or changes what the kernel does with
// them (the audit switch, a storm of denials that trips the printk rate
// limit), until t ends. Without it the conformance suite's SCMP_ACT_LOG
// case missed its record whenever the denial storm test ran beside it.
func HoldKernelLog(t testing.TB) {
	t.Helper()
	var f *os.File
	var err error
	for _, path := range kernelLogLocks {
		if f, err = os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600); err == nil {
			break
		}
	}
	if err != nil {
		t.Logf("no kernel log lock (%v): nothing else can run beside this test here", err)
		return
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		t.Fatalf("kernel log lock: %v", err)
	}
	t.Cleanup(func() { f.Close() }) // closing releases the lock
}
