/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/* What both demos print and how their processes talk: see demo_io.h. */

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "demo_io.h"

static const char *demo_role = "demo";

void
demo_set_role(const char *role)
{
	demo_role = role;
}

static void __attribute__((format(printf, 2, 0)))
vsay(const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	/* One printf per line: the processes share stdout. */
	printf("[%-9s pid %5d] %s%s\n", demo_role, (int)getpid(), prefix, line);
	fflush(stdout);
}

void
say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay("", fmt, ap);
	va_end(ap);
}

void
step(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	printf("\n==> %s\n", line);
	fflush(stdout);
}

int
fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay("FAILED: ", fmt, ap);
	va_end(ap);
	return -1;
}

static int __attribute__((format(printf, 2, 0)))
vchannel_send(int fd, const char *fmt, va_list ap)
{
	char line[DEMO_LINE_MAX];
	size_t len, off = 0;
	int n;

	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 1)
		return -1;
	len = (size_t)n;
	line[len++] = '\n';
	while (off < len) {
		/* MSG_NOSIGNAL: a process that died is an error here, not a SIGPIPE. */
		ssize_t w = send(fd, line + off, len - off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

int
channel_send(int fd, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vchannel_send(fd, fmt, ap);
	va_end(ap);
	return ret;
}

long long
demo_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
channel_recv(int fd, char *buf, size_t len, int timeout_ms)
{
	long long deadline = demo_now_ms() + timeout_ms;
	size_t n = 0;

	/* Byte by byte: lines are short and nothing may be read past the '\n'. */
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long long left = deadline - demo_now_ms();
		ssize_t r;
		char c;
		int p;

		if (left <= 0)
			return -ETIMEDOUT;
		p = poll(&pfd, 1, (int)left);
		if (p < 0 && errno == EINTR)
			continue;
		if (p == 0)
			return -ETIMEDOUT;
		if (p < 0)
			return -errno;
		r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EPIPE;	/* the other end is closed: its process is gone */
		if (c == '\n')
			break;
		if (n + 1 < len)
			buf[n++] = c;
	}
	buf[n] = '\0';
	return 0;
}


int
demo_secondary_run(const char *parent, int timeout_ms,
		int (*serve)(const char *cmd, struct rz_region **r, char *answer, size_t len))
{
	char cmd[DEMO_LINE_MAX], answer[DEMO_LINE_MAX];
	const int fd = DEMO_CHANNEL_FD;
	struct rz_region *r = NULL;
	int ret, failed = 0;

	ret = rz_init();
	if (ret < 0) {
		channel_send(fd, "ERR rz_init: %s", strerror(-ret));
		return fail("rz_init(): %s", strerror(-ret));
	}
	say("rz_init(): attached to rzone, next to the %s pid %d", parent, (int)getppid());
	if (channel_send(fd, "OK ready") < 0)
		return fail("no command channel on fd %d: start me through the %s",
				DEMO_CHANNEL_FD, parent);

	/* A parent that dies closes the channel: then this process detaches and exits. */
	while (channel_recv(fd, cmd, sizeof(cmd), timeout_ms) == 0) {
		if (strcmp(cmd, CMD_EXIT) == 0) {
			ret = rz_fini();
			say("rz_fini(): detached from rzone; exiting");
			channel_send(fd, ret == 0 ? "OK" : "ERR rz_fini");
			return ret == 0 && !failed ? 0 : -1;
		}
		if (serve(cmd, &r, answer, sizeof(answer)) == 0) {
			channel_send(fd, "OK %s", answer);
		} else {
			failed = fail("%s: %s", cmd, answer);
			channel_send(fd, "ERR %s", answer);
		}
	}
	fail("no more commands: the %s went away (or stalled for %d s)", parent,
			timeout_ms / 1000);
	rz_fini();
	return -1;
}

const char *
demo_perms_name(int perms)
{
	switch (perms) {
	case RZ_PERM_READ:
		return "read-only";
	case RZ_PERM_RW:
		return "read/write";
	default:
		return perms < 0 ? "not mapped" : "other";
	}
}
