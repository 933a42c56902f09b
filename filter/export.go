package filter

import (
	"fmt"
	"io"
	"os"

	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	"github.com/sysgate/sysgate/filter/bpf"
)

// exportBPF asks libseccomp for the program. ExportBPFMem needs libseccomp
// 2.6 (Debian 12 ships 2.5.4), so the program goes through a memfd, which,
// unlike a pipe, cannot fill up and deadlock on a large filter.
func exportBPF(f *libseccomp.ScmpFilter) ([]bpf.Instruction, error) {
	fd, err := unix.MemfdCreate("sysgate-bpf", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd_create for exporting the filter: %w", err)
	}
	mem := os.NewFile(uintptr(fd), "sysgate-bpf")
	defer mem.Close()
	if err := f.ExportBPF(mem); err != nil {
		return nil, fmt.Errorf("libseccomp: exporting the filter: %w", err)
	}
	if _, err := mem.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("rewinding the exported filter: %w", err)
	}
	raw, err := io.ReadAll(mem)
	if err != nil {
		return nil, fmt.Errorf("reading the exported filter: %w", err)
	}
	return bpf.Decode(raw)
}
