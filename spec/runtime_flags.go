package spec

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// FlagLog is the seccomp flag that makes the kernel emit an audit record
// (type 1326) for every ERRNO, TRAP, KILL and NOTIFY outcome, not only
// LOG and KILL: the flag log_denials adds.
const FlagLog = "SECCOMP_FILTER_FLAG_LOG"

// NoFlagsNote is what every place showing denials says when the runtime
// takes no seccomp flags (runc 1.1), so that an absent ERRNO denial is not
// read as "nothing was denied".
const NoFlagsNote = "runc 1.1 reports only LOG and KILL outcomes"

// runtimeFlagInfo is what the runtime says about seccomp flags.
type runtimeFlagInfo struct {
	takesLog bool
	why      string // when not: what the runtime said
}

var runtimeFlags struct {
	sync.Mutex
	byStamp map[string]runtimeFlagInfo
}

var runcVersion = regexp.MustCompile(`(?m)^runc version ([0-9]+)\.([0-9]+)`)

// RuntimeTakesLogFlag reports whether the real runtime passes
// SECCOMP_FILTER_FLAG_LOG from the profile's flags to the kernel. runc 1.1
// refuses every flag ("seccomp flags are not yet supported by runc"), so
// adding it there would fail every create; runc ≥ 1.2 lists the flags it
// knows in `runc features` (linux.seccomp.supportedFlags); crun has taken
// the flag since long before the versions sysgate supports. Anything else,
// or a runtime that cannot be asked, gets no flag: leaving it out costs
// visibility, adding it could cost the container. The answer is memoised
// per binary (path, size, mtime, inode): the helper asks once, and
// sysgate-runc, a process per create, reads the answer from the policy's
// cache directory (asking runc costs some 50 ms here, more than the rest of
// a create).
func (p Policy) RuntimeTakesLogFlag() (bool, string) {
	// Handed the program, crun loads it with the flags sysgate compiled
	// in, whatever the runtime binary would say. Answered before the memo,
	// which is keyed by the binary alone: the NRI plugin plans crun
	// handlers (nri_crun_handlers) and runc handlers under one policy
	// runtime, and a crun answer kept for runc's binary made every later
	// runc 1.1 create fail ("seccomp flags are not yet supported").
	if p.HandsOverBPF() {
		return true, ""
	}
	st, err := os.Stat(p.Runtime)
	if err != nil {
		return false, "the runtime " + p.Runtime + " cannot be examined: " + err.Error()
	}
	stamp := fmt.Sprintf("%s\x00%d\x00%d", p.Runtime, st.ModTime().UnixNano(), st.Size())
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		stamp += fmt.Sprintf("\x00%d:%d", sys.Dev, sys.Ino)
	}
	runtimeFlags.Lock()
	defer runtimeFlags.Unlock()
	if info, ok := runtimeFlags.byStamp[stamp]; ok {
		return info.takesLog, info.why
	}
	info, ok := p.readFlagsMemo(stamp)
	if !ok {
		info = p.askRuntimeFlags()
		p.writeFlagsMemo(stamp, info)
	}
	if runtimeFlags.byStamp == nil {
		runtimeFlags.byStamp = map[string]runtimeFlagInfo{}
	}
	runtimeFlags.byStamp[stamp] = info
	return info.takesLog, info.why
}

func (p Policy) askRuntimeFlags() runtimeFlagInfo {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, p.Runtime, "--version").Output()
	if err != nil {
		return runtimeFlagInfo{why: p.Runtime + " --version failed: " + err.Error()}
	}
	if bytes.HasPrefix(out, []byte("crun version ")) {
		// crun behind runtime_kind = "runc" (no handoff) reads the JSON's
		// flags itself.
		return runtimeFlagInfo{takesLog: true}
	}
	if m := runcVersion.FindSubmatch(out); m != nil && string(m[1]) == "1" && len(m[2]) == 1 && m[2][0] <= '1' {
		return runtimeFlagInfo{why: NoFlagsNote + " (" + string(bytes.TrimSpace(firstLine(out))) + " refuses seccomp flags)"}
	}
	out, err = exec.CommandContext(ctx, p.Runtime, "features").Output()
	if err != nil {
		return runtimeFlagInfo{why: p.Runtime + " features failed: " + err.Error()}
	}
	var features struct {
		Linux struct {
			Seccomp struct {
				SupportedFlags []string `json:"supportedFlags"`
			} `json:"seccomp"`
		} `json:"linux"`
	}
	if err := json.Unmarshal(out, &features); err != nil {
		return runtimeFlagInfo{why: p.Runtime + " features: " + err.Error()}
	}
	if !slices.Contains(features.Linux.Seccomp.SupportedFlags, FlagLog) {
		return runtimeFlagInfo{why: p.Runtime + " features does not list " + FlagLog}
	}
	return runtimeFlagInfo{takesLog: true}
}

func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i]
	}
	return b
}

// flagsMemoPath is where the answer for a runtime binary is kept: in the
// cache directory, which only root may write (CheckTrusted).
func (p Policy) flagsMemoPath(stamp string) string {
	if p.CacheDir == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(stamp))
	return filepath.Join(p.CacheDir, "runtime-flags-"+hex.EncodeToString(sum[:12]))
}

func (p Policy) readFlagsMemo(stamp string) (runtimeFlagInfo, bool) {
	path := p.flagsMemoPath(stamp)
	if path == "" {
		return runtimeFlagInfo{}, false
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return runtimeFlagInfo{}, false
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return runtimeFlagInfo{}, false
	}
	// The stamp is inside: a memo renamed to another runtime's name is
	// not taken for it.
	parts := strings.SplitN(string(data), "\n", 3)
	if len(parts) != 3 || parts[0] != stamp || (parts[1] != "yes" && parts[1] != "no") {
		return runtimeFlagInfo{}, false
	}
	return runtimeFlagInfo{takesLog: parts[1] == "yes", why: parts[2]}, true
}

// writeFlagsMemo stores the answer atomically; a failure only means
// asking again next time.
func (p Policy) writeFlagsMemo(stamp string, info runtimeFlagInfo) {
	path := p.flagsMemoPath(stamp)
	if path == "" || strings.Contains(stamp, "\n") || os.MkdirAll(p.CacheDir, 0o700) != nil {
		return
	}
	answer := "no"
	if info.takesLog {
		answer = "yes"
	}
	tmp, err := os.CreateTemp(p.CacheDir, ".runtime-flags-*")
	if err != nil {
		return
	}
	_, err = tmp.WriteString(stamp + "\n" + answer + "\n" + info.why)
	if closeErr := tmp.Close(); err == nil && closeErr == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
}
