/*
 * sysgate-probe: make exactly one system call (optionally N times) and report,
 * as one JSON line on stdout, what the kernel did with it. Tests run it under
 * a seccomp filter to observe the filter's verdict for that call.
 *
 *   sysgate-probe [--abi native|i386|x32] [--repeat N] NR [ARG...]
 *   sysgate-probe --status
 *
 * NR is the syscall number in the chosen ABI's numbering (decimal or 0x hex).
 * ARG (at most 6) is an integer (decimal, 0x hex or negative decimal),
 * "s:TEXT" (pointer to a NUL-terminated copy of TEXT) or "b:N" (pointer to a
 * zeroed writable buffer of N bytes).
 *
 * Output:
 *   {"abi":"native","nr":83,"ret":-1,"errno":1,"errname":"EPERM"}
 *   {"abi":"native","nr":83,"signal":"SIGSYS","si_code":1,"si_syscall":83,
 *    "si_arch":3221225534,"si_errno":5}              (SECCOMP_RET_TRAP)
 *   nothing, killed by SIGSYS                        (SECCOMP_RET_KILL_*)
 * --status prints the Seccomp, Seccomp_filters and NoNewPrivs values of
 * /proc/self/status (-1 when the kernel does not show one).
 * Exit status: 0 after a report, 1 when setup fails, 2 on a usage error.
 *
 * The probe runs inside filters that may deny almost everything, so it makes
 * as few system calls of its own as it can: output is built in a static
 * buffer and written with write(2) (stdio would fstat stdout first), and the
 * low memory for s:/b: arguments is mapped only when such arguments exist.
 *
 * x86_64, aarch64 and 32-bit arm. --abi i386 and x32 exist on x86_64 only; on
 * an arm64 node the AArch32 compat entry is reached by the arm build of this
 * probe itself (its native ABI is arm, seccomp sees AUDIT_ARCH_ARM).
 * Build: gcc -static -O2 -Wall -Werror -o sysgate-probe probe.c
 *        aarch64-linux-gnu-gcc-12 ... / arm-linux-gnueabihf-gcc-12 ... (make build ARCH=arm64)
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if !defined(__x86_64__) && !defined(__aarch64__) && !defined(__arm__)
#error "sysgate-probe is for x86_64, aarch64 and arm"
#endif

/* Only x86_64 has (and needs) low mappings for i386 pointers. */
#ifndef MAP_32BIT
#define MAP_32BIT 0
#endif

/* glibc does not export the si_code the kernel uses for seccomp's SIGSYS. */
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1
#endif

/* The x32 ABI shares the x86_64 entry; the kernel tells x32 calls apart by
 * this bit in the syscall number (__X32_SYSCALL_BIT). */
#define X32_SYSCALL_BIT 0x40000000L

#define MAX_ARGS 6
#define MAX_BUF_ARG (64L << 20)

enum abi { ABI_NATIVE, ABI_I386, ABI_X32 };
static const char *const abi_names[] = { "native", "i386", "x32" };

/* Read by the SIGSYS handler. */
static enum abi g_abi;
static long g_nr;

/* ---- output: a tiny async-signal-safe JSON line builder ---------------- */

struct line {
	char b[512];
	size_t n;
};

static void put_str(struct line *l, const char *s)
{
	while (*s && l->n < sizeof(l->b) - 1)
		l->b[l->n++] = *s++;
}

static void put_u64(struct line *l, uint64_t v)
{
	char tmp[24];
	int i = sizeof(tmp);

	tmp[--i] = '\0';
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put_str(l, tmp + i);
}

static void put_i64(struct line *l, int64_t v)
{
	if (v < 0) {
		put_str(l, "-");
		put_u64(l, -(uint64_t)v);
	} else {
		put_u64(l, (uint64_t)v);
	}
}

static void write_all(int fd, const char *b, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			_exit(1);
		b += w;
		n -= (size_t)w;
	}
}

