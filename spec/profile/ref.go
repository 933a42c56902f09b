package profile

import (
	"path"
	"strings"

	"github.com/sysgate/sysgate/spec/refusal"
)

// Type is the Kubernetes seccomp profile type a decision ends in.
type Type string

const (
	TypeRuntimeDefault Type = "RuntimeDefault"
	TypeLocalhost      Type = "Localhost"
	TypeUnconfined     Type = "Unconfined"
	// Rendered is a profile the CRI or client already put in the bundle
	// that is not the RuntimeDefault profile (a Localhost profile rendered by
	// containerd, or podman's own default).
	TypeRendered Type = "Rendered"
)

// Ref is a profile named the way annotations and the policy name
// it: "runtime/default", "docker/default", "unconfined" or
// "localhost/<relative path>".
type Ref struct {
	Type Type
	// Path is the Localhost profile's path relative to the profile root.
	Path string
}

func (r Ref) String() string {
	switch r.Type {
	case TypeLocalhost:
		return "localhost/" + r.Path
	case TypeUnconfined:
		return "unconfined"
	}
	return "runtime/default"
}

// ParseRef reads a profile reference. Localhost paths must stay
// inside the profile root, as the Kubernetes API requires of
// localhostProfile: relative, without "..".
func ParseRef(s string) (Ref, error) {
	switch s {
	case "runtime/default", "docker/default":
		return Ref{Type: TypeRuntimeDefault}, nil
	case "unconfined":
		return Ref{Type: TypeUnconfined}, nil
	}
	rel, ok := strings.CutPrefix(s, "localhost/")
	if !ok {
		return Ref{}, refusal.Errorf(refusal.BadInput, "%q is not a seccomp profile; use runtime/default, docker/default, unconfined or localhost/<path relative to the profile root>", s)
	}
	if err := CheckLocalhostPath(rel); err != nil {
		return Ref{}, err
	}
	return Ref{Type: TypeLocalhost, Path: rel}, nil
}

// CheckLocalhostPath refuses what the Kubernetes API refuses in
// localhostProfile, plus NUL bytes: the symlink check happens when the file
// is opened.
func CheckLocalhostPath(rel string) error {
	switch {
	case rel == "":
		return refusal.Errorf(refusal.BadInput, "localhost profile path is empty; name a file relative to the profile root, e.g. localhost/profiles/audit.json")
	case strings.ContainsRune(rel, 0):
		return refusal.Errorf(refusal.BadInput, "localhost profile path %q contains a NUL byte", rel)
	case path.IsAbs(rel):
		return refusal.Errorf(refusal.EscapingPath, "localhost profile path %q must be relative to the profile root, not absolute", rel)
	}
	for _, elem := range strings.Split(rel, "/") {
		if elem == ".." {
			return refusal.Errorf(refusal.EscapingPath, "localhost profile path %q must not contain \"..\"", rel)
		}
	}
	return nil
}
