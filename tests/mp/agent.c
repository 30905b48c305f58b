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
 *   pkt... (packet pools and rings: tests/mp/agent_pkt.c)
 *   count (rz_region_count()) | mbfuzz SLOT N SEED ID (N malformed or hostile requests written
 *   into this process's own mailbox records, each posted to process slot SLOT as any buggy
 *   process could; answers "ok <rejected with EPROTO> <ignored> <other errors> <done>")
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

#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_memzone.h>
#include <rte_string_fns.h>

#include "agent_pkt.h"
#include "core_private.h"
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

/* The record tag of doc/wire-format.md ("Local mailbox"), as lib/mp/mp.c writes it. */
#define TAG(seq, st) (((uint64_t)(seq) << 32) | (uint64_t)(st))
#define TAG_SEQ(t)	((uint32_t)((t) >> 32))
#define TAG_ST(t)	((uint32_t)(t) & 0xffu)
#define TAG_ERR(t)	(((uint32_t)(t) >> 16) & 0xffffu)
#define ST_FREE 0
#define ST_WRITING 1
#define ST_POSTED 2
#define ST_DONE 4

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Hostile requests through the shared mailboxes: the body of one of this process's own records
 * is written with noise, or a plausible UNMAP of region @id with one byte changed, posted to
 * process slot @target, and its answer awaited (20 ms if the target has not taken it). The
 * records are ours: this agent has no request of its own in flight meanwhile.
 */
static void
mbfuzz(uint32_t target, unsigned int n, unsigned int seed, uint64_t id)
{
	const struct rte_memzone *mz = rte_memzone_lookup(RZ_TABLE_MZ);
	unsigned int k, answered = 0, ignored = 0, other = 0, done = 0;
	struct rz_table *t = mz == NULL ? NULL : mz->addr;
	struct mp_mailbox *own, *mb;
	struct rz_mp_msg base;
	uint32_t self;

	if (t == NULL || target >= RZ_MAX_PROCS) {
		printf("err %d\n", EINVAL);
		return;
	}
	for (self = 0; self < RZ_MAX_PROCS; self++)
		if (t->procs[self].state == PROC_LIVE && t->procs[self].pid == getpid())
			break;
	if (self == RZ_MAX_PROCS) {
		printf("err %d\n", ESRCH);
		return;
	}
	own = &t->mbox[self];
	mb = &t->mbox[target];
	memset(&base, 0, sizeof(base));
	base.magic = RZ_MP_MAGIC;
	base.version = RZ_MP_VERSION;
	base.op = RZ_MP_OP_UNMAP;
	base.region_id = id;
	base.requester = self;
	base.requester_gen = t->procs[self].gen;
	base.target = target;
	base.target_gen = t->procs[target].gen;
	base.target_pid = t->procs[target].pid;
	for (k = 0; k < n; k++) {
		uint32_t i = RZ_MP_RECORDS - 1 - k % 8, seq, j;
		struct mp_record *r = &own->rec[i];
		uint64_t body[RZ_MP_BODY_WORDS], tag, t0;
		uint8_t *b = (uint8_t *)body;

		seq = TAG_SEQ(__atomic_load_n(&r->tag, __ATOMIC_ACQUIRE)) + 1;
		base.seq = seq;
		base.deadline_ns = mono_ns() + 1000000000ull;
		memcpy(body, &base, sizeof(body));
		switch (k % 3) {
		case 0:	/* noise */
			for (j = 0; j < sizeof(body); j++)
				b[j] = (uint8_t)rand_r(&seed);
			break;
		case 1:	/* one byte changed */
			b[(size_t)rand_r(&seed) % sizeof(body)] = (uint8_t)rand_r(&seed);
			break;
		default:	/* one word of noise */
			body[(size_t)rand_r(&seed) % RZ_MP_BODY_WORDS] =
				(uint64_t)rand_r(&seed) << 32 | (uint64_t)rand_r(&seed);
			break;
		}
		__atomic_store_n(&r->tag, TAG(seq, ST_WRITING), __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_RELEASE);
		for (j = 0; j < RZ_MP_BODY_WORDS; j++)
			__atomic_store_n(&r->body[j], body[j], __ATOMIC_RELAXED);
		__atomic_store_n(&r->tag, TAG(seq, ST_POSTED), __ATOMIC_RELEASE);
		__atomic_fetch_or(&mb->pending[self], UINT64_C(1) << i, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&mb->bell, 1, __ATOMIC_SEQ_CST);
		syscall(SYS_futex, &mb->bell, FUTEX_WAKE, 1, NULL, NULL, 0);
		t0 = mono_ns();
		do {
			tag = __atomic_load_n(&r->tag, __ATOMIC_ACQUIRE);
			if (TAG_ST(tag) == ST_DONE)
				break;
			usleep(50);
		} while (mono_ns() - t0 < 20000000ull);
		if (TAG_ST(tag) == ST_DONE) {
			if (TAG_ERR(tag) == EPROTO)
				answered++;
			else if (TAG_ERR(tag) == 0)
				done++;
			else
				other++;
			continue;
		}
		/* Not taken (not for the target): take it back. Taken: wait for the answer. */
		tag = TAG(seq, ST_POSTED);
		if (__atomic_compare_exchange_n(&r->tag, &tag, TAG(seq, ST_FREE), false,
				__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			ignored++;
			continue;
		}
		while (TAG_ST(tag) != ST_DONE && mono_ns() - t0 < 3000000000ull) {
			usleep(100);
			tag = __atomic_load_n(&r->tag, __ATOMIC_ACQUIRE);
		}
		if (TAG_ST(tag) == ST_DONE && TAG_ERR(tag) == EPROTO)
			answered++;
		else if (TAG_ST(tag) == ST_DONE && TAG_ERR(tag) == 0)
			done++;
		else
			other++;
	}
	printf("ok %u %u %u %u\n", answered, ignored, other, done);
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
	} else if (!strcmp(argv[0], "count")) {
		answer(rz_region_count());
	} else if (!strcmp(argv[0], "mbfuzz") && argc >= 5) {
		mbfuzz((uint32_t)num(argv[1]), (unsigned int)num(argv[2]),
				(unsigned int)num(argv[3]), num(argv[4]));
	} else if (agent_pkt_command(argc, argv)) {
		/* answered */
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
