/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * rzone-local-example: two processes of one DPDK instance share a hugepage region.
 *
 *   rzone-local-example --no-pci --file-prefix=rzex -l 0
 *
 * The primary creates a region, maps it and fills its first half. It starts a secondary of the
 * same DPDK instance (this program again, with the primary's EAL options and
 * --proc-type=secondary) and gives it a Share capability: a token that only the secondary can
 * use. The secondary maps the region with the token, checks the primary's bytes, writes its
 * own into the second half and unmaps the region; the primary checks them, and both detach.
 * The exit status is 0 only if every check passed.
 *
 * The two processes talk over a socketpair, one line at a time: the secondary says "ready",
 * the primary sends "map <token>", the secondary answers "ok" (or "error <why>"); "bye" lets
 * it go. A real application passes the token (or the region id) any way it likes.
 */

#define _GNU_SOURCE	/* close_range() */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include <rzone.h>

/* Two 2 MiB hugepages: the primary writes the first, the secondary the second. */
#define REGION_SIZE	(4u << 20)
/* The secondary's end of the socketpair. */
#define CHANNEL_FD	3
#define LINE_MAX_LEN	128
/* Starting a DPDK secondary takes a second or two; everything else is quick. */
#define TIMEOUT_MS	30000

/* The byte at offset @off: the primary writes seed 1, the secondary seed 2. */
static uint8_t
pattern(size_t off, unsigned int seed)
{
	return (uint8_t)((off * 131 + seed * 17) ^ (off >> 12));
}

static void
fill(uint8_t *p, size_t from, size_t to, unsigned int seed)
{
	size_t i;

	for (i = from; i < to; i++)
		p[i] = pattern(i, seed);
}

/* The offset of the first byte in [from, to) that is not pattern @seed, or @to. */
static size_t
first_bad(const uint8_t *p, size_t from, size_t to, unsigned int seed)
{
	size_t i;

	for (i = from; i < to; i++)
		if (p[i] != pattern(i, seed))
			return i;
	return to;
}

static int
send_line(int fd, const char *fmt, ...)
{
	char line[LINE_MAX_LEN];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 1)
		return -EINVAL;
	line[n++] = '\n';
	return send(fd, line, (size_t)n, MSG_NOSIGNAL) == n ? 0 : -EPIPE;
}

/* One line, without its newline. 0, -ETIMEDOUT, or -EPIPE (the other side is gone). */
static int
recv_line(int fd, char *line, size_t len, int timeout_ms)
{
	size_t n = 0;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int ret = poll(&pfd, 1, timeout_ms);

		if (ret < 0 && errno == EINTR)
			continue;
		if (ret == 0)
			return -ETIMEDOUT;
		if (ret < 0 || read(fd, line + n, 1) != 1)
			return -EPIPE;
		if (line[n] == '\n') {
			line[n] = '\0';
			return 0;
		}
		if (++n == len - 1)
			return -EINVAL;
	}
}

/* ------------------------------------------------------------------------------------------ */
/* The secondary                                                                               */
/* ------------------------------------------------------------------------------------------ */

static int
secondary_fail(int fd, const char *fmt, ...)
{
	char why[LINE_MAX_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why) - 8, fmt, ap);
	va_end(ap);
	fprintf(stderr, "secondary: FAIL: %s\n", why);
	send_line(fd, "error %s", why);
	return 1;
}

