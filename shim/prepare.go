package shim

import "github.com/sysgate/sysgate/spec"

// Prepare decides a container's profile and rewrites its bundle, dir
// resolved from the working directory (spec.Prepare). Nothing is written
// until every check has passed, so on error config.json is what the caller
// gave. The containerd shim calls this before it creates the task.
func Prepare(dir, id string, policy spec.Policy, warn func(string)) (spec.Decision, error) {
	d, _, err := spec.Prepare(nil, dir, id, policy, warn)
	return d, err
}
