package observe

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// ABI indexes the per-ABI sections of the count map.
type ABI int

const (
	X86_64 ABI = iota
	X86        // i386, through int $0x80 or sysenter
	X32
	numABIs
)

func (a ABI) String() string {
	switch a {
	case X86_64:
		return "x86_64"
	case X86:
		return "x86"
	case X32:
		return "x32"
	}
	return "unknown"
}

// SlotsPerABI: numbers 0..NrBound-1 each have a slot; every number at or
// above NrBound (and negative ones) shares the last.
const (
	NrBound     = 1024
	SlotsPerABI = NrBound + 1
	countSlots  = int(numABIs) * SlotsPerABI

	x32SyscallBit = 0x40000000
	tsCompat      = 0x0002 // arch/x86/include/asm/thread_info.h; set only during an i386 syscall
	maxTasks      = 65536

	taskFollowed = 1 // in the tree, filter not yet seen deeper than the base
	taskFiltered = 2 // in the tree and under a filter stacked after Start
)

// maps are one recording's kernel state.
type maps struct {
	tasks  *ebpf.Map // hash u32 tid -> u32 1: the tasks of the tree
	counts *ebpf.Map // per-CPU array: abi*SlotsPerABI + nr -> u64 calls
	lost   *ebpf.Map // array of 1 u64: calls or tasks that could not be counted
}

func newMaps() (*maps, error) {
	tasks, err := ebpf.NewMap(&ebpf.MapSpec{Name: "sg_rec_tasks", Type: ebpf.Hash, KeySize: 4, ValueSize: 4, MaxEntries: maxTasks})
	if err != nil {
		return nil, err
	}
	counts, err := ebpf.NewMap(&ebpf.MapSpec{Name: "sg_rec_counts", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: uint32(countSlots)})
	if err != nil {
		tasks.Close()
		return nil, err
	}
	lost, err := ebpf.NewMap(&ebpf.MapSpec{Name: "sg_rec_lost", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	if err != nil {
		tasks.Close()
		counts.Close()
		return nil, err
	}
	return &maps{tasks: tasks, counts: counts, lost: lost}, nil
}

func (m *maps) Close() {
	m.tasks.Close()
	m.counts.Close()
	m.lost.Close()
}

// Stack slots (offsets from the frame pointer).
const (
	slotKey   = -4
	slotKey2  = -8
	slotValue = -12
	slotRead  = -24 // 8 bytes
)

// lostTail counts one loss and exits; jumped to as "lost".
func lostTail(m *maps) asm.Instructions {
	return asm.Instructions{
		asm.StoreImm(asm.RFP, slotKey, 0, asm.Word).WithSymbol("lost"),
		asm.LoadMapPtr(asm.R1, m.lost.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, slotKey),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.Mov.Imm(asm.R1, 1),
		asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
		asm.Return(),
	}
}

// lookupCurrent leaves in R0 the tasks entry of the current thread, or
// jumps to out when it is not in the tree.
func lookupCurrent(m *maps) asm.Instructions {
	return asm.Instructions{
		asm.FnGetCurrentPidTgid.Call(),
		asm.StoreMem(asm.RFP, slotKey, asm.R0, asm.Word),
		asm.LoadMapPtr(asm.R1, m.tasks.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, slotKey),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
	}
}

// readKernel reads size bytes at src+off into slotRead; a failure is a loss.
func readKernel(src asm.Register, off int32, size int32) asm.Instructions {
	return asm.Instructions{
		asm.Mov.Reg(asm.R3, src),
		asm.Add.Imm(asm.R3, off),
		asm.Mov.Reg(asm.R1, asm.RFP),
		asm.Add.Imm(asm.R1, slotRead),
		asm.Mov.Imm(asm.R2, size),
		asm.FnProbeReadKernel.Call(),
		asm.JNE.Imm(asm.R0, 0, "lost"),
	}
}

// sysEnter is the raw sys_enter program (ctx: regs, id). baseDepth is how
// many filters the root held at Start: a task is counted once its filter
// chain is longer, which its entry then remembers (taskFiltered) so that
// later calls skip the walk.
func sysEnter(m *maps, o kernelOffsets, baseDepth int) asm.Instructions {
	insns := asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1)}
	insns = append(insns, lookupCurrent(m)...)
	insns = append(insns,
		asm.Mov.Reg(asm.R9, asm.R0),               // the task's entry: taskFiltered once it holds a new filter
		asm.LoadMem(asm.R7, asm.R6, 8, asm.DWord), // id
		asm.FnGetCurrentTask.Call(),
		asm.Mov.Reg(asm.R8, asm.R0),
		asm.LoadMem(asm.R1, asm.R9, 0, asm.Word),
		asm.JEq.Imm(asm.R1, taskFiltered, "abi"),
	)
	// Not yet known to be filtered: walk its filter chain past the base
	// depth. Filters are never removed, so once deeper, always deeper.
	insns = append(insns, readKernel(asm.R8, int32(o.seccompFilter), 8)...)
	insns = append(insns, asm.LoadMem(asm.R2, asm.RFP, slotRead, asm.DWord))
	for range baseDepth {
		insns = append(insns, asm.JEq.Imm(asm.R2, 0, "out"))
		insns = append(insns, readKernel(asm.R2, int32(o.filterPrev), 8)...)
		insns = append(insns, asm.LoadMem(asm.R2, asm.RFP, slotRead, asm.DWord))
	}
	insns = append(insns,
		asm.JEq.Imm(asm.R2, 0, "out"),
		asm.StoreImm(asm.R9, 0, taskFiltered, asm.Word),
		// The ABI.
		asm.Mov.Reg(asm.R1, asm.R7).WithSymbol("abi"),
		asm.And.Imm(asm.R1, x32SyscallBit),
		asm.JEq.Imm(asm.R1, 0, "native_or_i386"),
		asm.And.Imm(asm.R7, ^x32SyscallBit),
		asm.Mov.Imm(asm.R9, int32(X32)*SlotsPerABI),
		asm.Ja.Label("slot"),
	)
	status := readKernel(asm.R8, int32(o.threadStatus), 4)
	status[0] = status[0].WithSymbol("native_or_i386")
	insns = append(insns, status...)
	insns = append(insns,
		asm.Mov.Imm(asm.R9, int32(X86_64)*SlotsPerABI),
		asm.LoadMem(asm.R1, asm.RFP, slotRead, asm.Word),
		asm.And.Imm(asm.R1, tsCompat),
		asm.JEq.Imm(asm.R1, 0, "slot"),
		asm.Mov.Imm(asm.R9, int32(X86)*SlotsPerABI),
		// The slot: numbers past the bound (and negative ones) share one.
		asm.JLT.Imm(asm.R7, NrBound, "in_bound").WithSymbol("slot"),
		asm.Mov.Imm(asm.R7, NrBound),
		asm.Add.Reg(asm.R9, asm.R7).WithSymbol("in_bound"),
		asm.StoreMem(asm.RFP, slotKey, asm.R9, asm.Word),
		asm.LoadMapPtr(asm.R1, m.counts.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, slotKey),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "lost"),
		// Per-CPU and run with migration off: a plain add is exact.
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
		asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord),
		asm.Ja.Label("out"),
	)
	return append(insns, lostTail(m)...)
}

