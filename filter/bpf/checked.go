package bpf

// Checked is a program Check has accepted, to be run many times: Run checks
// the program on every call, which costs more than running it when a
// caller sweeps every syscall and argument sample through the same filter.
type Checked struct {
	insns []Instruction
}

// NewChecked checks the program once; it returns Check's error for a
// program the kernel would refuse.
func NewChecked(insns []Instruction) (*Checked, error) {
	if err := Check(insns); err != nil {
		return nil, err
	}
	return &Checked{insns: insns}, nil
}

// Instructions is the program.
func (c *Checked) Instructions() []Instruction { return c.insns }

// Run is the package's Run without the check.
func (c *Checked) Run(d SeccompData) (ret uint32, executed int, err error) {
	return run(c.insns, d)
}
