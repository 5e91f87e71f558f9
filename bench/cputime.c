// SPDX-License-Identifier: BSD-2-Clause
/*
 * cputime: run a command and print its CPU time (user + system, in
 * seconds with microsecond resolution) and peak RSS (KiB) from wait4(),
 * as "cpu_seconds peak_kib".  /usr/bin/time only has 10 ms resolution,
 * which is too coarse for a 0.1 s run.  The command's stdout and stderr go
 * to /dev/null.
 *   usage: cputime CMD [ARGS...]
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct rusage ru;
	int status, fd;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: cputime CMD [ARGS...]\n");
		return 2;
	}
	pid = fork();
	if (pid < 0) {
		perror("cputime: fork");
		return 2;
	}
	if (pid == 0) {
		fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("cputime: wait4");
		return 2;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "cputime: %s failed (status %d)\n", argv[1], status);
		return 1;
	}
	printf("%.6f %ld\n",
	       (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
		       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
	       ru.ru_maxrss);
	return 0;
}
