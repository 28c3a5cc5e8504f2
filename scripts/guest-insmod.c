// SPDX-License-Identifier: GPL-2.0
/*
 * insmod of the fib-stat guest (/usr/sbin/insmod, built by scripts/mkinitramfs):
 * loads a module with one finit_module() call. busybox insmod, when
 * finit_module() fails, tries again with init_module(), so a module whose init
 * function fails had it run twice. Errors read as busybox's:
 *   insmod: can't insert 'FILE': unknown symbol in module, or unknown parameter
 *
 *   insmod FILE [PARAM=VALUE...]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *moderror(int err)
{
	switch (err) {
	case ENOEXEC:
		return "invalid module format";
	case ENOENT:
		return "unknown symbol in module, or unknown parameter";
	case ESRCH:
		return "module has wrong symbol version";
	case ENOSYS:
		return "kernel does not support requested operation";
	}
	return strerror(err);
}

int main(int argc, char **argv)
{
	size_t len = 1;
	char *params;
	int fd, i;

	if (argc < 2) {
		fprintf(stderr, "usage: insmod FILE [PARAM=VALUE...]\n");
		return 1;
	}
	for (i = 2; i < argc; i++)
		len += strlen(argv[i]) + 1;
	params = calloc(1, len);
	if (!params)
		return 1;
	for (i = 2; i < argc; i++) {
		if (i > 2)
			strcat(params, " ");
		strcat(params, argv[i]);
	}
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "insmod: can't open '%s': %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (syscall(SYS_finit_module, fd, params, 0) != 0) {
		fprintf(stderr, "insmod: can't insert '%s': %s\n", argv[1], moderror(errno));
		return 1;
	}
	return 0;
}