// addTask puts the tid at slotKey2 into the tree with the state at
// slotValue; a full table is a loss.
func addTask(m *maps) asm.Instructions {
	return asm.Instructions{
		asm.LoadMapPtr(asm.R1, m.tasks.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, slotKey2),
		asm.Mov.Reg(asm.R3, asm.RFP),
		asm.Add.Imm(asm.R3, slotValue),
		asm.Mov.Imm(asm.R4, 0), // BPF_ANY
		asm.FnMapUpdateElem.Call(),
		asm.JNE.Imm(asm.R0, 0, "lost"),
	}
}

// processFork (ctx: parent, child) adds a new task or thread of the tree
// before it first runs (the tracepoint fires before wake_up_new_task).
func processFork(m *maps, pidOffset uint32) asm.Instructions {
	insns := asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1)}
	insns = append(insns, lookupCurrent(m)...)
	insns = append(insns,
		// A child inherits its parent's filters, and so its state.
		asm.LoadMem(asm.R1, asm.R0, 0, asm.Word),
		asm.StoreMem(asm.RFP, slotValue, asm.R1, asm.Word),
		asm.LoadMem(asm.R7, asm.R6, 8, asm.DWord),
	)
	insns = append(insns, readKernel(asm.R7, int32(pidOffset), 4)...)
	insns = append(insns,
		asm.LoadMem(asm.R1, asm.RFP, slotRead, asm.Word),
		asm.StoreMem(asm.RFP, slotKey2, asm.R1, asm.Word),
	)
	insns = append(insns, addTask(m)...)
	insns = append(insns, asm.Ja.Label("out"))
	return append(insns, lostTail(m)...)
}

// processExec (ctx: task, old_pid, bprm): a thread other than the leader
// that execs takes the leader's id (de_thread), after the leader's exit
// removed that id; the new id joins the tree and the old one leaves it.
func processExec(m *maps) asm.Instructions {
	insns := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.LoadMem(asm.R7, asm.R6, 8, asm.DWord),
		asm.StoreMem(asm.RFP, slotKey, asm.R7, asm.Word),
		asm.LoadMapPtr(asm.R1, m.tasks.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, slotKey),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.Word), // exec keeps the filters
		asm.StoreMem(asm.RFP, slotValue, asm.R1, asm.Word),
		asm.FnGetCurrentPidTgid.Call(),
		asm.StoreMem(asm.RFP, slotKey2, asm.R0, asm.Word),
		asm.LoadMem(asm.R1, asm.RFP, slotKey, asm.Word),
		asm.LoadMem(asm.R2, asm.RFP, slotKey2, asm.Word),
		asm.JEq.Reg(asm.R1, asm.R2, "out"),
	}
	insns = append(insns, addTask(m)...)
	insns = append(insns,
		asm.LoadMapPtr(asm.R1, m.tasks.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, slotKey),
		asm.FnMapDeleteElem.Call(),
		asm.Ja.Label("out"),
	)
	return append(insns, lostTail(m)...)
}

// processExit removes the exiting thread, so that its id, once reused,
// does not bring a stranger into the tree.
func processExit(m *maps) asm.Instructions {
	return asm.Instructions{
		asm.FnGetCurrentPidTgid.Call(),
		asm.StoreMem(asm.RFP, slotKey, asm.R0, asm.Word),
		asm.LoadMapPtr(asm.R1, m.tasks.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, slotKey),
		asm.FnMapDeleteElem.Call(),
		asm.Mov.Imm(asm.R0, 0),
		asm.Return(),
	}
}