static int
run_secondary(void)
{
	int fd = CHANNEL_FD, ret, status = 0;
	char line[LINE_MAX_LEN];
	struct rz_region *r;
	uint64_t token;
	size_t size, bad;
	uint8_t *p;

	ret = rz_init();
	if (ret < 0)
		return secondary_fail(fd, "rz_init(): %s", strerror(-ret));
	if (send_line(fd, "ready") < 0 || recv_line(fd, line, sizeof(line), TIMEOUT_MS) < 0 ||
			sscanf(line, "map %" SCNx64, &token) != 1) {
		status = secondary_fail(fd, "no token from the primary");
		goto out;
	}
	/* The token maps the region into this process, with the rights of a Share capability. */
	ret = rz_capability_map(token, NULL, &r);
	if (ret < 0) {
		status = secondary_fail(fd, "rz_capability_map(): %s", strerror(-ret));
		goto out;
	}
	p = rz_region_get_mapping(r, RZ_PID_SELF);
	size = rz_region_size(r);
	printf("secondary: pid %d maps region %#" PRIx64 " (%zu bytes) at %p, %s\n",
			(int)getpid(), rz_region_id(r), size, (void *)p,
			rz_region_get_mapping_perms(r, RZ_PID_SELF) == (int)RZ_PERM_RW ?
			"read/write" : "unexpected permissions");
	bad = p == NULL ? 0 : first_bad(p, 0, size / 2, 1);
	if (p == NULL || p != rz_region_addr(r) || bad != size / 2) {
		status = secondary_fail(fd, "the primary's bytes are not there (offset %zu)", bad);
	} else {
		fill(p, size / 2, size, 2);
		printf("secondary: read the primary's %zu bytes, wrote %zu of its own\n", size / 2,
				size - size / 2);
	}
	/* Done with it: the owner can destroy it once nobody else maps it. */
	ret = rz_region_unmap(r, RZ_PID_SELF);
	if (ret < 0 && status == 0)
		status = secondary_fail(fd, "rz_region_unmap(): %s", strerror(-ret));
	if (status == 0 && send_line(fd, "ok") < 0)
		status = 1;
	/* The primary checks the bytes while this process is still attached, then lets it go. */
	if (status == 0 && (recv_line(fd, line, sizeof(line), TIMEOUT_MS) < 0 ||
			strcmp(line, "bye") != 0))
		status = 1;
out:
	ret = rz_fini();
	if (ret < 0) {
		fprintf(stderr, "secondary: FAIL: rz_fini(): %s\n", strerror(-ret));
		status = 1;
	}
	return status;
}

/* ------------------------------------------------------------------------------------------ */
/* The primary                                                                                 */
/* ------------------------------------------------------------------------------------------ */

static int failures;

static void
check(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("primary: %s: ", ok ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok)
		failures++;
}

/*
 * Start the secondary: this program, with the primary's EAL options (the same --file-prefix,
 * --base-virtaddr, ...) but --proc-type=secondary, and "secondary" after "--". @eal holds the
 * primary's command line as it was before rte_eal_init() (which may reorder argv).
 */
static pid_t
start_secondary(int argc, char **eal, int *fd)
{
	char **argv = calloc((size_t)argc + 4, sizeof(*argv));
	int i, n = 0, sv[2];
	pid_t pid;

	if (argv == NULL)
		return -1;
	argv[n++] = eal[0];
	for (i = 1; i < argc && strcmp(eal[i], "--") != 0; i++) {
		if (strcmp(eal[i], "--proc-type") == 0) {
			i++;
			continue;
		}
		if (strncmp(eal[i], "--proc-type=", strlen("--proc-type=")) != 0)
			argv[n++] = eal[i];
	}
	argv[n++] = (char *)(uintptr_t)"--proc-type=secondary";
	argv[n++] = (char *)(uintptr_t)"--";
	argv[n++] = (char *)(uintptr_t)"secondary";
	argv[n] = NULL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		free(argv);
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		/* The channel becomes CHANNEL_FD; every other descriptor the primary's EAL opened
		 * (hugepage files, its IPC socket) is closed: the secondary starts clean. */
		if (sv[1] == CHANNEL_FD ? fcntl(CHANNEL_FD, F_SETFD, 0) < 0 :
				dup2(sv[1], CHANNEL_FD) < 0)
			_exit(127);
		close_range(CHANNEL_FD + 1, ~0u, 0);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(sv[1]);
	free(argv);
	if (pid < 0) {
		close(sv[0]);
		return -1;
	}
	*fd = sv[0];
	return pid;
}