/* Writes the line plus '\n' to fd; write(2) is async-signal-safe. */
static void emit(int fd, struct line *l)
{
	l->b[l->n++] = '\n';
	write_all(fd, l->b, l->n);
}

/* Starts {"abi":"...","nr":N */
static void put_head(struct line *l)
{
	put_str(l, "{\"abi\":\"");
	put_str(l, abi_names[g_abi]);
	put_str(l, "\",\"nr\":");
	put_i64(l, g_nr);
}

/* ---- errno names ------------------------------------------------------- */

static const struct {
	int num;
	const char *name;
} errnames[] = {
	{ EPERM, "EPERM" },	{ ENOENT, "ENOENT" },	{ ESRCH, "ESRCH" },
	{ EINTR, "EINTR" },	{ EIO, "EIO" },		{ ENXIO, "ENXIO" },
	{ E2BIG, "E2BIG" },	{ ENOEXEC, "ENOEXEC" }, { EBADF, "EBADF" },
	{ ECHILD, "ECHILD" },	{ EAGAIN, "EAGAIN" },	{ ENOMEM, "ENOMEM" },
	{ EACCES, "EACCES" },	{ EFAULT, "EFAULT" },	{ ENOTBLK, "ENOTBLK" },
	{ EBUSY, "EBUSY" },	{ EEXIST, "EEXIST" },	{ EXDEV, "EXDEV" },
	{ ENODEV, "ENODEV" },	{ ENOTDIR, "ENOTDIR" }, { EISDIR, "EISDIR" },
	{ EINVAL, "EINVAL" },	{ ENFILE, "ENFILE" },	{ EMFILE, "EMFILE" },
	{ ENOTTY, "ENOTTY" },	{ ETXTBSY, "ETXTBSY" }, { EFBIG, "EFBIG" },
	{ ENOSPC, "ENOSPC" },	{ ESPIPE, "ESPIPE" },	{ EROFS, "EROFS" },
	{ EMLINK, "EMLINK" },	{ EPIPE, "EPIPE" },	{ EDOM, "EDOM" },
	{ ERANGE, "ERANGE" },	{ EDEADLK, "EDEADLK" },
	{ ENAMETOOLONG, "ENAMETOOLONG" },		{ ENOLCK, "ENOLCK" },
	{ ENOSYS, "ENOSYS" },	{ ENOTEMPTY, "ENOTEMPTY" },
	{ ELOOP, "ELOOP" },	{ ENOMSG, "ENOMSG" },	{ ENODATA, "ENODATA" },
	{ EOVERFLOW, "EOVERFLOW" },			{ EILSEQ, "EILSEQ" },
	{ ENOTSOCK, "ENOTSOCK" },			{ EMSGSIZE, "EMSGSIZE" },
	{ EPROTONOSUPPORT, "EPROTONOSUPPORT" },
	/* ENOTSUP == EOPNOTSUPP on Linux; use the kernel's name. */
	{ EOPNOTSUPP, "EOPNOTSUPP" },
	{ EAFNOSUPPORT, "EAFNOSUPPORT" },		{ EADDRINUSE, "EADDRINUSE" },
	{ ENETUNREACH, "ENETUNREACH" },			{ ENOTCONN, "ENOTCONN" },
	{ ETIMEDOUT, "ETIMEDOUT" },			{ ECONNREFUSED, "ECONNREFUSED" },
	{ EALREADY, "EALREADY" },			{ EINPROGRESS, "EINPROGRESS" },
	{ ECANCELED, "ECANCELED" },
};

static void put_errname(struct line *l, int e)
{
	for (size_t i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++) {
		if (errnames[i].num == e) {
			put_str(l, errnames[i].name);
			return;
		}
	}
	put_str(l, "E");
	put_u64(l, (uint64_t)e);
}

/* ---- SIGSYS (SECCOMP_RET_TRAP) ----------------------------------------- */

