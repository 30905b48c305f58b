/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * rz-test-agent: a DPDK secondary process that runs rzone calls on command from the test driver.
 * One command a line on stdin, one answer a line on stdout: "ok <value>" or "err <errno>".
 *
 *   pid | lookup ID | map ID PID VADDR PERMS | unmap ID PID | get ID PID | perms ID PID
 *   write ID OFF TEXT | read ID OFF LEN | create SIZE PERMS | destroy ID | transfer ID PID
 *   cap ID PID MODE | capmap TOKEN VADDR | revoke TOKEN | owner ID | rawmp HEX | fini | quit
 *   fdflood N NFDS (N rzone IPC messages to the primary, NFDS file descriptors each)
 *   fillfds (open descriptors until EMFILE, keep them) | freefds
 *   fault POINT (SIGKILL this process at fault point POINT, in a -Dfault_injection build)
 *
 * ID: a region id, or h<handle> (a handle printed by another process, used as it is).
 * Numbers may be decimal or 0x-hex. "write" goes through this process's own mapping, so a
 * write through a read-only mapping kills the agent with SIGSEGV, as it should.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_string_fns.h>

#include "mp_msg.h"
#include "rzone.h"

static uint64_t
num(const char *s)
{
	return s == NULL ? 0 : strtoull(s, NULL, 0);
}

/* ID is a region id, or "h<value>": a region handle as another process printed it (handles are
 * the same in every process of the instance), used as it is, even if its region is gone. */
static struct rz_region *
region(const char *s)
{
	if (s != NULL && s[0] == 'h') {
		rte_errno = EINVAL;
		return (struct rz_region *)(uintptr_t)num(s + 1);
	}
	return rz_region_lookup(num(s));
}

static void
answer(int ret)
{
	if (ret < 0)
		printf("err %d\n", -ret);
	else
		printf("ok %d\n", ret);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Send raw bytes as a one-way rzone IPC message to the primary, as any process can. */
static void
rawmp(const char *hex)
{
	struct rte_mp_msg m;
	size_t n = 0;

	memset(&m, 0, sizeof(m));
	strlcpy(m.name, RZ_MP_ACTION, sizeof(m.name));
	while (hex != NULL && hex[0] != '\0' && hex[1] != '\0' && n < sizeof(m.param)) {
		int hi = hexval(hex[0]), lo = hexval(hex[1]);

		if (hi < 0 || lo < 0)
			break;
		m.param[n++] = (uint8_t)(hi << 4 | lo);
		hex += 2;
	}
	m.len_param = (int)n;
	if (rte_mp_sendmsg(&m) < 0)
		printf("err %d\n", rte_errno);
	else
		printf("ok %zu\n", n);
}

/* N one-way rzone messages with @nfds descriptors (of /dev/null) each, as any local process
 * can send: the receiver must close them. Answers how many were sent. */
static void
fdflood(unsigned int n, unsigned int nfds)
{
	unsigned int i, sent = 0, k, tries;
	struct rte_mp_msg m;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || nfds > RTE_MP_MAX_FD_NUM) {
		printf("err %d\n", fd < 0 ? errno : EINVAL);
		return;
	}
	memset(&m, 0, sizeof(m));
	strlcpy(m.name, RZ_MP_ACTION, sizeof(m.name));
	m.len_param = 4;	/* too short: rejected */
	m.num_fds = (int)nfds;
	for (k = 0; k < nfds; k++)
		m.fds[k] = fd;
	for (i = 0; i < n; i++) {
		/* The receiver's socket queue may be full for a moment: retry a while. */
		for (tries = 0; tries < 1000; tries++) {
			if (rte_mp_sendmsg(&m) == 0) {
				sent++;
				break;
			}
			usleep(1000);
		}
	}
	close(fd);
	printf("ok %u\n", sent);
}

/* Descriptors held open by fillfds, to keep this process at its limit (EMFILE). */
static int held_fds[65536];
static unsigned int held_n;

