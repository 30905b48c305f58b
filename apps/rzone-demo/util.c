/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/* rzone-demo plumbing: see demo.h. Nothing rzone-specific happens here. */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "demo.h"

int
channel_call(int fd, char *detail, size_t len, const char *fmt, ...)
{
	char cmd[DEMO_LINE_MAX], answer[DEMO_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return fail("command too long");
	if (channel_send(fd, "%s", cmd) < 0)
		return fail("cannot send \"%s\" to the secondary (did it die?)", cmd);
	n = channel_recv(fd, answer, sizeof(answer), DEMO_CMD_TIMEOUT_MS);
	if (n == -ETIMEDOUT)
		return fail("no answer from the secondary to \"%s\" within %d ms", cmd,
				DEMO_CMD_TIMEOUT_MS);
	if (n < 0)
		return fail("no answer from the secondary to \"%s\": it exited", cmd);
	if (strcmp(answer, "OK") != 0 && strncmp(answer, "OK ", 3) != 0)
		return fail("the secondary answered \"%s\" to \"%s\"", answer, cmd);
	if (detail != NULL)
		snprintf(detail, len, "%s", answer[2] == ' ' ? answer + 3 : "");
	return 0;
}

pid_t
spawn_secondary(const char *argv0, const char *file_prefix, unsigned int lcore, int *fd)
{
	char prefix_arg[256], lcore_arg[16];
	char *const argv[] = {
		(char *)(uintptr_t)argv0,
		(char *)(uintptr_t)"--proc-type=secondary",
		prefix_arg,
		(char *)(uintptr_t)"--no-pci",
		(char *)(uintptr_t)"-l",
		lcore_arg,
		(char *)(uintptr_t)"--",
		(char *)(uintptr_t)"secondary",
		NULL,
	};
	int sv[2];
	pid_t pid;

	snprintf(prefix_arg, sizeof(prefix_arg), "--file-prefix=%s", file_prefix);
	snprintf(lcore_arg, sizeof(lcore_arg), "%u", lcore);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		fail("socketpair: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fail("fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		/* Child: only async-signal-safe calls until exec. The channel goes to
		 * DEMO_CHANNEL_FD; every other descriptor the primary's EAL opened (hugepage
		 * files, its IPC socket, ...) is closed so that the secondary starts clean. */
		if (sv[1] == DEMO_CHANNEL_FD)
			fcntl(sv[1], F_SETFD, 0);
		else if (dup2(sv[1], DEMO_CHANNEL_FD) < 0)
			_exit(127);
		close_range(DEMO_CHANNEL_FD + 1, ~0u, 0);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(sv[1]);
	*fd = sv[0];
	return pid;
}

int
reap_child(pid_t pid, int timeout_ms)
{
	long long deadline = demo_now_ms() + timeout_ms;
	int status;

	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return -1;
		if (demo_now_ms() >= deadline) {
			fail("child %d did not exit within %d ms: killing it", (int)pid,
					timeout_ms);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		usleep(10000);
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return -1;
}

void *
free_address_space(size_t size, size_t align)
{
	uintptr_t a;
	void *p;

	/* Reserve more than needed, take an aligned address inside, give it all back. */
	p = mmap(NULL, size + align, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
			0);
	if (p == MAP_FAILED)
		return NULL;
	munmap(p, size + align);
	a = ((uintptr_t)p + align - 1) & ~((uintptr_t)align - 1);
	return (void *)a;
}

bool
write_faults(volatile char *addr, const char **how)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		*how = "fork failed";
		return false;
	}
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };

		/* Die of the fault itself: no handler (DPDK's or a sanitizer's), no core file. */
		signal(SIGSEGV, SIG_DFL);
		setrlimit(RLIMIT_CORE, &no_core);
		*addr = 'X';
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid) {
		*how = "waitpid failed";
		return false;
	}
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) {
		*how = "child killed by SIGSEGV";
		return true;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		*how = "the write went through";
	else
		*how = "child died, but not of SIGSEGV";
	return false;
}
