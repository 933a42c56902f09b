package filter

// #cgo pkg-config: libseccomp
// #include <seccomp.h>
import "C"

import (
	"fmt"

	libseccomp "github.com/seccomp/libseccomp-golang"
)

// LibseccompVersion is the version of the libseccomp linked in at run time.
// A static build carries its own copy, so it equals the build version there.
func LibseccompVersion() string {
	major, minor, micro := libseccomp.GetLibraryVersion()
	return fmt.Sprintf("%d.%d.%d", major, minor, micro)
}

// LibseccompBuildVersion is the version of the libseccomp headers sysgate was
// compiled against; it decides which libseccomp features the binary can use.
func LibseccompBuildVersion() string {
	return fmt.Sprintf("%d.%d.%d", C.SCMP_VER_MAJOR, C.SCMP_VER_MINOR, C.SCMP_VER_MICRO)
}
