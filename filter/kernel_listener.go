package filter

import (
	"encoding/json"
	"fmt"
	"net"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// SendListener hands a user-notification fd to the agent listening at
// listenerPath, the way the OCI runtime spec says a runtime does: one
// connection carrying the container process state as JSON and the fd as
// SCM_RIGHTS.
func SendListener(listenerPath, metadata string, state specs.State, fd int) error {
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: listenerPath, Net: "unix"})
	if err != nil {
		return fmt.Errorf("listenerPath %s: connecting to the seccomp agent: %w", listenerPath, err)
	}
	defer conn.Close()
	msg, err := json.Marshal(specs.ContainerProcessState{
		Version:  specs.Version,
		Fds:      []string{specs.SeccompFdName},
		Pid:      os.Getpid(),
		Metadata: metadata,
		State:    state,
	})
	if err != nil {
		return err
	}
	if _, _, err := conn.WriteMsgUnix(msg, unix.UnixRights(fd), nil); err != nil {
		return fmt.Errorf("listenerPath %s: sending the seccomp fd: %w", listenerPath, err)
	}
	return nil
}
