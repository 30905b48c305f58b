/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/* rzone-rdma-demo plumbing: see rdma_demo.h. Nothing rzone-specific happens here. */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "rdma_demo.h"

extern char **environ;

int
child_answer(const struct child *c, const char *cmd, char *detail, size_t len, int timeout_ms)
{
	char answer[DEMO_LINE_MAX];
	int n;

	n = channel_recv(c->fd, answer, sizeof(answer), timeout_ms);
	if (n == -ETIMEDOUT)
		return fail("no answer from %s to \"%s\" within %d ms", c->name, cmd, timeout_ms);
	if (n < 0)
		return fail("no answer from %s to \"%s\": it exited", c->name, cmd);
	if (strcmp(answer, "OK") != 0 && strncmp(answer, "OK ", 3) != 0)
		return fail("%s answered \"%s\" to \"%s\"", c->name, answer, cmd);
	if (detail != NULL)
		snprintf(detail, len, "%s", answer[2] == ' ' ? answer + 3 : "");
	return 0;
}

int
child_call(const struct child *c, char *detail, size_t len, const char *fmt, ...)
{
	char cmd[DEMO_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return fail("command too long");
	if (channel_send(c->fd, "%s", cmd) < 0)
		return fail("cannot send \"%s\" to %s (did it die?)", cmd, c->name);
	return child_answer(c, cmd, detail, len, DEMO_CMD_TIMEOUT_MS);
}

int
spawn_child(struct child *c, char *const argv[])
{
	posix_spawn_file_actions_t fa;
	int sv[2], theirs, ret;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return fail("socketpair: %s", strerror(errno));
	/* The child's end above DEMO_CHANNEL_FD, so that dup2() really makes a new descriptor
	 * (without close-on-exec) and closefrom leaves only the channel. */
	theirs = fcntl(sv[1], F_DUPFD_CLOEXEC, DEMO_CHANNEL_FD + 1);
	close(sv[1]);
	if (theirs < 0) {
		close(sv[0]);
		return fail("fcntl(F_DUPFD_CLOEXEC): %s", strerror(errno));
	}
	ret = posix_spawn_file_actions_init(&fa);
	if (ret == 0)
		ret = posix_spawn_file_actions_adddup2(&fa, theirs, DEMO_CHANNEL_FD);
	if (ret == 0)
		ret = posix_spawn_file_actions_addclosefrom_np(&fa, DEMO_CHANNEL_FD + 1);
	fflush(NULL);
	if (ret == 0)
		ret = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(theirs);
	if (ret != 0) {
		close(sv[0]);
		return fail("posix_spawn(%s): %s", argv[0], strerror(ret));
	}
	c->pid = pid;
	c->fd = sv[0];
	return 0;
}

int
reap_child(struct child *c, int timeout_ms)
{
	long long deadline = demo_now_ms() + timeout_ms;
	int status;

	if (c->fd >= 0) {
		close(c->fd);	/* a child still waiting for a command sees EOF and exits */
		c->fd = -1;
	}
	if (c->pid <= 0)
		return -1;
	for (;;) {
		pid_t w = waitpid(c->pid, &status, WNOHANG);

		if (w == c->pid)
			break;
		if (w < 0 && errno != EINTR) {
			c->pid = -1;
			return -1;
		}
		if (demo_now_ms() >= deadline) {
			fail("%s (pid %d) did not exit within %d ms: killing it", c->name,
					(int)c->pid, timeout_ms);
			kill(c->pid, SIGKILL);
			waitpid(c->pid, &status, 0);
			c->pid = -1;
			return -1;
		}
		usleep(10000);
	}
	c->pid = -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return -1;
}