static void on_sigsys(int sig, siginfo_t *si, void *uctx)
{
	struct line l = { .n = 0 };

	(void)sig;
	(void)uctx;
	put_head(&l);
	put_str(&l, ",\"signal\":\"SIGSYS\",\"si_code\":");
	put_i64(&l, si->si_code);
	put_str(&l, ",\"si_syscall\":");
	put_i64(&l, si->si_syscall);
	put_str(&l, ",\"si_arch\":");
	put_u64(&l, (unsigned int)si->si_arch);
	/* For SECCOMP_RET_TRAP the kernel puts SECCOMP_RET_DATA in si_errno. */
	put_str(&l, ",\"si_errno\":");
	put_i64(&l, si->si_errno);
	put_str(&l, "}");
	emit(1, &l);
	_exit(0);
}

/* ---- the system call itself -------------------------------------------- */

#if defined(__aarch64__)
/* aarch64: svc #0 with the number in x8 and the arguments in x0-x5; the
 * result comes back in x0. */
static long call_syscall(long nr, const long a[MAX_ARGS])
{
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a[0];
	register long x1 __asm__("x1") = a[1];
	register long x2 __asm__("x2") = a[2];
	register long x3 __asm__("x3") = a[3];
	register long x4 __asm__("x4") = a[4];
	register long x5 __asm__("x5") = a[5];

	__asm__ volatile("svc #0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory", "cc");
	return x0;
}
#elif defined(__arm__)
/* arm (EABI): svc #0 with the number in r7 and the arguments in r0-r5. r7
 * may be the Thumb frame pointer, so it is swapped in around the call. */
static long call_syscall(long nr, const long a[MAX_ARGS])
{
	register long r0 __asm__("r0") = a[0];
	register long r1 __asm__("r1") = a[1];
	register long r2 __asm__("r2") = a[2];
	register long r3 __asm__("r3") = a[3];
	register long r4 __asm__("r4") = a[4];
	register long r5 __asm__("r5") = a[5];

	__asm__ volatile("push {r7}\n\t"
			 "mov r7, %[nr]\n\t"
			 "svc #0\n\t"
			 "pop {r7}"
			 : "+r"(r0)
			 : [nr] "r"(nr), "r"(r1), "r"(r2), "r"(r3), "r"(r4), "r"(r5)
			 : "memory", "cc");
	return r0;
}
#else
/* x86_64 and x32: the syscall instruction. The kernel returns in rax and
 * clobbers rcx (return rip) and r11 (rflags). */
static long call_syscall(long nr, const long a[MAX_ARGS])
{
	register long r10 __asm__("r10") = a[3];
	register long r8 __asm__("r8") = a[4];
	register long r9 __asm__("r9") = a[5];
	long ret = nr;

	__asm__ volatile("syscall"
			 : "+a"(ret)
			 : "D"(a[0]), "S"(a[1]), "d"(a[2]), "r"(r10), "r"(r8),
			   "r"(r9)
			 : "rcx", "r11", "memory", "cc");
	return ret;
}

/*
 * i386: int $0x80 from this 64-bit process enters the kernel's 32-bit
 * (compat) syscall path: eax=nr, args in ebx, ecx, edx, esi, edi, ebp, and
 * seccomp sees AUDIT_ARCH_I386. Only the low 32 bits of each register count,
 * so pointers must be below 4 GiB (see the MAP_32BIT arena).
 *
 * ebp cannot be named as an asm operand (it may be the frame pointer), so the
 * sixth argument goes through any free register and is moved into ebp between
 * a push and a pop. The push would overwrite the red zone, the 128 bytes
 * below rsp that the compiler may use without moving rsp, so step over it
 * first. Kernels before 4.17 zeroed r8-r11 on return from int $0x80: list
 * them as clobbered.
 *
 * The result is the 32-bit eax: errors are -4095..-1 as a signed int, any
 * other value is an unsigned 32-bit result.
 */
