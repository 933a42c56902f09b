package node

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// RuntimeState is what a runtime's state directory says about one of its
// containers.
type RuntimeState struct {
	Runtime string // runc, crun, containerd
	ID      string
	PID     int
	// StartTicks is the init's start time as the runtime recorded it; 0
	// when it did not.
	StartTicks uint64
	Bundle     string
}

// DefaultStateRoots are where runc, crun and containerd keep their state
// when nobody said otherwise: runc's and crun's defaults (also CRI-O's and
// podman's), containerd's runc root per namespace, and containerd's task
// directories (the bundle, with init.pid). Globs are expanded.
var DefaultStateRoots = []StateRoot{
	{"runc", "/run/runc"},
	{"crun", "/run/crun"},
	{"runc", "/run/containerd/runc/*"},
	{"containerd", "/run/containerd/io.containerd.runtime.v2.task/*"},
}

// StateRoot is one runtime's state directory.
type StateRoot struct {
	Runtime string
	Dir     string
}

// ReadRuntimeStates reads every container's state under the roots;
// unreadable ones are skipped. The roots are root's own directories,
// written by the runtimes, never by a container.
func ReadRuntimeStates(roots []StateRoot) []RuntimeState {
	var out []RuntimeState
	for _, root := range roots {
		dirs, _ := filepath.Glob(root.Dir)
		for _, dir := range dirs {
			entries, err := os.ReadDir(dir)
			if err != nil {
				continue
			}
			for _, e := range entries {
				if !e.IsDir() {
					continue
				}
				if s, ok := readState(root.Runtime, filepath.Join(dir, e.Name()), e.Name()); ok {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// maxStateFile bounds a state file: runc's state.json holds the whole
// libcontainer config, tens of KB.
const maxStateFile = 4 << 20

func readState(runtime, dir, id string) (RuntimeState, bool) {
	s := RuntimeState{Runtime: runtime, ID: id}
	switch runtime {
	case "runc":
		var st struct {
			PID    int    `json:"init_process_pid"`
			Start  uint64 `json:"init_process_start"`
			Config struct {
				Labels []string `json:"labels"`
			} `json:"config"`
		}
		if !readJSON(filepath.Join(dir, "state.json"), &st) {
			return s, false
		}
		s.PID, s.StartTicks = st.PID, st.Start
		for _, l := range st.Config.Labels {
			if b, ok := strings.CutPrefix(l, "bundle="); ok {
				s.Bundle = b
			}
		}
	case "crun":
		var st struct {
			PID    int    `json:"pid"`
			Start  uint64 `json:"process-start-time"`
			Bundle string `json:"bundle"`
		}
		if !readJSON(filepath.Join(dir, "status"), &st) {
			return s, false
		}
		s.PID, s.StartTicks, s.Bundle = st.PID, st.Start, st.Bundle
	case "containerd":
		data, err := os.ReadFile(filepath.Join(dir, "init.pid"))
		if err != nil {
			return s, false
		}
		if s.PID, err = strconv.Atoi(strings.TrimSpace(string(data))); err != nil {
			return s, false
		}
		s.Bundle = dir
	}
	return s, s.PID > 0
}

func readJSON(path string, v any) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || st.Size() > maxStateFile {
		return false
	}
	return json.NewDecoder(f).Decode(v) == nil
}

// JoinRuntimeStates names the containers whose init a runtime's state
// names, and records the runtime and the bundle. A state matches only
// its own init: the same pid and, where the runtime recorded it, the same
// start time, so that a pid reused since is not taken for the container.
// An id the cgroup path already gave is kept; a runtime that disagrees
// with it is ignored.
func (s *Scan) JoinRuntimeStates(states []RuntimeState) {
	byPID := map[int]*Container{}
	for _, c := range s.Containers {
		byPID[c.Init.TID] = c
	}
	for _, st := range states {
		c := byPID[st.PID]
		if c == nil || (st.StartTicks != 0 && st.StartTicks != c.Init.StartTicks) {
			continue
		}
		if c.ID != "" && c.ID != st.ID {
			continue
		}
		c.ID, c.Runtime, c.Bundle = st.ID, st.Runtime, st.Bundle
	}
}
