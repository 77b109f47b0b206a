/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bench/smallfiles DIR N SIZE: creates N files of SIZE bytes in DIR, each written and
 * fsynced (a mail- or git-object-like workload), then fsyncs DIR. Exits non-zero on error. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: smallfiles DIR N SIZE\n");
		return 2;
	}
	int dfd = open(argv[1], O_RDONLY | O_DIRECTORY);
	long n = atol(argv[2]);
	size_t size = (size_t)atol(argv[3]);
	char *buf = malloc(size ? size : 1);
	if (dfd < 0 || !buf) {
		perror("smallfiles");
		return 1;
	}
	memset(buf, 'x', size);
	for (long i = 0; i < n; i++) {
		char name[64];
		snprintf(name, sizeof(name), "f%06ld.msg", i);
		int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0 || write(fd, buf, size) != (ssize_t)size || fsync(fd) != 0 || close(fd) != 0) {
			perror(name);
			return 1;
		}
	}
	if (fsync(dfd) != 0) {
		perror("fsync dir");
		return 1;
	}
	close(dfd);
	free(buf);
	return 0;
}