static void
command(char *line)
{
	char *argv[8] = { NULL };
	char *save = NULL, *tok;
	int argc = 0;

	for (tok = strtok_r(line, " \n", &save); tok != NULL && argc < 8;
			tok = strtok_r(NULL, " \n", &save))
		argv[argc++] = tok;
	if (argc == 0)
		return;
	if (!strcmp(argv[0], "pid")) {
		printf("ok %d\n", (int)getpid());
	} else if (!strcmp(argv[0], "lookup")) {
		struct rz_region *r = region(argv[1]);

		if (r == NULL)
			printf("err %d\n", rte_errno);
		else
			printf("ok %p\n", (void *)r);
	} else if (!strcmp(argv[0], "map")) {
		struct rz_region *r = region(argv[1]);

		answer(r == NULL ? -rte_errno : rz_region_map(r, (pid_t)num(argv[2]),
				(void *)(uintptr_t)num(argv[3]), (uint32_t)num(argv[4])));
	} else if (!strcmp(argv[0], "unmap")) {
		struct rz_region *r = region(argv[1]);

		answer(r == NULL ? -rte_errno : rz_region_unmap(r, (pid_t)num(argv[2])));
	} else if (!strcmp(argv[0], "get")) {
		struct rz_region *r = region(argv[1]);
		void *p = r == NULL ? NULL : rz_region_get_mapping(r, (pid_t)num(argv[2]));

		if (p == NULL)
			printf("err %d\n", rte_errno);
		else
			printf("ok %p\n", p);
	} else if (!strcmp(argv[0], "perms")) {
		struct rz_region *r = region(argv[1]);

		answer(r == NULL ? -rte_errno :
				rz_region_get_mapping_perms(r, (pid_t)num(argv[2])));
	} else if (!strcmp(argv[0], "write") && argc >= 4) {
		struct rz_region *r = region(argv[1]);
		char *p = r == NULL ? NULL : rz_region_get_mapping(r, RZ_PID_SELF);

		if (p == NULL) {
			printf("err %d\n", rte_errno);
		} else {
			fflush(stdout);
			/* A fault must kill us, even where a sanitizer catches SIGSEGV. */
			signal(SIGSEGV, SIG_DFL);
			strcpy(p + num(argv[2]), argv[3]);
			printf("ok 0\n");
		}
	} else if (!strcmp(argv[0], "read") && argc >= 4) {
		struct rz_region *r = region(argv[1]);
		const char *p = r == NULL ? NULL : rz_region_get_mapping(r, RZ_PID_SELF);

		if (p == NULL)
			printf("err %d\n", rte_errno);
		else
			printf("ok %.*s\n", (int)num(argv[3]), p + num(argv[2]));
	} else if (!strcmp(argv[0], "create")) {
		struct rz_region *r = rz_region_create(RZ_PID_SELF, num(argv[1]),
				(uint32_t)num(argv[2]));

		if (r == NULL)
			printf("err %d\n", rte_errno);
		else
			printf("ok %#" PRIx64 "\n", rz_region_id(r));
	} else if (!strcmp(argv[0], "destroy")) {
		struct rz_region *r = region(argv[1]);

		answer(r == NULL ? -rte_errno : rz_region_destroy(r));
	} else if (!strcmp(argv[0], "transfer")) {
		struct rz_region *r = region(argv[1]);

		answer(r == NULL ? -rte_errno :
				rz_region_transfer_ownership(r, (pid_t)num(argv[2])));
	} else if (!strcmp(argv[0], "owner")) {
		struct rz_region *r = region(argv[1]);

		answer(r == NULL ? -rte_errno : rz_region_owner(r));
	} else if (!strcmp(argv[0], "cap")) {
		struct rz_region *r = region(argv[1]);
		uint64_t t = 0;
		int ret = r == NULL ? -rte_errno : rz_region_create_capability(r,
				(pid_t)num(argv[2]), (enum rz_transfer_mode)num(argv[3]), &t);

		if (ret < 0)
			printf("err %d\n", -ret);
		else
			printf("ok %#" PRIx64 "\n", t);
	} else if (!strcmp(argv[0], "capmap")) {
		struct rz_region *r = NULL;
		int ret = rz_capability_map(num(argv[1]), (void *)(uintptr_t)num(argv[2]), &r);

		if (ret < 0)
			printf("err %d\n", -ret);
		else
			printf("ok %#" PRIx64 "\n", rz_region_id(r));
	} else if (!strcmp(argv[0], "revoke")) {
		answer(rz_capability_revoke(num(argv[1])));
	} else if (!strcmp(argv[0], "rawmp")) {
		rawmp(argv[1]);

	} else if (!strcmp(argv[0], "fdflood")) {
		fdflood((unsigned int)num(argv[1]), (unsigned int)num(argv[2]));
	} else if (!strcmp(argv[0], "fillfds")) {
		int fd;

		while (held_n < RTE_DIM(held_fds) &&
				(fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
			held_fds[held_n++] = fd;
		printf("ok %u\n", held_n);
	} else if (!strcmp(argv[0], "freefds")) {
		while (held_n > 0)
			close(held_fds[--held_n]);
		printf("ok 0\n");
	} else if (!strcmp(argv[0], "fault") && argc >= 2) {
		/* Fault injection (-Dfault_injection=true): die at that step from now on. */
		answer(setenv("RZ_FAULT_KILL", argv[1], 1) == 0 ? 0 : -errno);
	} else if (!strcmp(argv[0], "fini")) {
		answer(rz_fini());
	} else if (!strcmp(argv[0], "quit")) {
		printf("ok %d\n", rz_fini());
		fflush(stdout);
		rte_eal_cleanup();
		exit(0);
	} else {
		printf("err %d\n", EINVAL);
	}
}

int
main(int argc, char **argv)
{
	char line[1024];
	int ret;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		printf("err %d eal\n", rte_errno);
		return 1;
	}
	/* "--no-rzone": a plain DPDK secondary that never attaches to rzone. */
	/* rte_eal_init() leaves the program name at argv[ret], the application's arguments
	 * after. */
	if (ret + 1 < argc && strcmp(argv[ret + 1], "--no-rzone") == 0) {
		printf("ready %d\n", (int)getpid());
		fflush(stdout);
		while (fgets(line, sizeof(line), stdin) != NULL) {
			printf("ok 0\n");
			fflush(stdout);
			if (strncmp(line, "quit", 4) == 0)
				break;
		}
		rte_eal_cleanup();
		return 0;
	}
	ret = rz_init();
	if (ret < 0) {
		printf("err %d rz_init\n", -ret);
		return 1;
	}
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		command(line);
		fflush(stdout);
	}
	/* Driver closed the pipe: leave like a well-behaved process. */
	rz_fini();
	rte_eal_cleanup();
	return 0;
}
