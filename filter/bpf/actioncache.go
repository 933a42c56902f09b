package bpf

// ConstantAllow reports whether the kernel's seccomp action cache (Linux
// 5.11+) will answer this syscall without running the filter: the kernel
// emulates the filter for each syscall number with only nr and arch known,
// and caches ALLOW when the outcome cannot depend on anything else. This
// mirrors seccomp_is_const_allow() in kernel/seccomp.c: any load of the
// arguments or the instruction pointer, or any instruction it does not
// model, makes the syscall uncacheable, so a filter that reads an argument
// before dispatching on nr turns the cache off for every syscall.
func ConstantAllow(insns []Instruction, arch uint32, nr int32) bool {
	ret, ok := ConstantResult(insns, arch, nr)
	return ok && ret == RetAllow
}
