// The fast paths, run from a constructor before the Go runtime and its
// packages initialise.
//
// Passthrough: containerd's shim calls the runtime for state, kill, delete
// and more many times per container; sysgate has nothing to do there but
// hand over, which then costs one extra execve.
//
// Helper: for create and run, a resident helper (`sysgate helper`, see
// shim/helper.go) that already runs the Go code can rewrite the bundle; this
// side sends it the command line and waits for "ok" and the runtime to exec.
// That saves starting the Go runtime and warming its decoders on every
// container start.
//
// Anything this code is not sure about (create and run, a policy file it
// cannot read with certainty, a relative runtime path, a failed exec) falls
// back to the Go code, which does the same with full checks and errors.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define POLICY_DEFAULT "/etc/sysgate/config.toml"
#define POLICY_MAX 65536

// shim/helper_protocol.go has the other side of these.
#define HELPER_SOCKET_DEFAULT "/run/sysgate/helper.sock"
#define HELPER_PROTOCOL "sysgate-helper/1"
#define REQUEST_MAX 65536
// A helper that does not answer in time costs this much once per create;
// then sysgate-runc does the work itself.
#define HELPER_TIMEOUT_SECONDS 5

// Global options of runc and crun, by their exact names: those that take a
// value, and switches (shim/cli.go has the same lists, and a test there
// keeps them equal). Anything else, such as crun's abbreviations ("--roo"
// is its --root), is left to the Go code, which refuses it.
static const char *const value_flags[] = {
	"root", "log", "log-format", "log-level", "criu", "rootless", "cgroup-manager", NULL,
};
static const char *const switch_flags[] = {
	"debug", "systemd-cgroup", "help", "h", "version", "v", NULL,
};

static int in_list(const char *const *list, const char *name, size_t len) {
	for (int i = 0; list[i]; i++)
		if (strlen(list[i]) == len && strncmp(name, list[i], len) == 0)
			return 1;
	return 0;
}

// command returns the runtime subcommand, or NULL when there is none or the
// options before it are not all known exactly.
static const char *command(int argc, char **argv) {
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-' || a[1] == '\0' || strcmp(a, "--") == 0)
			return a;
		const char *name = a + strspn(a, "-");
		const char *eq = strchr(name, '=');
		if (eq) {
			if (a[1] != '-' || !in_list(value_flags, name, eq - name))
				return NULL;
			continue;
		}
		if (in_list(value_flags, name, strlen(name)))
			i++;
		else if (!in_list(switch_flags, name, strlen(name)))
			return NULL;
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

static const char *policy_path(void) {
	const char *path = getenv("SYSGATE_CONFIG");
	return path && *path ? path : POLICY_DEFAULT;
}

// policy_runtime finds the top-level `runtime = "..."` key; 0 if it cannot
// be sure (missing key, a duplicate, an unusual form).
// trusted mirrors spec.CheckTrustedPath for the policy file: it and every
// directory above it owned by root (or this user) and writable by nobody
// else, sticky directories above it excepted. Anything it is unsure of
// (symlinks on the way, a relative path) is left to the Go code.
static int trusted(const char *path) {
	if (path[0] != '/' || strlen(path) >= 4096)
		return 0;
	char p[4096];
	strcpy(p, path);
	for (int first = 1;; first = 0) {
		struct stat st;
		if (lstat(p, &st) != 0 || S_ISLNK(st.st_mode))
			return 0;
		if (st.st_uid != 0 && st.st_uid != geteuid())
			return 0;
		if ((st.st_mode & 022) && (first || !(S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX))))
			return 0;
		if (strcmp(p, "/") == 0)
			return 1;
		char *slash = strrchr(p, '/');
		if (slash == p)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
}

static int policy_runtime(char *out, size_t size) {
	if (!trusted(policy_path()))
		return 0;
	int fd = open(policy_path(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
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

static int append_field(char *buf, size_t *len, const char *s) {
	size_t n = strlen(s) + 1;
	if (*len + n > REQUEST_MAX)
		return 0;
	memcpy(buf + *len, s, n);
	*len += n;
	return 1;
}

// ask_helper returns the runtime to exec once the helper has prepared the
// bundle, or NULL: no helper, a helper that is not ours, or one that hands
// the work back. In every such case nothing was written.
static const char *ask_helper(int argc, char **argv) {
	const char *socket_path = getenv("SYSGATE_HELPER_SOCKET");
	if (!socket_path)
		socket_path = HELPER_SOCKET_DEFAULT;
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (!*socket_path || strlen(socket_path) >= sizeof addr.sun_path)
		return NULL;
	strcpy(addr.sun_path, socket_path);

	static char request[REQUEST_MAX];
	size_t len = 0;
	if (!append_field(request, &len, HELPER_PROTOCOL) || !append_field(request, &len, policy_path()))
		return NULL;
	for (int i = 1; i < argc; i++)
		if (!append_field(request, &len, argv[i]))
			return NULL;

	static char reply[4096 + 16];
	const char *runtime = NULL;
	int sock = -1, cwd = -1, root = -1;
	sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sock < 0)
		goto out;
	struct timeval timeout = {.tv_sec = HELPER_TIMEOUT_SECONDS};
	if (setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) < 0 ||
	    setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout) < 0)
		goto out;
	if (connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0)
		goto out;
	// Only a helper running as this user may rewrite the bundle.
	struct ucred cred;
	socklen_t cred_len = sizeof cred;
	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) < 0 || cred.uid != geteuid())
		goto out;
	cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0 || root < 0)
		goto out;

	struct iovec iov = {.iov_base = request, .iov_len = len};
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} control;
	memset(&control, 0, sizeof control);
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf,
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(2 * sizeof(int));
	int fds[2] = {cwd, root};
	memcpy(CMSG_DATA(cmsg), fds, sizeof fds);
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) != (ssize_t)len)
		goto out;

	ssize_t n = recv(sock, reply, sizeof reply - 1, 0);
	// "ok" NUL absolute-path NUL, and nothing else.
	if (n < 5 || memcmp(reply, "ok", 3) != 0 || reply[3] != '/' || reply[n - 1] != '\0' ||
	    memchr(reply + 3, '\0', n - 3) != reply + n - 1)
		goto out;
	runtime = reply + 3;
out:
	if (root >= 0)
		close(root);
	if (cwd >= 0)
		close(cwd);
	if (sock >= 0)
		close(sock);
	return runtime;
}

__attribute__((constructor)) static void sysgate_fastpath(int argc, char **argv, char **envp) {
	if (argc < 2 || !argv || getenv("SYSGATE_NO_FASTPATH"))
		return;
	const char *cmd = command(argc, argv);
	if (!cmd)
		return;
	if (strcmp(cmd, "restore") == 0)
		return; // the Go code applies the policy's allow_restore
	if (strcmp(cmd, "create") == 0 || strcmp(cmd, "run") == 0) {
		const char *runtime = ask_helper(argc, argv);
		if (runtime) {
			argv[0] = (char *)runtime;
			execve(runtime, argv, envp);
		}
		return; // the Go code prepares the bundle (again, harmlessly, after a failed exec)
	}
	static char runtime[4096];
	if (!policy_runtime(runtime, sizeof runtime))
		return;
	argv[0] = runtime;
	execve(runtime, argv, envp);
	// Fall through: the Go code reports the failure properly.
}
