/*
 * mkdir32: a real i386 program (gcc -m32 -static) that makes one mkdir and
 * prints one line: "mkdir32 ok" or "mkdir32 errno N". The ABI-bypass tests
 * exec it under 64-bit loaders to show what a filter does to a whole 32-bit
 * process, not only to an int $0x80 made from a 64-bit one.
 *
 * Build: gcc -m32 -static -O2 -o mkdir32 mkdir32.c
 */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mkdir32 DIR\n");
		return 2;
	}
	if (mkdir(argv[1], 0755) != 0) {
		printf("mkdir32 errno %d\n", errno);
		return 0;
	}
	printf("mkdir32 ok\n");
	return 0;
}
