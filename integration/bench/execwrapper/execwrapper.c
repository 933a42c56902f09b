// An OCI runtime wrapper that does nothing but exec the runtime it was
// built for: what the BinaryName contract alone costs (one execve per
// runtime call), and so the least any wrapper, sysgate-runc included, can
// add. `make bench` builds it with the runtime's absolute path in RUNTIME.
#include <unistd.h>

int main(int argc, char **argv, char **envp) {
	(void)argc;
	argv[0] = RUNTIME;
	execve(RUNTIME, argv, envp);
	return 127;
}