static long call_int80(long nr, const long a[MAX_ARGS])
{
	unsigned long eax = (uint32_t)nr;

	__asm__ volatile("sub $128, %%rsp\n\t"
			 "push %%rbp\n\t"
			 "mov %k[a5], %%ebp\n\t"
			 "int $0x80\n\t"
			 "pop %%rbp\n\t"
			 "add $128, %%rsp"
			 : "+a"(eax)
			 : "b"((unsigned long)(uint32_t)a[0]),
			   "c"((unsigned long)(uint32_t)a[1]),
			   "d"((unsigned long)(uint32_t)a[2]),
			   "S"((unsigned long)(uint32_t)a[3]),
			   "D"((unsigned long)(uint32_t)a[4]),
			   [a5] "r"((unsigned long)(uint32_t)a[5])
			 : "r8", "r9", "r10", "r11", "memory", "cc");
	if ((uint32_t)eax >= (uint32_t)-4095)
		return (long)(int32_t)eax;
	return (long)(uint32_t)eax;
}

#endif

static long do_call(enum abi abi, long nr, const long a[MAX_ARGS])
{
	switch (abi) {
#if defined(__x86_64__)
	case ABI_I386:
		return call_int80(nr, a);
	case ABI_X32:
		return call_syscall(nr | X32_SYSCALL_BIT, a);
#endif
	default:
		return call_syscall(nr, a);
	}
}

/* ---- command line ------------------------------------------------------ */

static void usage(const char *why)
{
	static const char text[] =
		"usage: sysgate-probe [--abi native|i386|x32] [--repeat N] NR [ARG...]\n"
		"       sysgate-probe --status\n"
		"ARG: integer (decimal, 0x hex, -decimal), s:TEXT (string pointer)\n"
		"     or b:N (pointer to N zeroed writable bytes); at most 6\n";
	struct line l = { .n = 0 };

	put_str(&l, "sysgate-probe: ");
	put_str(&l, why);
	emit(2, &l);
	write_all(2, text, sizeof(text) - 1);
	_exit(2);
}

static void die(const char *what)
{
	struct line l = { .n = 0 };
	int e = errno;

	put_str(&l, "sysgate-probe: ");
	put_str(&l, what);
	put_str(&l, ": ");
	put_errname(&l, e);
	emit(2, &l);
	_exit(1);
}

/* Parses decimal, 0x hex or negative decimal into 64 bits; 0 on error.
 * A leading 0 is decimal, not octal, and strtoull's tolerance of leading
 * blanks and signs is refused. */
static int parse_int(const char *s, long *out)
{
	int hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	const char *digits = hex ? s + 2 : s[0] == '-' ? s + 1 : s;
	char *end;

	if (hex ? !isxdigit((unsigned char)*digits) :
		  !isdigit((unsigned char)*digits))
		return 0;
	errno = 0;
	if (s[0] == '-')
		*out = strtoll(s, &end, 10);
	else
		*out = (long)strtoull(digits, &end, hex ? 16 : 10);
	return errno == 0 && *end == '\0';
}

