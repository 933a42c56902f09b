package record

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Output is where one recording's profile goes, held under a lock from
// before the workload starts until the profile is written: a second
// recording of the same name fails at once instead of racing the first
// to the rename, and a directory that cannot be written fails before
// anything runs.
type Output struct {
	Path string // the finished name, e.g. recordings/ns/pod/ctr.json
	lock *os.File
}

// IncompletePath is where a recording that lost calls is written: never
// the finished name, so nothing takes it for a complete profile.
func IncompletePath(path string) string {
	return strings.TrimSuffix(path, ".json") + ".incomplete.json"
}

// Open takes the lock "<path>.lock" (creating the directory if needed).
func Open(path string) (*Output, error) {
	if path == "" {
		return nil, errors.New("no output file named")
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("recording directory %s: %w; name a directory this user can write", dir, err)
	}
	lockPath := path + ".lock"
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("recording %s: cannot create its lock %s: %w; name a directory this user can write", path, lockPath, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(lockPath)
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("recording %s: another recording of the same name is in progress (%s); give this one another name or stop that one first", path, strings.TrimSpace(string(holder)))
		}
		return nil, fmt.Errorf("recording %s: locking %s: %w", path, lockPath, err)
	}
	f.Truncate(0)
	fmt.Fprintf(f, "pid %d\n", os.Getpid())
	// A probe write, so that a directory that takes the lock but not a
	// file (a full disk) fails now rather than after the workload ran.
	probe, err := os.CreateTemp(dir, ".sysgate-record-*")
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("recording %s: the directory is not writable: %w", path, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	return &Output{Path: path, lock: f}, nil
}

// Write puts data under the finished name, or the incomplete one, through
// a temporary file in the same directory, synced, then renamed: a reader
// sees the whole profile or none. It returns the name written.
func (o *Output) Write(data []byte, incomplete bool) (string, error) {
	target := o.Path
	if incomplete {
		target = IncompletePath(o.Path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), ".sysgate-record-*")
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", target, err)
	}
	defer os.Remove(tmp.Name()) // gone after a rename; cleans up otherwise
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return "", fmt.Errorf("writing %s: %w", target, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return "", fmt.Errorf("writing %s: %w", target, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("writing %s: %w", target, err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("writing %s: %w", target, err)
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return "", fmt.Errorf("writing %s: %w", target, err)
	}
	return target, nil
}

// Close releases the lock.
func (o *Output) Close() error {
	if o.lock == nil {
		return nil
	}
	os.Remove(o.lock.Name())
	err := o.lock.Close()
	o.lock = nil
	return err
}
