/*
 * naive: the control of the arm64 bypass test. It installs the filter a
 * careless author writes for an arm64 node, "if arch == AUDIT_ARCH_AARCH64
 * and nr == mkdirat then EPERM, else ALLOW", and execs its arguments. The
 * filter never looks at AUDIT_ARCH_ARM, so a 32-bit ARM binary (the AArch32
 * compat entry) makes mkdir or mkdirat unfiltered: the bypass sysgate's
 * filters must not allow. The arm64 counterpart of the x86 matrix's naive
 * x86_64-only filter.
 *
 * naive -f PROGRAM.bpf CMD...: loads a raw sock_filter array instead (what
 * `sysgate profile compile -o` writes), so that the guest bench can time
 * runc's layout (libseccomp's joint linear program) beside sysgate's.
 *
 * Build: aarch64-linux-gnu-gcc-12 -static -O2 -Wall -Werror -o naive naive.c
 */
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define NR_MKDIRAT_AARCH64 34

int main(int argc, char **argv)
{
	struct sock_filter insns[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_AARCH64, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NR_MKDIRAT_AARCH64, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(insns) / sizeof(insns[0]), .filter = insns };

	static struct sock_filter loaded[4096];
	int cmd = 1;

	if (argc >= 3 && strcmp(argv[1], "-f") == 0) {
		int fd = open(argv[2], O_RDONLY);
		ssize_t n = fd < 0 ? -1 : read(fd, loaded, sizeof(loaded));

		if (n <= 0 || n % sizeof(loaded[0]) != 0) {
			fprintf(stderr, "naive: %s is not a raw seccomp program\n", argv[2]);
			return 1;
		}
		prog.filter = loaded;
		prog.len = n / sizeof(loaded[0]);
		cmd = 3;
	}
	if (argc <= cmd) {
		fprintf(stderr, "usage: naive [-f PROGRAM.bpf] COMMAND [ARG...]\n");
		return 2;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
		perror("naive: loading the filter");
		return 1;
	}
	execv(argv[cmd], argv + cmd);
	perror("naive: exec");
	return 1;
}