static int print_status(void)
{
	static char buf[8192];
	static const char *const keys[] = { "Seccomp:", "Seccomp_filters:",
					    "NoNewPrivs:" };
	static const char *const json[] = { "{\"seccomp\":",
					    ",\"seccomp_filters\":",
					    ",\"no_new_privs\":" };
	struct line l = { .n = 0 };
	size_t n = 0;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		die("open /proc/self/status");
	for (;;) {
		ssize_t r = read(fd, buf + n, sizeof(buf) - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("read /proc/self/status");
		if (r == 0 || (n += (size_t)r) == sizeof(buf) - 1)
			break;
	}
	close(fd);
	buf[n] = '\0';

	for (size_t k = 0; k < 3; k++) {
		long v = -1;
		size_t klen = strlen(keys[k]);

		for (const char *p = buf; p; p = strchr(p, '\n')) {
			p += *p == '\n';
			if (strncmp(p, keys[k], klen) == 0) {
				v = strtol(p + klen, NULL, 10);
				break;
			}
		}
		put_str(&l, json[k]);
		put_i64(&l, v);
	}
	put_str(&l, "}");
	emit(1, &l);
	return 0;
}

int main(int argc, char **argv)
{
	enum abi abi = ABI_NATIVE;
	long repeat = 1, nr, ret = 0, args[MAX_ARGS] = { 0 };
	size_t need = 0;
	char *arena = NULL;
	int i = 1, nargs;

	if (argc == 2 && strcmp(argv[1], "--status") == 0)
		return print_status();

	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (i + 1 >= argc)
			usage("option needs a value");
		if (strcmp(argv[i], "--abi") == 0) {
			const char *v = argv[++i];
			if (strcmp(v, "native") == 0)
				abi = ABI_NATIVE;
#if defined(__x86_64__)
			else if (strcmp(v, "i386") == 0)
				abi = ABI_I386;
			else if (strcmp(v, "x32") == 0)
				abi = ABI_X32;
			else
				usage("--abi must be native, i386 or x32");
#else
			else
				usage("--abi must be native here (i386 and x32 are x86_64's)");
#endif
		} else if (strcmp(argv[i], "--repeat") == 0) {
			if (!parse_int(argv[++i], &repeat) || repeat < 1)
				usage("--repeat needs a positive integer");
		} else {
			usage("unknown option");
		}
	}
	if (i >= argc)
		usage("missing NR");
	if (!parse_int(argv[i++], &nr))
		usage("NR must be an integer");
	nargs = argc - i;
	if (nargs > MAX_ARGS)
		usage("at most 6 arguments");

	/* First pass: integers, and the size of the low-memory arena. */
	for (int k = 0; k < nargs; k++) {
		const char *a = argv[i + k];
		long n;

		if (strncmp(a, "s:", 2) == 0) {
			need += (strlen(a + 2) + 1 + 15) & ~(size_t)15;
		} else if (strncmp(a, "b:", 2) == 0) {
			if (!parse_int(a + 2, &n) || n < 0 || n > MAX_BUF_ARG)
				usage("b:N needs a size from 0 to 64 MiB");
			need += ((size_t)n + 15) & ~(size_t)15;
		} else if (parse_int(a, &args[k])) {
			/* The i386 ABI sees 32 bits: refuse what would not fit
			 * rather than silently truncate it. */
			if (abi == ABI_I386 &&
			    (args[k] < INT32_MIN || args[k] > (long)UINT32_MAX))
				usage("i386 arguments must fit in 32 bits");
		} else {
			usage("ARG must be an integer, s:TEXT or b:N");
		}
	}

	/* Second pass: place strings and buffers below 2 GiB (MAP_32BIT) so
	 * that they are valid pointers for every ABI, i386 included. */
	if (need > 0) {
		arena = mmap(NULL, need, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
		if (arena == MAP_FAILED)
			die("mmap MAP_32BIT");
		for (int k = 0; k < nargs; k++) {
			const char *a = argv[i + k];
			long n;

			if (strncmp(a, "s:", 2) == 0) {
				n = (long)strlen(a + 2) + 1;
				memcpy(arena, a + 2, (size_t)n);
			} else if (strncmp(a, "b:", 2) == 0) {
				parse_int(a + 2, &n);
			} else {
				continue;
			}
			args[k] = (long)arena;
			arena += ((size_t)n + 15) & ~(size_t)15;
		}
	}

	g_abi = abi;
	g_nr = nr;
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_sigsys;
		sa.sa_flags = SA_SIGINFO;
		if (sigaction(SIGSYS, &sa, NULL) < 0)
			die("sigaction SIGSYS");
	}

	for (long r = 0; r < repeat; r++)
		ret = do_call(abi, nr, args);

	{
		struct line l = { .n = 0 };
		int err = (ret >= -4095 && ret <= -1) ? (int)-ret : 0;

		put_head(&l);
		put_str(&l, ",\"ret\":");
		put_i64(&l, err ? -1 : ret);
		put_str(&l, ",\"errno\":");
		put_i64(&l, err);
		put_str(&l, ",\"errname\":\"");
		if (err)
			put_errname(&l, err);
		put_str(&l, "\"}");
		emit(1, &l);
	}
	return 0;
}
