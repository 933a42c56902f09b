package node

import (
	"regexp"
	"strings"
)

// Layout is what a cgroup path says about the container it holds.
type Layout struct {
	// Engine is who made the cgroup: containerd, cri-o, podman, docker;
	// "" when the path is the kubelet's (cgroupfs driver) and does not say.
	Engine string `json:"engine,omitempty"`
	// ID is the container's id as its engine knows it.
	ID string `json:"id"`
	// PodUID is the Kubernetes Pod's uid when the path is under kubepods.
	PodUID string `json:"podUID,omitempty"`
	// Cgroup is the container's own cgroup: the path up to and including
	// the component that names it. Deeper cgroups (a container may make
	// its own) are the same container's.
	Cgroup string `json:"cgroup"`
}

var (
	hex64 = `[0-9a-f]{64}`
	// systemd scopes: cri-containerd-<id>.scope (containerd, systemd
	// driver), crio-<id>.scope (CRI-O), libpod-<id>.scope (podman),
	// docker-<id>.scope (Docker). crio-conmon-<id> and libpod-conmon-<id>
	// hold the monitor, not the container, and do not match.
	scopeRE = regexp.MustCompile(`^(cri-containerd|crio|libpod|docker)-(` + hex64 + `)\.scope$`)
	// cgroupfs: crio-<id> and libpod-<id> under their parents.
	prefixedRE = regexp.MustCompile(`^(crio|libpod)-(` + hex64 + `)$`)
	idRE       = regexp.MustCompile(`^` + hex64 + `$`)
	// The kubelet's Pod cgroups: pod<uid> (cgroupfs) or
	// kubepods[-<qos>]-pod<uid with _>.slice (systemd).
	podRE      = regexp.MustCompile(`^pod([0-9a-f-]{36})$`)
	podSliceRE = regexp.MustCompile(`^kubepods(?:-[a-z]+)?-pod([0-9a-f_]{36})\.slice$`)
)

var engineOfPrefix = map[string]string{"cri-containerd": "containerd", "crio": "cri-o", "libpod": "podman", "docker": "docker"}

// ParseLayout finds the container in a cgroup path, reading from the root
// down: the outermost component that names a container decides, so that
// a container cannot pass for another by making a cgroup named after it
// below its own.
func ParseLayout(path string) (Layout, bool) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	var pod string
	for i, p := range parts {
		cgroup := "/" + strings.Join(parts[:i+1], "/")
		if m := scopeRE.FindStringSubmatch(p); m != nil {
			return Layout{Engine: engineOfPrefix[m[1]], ID: m[2], PodUID: pod, Cgroup: cgroup}, true
		}
		if m := podSliceRE.FindStringSubmatch(p); m != nil {
			pod = strings.ReplaceAll(m[1], "_", "-")
			continue
		}
		if m := podRE.FindStringSubmatch(p); m != nil && underKubepods(parts[:i]) {
			pod = m[1]
			continue
		}
		if m := prefixedRE.FindStringSubmatch(p); m != nil && (pod != "" || (i > 0 && parts[i-1] == "libpod_parent")) {
			return Layout{Engine: engineOfPrefix[m[1]], ID: m[2], PodUID: pod, Cgroup: cgroup}, true
		}
		if idRE.MatchString(p) && pod != "" {
			// kubepods/<qos>/pod<uid>/<id>: containerd or cri-dockerd
			// with the cgroupfs driver; the path does not say which.
			return Layout{ID: p, PodUID: pod, Cgroup: cgroup}, true
		}
		if idRE.MatchString(p) {
			// /docker/<id>, or a runtime's default /<id> for an engine
			// that set no cgroup (containerd's CRI without a cgroup
			// parent): every engine names containers with 64 hex digits.
			l := Layout{ID: p, Cgroup: cgroup}
			if i > 0 && parts[i-1] == "docker" {
				l.Engine = "docker"
			}
			return l, true
		}
	}
	return Layout{}, false
}

func underKubepods(parents []string) bool {
	for _, p := range parents {
		if strings.HasPrefix(p, "kubepods") {
			return true
		}
	}
	return false
}

// cgroupLine is one line of /proc/PID/cgroup.
type cgroupLine struct {
	controllers string // "" for cgroup v2's unified hierarchy
	path        string
}

func parseCgroups(data string) []cgroupLine {
	var out []cgroupLine
	for _, line := range strings.Split(strings.TrimSpace(data), "\n") {
		// hierarchy-ID:controller-list:cgroup-path; the path may hold ':'.
		_, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		controllers, path, ok := strings.Cut(rest, ":")
		if ok {
			out = append(out, cgroupLine{controllers, path})
		}
	}
	return out
}

// containerOf reads a process's cgroups for a container layout: cgroup v2
// first, then systemd's named hierarchy, then the v1 controllers. A
// process's cgroups all name the same container, whichever hierarchy is
// read; they differ only where one hierarchy nests it under another
// parent (this machine's memory controller, say).
func containerOf(lines []cgroupLine) (Layout, bool) {
	for _, pass := range []func(cgroupLine) bool{
		func(l cgroupLine) bool { return l.controllers == "" },
		func(l cgroupLine) bool { return l.controllers == "name=systemd" },
		func(l cgroupLine) bool { return l.controllers != "" && l.controllers != "name=systemd" },
	} {
		for _, l := range lines {
			if pass(l) {
				if layout, ok := ParseLayout(l.path); ok {
					return layout, true
				}
			}
		}
	}
	return Layout{}, false
}

// mainCgroup is the path ps shows for a process: cgroup v2's when it is in
// one, else systemd's named hierarchy, else the first controller's.
func mainCgroup(lines []cgroupLine) string {
	var named, first string
	for _, l := range lines {
		switch {
		case l.controllers == "" && l.path != "/":
			return l.path
		case l.controllers == "name=systemd":
			named = l.path
		case first == "" && l.controllers != "":
			first = l.path
		}
	}
	if named != "" {
		return named
	}
	return first
}
