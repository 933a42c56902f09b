// Package observe records, in the kernel, which syscalls a process tree
// makes under a seccomp filter: an eBPF program (github.com/cilium/ebpf,
// written with its asm package, no clang) on the raw sys_enter tracepoint
// counts each (ABI, syscall number) per CPU, for the tasks of the tree
// only, and only once they hold a filter stacked after the recording
// began. Nothing leaves the kernel per call, so nothing can be lost at
// server rates; the few ways a call could go uncounted (the task table
// full, a kernel read failing) are counted as losses instead.
//
// Which tasks: the tree is followed by task id from the root named at
// Start (sched_process_fork adds every child and thread before it can
// run, sched_process_exec moves the id of a thread that execs from
// another thread, sched_process_exit removes it). cgroup v1 has no id a
// BPF program can read cheaply, and a pid namespace would also count the
// runtime's own setup (mount, pivot_root); the tree plus the filter depth
// counts exactly the calls the container's filter sees, including the
// runtime init's calls after it loaded the filter.
//
// Which ABI: x32 calls carry bit 30 in the number; an i386 call (int $0x80,
// sysenter) is the one during which the thread's TS_COMPAT status bit is
// set. The offsets of task_struct's fields come from the kernel's BTF.
package observe
