// The passthrough fast path. containerd's shim calls the runtime for state,
// kill, delete and more many times per container; sysgate has nothing to do
// there but hand over. Doing that from a constructor, before the Go runtime
// and its packages initialise, makes a passthrough cost one extra execve.
//
// Anything this code is not sure about (create and run, a policy file it
// cannot read with certainty, a relative runtime path, a failed exec) falls
// back to the Go code, which does the same with full checks and errors.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define POLICY_DEFAULT "/etc/sysgate/config.toml"
#define POLICY_MAX 65536

// Global options of runc and crun that take a value (shim/cli.go has the
// same list).
static const char *const value_flags[] = {
	"root", "log", "log-format", "log-level", "criu", "rootless", "cgroup-manager", NULL,
};

static int takes_value(const char *name) {
	for (int i = 0; value_flags[i]; i++)
		if (strcmp(name, value_flags[i]) == 0)
			return 1;
	return 0;
}

// command returns the runtime subcommand, or NULL when there is none.
static const char *command(int argc, char **argv) {
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-' || a[1] == '\0' || strcmp(a, "--") == 0)
			return a;
		const char *name = a + strspn(a, "-");
		if (strchr(name, '='))
			continue;
		if (takes_value(name))
			i++;
	}
	return NULL;
}

// quoted parses a TOML basic or literal string without escapes at *p, and
// requires only a comment or blank after it.
static int quoted(const char *p, char *out, size_t size) {
	char q = *p;
	if (q != '"' && q != '\'')
		return 0;
	const char *end = strchr(p + 1, q);
	if (!end || (size_t)(end - p - 1) >= size || memchr(p + 1, '\\', end - p - 1))
		return 0;
	memcpy(out, p + 1, end - p - 1);
	out[end - p - 1] = '\0';
	for (p = end + 1; *p == ' ' || *p == '\t'; p++)
		;
	return *p == '\0' || *p == '#';
}

// policy_runtime finds the top-level `runtime = "..."` key; 0 if it cannot
// be sure (missing key, a duplicate, an unusual form).
static int policy_runtime(char *out, size_t size) {
	const char *path = getenv("SYSGATE_CONFIG");
	if (!path || !*path)
		path = POLICY_DEFAULT;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	static char buf[POLICY_MAX + 1];
	ssize_t n = read(fd, buf, POLICY_MAX + 1);
	close(fd);
	if (n <= 0 || n > POLICY_MAX || memchr(buf, '\0', n))
		return 0;
	buf[n] = '\0';
	int found = 0;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		line += strspn(line, " \t");
		char *cr = strchr(line, '\r');
		if (cr)
			*cr = '\0';
		if (*line == '[')
			break;
		if (strncmp(line, "runtime", 7) != 0)
			continue;
		char *p = line + 7;
		p += strspn(p, " \t");
		if (*p != '=')
			continue; // another key, e.g. runtime_default
		p++;
		p += strspn(p, " \t");
		if (found || !quoted(p, out, size))
			return 0;
		found = 1;
	}
	return found && out[0] == '/';
}

__attribute__((constructor)) static void sysgate_fastpath(int argc, char **argv, char **envp) {
	if (argc < 2 || !argv || getenv("SYSGATE_NO_FASTPATH"))
		return;
	const char *cmd = command(argc, argv);
	if (!cmd || strcmp(cmd, "create") == 0 || strcmp(cmd, "run") == 0)
		return;
	static char runtime[4096];
	if (!policy_runtime(runtime, sizeof runtime))
		return;
	argv[0] = runtime;
	execve(runtime, argv, envp);
	// Fall through: the Go code reports the failure properly.
}
