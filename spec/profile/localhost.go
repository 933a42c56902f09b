package profile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/spec/refusal"
	"golang.org/x/sys/unix"
)

// LoadLocalhost opens a Localhost profile strictly inside root and parses
// it. The path has been checked lexically (CheckLocalhostPath); opening with
// RESOLVE_BENEATH also keeps symlinks, including ones in the middle of the
// path, from leading out of the root. It returns the full path it read, for
// error messages and the decision record. A profile in Docker's format
// with conditional rules is rendered for the container's bounding
// capability set on this node, as Docker would render it.
func LoadLocalhost(root, rel string, bounding []string) (string, *specs.LinuxSeccomp, error) {
	full := filepath.Join(root, rel)
	if err := CheckLocalhostPath(rel); err != nil {
		return full, nil, err
	}
	f, err := openBeneath(root, rel)
	if err != nil {
		return full, nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return full, nil, fmt.Errorf("reading %s: %w", full, err)
	}
	if len(data) > MaxSize {
		return full, nil, refusal.New(refusal.InvalidProfile, &ParseError{File: full, Problem: fmt.Sprintf("larger than %d bytes; seccomp profiles are a few tens of KB", MaxSize)})
	}
	t, err := ParseTemplate(data)
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			pe.File = full
		}
		return full, nil, refusal.New(refusal.InvalidProfile, err)
	}
	return full, t.Render(bounding, HostNode()), nil
}

func openBeneath(root, rel string) (*os.File, error) {
	full := filepath.Join(root, rel)
	dir, err := os.Open(root)
	if err != nil {
		return nil, fmt.Errorf("profile root %s: %w", root, err)
	}
	defer dir.Close()
	fd, err := unix.Openat2(int(dir.Fd()), rel, &unix.OpenHow{
		Flags:   openFlags,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	})
	switch {
	case err == nil:
	case errors.Is(err, unix.EXDEV):
		// RESOLVE_BENEATH refuses every absolute symlink, even one that
		// points back inside the root.
		return openResolvedBeneath(dir, root, rel)
	case errors.Is(err, unix.ENOSYS):
		return openBeneathFallback(root, rel)
	case errors.Is(err, unix.ENOENT):
		return nil, refusal.Errorf(refusal.BadInput, "%s does not exist; install the profile on this node under %s", full, root)
	default:
		return nil, fmt.Errorf("opening %s: %w", full, err)
	}
	f := os.NewFile(uintptr(fd), full)
	if err := checkRegular(f, full); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// openFlags open a profile for reading. O_NONBLOCK keeps a FIFO from
// blocking the open until a writer comes (checkRegular then refuses it); it
// changes nothing for a regular file.
const openFlags = unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOCTTY | unix.O_NONBLOCK

// openResolvedBeneath serves paths with absolute symlinks: it resolves the
// path, refuses it if the result lies outside the root, and otherwise opens
// the result beneath the root following no symlink at all, so that one
// swapped in meanwhile cannot lead out.
func openResolvedBeneath(dir *os.File, root, rel string) (*os.File, error) {
	full := filepath.Join(root, rel)
	realRoot, real, err := resolveUnderRoot(root, rel)
	if err != nil {
		return nil, err
	}
	fd, err := unix.Openat2(int(dir.Fd()), strings.TrimPrefix(real, realRoot+string(filepath.Separator)), &unix.OpenHow{
		Flags:   openFlags,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS,
	})
	if err != nil {
		return nil, fmt.Errorf("opening %s (resolved to %s): %w", full, real, err)
	}
	f := os.NewFile(uintptr(fd), full)
	if err := checkRegular(f, full); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// resolveUnderRoot resolves every symlink of root/rel and refuses a result
// outside the root.
func resolveUnderRoot(root, rel string) (realRoot, real string, err error) {
	full := filepath.Join(root, rel)
	if realRoot, err = filepath.EvalSymlinks(root); err != nil {
		return "", "", fmt.Errorf("profile root %s: %w", root, err)
	}
	if real, err = filepath.EvalSymlinks(full); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", "", refusal.Errorf(refusal.BadInput, "%s does not exist; install the profile on this node under %s", full, root)
		}
		return "", "", fmt.Errorf("resolving %s: %w", full, err)
	}
	if !strings.HasPrefix(real, realRoot+string(filepath.Separator)) {
		return "", "", refusal.Errorf(refusal.EscapingPath, "%s resolves to %s, outside the profile root %s (a symlink leads out of it); put the profile itself under the root", full, real, root)
	}
	return realRoot, real, nil
}

// openBeneathFallback serves kernels older than 5.6 (no openat2): resolve
// symlinks, then check the result is still under the root.
func openBeneathFallback(root, rel string) (*os.File, error) {
	full := filepath.Join(root, rel)
	_, real, err := resolveUnderRoot(root, rel)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(real, openFlags, 0)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", full, err)
	}
	if err := checkRegular(f, full); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func checkRegular(f *os.File, full string) error {
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%s: %w", full, err)
	}
	if !st.Mode().IsRegular() {
		return refusal.Errorf(refusal.EscapingPath, "%s is not a regular file", full)
	}
	return nil
}
