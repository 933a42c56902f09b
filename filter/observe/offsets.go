package observe

import (
	"fmt"

	"github.com/cilium/ebpf/btf"
)

// kernelOffsets are the byte offsets the program reads through
// bpf_probe_read_kernel, taken from the running kernel's BTF so that the
// program fits whatever kernel it loads on.
type kernelOffsets struct {
	seccompFilter  uint32 // task_struct.seccomp.filter
	filterPrev     uint32 // seccomp_filter.prev
	threadStatus   uint32 // task_struct.thread_info.status
	threadInfoSize uint32 // sizeof status, checked to be 4
	pid            uint32 // task_struct.pid (the thread id)
}

func loadOffsets() (kernelOffsets, error) {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return kernelOffsets{}, fmt.Errorf("reading the kernel's BTF (/sys/kernel/btf/vmlinux, CONFIG_DEBUG_INFO_BTF): %w", err)
	}
	var o kernelOffsets
	if o.seccompFilter, _, err = offsetOf(spec, "task_struct", "seccomp", "filter"); err != nil {
		return o, err
	}
	if o.filterPrev, _, err = offsetOf(spec, "seccomp_filter", "prev"); err != nil {
		return o, err
	}
	if o.threadStatus, o.threadInfoSize, err = offsetOf(spec, "task_struct", "thread_info", "status"); err != nil {
		return o, err
	}
	var pidSize uint32
	if o.pid, pidSize, err = offsetOf(spec, "task_struct", "pid"); err != nil {
		return o, err
	}
	if pidSize != 4 {
		return o, fmt.Errorf("task_struct.pid is %d bytes in this kernel's BTF, not 4", pidSize)
	}
	if o.threadInfoSize != 4 {
		return o, fmt.Errorf("task_struct.thread_info.status is %d bytes in this kernel's BTF, not 4", o.threadInfoSize)
	}
	return o, nil
}

// offsetOf walks nested struct members from the named struct and returns
// the byte offset and size of the last one.
func offsetOf(spec *btf.Spec, structName string, path ...string) (offset, size uint32, err error) {
	var s *btf.Struct
	if err := spec.TypeByName(structName, &s); err != nil {
		return 0, 0, fmt.Errorf("kernel BTF: struct %s: %w", structName, err)
	}
	var typ btf.Type = s
	for _, name := range path {
		st, ok := btf.UnderlyingType(typ).(*btf.Struct)
		if !ok {
			return 0, 0, fmt.Errorf("kernel BTF: %s.%v: %s is not a struct", structName, path, name)
		}
		found := false
		for _, m := range st.Members {
			if m.Name == name {
				if m.BitfieldSize != 0 || m.Offset%8 != 0 {
					return 0, 0, fmt.Errorf("kernel BTF: %s.%v: %s is a bitfield", structName, path, name)
				}
				offset += uint32(m.Offset.Bytes())
				typ = m.Type
				found = true
				break
			}
		}
		if !found {
			return 0, 0, fmt.Errorf("kernel BTF: %s has no member %v", structName, path)
		}
	}
	sz, err := btf.Sizeof(typ)
	if err != nil {
		return 0, 0, fmt.Errorf("kernel BTF: size of %s.%v: %w", structName, path, err)
	}
	return offset, uint32(sz), nil
}
