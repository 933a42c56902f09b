package filter

// #cgo pkg-config: libseccomp
// #include <seccomp.h>
// static const unsigned sysgate_scmp_build_major = SCMP_VER_MAJOR;
// static const unsigned sysgate_scmp_build_minor = SCMP_VER_MINOR;
// static const unsigned sysgate_scmp_build_micro = SCMP_VER_MICRO;
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
	return fmt.Sprintf("%d.%d.%d", C.sysgate_scmp_build_major, C.sysgate_scmp_build_minor, C.sysgate_scmp_build_micro)
}