/* The secondary's exit status, or -1 if it did not exit within @timeout_ms (it is killed). */
static int
wait_secondary(pid_t pid, int timeout_ms)
{
	int status, waited;

	for (waited = 0; waited < timeout_ms; waited += 10) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		if (w < 0 && errno != EINTR)
			return -1;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

static int
run_primary(int argc, char **eal)
{
	char line[LINE_MAX_LEN];
	struct rz_region *r;
	pid_t secondary;
	uint64_t token;
	int ret, fd = -1;
	size_t size;
	uint8_t *p;

	ret = rz_init();
	if (ret < 0) {
		fprintf(stderr, "primary: FAIL: rz_init(): %s\n", strerror(-ret));
		return 1;
	}
	/* 1. A region owned by this process, read/write at most, mapped here and filled. */
	r = rz_region_create(RZ_PID_SELF, REGION_SIZE, RZ_PERM_RW);
	if (r == NULL) {
		fprintf(stderr, "primary: FAIL: rz_region_create(): %s\n", rte_strerror(rte_errno));
		rz_fini();
		return 1;
	}
	size = rz_region_size(r);
	ret = rz_region_map(r, RZ_PID_SELF, NULL, RZ_PERM_RW);
	check(ret == 0, "rz_region_map(self): %s", ret == 0 ? "mapped" : strerror(-ret));
	p = rz_region_get_mapping(r, RZ_PID_SELF);
	check(p != NULL, "region %#" PRIx64 ": %zu bytes on NUMA node %d at %p", rz_region_id(r),
			size, rz_region_numa_node(r), (void *)p);
	if (p == NULL)
		goto destroy;
	fill(p, 0, size / 2, 1);

	/* 2. A secondary of the same instance. */
	secondary = start_secondary(argc, eal, &fd);
	if (secondary < 0) {
		check(0, "cannot start the secondary: %s", strerror(errno));
		goto destroy;
	}
	ret = recv_line(fd, line, sizeof(line), TIMEOUT_MS);
	check(ret == 0 && strcmp(line, "ready") == 0, "secondary pid %d started: %s",
			(int)secondary, ret < 0 ? strerror(-ret) : line);
	check(rz_process_attached(secondary) == 1, "rz_process_attached(%d)", (int)secondary);

	/* 3. A capability that only the secondary can use, once: it maps the region with it. */
	ret = rz_region_create_capability(r, secondary, RZ_MODE_SHARE, &token);
	check(ret == 0, "rz_region_create_capability(pid %d, Share): %s", (int)secondary,
			ret == 0 ? "token made" : strerror(-ret));
	if (ret == 0 && send_line(fd, "map %" PRIx64, token) == 0) {
		ret = recv_line(fd, line, sizeof(line), TIMEOUT_MS);
		check(ret == 0 && strcmp(line, "ok") == 0, "the secondary mapped the region, "
				"checked our bytes, wrote its own and unmapped it: %s",
				ret < 0 ? strerror(-ret) : line);
	}

	/* 4. The secondary's bytes, seen here; nothing of it maps the region any more. */
	check(first_bad(p, size / 2, size, 2) == size, "the secondary's %zu bytes are here",
			size - size / 2);
	check(first_bad(p, 0, size / 2, 1) == size / 2, "ours are intact");
	check(rz_region_get_mapping(r, secondary) == NULL && rte_errno == ENOENT,
			"the secondary no longer maps the region");
	send_line(fd, "bye");
	ret = wait_secondary(secondary, TIMEOUT_MS);
	check(ret == 0, "the secondary exited with status %d", ret);
	close(fd);

destroy:
	/* 5. Clean teardown: unmap, destroy (nobody else maps it), detach. */
	ret = rz_region_unmap(r, RZ_PID_SELF);
	check(ret == 0 || p == NULL, "rz_region_unmap(self): %s",
			ret == 0 ? "done" : strerror(-ret));
	ret = rz_region_destroy(r);
	check(ret == 0, "rz_region_destroy(): %s", ret == 0 ? "done" : strerror(-ret));
	check(rz_region_count() == 0, "no region left");
	ret = rz_fini();
	check(ret == 0, "rz_fini(): %s", ret == 0 ? "done" : strerror(-ret));
	return failures == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	char **eal = calloc((size_t)argc + 1, sizeof(*eal));
	int eal_argc = argc, ret, status;

	if (eal == NULL)
		return 1;
	/* Line by line, so that both processes' lines come out in order. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	memcpy(eal, argv, (size_t)argc * sizeof(*argv));
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "FAIL: rte_eal_init(): %s (run as root, with hugepages reserved "
				"and mounted)\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= ret;
	argv += ret;
	if (argc == 2 && strcmp(argv[1], "secondary") == 0) {
		status = run_secondary();
	} else if (argc == 1 && rte_eal_process_type() == RTE_PROC_PRIMARY) {
		status = run_primary(eal_argc, eal);
		printf("rzone-local-example: %s\n", status == 0 ? "PASS" : "FAIL");
	} else {
		fprintf(stderr, "usage: %s [EAL options]   (as a DPDK primary; no other "
				"arguments)\n", eal[0]);
		status = 2;
	}
	rte_eal_cleanup();
	free(eal);
	return status;
}
