/* The exactness witness for package observe: a process whose calls after
 * its filter are known to the number. Raw syscalls only, so libc adds none. */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

static long int80_getpid(void) {
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory"); /* i386 getpid */
	return ret;
}

int main(int argc, char **argv) {
	char c;
	struct utsname u;
	struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
	struct sock_fprog prog = {1, allow};
	int i386 = argc > 1 && strcmp(argv[1], "i386") == 0;
	long loops = argc > 2 && strcmp(argv[1], "loop") == 0 ? atol(argv[2]) : 0;

	syscall(SYS_read, 0, &c, 1); /* the recorder starts meanwhile */
	syscall(SYS_uname, &u);      /* before the filter: not counted */
	long early = syscall(SYS_fork);
	if (early == 0) { /* a child of the tree without the filter: not counted */
		syscall(SYS_getuid);
		syscall(SYS_exit_group, 0);
	}
	syscall(SYS_wait4, early, 0, 0, 0);
	syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
		return 2;
	/* From here on every call is counted. */
	if (loops) { /* the overhead benchmark: nothing but cheap syscalls */
		for (long i = 0; i < loops; i++)
			syscall(SYS_getppid);
		syscall(SYS_exit_group, 0);
	}
	long pid = syscall(SYS_fork);
	if (pid == 0) {
		syscall(SYS_getppid);
		syscall(SYS_exit_group, 0);
	}
	syscall(SYS_wait4, pid, 0, 0, 0);
	for (int i = 0; i < 1000; i++)
		syscall(SYS_getpid);
	if (i386)
		int80_getpid();
	syscall(SYS_exit_group, 0);
	return 0;
}
