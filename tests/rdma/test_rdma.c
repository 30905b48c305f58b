/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * rzone remote on a real RDMA device (Soft-RoCE rxe0 in the VM lane). Two processes per test:
 * this one, a DPDK primary owning the regions, and a peer: the same binary started with
 * "--peer SCRIPT IP PORT [ARG]", a plain verbs process (no EAL) that connects, receives a
 * descriptor and runs SCRIPT; its exit status is the verdict of its half.
 *
 * The abuse tests (issue 10; doc/guide.md "Threat model") add a third kind of process: a raw
 * peer, "--raw SCRIPT IP PORT", plain rdma_cm + verbs without rzone, that sends what rzone never
 * would. Each runs while a well-behaved "cmd" peer does rounds (a grant, a WRITE and a READ
 * through it, three message round trips, a revoke) whose latency is printed before, during
 * and after (a figure in the log, not asserted):
 * - "SEND flood and garbage": the raw peer sends 640 SENDs (40x the 16 receive slots), 7 of
 *   every 8 garbage (random bytes, a truncated or oversize message, wrong magic, a descriptor
 *   of version 99, a cut descriptor, 3 bytes), then one longer than the 128-byte slot. While the
 *   owner takes nothing the flood waits at the door (RNR) and the good peer is served; then
 *   each message is delivered or refused (-EBADMSG, or -ENOMSG + a refused descriptor counted
 *   in desc_rejected) in order; the long one ends that connection only (-ENOTCONN). The owner's
 *   RSS (/proc/self/statm) grows by less than 4 MiB, its fds do not grow, peers / grants /
 *   used_mr of /rzone/rdma come back to their baseline; used_mw grows by at most 64 (the
 *   window pool, kept for reuse, grows 16 at a time).
 * - "connect/disconnect churn": the raw peer connects and disconnects 1000 times (300 under
 *   AddressSanitizer; every 50th with a bad hello, refused with -EPROTO; rate printed). The
 *   owner accepts each, sees it go within 10 s, closes it; afterwards peers, grants,
 *   registrations, fds and RSS are back within the same bounds and the good peer works.
 * - "a peer that never posts receives": the raw peer posts no receive. The owner's first message
 *   to it is given up after the 5 s control timeout (-ETIMEDOUT, < 10 s asserted), later
 *   messages and grants are refused after the 100 ms backlog wait (-EAGAIN, < 2.5 s asserted,
 *   nothing granted); another owner thread keeps calling it while the good peer does its rounds.
 *
 * Environment: RZ_RDMA_TEST_IP (default 10.0.2.15), RZ_RDMA_DEV (default: first device),
 * RZ_TEST_ONLY (run only the cases whose name contains it, tests/common; for development).
 *
 * Two hosts (suite wire, tests/rdma/run_wire_test.sh): "--peer-server" on one host starts the
 * peers there on request (wire_ctl.c); "--wire-owner" on the other (RZ_WIRE_SELF, RZ_WIRE_OTHER)
 * runs the cases of wire_cases[] with every peer on the other host, over the wire.
 * The test sets RZ_RDMA_IMPORT=1 for itself (the primary) and the secondaries it spawns, so the
 * secondary's context request is a real import request and the primary answers it.
 */

#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <dirent.h>
#include <sched.h>
#include <rdma/rdma_cma.h>
#include <rdma/rdma_verbs.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

#include "rz_test.h"
#include "rzone.h"
#include "rzone_rdma.h"
#include "wire_ctl.h"

#define MB2		(2u << 20)
#define TMO		60000	/* ms: everything is slow under TCG */
#define PEER_BUF	(1u << 20)
#define REVOKE_TRIES	10000

extern char **environ;

static const char *test_ip;
static struct rz_peer_listener *lst;
static char self_exe[4096];
static char file_prefix[64];
static uint64_t primary_reg_us;

static uint64_t now_us(void);
static int cmp_u64(const void *a, const void *b);

/* ---------------------------------------------------------------------------------------- */
/* Peer side (no EAL). */

#define PFAIL(...) do { fprintf(stderr, "peer: FAIL: " __VA_ARGS__); fprintf(stderr, "\n"); \
	return 1; } while (0)

struct desc_msg {
	uint64_t region_id, generation, addr, length, issuer, target;
	uint32_t rkey;
	uint8_t rights, mode;
};

static int
peer_wait_msg(struct rz_peer *p, const char *want)
{
	char buf[64];
	int n = rz_peer_recv_msg(p, buf, TMO);

	if (n < 0 || (size_t)n != strlen(want) || memcmp(buf, want, (size_t)n) != 0) {
		fprintf(stderr, "peer: expected message '%s', got %d\n", want, n);
		return -1;
	}
	return 0;
}

struct cmd_reply {
	int32_t status;
	uint8_t first;
};

/* "cmd": the owner drives the peer with messages. D: receive a descriptor (answer: desc_msg);
 * R: read 4096 bytes at 0 (answer: cmd_reply); W<byte>: write 4096 such bytes at 0; Q: quit. */
static int
peer_cmd(struct rz_peer *p, struct rz_rdma_mem *mem, uint8_t *buf)
{
	struct rz_rdma_desc d;
	struct cmd_reply cr;
	char m[64];
	int n, ret;

	memset(&d, 0, sizeof(d));
	for (;;) {
		n = rz_peer_recv_msg(p, m, TMO);
		if (n < 1)
			PFAIL("cmd: no command: %d", n);
		switch (m[0]) {
		case 'D': {
			struct desc_msg dm;

			ret = rz_peer_recv_desc(p, &d, TMO);
			if (ret != 0)
				PFAIL("cmd: rz_peer_recv_desc: %s", strerror(-ret));
			dm = (struct desc_msg){ d.region_id, d.generation, d.addr, d.length,
				d.issuer, d.target, d.rkey, (uint8_t)d.rights, (uint8_t)d.mode };
			ret = rz_peer_send_msg(p, &dm, sizeof(dm));
			break;
		}
		case 'R':
		case 'W':
			if (m[0] == 'W' && n < 2)
				PFAIL("cmd: W without a byte");
			buf[0] = 0;
			if (m[0] == 'W')
				memset(buf, (uint8_t)m[1], 4096);
			cr.status = m[0] == 'R' ? rz_remote_read(p, mem, 0, &d, 0, 4096) :
				rz_remote_write(p, mem, 0, &d, 0, 4096);
			cr.first = buf[0];
			if (cr.status != 0) {
				/* The QP is in error after a refused access: no answer can go
				 * through; the exit status is the errno. */
				fprintf(stderr, "peer: cmd %c: %s\n", m[0], strerror(-cr.status));
				return -cr.status;
			}
			ret = rz_peer_send_msg(p, &cr, sizeof(cr));
			break;
		case 'Q':
			return 0;
		default:
			PFAIL("cmd: unknown command %c", m[0]);
		}
		if (ret != 0)
			PFAIL("cmd: answer: %s", strerror(-ret));
	}
}

/* "drain N": receive N descriptors, answer "done", wait for "bye". */
static int
peer_drain(struct rz_peer *p, int n)
{
	struct rz_rdma_desc d;
	int i, ret;

	for (i = 0; i < n; i++) {
		ret = rz_peer_recv_desc(p, &d, TMO);
		if (ret != 0)
			PFAIL("drain: descriptor %d: %s", i, strerror(-ret));
	}
	if (rz_peer_send_msg(p, "done", 4) != 0 || peer_wait_msg(p, "bye") != 0)
		PFAIL("drain: handshake");
	return 0;
}

#define STREAM_CHUNK	(64u << 10)
#define STREAM_DEPTH	8

/* "stream": write 0xc3 through the window in 64 KiB chunks, STREAM_DEPTH in flight, for ever
 * (the owner kills us with SIGKILL); "streaming" once 32 writes completed. */
static int
peer_stream(struct rz_peer *p, struct rz_rdma_mem *mem, uint8_t *buf,
		const struct rz_rdma_desc *d)
{
	struct rz_remote_op op = { .opcode = RZ_REMOTE_WRITE, .local = mem, .remote = d,
		.len = STREAM_CHUNK };
	struct rz_remote_cqe cqe[STREAM_DEPTH];
	uint64_t posted = 0, done = 0;
	int n, i;

	memset(buf, 0xc3, STREAM_CHUNK);
	for (;;) {
		while (posted - done < STREAM_DEPTH) {
			op.remote_off = (posted * STREAM_CHUNK) % d->length;
			op.wr_id = posted;
			if (rz_remote_post(p, &op) != 0)
				PFAIL("stream: post %" PRIu64, posted);
			posted++;
		}
		n = rz_remote_poll(p, cqe, STREAM_DEPTH);
		if (n < 0)
			PFAIL("stream: poll: %d", n);
		for (i = 0; i < n; i++)
			if (cqe[i].status != 0)
				PFAIL("stream: write %" PRIu64 ": %d", cqe[i].wr_id, cqe[i].status);
		if (done < 32 && done + (uint64_t)n >= 32 &&
				rz_peer_send_msg(p, "streaming", 9) != 0)
			PFAIL("stream: send");
		done += (uint64_t)n;
	}
}

#define REVOKE_QPS	40

/* After the 10000 attempts on the first QP (only the first of which reaches the responder: the
 * QP is in error after it and the rest are flushed), REVOKE_QPS fresh connections. On each: a
 * new grant, a control read through it that must succeed, then the owner revokes it and the
 * first work request on that healthy QP tries a revoked rkey, so the responder really checks
 * it: even iterations the window just revoked on this very QP, odd ones the first revoked
 * rkey (bound on a QP that is gone). Every one must be a remote access error. */
static int
peer_revoke_fresh(const char *ip, const char *port, struct rz_rdma_mem *mem,
		const struct rz_rdma_desc *first)
{
	int i, ret, n_own = 0, n_old = 0;
	struct rz_rdma_desc d;
	struct rz_peer *q;
	int32_t res;

	for (i = 0; i < REVOKE_QPS; i++) {
		q = rz_peer_connect(ip, (uint16_t)atoi(port), TMO);
		if (q == NULL)
			PFAIL("fresh QP %d: connect: %s", i, strerror(rte_errno));
		ret = rz_peer_recv_desc(q, &d, TMO);
		if (ret != 0)
			PFAIL("fresh QP %d: descriptor: %s", i, strerror(-ret));
		ret = rz_remote_read(q, mem, 0, &d, 0, 8);
		if (ret != 0)
			PFAIL("fresh QP %d: control read through a live grant: %s", i,
					strerror(-ret));
		if (rz_peer_send_msg(q, "ok", 2) != 0 || peer_wait_msg(q, "revoked") != 0)
			PFAIL("fresh QP %d: handshake", i);
		res = rz_remote_read(q, mem, 0, i % 2 == 0 ? &d : first, 0, 8);
		if (res == 0)
			PFAIL("fresh QP %d: revoked rkey 0x%08x SUCCEEDED", i,
					(i % 2 == 0 ? &d : first)->rkey);
		if (res != -EACCES)
			PFAIL("fresh QP %d: got %d (%s), want -EACCES", i, res, strerror(-res));
		if (i % 2 == 0)
			n_own++;
		else
			n_old++;
		/* The QP is in error now (no answer can go through it): disconnecting tells the
		 * owner this iteration is over. */
		rz_peer_close(q);
	}
	fprintf(stderr, "peer: %d fresh QPs, each first WR after a successful control read: %d "
			"windows revoked on their own QP, %d tries of the first revoked rkey: all "
			"remote access errors\n", REVOKE_QPS, n_own, n_old);
	return 0;
}

#define REBIND_QPS	6
#define REBIND_GRANTS	48

/* "rebind": on REBIND_QPS connections (the first, then fresh ones) the owner grants and revokes
 * REBIND_GRANTS times, so that the windows of this QP are bound again and again, then grants once
 * more. We read through the live grant (must work), then try ONE stale rkey as the next work
 * request: one of the same window as the live grant when there is one (the window re-bound with
 * another key: the case that matters), else the latest. It must be a remote access error. */
static int
peer_rebind(struct rz_peer *p, const char *ip, const char *port, struct rz_rdma_mem *mem)
{
	static struct rz_rdma_desc d[REBIND_GRANTS + 1];
	const struct rz_rdma_desc *live = &d[REBIND_GRANTS];
	int q, i, ret, pick, same = 0;

	for (q = 0; q < REBIND_QPS; q++) {
		if (q > 0) {
			p = rz_peer_connect(ip, (uint16_t)atoi(port), TMO);
			if (p == NULL)
				PFAIL("rebind QP %d: connect: %s", q, strerror(rte_errno));
		}
		for (i = 0; i <= REBIND_GRANTS; i++) {
			ret = rz_peer_recv_desc(p, &d[i], TMO);
			if (ret != 0)
				PFAIL("rebind QP %d: descriptor %d: %s", q, i, strerror(-ret));
		}
		pick = REBIND_GRANTS - 1;
		for (i = 0; i < REBIND_GRANTS; i++) {
			if (d[i].rkey == live->rkey)
				PFAIL("rebind QP %d: rkey 0x%08x handed out twice", q, live->rkey);
			if ((d[i].rkey >> 8) == (live->rkey >> 8))
				pick = i;
		}
		same += (d[pick].rkey >> 8) == (live->rkey >> 8);
		ret = rz_remote_read(p, mem, 0, live, 0, 8);
		if (ret != 0)
			PFAIL("rebind QP %d: read through the live grant: %s", q, strerror(-ret));
		ret = rz_remote_read(p, mem, 0, &d[pick], 0, 8);
		if (ret == 0)
			PFAIL("rebind QP %d: stale rkey 0x%08x (live 0x%08x) SUCCEEDED", q,
					d[pick].rkey, live->rkey);
		if (ret != -EACCES)
			PFAIL("rebind QP %d: stale rkey: got %d (%s), want -EACCES", q, ret,
					strerror(-ret));
		rz_peer_close(p);	/* the QP is in error: the owner sees us go */
	}
	fprintf(stderr, "peer: %d QPs x %d revoked grants: %d stale rkeys of a window since "
			"re-bound for the live grant, all remote access errors\n", REBIND_QPS,
			REBIND_GRANTS, same);
	if (same == 0)
		PFAIL("no window was re-bound: the test proves nothing");
	return 0;
}

#define UNSIG_OPS	1000
#define UNSIG_EVERY	50
#define UNSIG_CHUNK	64
#define BURST_OPS	16	/* one burst of "unsig" (rz_remote_post_burst()) */
#define BURST_CHUNK	1024
#define BURST_OFF	65536	/* past the unsignaled run's bytes */

static inline uint8_t
burst_byte(int k)
{
	return (uint8_t)(0xa0 + k);
}

static uint8_t
unsig_byte(int i)
{
	return (uint8_t)(i * 7 + 1);
}

/* "unsig": UNSIG_OPS writes of UNSIG_CHUNK bytes, only every UNSIG_EVERY-th signaled; exactly
 * the signaled ones complete, in order, and then every slot is free again (a sync call works).
 * Then the run limit, and an unknown flag. */
/* Bursts (rz_remote_post_burst()), after the unsignaled run: BURST_OPS writes of BURST_CHUNK
 * bytes at BURST_OFF with one doorbell, the last signaled: one completion, the bytes land (the
 * owner checks them: burst_byte()). Bad bursts are refused whole: nothing in flight after them
 * (a synchronous call goes through). The unsignaled limit holds across bursts. */
static int
peer_unsig_burst(struct rz_peer *p, struct rz_rdma_mem *mem, uint8_t *buf,
		const struct rz_rdma_desc *d)
{
	struct rz_remote_op ops[RZ_REMOTE_BURST_MAX + 1];
	struct rz_remote_cqe cqe[4];
	int k, n, ret;

	for (k = 0; k < (int)RTE_DIM(ops); k++) {
		ops[k] = (struct rz_remote_op){ .opcode = RZ_REMOTE_WRITE, .local = mem,
			.local_off = BURST_OFF + (size_t)(k % BURST_OPS) * BURST_CHUNK,
			.remote = d, .remote_off = BURST_OFF + (uint64_t)(k % BURST_OPS) *
			BURST_CHUNK, .len = BURST_CHUNK, .wr_id = 7000 + (uint64_t)k,
			.flags = RZ_REMOTE_F_UNSIGNALED };
		memset(buf + ops[k].local_off, burst_byte(k % BURST_OPS), BURST_CHUNK);
	}
	if ((ret = rz_remote_post_burst(p, ops, 0)) != -EINVAL ||
			(ret = rz_remote_post_burst(p, ops, RZ_REMOTE_BURST_MAX + 1)) != -EINVAL)
		PFAIL("burst: empty or oversized burst: %d, want -EINVAL", ret);
	ops[5].flags = 2;	/* unknown flag in the middle */
	if ((ret = rz_remote_post_burst(p, ops, BURST_OPS)) != -EINVAL)
		PFAIL("burst: a bad operation inside: %d, want -EINVAL", ret);
	ops[5].flags = RZ_REMOTE_F_UNSIGNALED;
	ops[7].remote_off = d->length;	/* past the window */
	if ((ret = rz_remote_post_burst(p, ops, BURST_OPS)) != -ERANGE)
		PFAIL("burst: an operation past the window: %d, want -ERANGE", ret);
	ops[7].remote_off = BURST_OFF + 7 * BURST_CHUNK;
	if ((ret = rz_remote_read(p, mem, PEER_BUF / 2, d, 0, 8)) != 0)
		PFAIL("burst: refused bursts left something in flight: %s", strerror(-ret));
	ops[BURST_OPS - 1].flags = 0;
	if ((ret = rz_remote_post_burst(p, ops, BURST_OPS)) != BURST_OPS)
		PFAIL("burst: %d posted, want %d", ret, BURST_OPS);
	do
		n = rz_remote_poll(p, cqe, RTE_DIM(cqe));
	while (n == 0);
	if (n != 1 || cqe[0].wr_id != 7000 + BURST_OPS - 1 || cqe[0].status != 0)
		PFAIL("burst: %d completions, first wr_id %" PRIu64 " status %d", n, cqe[0].wr_id,
				cqe[0].status);
	/* The unsignaled limit across bursts: 2 x 32 unsignaled, then one more is refused. */
	ops[BURST_OPS - 1].flags = RZ_REMOTE_F_UNSIGNALED;
	for (k = 0; k < RZ_REMOTE_UNSIGNALED_MAX / RZ_REMOTE_BURST_MAX; k++)
		if ((ret = rz_remote_post_burst(p, ops, RZ_REMOTE_BURST_MAX)) !=
				RZ_REMOTE_BURST_MAX)
			PFAIL("burst: unsignaled burst %d: %d", k, ret);
	if ((ret = rz_remote_post_burst(p, ops, 1)) != -ENOBUFS)
		PFAIL("burst: one past the unsignaled limit: %d, want -ENOBUFS", ret);
	ops[0].flags = 0;
	if ((ret = rz_remote_post_burst(p, ops, 1)) != 1)
		PFAIL("burst: the signaled one: %d", ret);
	do
		n = rz_remote_poll(p, cqe, RTE_DIM(cqe));
	while (n == 0);
	if (n != 1 || cqe[0].wr_id != 7000 || cqe[0].status != 0)
		PFAIL("burst: after the limit: %d completions, first %" PRIu64, n, cqe[0].wr_id);
	if ((ret = rz_remote_read(p, mem, PEER_BUF / 2, d, BURST_OFF,
			(size_t)BURST_OPS * BURST_CHUNK)) != 0 ||
			memcmp(buf + PEER_BUF / 2, buf + BURST_OFF,
			(size_t)BURST_OPS * BURST_CHUNK) != 0)
		PFAIL("burst: read back: %d, or the bytes differ", ret);
	return 0;
}

#define PREP_LEN	65536
#define PREP_CHUNK	1024
#define PREP_EVERY	16	/* every 16th post of "prep" signaled */

static inline uint8_t
prep_byte(int i)
{
	return (uint8_t)(i * 13 + 5);
}

/* Negative calls of "prep": each fails with @want and leaves nothing in flight. */
static int
prep_refused(struct rz_peer *p, const struct rz_rdma_mem *mem, const struct rz_rdma_desc *d,
		struct rz_remote_prep *w)
{
	struct rz_remote_op op = { .opcode = RZ_REMOTE_WRITE, .local = mem, .remote = d,
		.len = PREP_LEN };
	struct rz_remote_sge sge = { .addr = (uintptr_t)mem->addr, .len = 8, .lkey = mem->lkey };
	static const struct {
		const char *what;
		int field;
		int err;
	} bad[] = {
		{ "atomic", 0, EINVAL }, { "scatter list", 1, EINVAL }, { "wr_id", 2, EINVAL },
		{ "flags", 3, EINVAL }, { "length 0", 4, EINVAL },
		{ "local range past", 5, EINVAL },
		{ "remote range past", 6, ERANGE }, { "no descriptor", 7, EINVAL },
	};
	size_t i;
	int ret;

	rte_errno = 0;
	if (rz_remote_prepare(NULL, &op) != NULL || rte_errno != EINVAL)
		PFAIL("prep: NULL peer: rte_errno %d, want EINVAL", rte_errno);
	rte_errno = 0;
	if (rz_remote_prepare(p, NULL) != NULL || rte_errno != EINVAL)
		PFAIL("prep: NULL operation: rte_errno %d, want EINVAL", rte_errno);
	for (i = 0; i < RTE_DIM(bad); i++) {
		struct rz_remote_op o = op;

		switch (bad[i].field) {
		case 0: o.opcode = RZ_REMOTE_FETCH_ADD; o.len = 8; break;
		case 1: o.sgl = &sge; o.nsge = 1; o.len = 8; break;
		case 2: o.wr_id = 1; break;
		case 3: o.flags = RZ_REMOTE_F_UNSIGNALED; break;
		case 4: o.len = 0; break;
		case 5: o.local_off = mem->len - PREP_LEN + 1; break;
		case 6: o.remote_off = d->length - PREP_LEN + 1; break;
		default: o.remote = NULL; break;
		}
		rte_errno = 0;
		if (rz_remote_prepare(p, &o) != NULL || rte_errno != bad[i].err)
			PFAIL("prep: prepare with a bad %s: rte_errno %d, want %d", bad[i].what,
					rte_errno, bad[i].err);
	}
	if ((ret = rz_remote_post_prep(NULL, 1, 0, 0, 8, 0)) != -EINVAL)
		PFAIL("prep: NULL prepared operation: %d, want -EINVAL", ret);
	if ((ret = rz_remote_post_prep(w, UINT64_C(1) << 63, 0, 0, 8, 0)) != -EINVAL ||
			(ret = rz_remote_post_prep(w, 1, 0, 0, 8, 2)) != -EINVAL)
		PFAIL("prep: wr_id bit 63 or an unknown flag: %d, want -EINVAL", ret);
	if ((ret = rz_remote_post_prep(w, 1, 0, 0, 0, 0)) != -ERANGE ||
			(ret = rz_remote_post_prep(w, 1, 0, 0, PREP_LEN + 1, 0)) != -ERANGE ||
			(ret = rz_remote_post_prep(w, 1, 1, 0, PREP_LEN, 0)) != -ERANGE ||
			(ret = rz_remote_post_prep(w, 1, 0, 1, PREP_LEN, 0)) != -ERANGE ||
			(ret = rz_remote_post_prep(w, 1, PREP_LEN, 0, 1, 0)) != -ERANGE ||
			(ret = rz_remote_post_prep(w, 1, 0, UINT64_MAX, 2, 0)) != -ERANGE ||
			(ret = rz_remote_post_prep(w, 1, SIZE_MAX, 0, 2, 0)) != -ERANGE)
		PFAIL("prep: a range outside the prepared one: %d, want -ERANGE", ret);
	/* Nothing in flight after them: a synchronous call goes through. */
	if ((ret = rz_remote_read(p, mem, PEER_BUF / 2, d, 0, 8)) != 0)
		PFAIL("prep: refused calls left something in flight: %s", strerror(-ret));
	return 0;
}

/* The scripts' last step (the QP goes into error after it): a prepared WRITE of 8 bytes through
 * @d with its rkey changed, or NULL (said, for @what). */
static struct rz_remote_prep *
prep_wrong_key(struct rz_peer *p, struct rz_rdma_mem *mem, const struct rz_rdma_desc *d,
		const char *what)
{
	struct rz_rdma_desc wrong = *d;
	struct rz_remote_prep *w;

	wrong.rkey ^= 0x80;
	w = rz_remote_prepare(p, &(struct rz_remote_op){ .opcode = RZ_REMOTE_WRITE,
			.local = mem, .remote = &wrong, .len = 8 });
	if (w == NULL)
		fprintf(stderr, "peer: FAIL: %s: prepare the wrong key: %s\n", what,
				rte_strerror(rte_errno));
	return w;
}

/* Wait for the completion of @want (in order: the only one expected). */
static int
prep_collect(struct rz_peer *p, uint64_t want)
{
	struct rz_remote_cqe cqe[4];
	int n;

	do
		n = rz_remote_poll(p, cqe, RTE_DIM(cqe));
	while (n == 0);
	if (n != 1 || cqe[0].wr_id != want || cqe[0].status != 0)
		PFAIL("prep: %d completions, first wr_id %" PRIu64 " status %d, want %" PRIu64,
				n, cqe[0].wr_id, cqe[0].status, want);
	return 0;
}

/* A stand-in for a device that refuses a post (Soft-RoCE never does while rzone's accounting
 * leaves room; the prepared post's undo is checked with it): nothing is posted. */
static int refuse_errno;
static int
refuse_post(struct ibv_qp *qp, struct ibv_send_wr *wr, struct ibv_send_wr **bad)
{
	RTE_SET_USED(qp);
	*bad = wr;
	return refuse_errno;
}

/* The send-queue accounting @a and @b alike: counters, and the ring entries in use (those
 * past them are free and mean nothing). */
static bool
sq_same(const struct rz_remote_sq *a, const struct rz_remote_sq *b)
{
	uint32_t i;

	if (a->limit != b->limit || a->outstanding != b->outstanding ||
			a->unsig_out != b->unsig_out || a->sig_head != b->sig_head ||
			a->run_head != b->run_head || a->run_n != b->run_n)
		return false;
	for (i = 0; i < a->run_n; i++) {
		const struct rz_remote_sq_run *x = &a->runs[(a->run_head + i) % RZ_REMOTE_SQ_DEPTH];
		const struct rz_remote_sq_run *y = &b->runs[(b->run_head + i) % RZ_REMOTE_SQ_DEPTH];

		if (x->sig != y->sig || x->slots != y->slots)
			return false;
	}
	return true;
}

/* One refused prepared post of @w (@flags) with the device's @err: want @want, the peer's
 * send-queue accounting exactly as before. */
static int
prep_refused_by_device(struct rz_remote_prep *w, uint32_t flags, int err, int want)
{
	struct rz_remote_sq before = *w->sq;
	int (*post)(struct ibv_qp *, struct ibv_send_wr *, struct ibv_send_wr **) = w->post_send;
	int ret;

	refuse_errno = err;
	w->post_send = refuse_post;
	ret = rz_remote_post_prep(w, 7000, 0, 0, 8, flags);
	w->post_send = post;
	if (ret != want)
		PFAIL("prep-queue: device refusal %d (flags %u): %d, want %d", err, flags, ret,
				want);
	if (!sq_same(&before, w->sq))
		PFAIL("prep-queue: device refusal %d (flags %u) changed the accounting (out "
				"%u -> %u, unsignaled %u -> %u, runs %u -> %u, head %u -> %u)", err,
				flags, before.outstanding, w->sq->outstanding, before.unsig_out,
				w->sq->unsig_out, before.run_n, w->sq->run_n, before.sig_head,
				w->sq->sig_head);
	return 0;
}

/* "prep-queue": the prepared post's send queue. Signaled WRITEs posted without polling until
 * -ENOBUFS: exactly RZ_REMOTE_SQ_DEPTH - 1 taken, the refused one changes nothing, all complete
 * in order. Posts the device refuses (signaled, and unsignaled inside a run) undo their charge.
 * Then, after "ok" / "bye": a WRITE through a wrong rkey fails (-EACCES on completion), and the
 * next prepared post and rz_remote_post() say -ENOTCONN. */
static int
peer_prep_queue(struct rz_peer *p, struct rz_rdma_mem *mem, const struct rz_rdma_desc *d)
{
	struct rz_remote_op op = { .opcode = RZ_REMOTE_WRITE, .local = mem, .remote = d,
		.len = 4096 };
	struct rz_remote_cqe cqe[32];
	struct rz_remote_prep *w, *bad_key;
	struct rz_remote_sq before;
	uint64_t next = 0;
	int i, n, ret, posted = 0;

	w = rz_remote_prepare(p, &op);
	if (w == NULL)
		PFAIL("prep-queue: prepare: %s", rte_strerror(rte_errno));
	while ((ret = rz_remote_post_prep(w, (uint64_t)posted, (size_t)posted % 4096, 0, 1,
			0)) == 0)
		posted++;
	before = *w->sq;
	if (ret != -ENOBUFS || posted != RZ_REMOTE_SQ_DEPTH - 1)
		PFAIL("prep-queue: %d posts taken, then %d; want %d, then -ENOBUFS", posted, ret,
				RZ_REMOTE_SQ_DEPTH - 1);
	if ((ret = rz_remote_post_prep(w, 5000, 0, 0, 1, RZ_REMOTE_F_UNSIGNALED)) != -ENOBUFS)
		PFAIL("prep-queue: unsignaled on a full queue: %d, want -ENOBUFS", ret);
	if (!sq_same(&before, w->sq) || w->sq->outstanding != (uint32_t)posted)
		PFAIL("prep-queue: a refused post changed the accounting (outstanding %u)",
				w->sq->outstanding);
	while (next < (uint64_t)posted) {
		n = rz_remote_poll(p, cqe, RTE_DIM(cqe));
		if (n < 0)
			PFAIL("prep-queue: poll: %s", strerror(-n));
		for (i = 0; i < n; i++, next++)
			if (cqe[i].wr_id != next || cqe[i].status != 0)
				PFAIL("prep-queue: completion wr_id %" PRIu64 " status %d, want %"
						PRIu64 " 0", cqe[i].wr_id, cqe[i].status, next);
	}
	if (w->sq->outstanding != 0 || w->sq->unsig_out != 0 || w->sq->run_n != 0)
		PFAIL("prep-queue: all collected, accounting says %u outstanding, %u unsignaled, "
				"%u runs", w->sq->outstanding, w->sq->unsig_out, w->sq->run_n);
	/* The device refuses: a signaled post, then one inside an unsignaled run of 3. */
	if (prep_refused_by_device(w, 0, ENOMEM, -ENOBUFS) != 0 ||
			prep_refused_by_device(w, 0, EINVAL, -EINVAL) != 0)
		return 1;
	for (i = 0; i < 3; i++)
		if ((ret = rz_remote_post_prep(w, 6000, 0, 0, 8, RZ_REMOTE_F_UNSIGNALED)) != 0)
			PFAIL("prep-queue: unsignaled %d: %s", i, strerror(-ret));
	if (prep_refused_by_device(w, RZ_REMOTE_F_UNSIGNALED, ENOMEM, -ENOBUFS) != 0 ||
			prep_refused_by_device(w, 0, ENOMEM, -ENOBUFS) != 0)
		return 1;
	if ((ret = rz_remote_post_prep(w, 6001, 0, 0, 8, 0)) != 0 || prep_collect(p, 6001) != 0)
		PFAIL("prep-queue: the signaled post after the refusals: %d", ret);
	if (w->sq->outstanding != 0 || w->sq->unsig_out != 0 || w->sq->run_n != 0)
		PFAIL("prep-queue: after the run, %u outstanding, %u unsignaled, %u runs",
				w->sq->outstanding, w->sq->unsig_out, w->sq->run_n);
	/* The unsignaled run limit: RZ_REMOTE_UNSIGNALED_MAX in a row, then -ENOBUFS with
	 * nothing changed; a signaled one retires them all. */
	for (i = 0; i < RZ_REMOTE_UNSIGNALED_MAX; i++)
		if ((ret = rz_remote_post_prep(w, 6200, 0, 0, 8, RZ_REMOTE_F_UNSIGNALED)) != 0)
			PFAIL("prep-queue: unsignaled %d of the limit: %s", i, strerror(-ret));
	before = *w->sq;
	if ((ret = rz_remote_post_prep(w, 6201, 0, 0, 8, RZ_REMOTE_F_UNSIGNALED)) != -ENOBUFS)
		PFAIL("prep-queue: unsignaled past the run limit: %d, want -ENOBUFS", ret);
	if (!sq_same(&before, w->sq) || w->sq->unsig_out != RZ_REMOTE_UNSIGNALED_MAX ||
			w->sq->run_n != 1)
		PFAIL("prep-queue: the refused unsignaled post changed the accounting (%u "
				"unsignaled, %u runs)", w->sq->unsig_out, w->sq->run_n);
	if ((ret = rz_remote_post_prep(w, 6202, 0, 0, 8, 0)) != 0 || prep_collect(p, 6202) != 0)
		PFAIL("prep-queue: the signaled post after the run limit: %d", ret);
	if (w->sq->outstanding != 0 || w->sq->unsig_out != 0 || w->sq->run_n != 0)
		PFAIL("prep-queue: after the limit's run, %u outstanding, %u unsignaled, %u runs",
				w->sq->outstanding, w->sq->unsig_out, w->sq->run_n);
	fprintf(stderr, "peer: prepared queue: %d taken, then -ENOBUFS with nothing changed, "
			"completed in order; device refusals undone; run limit %d\n", posted,
			RZ_REMOTE_UNSIGNALED_MAX);
	if (rz_peer_send_msg(p, "ok", 2) != 0 || peer_wait_msg(p, "bye") != 0)
		return 1;
	/* Last (the QP goes into error): a wrong rkey. */
	bad_key = prep_wrong_key(p, mem, d, "prep-queue");
	if (bad_key == NULL)
		return 1;
	if ((ret = rz_remote_post_prep(bad_key, 6100, 0, 0, 8, 0)) != 0)
		PFAIL("prep-queue: post through the wrong key: %d", ret);
	do
		n = rz_remote_poll(p, cqe, 1);
	while (n == 0);
	if (n != 1 || cqe[0].wr_id != 6100 || cqe[0].status != -EACCES)
		PFAIL("prep-queue: wrong key: %d completions, wr_id %" PRIu64 " status %d, want "
				"-EACCES", n, cqe[0].wr_id, cqe[0].status);
	if ((ret = rz_remote_post_prep(w, 6101, 0, 0, 8, 0)) != -ENOTCONN ||
			(ret = rz_remote_post(p, &(struct rz_remote_op){ .opcode = RZ_REMOTE_WRITE,
			.local = mem, .remote = d, .len = 8, .wr_id = 6102 })) != -ENOTCONN)
		PFAIL("prep-queue: post after the failure: %d, want -ENOTCONN", ret);
	fprintf(stderr, "peer: prepared post after a failed one: -ENOTCONN\n");
	rz_remote_prep_free(bad_key);
	rz_remote_prep_free(w);
	return 0;
}

/* "reap": rz_remote_reap(). */
#define REAP_MSGS	8	/* messages a control thread sends while the data path reaps */
#define REAP_ROUNDS	64	/* rounds of REAP_BATCH posts, 1 in REAP_EVERY signaled */
#define REAP_BATCH	16
#define REAP_EVERY	4

struct reap_ctl {
	struct rz_peer *p;
	int ret;
};

/* The control thread of "reap": REAP_MSGS messages (their SENDs complete on the CQ that the
 * data path reaps), then done. */
static void *
reap_ctl_main(void *arg)
{
	struct reap_ctl *c = arg;
	int i;

	for (i = 0; i < REAP_MSGS && c->ret == 0; i++) {
		c->ret = rz_peer_send_msg(c->p, "mid", 3);
		usleep(2000);
	}
	return NULL;
}

/* Reap until @want successes are counted (bounded: 10 s). */
static int
reap_until(struct rz_peer *p, int want, const char *what)
{
	uint64_t t0 = (uint64_t)time(NULL);
	int got = 0, n;

	while (got < want) {
		n = rz_remote_reap(p, 16);
		if (n < 0)
			PFAIL("reap: %s: %s", what, strerror(-n));
		got += n;
		if (got > want)
			PFAIL("reap: %s: %d counted, want %d", what, got, want);
		if ((uint64_t)time(NULL) - t0 > 10)
			PFAIL("reap: %s: %d of %d in 10 s", what, got, want);
	}
	return 0;
}

/* "reap": rz_remote_reap() counts the successes of prepared WRITEs (1 in REAP_EVERY signaled:
 * one per signaled operation, none for the unsignaled ones it retires), while a control thread
 * sends messages on the same QP (their completions reach their caller, nothing of the data
 * path's is lost: the owner counts the messages); bad input -EINVAL, nothing changed. Then,
 * after "ok" / "bye": three good WRITEs, one through a wrong rkey, two more: the reap counts
 * the three and stops before the failure (0 from then on, the accounting unchanged), and
 * rz_remote_poll() reports the failed one's wr_id with -EACCES, then the two flushed ones. */
static int
peer_reap(struct rz_peer *p, struct rz_rdma_mem *mem, const struct rz_rdma_desc *d)
{
	struct rz_remote_op op = { .opcode = RZ_REMOTE_WRITE, .local = mem, .remote = d,
		.len = 4096 };
	struct rz_remote_prep *w, *bad_key;
	struct reap_ctl ctl = { .p = p };
	struct rz_remote_sq before;
	struct rz_remote_cqe cqe[8];
	static const uint64_t want_ids[] = { 7100, 7003, 7004 };
	uint64_t t0;
	pthread_t th;
	int i, k, n, ret, got = 0;

	w = rz_remote_prepare(p, &op);
	if (w == NULL)
		PFAIL("reap: prepare: %s", rte_strerror(rte_errno));
	before = *w->sq;
	if ((ret = rz_remote_reap(NULL, 4)) != -EINVAL || (ret = rz_remote_reap(p, 0)) != 0 ||
			(ret = rz_remote_reap(p, 4)) != 0)
		PFAIL("reap: NULL peer, n 0, nothing in flight: %d, want -EINVAL, 0, 0", ret);
	if (!sq_same(&before, w->sq))
		PFAIL("reap: a refused or empty reap changed the accounting");
	if (pthread_create(&th, NULL, reap_ctl_main, &ctl) != 0)
		PFAIL("reap: pthread_create");
	for (i = 0; i < REAP_ROUNDS; i++) {
		for (k = 0; k < REAP_BATCH; k++) {
			uint32_t fl = k % REAP_EVERY == REAP_EVERY - 1 ? 0 : RZ_REMOTE_F_UNSIGNALED;

			ret = rz_remote_post_prep(w, (uint64_t)(i * REAP_BATCH + k),
					(size_t)k * 64, (uint64_t)k * 64, 64, fl);
			if (ret != 0)
				break;
		}
		if (ret != 0 || reap_until(p, REAP_BATCH / REAP_EVERY, "a round") != 0)
			break;
		got += REAP_BATCH / REAP_EVERY;
	}
	pthread_join(th, NULL);
	if (ret != 0 || i < REAP_ROUNDS)
		PFAIL("reap: round %d: post %d, %d reaped", i, ret, got);
	if (ctl.ret != 0)
		PFAIL("reap: the control thread's message: %s", strerror(-ctl.ret));
	if (w->sq->outstanding != 0 || w->sq->unsig_out != 0 || w->sq->run_n != 0)
		PFAIL("reap: all reaped, accounting says %u outstanding, %u unsignaled, %u runs",
				w->sq->outstanding, w->sq->unsig_out, w->sq->run_n);
	if ((n = rz_remote_poll(p, cqe, RTE_DIM(cqe))) != 0 || (n = rz_remote_reap(p, 8)) != 0)
		PFAIL("reap: all reaped, then %d more", n);
	fprintf(stderr, "peer: reap: %d rounds of %d prepared writes (1 in %d signaled): %d "
			"reaped, %d messages sent meanwhile\n", REAP_ROUNDS, REAP_BATCH,
			REAP_EVERY, got, REAP_MSGS);
	if (rz_peer_send_msg(p, "ok", 2) != 0 || peer_wait_msg(p, "bye") != 0)
		return 1;
	/* Last (the QP goes into error): a wrong rkey between good writes. */
	bad_key = prep_wrong_key(p, mem, d, "reap");
	if (bad_key == NULL)
		return 1;
	if ((ret = rz_remote_post_prep(w, 7000, 0, 0, 8, 0)) != 0 ||
			(ret = rz_remote_post_prep(w, 7001, 0, 0, 8, 0)) != 0 ||
			(ret = rz_remote_post_prep(w, 7002, 0, 0, 8, 0)) != 0 ||
			(ret = rz_remote_post_prep(bad_key, 7100, 0, 0, 8, 0)) != 0 ||
			(ret = rz_remote_post_prep(w, 7003, 0, 0, 8, 0)) != 0 ||
			(ret = rz_remote_post_prep(w, 7004, 0, 0, 8, 0)) != 0)
		PFAIL("reap: the posts around the wrong key: %d", ret);
	if (reap_until(p, 3, "the good writes before the failure") != 0)
		return 1;
	/* The failure has come by now (or comes later: the reap must count it neither way). */
	usleep(500 * 1000);
	before = *w->sq;
	for (i = 0; i < 3; i++)
		if ((n = rz_remote_reap(p, 16)) != 0)
			PFAIL("reap: %d counted after the failure, want 0", n);
	if (!sq_same(&before, w->sq) || w->sq->outstanding != 3)
		PFAIL("reap: stopping at the failure changed the accounting (%u outstanding, "
				"want 3)", w->sq->outstanding);
	k = 0;
	t0 = (uint64_t)time(NULL);
	while (k < (int)RTE_DIM(want_ids)) {
		n = rz_remote_poll(p, cqe, RTE_DIM(cqe));
		if (n < 0)
			PFAIL("reap: poll after the failure: %s", strerror(-n));
		for (i = 0; i < n; i++, k++) {
			int st = k == 0 ? -EACCES : -ENOTCONN;

			if (k >= (int)RTE_DIM(want_ids) || cqe[i].wr_id != want_ids[k] ||
					cqe[i].status != st)
				PFAIL("reap: completion %d after the reap: wr_id %" PRIu64
						" status %d, want %" PRIu64 " %d", k, cqe[i].wr_id,
						cqe[i].status, k < 3 ? want_ids[k] : 0, st);
		}
		if ((uint64_t)time(NULL) - t0 > 10)
			PFAIL("reap: %d of the 3 completions after the good ones in 10 s", k);
	}
	if ((n = rz_remote_poll(p, cqe, RTE_DIM(cqe))) != 0 || (n = rz_remote_reap(p, 8)) != 0)
		PFAIL("reap: %d completions reported twice", n);
	if ((ret = rz_remote_post_prep(w, 7200, 0, 0, 8, 0)) != -ENOTCONN)
		PFAIL("reap: post after the failure: %d, want -ENOTCONN", ret);
	fprintf(stderr, "peer: reap: 3 good writes counted, stopped before the wrong key's; poll "
			"then reported wr_id 7100 -EACCES and the 2 flushed ones, once\n");
	rz_remote_prep_free(bad_key);
	rz_remote_prep_free(w);
	return 0;
}

/* Bursts of a prepared WRITE (rz_remote_post_prep_burst()): refused ones change nothing; all
 * of @w's range (PREP_LEN) in bursts of PREP_BURST, each closed by its one signaled operation,
 * read back through @r equal to what was written, twice (the bytes complemented, then as
 * before, so that the owner still finds prep_byte()); the unsignaled limit across bursts. */
#define PREP_BURST	16

static int
prep_bursts(struct rz_peer *p, uint8_t *buf, struct rz_remote_prep *w, struct rz_remote_prep *r)
{
	struct rz_remote_prep_op ops[RZ_REMOTE_BURST_MAX + 1];
	struct rz_remote_sq before = *w->sq;
	int i, k, round, ret;
	size_t j;

	for (i = 0; i < (int)RTE_DIM(ops); i++)
		ops[i] = (struct rz_remote_prep_op){ .wr_id = 9200 + (uint64_t)i,
			.local_off = (uint64_t)(i % PREP_BURST) * PREP_CHUNK,
			.remote_off = (uint64_t)(i % PREP_BURST) * PREP_CHUNK, .len = PREP_CHUNK,
			.flags = RZ_REMOTE_F_UNSIGNALED };
	if ((ret = rz_remote_post_prep_burst(w, ops, 0)) != -EINVAL ||
			(ret = rz_remote_post_prep_burst(w, ops, RZ_REMOTE_BURST_MAX + 1)) !=
			-EINVAL ||
			(ret = rz_remote_post_prep_burst(w, NULL, 1)) != -EINVAL ||
			(ret = rz_remote_post_prep_burst(NULL, ops, 1)) != -EINVAL)
		PFAIL("prep burst: empty, oversized or NULL: %d, want -EINVAL", ret);
	ops[5].flags = 2;
	if ((ret = rz_remote_post_prep_burst(w, ops, PREP_BURST)) != -EINVAL)
		PFAIL("prep burst: an unknown flag inside: %d, want -EINVAL", ret);
	ops[5].flags = RZ_REMOTE_F_UNSIGNALED;
	ops[6].wr_id |= UINT64_C(1) << 63;
	if ((ret = rz_remote_post_prep_burst(w, ops, PREP_BURST)) != -EINVAL)
		PFAIL("prep burst: wr_id bit 63 inside: %d, want -EINVAL", ret);
	ops[6].wr_id = 9206;
	ops[3].len = 0;
	if ((ret = rz_remote_post_prep_burst(w, ops, PREP_BURST)) != -ERANGE)
		PFAIL("prep burst: a length 0 inside: %d, want -ERANGE", ret);
	ops[3].len = PREP_CHUNK;
	ops[7].remote_off = PREP_LEN - PREP_CHUNK + 1;
	if ((ret = rz_remote_post_prep_burst(w, ops, PREP_BURST)) != -ERANGE)
		PFAIL("prep burst: a range past the prepared one: %d, want -ERANGE", ret);
	ops[7].remote_off = 7 * PREP_CHUNK;
	if (!sq_same(&before, w->sq) || w->sq->outstanding != 0)
		PFAIL("prep burst: refused bursts left %u in flight", w->sq->outstanding);
	for (round = 0; round < 2; round++) {
		for (j = 0; j < PREP_LEN; j++)
			buf[j] ^= 0xff;
		for (k = 0; k < PREP_LEN / PREP_CHUNK; k += PREP_BURST) {
			for (i = 0; i < PREP_BURST; i++) {
				ops[i].wr_id = 9300 + (uint64_t)(k + i);
				ops[i].local_off = (uint64_t)(k + i) * PREP_CHUNK;
				ops[i].remote_off = (uint64_t)(k + i) * PREP_CHUNK;
				ops[i].flags = i + 1 < PREP_BURST ? RZ_REMOTE_F_UNSIGNALED : 0;
			}
			if ((ret = rz_remote_post_prep_burst(w, ops, PREP_BURST)) != PREP_BURST)
				PFAIL("prep burst at %d: %d posted, want %d", k, ret, PREP_BURST);
			if (prep_collect(p, 9300 + (uint64_t)(k + PREP_BURST - 1)) != 0)
				return 1;
		}
		memset(buf + PEER_BUF / 2, 0, PREP_LEN);
		if ((ret = rz_remote_post_prep(r, 9400, 0, 0, PREP_LEN, 0)) != 0 ||
				prep_collect(p, 9400) != 0)
			PFAIL("prep burst: read back: %d", ret);
		if (memcmp(buf, buf + PEER_BUF / 2, PREP_LEN) != 0)
			PFAIL("prep burst: round %d: the bytes read back differ", round);
	}
	/* The unsignaled limit across bursts: 2 x 32 unsignaled, one more refused. */
	for (i = 0; i < RZ_REMOTE_BURST_MAX; i++) {
		ops[i].local_off = ops[i].remote_off = 0;
		ops[i].len = 8;
		ops[i].flags = RZ_REMOTE_F_UNSIGNALED;
	}
	for (k = 0; k < RZ_REMOTE_UNSIGNALED_MAX / RZ_REMOTE_BURST_MAX; k++)
		if ((ret = rz_remote_post_prep_burst(w, ops, RZ_REMOTE_BURST_MAX)) !=
				RZ_REMOTE_BURST_MAX)
			PFAIL("prep burst: unsignaled burst %d: %d", k, ret);
	before = *w->sq;
	if ((ret = rz_remote_post_prep_burst(w, ops, 1)) != -ENOBUFS || !sq_same(&before, w->sq))
		PFAIL("prep burst: one past the unsignaled limit: %d, want -ENOBUFS, unchanged",
				ret);
	ops[0].flags = 0;
	ops[0].wr_id = 9500;
	if ((ret = rz_remote_post_prep_burst(w, ops, 1)) != 1 || prep_collect(p, 9500) != 0)
		PFAIL("prep burst: the signaled one after the limit: %d", ret);
	if (w->sq->outstanding != 0 || w->sq->unsig_out != 0 || w->sq->run_n != 0)
		PFAIL("prep burst: after the limit's run, %u outstanding, %u unsignaled, %u runs",
				w->sq->outstanding, w->sq->unsig_out, w->sq->run_n);
	fprintf(stderr, "peer: prepared bursts: bad ones refused (nothing in flight), %d x %d "
			"writes read back equal twice, run limit %d across bursts\n",
			PREP_LEN / PREP_CHUNK / PREP_BURST, PREP_BURST, RZ_REMOTE_UNSIGNALED_MAX);
	return 0;
}

/* "prep": prepared operations (rz_remote_prepare()). Refused ones first (nothing in flight
 * after them), then PREP_LEN / PREP_CHUNK writes from one prepared WRITE, 1 in PREP_EVERY
 * signaled: exactly those complete, in order; the unsignaled limit; a prepared READ of it all
 * back. The owner checks the bytes (prep_byte()). */
static int
peer_prep(struct rz_peer *p, struct rz_rdma_mem *mem, uint8_t *buf, const struct rz_rdma_desc *d)
{
	struct rz_remote_op op = { .opcode = RZ_REMOTE_WRITE, .local = mem, .remote = d,
		.len = PREP_LEN };
	struct rz_remote_prep *w, *r;
	int i, k, ret;

	for (i = 0; i < PREP_LEN; i++)
		buf[i] = prep_byte(i / PREP_CHUNK);
	w = rz_remote_prepare(p, &op);
	if (w == NULL)
		PFAIL("prep: prepare the write: %s", rte_strerror(rte_errno));
	if (prep_refused(p, mem, d, w) != 0)
		return 1;
	for (i = 0; i < PREP_LEN / PREP_CHUNK; i++) {
		uint32_t fl = i % PREP_EVERY == PREP_EVERY - 1 ? 0 : RZ_REMOTE_F_UNSIGNALED;

		ret = rz_remote_post_prep(w, (uint64_t)i, (size_t)i * PREP_CHUNK,
				(uint64_t)i * PREP_CHUNK, PREP_CHUNK, fl);
		if (ret != 0)
			PFAIL("prep: write %d: %s", i, strerror(-ret));
		if (fl == 0 && prep_collect(p, (uint64_t)i) != 0)
			return 1;
	}
	/* The unsignaled limit holds for prepared posts too (8 bytes: inline). */
	for (k = 0; k < RZ_REMOTE_UNSIGNALED_MAX; k++)
		if ((ret = rz_remote_post_prep(w, 9000, 0, 0, 8, RZ_REMOTE_F_UNSIGNALED)) != 0)
			PFAIL("prep: unsignaled %d of the run: %s", k, strerror(-ret));
	if ((ret = rz_remote_post_prep(w, 9001, 0, 0, 8, RZ_REMOTE_F_UNSIGNALED)) != -ENOBUFS)
		PFAIL("prep: one past the unsignaled run: %d, want -ENOBUFS", ret);
	if ((ret = rz_remote_post_prep(w, 9002, 0, 0, 8, 0)) != 0 || prep_collect(p, 9002))
		PFAIL("prep: the signaled one after the run: %d", ret);
	op.opcode = RZ_REMOTE_READ;
	op.local_off = PEER_BUF / 2;
	r = rz_remote_prepare(p, &op);
	if (r == NULL)
		PFAIL("prep: prepare the read: %s", rte_strerror(rte_errno));
	if (prep_bursts(p, buf, w, r) != 0)
		return 1;
	memset(buf + PEER_BUF / 2, 0, PREP_LEN);
	if ((ret = rz_remote_post_prep(r, 9100, 0, 0, PREP_LEN, 0)) != 0 ||
			prep_collect(p, 9100) != 0)
		PFAIL("prep: read back: %d", ret);
	if (memcmp(buf, buf + PEER_BUF / 2, PREP_LEN) != 0)
		PFAIL("prep: the bytes read back differ from those written");
	rz_remote_prep_free(w);
	rz_remote_prep_free(r);
	rz_remote_prep_free(NULL);
	fprintf(stderr, "peer: prepared: %d writes of %d B, 1 in %d signaled, completed in order; "
			"run limit %d; read back equal; bad calls refused, nothing in flight\n",
			PREP_LEN / PREP_CHUNK, PREP_CHUNK, PREP_EVERY, RZ_REMOTE_UNSIGNALED_MAX);
	if (rz_peer_send_msg(p, "ok", 2) != 0 || peer_wait_msg(p, "bye") != 0)
		return 1;
	return 0;
}

static int
peer_unsig(struct rz_peer *p, struct rz_rdma_mem *mem, uint8_t *buf, const struct rz_rdma_desc *d)
{
	struct rz_remote_op op = { .opcode = RZ_REMOTE_WRITE, .local = mem, .remote = d,
		.len = UNSIG_CHUNK };
	struct rz_remote_cqe cqe[16];
	int i = 0, k, n, ncqe = 0, ret;
	uint64_t want = UNSIG_EVERY - 1;

	for (k = 0; k < UNSIG_OPS; k++)
		memset(buf + (size_t)k * UNSIG_CHUNK, unsig_byte(k), UNSIG_CHUNK);
	while (i < UNSIG_OPS || ncqe < UNSIG_OPS / UNSIG_EVERY) {
		if (i < UNSIG_OPS) {
			op.local_off = (size_t)i * UNSIG_CHUNK;
			op.remote_off = (uint64_t)i * UNSIG_CHUNK;
			op.wr_id = (uint64_t)i;
			op.flags = i % UNSIG_EVERY == UNSIG_EVERY - 1 ? 0 : RZ_REMOTE_F_UNSIGNALED;
			ret = rz_remote_post(p, &op);
			if (ret == 0) {
				i++;
				continue;
			}
			if (ret != -ENOBUFS)
				PFAIL("unsig: post %d: %s", i, strerror(-ret));
		}
		n = rz_remote_poll(p, cqe, RTE_DIM(cqe));
		if (n < 0)
			PFAIL("unsig: poll: %d", n);
		for (k = 0; k < n; k++, ncqe++) {
			if (cqe[k].status != 0)
				PFAIL("unsig: write %" PRIu64 " failed: %d", cqe[k].wr_id,
						cqe[k].status);
			if (cqe[k].wr_id != want)
				PFAIL("unsig: completion of %" PRIu64 ", want %" PRIu64
						" (only signaled ones, in order)", cqe[k].wr_id,
						want);
			want += UNSIG_EVERY;
		}
	}
	if (rz_remote_poll(p, cqe, RTE_DIM(cqe)) != 0)
		PFAIL("unsig: a completion more than the signaled operations");
	/* Every slot retired: a sync call goes through; read it all back. */
	ret = rz_remote_read(p, mem, PEER_BUF / 2, d, 0, (size_t)UNSIG_OPS * UNSIG_CHUNK);
	if (ret != 0)
		PFAIL("unsig: sync read after the run: %s", strerror(-ret));
	if (memcmp(buf, buf + PEER_BUF / 2, (size_t)UNSIG_OPS * UNSIG_CHUNK) != 0)
		PFAIL("unsig: the remote bytes differ from what was written");
	/* The run limit: RZ_REMOTE_UNSIGNALED_MAX, then a signaled one is needed. */
	op.flags = RZ_REMOTE_F_UNSIGNALED;
	op.local_off = op.remote_off = 0;
	for (k = 0; k < RZ_REMOTE_UNSIGNALED_MAX; k++)
		if ((ret = rz_remote_post(p, &op)) != 0)
			PFAIL("unsig: unsignaled %d of the run: %s", k, strerror(-ret));
	if ((ret = rz_remote_post(p, &op)) != -ENOBUFS)
		PFAIL("unsig: one past the run: %d, want -ENOBUFS", ret);
	if ((ret = rz_remote_read(p, mem, 0, d, 0, 8)) != -EBUSY)
		PFAIL("unsig: sync call with unsignaled operations in flight: %d, want -EBUSY",
				ret);
	op.flags = 2;
	if ((ret = rz_remote_post(p, &op)) != -EINVAL)
		PFAIL("unsig: unknown flag: %d, want -EINVAL", ret);
	op.flags = 0;
	op.wr_id = 4242;
	if ((ret = rz_remote_post(p, &op)) != 0)
		PFAIL("unsig: the signaled one: %s", strerror(-ret));
	do
		n = rz_remote_poll(p, cqe, RTE_DIM(cqe));
	while (n == 0);
	if (n != 1 || cqe[0].wr_id != 4242 || cqe[0].status != 0)
		PFAIL("unsig: after the run: %d completions, first %" PRIu64, n, cqe[0].wr_id);
	if ((ret = rz_remote_read(p, mem, 0, d, 0, 8)) != 0)
		PFAIL("unsig: sync call after the run retired: %s", strerror(-ret));
	ret = peer_unsig_burst(p, mem, buf, d);
	if (ret != 0)
		return ret;
	fprintf(stderr, "peer: %d writes, 1 in %d signaled: %d completions, in order; run limit "
			"%d; bursts: one doorbell of %d, bad bursts refused whole\n", UNSIG_OPS,
			UNSIG_EVERY, ncqe, RZ_REMOTE_UNSIGNALED_MAX, BURST_OPS);
	if (rz_peer_send_msg(p, "ok", 2) != 0 || peer_wait_msg(p, "bye") != 0)
		PFAIL("unsig: handshake");
	return 0;
}

#define STALL_SLOTS	16	/* a peer's receive slots: descriptors it holds untaken */

/* "stall": take nothing until SIGUSR1 (blocked since before we connected), so that the owner's
 * descriptors beyond our receive slots wait at our door (RNR). Then take the STALL_SLOTS + 1
 * descriptors, in order, and say "done"; take the next one (granted once the backlog cleared),
 * read through it, say "ok"; last, the descriptor the owner revoked while our QP was held up
 * (the last of the first batch) must be a remote access error. */
static int
peer_stall(struct rz_peer *p, struct rz_rdma_mem *mem)
{
	static struct rz_rdma_desc d[STALL_SLOTS + 2];
	sigset_t set;
	int i, sig, ret;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (sigwait(&set, &sig) != 0)
		PFAIL("stall: sigwait");
	uint64_t t_last = 0;

	for (i = 0; i < STALL_SLOTS + 1; i++) {
		if (i == STALL_SLOTS)
			t_last = now_us();
		ret = rz_peer_recv_desc(p, &d[i], TMO);
		if (ret != 0)
			PFAIL("stall: descriptor %d: %s", i, strerror(-ret));
		if (i > 0 && d[i].generation <= d[i - 1].generation)
			PFAIL("stall: descriptor %d out of order", i);
	}
	t_last = now_us() - t_last;
	if (rz_peer_send_msg(p, "done", 4) != 0)
		PFAIL("stall: send done");
	ret = rz_peer_recv_desc(p, &d[STALL_SLOTS + 1], TMO);
	if (ret != 0)
		PFAIL("stall: descriptor after the backlog: %s", strerror(-ret));
	ret = rz_remote_read(p, mem, 0, &d[STALL_SLOTS + 1], 0, 8);
	if (ret != 0)
		PFAIL("stall: read through the new grant: %s", strerror(-ret));
	if (rz_peer_send_msg(p, "ok", 2) != 0)
		PFAIL("stall: send ok");
	ret = rz_remote_read(p, mem, 0, &d[STALL_SLOTS], 0, 8);
	if (ret != -EACCES)
		PFAIL("stall: grant revoked while held up: got %d (%s), want -EACCES", ret,
				strerror(-ret));
	fprintf(stderr, "peer: %d descriptors taken late, in order (the one that waited at the "
			"door came %" PRIu64 " us after we took the others); the one revoked while "
			"held up is a remote access error\n", STALL_SLOTS + 1, t_last);
	return 0;
}

/* "unpack": the owner granted with RZ_GRANT_F_NO_SEND and sends the packed descriptor in a
 * message of its own. No descriptor came before that message (RC keeps the order), so the grant
 * sent none. Damaged copies are refused; the real one is unpacked and written through; after the
 * owner's revoke the same rkey is a remote access error. */
static int
peer_unpack(struct rz_peer *p, struct rz_rdma_mem *mem, uint8_t *buf)
{
	uint8_t wire[RZ_RDMA_DESC_SIZE + 64], bad[RZ_RDMA_DESC_SIZE];
	struct rz_rdma_desc d, untouched;
	int n, n2, ret;

	if ((ret = rz_peer_recv_desc(p, &d, TMO)) != -ENOMSG)
		PFAIL("unpack: rz_peer_recv_desc before the message: %d, want -ENOMSG (the grant "
				"sent a descriptor)", ret);
	/* Two halves (a message carries 64 bytes at most). */
	n = rz_peer_recv_msg(p, wire, TMO);
	n2 = n == RZ_RDMA_DESC_SIZE / 2 ? rz_peer_recv_msg(p, wire + n, TMO) : -1;
	if (n2 != RZ_RDMA_DESC_SIZE / 2)
		PFAIL("unpack: halves of %d and %d bytes, want %d each", n, n2,
				RZ_RDMA_DESC_SIZE / 2);
	n += n2;
	memset(&untouched, 0x5c, sizeof(untouched));
	d = untouched;
	memcpy(bad, wire, (size_t)n);
	bad[56] ^= 0x01;	/* a bit of the rkey (doc/wire-format.md): the checksum sees it */
	if ((ret = rz_peer_desc_unpack(p, bad, (size_t)n, &d)) != -EBADMSG)
		PFAIL("unpack: flipped rkey bit: %d, want -EBADMSG", ret);
	if ((ret = rz_peer_desc_unpack(p, wire, (size_t)n - 1, &d)) != -EBADMSG)
		PFAIL("unpack: truncated: %d, want -EBADMSG", ret);
	if ((ret = rz_peer_desc_unpack(p, NULL, (size_t)n, &d)) != -EINVAL)
		PFAIL("unpack: NULL buffer: %d, want -EINVAL", ret);
	if (memcmp(&d, &untouched, sizeof(d)) != 0)
		PFAIL("unpack: a refused descriptor changed the output");
	if ((ret = rz_peer_desc_unpack(p, wire, (size_t)n, &d)) != 0)
		PFAIL("unpack: the real one: %s", strerror(-ret));
	if (d.issuer != rz_peer_identity(p) || d.target != rz_rdma_self_id())
		PFAIL("unpack: identities do not match the connection");
	memset(buf, 0x6b, 64);
	if ((ret = rz_remote_write(p, mem, 0, &d, 0, 64)) != 0)
		PFAIL("unpack: write through it: %s", strerror(-ret));
	if (rz_peer_send_msg(p, &d.rkey, sizeof(d.rkey)) != 0 || peer_wait_msg(p, "revoked") != 0)
		PFAIL("unpack: handshake");
	ret = rz_remote_write(p, mem, 0, &d, 0, 64);
	if (ret != -EACCES)
		PFAIL("unpack: write after revoke: %d (%s), want -EACCES", ret, strerror(-ret));
	fprintf(stderr, "peer: app-delivered descriptor: damaged copies refused, written through, "
			"remote access error after revoke\n");
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Raw peers: plain rdma_cm + verbs, no rzone, so that they can send what rzone never would.
 * "--raw SCRIPT IP PORT". The hello and the message header are written here from
 * doc/wire-format.md (host order), not taken from lib/rdma. */

#define RAW_HELLO_MAGIC		0x49485a52u	/* "RZHI" */
#define RAW_MSG_MAGIC		0x534d5a52u	/* "RZMS" */
#define RAW_DESC_MAGIC		0x44435a52u	/* "RZCD" */
#define RAW_SLOT		128		/* RZ_PEER_SLOT_SIZE: the owner's receive slot */
#define RAW_SQ			64		/* SENDs in flight */
#define FLOOD_N			640		/* 40 times the owner's 16 receive slots */
#define FLOOD_KINDS		8
/* Connections of the churn test: 1000 (about 65-110 s under TCG); 300 under AddressSanitizer,
 * which checks the same code for memory errors at a third of the speed. */
#if defined(__SANITIZE_ADDRESS__)
#define CHURN_N			300
#else
#define CHURN_N			1000
#endif

struct raw_hello {
	uint32_t magic;
	uint16_t version;
	uint16_t size;
	uint64_t id;
	uint32_t pid;
	uint32_t reserved;
};

static volatile sig_atomic_t raw_stop;
static uint8_t raw_retry_count = 7;

static void
raw_on_usr1(int sig)
{
	(void)sig;
	raw_stop = 1;
}

static void
raw_hello_make(struct raw_hello *h, bool good)
{
	memset(h, 0, sizeof(*h));
	/* Version 2: every field little-endian, which this x86_64 host's order is. */
	h->magic = good ? RAW_HELLO_MAGIC : 0x0badbeefu;
	h->version = 2;
	h->size = sizeof(*h);
	h->id = ((uint64_t)getpid() << 32) | (uint64_t)(now_us() & 0xffffffffu) | 1;
	h->pid = (uint32_t)getpid();
}

/* A synchronous RC endpoint connected with hello @h and @nrecv receives posted (none here:
 * the owner sends these peers nothing they read). NULL if the connection failed. */
static struct rdma_cm_id *
raw_connect(const char *ip, const char *port, const struct raw_hello *h)
{
	struct rdma_addrinfo hints, *res = NULL;
	struct ibv_qp_init_attr qa;
	struct rdma_conn_param cp;
	struct rdma_cm_id *id = NULL;

	memset(&hints, 0, sizeof(hints));
	hints.ai_port_space = RDMA_PS_TCP;
	if (rdma_getaddrinfo(ip, port, &hints, &res) != 0)
		return NULL;
	memset(&qa, 0, sizeof(qa));
	qa.cap.max_send_wr = RAW_SQ;
	qa.cap.max_recv_wr = 1;
	qa.cap.max_send_sge = 1;
	qa.cap.max_recv_sge = 1;
	qa.qp_type = IBV_QPT_RC;
	qa.sq_sig_all = 1;
	if (rdma_create_ep(&id, res, NULL, &qa) != 0) {
		rdma_freeaddrinfo(res);
		return NULL;
	}
	rdma_freeaddrinfo(res);
	memset(&cp, 0, sizeof(cp));
	cp.private_data = h;
	cp.private_data_len = sizeof(*h);
	cp.responder_resources = 1;
	cp.initiator_depth = 1;
	/* The owner's QP takes the connector's retry count: 7 (what Soft-RoCE reads as "for
	 * ever"), unless raw_retry_count says otherwise ("mute6"). */
	cp.retry_count = raw_retry_count;
	cp.rnr_retry_count = 7;	/* RNR: retried without limit, the flood waits at the door */
	if (rdma_connect(id, &cp) != 0) {
		rdma_destroy_ep(id);
		return NULL;
	}
	return id;
}

/* Message @i of the flood into @b; its length. Kind i % FLOOD_KINDS (the owner checks what it
 * makes of each): 0 a good 5-byte message; 1 random bytes (first byte 0xff: no magic); 2 a
 * header that claims 20 bytes, 4 follow; 3 a header that claims 100 bytes (> 64), 100 follow;
 * 4 wrong magic; 5 a descriptor magic with version 99 and random bytes (80); 6 3 bytes, less
 * than a header; 7 a descriptor cut to 40 bytes. */
static size_t
flood_make(int i, uint8_t *b)
{
	uint32_t hdr[2] = { RAW_MSG_MAGIC, 0 };
	size_t k, len;

	for (k = 0; k < RAW_SLOT; k++)
		b[k] = (uint8_t)rand();
	switch (i % FLOOD_KINDS) {
	case 0:
		hdr[1] = 5;
		memcpy(b, hdr, 8);
		memcpy(b + 8, "flood", 5);
		return 13;
	case 1:
		b[0] = 0xff;
		len = 1 + (size_t)rand() % RAW_SLOT;
		return len;
	case 2:
		hdr[1] = 20;
		memcpy(b, hdr, 8);
		return 12;
	case 3:
		hdr[1] = 100;
		memcpy(b, hdr, 8);
		return 108;
	case 4:
		hdr[0] = 0x544d5a52u;	/* "RZMT" */
		hdr[1] = 5;
		memcpy(b, hdr, 8);
		return 13;
	case 5:
		hdr[0] = RAW_DESC_MAGIC;
		memcpy(b, hdr, 4);
		b[4] = 99;
		b[5] = 0;
		return 80;
	case 6:
		return 3;
	default:
		hdr[0] = RAW_DESC_MAGIC;
		memcpy(b, hdr, 4);
		b[4] = 1;
		b[5] = 0;
		return 40;
	}
}

/* Wait for @n send completions; the number that failed, or -1 (none in 60 s). */
static int
raw_reap(struct rdma_cm_id *id, int n, int *first_status)
{
	uint64_t deadline = now_us() + (uint64_t)TMO * 1000;
	struct ibv_wc wc[16];
	int got = 0, bad = 0, k, m;

	while (got < n) {
		m = ibv_poll_cq(id->send_cq, n - got < 16 ? n - got : 16, wc);
		if (m < 0)
			return -1;
		for (k = 0; k < m; k++)
			if (wc[k].status != IBV_WC_SUCCESS && bad++ == 0 && first_status != NULL)
				*first_status = wc[k].status;
		got += m;
		if (m == 0) {
			if (now_us() > deadline)
				return -1;
			sched_yield();
		}
	}
	return bad;
}

/* "flood": FLOOD_N SENDs (RAW_SQ in flight), then one of 2 * RAW_SLOT bytes, longer than the
 * owner's slot, which must fail (it ends the connection). Exit 0 if the FLOOD_N were all
 * taken and the long one refused. */
static int
raw_flood(struct rdma_cm_id *id)
{
	static uint8_t buf[(FLOOD_N + 2) * RAW_SLOT];
	struct ibv_mr *mr = rdma_reg_msgs(id, buf, sizeof(buf));
	int i, inflight = 0, bad = 0, st = 0, ret;

	if (mr == NULL)
		PFAIL("flood: rdma_reg_msgs: %s", strerror(errno));
	srand((unsigned int)getpid());
	for (i = 0; i < FLOOD_N; i++) {
		uint8_t *b = buf + (size_t)i * RAW_SLOT;
		size_t len = flood_make(i, b);

		if (inflight == RAW_SQ) {
			ret = raw_reap(id, RAW_SQ / 2, &st);
			if (ret < 0)
				PFAIL("flood: no completions at SEND %d", i);
			bad += ret;
			inflight -= RAW_SQ / 2;
		}
		if (rdma_post_send(id, NULL, b, len, mr, 0) != 0)
			PFAIL("flood: post %d: %s", i, strerror(errno));
		inflight++;
	}
	ret = raw_reap(id, inflight, &st);
	if (ret < 0)
		PFAIL("flood: last completions");
	bad += ret;
	if (bad != 0)
		PFAIL("flood: %d of %d SENDs failed (first: %s)", bad, FLOOD_N,
				ibv_wc_status_str((enum ibv_wc_status)st));
	if (rdma_post_send(id, NULL, buf + (size_t)FLOOD_N * RAW_SLOT, 2 * RAW_SLOT, mr, 0) != 0)
		PFAIL("flood: post the long one: %s", strerror(errno));
	ret = raw_reap(id, 1, &st);
	if (ret != 1)
		PFAIL("flood: a SEND of %d bytes into a %d-byte slot: %s", 2 * RAW_SLOT, RAW_SLOT,
				ret == 0 ? "taken" : "no completion");
	fprintf(stderr, "peer: flood: %d SENDs taken, the %d-byte one refused (%s)\n", FLOOD_N,
			2 * RAW_SLOT, ibv_wc_status_str((enum ibv_wc_status)st));
	rdma_dereg_mr(mr);
	return 0;
}

/* "churn": connect and disconnect CHURN_N times (or until SIGUSR1); every 50th connection has
 * a bad hello and must be refused. */
static int
raw_churn(const char *ip, const char *port)
{
	struct raw_hello h;
	struct rdma_cm_id *id;
	int i, nbad = 0;

	for (i = 0; i < CHURN_N && !raw_stop; i++) {
		bool good = i % 50 != 49;

		raw_hello_make(&h, good);
		id = raw_connect(ip, port, &h);
		if (good && id == NULL)
			PFAIL("churn: connection %d failed: %s", i, strerror(errno));
		if (!good && id != NULL)
			PFAIL("churn: connection %d with a bad hello was accepted", i);
		if (id != NULL) {
			rdma_disconnect(id);
			rdma_destroy_ep(id);
		} else {
			nbad++;
		}
	}
	fprintf(stderr, "peer: churn: %d connections (%d with a bad hello, refused)\n", i, nbad);
	return 0;
}

static int
raw_main(int argc, char **argv)
{
	struct raw_hello h;
	struct rdma_cm_id *id;
	int ret;

	if (argc < 5)
		PFAIL("usage: --raw SCRIPT IP PORT");
	if (strcmp(argv[2], "churn") == 0) {
		signal(SIGUSR1, raw_on_usr1);
		return raw_churn(argv[3], argv[4]);
	}
	if (strcmp(argv[2], "v1") == 0) {
		/* A peer of version 1 (host byte order hello): refused by the owner. */
		raw_hello_make(&h, true);
		h.version = 1;
		id = raw_connect(argv[3], argv[4], &h);
		if (id != NULL)
			PFAIL("v1: a version-1 hello was accepted");
		fprintf(stderr, "peer: v1: refused (%s), as it should be\n", strerror(errno));
		return 0;
	}
	raw_hello_make(&h, true);
	if (strcmp(argv[2], "mute6") == 0)
		raw_retry_count = 6;	/* as rzone asks */
	id = raw_connect(argv[3], argv[4], &h);
	if (id == NULL)
		PFAIL("raw connect %s:%s: %s", argv[3], argv[4], strerror(errno));
	if (strcmp(argv[2], "flood") == 0) {
		ret = raw_flood(id);
	} else if (strcmp(argv[2], "deaf") == 0) {
		/* "deaf": no receive posted, ever; wait for the owner's SIGTERM. */
		pause();
		ret = 0;
	} else if (strncmp(argv[2], "mute", 4) == 0) {
		/* "mute": an RC peer that answers (its device acknowledges the owner's keepalives)
		 * until SIGUSR1, then stops answering as a powered-off host would: its QP goes to
		 * the error state, which drops every packet that comes in, and nothing tells the
		 * owner (no disconnect: the connection stays up until our SIGTERM). */
		struct ibv_qp_attr a = { .qp_state = IBV_QPS_ERR };

		signal(SIGUSR1, raw_on_usr1);
		while (!raw_stop)
			usleep(10000);
		ret = ibv_modify_qp(id->qp, &a, IBV_QP_STATE);
		if (ret != 0)
			PFAIL("mute: ibv_modify_qp(ERR): %s", strerror(ret));
		fprintf(stderr, "peer: mute: QP %u in error, answering nothing\n", id->qp->qp_num);
		pause();
		ret = 0;
	} else {
		ret = 1;
	}
	rdma_disconnect(id);
	rdma_destroy_ep(id);
	return ret;
}

/* The byte at @off of stream run @run (the wire suite's loss test; both sides compute it). */
static uint8_t
stream_byte(size_t off, int run)
{
	return (uint8_t)((off * 131) ^ ((size_t)run * 29) ^ (off >> 9));
}

#define STREAM_LEN	(512u << 10)	/* written in 64 KiB WRITEs, read back */
#define STREAM_SMALL	200		/* then 4 KiB WRITEs, each timed */
#define LOSSY_CHUNK	(16u << 10)	/* the lossy stream's WRITEs and READs */

/* What netem does to both hosts' eth0 in the wire suite's "lossy" runs (index K; "": nothing). */
static const char *const netem_specs[] = {
	"", "loss 1%", "loss 5%", "delay 1ms reorder 5% 50%", "duplicate 5%",
};

/* The "lossy" peer's run, with netem on (the owner sets its own): write STREAM_LEN bytes of run
 * @run's pattern, read them back and compare, then STREAM_SMALL timed 4 KiB writes; report
 * { elapsed us of the big write + read, p50 us, p99 us, errors }. */
static int
lossy_run(struct rz_peer *p, struct rz_rdma_mem *mem, uint8_t *buf, int spec, int run)
{
	uint64_t res[4] = { 0 }, lat[STREAM_SMALL], t;
	int ret, i;
	size_t off;
	struct rz_rdma_desc d;

	ret = rz_peer_recv_desc(p, &d, TMO);
	if (ret != 0)
		PFAIL("stream: rz_peer_recv_desc: %s", strerror(-ret));
	for (off = 0; off < STREAM_LEN; off++)
		buf[off] = stream_byte(off, run);
	t = now_us();
	/* 16 KiB at a time: under 5 % loss every lost packet costs a retransmission timeout
	 * (about 2 s here), and each synchronous call is bounded (rz_peer_sync_timeout_ms()). */
	for (off = 0; off < STREAM_LEN; off += LOSSY_CHUNK) {
		ret = rz_remote_write(p, mem, off, &d, off, LOSSY_CHUNK);
		if (ret != 0)
			PFAIL("stream: write at %zu: %s", off, strerror(-ret));
	}
	for (off = 0; off < STREAM_LEN; off += LOSSY_CHUNK) {
		ret = rz_remote_read(p, mem, STREAM_LEN + off, &d, off, LOSSY_CHUNK);
		if (ret != 0)
			PFAIL("stream: read back at %zu: %s", off, strerror(-ret));
	}
	res[0] = now_us() - t;
	for (off = 0; off < STREAM_LEN; off++)
		res[3] += buf[STREAM_LEN + off] != stream_byte(off, run);
	for (i = 0; i < STREAM_SMALL; i++) {
		size_t o = STREAM_LEN + (size_t)(i % 64) * 4096;

		t = now_us();
		ret = rz_remote_write(p, mem, o - STREAM_LEN, &d, o, 4096);
		lat[i] = now_us() - t;
		if (ret != 0)
			PFAIL("stream: small write %d: %s", i, strerror(-ret));
	}
	qsort(lat, STREAM_SMALL, sizeof(lat[0]), cmp_u64);
	res[1] = lat[STREAM_SMALL / 2];
	res[2] = lat[STREAM_SMALL * 99 / 100];
	/* -ETIMEDOUT on a lossy wire: still queued (see wire_netem()); the owner waits for it. */
	ret = rz_peer_send_msg(p, res, sizeof(res));
	if (ret == -ETIMEDOUT && spec > 0)
		fprintf(stderr, "peer: stream: results not taken within the send bound (%s): "
				"still queued\n", netem_specs[spec]);
	else if (ret != 0)
		PFAIL("stream: send: %s", strerror(-ret));
	return peer_wait_msg(p, "bye");
}

/* "lossy K:RUN": netem_specs[K] on this host's eth0 for lossy_run(), removed whatever happens
 * (the next tests run on a clean wire). */
static int
peer_lossy(struct rz_peer *p, struct rz_rdma_mem *mem, uint8_t *buf, const char *arg)
{
	int spec = 0, run = 0, ret;
	char cmd[128];

	if (arg == NULL || sscanf(arg, "%d:%d", &spec, &run) != 2 || spec < 0 ||
			spec >= (int)RTE_DIM(netem_specs))
		PFAIL("stream: want K:RUN");
	if (spec > 0) {
		snprintf(cmd, sizeof(cmd), "tc qdisc replace dev eth0 root netem %s",
				netem_specs[spec]);
		if (system(cmd) != 0)
			PFAIL("stream: %s failed", cmd);
	}
	ret = lossy_run(p, mem, buf, spec, run);
	if (spec > 0 && system("tc qdisc del dev eth0 root") != 0)
		PFAIL("stream: tc qdisc del failed");
	return ret;
}

#define LD_SLOTS	64	/* sequence records, 4 KiB apart, in the granted region */
/* Allowed beyond a liveness or synchronous bound in the checks: the period of the test's
 * rz_rdma_progress() calls (10 ms) and a loaded TCG guest's late timers (17.045 s seen against
 * a bound of 17.032 s while the host's load average was 10). */
#define LIVENESS_SLACK_MS	2000

/* "linkdown": sequence-numbered 4 KiB writes (record n, all its bytes (uint8_t)n and its first 8
 * bytes n, into slot n % LD_SLOTS) while the owner cuts the network, until it says "stop";
 * report { writes done, writes failed, first failure (-errno), slowest write in us, last
 * sequence number written, what the old rkey did on a new connection (0: not tried) }. A write
 * that fails ends the stream: the peer connects again (the network back), tries the old grant's
 * rkey on the new connection (it must fail) and reports there. */
static int
peer_linkdown(struct rz_peer **pp, struct rz_rdma_mem *mem, uint8_t *buf, const char *ip,
		const char *port)
{
	uint64_t res[6] = { 0 }, seq, t, dt;
	struct rz_peer *p = *pp;
	struct rz_rdma_desc d;
	char m[64];
	int ret;

	ret = rz_peer_recv_desc(p, &d, TMO);
	if (ret != 0)
		PFAIL("linkdown: rz_peer_recv_desc: %s", strerror(-ret));
	if (rz_peer_send_msg(p, "running", 7) != 0)
		PFAIL("linkdown: send running");
	for (seq = 1; seq < 1000000; seq++) {
		size_t slot = (size_t)(seq % LD_SLOTS) * 4096;

		if (seq % 8 == 0) {
			ret = rz_peer_recv_msg(p, m, 0);
			if (ret == 4 && memcmp(m, "stop", 4) == 0)
				break;
		}
		memset(buf + slot, (int)(seq & 0xff), 4096);
		memcpy(buf + slot, &seq, sizeof(seq));
		t = now_us();
		ret = rz_remote_write(p, mem, slot, &d, slot, 4096);
		dt = now_us() - t;
		res[3] = dt > res[3] ? dt : res[3];
		if (ret != 0) {
			res[1]++;
			res[2] = (uint64_t)(int64_t)ret;
			break;
		}
		res[0]++;
		res[4] = seq;
	}
	fprintf(stderr, "peer: linkdown: %" PRIu64 " writes, %" PRIu64 " failed (%d), slowest %"
			PRIu64 " us, last sequence %" PRIu64 "\n", res[0], res[1], (int)res[2],
			res[3], res[4]);
	if (res[1] != 0) {
		/* The connection is gone: a new one, and the old rkey tried on it (the caller
		 * closes the last one, *@pp). */
		rz_peer_close(p);
		*pp = p = rz_peer_connect(ip, (uint16_t)atoi(port), TMO);
		if (p == NULL)
			PFAIL("linkdown: reconnect: %s", strerror(rte_errno));
		ret = rz_remote_write(p, mem, 0, &d, 0, 8);
		res[5] = (uint64_t)(int64_t)(ret == 0 ? 1 : ret);
		fprintf(stderr, "peer: linkdown: reconnected; the old rkey on the new connection: "
				"%d (%s)\n", ret, ret == 0 ? "it worked!" : strerror(-ret));
		if (ret != 0) {
			/* The failed write put this connection in error too: one more. */
			rz_peer_close(p);
			*pp = p = rz_peer_connect(ip, (uint16_t)atoi(port), TMO);
			if (p == NULL)
				PFAIL("linkdown: reconnect: %s", strerror(rte_errno));
		}
	}
	ret = rz_peer_send_msg(p, res, sizeof(res));
	if (ret != 0)
		PFAIL("linkdown: send result: %s", strerror(-ret));
	return peer_wait_msg(p, "bye");
}

/* The wire suite's power-off of host @host seen (the VM lane's RZ_PAIR_DIR/poweroff-HOST.done,
 * devtools/vm/pair.sh), CLOCK_MONOTONIC us; 0: not yet, or no lane (natively). */
static uint64_t power_off_seen_us;
static char power_off_marker[512];

static void *
power_off_watch(void *arg)
{
	uint64_t end = now_us() + 600ull * 1000000;

	(void)arg;
	while (now_us() < end) {
		if (access(power_off_marker, F_OK) == 0) {
			__atomic_store_n(&power_off_seen_us, now_us(), __ATOMIC_RELEASE);
			break;
		}
		usleep(20000);
	}
	return NULL;
}

static int peer_down_calls;	/* written by the progress thread */
static volatile int peer_progress_stop;

/* The peer's control thread: rz_rdma_progress() every 10 ms, beside the data path. */
static void *
peer_progress(void *arg)
{
	(void)arg;
	while (!peer_progress_stop) {
		rz_rdma_progress();
		usleep(10000);
	}
	return NULL;
}

static void
peer_on_down(pid_t id, uint64_t identity, int reason, void *arg)
{
	(void)arg;
	__atomic_fetch_add(&peer_down_calls, 1, __ATOMIC_RELAXED);
	fprintf(stderr, "peer: down handler: peer %d = 0x%016" PRIx64 ": %s\n", (int)id, identity,
			strerror(-reason));
}

/* "ownerdies" (fault 4, the wire suite's second run: the owner's host powered off): a second
 * connection to the owner, idle; a descriptor on each; "running"; then sequence-numbered 4 KiB
 * writes on the first, while a control thread calls rz_rdma_progress() every 10 ms, until one
 * fails (the owner's host is gone: the lane killed it). Checked: the write in flight fails
 * with -ETIMEDOUT or -ENOTCONN within rz_peer_sync_timeout_ms() (+ LIVENESS_SLACK_MS), the
 * next call on either connection fails at once (< 1 s), the idle connection is declared down by
 * its keepalive (-ETIMEDOUT) within rz_peer_liveness_bound_ms() (+ the slack) of the power-off
 * (seen through the lane's marker; natively, of the last write that succeeded), the down
 * handler is called for both; nothing hangs. The exit status is the verdict (the owner is
 * gone: the peer server reports it). */
static int
peer_ownerdies(struct rz_peer *p, struct rz_rdma_mem *mem, uint8_t *buf, const char *ip,
		const char *port)
{
	uint64_t seq, t, dt = 0, t_last_ok = 0, t_fail, t_q, t_ref, t_next, d_next, d_next2;
	const char *dir = getenv("RZ_PAIR_DIR");
	struct rz_rdma_desc d, d2;
	struct rz_peer *q;
	pthread_t th, pth;
	int ret, fail_ret = 0, next_ret, next2_ret, qr, pr, bad = 0;
	int64_t since_fail, since_q;
	int sync_ms, bound_ms;

	q = rz_peer_connect(ip, (uint16_t)atoi(port), TMO);
	if (q == NULL)
		PFAIL("ownerdies: second connection: %s", strerror(rte_errno));
	if ((ret = rz_peer_recv_desc(p, &d, TMO)) != 0 ||
			(ret = rz_peer_recv_desc(q, &d2, TMO)) != 0)
		PFAIL("ownerdies: rz_peer_recv_desc: %s", strerror(-ret));
	rz_rdma_set_peer_down_handler(peer_on_down, NULL);
	if (dir != NULL) {
		snprintf(power_off_marker, sizeof(power_off_marker), "%s/poweroff-A.done", dir);
		if (pthread_create(&th, NULL, power_off_watch, NULL) != 0)
			PFAIL("ownerdies: pthread_create");
		pthread_detach(th);
	}
	sync_ms = rz_peer_sync_timeout_ms(p);
	bound_ms = rz_peer_liveness_bound_ms(q);
	if (rz_peer_send_msg(p, "running", 7) != 0)
		PFAIL("ownerdies: send running");
	peer_progress_stop = 0;
	if (pthread_create(&pth, NULL, peer_progress, NULL) != 0)
		PFAIL("ownerdies: pthread_create");
	for (seq = 1, ret = 0; seq < 10000000 && ret == 0; seq++) {
		size_t slot = (size_t)(seq % LD_SLOTS) * 4096;

		memset(buf + slot, (int)(seq & 0xff), 4096);
		memcpy(buf + slot, &seq, sizeof(seq));
		t = now_us();
		ret = rz_remote_write(p, mem, slot, &d, slot, 4096);
		dt = now_us() - t;
		if (ret == 0)
			t_last_ok = now_us();
		else
			fail_ret = ret;
		if (t_last_ok != 0 && now_us() - t_last_ok > 300ull * 1000000)
			PFAIL("ownerdies: no failure in 300 s");
	}
	t_fail = now_us();
	/* The next call on the same connection: at once. */
	t = now_us();
	next_ret = rz_remote_write(p, mem, 0, &d, 0, 4096);
	d_next = now_us() - t;
	/* The idle connection: its keepalive. */
	t_q = 0;
	t_next = now_us();
	while (now_us() - t_next < (uint64_t)(bound_ms + 60000) * 1000) {
		if (rz_peer_connected(q) == 0) {
			t_q = now_us();
			break;
		}
		usleep(10000);
	}
	usleep(100000);		/* the handler runs in the progress call that saw it go */
	peer_progress_stop = 1;
	pthread_join(pth, NULL);
	t = now_us();
	next2_ret = rz_remote_read(q, mem, 0, &d2, 0, 8);
	d_next2 = now_us() - t;
	qr = rz_peer_down_reason(q);
	pr = rz_peer_down_reason(p);
	t_ref = __atomic_load_n(&power_off_seen_us, __ATOMIC_ACQUIRE);
	if (t_ref == 0)
		t_ref = t_last_ok;	/* natively, or the marker not seen */
	since_fail = (int64_t)(t_fail - t_ref) / 1000;
	since_q = t_q != 0 ? (int64_t)(t_q - t_ref) / 1000 : -1;
	fprintf(stderr, "peer: ownerdies: %" PRIu64 " writes; the owner's host powered off (%s)\n",
			seq - 2, power_off_seen_us != 0 ? "marker seen" :
			"measured from the last write that succeeded");
	fprintf(stderr, "peer: ownerdies: the write in flight failed with %d (%s) after %" PRIu64
			" ms, %" PRId64 " ms after the power-off (sync bound %d ms); next write "
			"%d (%s) in %" PRIu64 " us\n", fail_ret, strerror(-fail_ret), dt / 1000,
			since_fail, sync_ms, next_ret, strerror(-next_ret), d_next);
	fprintf(stderr, "peer: ownerdies: the idle connection declared down (%d, %s) %" PRId64
			" ms after the power-off (liveness bound %d ms), a read on it then %d (%s) "
			"in %" PRIu64 " us; the streaming connection's reason %d (%s); handler "
			"called %d times\n", qr, strerror(-qr), since_q, bound_ms, next2_ret,
			strerror(-next2_ret), d_next2, pr, strerror(-pr),
			__atomic_load_n(&peer_down_calls, __ATOMIC_RELAXED));
	if (fail_ret != -ETIMEDOUT && fail_ret != -ENOTCONN)
		bad += fprintf(stderr, "peer: FAIL: the failed write: %d\n", fail_ret) > 0;
	if (dt / 1000 > (uint64_t)sync_ms + LIVENESS_SLACK_MS)
		bad += fprintf(stderr, "peer: FAIL: the write took %" PRIu64 " ms\n",
				dt / 1000) > 0;
	if (since_fail > sync_ms + LIVENESS_SLACK_MS)
		bad += fprintf(stderr, "peer: FAIL: failure %" PRId64 " ms after\n",
				since_fail) > 0;
	if (next_ret == 0 || d_next > 1000000 || next2_ret == 0 || d_next2 > 1000000)
		bad += fprintf(stderr, "peer: FAIL: a call after the failure\n") > 0;
	if (t_q == 0 || qr != -ETIMEDOUT || since_q > bound_ms + LIVENESS_SLACK_MS)
		bad += fprintf(stderr, "peer: FAIL: the idle connection's liveness\n") > 0;
	if (pr == 0 || __atomic_load_n(&peer_down_calls, __ATOMIC_RELAXED) != 2)
		bad += fprintf(stderr, "peer: FAIL: down handler / reason of the first\n") > 0;
	if (dir != NULL && power_off_seen_us == 0)
		bad += fprintf(stderr, "peer: FAIL: the lane's marker %s never seen\n",
				power_off_marker) > 0;
	rz_rdma_set_peer_down_handler(NULL, NULL);
	rz_peer_close(q);
	return bad == 0 ? 0 : 1;
}

static int
peer_main(int argc, char **argv)
{
	const char *script = argv[2];
	struct rz_rdma_mem mem;
	struct rz_rdma_desc d, forged;
	struct rz_peer *p;
	uint8_t *buf;
	int ret, i;

	if (argc < 5)
		PFAIL("usage: --peer SCRIPT IP PORT [ARG]");
	if (strcmp(script, "stall") == 0) {
		sigset_t set;

		/* Before the owner can know us: its SIGUSR1 must not kill us. */
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
	}
	ret = rz_rdma_init(NULL);
	if (ret != 0)
		PFAIL("rz_rdma_init: %s", strerror(-ret));
	buf = aligned_alloc(4096, PEER_BUF);
	if (buf == NULL)
		PFAIL("no memory");
	memset(buf, 0, PEER_BUF);
	ret = rz_rdma_register_mem(buf, PEER_BUF, &mem);
	if (ret != 0)
		PFAIL("rz_rdma_register_mem: %s", strerror(-ret));
	p = rz_peer_connect(argv[3], (uint16_t)atoi(argv[4]), TMO);
	if (p == NULL)
		PFAIL("rz_peer_connect(%s:%s): %s", argv[3], argv[4], strerror(rte_errno));
	if (strcmp(script, "mix") == 0) {
		char m[64];

		/* The owner sent "hi", then a descriptor, then "bye": each call of the wrong kind
		 * leaves the head message queued. */
		if ((ret = rz_peer_recv_desc(p, &d, TMO)) != -ENOMSG)
			PFAIL("mix: recv_desc before the message: %d, want -ENOMSG", ret);
		if ((ret = rz_peer_recv_desc(p, &d, TMO)) != -ENOMSG)
			PFAIL("mix: recv_desc again: %d, want -ENOMSG", ret);
		if ((ret = rz_peer_recv_msg(p, m, TMO)) != 2 || memcmp(m, "hi", 2) != 0)
			PFAIL("mix: first message: %d", ret);
		if ((ret = rz_peer_recv_msg(p, m, TMO)) != -ENOMSG)
			PFAIL("mix: recv_msg before the descriptor: %d, want -ENOMSG", ret);
		if ((ret = rz_peer_recv_desc(p, &d, TMO)) != 0)
			PFAIL("mix: descriptor: %s", strerror(-ret));
		if ((ret = rz_remote_read(p, &mem, 0, &d, 0, 8)) != 0)
			PFAIL("mix: read through it: %s", strerror(-ret));
		if (peer_wait_msg(p, "bye") != 0)
			return 1;
		ret = rz_peer_send_msg(p, buf, 8);	/* what the read brought */
		rz_peer_close(p);
		rz_rdma_deregister_mem(&mem);
		rz_rdma_fini();
		free(buf);
		return ret == 0 ? 0 : 1;
	}
	if (strcmp(script, "ownerdies") == 0) {
		ret = peer_ownerdies(p, &mem, buf, argv[3], argv[4]);
		rz_peer_close(p);
		rz_rdma_deregister_mem(&mem);
		rz_rdma_fini();
		free(buf);
		return ret;
	}
	if (strcmp(script, "linkdown") == 0) {
		ret = peer_linkdown(&p, &mem, buf, argv[3], argv[4]);
		rz_peer_close(p);
		rz_rdma_deregister_mem(&mem);
		rz_rdma_fini();
		free(buf);
		return ret;
	}
	if (strcmp(script, "lossy") == 0) {
		ret = peer_lossy(p, &mem, buf, argc > 5 ? argv[5] : NULL);
		rz_peer_close(p);
		rz_rdma_deregister_mem(&mem);
		rz_rdma_fini();
		free(buf);
		return ret;
	}
	if (strcmp(script, "unpack") == 0) {
		ret = peer_unpack(p, &mem, buf);
		rz_peer_close(p);
		rz_rdma_deregister_mem(&mem);
		rz_rdma_fini();
		free(buf);
		return ret;
	}
	if (strcmp(script, "stall") == 0) {
		ret = peer_stall(p, &mem);
		rz_peer_close(p);
		rz_rdma_deregister_mem(&mem);
		rz_rdma_fini();
		free(buf);
		return ret;
	}
	if (strcmp(script, "rebind") == 0) {
		ret = peer_rebind(p, argv[3], argv[4], &mem);
		rz_rdma_deregister_mem(&mem);
		rz_rdma_fini();
		free(buf);
		return ret;
	}
	if (strcmp(script, "cmd") == 0 || strcmp(script, "drain") == 0) {
		ret = strcmp(script, "cmd") == 0 ? peer_cmd(p, &mem, buf) :
			peer_drain(p, argc > 5 ? atoi(argv[5]) : 1);
		rz_peer_close(p);
		rz_rdma_deregister_mem(&mem);
		rz_rdma_fini();
		free(buf);
		return ret;
	}
	ret = rz_peer_recv_desc(p, &d, TMO);
	if (ret != 0)
		PFAIL("rz_peer_recv_desc: %s", strerror(-ret));
	if (d.issuer != rz_peer_identity(p) || d.target != rz_rdma_self_id())
		PFAIL("descriptor identities do not match the connection");

	if (strcmp(script, "desc") == 0) {
		struct desc_msg m = { d.region_id, d.generation, d.addr, d.length, d.issuer,
			d.target, d.rkey, (uint8_t)d.rights, (uint8_t)d.mode };

		ret = rz_peer_send_msg(p, &m, sizeof(m));
		if (ret != 0)
			PFAIL("send: %s", strerror(-ret));
		if (peer_wait_msg(p, "bye") != 0)
			return 1;
	} else if (strcmp(script, "share") == 0) {
		uint64_t olds[2];

		memset(buf, 0xa5, 4096);
		ret = rz_remote_write(p, &mem, 0, &d, 0, 4096);
		if (ret != 0)
			PFAIL("write: %s", strerror(-ret));
		ret = rz_remote_read(p, &mem, 8192, &d, 0, 4096);
		if (ret != 0 || memcmp(buf, buf + 8192, 4096) != 0)
			PFAIL("read back: %s", strerror(-ret));
		ret = rz_remote_fetch_add(p, &mem, 16384, &d, 4096, 5, &olds[0]);
		if (ret != 0)
			PFAIL("fetch_add: %s", strerror(-ret));
		ret = rz_remote_cmp_swap(p, &mem, 16392, &d, 4104, 0, 77, &olds[1]);
		if (ret != 0)
			PFAIL("cmp_swap: %s", strerror(-ret));
		ret = rz_peer_send_msg(p, olds, sizeof(olds));
		if (ret != 0)
			PFAIL("send: %s", strerror(-ret));
		if (peer_wait_msg(p, "bye") != 0)
			return 1;
	} else if (strcmp(script, "cow") == 0) {
		ret = rz_remote_read(p, &mem, 0, &d, 0, 4096);
		if (ret != 0)
			PFAIL("CoW read: %s", strerror(-ret));
		for (i = 0; i < 4096; i++)
			if (buf[i] != 0x5a)
				PFAIL("CoW read: byte %d is 0x%x, not 0x5a", i, buf[i]);
		memset(buf, 0xee, 4096);
		ret = rz_remote_write(p, &mem, 0, &d, 0, 4096);
		if (ret != -EACCES)
			PFAIL("CoW write: got %d (%s), want -EACCES", ret, strerror(-ret));
		fprintf(stderr, "peer: CoW write refused: remote access error, as expected\n");
	} else if (strcmp(script, "past") == 0) {
		memset(buf, 0x11, 4096);
		ret = rz_remote_write(p, &mem, 0, &d, 0, d.length);
		if (ret != 0)
			PFAIL("write of the whole sub-range: %s", strerror(-ret));
		ret = rz_remote_write(p, &mem, 0, &d, d.length, 1);
		if (ret != -ERANGE)
			PFAIL("library let a write past the descriptor through: %d", ret);
		/* A lying peer: claim one byte more than granted. The window must refuse. */
		forged = d;
		forged.length++;
		ret = rz_remote_write(p, &mem, 0, &forged, d.length, 1);
		if (ret != -EACCES)
			PFAIL("one byte past the sub-range: got %d (%s), want -EACCES", ret,
					strerror(-ret));
		fprintf(stderr, "peer: byte past the sub-range refused: remote access error\n");
	} else if (strcmp(script, "revoke") == 0) {
		int n_acc = 0, n_flush = 0, n_other = 0, first = 0;

		ret = rz_remote_write(p, &mem, 0, &d, 0, 8);
		if (ret != 0)
			PFAIL("write before revoke: %s", strerror(-ret));
		ret = rz_peer_send_msg(p, "ready", 5);
		if (ret != 0 || peer_wait_msg(p, "revoked") != 0)
			PFAIL("handshake");
		for (i = 0; i < REVOKE_TRIES; i++) {
			ret = rz_remote_read(p, &mem, 0, &d, 0, 8);
			if (i == 0)
				first = ret;
			if (ret == 0)
				PFAIL("attempt %d after revoke SUCCEEDED", i);
			else if (ret == -EACCES)
				n_acc++;
			else if (ret == -ENOTCONN)
				n_flush++;
			else
				n_other++;
		}
		fprintf(stderr, "peer: %d attempts after revoke: %d remote access error, %d "
				"flushed (QP in error), %d other, 0 succeeded\n", REVOKE_TRIES,
				n_acc, n_flush, n_other);
		if (first != -EACCES)
			PFAIL("first attempt after revoke: %d, want -EACCES", first);
		rz_peer_close(p);
		p = NULL;
		if (peer_revoke_fresh(argv[3], argv[4], &mem, &d) != 0)
			return 1;
	} else if (strcmp(script, "stream") == 0) {
		return peer_stream(p, &mem, buf, &d);
	} else if (strcmp(script, "unsig") == 0) {
		if (peer_unsig(p, &mem, buf, &d) != 0)
			return 1;
	} else if (strcmp(script, "prep") == 0) {
		if (peer_prep(p, &mem, buf, &d) != 0)
			return 1;
	} else if (strcmp(script, "prep-queue") == 0) {
		if (peer_prep_queue(p, &mem, &d) != 0)
			return 1;
	} else if (strcmp(script, "reap") == 0) {
		if (peer_reap(p, &mem, &d) != 0)
			return 1;
	} else if (strcmp(script, "try") == 0) {
		int want = argc > 5 && strcmp(argv[5], "EACCES") == 0 ? -EACCES : 0;

		if (peer_wait_msg(p, "go") != 0)
			return 1;
		memset(buf, 0x77, 8);
		ret = rz_remote_write(p, &mem, 0, &d, 0, 8);
		if (ret != want)
			PFAIL("write: got %d (%s), want %d", ret, strerror(-ret), want);
		if (ret == 0) {
			rz_peer_send_msg(p, "ok", 2);
			if (peer_wait_msg(p, "bye") != 0)
				return 1;
		}
	} else if (strcmp(script, "die") == 0) {
		_exit(0);	/* no disconnect, no cleanup: the owner must notice */
	} else {
		PFAIL("unknown script %s", script);
	}
	rz_peer_close(p);
	rz_rdma_deregister_mem(&mem);
	rz_rdma_fini();
	free(buf);
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Secondary side: a DPDK secondary of the test's instance that maps a region and posts with
 * it. "--secondary PREFIX IP PORT REGION_ID". */

struct sec_report {
	int32_t import_status;
	int32_t status;
	uint64_t init_us;	/* rz_rdma_init(), import attempt included */
	uint64_t reg_us;	/* first rz_rdma_register(): the arena's MR */
	uint64_t reg2_us;	/* second: cached */
	uint64_t mr_len;
};

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

#define SFAIL(...) do { fprintf(stderr, "secondary: FAIL: " __VA_ARGS__); \
	fprintf(stderr, "\n"); return 1; } while (0)

static int
secondary_main(int argc, char **argv)
{
	char prefix[96];
	char *eal[] = { argv[0], "--proc-type=secondary", "--no-pci", "-l", "0",
		"--log-level=lib.rzone:info", prefix, NULL };
	struct sec_report rep;
	struct rz_rdma_mem mem, mem2;
	struct rz_rdma_desc d;
	struct rz_region *r;
	struct rz_peer *p;
	uint64_t t0;
	char m[64];
	int ret, i;

	if (argc < 6)
		SFAIL("usage: --secondary PREFIX IP PORT REGION_ID");
	snprintf(prefix, sizeof(prefix), "--file-prefix=%s", argv[2]);
	if (rte_eal_init(RTE_DIM(eal) - 1, eal) < 0)
		SFAIL("rte_eal_init: %s", rte_strerror(rte_errno));
	ret = rz_init();
	if (ret != 0)
		SFAIL("rz_init: %d", ret);
	memset(&rep, 0, sizeof(rep));
	t0 = now_us();
	ret = rz_rdma_init(NULL);
	rep.init_us = now_us() - t0;
	if (ret != 0)
		SFAIL("rz_rdma_init: %s", strerror(-ret));
	rep.import_status = rz_rdma_import_status();
	p = rz_peer_connect(argv[3], (uint16_t)atoi(argv[4]), TMO);
	if (p == NULL)
		SFAIL("connect: %s", strerror(rte_errno));
	/* The primary maps the region into us, then grants us a window of its other region. */
	ret = rz_peer_recv_desc(p, &d, TMO);
	if (ret != 0)
		SFAIL("descriptor: %s", strerror(-ret));
	r = rz_region_lookup(strtoull(argv[5], NULL, 0));
	if (r == NULL)
		SFAIL("region %s: %s", argv[5], rte_strerror(rte_errno));
	if (rz_region_get_mapping(r, RZ_PID_SELF) == NULL)
		SFAIL("the region is not mapped in this secondary");
	t0 = now_us();
	ret = rz_rdma_register(r, &mem);
	rep.reg_us = now_us() - t0;
	if (ret != 0)
		SFAIL("rz_rdma_register: %s", strerror(-ret));
	t0 = now_us();
	ret = rz_rdma_register(r, &mem2);
	rep.reg2_us = now_us() - t0;
	if (ret != 0 || mem2.lkey != mem.lkey)
		SFAIL("second rz_rdma_register: %d", ret);
	rep.mr_len = mem.len;
	/* Post with the region: its first page goes out, a page of the window comes in. */
	rep.status = rz_remote_write(p, &mem, 0, &d, 0, 4096);
	if (rep.status == 0)
		rep.status = rz_remote_read(p, &mem, 4096, &d, 8192, 4096);
	ret = rz_peer_send_msg(p, &rep, sizeof(rep));
	if (ret != 0)
		SFAIL("send: %s", strerror(-ret));
	/* The primary grants us a range of the region and revokes it, hands us the region, and we
	 * destroy it (the primary is not told). */
	ret = rz_peer_recv_desc(p, &d, TMO);
	if (ret != 0)
		SFAIL("range descriptor: %s", strerror(-ret));
	i = rz_peer_recv_msg(p, m, TMO);
	if (i != 7 || memcmp(m, "destroy", 7) != 0)
		SFAIL("no destroy: %d", i);
	if (rz_region_owner(r) != getpid())
		SFAIL("the region was not transferred to us (owner %d)", (int)rz_region_owner(r));
	ret = rz_region_destroy(r);
	if (ret != 0)
		SFAIL("destroy: %s", strerror(-ret));
	ret = rz_peer_send_msg(p, "destroyed", 9);
	if (ret != 0)
		SFAIL("send: %s", strerror(-ret));
	ret = rz_peer_recv_desc(p, &d, TMO);	/* a range of the other region */
	if (ret != 0)
		SFAIL("second range descriptor: %s", strerror(-ret));
	i = rz_peer_recv_msg(p, m, TMO);
	if (i != 3 || memcmp(m, "bye", 3) != 0)
		SFAIL("no bye: %d", i);
	rz_peer_close(p);
	rz_rdma_fini();
	rz_fini();
	rte_eal_cleanup();
	return rep.status == 0 ? 0 : 1;
}

/* ---------------------------------------------------------------------------------------- */
/* Grantor side: a DPDK secondary A of the test's instance that owns a region R and grants the
 * test process (P, connected twice) Share on it, then lets its ownership go as MODE says:
 * "transfer" (to the test process, B), "move" (a Move capability for B), "kill" (B kills it
 * with -9 and the reaper hands R to B, its mapper), "fini" (rz_fini(): R passes to B, its
 * mapper). "--grantor PREFIX IP PORT MODE". Its stdin is a pipe: one byte from B lets it go. */

struct grantor_info {
	uint64_t region_id;
	uint64_t va;
	uint64_t token;		/* move: the Move capability for B */
	int32_t destroy_ret;	/* transfer: rz_region_destroy() while B maps R */
	int32_t grants;		/* rz_rdma_grant_count() after that */
};

struct grantor_done {
	int32_t ret;		/* rz_region_transfer_ownership() / the revokes */
	int32_t grants;		/* rz_rdma_grant_count() after it */
};

#define GFAIL(...) do { fprintf(stderr, "grantor: FAIL: " __VA_ARGS__); \
	fprintf(stderr, "\n"); return 1; } while (0)

static int
grantor_wait_stdin(int timeout_ms)
{
	struct pollfd pfd = { .fd = 0, .events = POLLIN };
	char c;

	if (poll(&pfd, 1, timeout_ms) != 1 || read(0, &c, 1) != 1)
		return -1;
	return 0;
}

static int
grantor_main(int argc, char **argv)
{
	char prefix[96];
	char *eal[] = { argv[0], "--proc-type=secondary", "--no-pci", "-l", "0",
		"--log-level=lib.rzone:info", prefix, NULL };
	struct grantor_info gi;
	struct grantor_done gd;
	struct rz_rdma_desc d1, d2;
	struct rz_region *r;
	struct rz_peer *p1, *p2;
	const char *mode;
	pid_t b = getppid();
	uint16_t port;
	char m[64];
	int ret;

	if (argc < 6)
		GFAIL("usage: --grantor PREFIX IP PORT MODE");
	mode = argv[5];
	port = (uint16_t)atoi(argv[4]);
	snprintf(prefix, sizeof(prefix), "--file-prefix=%s", argv[2]);
	if (rte_eal_init(RTE_DIM(eal) - 1, eal) < 0)
		GFAIL("rte_eal_init: %s", rte_strerror(rte_errno));
	if ((ret = rz_init()) != 0)
		GFAIL("rz_init: %d", ret);
	if ((ret = rz_rdma_init(NULL)) != 0)
		GFAIL("rz_rdma_init: %s", strerror(-ret));
	r = rz_region_create(RZ_PID_SELF, MB2, RZ_PERM_RW);
	if (r == NULL)
		GFAIL("create: %s", rte_strerror(rte_errno));
	if ((ret = rz_region_map(r, RZ_PID_SELF, NULL, RZ_PERM_RW)) != 0)
		GFAIL("map self: %d", ret);
	memset(rz_region_addr(r), 0x41, MB2);
	/* A hands R over unmapped: the new owner could not destroy it while A maps it. */
	if ((ret = rz_region_unmap(r, RZ_PID_SELF)) != 0)
		GFAIL("unmap self: %d", ret);
	p1 = rz_peer_connect(argv[3], port, TMO);
	p2 = p1 == NULL ? NULL : rz_peer_connect(argv[3], port, TMO);
	if (p1 == NULL || p2 == NULL)
		GFAIL("connect: %s", strerror(rte_errno));
	if ((ret = rz_rdma_grant(r, p1, RZ_MODE_SHARE, 0, 0, 0, &d1)) != 0 ||
			(ret = rz_rdma_grant(r, p2, RZ_MODE_SHARE, 0, 0, 0, &d2)) != 0)
		GFAIL("grant: %s", strerror(-ret));
	memset(&gi, 0, sizeof(gi));
	gi.region_id = rz_region_id(r);
	gi.va = (uint64_t)(uintptr_t)rz_region_addr(r);
	if (strcmp(mode, "move") == 0) {
		ret = rz_region_create_capability(r, b, RZ_MODE_MOVE, &gi.token);
		if (ret != 0)
			GFAIL("Move capability: %d", ret);
	} else {
		/* B maps R (it takes R over by the transfer, the reaper or rz_fini()). */
		if ((ret = rz_region_map(r, b, NULL, RZ_PERM_RW)) != 0)
			GFAIL("map into pid %d: %d", (int)b, ret);
		if (strcmp(mode, "transfer") == 0)
			gi.destroy_ret = rz_region_destroy(r);	/* B maps it: -EBUSY */
	}
	gi.grants = rz_rdma_grant_count();
	if ((ret = rz_peer_send_msg(p1, &gi, sizeof(gi))) != 0)
		GFAIL("send info: %s", strerror(-ret));
	if (strcmp(mode, "kill") == 0) {
		grantor_wait_stdin(2 * TMO);	/* B kills us before */
		GFAIL("not killed");
	}
	ret = rz_peer_recv_msg(p1, m, TMO);
	if (ret < 1)
		GFAIL("no command: %d", ret);
	if (strcmp(mode, "fini") == 0) {
		/* Grants revoked first, then the slot released: R passes to B. */
		ret = rz_fini();
		if (ret != 0)
			GFAIL("rz_fini: %d", ret);
		if ((ret = rz_rdma_grant_count()) != -ENODEV)
			GFAIL("rz_rdma_grant_count after rz_fini: %d, want -ENODEV", ret);
		rte_eal_cleanup();
		return 0;
	}
	memset(&gd, 0, sizeof(gd));
	if (strcmp(mode, "transfer") == 0) {
		gd.ret = rz_region_transfer_ownership(r, b);
	} else {
		gd.ret = rz_rdma_revoke(&d1);
		if (gd.ret == 0)
			gd.ret = rz_rdma_revoke(&d2);
	}
	gd.grants = rz_rdma_grant_count();
	if ((ret = rz_peer_send_msg(p1, &gd, sizeof(gd))) != 0)
		GFAIL("send done: %s", strerror(-ret));
	/* Connected until B has tried the old rkeys: their refusal is the windows', not a
	 * closed connection's. */
	if (grantor_wait_stdin(2 * TMO) != 0)
		GFAIL("B never let us go");
	rz_peer_close(p1);
	rz_peer_close(p2);
	rz_rdma_fini();
	rz_fini();
	rte_eal_cleanup();
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Owner side helpers. */

/* Start a peer: on the other host in the wire suite unless @local. */
static pid_t
spawn_peer_at(const char *script, const char *arg, bool local)
{
	char port[16], opt[] = "--peer", scr[32], ip[64], extra[32];
	char *argv[] = { self_exe, opt, scr, ip, port, arg != NULL ? extra : NULL, NULL };
	pid_t pid;

	snprintf(port, sizeof(port), "%u", rz_peer_listener_port(lst));
	snprintf(scr, sizeof(scr), "%s", script);
	snprintf(ip, sizeof(ip), "%s", test_ip);
	snprintf(extra, sizeof(extra), "%s", arg != NULL ? arg : "");
	if (wire_active() && !local)
		return wire_spawn(argv + 2);	/* on the other host (the wire suite) */
	if (posix_spawn(&pid, self_exe, NULL, NULL, argv, environ) != 0)
		return -1;
	return pid;
}

static pid_t
spawn_peer(const char *script, const char *arg)
{
	return spawn_peer_at(script, arg, false);
}

/* How a peer of this host ended. */
static int
wait_peer_local(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int
wait_peer(pid_t pid)
{
	int st;

	if (wire_active())
		return wire_wait(pid);

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static struct rz_peer *
accept_peer(void)
{
	struct rz_peer *p = rz_peer_accept(lst, TMO);

	if (p == NULL)
		fprintf(stderr, "accept: %s\n", strerror(rte_errno));
	return p;
}

static struct rz_region *
new_region(size_t size, uint32_t perms, uint8_t fill)
{
	struct rz_region *r = rz_region_create(RZ_PID_SELF, size, perms);
	int ret;

	if (r == NULL)
		return NULL;
	ret = rz_region_map(r, RZ_PID_SELF, NULL, RZ_PERM_RW & perms);
	if (ret != 0 && ret != -EEXIST)
		fprintf(stderr, "map self: %d\n", ret);
	if (perms & RZ_PERM_WRITE)
		memset(rz_region_addr(r), fill, size);
	return r;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------------------------------- */
/* Tests. */

static void
test_register(void)
{
	struct rz_region *a = new_region(MB2, RZ_PERM_RW, 0), *b = new_region(MB2, RZ_PERM_RW, 0);
	struct rz_rdma_mem ma, ma2, mb;
	uint32_t max_mr, max_mw, used_mr, used_mr2, lkey;
	char *dump = NULL;
	size_t dlen = 0;
	uint64_t t0;
	FILE *f;

	CU_ASSERT_FATAL(a != NULL && b != NULL);
	CU_ASSERT_EQUAL(rz_rdma_limits(&max_mr, &max_mw, &used_mr, NULL), 0);
	CU_ASSERT(max_mr > 0 && max_mw > 0);
	t0 = now_us();
	CU_ASSERT_EQUAL_FATAL(rz_rdma_register(a, &ma), 0);
	primary_reg_us = now_us() - t0;
	printf("\n  primary: first rz_rdma_register (the region's whole arena) %" PRIu64 " us\n",
			primary_reg_us);
	CU_ASSERT_PTR_EQUAL(ma.addr, rz_region_addr(a));
	CU_ASSERT_EQUAL(ma.len, MB2);
	CU_ASSERT_NOT_EQUAL(ma.lkey, 0);
	CU_ASSERT_EQUAL(rz_rdma_limits(NULL, NULL, &used_mr2, NULL), 0);
	/* Cached: the same MR again, and for a second region of the same arena. */
	CU_ASSERT_EQUAL(rz_rdma_register(a, &ma2), 0);
	CU_ASSERT_EQUAL(ma2.lkey, ma.lkey);
	CU_ASSERT_EQUAL(rz_rdma_register(b, &mb), 0);
	CU_ASSERT_EQUAL(mb.lkey, ma.lkey);
	CU_ASSERT_EQUAL(rz_rdma_region_lkey(b, &lkey), 0);
	CU_ASSERT_EQUAL(lkey, ma.lkey);
	CU_ASSERT_EQUAL(rz_rdma_limits(NULL, NULL, &used_mr, NULL), 0);
	CU_ASSERT_EQUAL(used_mr, used_mr2);
	CU_ASSERT_EQUAL(rz_rdma_register(NULL, &ma), -EINVAL);
	CU_ASSERT_EQUAL(rz_rdma_register(a, NULL), -EINVAL);
	f = open_memstream(&dump, &dlen);
	CU_ASSERT_EQUAL(rz_rdma_dump(f), 0);
	fclose(f);
	CU_ASSERT(strstr(dump, rz_rdma_device_name()) != NULL);
	CU_ASSERT(strstr(dump, "nearest NUMA node") != NULL);
	printf("\n%s", dump);
	free(dump);
	CU_ASSERT_EQUAL(rz_region_destroy(b), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(a), 0);
	CU_ASSERT_EQUAL(rz_rdma_register(a, &ma), -ENOENT);
}

static void
test_desc_roundtrip(void)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0);
	struct rz_rdma_desc d;
	struct desc_msg m;
	struct rz_peer *p;
	pid_t pid = spawn_peer("desc", NULL);

	CU_ASSERT_FATAL(r != NULL && pid > 0);
	p = accept_peer();
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, 4096, 8192, 0, &d), 0);
	CU_ASSERT_EQUAL(rz_peer_recv_msg(p, &m, TMO), (int)sizeof(m));
	CU_ASSERT_EQUAL(m.region_id, rz_region_id(r));
	CU_ASSERT_EQUAL(m.region_id, d.region_id);
	CU_ASSERT_EQUAL(m.generation, d.generation);
	CU_ASSERT_EQUAL(m.addr, (uintptr_t)rz_region_addr(r) + 4096);
	CU_ASSERT_EQUAL(m.addr, d.addr);
	CU_ASSERT_EQUAL(m.length, 8192);
	CU_ASSERT_EQUAL(m.rkey, d.rkey);
	CU_ASSERT_EQUAL(m.rights, RZ_RDMA_RIGHT_ALL);
	CU_ASSERT_EQUAL(m.mode, RZ_MODE_SHARE);
	CU_ASSERT_EQUAL(m.issuer, rz_rdma_self_id());
	CU_ASSERT_EQUAL(m.target, rz_peer_identity(p));
	CU_ASSERT_EQUAL(rz_peer_pid(p), pid);
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "bye", 3), 0);
	CU_ASSERT_EQUAL(wait_peer(pid), 0);
	CU_ASSERT_EQUAL(rz_rdma_revoke(&d), 0);
	CU_ASSERT_EQUAL(rz_rdma_revoke(&d), -ENOENT);
	rz_peer_close(p);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

/* A number of a telemetry answer: "key":value; UINT64_MAX if absent. */
static uint64_t
tel_u64(const char *json, const char *key)
{
	char k[64];
	const char *at;

	snprintf(k, sizeof(k), "\"%s\":", key);
	at = strstr(json, k);
	return at == NULL ? UINT64_MAX : strtoull(at + strlen(k), NULL, 10);
}

/* rzone-info (RZ_INFO) against this instance with @args: its output in @out, its exit status
 * (-1 if it could not run). */
static int
run_info(const char *args, char *out, size_t len)
{
	const char *info = getenv("RZ_INFO");
	char cmd[512];
	size_t n;
	FILE *f;
	int st;

	out[0] = '\0';
	if (info == NULL) {
		fprintf(stderr, "FAIL: RZ_INFO is not set (run through meson test)\n");
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "%s -f %s %s", info, file_prefix, args);
	f = popen(cmd, "r");
	if (f == NULL)
		return -1;
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Is there a record of @event (@cause) on region @id among the newest of the audit trail? */
static bool
audit_has(const char *event, const char *cause, uint64_t id)
{
	static char out[65536];
	char want[160];

	if (run_info("--audit=64 --json", out, sizeof(out)) != 0)
		return false;
	snprintf(want, sizeof(want), "\"event\":\"%s\",\"cause\":\"%s\",\"region\":\"%#" PRIx64
			"\"", event, cause, id);
	if (strstr(out, want) == NULL) {
		printf("\n  audit trail without %s:\n%s\n", want, out);
		return false;
	}
	return true;
}

/* RZ_GRANT_F_NO_SEND: the window is bound and live, nothing goes to the peer; the application
 * delivers the packed descriptor itself, and it is revoked like any grant. */
static void
test_app_delivered_desc(void)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0);
	uint8_t wire[RZ_RDMA_DESC_SIZE + 8];
	struct rz_rdma_desc d, x;
	struct rz_peer *p;
	uint32_t rkey = 0, used_mw, used_mw2;
	uint64_t granted, revoked, rejected;
	char tel[4096], cmd[64], want[64];
	uint8_t *va;
	pid_t pid = spawn_peer("unpack", NULL);
	int i, bad = 0, n0;

	CU_ASSERT_FATAL(r != NULL && pid > 0);
	va = rz_region_addr(r);
	p = accept_peer();
	CU_ASSERT_FATAL(p != NULL);
	n0 = rz_rdma_grant_count();
	CU_ASSERT_EQUAL(rz_rdma_limits(NULL, NULL, NULL, &used_mw), 0);
	CU_ASSERT_EQUAL_FATAL(rz_test_telemetry("/rzone/rdma", tel, sizeof(tel)), 0);
	granted = tel_u64(tel, "granted");
	revoked = tel_u64(tel, "revoked");
	rejected = tel_u64(tel, "desc_rejected");
	CU_ASSERT(granted != UINT64_MAX && revoked != UINT64_MAX && rejected != UINT64_MAX);
	/* Refused, nothing changes. */
	CU_ASSERT_EQUAL(rz_rdma_grant_ext(r, p, RZ_MODE_SHARE, 0, 0, 0, 0x2, &d), -EINVAL);
	CU_ASSERT_EQUAL(rz_rdma_grant_ext(r, p, RZ_MODE_SHARE, 0, 0, 0, RZ_GRANT_F_NO_SEND,
				NULL), -EINVAL);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), n0);
	CU_ASSERT_EQUAL(rz_rdma_limits(NULL, NULL, NULL, &used_mw2), 0);
	CU_ASSERT_EQUAL(used_mw2, used_mw);
	/* The grant: live when the call returns. */
	CU_ASSERT_EQUAL_FATAL(rz_rdma_grant_ext(r, p, RZ_MODE_SHARE, 4096, 8192, 0,
				RZ_GRANT_F_NO_SEND, &d), 0);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), n0 + 1);
	CU_ASSERT_EQUAL(d.length, 8192);
	CU_ASSERT_EQUAL(d.target, rz_peer_identity(p));
	/* Packing. */
	CU_ASSERT_EQUAL(rz_rdma_desc_pack(&d, wire, RZ_RDMA_DESC_SIZE - 1), -ENOSPC);
	CU_ASSERT_EQUAL(rz_rdma_desc_pack(NULL, wire, sizeof(wire)), -EINVAL);
	x = d;
	x.mode = 77;
	CU_ASSERT_EQUAL(rz_rdma_desc_pack(&x, wire, sizeof(wire)), -EINVAL);
	CU_ASSERT_EQUAL(rz_rdma_desc_pack(&d, wire, sizeof(wire)), RZ_RDMA_DESC_SIZE);
	/* Our own descriptor is foreign as one from the peer: we issued it, not the peer. */
	CU_ASSERT_EQUAL(rz_peer_desc_unpack(p, wire, RZ_RDMA_DESC_SIZE, &x), -EPROTO);
	/* Telemetry while the grant lives. */
	CU_ASSERT_EQUAL_FATAL(rz_test_telemetry("/rzone/rdma", tel, sizeof(tel)), 0);
	printf("\n  /rzone/rdma: %s\n", tel);
	snprintf(want, sizeof(want), "\"device\":\"%s\"", rz_rdma_device_name());
	CU_ASSERT_PTR_NOT_NULL(strstr(tel, want));
	CU_ASSERT_EQUAL(tel_u64(tel, "grants"), (uint64_t)n0 + 1);
	CU_ASSERT_EQUAL(tel_u64(tel, "granted"), granted + 1);
	CU_ASSERT_EQUAL(tel_u64(tel, "desc_rejected"), rejected + 1);
	CU_ASSERT_EQUAL(tel_u64(tel, "used_mw"), (uint64_t)rz_rdma_limits(NULL, NULL, NULL,
				&used_mw2) == 0 ? used_mw2 : UINT64_MAX);
	/* rzone-info, an observer in another process, sees the grant this process holds. */
	{
		static char out[65536];
		char g[400];

		CU_ASSERT_EQUAL(run_info("--json", out, sizeof(out)), 0);
		snprintf(g, sizeof(g), "{\"region\":\"%#" PRIx64 "\",\"offset\":4096,"
				"\"length\":8192,\"rights\":\"%c%c%c\",\"peer\":%d,"
				"\"peer_remote_id\":\"%#" PRIx64 "\",\"rkey\":\"%#x\","
				"\"expiry\":null}", rz_region_id(r),
				(d.rights & RZ_RDMA_RIGHT_READ) ? 'r' : '-',
				(d.rights & RZ_RDMA_RIGHT_WRITE) ? 'w' : '-',
				(d.rights & RZ_RDMA_RIGHT_ATOMIC) ? 'a' : '-', (int)rz_peer_id(p),
				rz_peer_identity(p), d.rkey);
		CU_ASSERT_PTR_NOT_NULL(strstr(out, g));
		snprintf(g, sizeof(g), "{\"pid\":%d,\"slot\":0,\"device\":\"%s\"",
				(int)getpid(), rz_rdma_device_name());
		CU_ASSERT_PTR_NOT_NULL(strstr(out, g));
		snprintf(g, sizeof(g), "\"remote_grants\":1,");
		CU_ASSERT_PTR_NOT_NULL(strstr(out, g));
		if (strstr(out, "\"grants\":[{") == NULL)
			printf("\n  rzone-info --json: %s\n", out);
	}
	CU_ASSERT_EQUAL_FATAL(rz_test_telemetry("/rzone/rdma/peers", tel, sizeof(tel)), 0);
	snprintf(want, sizeof(want), "%d", (int)rz_peer_id(p));
	CU_ASSERT_PTR_NOT_NULL(strstr(tel, want));
	snprintf(cmd, sizeof(cmd), "/rzone/rdma/peer,%d", (int)rz_peer_id(p));
	CU_ASSERT_EQUAL_FATAL(rz_test_telemetry(cmd, tel, sizeof(tel)), 0);
	printf("  %s: %s\n", cmd, tel);
	CU_ASSERT_EQUAL(tel_u64(tel, "connected"), 1);
	CU_ASSERT_EQUAL(tel_u64(tel, "grants"), 1);
	CU_ASSERT_EQUAL(tel_u64(tel, "pid"), (uint64_t)pid);
	/* Ids are 0x-hex strings, as in the logs. */
	snprintf(want, sizeof(want), "\"identity\":\"%#" PRIx64 "\"", rz_peer_identity(p));
	CU_ASSERT_PTR_NOT_NULL(strstr(tel, want));
	/* Bad parameters answer null, not a crash. */
	CU_ASSERT_EQUAL_FATAL(rz_test_telemetry("/rzone/rdma/peer,12x", tel, sizeof(tel)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(tel, "null"));
	CU_ASSERT_EQUAL_FATAL(rz_test_telemetry("/rzone/rdma/peer,1", tel, sizeof(tel)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(tel, "null"));
	CU_ASSERT_EQUAL_FATAL(rz_test_telemetry("/rzone/rdma/peer", tel, sizeof(tel)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(tel, "null"));
	/* The application's channel: here two plain messages. */
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, wire, RZ_RDMA_DESC_SIZE / 2), 0);
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, wire + RZ_RDMA_DESC_SIZE / 2,
				RZ_RDMA_DESC_SIZE / 2), 0);
	CU_ASSERT_EQUAL(rz_peer_recv_msg(p, &rkey, TMO), (int)sizeof(rkey));
	CU_ASSERT_EQUAL(rkey, d.rkey);
	for (i = 0; i < 64; i++)
		bad += va[4096 + i] != 0x6b;
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(va[4095], 0);
	CU_ASSERT_EQUAL(rz_rdma_revoke(&d), 0);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), n0);
	/* The audit trail: the grant, and its revoke by the application. */
	CU_ASSERT(audit_has("grant", "explicit", rz_region_id(r)));
	CU_ASSERT(audit_has("revoke", "explicit", rz_region_id(r)));
	CU_ASSERT_EQUAL_FATAL(rz_test_telemetry("/rzone/rdma", tel, sizeof(tel)), 0);
	CU_ASSERT_EQUAL(tel_u64(tel, "revoked"), revoked + 1);
	CU_ASSERT_EQUAL(tel_u64(tel, "grants"), (uint64_t)n0);
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "revoked", 7), 0);
	CU_ASSERT_EQUAL(wait_peer(pid), 0);
	rz_peer_close(p);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

static void
test_share_write_lands(void)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0);
	struct rz_rdma_desc d;
	struct rz_peer *p;
	uint64_t olds[2];
	uint8_t *va;
	pid_t pid = spawn_peer("share", NULL);
	int i, bad = 0;

	CU_ASSERT_FATAL(r != NULL && pid > 0);
	va = rz_region_addr(r);
	*(uint64_t *)(va + 4096) = 1000;
	p = accept_peer();
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, 0, 0, 0, &d), 0);
	CU_ASSERT_EQUAL(d.length, MB2);
	CU_ASSERT_EQUAL(rz_peer_recv_msg(p, olds, TMO), (int)sizeof(olds));
	for (i = 0; i < 4096; i++)
		bad += va[i] != 0xa5;
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(olds[0], 1000);
	CU_ASSERT_EQUAL(*(uint64_t *)(va + 4096), 1005);
	CU_ASSERT_EQUAL(olds[1], 0);
	CU_ASSERT_EQUAL(*(uint64_t *)(va + 4104), 77);
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "bye", 3), 0);
	CU_ASSERT_EQUAL(wait_peer(pid), 0);
	rz_peer_close(p);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

static void
test_cow_write_refused(void)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0x5a);
	struct rz_rdma_desc d;
	struct rz_peer *p;
	uint8_t *va;
	pid_t pid = spawn_peer("cow", NULL);
	int i, bad = 0;

	CU_ASSERT_FATAL(r != NULL && pid > 0);
	va = rz_region_addr(r);
	p = accept_peer();
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL(rz_rdma_grant(r, p, RZ_MODE_COPY_ON_WRITE, 0, 0, 0, &d), 0);
	CU_ASSERT_EQUAL(d.rights, RZ_RDMA_RIGHT_READ);
	CU_ASSERT_EQUAL(wait_peer(pid), 0);
	for (i = 0; i < 4096; i++)
		bad += va[i] != 0x5a;
	CU_ASSERT_EQUAL(bad, 0);
	rz_peer_close(p);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

static void
test_subrange_one_byte_past(void)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0);
	struct rz_rdma_desc d;
	struct rz_peer *p;
	uint8_t *va;
	pid_t pid = spawn_peer("past", NULL);

	CU_ASSERT_FATAL(r != NULL && pid > 0);
	va = rz_region_addr(r);
	p = accept_peer();
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, 8192, 4096, 0, &d), 0);
	CU_ASSERT_EQUAL(wait_peer(pid), 0);
	CU_ASSERT_EQUAL(va[8191], 0);
	CU_ASSERT_EQUAL(va[8192], 0x11);
	CU_ASSERT_EQUAL(va[8192 + 4095], 0x11);
	CU_ASSERT_EQUAL(va[8192 + 4096], 0);
	rz_peer_close(p);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

static void
test_revoke_then_attempts_fail(void)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0);
	struct rz_rdma_desc d;
	struct rz_peer *p;
	char buf[64];
	uint64_t t0;
	pid_t pid = spawn_peer("revoke", NULL);
	int i, n_bad = 0;

	CU_ASSERT_FATAL(r != NULL && pid > 0);
	p = accept_peer();
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, 0, 0, 0, &d), 0);
	CU_ASSERT_EQUAL(rz_peer_recv_msg(p, buf, TMO), 5);
	t0 = now_ms();
	CU_ASSERT_EQUAL(rz_rdma_revoke(&d), 0);
	printf("\n  revoke (local invalidate, completion waited) took %" PRIu64 " ms\n",
			now_ms() - t0);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), 0);
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "revoked", 7), 0);
	/* The peer's fresh QPs (peer_revoke_fresh()). */
	t0 = now_ms();
	for (i = 0; i < REVOKE_QPS; i++) {
		struct rz_rdma_desc di;
		struct rz_peer *q = accept_peer();
		uint64_t t1;

		CU_ASSERT_FATAL(q != NULL);
		CU_ASSERT_EQUAL_FATAL(rz_rdma_grant(r, q, RZ_MODE_SHARE, 0, 4096, 0, &di), 0);
		CU_ASSERT_EQUAL_FATAL(rz_peer_recv_msg(q, buf, TMO), 2);
		CU_ASSERT_EQUAL(rz_rdma_revoke(&di), 0);
		CU_ASSERT_EQUAL(rz_peer_send_msg(q, "revoked", 7), 0);
		/* The peer tries, then disconnects (its QP is in error after the refusal). */
		t1 = now_ms();
		while (rz_peer_connected(q) == 1 && now_ms() - t1 < TMO)
			usleep(1000);
		n_bad += rz_peer_connected(q) != 0;
		rz_peer_close(q);
	}
	CU_ASSERT_EQUAL(n_bad, 0);
	printf("  %d fresh QPs, each a real remote check of a revoked rkey (verdicts: the "
			"peer's exit status): %" PRIu64 " ms\n", REVOKE_QPS, now_ms() - t0);
	CU_ASSERT_EQUAL(wait_peer(pid), 0);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), 0);
	rz_peer_close(p);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

/* Unsignaled asynchronous writes (peer_unsig()): the bytes land, only the signaled ones
 * complete, slots are retired by the next signaled completion, the run limit holds. */
static void
test_unsignaled(void)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0);
	struct rz_rdma_desc d;
	struct rz_peer *p;
	uint8_t *va;
	char buf[64];
	int i, bad = 0;
	pid_t pid = spawn_peer("unsig", NULL);

	CU_ASSERT_FATAL(r != NULL && pid > 0);
	va = rz_region_addr(r);
	p = accept_peer();
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, 0, 0, 0, &d), 0);
	CU_ASSERT_EQUAL(rz_peer_recv_msg(p, buf, TMO), 2);
	for (i = 0; i < UNSIG_OPS * UNSIG_CHUNK; i++)
		bad += va[i] != unsig_byte(i / UNSIG_CHUNK);
	CU_ASSERT_EQUAL(bad, 0);
	for (i = 0; i < BURST_OPS * BURST_CHUNK; i++)
		bad += va[BURST_OFF + i] != burst_byte(i / BURST_CHUNK);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "bye", 3), 0);
	CU_ASSERT_EQUAL(wait_peer(pid), 0);
	rz_peer_close(p);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

/* Prepared operations (rz_remote_prepare(), rz_remote_post_prep()): the peer's bad calls are
 * refused with their errno and leave nothing in flight; its prepared writes land, byte for
 * byte. */
static void
test_prepared(void)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0);
	struct rz_rdma_desc d;
	struct rz_peer *p;
	uint8_t *va;
	char buf[64];
	int i, bad = 0;
	pid_t pid = spawn_peer("prep", NULL);

	CU_ASSERT_FATAL(r != NULL && pid > 0);
	va = rz_region_addr(r);
	p = accept_peer();
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, 0, 0, 0, &d), 0);
	CU_ASSERT_EQUAL(rz_peer_recv_msg(p, buf, TMO), 2);
	for (i = 0; i < PREP_LEN; i++)
		bad += va[i] != prep_byte(i / PREP_CHUNK);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "bye", 3), 0);
	CU_ASSERT_EQUAL(wait_peer(pid), 0);
	rz_peer_close(p);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

/* The prepared post's send queue (peer script "prep-queue"): full -> -ENOBUFS with nothing
 * charged, a device's refusal undone, -ENOTCONN once an operation failed. */
static void
test_prepared_queue(void)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0);
	struct rz_rdma_desc d;
	struct rz_peer *p;
	char buf[64];
	pid_t pid = spawn_peer("prep-queue", NULL);

	CU_ASSERT_FATAL(r != NULL && pid > 0);
	p = accept_peer();
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, 0, 0, 0, &d), 0);
	CU_ASSERT_EQUAL(rz_peer_recv_msg(p, buf, TMO), 2);
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "bye", 3), 0);
	CU_ASSERT_EQUAL(wait_peer(pid), 0);
	rz_peer_close(p);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

/* rz_remote_reap() (peer script "reap"): counts the successes, a control thread's messages
 * meanwhile all arrive (REAP_MSGS, then "ok"), a failure stops it and rz_remote_poll() then
 * reports it. */
static void
test_remote_reap(void)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0);
	struct rz_rdma_desc d;
	struct rz_peer *p;
	char buf[64];
	int n, mids = 0;
	pid_t pid = spawn_peer("reap", NULL);

	CU_ASSERT_FATAL(r != NULL && pid > 0);
	p = accept_peer();
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, 0, 0, 0, &d), 0);
	while ((n = rz_peer_recv_msg(p, buf, TMO)) == 3 && memcmp(buf, "mid", 3) == 0)
		mids++;
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(mids, REAP_MSGS);
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "bye", 3), 0);
	CU_ASSERT_EQUAL(wait_peer(pid), 0);
	rz_peer_close(p);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

/* A descriptor and plain messages on one connection: a call of the wrong kind consumes nothing
 * (-ENOMSG) and the order is kept. */
static void
test_msg_desc_order(void)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0x3c);
	struct rz_rdma_desc d;
	struct rz_peer *p;
	uint8_t got[64];
	pid_t pid = spawn_peer("mix", NULL);

	CU_ASSERT_FATAL(r != NULL && pid > 0);
	p = accept_peer();
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "hi", 2), 0);
	CU_ASSERT_EQUAL(rz_rdma_grant(r, p, RZ_MODE_COPY_ON_WRITE, 0, 4096, 0, &d), 0);
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "bye", 3), 0);
	CU_ASSERT_EQUAL(rz_peer_recv_msg(p, got, TMO), 8);
	CU_ASSERT_EQUAL(got[0], 0x3c);
	CU_ASSERT_EQUAL(got[7], 0x3c);
	CU_ASSERT_EQUAL(wait_peer(pid), 0);
	rz_peer_close(p);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

/* Windows are re-bound for the same peer after a revoke (no alloc/dealloc per grant): an rkey
 * revoked earlier must stay dead once its window carries a new grant (peer_rebind()). */
static void
test_rebind_stale_rkeys(void)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0);
	struct rz_rdma_desc d;
	struct rz_peer *p;
	uint32_t mw0, mw1;
	uint64_t t0, t1;
	pid_t pid;
	int q, i;

	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(rz_rdma_limits(NULL, NULL, NULL, &mw0), 0);
	pid = spawn_peer("rebind", NULL);
	CU_ASSERT_FATAL(pid > 0);
	t0 = now_ms();
	for (q = 0; q < REBIND_QPS; q++) {
		p = accept_peer();
		CU_ASSERT_FATAL(p != NULL);
		for (i = 0; i < REBIND_GRANTS; i++) {
			CU_ASSERT_EQUAL_FATAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, 0, 4096, 0, &d),
					0);
			CU_ASSERT_EQUAL_FATAL(rz_rdma_revoke(&d), 0);
		}
		CU_ASSERT_EQUAL_FATAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, 0, 4096, 0, &d), 0);
		t1 = now_ms();
		while (rz_peer_connected(p) == 1 && now_ms() - t1 < TMO)
			usleep(1000);
		CU_ASSERT_EQUAL(rz_peer_connected(p), 0);
		/* Its grants went with the connection, and the windows it kept. */
		CU_ASSERT_EQUAL(rz_rdma_grant_count(), 0);
		rz_peer_close(p);
	}
	CU_ASSERT_EQUAL(wait_peer(pid), 0);
	CU_ASSERT_EQUAL(rz_rdma_limits(NULL, NULL, NULL, &mw1), 0);
	printf("\n  %d QPs x %d grant+revoke + 1 live grant in %" PRIu64 " ms; windows in "
			"use before %u, after %u\n", REBIND_QPS, REBIND_GRANTS, now_ms() - t0, mw0,
			mw1);
	/* Windows kept by the peers are freed with them: only the device pool remains. */
	CU_ASSERT(mw1 <= mw0 + 16);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

/* A new peer ("try 0") is granted [@off, @off + @len) of @r in Share mode (@len 0: to the end)
 * and writes 0x77 at its start: the byte lands. */
static void
try_peer_writes(struct rz_region *r, size_t off, size_t len)
{
	uint8_t *va = rz_region_addr(r);
	struct rz_rdma_desc d;
	struct rz_peer *p;
	char buf[64];
	pid_t pid = spawn_peer("try", "0");

	CU_ASSERT_FATAL(pid > 0);
	p = accept_peer();
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, off, len, 0, &d), 0);
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "go", 2), 0);
	CU_ASSERT_EQUAL(rz_peer_recv_msg(p, buf, TMO), 2);
	CU_ASSERT_EQUAL(va[off], 0x77);
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "bye", 3), 0);
	CU_ASSERT_EQUAL(wait_peer(pid), 0);
	rz_peer_close(p);
}

static void
test_revoke_one_peer_other_works(void)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0);
	struct rz_rdma_desc da, db;
	struct rz_peer *pa, *pb;
	char buf[64];
	uint8_t *va;
	pid_t a = spawn_peer("try", "EACCES"), b;

	CU_ASSERT_FATAL(r != NULL && a > 0);
	va = rz_region_addr(r);
	pa = accept_peer();
	CU_ASSERT_FATAL(pa != NULL);
	b = spawn_peer("try", "0");
	CU_ASSERT_FATAL(b > 0);
	pb = accept_peer();
	CU_ASSERT_FATAL(pb != NULL);
	CU_ASSERT_EQUAL(rz_rdma_grant(r, pa, RZ_MODE_SHARE, 0, 4096, 0, &da), 0);
	CU_ASSERT_EQUAL(rz_rdma_grant(r, pb, RZ_MODE_SHARE, 4096, 4096, 0, &db), 0);
	CU_ASSERT_NOT_EQUAL(da.rkey, db.rkey);
	CU_ASSERT_EQUAL(rz_rdma_revoke(&da), 0);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), 1);
	CU_ASSERT_EQUAL(rz_peer_send_msg(pa, "go", 2), 0);
	CU_ASSERT_EQUAL(rz_peer_send_msg(pb, "go", 2), 0);
	CU_ASSERT_EQUAL(rz_peer_recv_msg(pb, buf, TMO), 2);
	CU_ASSERT_EQUAL(va[4096], 0x77);
	CU_ASSERT_EQUAL(va[0], 0);
	CU_ASSERT_EQUAL(rz_peer_send_msg(pb, "bye", 3), 0);
	CU_ASSERT_EQUAL(wait_peer(a), 0);
	CU_ASSERT_EQUAL(wait_peer(b), 0);
	rz_peer_close(pa);
	rz_peer_close(pb);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

/* A peer that takes nothing: its receive slots fill with descriptors, the next one waits at
 * its door (RNR, retried without limit) and so would every work request behind it on the QP.
 * Nothing of the owner waits with it: a grant, a sync operation and a message to that peer are
 * refused at once with -EAGAIN and change nothing; a revoke frees the window instead of queueing
 * an invalidate; another peer is served. Once the peer takes its descriptors (in order), it is
 * granted again. */
static void
test_stalled_peer(void)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0);
	static struct rz_rdma_desc d[STALL_SLOTS + 8];
	struct rz_rdma_desc dx;
	struct rz_rdma_mem m;
	struct rz_peer *pa;
	uint64_t t0, dt_grant, dt_revoke;
	unsigned int mw0, mw1;
	int i, n, n0, ret;
	char buf[64];
	pid_t a = spawn_peer("stall", NULL);

	CU_ASSERT_FATAL(r != NULL && a > 0);
	CU_ASSERT_EQUAL_FATAL(rz_rdma_register(r, &m), 0);
	pa = accept_peer();
	CU_ASSERT_FATAL(pa != NULL);
	/* Grant until refused: the peer's slots plus one (waiting at its door) go out. */
	for (n = 0; n < (int)RTE_DIM(d); n++) {
		ret = rz_rdma_grant(r, pa, RZ_MODE_SHARE, 0, 4096, 0, &d[n]);
		if (ret != 0)
			break;
	}
	CU_ASSERT_EQUAL(ret, -EAGAIN);
	CU_ASSERT_EQUAL_FATAL(n, STALL_SLOTS + 1);
	n0 = rz_rdma_grant_count();
	CU_ASSERT_EQUAL(n0, n);
	CU_ASSERT_EQUAL(rz_rdma_limits(NULL, NULL, NULL, &mw0), 0);
	/* Refused promptly (not after the 5 s control timeout), nothing changed. */
	t0 = now_ms();
	ret = rz_rdma_grant(r, pa, RZ_MODE_COPY_ON_WRITE, 0, 0, 0, &dx);
	dt_grant = now_ms() - t0;
	CU_ASSERT_EQUAL(ret, -EAGAIN);
	CU_ASSERT(dt_grant < 2500);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), n0);
	CU_ASSERT_EQUAL(rz_rdma_limits(NULL, NULL, NULL, &mw1), 0);
	CU_ASSERT_EQUAL(mw1, mw0);
	CU_ASSERT_EQUAL(rz_remote_read(pa, &m, 0, &d[0], 0, 8), -EAGAIN);
	CU_ASSERT_EQUAL(rz_peer_send_msg(pa, "x", 1), -EAGAIN);
	/* Another peer is served meanwhile. */
	try_peer_writes(r, 8192, 4096);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), n0);
	/* The grant whose descriptor waits at the door: revoked at once. */
	t0 = now_ms();
	CU_ASSERT_EQUAL(rz_rdma_revoke(&d[STALL_SLOTS]), 0);
	dt_revoke = now_ms() - t0;
	CU_ASSERT(dt_revoke < 2500);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), n0 - 1);
	CU_ASSERT_EQUAL(rz_rdma_revoke(&d[STALL_SLOTS]), -ENOENT);
	/* The peer takes its descriptors; then it is granted again. */
	CU_ASSERT_EQUAL(kill(a, SIGUSR1), 0);
	CU_ASSERT_EQUAL(rz_peer_recv_msg(pa, buf, TMO), 4);
	CU_ASSERT_EQUAL(rz_rdma_grant(r, pa, RZ_MODE_SHARE, 0, 4096, 0, &dx), 0);
	CU_ASSERT_EQUAL(rz_peer_recv_msg(pa, buf, TMO), 2);
	CU_ASSERT_EQUAL(wait_peer(a), 0);
	printf("\n  %d grants out to a peer that takes nothing; then grant refused in %" PRIu64
			" ms, revoke in %" PRIu64 " ms\n", n, dt_grant, dt_revoke);
	rz_peer_close(pa);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), 0);
	for (i = 0; i < n; i++)
		CU_ASSERT_EQUAL(rz_rdma_revoke(&d[i]), -ENOENT);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

static void
test_expiry(void)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0);
	struct rz_rdma_desc d;
	struct rz_peer *p;
	pid_t pid = spawn_peer("try", "EACCES");
	uint64_t t0;
	int n = 0;

	CU_ASSERT_FATAL(r != NULL && pid > 0);
	p = accept_peer();
	CU_ASSERT_FATAL(p != NULL);
	/* From before the call: the lifetime counts from the grant's start, and delivering the
	 * descriptor takes a while (across the wire especially). */
	t0 = now_ms();
	CU_ASSERT_EQUAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, 0, 0, 300000000ull, &d), 0);
	CU_ASSERT_NOT_EQUAL(d.expiry_ns, 0);
	while (rz_rdma_grant_count() > 0 && now_ms() - t0 < 10000) {
		n += rz_rdma_progress();
		usleep(10000);
	}
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT(now_ms() - t0 >= 300);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), 0);
	CU_ASSERT(audit_has("revoke", "expiry", rz_region_id(r)));
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "go", 2), 0);
	CU_ASSERT_EQUAL(wait_peer(pid), 0);
	rz_peer_close(p);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

static void
test_dead_peer_revoked(void)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0);
	struct rz_rdma_desc d;
	struct rz_peer *p;
	pid_t pid = spawn_peer("die", NULL);
	uint64_t t0;

	CU_ASSERT_FATAL(r != NULL && pid > 0);
	p = accept_peer();
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, 0, 0, 0, &d), 0);
	CU_ASSERT_EQUAL(wait_peer(pid), 0);
	t0 = now_ms();
	while (rz_rdma_grant_count() > 0 && now_ms() - t0 < 20000) {
		rz_rdma_progress();
		usleep(10000);
	}
	printf("\n  dead peer noticed and its grant revoked after %" PRIu64 " ms\n",
			now_ms() - t0);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), 0);
	CU_ASSERT_EQUAL(rz_peer_connected(p), 0);
	CU_ASSERT(audit_has("revoke", "peer-gone", rz_region_id(r)));
	rz_peer_close(p);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

static pid_t spawn_raw(const char *script);

/* The application's peer down handler (rz_rdma_set_peer_down_handler()) in the liveness
 * tests: the last call's arguments and the number of calls. */
static struct {
	int calls;
	pid_t id;
	uint64_t identity;
	int reason;
	uint64_t at_ms;
} downs;

static void
on_peer_down(pid_t id, uint64_t identity, int reason, void *arg)
{
	CU_ASSERT_PTR_EQUAL(arg, &downs);
	downs.calls++;
	downs.id = id;
	downs.identity = identity;
	downs.reason = reason;
	downs.at_ms = now_ms();
}

/* Call rz_rdma_progress() every 10 ms until @p is seen down or @limit_ms passed; the ms it
 * took. */
static uint64_t
progress_until_down(struct rz_peer *p, uint64_t limit_ms)
{
	uint64_t t0 = now_ms();

	while (rz_peer_connected(p) == 1 && now_ms() - t0 < limit_ms) {
		rz_rdma_progress();
		usleep(10000);
	}
	rz_rdma_progress();	/* the handler runs in the call that saw it go */
	return now_ms() - t0;
}

/* Liveness (keepalive): a peer whose host stops answering, with the connection idle on this
 * side and no disconnect ever coming (a raw peer's QP put in error: its device drops what comes
 * in, as a powered-off host would), is declared dead by rz_rdma_progress() within
 * rz_peer_liveness_bound_ms(): rz_peer_connected() 0, rz_peer_down_reason() -ETIMEDOUT, the
 * down handler called once, its grant revoked (audit cause peer-dead); while it answered, the
 * keepalives kept it up. Another peer works afterwards. */
static void
keepalive_mute_peer_ack(const char *script, unsigned int ack_exp)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0x5a);
	uint64_t waited, alive_ms;
	struct rz_rdma_desc d;
	struct rz_peer *p;
	int bound, n0 = rz_rdma_grant_count(), i, bad = 0;
	uint32_t ka = rz_rdma_keepalive_ms();
	pid_t pid;

	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(rz_rdma_set_keepalive_ms(3600001), -EINVAL);
	CU_ASSERT_EQUAL(rz_rdma_keepalive_ms(), ka);
	CU_ASSERT_EQUAL(rz_rdma_set_keepalive_ms(200), 0);
	CU_ASSERT_EQUAL(rz_rdma_keepalive_ms(), 200);
	memset(&downs, 0, sizeof(downs));
	CU_ASSERT_EQUAL(rz_rdma_set_peer_down_handler(on_peer_down, &downs), 0);
	CU_ASSERT_EQUAL(rz_rdma_set_ack_timeout(ack_exp), 0);
	CU_ASSERT_EQUAL(rz_rdma_ack_timeout(), ack_exp);
	pid = spawn_raw(script);
	CU_ASSERT_FATAL(pid > 0);
	p = accept_peer();
	CU_ASSERT_EQUAL(rz_rdma_set_ack_timeout(0), 0);
	CU_ASSERT_FATAL(p != NULL);
	if (ack_exp != 0) {
		/* The QP got it: the bound is computed from the QP's own attributes (retry count 6
		 * of the connector + the first try). */
		int want = (int)(7 * ((UINT64_C(4096) << ack_exp) / 1000) / 1000 + 1000);

		printf("\n  ACK timeout exponent %u: rz_peer_sync_timeout_ms() %d (want %d)",
				ack_exp, rz_peer_sync_timeout_ms(p), want);
		CU_ASSERT_EQUAL(rz_peer_sync_timeout_ms(p), want);
	}
	CU_ASSERT_EQUAL(rz_rdma_grant_ext(r, p, RZ_MODE_SHARE, 0, 0, 0, RZ_GRANT_F_NO_SEND, &d),
			0);
	bound = rz_peer_liveness_bound_ms(p);
	CU_ASSERT(bound >= 200 + rz_peer_sync_timeout_ms(p));
	CU_ASSERT_EQUAL(rz_peer_liveness_bound_ms(NULL), -EINVAL);
	CU_ASSERT_EQUAL(rz_peer_down_reason(NULL), -EINVAL);
	/* Answering: 10 keepalive intervals, still up. */
	alive_ms = progress_until_down(p, 2000);
	CU_ASSERT(alive_ms >= 2000);
	CU_ASSERT_EQUAL(rz_peer_connected(p), 1);
	CU_ASSERT_EQUAL(rz_peer_down_reason(p), 0);
	CU_ASSERT_EQUAL(downs.calls, 0);
	/* Silent. */
	CU_ASSERT_EQUAL(kill(pid, SIGUSR1), 0);
	waited = progress_until_down(p, (uint64_t)bound + 20000);
	printf("\n  a peer that stopped answering (%s: idle connection, no disconnect): declared "
			"dead after %" PRIu64 " ms (bound %d ms = keepalive 200 + transport %d)\n",
			script, waited, bound, rz_peer_sync_timeout_ms(p));
	CU_ASSERT_EQUAL(rz_peer_connected(p), 0);
	CU_ASSERT_EQUAL(rz_peer_down_reason(p), -ETIMEDOUT);
	/* Within the documented bound, plus the period of our rz_rdma_progress() calls. */
	CU_ASSERT(waited <= (uint64_t)bound + LIVENESS_SLACK_MS);
	CU_ASSERT_EQUAL(downs.calls, 1);
	CU_ASSERT_EQUAL(downs.id, rz_peer_id(p));
	CU_ASSERT(downs.identity == rz_peer_identity(p));
	CU_ASSERT_EQUAL(downs.reason, -ETIMEDOUT);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), n0);
	CU_ASSERT(audit_has("revoke", "peer-dead", rz_region_id(r)));
	/* Reported once. */
	for (i = 0; i < 5; i++)
		rz_rdma_progress();
	CU_ASSERT_EQUAL(downs.calls, 1);
	/* The region is as it was. */
	for (i = 0; i < (int)MB2; i++)
		bad += ((uint8_t *)rz_region_addr(r))[i] != 0x5a;
	CU_ASSERT_EQUAL(bad, 0);
	rz_peer_close(p);
	kill(pid, SIGTERM);
	CU_ASSERT_EQUAL(wait_peer_local(pid), 128 + SIGTERM);
	CU_ASSERT_EQUAL(rz_rdma_set_peer_down_handler(NULL, NULL), 0);
	CU_ASSERT_EQUAL(rz_rdma_set_keepalive_ms(ka), 0);
	/* Others are unaffected. */
	test_share_write_lands();
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

static void
keepalive_mute_peer(const char *script)
{
	keepalive_mute_peer_ack(script, 0);
}

/* The connector asked for rzone's retry count (6): the transport gives up on the keepalive. */
static void
test_keepalive_mute_peer(void)
{
	keepalive_mute_peer("mute6");
}

/* The connector asked for 7 (Soft-RoCE: retry for ever): rzone's own timer on the keepalive. */
static void
test_keepalive_mute_peer_retry7(void)
{
	keepalive_mute_peer("mute");
}

/* rz_rdma_set_ack_timeout(14): 67 ms per try instead of rdma_cm's 2.1 s, the peer declared
 * dead within 200 ms + 7 x 67 ms + 1 s. Out-of-range exponents refused, nothing changed. */
static void
test_keepalive_ack_timeout(void)
{
	unsigned int before = rz_rdma_ack_timeout();

	CU_ASSERT_EQUAL(rz_rdma_set_ack_timeout(32), -EINVAL);
	CU_ASSERT_EQUAL(rz_rdma_ack_timeout(), before);
	CU_ASSERT_EQUAL(rz_rdma_set_ack_timeout(UINT32_MAX), -EINVAL);
	CU_ASSERT_EQUAL(rz_rdma_ack_timeout(), before);
	keepalive_mute_peer_ack("mute6", 14);
	CU_ASSERT_EQUAL(rz_rdma_ack_timeout(), 0);
}

/* Plug-in entropy, in bits, of @n 32-bit values (sorted in place). */
static double
entropy_bits(uint32_t *v, size_t n)
{
	double h = 0;
	size_t i, run;

	qsort(v, n, sizeof(*v), cmp_u32);
	for (i = 0; i < n; i += run) {
		double q;

		for (run = 1; i + run < n && v[i + run] == v[i]; run++)
			;
		q = (double)run / (double)n;
		h -= q * log2(q);
	}
	return h;
}

/*
 * H(k_n | k_{n-1}) for a sequence: with ~1000 samples of a 32-bit value almost every k_{n-1} is
 * seen once, so the plug-in estimate of H(k_n, k_{n-1}) - H(k_{n-1}) is 0 whatever the
 * generator. What an attacker who saw k_{n-1} exploits is the step to k_n: the estimate here is
 * the entropy of the step d_n = k_n - k_{n-1} (mod 2^bits), H(k_n | k_{n-1}) = H(d_n | k_{n-1}),
 * which equals H(d_n) when the step does not depend on where it starts (our generator, and
 * every counter-like one). It is capped by log2(n - 1) (about 10 bits for 1024 keys), and a
 * sequential allocator scores 0.
 */
static double
step_entropy(const uint32_t *k, size_t n, uint32_t mask)
{
	uint32_t *d = malloc((n - 1) * sizeof(*d));
	double h;
	size_t i;

	if (d == NULL)
		return -1;
	for (i = 1; i < n; i++)
		d[i - 1] = (k[i] - k[i - 1]) & mask;
	h = entropy_bits(d, n - 1);
	free(d);
	return h;
}

#define N_RKEYS 1024

static void
test_rkey_entropy(void)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0);
	uint32_t *keys = calloc(N_RKEYS, sizeof(*keys)), *sorted = calloc(N_RKEYS, sizeof(*keys));
	uint32_t seq[N_RKEYS];
	struct rz_rdma_desc d;
	struct rz_peer *p;
	double h_key, h_full, h_seq;
	char buf[64], arg[16];
	uint64_t t0;
	pid_t pid;
	int i, dup = 0, eagain = 0;

	CU_ASSERT_FATAL(r != NULL && keys != NULL && sorted != NULL);
	snprintf(arg, sizeof(arg), "%d", N_RKEYS);
	pid = spawn_peer("drain", arg);
	CU_ASSERT_FATAL(pid > 0);
	p = accept_peer();
	CU_ASSERT_FATAL(p != NULL);
	t0 = now_ms();
	for (i = 0; i < N_RKEYS; i++) {
		int ret, tries = 0;

		/* -EAGAIN: the peer had not taken the previous descriptor within 100 ms (16 behind,
		 * slow under ASan in the VM): documented, try again (bounded, counted). */
		while ((ret = rz_rdma_grant(r, p, RZ_MODE_SHARE, 0, 4096, 0, &d)) == -EAGAIN &&
				++tries < 100)
			eagain++;
		if (ret != 0 || rz_rdma_revoke(&d) != 0)
			break;
		keys[i] = d.rkey;
		seq[i] = 0x100u * (uint32_t)i + 1;	/* a sequential allocator, for contrast */
	}
	CU_ASSERT_EQUAL_FATAL(i, N_RKEYS);
	CU_ASSERT_EQUAL(rz_peer_recv_msg(p, buf, TMO), 4);
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "bye", 3), 0);
	CU_ASSERT_EQUAL(wait_peer(pid), 0);
	memcpy(sorted, keys, N_RKEYS * sizeof(*keys));
	qsort(sorted, N_RKEYS, sizeof(*sorted), cmp_u32);
	for (i = 1; i < N_RKEYS; i++)
		dup += sorted[i] == sorted[i - 1];
	h_key = step_entropy(keys, N_RKEYS, 0xff);
	h_full = step_entropy(keys, N_RKEYS, UINT32_MAX);
	h_seq = step_entropy(seq, N_RKEYS, UINT32_MAX);
	printf("\n  (%d grants refused once with -EAGAIN, the peer behind: tried again)", eagain);
	printf("\n  %d grants in %" PRIu64 " ms; rkeys e.g. 0x%08x 0x%08x 0x%08x; %d repeated\n"
			"  H(k_n | k_(n-1)) estimated as the entropy of the step: key byte %.2f "
			"bits "
			"(max 8; plug-in bias with %d samples about -0.2), whole rkey %.2f bits "
			"(estimator cap %.2f); a sequential allocator scores %.2f\n", N_RKEYS,
			now_ms() - t0, keys[0], keys[1], keys[2], dup, h_key, N_RKEYS - 1, h_full,
			log2(N_RKEYS - 1), h_seq);
	CU_ASSERT_EQUAL(dup, 0);
	CU_ASSERT(h_full >= 8.0);
	CU_ASSERT(h_key >= 7.5);
	CU_ASSERT(h_seq < 1.0);	/* the estimator can fail */
	rz_peer_close(p);
	free(keys);
	free(sorted);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

static void
test_kill9_mid_transfer(void)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0xee);
	struct rz_rdma_mem mem;
	struct rz_rdma_desc d;
	struct rz_peer *p;
	uint8_t *va;
	char buf[64];
	uint64_t t0, ms, id;
	size_t i, n_c3 = 0, bad = 0;
	pid_t pid;
	int st;

	CU_ASSERT_FATAL(r != NULL);
	va = rz_region_addr(r);
	id = rz_region_id(r);
	memset(va, 0, MB2 / 2);
	pid = spawn_peer("stream", NULL);
	CU_ASSERT_FATAL(pid > 0);
	p = accept_peer();
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL_FATAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, 0, MB2 / 2, 0, &d), 0);
	CU_ASSERT_EQUAL_FATAL(rz_peer_recv_msg(p, buf, TMO), 9);
	usleep(50000);	/* writes in flight */
	CU_ASSERT_EQUAL(kill(pid, SIGKILL), 0);
	t0 = now_ms();
	while (rz_rdma_grant_count() > 0 && now_ms() - t0 < 20000) {
		rz_rdma_progress();
		usleep(1000);
	}
	ms = now_ms() - t0;
	CU_ASSERT_EQUAL(waitpid(pid, &st, 0), pid);
	CU_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	printf("\n  peer killed with SIGKILL mid-transfer: its grant revoked %" PRIu64 " ms later "
			"(bound asserted: 5000 ms)\n", ms);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), 0);
	CU_ASSERT(ms < 5000);
	CU_ASSERT_EQUAL(rz_peer_connected(p), 0);
	/* The region is intact: same identity, owner, mapping; nothing written outside the
	 * window; inside it only the peer's bytes or the original zeros. */
	CU_ASSERT_PTR_EQUAL(rz_region_lookup(id), r);
	CU_ASSERT_EQUAL(rz_region_owner(r), getpid());
	CU_ASSERT_PTR_EQUAL(rz_region_get_mapping(r, RZ_PID_SELF), va);
	for (i = 0; i < MB2 / 2; i++) {
		n_c3 += va[i] == 0xc3;
		bad += va[i] != 0xc3 && va[i] != 0;
	}
	for (i = MB2 / 2; i < MB2; i++)
		bad += va[i] != 0xee;
	printf("  region intact: %zu bytes written by the peer before it died, %zu foreign\n",
			n_c3, bad);
	CU_ASSERT(n_c3 > 0);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(rz_rdma_register(r, &mem), 0);
	rz_peer_close(p);
	/* And it can be granted again. */
	try_peer_writes(r, 0, 0);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

/* Drive a "cmd" peer: receive a descriptor (after @grant_fn granted it). */
static int
cmd_desc(struct rz_peer *p, struct desc_msg *m)
{
	return rz_peer_recv_msg(p, m, TMO) == (int)sizeof(*m) ? 0 : -1;
}

static struct cmd_reply
cmd_op(struct rz_peer *p, const char *op, size_t len)
{
	struct cmd_reply cr = { .status = 12345 };

	if (rz_peer_send_msg(p, op, len) != 0 ||
			rz_peer_recv_msg(p, &cr, TMO) != (int)sizeof(cr))
		cr.status = 12345;
	return cr;
}

static void
test_peer_seed_calls(void)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0);
	struct rz_region *ro = new_region(MB2, RZ_PERM_READ, 0);
	struct rz_rdma_desc d2;
	struct cmd_reply cr;
	struct desc_msg m;
	struct rz_peer *p, *p2;
	uint64_t tok, tok2, t0;
	uint8_t *va;
	pid_t pid, pid2, id, id2;
	int i, bad = 0;

	CU_ASSERT_FATAL(r != NULL && ro != NULL);
	va = rz_region_addr(r);
	va[0] = 0x42;
	pid = spawn_peer("cmd", NULL);
	CU_ASSERT_FATAL(pid > 0);
	p = accept_peer();
	CU_ASSERT_FATAL(p != NULL);
	pid2 = spawn_peer("cmd", NULL);
	CU_ASSERT_FATAL(pid2 > 0);
	p2 = accept_peer();
	CU_ASSERT_FATAL(p2 != NULL);
	id = rz_peer_id(p);
	id2 = rz_peer_id(p2);
	printf("\n  peer ids %d (0x%x) and %d, OS pids %d and %d\n", id, id, id2, pid, pid2);
	CU_ASSERT(id >= RZ_PEER_ID_BASE && id2 >= RZ_PEER_ID_BASE && id != id2);
	CU_ASSERT_PTR_EQUAL(rz_peer_lookup(id), p);
	CU_ASSERT_PTR_NULL(rz_peer_lookup(id + 1000));
	CU_ASSERT_EQUAL(rte_errno, ESRCH);
	CU_ASSERT_EQUAL(rz_process_attached(id), 0);

	/* Nothing granted yet; bad input changes nothing. */
	CU_ASSERT_PTR_NULL(rz_region_get_mapping(r, id));
	CU_ASSERT_EQUAL(rte_errno, ENOENT);
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(r, id), -ENOENT);
	CU_ASSERT_EQUAL(rz_region_map(r, id, (void *)(uintptr_t)(1ull << 40), RZ_PERM_READ),
			-EINVAL);
	CU_ASSERT_EQUAL(rz_region_map(r, id, NULL, 0), -EINVAL);
	CU_ASSERT_EQUAL(rz_region_map(r, id, NULL, RZ_PERM_EXEC), -EPERM);
	CU_ASSERT_EQUAL(rz_region_map(ro, id, NULL, RZ_PERM_RW), -EPERM);
	CU_ASSERT_EQUAL(rz_region_map(r, RZ_PEER_ID_BASE + 123456, NULL, RZ_PERM_READ), -ESRCH);
	CU_ASSERT_EQUAL(rz_region_unmap(r, id), -ENOENT);
	CU_ASSERT_EQUAL(rz_region_transfer_ownership(r, id), -EINVAL);
	CU_ASSERT_EQUAL(rz_region_create_capability(r, id, (enum rz_transfer_mode)7, &tok),
			-EINVAL);
	CU_ASSERT_EQUAL(rz_region_create_capability(r, id, RZ_MODE_SHARE, NULL), -EINVAL);
	CU_ASSERT_EQUAL(rz_region_create_capability(r, RZ_PEER_ID_BASE + 123456, RZ_MODE_SHARE,
			&tok), -ESRCH);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), 0);

	/* map: a read-only whole-region grant, its descriptor sent. */
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "D", 1), 0);
	CU_ASSERT_EQUAL_FATAL(rz_region_map(r, id, NULL, RZ_PERM_READ), 0);
	CU_ASSERT_EQUAL_FATAL(cmd_desc(p, &m), 0);
	CU_ASSERT_EQUAL(m.rights, RZ_RDMA_RIGHT_READ);
	CU_ASSERT_EQUAL(m.addr, (uintptr_t)va);
	CU_ASSERT_EQUAL(m.length, MB2);
	CU_ASSERT_EQUAL(m.region_id, rz_region_id(r));
	CU_ASSERT_PTR_EQUAL(rz_region_get_mapping(r, id), va);
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(r, id), (int)RZ_PERM_READ);
	CU_ASSERT_EQUAL(rz_region_map(r, id, NULL, RZ_PERM_READ), -EEXIST);
	CU_ASSERT_EQUAL(rz_region_create_capability(r, id, RZ_MODE_SHARE, &tok), -EEXIST);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), 1);
	cr = cmd_op(p, "R", 1);
	CU_ASSERT_EQUAL(cr.status, 0);
	CU_ASSERT_EQUAL(cr.first, 0x42);

	/* transfer: the peer's window is replaced by one with the owner's rights (Move). */
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "D", 1), 0);
	CU_ASSERT_EQUAL_FATAL(rz_region_transfer_ownership(r, id), 0);
	CU_ASSERT_EQUAL_FATAL(cmd_desc(p, &m), 0);
	CU_ASSERT_EQUAL(m.mode, RZ_MODE_MOVE);
	CU_ASSERT_EQUAL(m.rights, RZ_RDMA_RIGHT_ALL);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), 1);
	CU_ASSERT_EQUAL(rz_rdma_region_owner(r), id);
	CU_ASSERT_EQUAL(rz_region_owner(r), getpid());	/* the proxy owner */
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(r, id), (int)RZ_PERM_RW);
	CU_ASSERT_EQUAL(rz_region_transfer_ownership(r, id), 0);	/* already */
	/* Only the owning peer may be granted. */
	CU_ASSERT_EQUAL(rz_region_map(r, id2, NULL, RZ_PERM_READ), -EPERM);
	CU_ASSERT_EQUAL(rz_region_create_capability(r, id2, RZ_MODE_SHARE, &tok), -EPERM);
	CU_ASSERT_EQUAL(rz_rdma_grant(r, p2, RZ_MODE_SHARE, 0, 0, 0, &d2), -EPERM);
	CU_ASSERT_EQUAL(rz_region_transfer_ownership(r, getpid()), -EPERM);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), 1);
	cr = cmd_op(p, "W\x5e", 2);
	CU_ASSERT_EQUAL(cr.status, 0);
	for (i = 0; i < 4096; i++)
		bad += va[i] != 0x5e;
	CU_ASSERT_EQUAL(bad, 0);

	/* unmap: everything the peer holds on the region goes, ownership comes back. */
	CU_ASSERT_EQUAL(rz_region_unmap(r, id), 0);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), 0);
	CU_ASSERT_EQUAL(rz_rdma_region_owner(r), getpid());
	CU_ASSERT_PTR_NULL(rz_region_get_mapping(r, id));
	CU_ASSERT_EQUAL(rte_errno, ENOENT);
	CU_ASSERT_EQUAL(rz_region_unmap(r, id), -ENOENT);

	/* create_capability, Copy-on-write: read-only window, token revocable. */
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "D", 1), 0);
	CU_ASSERT_EQUAL_FATAL(rz_region_create_capability(r, id, RZ_MODE_COPY_ON_WRITE, &tok),
			0);
	CU_ASSERT_EQUAL_FATAL(cmd_desc(p, &m), 0);
	CU_ASSERT_EQUAL(m.mode, RZ_MODE_COPY_ON_WRITE);
	CU_ASSERT_EQUAL(m.rights, RZ_RDMA_RIGHT_READ);
	CU_ASSERT_NOT_EQUAL(tok, 0);
	CU_ASSERT_PTR_EQUAL(rz_region_get_mapping(r, id), va);
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(r, id), (int)RZ_PERM_READ);
	CU_ASSERT_EQUAL(rz_capability_map(tok, NULL, NULL), -EPERM);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), 1);
	cr = cmd_op(p, "R", 1);
	CU_ASSERT_EQUAL(cr.status, 0);
	CU_ASSERT_EQUAL(cr.first, 0x5e);
	t0 = now_ms();
	CU_ASSERT_EQUAL(rz_capability_revoke(tok), 0);
	printf("  rz_capability_revoke() of a peer's token: %" PRIu64 " ms (invalidation "
			"completed)\n", now_ms() - t0);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), 0);
	CU_ASSERT_EQUAL(rz_capability_revoke(tok), -ENOENT);

	/* create_capability, Move: read + write + atomics, and the peer becomes the owner. */
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "D", 1), 0);
	CU_ASSERT_EQUAL_FATAL(rz_region_create_capability(r, id, RZ_MODE_MOVE, &tok2), 0);
	CU_ASSERT_EQUAL_FATAL(cmd_desc(p, &m), 0);
	CU_ASSERT_EQUAL(m.mode, RZ_MODE_MOVE);
	CU_ASSERT_EQUAL(m.rights, RZ_RDMA_RIGHT_ALL);
	CU_ASSERT_EQUAL(rz_rdma_region_owner(r), id);
	CU_ASSERT_EQUAL(rz_region_map(r, id2, NULL, RZ_PERM_READ), -EPERM);
	cr = cmd_op(p, "W\x61", 2);
	CU_ASSERT_EQUAL(cr.status, 0);
	CU_ASSERT_EQUAL(va[0], 0x61);
	CU_ASSERT_EQUAL(va[4095], 0x61);
	CU_ASSERT_EQUAL(rz_capability_revoke(tok2), 0);
	CU_ASSERT_EQUAL(rz_rdma_region_owner(r), getpid());
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), 0);
	/* The revoked Move window refuses the peer (last: its QP is in error after this, and the
	 * peer exits with the errno). */
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "R", 1), 0);
	CU_ASSERT_EQUAL(wait_peer(pid), EACCES);
	/* The other peer can be mapped again. */
	CU_ASSERT_EQUAL(rz_peer_send_msg(p2, "D", 1), 0);
	CU_ASSERT_EQUAL(rz_region_map(r, id2, NULL, RZ_PERM_RW), 0);
	CU_ASSERT_EQUAL(cmd_desc(p2, &m), 0);
	CU_ASSERT_EQUAL(m.rights, RZ_RDMA_RIGHT_ALL);
	cr = cmd_op(p2, "R", 1);
	CU_ASSERT_EQUAL(cr.status, 0);
	CU_ASSERT_EQUAL(cr.first, 0x61);
	/* Destroying the region revokes what peers hold. */
	CU_ASSERT_EQUAL(rz_peer_send_msg(p2, "Q", 1), 0);
	CU_ASSERT_EQUAL(wait_peer(pid2), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), 0);
	rz_peer_close(p);
	rz_peer_close(p2);
	/* A closed peer's id names nothing any more. */
	CU_ASSERT_EQUAL(rz_region_map(ro, id, NULL, RZ_PERM_READ), -ESRCH);
	CU_ASSERT_EQUAL(rz_region_destroy(ro), 0);
}

static void
test_secondary_posts(void)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0x3c);
	struct rz_region *r2 = new_region(MB2, RZ_PERM_RW, 0);
	char port[16], id[32], opt[] = "--secondary", ip[64], pfx[64];
	char *argv[] = { self_exe, opt, pfx, ip, port, id, NULL };
	struct sec_report rep;
	struct rz_rdma_desc d;
	struct rz_peer *p;
	uint8_t *va, *va2;
	uint32_t mr0, mr1;
	uint64_t rid;
	char m[64];
	int i, bad = 0;
	pid_t pid;

	CU_ASSERT_FATAL(r != NULL && r2 != NULL);
	rid = rz_region_id(r);
	va = rz_region_addr(r);
	va2 = rz_region_addr(r2);
	memset(va + 4096, 0, 4096);
	memset(va2 + 8192, 0x6d, 4096);
	snprintf(port, sizeof(port), "%u", rz_peer_listener_port(lst));
	snprintf(id, sizeof(id), "0x%" PRIx64, rz_region_id(r));
	snprintf(ip, sizeof(ip), "%s", test_ip);
	snprintf(pfx, sizeof(pfx), "%s", file_prefix);
	CU_ASSERT_FATAL(posix_spawn(&pid, self_exe, NULL, NULL, argv, environ) == 0);
	p = accept_peer();
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL(rz_peer_pid(p), pid);
	CU_ASSERT_EQUAL(rz_process_attached(pid), 1);
	CU_ASSERT_EQUAL(rz_region_map(r, pid, NULL, RZ_PERM_RW), 0);
	CU_ASSERT_EQUAL_FATAL(rz_rdma_grant(r2, p, RZ_MODE_SHARE, 0, 0, 0, &d), 0);
	CU_ASSERT_EQUAL_FATAL(rz_peer_recv_msg(p, &rep, TMO), (int)sizeof(rep));
	CU_ASSERT_EQUAL(rep.status, 0);
	printf("\n  secondary: context %s (import status %d: %s); rz_rdma_init %" PRIu64 " us "
			"(import attempt included); first rz_rdma_register of a %" PRIu64 " MiB "
			"region (registers its whole arena, own PD) %" PRIu64 " us, cached %" PRIu64
			" us; the primary's first registration of the same arena: %" PRIu64 " us\n",
			rep.import_status == 1 ? "imported" : "own", rep.import_status,
			strerror(rep.import_status < 0 ? -rep.import_status : 0), rep.init_us,
			rep.mr_len >> 20, rep.reg_us, rep.reg2_us, primary_reg_us);
	/* rxe has no ibv_import_device: the fallback must have been taken. */
	if (strncmp(rz_rdma_device_name(), "rxe", 3) == 0)
		CU_ASSERT_EQUAL(rep.import_status, -EOPNOTSUPP);
	for (i = 0; i < 4096; i++) {
		bad += va2[i] != 0x3c;	/* the secondary wrote from its registration */
		bad += va[4096 + i] != 0x6d;	/* and read into it */
	}
	CU_ASSERT_EQUAL(bad, 0);
	/* A range of r granted (on rxe: an MR of exactly that range, kept after the revoke), then
	 * r handed to the secondary, which destroys it behind our back: the next registration
	 * lets go of that MR. */
	CU_ASSERT_EQUAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, 4096, 4096, 0, &d), 0);
	CU_ASSERT_EQUAL(rz_rdma_revoke(&d), 0);
	CU_ASSERT_EQUAL(rz_rdma_limits(NULL, NULL, &mr0, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(rz_region_transfer_ownership(r, pid), 0);
	CU_ASSERT_EQUAL(rz_region_unmap(r, RZ_PID_SELF), 0);
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "destroy", 7), 0);
	CU_ASSERT_EQUAL(rz_peer_recv_msg(p, m, TMO), 9);
	CU_ASSERT_EQUAL(rz_region_lookup(rid), NULL);
	CU_ASSERT_EQUAL(rz_rdma_grant(r2, p, RZ_MODE_SHARE, 8192, 4096, 0, &d), 0);
	CU_ASSERT_EQUAL(rz_rdma_revoke(&d), 0);
	CU_ASSERT_EQUAL(rz_rdma_limits(NULL, NULL, &mr1, NULL), 0);
	CU_ASSERT_EQUAL(mr1, mr0);	/* rxe: one range MR gone, one new; elsewhere none */
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "bye", 3), 0);
	CU_ASSERT_EQUAL(wait_peer(pid), 0);
	rz_peer_close(p);
	CU_ASSERT_EQUAL(rz_region_destroy(r2), 0);
}

/* Lower the limits with the test knobs (rz_rdma_init() reads them), reach them, come back. */
static int
reinit(const char *mr, const char *mw)
{
	int ret;

	rz_peer_listener_close(lst);
	lst = NULL;
	rz_rdma_fini();
	if (mr != NULL)
		setenv("RZ_RDMA_MAX_MR_OVERRIDE", mr, 1);
	else
		unsetenv("RZ_RDMA_MAX_MR_OVERRIDE");
	if (mw != NULL)
		setenv("RZ_RDMA_MAX_MW_OVERRIDE", mw, 1);
	else
		unsetenv("RZ_RDMA_MAX_MW_OVERRIDE");
	ret = rz_rdma_init(NULL);
	if (ret != 0)
		return ret;
	lst = rz_peer_listen(test_ip, 0);
	return lst == NULL ? -rte_errno : 0;
}

#define LIM_MR	12
#define LIM_MW	4

static void
test_limits(void)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0);
	struct rz_rdma_mem mems[LIM_MR];
	struct rz_rdma_desc d[LIM_MW + 1];
	uint32_t max_mr, max_mw, dev_mr, dev_mw, used_mr, used_mw, u_mr, u_mw;
	static uint8_t plain[LIM_MR][4096];
	struct desc_msg m;
	struct rz_peer *p;
	int i, nmem = 0, ret;
	bool rxe;
	pid_t pid;

	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(rz_rdma_limits(&dev_mr, &dev_mw, NULL, NULL), 0);
	/* Values out of range are ignored. */
	CU_ASSERT_EQUAL_FATAL(reinit("0", "many"), 0);
	CU_ASSERT_EQUAL(rz_rdma_limits(&max_mr, &max_mw, NULL, NULL), 0);
	CU_ASSERT_EQUAL(max_mr, dev_mr);
	CU_ASSERT_EQUAL(max_mw, dev_mw);
	CU_ASSERT_EQUAL_FATAL(reinit("12", "4"), 0);
	CU_ASSERT_EQUAL(rz_rdma_limits(&max_mr, &max_mw, NULL, NULL), 0);
	CU_ASSERT_EQUAL(max_mr, LIM_MR);
	CU_ASSERT_EQUAL(max_mw, LIM_MW);
	rxe = strncmp(rz_rdma_device_name(), "rxe", 3) == 0;

	pid = spawn_peer("cmd", NULL);
	CU_ASSERT_FATAL(pid > 0);
	p = accept_peer();
	CU_ASSERT_FATAL(p != NULL);
	/* max_mw: LIM_MW grants, then the next bind is refused before it is posted. */
	for (i = 0; i < LIM_MW; i++) {
		CU_ASSERT_EQUAL(rz_peer_send_msg(p, "D", 1), 0);
		CU_ASSERT_EQUAL_FATAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, (size_t)i * 4096, 4096, 0,
				&d[i]), 0);
		CU_ASSERT_EQUAL(cmd_desc(p, &m), 0);
	}
	CU_ASSERT_EQUAL(rz_rdma_limits(NULL, NULL, &used_mr, &used_mw), 0);
	CU_ASSERT_EQUAL(used_mw, LIM_MW);
	CU_ASSERT_EQUAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, 0, 4096, 0, &d[LIM_MW]), -ENOSPC);
	CU_ASSERT_EQUAL(rz_rdma_limits(NULL, NULL, &u_mr, &u_mw), 0);
	CU_ASSERT_EQUAL(u_mr, used_mr);
	CU_ASSERT_EQUAL(u_mw, used_mw);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), LIM_MW);
	/* One revoked: its window is freed, so one grant fits again. */
	CU_ASSERT_EQUAL(rz_rdma_revoke(&d[0]), 0);
	/* max_mr: plain registrations up to the limit, then refused. */
	for (nmem = 0; nmem < LIM_MR; nmem++) {
		ret = rz_rdma_register_mem(plain[nmem], sizeof(plain[nmem]), &mems[nmem]);
		if (ret != 0)
			break;
	}
	CU_ASSERT_EQUAL(ret, -ENOSPC);
	CU_ASSERT_EQUAL(rz_rdma_limits(NULL, NULL, &used_mr, NULL), 0);
	CU_ASSERT_EQUAL(used_mr, LIM_MR);
	printf("\n  limits %d MR / %d MW (test knobs): %d grants, then bind refused; %d plain "
			"registrations, then refused\n", LIM_MR, LIM_MW, LIM_MW, nmem);
	/* On rxe a window is bound on an MR of exactly its range, made the first time the range
	 * is granted: with max_mr reached, a new range is refused... */
	if (rxe) {
		CU_ASSERT_EQUAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, (size_t)LIM_MW * 4096, 4096, 0,
				&d[LIM_MW]), -ENOSPC);
		CU_ASSERT_EQUAL(rz_rdma_grant_count(), LIM_MW - 1);
		CU_ASSERT_EQUAL(rz_rdma_limits(NULL, NULL, &u_mr, NULL), 0);
		CU_ASSERT_EQUAL(u_mr, LIM_MR);
	}
	/* ...while a range granted before reuses its MR (elsewhere no MR is needed at all). */
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "D", 1), 0);
	CU_ASSERT_EQUAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, 0, 4096, 0, &d[0]), 0);
	CU_ASSERT_EQUAL(cmd_desc(p, &m), 0);
	CU_ASSERT_EQUAL(rz_rdma_limits(NULL, NULL, &u_mr, NULL), 0);
	CU_ASSERT_EQUAL(u_mr, LIM_MR);
	CU_ASSERT_EQUAL(rz_rdma_deregister_mem(&mems[--nmem]), 0);
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "Q", 1), 0);
	CU_ASSERT_EQUAL(wait_peer(pid), 0);
	rz_peer_close(p);
	while (nmem > 0)
		CU_ASSERT_EQUAL(rz_rdma_deregister_mem(&mems[--nmem]), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
	CU_ASSERT_EQUAL_FATAL(reinit(NULL, NULL), 0);
	CU_ASSERT_EQUAL(rz_rdma_limits(&max_mr, &max_mw, NULL, NULL), 0);
	CU_ASSERT_EQUAL(max_mr, dev_mr);
	CU_ASSERT_EQUAL(max_mw, dev_mw);
}

/* ---------------------------------------------------------------------------------------- */
/* Remote peers that abuse the owner (issue 10, doc/guide.md "Threat model"), each while a
 * well-behaved "cmd" peer keeps working. */

static pid_t
spawn_raw(const char *script)
{
	char port[16], opt[] = "--raw", scr[32], ip[64];
	char *argv[] = { self_exe, opt, scr, ip, port, NULL };
	pid_t pid;

	snprintf(port, sizeof(port), "%u", rz_peer_listener_port(lst));
	snprintf(scr, sizeof(scr), "%s", script);
	snprintf(ip, sizeof(ip), "%s", test_ip);
	if (posix_spawn(&pid, self_exe, NULL, NULL, argv, environ) != 0)
		return -1;
	return pid;
}

/* Resident set of this process in KiB (/proc/self/statm). */
static long
rss_kib(void)
{
	long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &res) != 2)
		res = -1;
	fclose(f);
	return res < 0 ? -1 : res * (sysconf(_SC_PAGESIZE) / 1024);
}

static int
fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the directory's own fd */
}

/* One round with the "cmd" peer @p: a grant (its descriptor), a write and a read through it
 * (each a message round trip), a revoke. Its duration in us (asserted to succeed). */
static uint64_t
good_round(struct rz_peer *p, struct rz_region *r, uint8_t b)
{
	uint8_t *va = rz_region_addr(r);
	char w[2] = { 'W', (char)b };
	struct rz_rdma_desc d;
	struct cmd_reply cr;
	struct desc_msg m;
	uint8_t nb = (uint8_t)~b;
	uint64_t t0 = now_us();
	bool ok;

	ok = rz_peer_send_msg(p, "D", 1) == 0;
	ok = ok && rz_rdma_grant(r, p, RZ_MODE_SHARE, 0, 4096, 0, &d) == 0;
	ok = ok && cmd_desc(p, &m) == 0 && m.rkey == d.rkey;
	if (ok) {
		cr = cmd_op(p, w, 2);
		ok = cr.status == 0 && va[0] == b && va[4095] == b;
		va[0] = nb;
	}
	if (ok) {
		cr = cmd_op(p, "R", 1);
		ok = cr.status == 0 && cr.first == nb;
	}
	ok = ok && rz_rdma_revoke(&d) == 0;
	CU_ASSERT(ok);
	return now_us() - t0;
}

struct lat {
	uint64_t v[64];
	int n;
};

static void
lat_add(struct lat *l, uint64_t us)
{
	if (l->n < (int)RTE_DIM(l->v))
		l->v[l->n++] = us;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
lat_print(const char *what, struct lat *l)
{
	if (l->n == 0) {
		printf("  %-44s no rounds\n", what);
		return;
	}
	qsort(l->v, (size_t)l->n, sizeof(l->v[0]), cmp_u64);
	printf("  %-44s %2d rounds: median %7" PRIu64 " us, max %7" PRIu64 " us\n", what, l->n,
			l->v[l->n / 2], l->v[l->n - 1]);
}

/* Counters of /rzone/rdma. */
struct tel_snap {
	uint64_t peers, grants, used_mr, used_mw, desc_rejected;
};

static void
tel_snap(struct tel_snap *s)
{
	char tel[4096];

	memset(s, 0xff, sizeof(*s));
	CU_ASSERT_EQUAL_FATAL(rz_test_telemetry("/rzone/rdma", tel, sizeof(tel)), 0);
	s->peers = tel_u64(tel, "peers");
	s->grants = tel_u64(tel, "grants");
	s->used_mr = tel_u64(tel, "used_mr");
	s->used_mw = tel_u64(tel, "used_mw");
	s->desc_rejected = tel_u64(tel, "desc_rejected");
}

#define RSS_BOUND_KIB	(4 << 10)
/* Churn: RSS may grow by a few KiB per connection (measured up to 5.7 KiB, not traced yet); under
 * AddressSanitizer freed memory sits in its quarantine (measured 33 KiB a connection), so the
 * allowance is larger there. Either way a bound that a leak of a connection's state exceeds. */
#if defined(__SANITIZE_ADDRESS__)
#define CHURN_KIB_PER_CONN	64
#else
#define CHURN_KIB_PER_CONN	16
#endif
#define MW_BOUND	64	/* windows: 4 growths of the device pool */

/* What the three abuse tests share: a region, a good peer ("cmd") and its rounds before the
 * abuse, the RDMA counters and the device's window count at the start. */
struct abuse {
	struct rz_region *r;
	struct rz_peer *g;
	pid_t gp;
	uint32_t mw_base;
	struct tel_snap t0;
	struct lat before;
};

static void
abuse_begin(struct abuse *ab)
{
	int i;

	memset(ab, 0, sizeof(*ab));
	ab->r = new_region(MB2, RZ_PERM_RW, 0);
	CU_ASSERT_FATAL(ab->r != NULL);
	CU_ASSERT_EQUAL(rz_rdma_limits(NULL, NULL, NULL, &ab->mw_base), 0);
	ab->gp = spawn_peer("cmd", NULL);
	CU_ASSERT_FATAL(ab->gp > 0);
	ab->g = accept_peer();
	CU_ASSERT_FATAL(ab->g != NULL);
	for (i = 0; i < 5; i++)
		lat_add(&ab->before, good_round(ab->g, ab->r, (uint8_t)(0x10 + i)));
	tel_snap(&ab->t0);
}

/* The good peer leaves; its kept windows go back to the device pool, which is kept for reuse and
 * grows 16 at a time (mw.c): bounded, not back to the exact start. */
static void
abuse_end(struct abuse *ab)
{
	uint32_t mw_end = 1;

	CU_ASSERT_EQUAL(rz_peer_send_msg(ab->g, "Q", 1), 0);
	CU_ASSERT_EQUAL(wait_peer(ab->gp), 0);
	rz_peer_close(ab->g);
	CU_ASSERT_EQUAL(rz_rdma_limits(NULL, NULL, NULL, &mw_end), 0);
	CU_ASSERT(mw_end <= ab->mw_base + MW_BOUND);
	printf("  windows allocated (used_mw) %u -> %u\n", ab->mw_base, mw_end);
	CU_ASSERT_EQUAL(rz_region_destroy(ab->r), 0);
}

/* SEND flood and garbage: a raw peer floods FLOOD_N SENDs (40x the 16 receive slots) of eight
 * kinds, seven of them garbage, then one longer than a slot. While the owner takes nothing, the
 * flood waits at the door (RNR) and the good peer is served; then the owner takes them: each
 * good one is delivered, each bad one refused (-EBADMSG; descriptor-looking ones -ENOMSG for
 * rz_peer_recv_msg() and refused by rz_peer_recv_desc(), counted in desc_rejected), in order;
 * the long one ends that connection (-ENOTCONN). The owner's RSS and fds stay within bounds,
 * its counters come back. */
static void
test_flood_garbage(void)
{
	struct lat held = { .n = 0 }, drain = { .n = 0 }, after = { .n = 0 };
	int i, ret, nmsg = 0, nbad = 0, ndesc = 0, wrong = 0, fd0, fd1, first_wrong = -1;
	struct tel_snap t1, *t0;
	struct rz_rdma_desc d;
	struct rz_peer *g, *f;
	struct rz_region *r;
	struct abuse ab;
	long rss0, rss1;
	char buf[64];
	uint64_t tm;
	pid_t fp;

	abuse_begin(&ab);
	r = ab.r;
	g = ab.g;
	t0 = &ab.t0;
	rss0 = rss_kib();
	fd0 = fd_count();
	fp = spawn_raw("flood");
	CU_ASSERT_FATAL(fp > 0);
	f = accept_peer();
	CU_ASSERT_FATAL(f != NULL);
	/* Taking nothing from the flooder: 16 in the slots, the rest waiting at its side. */
	for (i = 0; i < 10; i++)
		lat_add(&held, good_round(g, r, (uint8_t)(0x20 + i)));
	rte_log_set_level_pattern("lib.rzone*", RTE_LOG_CRIT);	/* one ERR line per refusal */
	for (i = 0; i < FLOOD_N; i++) {
		int kind = i % FLOOD_KINDS, want;

		ret = rz_peer_recv_msg(f, buf, TMO);
		if (ret == -ENOMSG) {
			ret = rz_peer_recv_desc(f, &d, TMO);
			want = kind == 5 || kind == 7 ? -EBADMSG : 1;
			ndesc += ret < 0 && ret != -ETIMEDOUT && ret != -ENOTCONN;
			if (ret < 0 && ret != -ETIMEDOUT && ret != -ENOTCONN)
				ret = -EBADMSG;	/* refused: whichever errno the check gave */
		} else {
			want = kind == 0 ? 5 : -EBADMSG;
			nmsg += ret == 5 && memcmp(buf, "flood", 5) == 0;
			nbad += ret == -EBADMSG;
		}
		if (ret != want) {
			if (wrong++ == 0) {
				first_wrong = i;
				rte_log_set_level_pattern("lib.rzone*", RTE_LOG_NOTICE);
				printf("\n  flood message %d (kind %d): %d, want %d\n", i,
						kind, ret, want);
			}
			if (ret == -ETIMEDOUT || ret == -ENOTCONN)
				break;
		}
		if (i % 64 == 63)
			lat_add(&drain, good_round(g, r, (uint8_t)(0x40 + i / 64)));
	}
	rte_log_set_level_pattern("lib.rzone*", RTE_LOG_NOTICE);
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT_EQUAL(first_wrong, -1);
	CU_ASSERT_EQUAL(nmsg, FLOOD_N / FLOOD_KINDS);
	CU_ASSERT_EQUAL(ndesc, 2 * FLOOD_N / FLOOD_KINDS);
	CU_ASSERT_EQUAL(nbad, 5 * FLOOD_N / FLOOD_KINDS);
	/* The SEND longer than a slot: the flooder's connection ends, nothing else. */
	ret = rz_peer_recv_msg(f, buf, TMO);
	CU_ASSERT_EQUAL(ret, -ENOTCONN);
	tel_snap(&t1);
	CU_ASSERT_EQUAL(t1.desc_rejected, t0->desc_rejected + 2 * FLOOD_N / FLOOD_KINDS);
	CU_ASSERT_EQUAL(t1.peers, t0->peers + 1);
	/* Closed before the flooder exits: its own rdma_cm tear-down waits for our side (with
	 * our side left open, over 100 s under TCG). */
	rz_peer_close(f);
	for (i = 0; i < 5; i++)
		lat_add(&after, good_round(g, r, (uint8_t)(0x60 + i)));
	tm = now_us();
	CU_ASSERT_EQUAL(wait_peer(fp), 0);
	tm = now_us() - tm;
	rss1 = rss_kib();
	fd1 = fd_count();
	tel_snap(&t1);
	CU_ASSERT_EQUAL(t1.peers, t0->peers);
	CU_ASSERT_EQUAL(t1.grants, t0->grants);
	CU_ASSERT_EQUAL(t1.used_mr, t0->used_mr);
	CU_ASSERT(rss0 > 0 && rss1 > 0 && rss1 - rss0 < RSS_BOUND_KIB);
	CU_ASSERT(fd0 > 0 && fd1 <= fd0);
	printf("\n  flood of %d SENDs (%d good, %d garbage, %d descriptor-like refused) + one of "
			"%d bytes: connection ended\n", FLOOD_N, nmsg, nbad, ndesc, 2 * RAW_SLOT);
	printf("  owner RSS %ld -> %ld KiB, fds %d -> %d, desc_rejected +%" PRIu64 "; the "
			"flooder exited %" PRIu64 " ms after the last rounds\n", rss0, rss1, fd0,
			fd1, t1.desc_rejected - t0->desc_rejected, tm / 1000);
	printf("  the good peer's round (grant, write, read, 3 message round trips, revoke):\n");
	lat_print("before the flood", &ab.before);
	lat_print("flood held at the door (owner takes nothing)", &held);
	lat_print("while the owner takes the flood", &drain);
	lat_print("after", &after);
	abuse_end(&ab);
}

/* A failsafe: a churn slower than this (10x the rate seen under TCG) is stopped and fails. */
#define CHURN_BUDGET_MS	300000

/* Connection churn: a raw peer connects and disconnects CHURN_N times, every 50th time with a
 * bad hello. The owner accepts each (the bad ones are refused, -EPROTO), sees it go (bounded
 * wait) and closes it; every 100 connections the good peer does a round. Afterwards the peer
 * count, grants and registrations are back to their baseline, fds and RSS have not grown beyond
 * a bound, and the good peer works. The heap in use (mallinfo2) is printed beside the RSS: it
 * tells a leak (in use grows) from the allocator keeping freed memory (RSS grows, in use not). */
static void
test_churn(void)
{
	struct lat during = { .n = 0 }, after = { .n = 0 };
	int i, n_ok = 0, n_bad = 0, n_other = 0, n_slow = 0, fd0, fd1, err = 0;
	uint64_t t_start, t_end, t, gone_max = 0;
	struct tel_snap t1, *t0;
	struct mallinfo2 m0, m1;
	struct rz_peer *g, *c;
	struct rz_region *r;
	bool stopped = false;
	struct abuse ab;
	long rss0, rss1;
	pid_t cp;

	abuse_begin(&ab);
	r = ab.r;
	g = ab.g;
	t0 = &ab.t0;
	rss0 = rss_kib();
	fd0 = fd_count();
	m0 = mallinfo2();
	cp = spawn_raw("churn");
	CU_ASSERT_FATAL(cp > 0);
	t_start = now_ms();
	while (n_ok + n_bad < CHURN_N) {
		c = rz_peer_accept(lst, stopped ? 10000 : TMO);
		if (c == NULL) {
			err = rte_errno;
			if (err == EPROTO) {
				n_bad++;
				continue;
			}
			if (!stopped || err != ETIMEDOUT) {
				n_other++;
				printf("\n  churn: accept %d: %s\n", n_ok + n_bad, strerror(err));
			}
			break;
		}
		n_ok++;
		/* The owner sees the peer go: a bounded wait. */
		t = now_us();
		while (rz_peer_connected(c) == 1 && now_us() - t < 10000000)
			usleep(200);
		if (rz_peer_connected(c) != 0)
			n_slow++;
		t = now_us() - t;
		gone_max = t > gone_max ? t : gone_max;
		rz_peer_close(c);
		if (n_ok % 100 == 0)
			lat_add(&during, good_round(g, r, (uint8_t)(0x20 + n_ok / 100)));
		if (!stopped && now_ms() - t_start > CHURN_BUDGET_MS) {
			CU_ASSERT_EQUAL(kill(cp, SIGUSR1), 0);
			stopped = true;
		}
	}
	t_end = now_ms() - t_start - (stopped ? 10000 : 0);	/* without the last wait */
	CU_ASSERT_EQUAL(wait_peer(cp), 0);
	CU_ASSERT_EQUAL(n_other, 0);
	CU_ASSERT_EQUAL(n_slow, 0);
	CU_ASSERT(!stopped);	/* all CHURN_N within the failsafe */
	CU_ASSERT_EQUAL(n_ok + n_bad, CHURN_N);
	CU_ASSERT_EQUAL(n_bad, (n_ok + n_bad) / 50);
	for (i = 0; i < 5; i++)
		lat_add(&after, good_round(g, r, (uint8_t)(0x60 + i)));
	rss1 = rss_kib();
	fd1 = fd_count();
	m1 = mallinfo2();
	tel_snap(&t1);
	CU_ASSERT_EQUAL(t1.peers, t0->peers);
	CU_ASSERT_EQUAL(t1.grants, t0->grants);
	CU_ASSERT_EQUAL(t1.used_mr, t0->used_mr);
	CU_ASSERT(rss0 > 0 && rss1 > 0 &&
			rss1 - rss0 < RSS_BOUND_KIB + CHURN_KIB_PER_CONN * (n_ok + n_bad));
	printf("\n  churn heap (mallinfo2): in use %zu -> %zu KiB, held from the system %zu -> "
			"%zu KiB, mmapped %zu -> %zu KiB", m0.uordblks >> 10, m1.uordblks >> 10,
			m0.arena >> 10, m1.arena >> 10, m0.hblkhd >> 10, m1.hblkhd >> 10);
	printf("\n  churn RSS allowance: %d KiB + %d KiB per connection\n", RSS_BOUND_KIB,
			CHURN_KIB_PER_CONN);
	CU_ASSERT(fd0 > 0 && fd1 <= fd0);
	printf("\n  churn: %d connections (%d accepted and closed, %d bad hellos refused) in %"
			PRIu64 " ms: %.1f per second%s; the owner saw each go within %" PRIu64
			" us\n", n_ok + n_bad, n_ok, n_bad, t_end,
			t_end > 0 ? (n_ok + n_bad) * 1000.0 / (double)t_end : 0.0,
			stopped ? " (stopped at the time budget)" : "", gone_max);
	printf("  owner RSS %ld -> %ld KiB, fds %d -> %d, peers %" PRIu64 " -> %" PRIu64 "\n",
			rss0, rss1, fd0, fd1, t0->peers, t1.peers);
	printf("  the good peer's round (grant, write, read, 3 message round trips, revoke):\n");
	lat_print("before the churn", &ab.before);
	lat_print("during (every 100 connections)", &during);
	lat_print("after", &after);
	abuse_end(&ab);
}

struct deaf_arg {
	struct rz_peer *q;
	struct rz_region *r;
	volatile bool stop;
	int n, n_again, n_other, other;
	uint64_t max_us;
};

/* Another thread of the owner keeps calling the deaf peer: messages and grants. */
static void *
deaf_caller(void *arg)
{
	struct deaf_arg *a = arg;
	struct rz_rdma_desc d;
	uint64_t t;
	int ret;

	while (!a->stop) {
		int k = __atomic_load_n(&a->n, __ATOMIC_RELAXED);

		t = now_us();
		ret = k % 2 == 0 ? rz_peer_send_msg(a->q, "x", 1) :
			rz_rdma_grant(a->r, a->q, RZ_MODE_SHARE, 0, 4096, 0, &d);
		t = now_us() - t;
		a->max_us = t > a->max_us ? t : a->max_us;
		__atomic_fetch_add(&a->n, 1, __ATOMIC_RELAXED);
		if (ret == -EAGAIN) {
			a->n_again++;
		} else {
			a->n_other++;
			a->other = ret;
		}
	}
	return NULL;
}

/* A peer that never posts a receive: the owner's first SEND to it is given up after the
 * 5 s control timeout (-ETIMEDOUT, left queued); every later message or grant to it is refused
 * after at most the 100 ms backlog wait (-EAGAIN), grant count unchanged. While another thread
 * of the owner keeps calling it, the good peer's rounds work (latency printed). */
static void
test_deaf_peer(void)
{
	struct lat during = { .n = 0 }, after = { .n = 0 };
	struct deaf_arg a = { .n = 0 };
	uint64_t t, dt_first, dt_msg, dt_grant;
	struct tel_snap t1, *t0;
	struct rz_rdma_desc d;
	struct rz_peer *g, *q;
	int i, n0, ret, n_during;
	struct rz_region *r;
	struct abuse ab;
	pthread_t th;
	pid_t qp;

	abuse_begin(&ab);
	r = ab.r;
	g = ab.g;
	t0 = &ab.t0;
	qp = spawn_raw("deaf");
	CU_ASSERT_FATAL(qp > 0);
	q = accept_peer();
	CU_ASSERT_FATAL(q != NULL);
	n0 = rz_rdma_grant_count();
	t = now_us();
	ret = rz_peer_send_msg(q, "hello", 5);
	dt_first = now_us() - t;
	CU_ASSERT_EQUAL(ret, -ETIMEDOUT);
	CU_ASSERT(dt_first < (5000 + 5000) * 1000ull);	/* RZ_CTRL_TIMEOUT_MS, TCG slack */
	t = now_us();
	ret = rz_peer_send_msg(q, "again", 5);
	dt_msg = now_us() - t;
	CU_ASSERT_EQUAL(ret, -EAGAIN);
	CU_ASSERT(dt_msg < 2500 * 1000ull);	/* RZ_SEND_BACKLOG_MS, TCG slack */
	t = now_us();
	ret = rz_rdma_grant(r, q, RZ_MODE_SHARE, 0, 4096, 0, &d);
	dt_grant = now_us() - t;
	CU_ASSERT_EQUAL(ret, -EAGAIN);
	CU_ASSERT(dt_grant < 2500 * 1000ull);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), n0);
	a.q = q;
	a.r = r;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, deaf_caller, &a), 0);
	/* At least 20 calls of the other thread (2 s of backlog waits) overlap the rounds. */
	for (i = 0; i < 10 || (__atomic_load_n(&a.n, __ATOMIC_RELAXED) < 20 && i < 1000); i++)
		lat_add(&during, good_round(g, r, (uint8_t)(0x20 + i)));
	n_during = i;
	a.stop = true;
	pthread_join(th, NULL);
	CU_ASSERT(a.n >= 20);
	CU_ASSERT_EQUAL(a.n_other, 0);
	CU_ASSERT(a.max_us < 2500 * 1000ull);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), n0);
	CU_ASSERT_EQUAL(kill(qp, SIGTERM), 0);
	CU_ASSERT_EQUAL(wait_peer(qp), 128 + SIGTERM);
	rz_peer_close(q);
	for (i = 0; i < 5; i++)
		lat_add(&after, good_round(g, r, (uint8_t)(0x60 + i)));
	tel_snap(&t1);
	CU_ASSERT_EQUAL(t1.peers, t0->peers);
	CU_ASSERT_EQUAL(t1.grants, t0->grants);
	printf("\n  a peer that posts no receive: first message -ETIMEDOUT in %" PRIu64 " ms, "
			"then a message -EAGAIN in %" PRIu64 " ms, a grant -EAGAIN in %" PRIu64
			" ms\n", dt_first / 1000, dt_msg / 1000, dt_grant / 1000);
	printf("  another thread called it %d times meanwhile: %d -EAGAIN, %d other (last %d), "
			"slowest %" PRIu64 " ms\n", a.n, a.n_again, a.n_other, a.other,
			a.max_us / 1000);
	printf("  the good peer's round (grant, write, read, 3 message round trips, revoke), %d "
			"rounds while the thread ran:\n", n_during);
	lat_print("before", &ab.before);
	lat_print("while another thread calls the deaf peer", &during);
	lat_print("after", &after);
	abuse_end(&ab);
}

static void
test_bad_input(void)
{
	struct rz_region *ro = new_region(MB2, RZ_PERM_READ, 0);
	struct rz_rdma_desc d;

	CU_ASSERT_FATAL(ro != NULL);
	CU_ASSERT_EQUAL(rz_rdma_grant(NULL, NULL, RZ_MODE_SHARE, 0, 0, 0, &d), -EINVAL);
	CU_ASSERT_EQUAL(rz_rdma_revoke(NULL), -EINVAL);
	memset(&d, 0, sizeof(d));
	CU_ASSERT_EQUAL(rz_rdma_revoke(&d), -ENOENT);
	CU_ASSERT_EQUAL(rz_rdma_init(NULL), -EALREADY);
	CU_ASSERT_EQUAL(rz_region_destroy(ro), 0);
}

/* ---------------------------------------------------------------------------------------- */
/* A remote grant never outlives its region, in any process (issue 10, section 1). */

static const char *const grantor_modes[] = { "transfer", "move", "kill", "fini" };

static pid_t
spawn_grantor(const char *mode, int *to_child)
{
	char port[16], opt[] = "--grantor", ip[64], pfx[64], md[16];
	char *argv[] = { self_exe, opt, pfx, ip, port, md, NULL };
	posix_spawn_file_actions_t fa;
	int fds[2], rc;
	pid_t pid;

	if (pipe(fds) != 0)
		return -1;
	snprintf(port, sizeof(port), "%u", rz_peer_listener_port(lst));
	snprintf(ip, sizeof(ip), "%s", test_ip);
	snprintf(pfx, sizeof(pfx), "%s", file_prefix);
	snprintf(md, sizeof(md), "%s", mode);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
	posix_spawn_file_actions_addclose(&fa, fds[1]);
	rc = posix_spawn(&pid, self_exe, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[0]);
	if (rc != 0) {
		close(fds[1]);
		return -1;
	}
	*to_child = fds[1];
	return pid;
}

/* Wait (bounded) until this process owns region @id. */
static bool
wait_owner_self(uint64_t id)
{
	uint64_t t0 = now_ms();
	struct rz_region *r;

	while (now_ms() - t0 < 20000) {
		r = rz_region_lookup(id);
		if (r != NULL && rz_region_owner(r) == getpid())
			return true;
		usleep(20000);
	}
	return false;
}

static void
grants_scenario(const char *mode)
{
	struct rz_region *pin = new_region(MB2, RZ_PERM_RW, 0);
	struct rz_region *r, *r2 = NULL, *extra[32];
	struct rz_rdma_desc d1, d2;
	struct grantor_info gi;
	struct grantor_done gd;
	struct rz_rdma_mem mem;
	struct rz_peer *pa1, *pa2;
	unsigned int nextra = 0, i;
	size_t bad = 0, k;
	uint8_t *buf, *va2;
	int to_child = -1, ret, rret, wret;
	bool kill_mode = strcmp(mode, "kill") == 0, fini_mode = strcmp(mode, "fini") == 0;
	pid_t a;

	printf("\n  mode %s:\n", mode);
	CU_ASSERT_FATAL(pin != NULL);	/* keeps R's arena alive when R is freed */
	buf = aligned_alloc(4096, 2 * 4096);
	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_EQUAL_FATAL(rz_rdma_register_mem(buf, 2 * 4096, &mem), 0);
	a = spawn_grantor(mode, &to_child);
	CU_ASSERT_FATAL(a > 0);
	pa1 = accept_peer();
	pa2 = pa1 == NULL ? NULL : accept_peer();
	CU_ASSERT_FATAL(pa1 != NULL && pa2 != NULL);
	CU_ASSERT_EQUAL_FATAL(rz_peer_recv_desc(pa1, &d1, TMO), 0);
	CU_ASSERT_EQUAL_FATAL(rz_peer_recv_desc(pa2, &d2, TMO), 0);
	CU_ASSERT_EQUAL_FATAL(rz_peer_recv_msg(pa1, &gi, TMO), (int)sizeof(gi));
	r = rz_region_lookup(gi.region_id);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(rz_region_owner(r), a);
	CU_ASSERT_EQUAL(d1.addr, gi.va);
	CU_ASSERT_EQUAL(gi.grants, 2);
	/* The grant works: P reads R's bytes through it. */
	memset(buf, 0, 4096);
	CU_ASSERT_EQUAL(rz_remote_read(pa1, &mem, 0, &d1, 0, 4096), 0);
	CU_ASSERT_EQUAL(buf[0], 0x41);
	CU_ASSERT_EQUAL(buf[4095], 0x41);
	if (strcmp(mode, "transfer") == 0) {
		/* A's destroy failed (-EBUSY: B maps R) and changed nothing: the read above went
		 * through A's grant after it. */
		printf("    A's rz_region_destroy() while B maps R: %d (%s); A's grants after it: "
				"%d; P's READ through the old rkey after it: %d\n", gi.destroy_ret,
				strerror(-gi.destroy_ret), gi.grants, buf[0] == 0x41 ? 0 : -1);
		CU_ASSERT_EQUAL(gi.destroy_ret, -EBUSY);
		CU_ASSERT_PTR_EQUAL(rz_region_lookup(gi.region_id), r);
	}
	if (strcmp(mode, "move") == 0) {
		struct rz_region *got = NULL;

		/* A holds grants on R: B may not take it. State unchanged. */
		ret = rz_capability_map(gi.token, NULL, &got);
		printf("    B's rz_capability_map(Move) while A holds 2 grants: %d (%s)\n", ret,
				strerror(-ret));
		CU_ASSERT_EQUAL(ret, -EBUSY);
		CU_ASSERT_PTR_NULL(got);
		CU_ASSERT_EQUAL(rz_region_owner(r), a);
		CU_ASSERT_PTR_NULL(rz_region_get_mapping(r, RZ_PID_SELF));
		memset(buf, 0, 4096);
		CU_ASSERT_EQUAL(rz_remote_read(pa1, &mem, 0, &d1, 0, 4096), 0);
		CU_ASSERT_EQUAL(buf[0], 0x41);
	}
	if (kill_mode) {
		CU_ASSERT_EQUAL(kill(a, SIGKILL), 0);
		CU_ASSERT_EQUAL(wait_peer(a), 128 + SIGKILL);
		a = 0;
	} else {
		CU_ASSERT_EQUAL(rz_peer_send_msg(pa1, "go", 2), 0);
	}
	if (fini_mode) {
		CU_ASSERT_EQUAL(wait_peer(a), 0);	/* its rz_fini() returned 0 */
		a = 0;
	}
	if (!kill_mode && !fini_mode) {
		CU_ASSERT_EQUAL_FATAL(rz_peer_recv_msg(pa1, &gd, TMO), (int)sizeof(gd));
		CU_ASSERT_EQUAL(gd.ret, 0);
		CU_ASSERT_EQUAL(gd.grants, 0);	/* the transfer revoked them itself */
		printf("    A's %s: %d, A's grants after it: %d\n", strcmp(mode, "move") == 0 ?
				"two rz_rdma_revoke()" : "rz_region_transfer_ownership()", gd.ret,
				gd.grants);
	}
	if (strcmp(mode, "move") == 0) {
		struct rz_region *got = NULL;

		CU_ASSERT_EQUAL(rz_capability_map(gi.token, NULL, &got), 0);
		CU_ASSERT_PTR_EQUAL(got, r);
		CU_ASSERT_EQUAL(rz_region_unmap(r, RZ_PID_SELF), 0);
	}
	/* B owns R now (transfer, Move, the reaper after the kill, A's rz_fini()). */
	CU_ASSERT_FATAL(wait_owner_self(gi.region_id));
	/* The audit trail says how (A's records too: the ring is the instance's). */
	CU_ASSERT(audit_has("transfer", strcmp(mode, "transfer") == 0 ? "explicit" :
				strcmp(mode, "move") == 0 ? "capability" : "owner-left",
				gi.region_id));
	if (strcmp(mode, "transfer") == 0)
		CU_ASSERT(audit_has("revoke", "transfer", gi.region_id));
	if (rz_region_get_mapping(r, RZ_PID_SELF) != NULL)
		CU_ASSERT_EQUAL(rz_region_unmap(r, RZ_PID_SELF), 0);
	CU_ASSERT_EQUAL_FATAL(rz_region_destroy(r), 0);
	/* R2 on R's pages: the arena gives its lowest free page; other free pages of the arena
	 * may come first. */
	for (i = 0; i < RTE_DIM(extra); i++) {
		r2 = new_region(MB2, RZ_PERM_RW, 0x77);
		CU_ASSERT_FATAL(r2 != NULL);
		if ((uint64_t)(uintptr_t)rz_region_addr(r2) == gi.va)
			break;
		extra[nextra++] = r2;
		r2 = NULL;
	}
	CU_ASSERT_FATAL(r2 != NULL);
	va2 = rz_region_addr(r2);
	CU_ASSERT_EQUAL((uint64_t)(uintptr_t)va2, gi.va);
	if (kill_mode || fini_mode) {
		/* A is gone, and with it the QPs its windows were bound on (the kernel destroyed
		 * its RDMA context): the connections end, so no QP can carry the old rkeys. Wait
		 * (bounded) until both say so; an operation on them fails without being sent. */
		uint64_t t0 = now_ms();

		while ((rz_peer_connected(pa1) == 1 || rz_peer_connected(pa2) == 1) &&
				now_ms() - t0 < 15000) {
			rz_rdma_progress();
			usleep(20000);
		}
		printf("    A's connections ended %" PRIu64 " ms after A was gone\n",
				now_ms() - t0);
		CU_ASSERT_EQUAL(rz_peer_connected(pa1), 0);
		CU_ASSERT_EQUAL(rz_peer_connected(pa2), 0);
	}
	/* P's READ and WRITE through the old rkeys. */
	memset(buf, 0, 4096);
	rret = rz_peer_connected(pa1) == 1 ? rz_remote_read(pa1, &mem, 0, &d1, 0, 4096) :
		-ENOTCONN;
	memset(buf + 4096, 0xee, 4096);
	wret = rz_peer_connected(pa2) == 1 ? rz_remote_write(pa2, &mem, 4096, &d2, 0, 4096) :
		-ENOTCONN;
	for (k = 0; k < MB2; k++)
		bad += va2[k] != 0x77;
	printf("    R2 at R's address %p; P's READ through the old rkey: %d (%s), WRITE: %d "
			"(%s); R2 bytes changed: %zu%s\n", (void *)va2, rret, strerror(-rret), wret,
			strerror(-wret), bad, buf[0] == 0x77 ? " (READ RETURNED R2's BYTES)" : "");
	CU_ASSERT_NOT_EQUAL(rret, 0);
	CU_ASSERT_NOT_EQUAL(wret, 0);
	CU_ASSERT_NOT_EQUAL(buf[0], 0x77);
	CU_ASSERT_EQUAL(bad, 0);
	if (!kill_mode && !fini_mode) {
		/* A is alive and connected: the windows themselves refused (remote access
		 * error), not a closed connection. */
		CU_ASSERT_EQUAL(rret, -EACCES);
		CU_ASSERT_EQUAL(wret, -EACCES);
	}
	if (a > 0) {
		CU_ASSERT_EQUAL(write(to_child, "q", 1), 1);
		CU_ASSERT_EQUAL(wait_peer(a), 0);
	}
	close(to_child);
	rz_peer_close(pa1);
	rz_peer_close(pa2);
	CU_ASSERT_EQUAL(rz_rdma_deregister_mem(&mem), 0);
	free(buf);
	CU_ASSERT_EQUAL(rz_region_destroy(r2), 0);
	for (i = 0; i < nextra; i++)
		CU_ASSERT_EQUAL(rz_region_destroy(extra[i]), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(pin), 0);
}

static void
test_grant_outlives_transfer(void)
{
	grants_scenario(grantor_modes[0]);
}

static void
test_grant_outlives_move(void)
{
	grants_scenario(grantor_modes[1]);
}

static void
test_grant_outlives_kill(void)
{
	grants_scenario(grantor_modes[2]);
}

static void
test_grant_outlives_fini(void)
{
	grants_scenario(grantor_modes[3]);
}

/* rz_rdma_register(): an lkey (local read and write through the device) only for a process
 * that maps the region read-write. */
static void
test_register_rights(void)
{
	struct rz_region *r = rz_region_create(RZ_PID_SELF, MB2, RZ_PERM_RW);
	struct rz_region *ro = rz_region_create(RZ_PID_SELF, MB2, RZ_PERM_READ);
	struct rz_rdma_mem m;
	uint32_t mr0, mr1, lkey = 0;

	CU_ASSERT_FATAL(r != NULL && ro != NULL);
	CU_ASSERT_EQUAL(rz_rdma_limits(NULL, NULL, &mr0, NULL), 0);
	memset(&m, 0, sizeof(m));
	CU_ASSERT_EQUAL(rz_rdma_register(r, &m), -EACCES);	/* not mapped */
	CU_ASSERT_EQUAL(rz_rdma_region_lkey(r, &lkey), -EACCES);
	CU_ASSERT_EQUAL(rz_region_map(r, RZ_PID_SELF, NULL, RZ_PERM_READ), 0);
	CU_ASSERT_EQUAL(rz_rdma_register(r, &m), -EACCES);	/* read-only */
	CU_ASSERT_EQUAL(rz_region_map(ro, RZ_PID_SELF, NULL, RZ_PERM_READ), 0);
	CU_ASSERT_EQUAL(rz_rdma_register(ro, &m), -EACCES);	/* its ceiling is read-only */
	/* Refusals changed nothing: no registration, no output. */
	CU_ASSERT_EQUAL(rz_rdma_limits(NULL, NULL, &mr1, NULL), 0);
	CU_ASSERT_EQUAL(mr1, mr0);
	CU_ASSERT_EQUAL(m.lkey, 0);
	CU_ASSERT_EQUAL(lkey, 0);
	/* ro goes first: its read-only pages at the DPDK address would make the registration of
	 * the whole arena fail with EFAULT (a known limit of the one-MR-per-arena design, see
	 * doc/guide.md, "Remote access"). */
	CU_ASSERT_EQUAL(rz_region_destroy(ro), 0);
	CU_ASSERT_EQUAL(rz_region_unmap(r, RZ_PID_SELF), 0);
	CU_ASSERT_EQUAL(rz_region_map(r, RZ_PID_SELF, NULL, RZ_PERM_RW), 0);
	CU_ASSERT_EQUAL(rz_rdma_register(r, &m), 0);
	CU_ASSERT_NOT_EQUAL(m.lkey, 0);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

/* In the VM lane (kernel command line has rzvm.dir=) the test may step the guest's wall clock. */
static bool
in_vm_lane(void)
{
	char line[4096];
	FILE *f = fopen("/proc/cmdline", "r");
	bool vm = false;

	if (f != NULL) {
		vm = fgets(line, sizeof(line), f) != NULL && strstr(line, "rzvm.dir=") != NULL;
		fclose(f);
	}
	return vm;
}

static uint64_t
realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int
step_realtime(int64_t delta_s)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += delta_s;
	return clock_settime(CLOCK_REALTIME, &ts);
}

/* Expiry by the monotonic clock: a wall-clock step changes nothing; the descriptor's wall-clock
 * expiry is advisory (what the peer checks a descriptor against when it receives it). */
static void
test_expiry_monotonic(void)
{
	const uint64_t life_ns = 2000000000ull;
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0);
	struct rz_rdma_desc d;
	struct desc_msg m;
	struct rz_peer *p;
	uint64_t rt0, rt1, t0;
	bool vm = in_vm_lane(), stepped = false;
	pid_t pid = spawn_peer("cmd", NULL);
	int live_after_step = -1, expired;

	CU_ASSERT_FATAL(r != NULL && pid > 0);
	p = accept_peer();
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "D", 1), 0);
	rt0 = realtime_ns();
	CU_ASSERT_EQUAL_FATAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, 0, 0, life_ns, &d), 0);
	rt1 = realtime_ns();
	CU_ASSERT_EQUAL_FATAL(cmd_desc(p, &m), 0);	/* the peer took it (before any step) */
	/* On the wire: wall-clock nanoseconds. */
	CU_ASSERT(d.expiry_ns >= rt0 + life_ns && d.expiry_ns <= rt1 + life_ns);
	t0 = now_ms();
	if (vm) {
		/* One hour ahead: a wall-clock expiry would revoke the grant at once. */
		stepped = step_realtime(3600) == 0;
		CU_ASSERT(stepped);
		rz_rdma_progress();
		live_after_step = rz_rdma_grant_count();
		CU_ASSERT_EQUAL(live_after_step, 1);
		/* Then one hour behind the truth: a wall-clock expiry would wait an hour. */
		if (stepped)
			CU_ASSERT_EQUAL(step_realtime(-7200), 0);
	}
	while (rz_rdma_grant_count() > 0 && now_ms() - t0 < 30000) {
		rz_rdma_progress();
		usleep(20000);
	}
	expired = rz_rdma_grant_count() == 0;
	if (stepped)
		CU_ASSERT_EQUAL(step_realtime(3600), 0);	/* back to the truth */
	printf("\n  grant of 2 s lifetime: %s; live after +1 h wall-clock step: %d; expired "
			"%" PRIu64 " ms (monotonic) after the grant%s\n", vm ?
			"VM lane, wall clock stepped +1 h then -2 h then +1 h" :
			"no clock step (not in the VM lane: the host's clock is left alone)",
			live_after_step, now_ms() - t0, expired ? "" : " -- NOT EXPIRED");
	CU_ASSERT(expired);
	/* The peer's write through it: remote access error (exit status EACCES). */
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "W\x11", 2), 0);
	CU_ASSERT_EQUAL(wait_peer(pid), EACCES);
	rz_peer_close(p);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

/* Across the wire, with netem on both hosts' eth0 (the owner's here, the peer's there): the
 * specs of netem_specs[@first..@last]. Every operation completes (RC retransmits, and its
 * sequence numbers put reordered or duplicated packets right), the peer reads back what it
 * wrote, and the owner finds every byte of the stream in the region; the elapsed time of the
 * 512 KiB write + read and the p50/p99 of 4 KiB writes are printed beside the clean run. */
static void
wire_netem(unsigned int first, unsigned int last)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0);
	uint64_t res[RTE_DIM(netem_specs)][4], base[4] = { 0 };
	struct rz_rdma_desc d;
	char arg[32], cmd[128];
	struct rz_peer *p;
	unsigned int k;
	uint8_t *va;

	CU_ASSERT_FATAL(r != NULL);
	va = rz_region_addr(r);
	for (k = 0; k <= last; k++) {
		size_t off, bad = 0;
		pid_t pid;
		int run = (int)k + 1, ret;

		if (k != 0 && k < first)
			continue;	/* the clean run (k 0) is the baseline of every call */
		memset(res[k], 0, sizeof(res[k]));
		snprintf(arg, sizeof(arg), "%u:%d", k, run);
		if (k > 0) {
			snprintf(cmd, sizeof(cmd), "tc qdisc replace dev eth0 root netem %s",
					netem_specs[k]);
			CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
		}
		pid = spawn_peer("lossy", arg);
		CU_ASSERT_FATAL(pid > 0);
		p = accept_peer();
		CU_ASSERT_FATAL(p != NULL);
		CU_ASSERT_EQUAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, 0, 0, 0, &d), 0);
		CU_ASSERT_EQUAL(rz_peer_recv_msg(p, res[k], 600000), (int)sizeof(res[k]));
		for (off = 0; off < STREAM_LEN; off++)
			bad += va[off] != stream_byte(off, run);
		CU_ASSERT_EQUAL(bad, 0);
		CU_ASSERT_EQUAL(res[k][3], 0);	/* what the peer read back */
		/* On a lossy wire the closing SEND may stay untaken past the send bound (each lost
		 * packet or ACK costs a retransmission timeout, about 2 s here): -ETIMEDOUT then
		 * means "queued, goes when the retransmission gets through", and the peer's exit
		 * status 0 below is what proves it arrived (it waits TMO for "bye"). */
		ret = rz_peer_send_msg(p, "bye", 3);
		if (ret != 0)
			printf("\n  %s: closing message: %s%s\n",
					k == 0 ? "(none)" : netem_specs[k], strerror(-ret),
					k > 0 && ret == -ETIMEDOUT ?
					" (lossy wire: still queued)" : "");
		CU_ASSERT(ret == 0 || (k > 0 && ret == -ETIMEDOUT));
		CU_ASSERT_EQUAL(wait_peer(pid), 0);
		rz_peer_close(p);
		if (k > 0)
			CU_ASSERT_EQUAL(system("tc qdisc del dev eth0 root"), 0);
		if (k == 0)
			memcpy(base, res[0], sizeof(base));
	}
	printf("\n  across the wire (rxe0 <-> rxe0, two guests), netem on both hosts:\n");
	for (k = 0; k <= last; k++) {
		if (k != 0 && k < first)
			continue;
		printf("  %-26s 512 KiB write + read back %8.1f ms (%6.2fx), 4 KiB write p50 %5"
				PRIu64 " us p99 %7" PRIu64 " us (%6.2fx)\n",
				k == 0 ? "(none)" : netem_specs[k], (double)res[k][0] / 1000.0,
				base[0] ? (double)res[k][0] / (double)base[0] : 0.0, res[k][1],
				res[k][2], base[2] ? (double)res[k][2] / (double)base[2] : 0.0);
	}
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

static void
test_wire_loss(void)
{
	wire_netem(1, 2);
}

static void
test_wire_reorder_duplicate(void)
{
	wire_netem(3, 4);
}

/* The owner's link down (or, @drop, every packet it sends lost) for @down_s seconds, then
 * back, while the peer streams sequence-numbered writes through a grant. RC retransmits for a
 * while (rzone's retry count 6 of rdma_cm's local ACK timeout: 15 s in all, measured here):
 * every write either completes, late, or fails with an error, none takes longer than that,
 * and the records in the region are exactly the last ones the peer wrote (none lost, none
 * duplicated). If the connection breaks (a partition longer than the budget), this side
 * revokes its grant, the peer connects again and the old rkey fails on the new connection.
 * Either way a new grant on a new connection works. */
static void
link_down(int down_s, bool drop)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0);
	uint64_t res[6] = { 0 }, t_down, n, first, last;
	struct rz_peer *p, *p2 = NULL;
	struct rz_rdma_desc d;
	char m[64], cmd[128];
	bool survived;
	uint8_t *va;
	pid_t pid;
	int ret, bad = 0;

	CU_ASSERT_FATAL(r != NULL);
	va = rz_region_addr(r);
	pid = spawn_peer("linkdown", NULL);
	CU_ASSERT_FATAL(pid > 0);
	p = accept_peer();
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL_FATAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, 0, LD_SLOTS * 4096, 0, &d), 0);
	CU_ASSERT_EQUAL(rz_peer_recv_msg(p, m, TMO), 7);
	usleep(500000);		/* the stream flows */
	t_down = now_ms();
	/* Link down: the device knows (it queues and waits); drop: every packet this host sends
	 * is lost on the wire (netem loss 100 %), so the peer's retries run out. */
	if (drop)
		snprintf(cmd, sizeof(cmd), "tc qdisc replace dev eth0 root netem loss 100%% && "
				"sleep %d && tc qdisc del dev eth0 root", down_s);
	else
		snprintf(cmd, sizeof(cmd), "ip link set eth0 down && sleep %d && "
				"ip link set eth0 up", down_s);
	CU_ASSERT_EQUAL(system(cmd), 0);
	printf("\n  %s for %d s (the command took %" PRIu64 " ms), then back\n",
			drop ? "every packet dropped" : "link down", down_s, now_ms() - t_down);
	usleep(1000000);
	ret = rz_peer_send_msg(p, "stop", 4);
	survived = ret == 0 && rz_peer_recv_msg(p, res, 30000) == (int)sizeof(res) && res[1] == 0;
	if (!survived) {
		uint64_t t0 = now_ms();

		/* The connection broke: this side sees it go and revokes its grant; the peer
		 * comes back on a new connection (two: its try of the old rkey ends the first). */
		while (rz_rdma_grant_count() > 0 && now_ms() - t0 < 30000) {
			rz_rdma_progress();
			usleep(10000);
		}
		printf("  the connection broke; its grant revoked %" PRIu64 " ms after the stop\n",
				now_ms() - t0);
		CU_ASSERT_EQUAL(rz_rdma_grant_count(), 0);
		p2 = accept_peer();
		CU_ASSERT_FATAL(p2 != NULL);
		if (rz_peer_recv_msg(p2, res, 30000) != (int)sizeof(res)) {
			rz_peer_close(p2);
			p2 = accept_peer();
			CU_ASSERT_FATAL(p2 != NULL);
			CU_ASSERT_EQUAL(rz_peer_recv_msg(p2, res, TMO), (int)sizeof(res));
		}
		CU_ASSERT_EQUAL(res[1], 1);
		CU_ASSERT((int64_t)res[5] < 0);	/* the old rkey failed on the new connection */
		CU_ASSERT_EQUAL(rz_peer_send_msg(p2, "bye", 3), 0);
	} else {
		CU_ASSERT_EQUAL(rz_peer_send_msg(p, "bye", 3), 0);
	}
	CU_ASSERT(res[0] > 0);
	/* The records: the last LD_SLOTS - 1 written, each whole (the slot of a write that failed
	 * may hold part of it, and is not checked). */
	last = res[4];
	first = last >= LD_SLOTS - 1 ? last - (LD_SLOTS - 1) + 1 : 1;
	for (n = first; n <= last; n++) {
		const uint8_t *rec = va + (n % LD_SLOTS) * 4096;
		uint64_t got;
		size_t i;

		memcpy(&got, rec, sizeof(got));
		bad += got != n;
		for (i = sizeof(got); i < 4096; i++)
			bad += rec[i] != (uint8_t)n;
	}
	CU_ASSERT_EQUAL(bad, 0);
	printf("  %s: %" PRIu64 " writes, %" PRIu64 " failed (%d), slowest %" PRIu64 " ms, "
			"last record %" PRIu64 ", %d bad bytes in the last %d records; old rkey "
			"on a new connection: %d\n", survived ? "the connection survived" :
			"the connection broke", res[0], res[1], (int)res[2], res[3] / 1000, last,
			bad, LD_SLOTS - 1, (int)res[5]);
	/* Bound: the outage or the retry budget (7 local ACK timeouts, 15 s measured), whichever
	 * is shorter, plus the same again as TCG slack. */
	CU_ASSERT(res[3] < (uint64_t)RTE_MIN(down_s, 15) * 2 * 1000000ull + 5000000ull);
	CU_ASSERT_EQUAL(wait_peer(pid), 0);
	rz_peer_close(p);
	if (p2 != NULL)
		rz_peer_close(p2);
	/* Afterwards: a new connection, a new grant, the usual Share round. */
	test_share_write_lands();
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

static void
test_wire_link_down(void)
{
	link_down(2, false);
}

/* A partition (every packet of this host dropped) longer than RC's retry budget (15 s): the
 * connection breaks. */
static void
test_wire_partition(void)
{
	link_down(30, true);
}

/* Power host @host ("A" or "B") off, as a host losing power (faults 3 and 4): in the VM lane
 * create RZ_PAIR_DIR/poweroff-HOST (devtools/vm/pair.sh kills that guest's QEMU) and, if
 * @wait, wait up to 30 s for the lane's poweroff-HOST.done; natively run
 * "$RZ_WIRE_POWEROFF_CMD HOST". 0, or -1 (why printed: a test that cannot run fails). */
static int
lane_power_off(const char *host, bool wait)
{
	const char *dir = getenv("RZ_PAIR_DIR"), *cmd = getenv("RZ_WIRE_POWEROFF_CMD");
	char path[512], line[600];
	FILE *f;
	int i;

	if (dir != NULL) {
		snprintf(path, sizeof(path), "%s/poweroff-%s", dir, host);
		f = fopen(path, "w");
		if (f == NULL) {
			fprintf(stderr, "FAIL: power-off: %s: %s\n", path, strerror(errno));
			return -1;
		}
		fclose(f);
		if (!wait)
			return 0;
		snprintf(path, sizeof(path), "%s/poweroff-%s.done", dir, host);
		for (i = 0; i < 3000; i++) {
			if (access(path, F_OK) == 0)
				return 0;
			usleep(10000);
		}
		fprintf(stderr, "FAIL: the lane did not power host %s off within 30 s\n", host);
		return -1;
	}
	if (cmd != NULL) {
		snprintf(line, sizeof(line), "%s %s", cmd, host);
		return system(line) == 0 ? 0 : -1;
	}
	fprintf(stderr, "FAIL: cannot power host %s off: neither RZ_PAIR_DIR (the VM lane, "
			"devtools/vm/pair.sh) nor RZ_WIRE_POWEROFF_CMD is set\n", host);
	return -1;
}

/* Fault 3: the peer's host powered off mid-transfer (the lane kills guest B, which runs every
 * remote peer and the peer server: this case comes last). A peer on B streams sequence-
 * numbered 4 KiB writes into its grant; another peer, on this host, has its own connection and
 * a grant of another part of the region. Once B is gone, this side's keepalive gets no answer
 * (the connection is idle here: the peer did the writing): the peer is declared dead within
 * rz_peer_liveness_bound_ms() of the power-off (-ETIMEDOUT, the down handler once), its grant
 * revoked (audit cause peer-dead); the region is intact (every record whole but at most the
 * one being written at the power-off, nothing outside the grants touched); the other peer's
 * grant stays and works (a WRITE and a READ through it). */
static void
test_wire_peer_host_off(void)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0x77);
	const size_t loc_off = LD_SLOTS * 4096;
	int bound, slot, torn = 0, whole = 0, untouched = 0, bad = 0;
	struct rz_rdma_desc d, dl;
	struct rz_peer *p, *pl;
	struct cmd_reply cr;
	struct desc_msg m;
	uint64_t waited;
	char msg[64];
	pid_t pid, lpid;
	uint8_t *va;
	size_t i;

	CU_ASSERT_FATAL(r != NULL);
	va = rz_region_addr(r);
	memset(&downs, 0, sizeof(downs));
	CU_ASSERT_EQUAL(rz_rdma_set_peer_down_handler(on_peer_down, &downs), 0);
	/* The other peer: on this host (all of B goes), on its own connection. */
	lpid = spawn_peer_at("cmd", NULL, true);
	CU_ASSERT_FATAL(lpid > 0);
	pl = accept_peer();
	CU_ASSERT_FATAL(pl != NULL);
	CU_ASSERT_EQUAL(rz_peer_send_msg(pl, "D", 1), 0);
	CU_ASSERT_EQUAL_FATAL(rz_rdma_grant(r, pl, RZ_MODE_SHARE, loc_off, 4096, 0, &dl), 0);
	CU_ASSERT_EQUAL_FATAL(cmd_desc(pl, &m), 0);
	/* The peer on B. */
	pid = spawn_peer("linkdown", NULL);
	CU_ASSERT_FATAL(pid > 0);
	p = accept_peer();
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL_FATAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, 0, LD_SLOTS * 4096, 0, &d), 0);
	CU_ASSERT_EQUAL_FATAL(rz_peer_recv_msg(p, msg, TMO), 7);
	usleep(500000);		/* the stream flows */
	bound = rz_peer_liveness_bound_ms(p);
	CU_ASSERT_EQUAL_FATAL(lane_power_off("B", true), 0);
	wire_lost();		/* the peer server went with B */
	waited = progress_until_down(p, (uint64_t)bound + 30000);
	printf("\n  the peer's host powered off mid-transfer: declared dead %" PRIu64 " ms after "
			"the lane's power-off (bound %d ms = keepalive %u + transport %d), reason "
			"%d (%s), down handler called %d time(s)\n", waited, bound,
			rz_rdma_keepalive_ms(), rz_peer_sync_timeout_ms(p), rz_peer_down_reason(p),
			strerror(-rz_peer_down_reason(p)), downs.calls);
	CU_ASSERT_EQUAL(rz_peer_connected(p), 0);
	CU_ASSERT_EQUAL(rz_peer_down_reason(p), -ETIMEDOUT);
	CU_ASSERT(waited <= (uint64_t)bound + LIVENESS_SLACK_MS);
	CU_ASSERT_EQUAL(downs.calls, 1);
	CU_ASSERT_EQUAL(downs.id, rz_peer_id(p));
	CU_ASSERT_EQUAL(downs.reason, -ETIMEDOUT);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), 1);	/* the other peer's */
	CU_ASSERT(audit_has("revoke", "peer-dead", rz_region_id(r)));
	/* The region: each record slot untouched, or a whole record n of its slot; at most one
	 * torn (the write in flight); nothing past the grants touched. */
	for (slot = 0; slot < LD_SLOTS; slot++) {
		const uint8_t *rec = va + (size_t)slot * 4096;
		uint64_t n;
		bool ok = true;

		for (i = 0; i < 4096 && rec[i] == 0x77; i++)
			;
		if (i == 4096) {
			untouched++;
			continue;
		}
		memcpy(&n, rec, sizeof(n));
		ok = n % LD_SLOTS == (uint64_t)slot;
		for (i = sizeof(n); ok && i < 4096; i++)
			ok = rec[i] == (uint8_t)n;
		whole += ok;
		torn += !ok;
	}
	for (i = loc_off + 4096; i < MB2; i++)
		bad += va[i] != 0x77;
	printf("  region: %d whole records, %d torn, %d slots untouched; %d bytes changed past "
			"the grants\n", whole, torn, untouched, bad);
	CU_ASSERT(whole > 0);
	CU_ASSERT(torn <= 1);
	CU_ASSERT_EQUAL(bad, 0);
	/* The other peer is unaffected. */
	cr = cmd_op(pl, "W\xab", 2);
	CU_ASSERT_EQUAL(cr.status, 0);
	bad = 0;
	for (i = 0; i < 4096; i++)
		bad += va[loc_off + i] != 0xab;
	CU_ASSERT_EQUAL(bad, 0);
	cr = cmd_op(pl, "R", 1);
	CU_ASSERT_EQUAL(cr.status, 0);
	CU_ASSERT_EQUAL(cr.first, 0xab);
	CU_ASSERT_EQUAL(rz_peer_connected(pl), 1);
	CU_ASSERT_EQUAL(rz_peer_send_msg(pl, "Q", 1), 0);
	CU_ASSERT_EQUAL(wait_peer_local(lpid), 0);
	(void)pid;	/* gone with its host */
	rz_peer_close(p);
	rz_peer_close(pl);
	CU_ASSERT_EQUAL(rz_rdma_set_peer_down_handler(NULL, NULL), 0);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

/* Fault 4, the owner's side (test_rdma --wire-owner-dies, the wire suite's second run: this
 * host is powered off). A peer on the other host connects twice (a stream, an idle connection)
 * and gets a grant on each; the peer server is told to take that peer's status as its verdict
 * ("orphans"); then this host asks the lane to power it off, and is gone. The peer checks
 * what it sees (peer_ownerdies()). 1 if this host is still alive after 60 s. */
static int
wire_owner_dies(void)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0);
	struct rz_rdma_desc d, d2;
	struct rz_peer *p, *q;
	char msg[64];
	uint64_t t0;
	pid_t pid;

	if (r == NULL)
		return 1;
	pid = spawn_peer("ownerdies", NULL);
	p = pid > 0 ? accept_peer() : NULL;
	q = p != NULL ? accept_peer() : NULL;
	if (q == NULL || rz_rdma_grant(r, p, RZ_MODE_SHARE, 0, LD_SLOTS * 4096, 0, &d) != 0 ||
			rz_rdma_grant(r, q, RZ_MODE_SHARE, 0, 4096, 0, &d2) != 0 ||
			rz_peer_recv_msg(p, msg, TMO) != 7) {
		fprintf(stderr, "FAIL: owner dies: the peer did not start\n");
		return 1;
	}
	if (wire_orphans() != 0) {
		fprintf(stderr, "FAIL: owner dies: the peer server did not take \"orphans\"\n");
		return 1;
	}
	usleep(500000);		/* the stream flows */
	printf("owner dies: powering this host off, peer streaming\n");
	fflush(stdout);
	if (lane_power_off("A", false) != 0)
		return 1;
	t0 = now_ms();
	while (now_ms() - t0 < 60000) {
		rz_rdma_progress();
		usleep(10000);
	}
	fprintf(stderr, "FAIL: owner dies: this host was not powered off within 60 s\n");
	return 1;
}

/* Wire format v2: a version-1 hello (host byte order) is refused on the owner's side
 * (-EPROTO, a log line naming version 1) and the remote's connect fails. */
static void
test_hello_v1_refused(void)
{
	pid_t pid = spawn_raw("v1");
	struct rz_peer *p;
	int n0 = rz_rdma_grant_count();

	CU_ASSERT_FATAL(pid > 0);
	p = rz_peer_accept(lst, TMO);
	CU_ASSERT_PTR_NULL(p);
	CU_ASSERT_EQUAL(rte_errno, EPROTO);
	CU_ASSERT_EQUAL(wait_peer(pid), 0);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), n0);
}

/* ---------------------------------------------------------------------------------------- */
/* Stress (issue 11): control calls for a peer from one thread while two others drive data
 * paths to the same remote process. Run by the test (a DPDK primary) and by a DPDK secondary
 * of its instance it spawns ("--stress PREFIX IP PORT SECONDS"), symmetrically: each grants the
 * other a region on two connections, D and W (each connection its own RC QP and CQs: W is the
 * data channel of the second worker). In each process, for SECONDS:
 * - worker 0 on D and worker 1 on W: synchronous WRITE + READ back of 4096 bytes, fetch-add and
 *   compare-swap on a counter of their own, and a burst of 8 asynchronous WRITEs (signaled, wr_id
 *   tagged with the worker and a sequence) then a READ, all polled back: every byte verified,
 *   every completion seen once, with its own wr_id (no loss, none foreign), status 0;
 * - a control thread on D: grant + revoke, a 20 ms grant left to expire through
 *   rz_rdma_progress(), rz_peer_send_msg(); the secondary's also closes and reconnects a third
 *   connection every 8 rounds (the primary accepts it in a fourth thread, waits for it to go,
 *   closes it);
 * - a receiver thread on D takes the descriptors and messages the other's control sends.
 * Every call is timed: synchronous data calls against rz_peer_sync_timeout_ms(), control calls
 * against their documented bound (STRESS_CTRL_BOUND_MS). Results go to stderr; any failure fails.
 */

#define STRESS_SLICE	(64u << 10)	/* each worker's part of the other's region */
#define STRESS_BURST	8
#define STRESS_CTRL_BOUND_MS	10200	/* grant: backlog 100 ms + bind 5 s + SEND 5 s */

/* The stress test's flags, read by every thread. */
static inline bool
flag_get(const bool *f)
{
	return __atomic_load_n(f, __ATOMIC_ACQUIRE);
}

static inline void
flag_set(bool *f)
{
	__atomic_store_n(f, true, __ATOMIC_RELEASE);
}

struct stress_ctx {
	struct rz_peer *pd, *pw;
	struct rz_region *r;		/* ours: the other writes into it */
	struct rz_rdma_desc theirs[2];	/* the other's grants to us: on D, on W */
	const char *ip;
	uint16_t port;
	bool primary;
	bool stop;			/* atomics: read by every thread */
	bool fin_seen;
	uint64_t deadline_ms;
	/* results */
	uint64_t ops[2], bytes_ok[2], async_ok[2];
	uint64_t sync_max_us[2];
	uint64_t ctrl_rounds, ctrl_max_us, expired, sent_msgs, eagain, reconnects, accepted;
	uint64_t data_eagain;
	uint64_t rx_desc, rx_msg, rx_stale;
	int err;			/* first unexpected error */
	char why[160];
};

static void
stress_fail(struct stress_ctx *c, const char *what, int ret)
{
	if (__atomic_exchange_n(&c->err, ret == 0 ? -1 : ret, __ATOMIC_ACQ_REL) == 0)
		snprintf(c->why, sizeof(c->why), "%s: %d (%s)", what, ret, strerror(-ret));
	flag_set(&c->stop);
}

struct stress_worker {
	struct stress_ctx *c;
	int w;
};

/* A synchronous call, again while it is refused with -EAGAIN (documented: a descriptor or
 * message of the control thread has not been taken by the other side within 100 ms, and the
 * operation would queue behind it; nothing was sent). Counted. */
#define STRESS_SYNC(c, ret, call) do { \
		(ret) = (call); \
		if ((ret) != -EAGAIN || flag_get(&(c)->stop)) \
			break; \
		__atomic_fetch_add(&(c)->data_eagain, 1, __ATOMIC_RELAXED); \
		sched_yield(); \
	} while (1)

static void *
stress_worker_main(void *arg)
{
	struct stress_worker *sw = arg;
	struct stress_ctx *c = sw->c;
	struct rz_peer *p = sw->w == 0 ? c->pd : c->pw;
	const struct rz_rdma_desc *d = &c->theirs[sw->w];
	uint64_t bound_us = (uint64_t)rz_peer_sync_timeout_ms(p) * 1000, counter = 0, seq = 0;
	size_t len = (STRESS_BURST + 3) * 4096;
	struct rz_rdma_mem mem;
	uint8_t *buf = aligned_alloc(4096, len);
	int ret, i;

	if (buf == NULL || rz_rdma_register_mem(buf, len, &mem) != 0) {
		stress_fail(c, "worker: register", -ENOMEM);
		return NULL;
	}
	/* The counter (last 8 bytes of our slice) starts at 0. */
	memset(buf, 0, 8);
	if ((ret = rz_remote_write(p, &mem, 0, d, STRESS_SLICE - 8, 8)) != 0)
		stress_fail(c, "worker: counter reset", ret);
	while (!flag_get(&c->stop) && now_ms() < c->deadline_ms) {
		uint8_t b = (uint8_t)(seq * 31 + (uint64_t)sw->w * 7 + 1);
		struct rz_remote_cqe cqe[STRESS_BURST + 1];
		bool seen[STRESS_BURST + 1];
		uint64_t t0, dt, old;
		int got = 0, k;

		/* Synchronous: write, read back, atomics. */
		memset(buf, b, 4096);
		memset(buf + 4096, 0, 4096);
		t0 = now_us();
		STRESS_SYNC(c, ret, rz_remote_write(p, &mem, 0, d, 0, 4096));
		if (ret == 0)
			STRESS_SYNC(c, ret, rz_remote_read(p, &mem, 4096, d, 0, 4096));
		dt = now_us() - t0;
		if (dt > c->sync_max_us[sw->w])
			c->sync_max_us[sw->w] = dt;
		if (ret != 0) {
			stress_fail(c, "worker: sync write/read", ret);
			break;
		}
		if (dt > 2 * bound_us)
			stress_fail(c, "worker: sync write + read over 2 x its bound", -ETIME);
		for (i = 0; i < 4096; i++)
			if (buf[4096 + i] != b)
				break;
		if (i < 4096) {
			stress_fail(c, "worker: read back differs", -EILSEQ);
			break;
		}
		c->bytes_ok[sw->w] += 4096;
		STRESS_SYNC(c, ret, rz_remote_fetch_add(p, &mem, 8192, d, STRESS_SLICE - 8, 1,
				&old));
		if (ret != 0 || old != counter) {
			stress_fail(c, "worker: fetch_add (or its old value)", ret != 0 ? ret :
					-EILSEQ);
			break;
		}
		counter++;
		STRESS_SYNC(c, ret, rz_remote_cmp_swap(p, &mem, 8192, d, STRESS_SLICE - 8, counter,
				counter + 1, &old));
		if (ret != 0 || old != counter) {
			stress_fail(c, "worker: cmp_swap (or its old value)", ret != 0 ? ret :
					-EILSEQ);
			break;
		}
		counter++;
		/* Asynchronous: a burst of writes, then a read of the first, all polled. */
		for (k = 0; k < STRESS_BURST; k++) {
			struct rz_remote_op op = { .opcode = RZ_REMOTE_WRITE, .local = &mem,
				.local_off = (size_t)(3 + k) * 4096, .remote = d,
				.remote_off = (uint64_t)(1 + k) * 4096, .len = 4096,
				.wr_id = ((uint64_t)sw->w << 56) | (seq << 8) | (uint64_t)k };

			memset(buf + (size_t)(3 + k) * 4096, (uint8_t)(b + k), 4096);
			ret = rz_remote_post(p, &op);
			if (ret != 0)
				break;
		}
		if (ret == 0) {
			struct rz_remote_op op = { .opcode = RZ_REMOTE_READ, .local = &mem,
				.local_off = 4096, .remote = d, .remote_off = 4096, .len = 4096,
				.wr_id = ((uint64_t)sw->w << 56) | (seq << 8) | STRESS_BURST };

			ret = rz_remote_post(p, &op);
		}
		if (ret != 0) {
			stress_fail(c, "worker: rz_remote_post", ret);
			break;
		}
		memset(seen, 0, sizeof(seen));
		t0 = now_us();
		while (got < STRESS_BURST + 1) {
			int n = rz_remote_poll(p, cqe, RTE_DIM(cqe));

			if (n < 0) {
				stress_fail(c, "worker: rz_remote_poll", n);
				break;
			}
			for (k = 0; k < n; k++) {
				uint64_t id = cqe[k].wr_id, slot = id & 0xff;
				uint64_t s48 = (id >> 8) & 0xffffffffffffull;
				bool mine = (id >> 56) == (uint64_t)sw->w &&
					s48 == (seq & 0xffffffffffffull);

				if (!mine || slot > STRESS_BURST || seen[slot]) {
					stress_fail(c, "worker: foreign or repeated completion",
							-EILSEQ);
					break;
				}
				if (cqe[k].status != 0) {
					stress_fail(c, "worker: async completion", cqe[k].status);
					break;
				}
				seen[slot] = true;
				got++;
			}
			if (c->err != 0)
				break;
			if (now_us() - t0 > 2 * bound_us) {
				stress_fail(c, "worker: async completions missing (lost)", -ETIME);
				break;
			}
			if (n == 0)
				sched_yield();
		}
		if (c->err != 0)
			break;
		for (i = 0; i < 4096; i++)
			if (buf[4096 + i] != b)
				break;
		if (i < 4096) {
			stress_fail(c, "worker: async read back differs", -EILSEQ);
			break;
		}
		c->async_ok[sw->w] += STRESS_BURST + 1;
		c->ops[sw->w] += 4 + STRESS_BURST + 1;
		seq++;
	}
	rz_rdma_deregister_mem(&mem);
	free(buf);
	return NULL;
}

/* A control call: timed against the documented bound; -EAGAIN (the other has not taken the
 * previous SEND within 100 ms: its receiver was descheduled) is documented and counted. */
static bool
stress_ctrl_ok(struct stress_ctx *c, const char *what, int ret, uint64_t t0)
{
	uint64_t dt = now_us() - t0;

	if (dt > c->ctrl_max_us)
		c->ctrl_max_us = dt;
	if (dt > (uint64_t)STRESS_CTRL_BOUND_MS * 1000)
		stress_fail(c, what, -ETIME);
	if (ret == -EAGAIN) {
		c->eagain++;
		return false;
	}
	if (ret != 0) {
		stress_fail(c, what, ret);
		return false;
	}
	return true;
}

static void *
stress_ctrl_main(void *arg)
{
	struct stress_ctx *c = arg;
	struct rz_rdma_desc g, s;
	uint64_t t0;
	int ret, live = 0;

	while (!flag_get(&c->stop) && now_ms() < c->deadline_ms) {
		t0 = now_us();
		ret = rz_rdma_grant(c->r, c->pd, RZ_MODE_SHARE, 2 * STRESS_SLICE, 4096, 0, &g);
		if (stress_ctrl_ok(c, "control: grant", ret, t0)) {
			t0 = now_us();
			ret = rz_rdma_revoke(&g);
			stress_ctrl_ok(c, "control: revoke", ret, t0);
		}
		t0 = now_us();
		ret = rz_rdma_grant(c->r, c->pd, RZ_MODE_COPY_ON_WRITE, 2 * STRESS_SLICE + 4096,
				4096, 20 * 1000000ull, &s);
		if (stress_ctrl_ok(c, "control: short-lived grant", ret, t0))
			live++;
		t0 = now_us();
		ret = rz_rdma_progress();
		if (ret < 0)
			stress_fail(c, "control: rz_rdma_progress", ret);
		else
			c->expired += (uint64_t)ret;
		stress_ctrl_ok(c, "control: progress", 0, t0);
		t0 = now_us();
		ret = rz_peer_send_msg(c->pd, "ctl", 3);
		if (stress_ctrl_ok(c, "control: send_msg", ret, t0))
			c->sent_msgs++;
		if (!c->primary && c->ctrl_rounds % 8 == 7) {
			struct rz_peer *x;

			t0 = now_us();
			x = rz_peer_connect(c->ip, c->port, TMO);
			if (x == NULL) {
				stress_fail(c, "control: reconnect the third peer", -rte_errno);
				break;
			}
			rz_peer_close(x);
			c->reconnects++;
		}
		c->ctrl_rounds++;
	}
	/* The short-lived grants left expire. */
	t0 = now_ms();
	while (rz_rdma_grant_count() > 4 && now_ms() - t0 < 10000) {
		ret = rz_rdma_progress();
		if (ret > 0)
			c->expired += (uint64_t)ret;
		usleep(10000);
	}
	(void)live;
	return NULL;
}

static void *
stress_rx_main(void *arg)
{
	struct stress_ctx *c = arg;
	struct rz_rdma_desc d;
	char m[128];
	int ret;

	while (!flag_get(&c->fin_seen)) {
		ret = rz_peer_recv_desc(c->pd, &d, 200);
		if (ret == 0) {
			c->rx_desc++;
			continue;
		}
		if (ret == -ESTALE) {
			c->rx_stale++;	/* a 20 ms grant expired before we took it */
			continue;
		}
		if (ret == -ETIMEDOUT)
			continue;
		if (ret != -ENOMSG) {
			stress_fail(c, "receiver: rz_peer_recv_desc", ret);
			break;
		}
		ret = rz_peer_recv_msg(c->pd, m, 0);
		if (ret == 3 && memcmp(m, "fin", 3) == 0)
			flag_set(&c->fin_seen);
		else if (ret >= 0)
			c->rx_msg++;
		else if (ret != -ENOMSG && ret != -ETIMEDOUT) {
			stress_fail(c, "receiver: rz_peer_recv_msg", ret);
			break;
		}
	}
	return NULL;
}

/* The primary's: accept the secondary's third connection, wait for it to go, close it. */
static void *
stress_acceptor_main(void *arg)
{
	struct stress_ctx *c = arg;

	/* Until the secondary is done (its "fin"), even if we stopped early. */
	while (!flag_get(&c->fin_seen) && now_ms() < c->deadline_ms + 60000) {
		/* The timeout covers the connection's establishment too: generous (TCG). */
		struct rz_peer *x = rz_peer_accept(lst, 5000);
		uint64_t t0 = now_ms();

		if (x == NULL)
			continue;
		c->accepted++;
		while (rz_peer_connected(x) == 1 && now_ms() - t0 < 10000)
			usleep(5000);
		rz_peer_close(x);
	}
	return NULL;
}

/* The part both processes run once D and W are connected and the grants exchanged. */
static int
stress_run(struct stress_ctx *c, unsigned int seconds)
{
	struct stress_worker sw[2] = { { c, 0 }, { c, 1 } };
	pthread_t tw[2], tc, trx, ta;
	uint64_t t_end;
	int ret, i;

	c->deadline_ms = now_ms() + (uint64_t)seconds * 1000;
	if (pthread_create(&trx, NULL, stress_rx_main, c) != 0 ||
			pthread_create(&tw[0], NULL, stress_worker_main, &sw[0]) != 0 ||
			pthread_create(&tw[1], NULL, stress_worker_main, &sw[1]) != 0 ||
			pthread_create(&tc, NULL, stress_ctrl_main, c) != 0 ||
			(c->primary && pthread_create(&ta, NULL, stress_acceptor_main, c) != 0)) {
		fprintf(stderr, "stress: pthread_create\n");
		return -1;
	}
	for (i = 0; i < 2; i++)
		pthread_join(tw[i], NULL);
	pthread_join(tc, NULL);
	/* Then "fin": the receivers stop once each side has the other's. */
	ret = rz_peer_send_msg(c->pd, "fin", 3);
	t_end = now_ms();
	while (ret == -EAGAIN && now_ms() - t_end < 10000) {
		usleep(10000);
		ret = rz_peer_send_msg(c->pd, "fin", 3);
	}
	if (ret != 0)
		stress_fail(c, "fin", ret);
	t_end = now_ms();
	while (!flag_get(&c->fin_seen) && now_ms() - t_end < 30000)
		usleep(10000);
	if (!flag_get(&c->fin_seen)) {
		stress_fail(c, "no fin from the other", -ETIMEDOUT);
		flag_set(&c->fin_seen);
	}
	pthread_join(trx, NULL);
	flag_set(&c->stop);
	if (c->primary)
		pthread_join(ta, NULL);
	fprintf(stderr, "stress %s: %u s: worker ops %" PRIu64 " + %" PRIu64 " (bytes verified "
			"%" PRIu64 " + %" PRIu64 ", async completions %" PRIu64 " + %" PRIu64 "), "
			"sync call max %" PRIu64 " / %" PRIu64 " us (bound %d / %d ms); control "
			"rounds %" PRIu64 " (max %" PRIu64 " us, bound %d ms), expired %" PRIu64
			", msgs %" PRIu64 ", -EAGAIN %" PRIu64 " (data path %" PRIu64 "), "
			"reconnects %" PRIu64 ", accepted %"
			PRIu64 "; received desc %" PRIu64 " (+%" PRIu64 " expired first) msgs %"
			PRIu64 "; %s%s\n", c->primary ? "primary" : "secondary", seconds,
			c->ops[0], c->ops[1], c->bytes_ok[0], c->bytes_ok[1], c->async_ok[0],
			c->async_ok[1], c->sync_max_us[0], c->sync_max_us[1],
			rz_peer_sync_timeout_ms(c->pd), rz_peer_sync_timeout_ms(c->pw),
			c->ctrl_rounds, c->ctrl_max_us, STRESS_CTRL_BOUND_MS, c->expired,
			c->sent_msgs, c->eagain, c->data_eagain, c->reconnects, c->accepted,
			c->rx_desc,
			c->rx_stale, c->rx_msg, c->err == 0 ? "OK" : "FAIL: ", c->why);
	if (c->err == 0 && (c->ops[0] == 0 || c->ops[1] == 0 || c->ctrl_rounds == 0))
		stress_fail(c, "a thread did nothing", -EIO);
	return c->err == 0 ? 0 : -1;
}

/* Grant our region on D and W (slices 0 and 1), take the other's two grants. The primary
 * grants first. */
static int
stress_exchange(struct stress_ctx *c)
{
	struct rz_rdma_desc mine[2];
	int ret, i;

	for (i = 0; i < 2 && c->primary; i++) {
		ret = rz_rdma_grant(c->r, i == 0 ? c->pd : c->pw, RZ_MODE_SHARE,
				(size_t)i * STRESS_SLICE, STRESS_SLICE, 0, &mine[i]);
		if (ret != 0)
			return ret;
	}
	for (i = 0; i < 2; i++) {
		ret = rz_peer_recv_desc(i == 0 ? c->pd : c->pw, &c->theirs[i], TMO);
		if (ret != 0)
			return ret;
	}
	for (i = 0; i < 2 && !c->primary; i++) {
		ret = rz_rdma_grant(c->r, i == 0 ? c->pd : c->pw, RZ_MODE_SHARE,
				(size_t)i * STRESS_SLICE, STRESS_SLICE, 0, &mine[i]);
		if (ret != 0)
			return ret;
	}
	return 0;
}

static unsigned int
stress_seconds(void)
{
	const char *s = getenv("RZ_RDMA_STRESS_S");

	return s != NULL && atoi(s) > 0 ? (unsigned int)atoi(s) : 20;
}

#define XFAIL(...) do { fprintf(stderr, "stress secondary: FAIL: " __VA_ARGS__); \
	fprintf(stderr, "\n"); return 1; } while (0)

static int
stress_main(int argc, char **argv)
{
	char prefix[96];
	char *eal[] = { argv[0], "--proc-type=secondary", "--no-pci", "-l", "0",
		"--log-level=lib.rzone:notice", prefix, NULL };
	static struct stress_ctx c;
	int ret;

	if (argc < 6)
		XFAIL("usage: --stress PREFIX IP PORT SECONDS");
	snprintf(prefix, sizeof(prefix), "--file-prefix=%s", argv[2]);
	if (rte_eal_init(RTE_DIM(eal) - 1, eal) < 0)
		XFAIL("rte_eal_init: %s", rte_strerror(rte_errno));
	if ((ret = rz_init()) != 0)
		XFAIL("rz_init: %d", ret);
	if ((ret = rz_rdma_init(NULL)) != 0)
		XFAIL("rz_rdma_init: %s", strerror(-ret));
	c.ip = argv[3];
	c.port = (uint16_t)atoi(argv[4]);
	c.r = rz_region_create(RZ_PID_SELF, MB2, RZ_PERM_RW);
	if (c.r == NULL || rz_region_map(c.r, RZ_PID_SELF, NULL, RZ_PERM_RW) != 0)
		XFAIL("region: %s", rte_strerror(rte_errno));
	c.pd = rz_peer_connect(c.ip, c.port, TMO);
	c.pw = c.pd == NULL ? NULL : rz_peer_connect(c.ip, c.port, TMO);
	if (c.pd == NULL || c.pw == NULL)
		XFAIL("connect: %s", strerror(rte_errno));
	if ((ret = stress_exchange(&c)) != 0)
		XFAIL("grant exchange: %s", strerror(-ret));
	ret = stress_run(&c, (unsigned int)atoi(argv[5]));
	rz_peer_close(c.pw);
	rz_peer_close(c.pd);
	rz_region_destroy(c.r);
	rz_rdma_fini();
	rz_fini();
	rte_eal_cleanup();
	return ret == 0 ? 0 : 1;
}

static void
test_stress(void)
{
	char port[16], opt[] = "--stress", ip[64], pfx[64], secs[16];
	char *argv[] = { self_exe, opt, pfx, ip, port, secs, NULL };
	static struct stress_ctx c;
	unsigned int seconds = stress_seconds();
	pid_t pid;
	int ret;

	memset(&c, 0, sizeof(c));
	c.primary = true;
	c.r = new_region(MB2, RZ_PERM_RW, 0);
	CU_ASSERT_FATAL(c.r != NULL);
	snprintf(port, sizeof(port), "%u", rz_peer_listener_port(lst));
	snprintf(ip, sizeof(ip), "%s", test_ip);
	snprintf(pfx, sizeof(pfx), "%s", file_prefix);
	snprintf(secs, sizeof(secs), "%u", seconds);
	CU_ASSERT_FATAL(posix_spawn(&pid, self_exe, NULL, NULL, argv, environ) == 0);
	c.pd = accept_peer();
	c.pw = c.pd == NULL ? NULL : accept_peer();
	CU_ASSERT_FATAL(c.pd != NULL && c.pw != NULL);
	ret = stress_exchange(&c);
	CU_ASSERT_EQUAL_FATAL(ret, 0);
	CU_ASSERT_EQUAL(stress_run(&c, seconds), 0);
	if (c.err != 0)
		printf("\n  stress: %s\n", c.why);
	CU_ASSERT_EQUAL(wait_peer(pid), 0);
	printf("\n  stress %u s (RZ_RDMA_STRESS_S): primary workers %" PRIu64 " + %" PRIu64
			" ops, control rounds %" PRIu64 ", max control call %" PRIu64 " us, max "
			"sync write+read %" PRIu64 " us\n", seconds, c.ops[0], c.ops[1],
			c.ctrl_rounds, c.ctrl_max_us, RTE_MAX(c.sync_max_us[0], c.sync_max_us[1]));
	rz_peer_close(c.pw);
	rz_peer_close(c.pd);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(c.r), 0);
}
/* ---------------------------------------------------------------------------------------- */
/* No global stall (issue 11): while a thread of ours is held up in calls about a stalled peer
 * (it takes nothing: grants and messages to it wait up to 100 ms for its door, the first
 * message 5 s), another peer's grant + revoke and local calls (a region's unmap + map into
 * this process, rz_rdma_grant_count()) keep their latency: p99 before and during, asserted
 * within 4 x before + 50 ms (a call that waited for the stalled peer's 100 ms would exceed it
 * when the before p99 is under ~15 ms, as it is in the VM lane). Figures printed. */

#define NOSTALL_ROUNDS	40

struct nostall_bg {
	struct rz_region *r;
	struct rz_peer *p;
	volatile bool stop;
	uint64_t calls, eagain, other;
};

static void *
nostall_bg_main(void *arg)
{
	struct nostall_bg *b = arg;
	struct rz_rdma_desc d;
	int ret;

	while (!b->stop) {
		ret = rz_rdma_grant(b->r, b->p, RZ_MODE_SHARE, 0, 4096, 0, &d);
		b->calls++;
		if (ret == -EAGAIN)
			b->eagain++;
		else if (ret != 0)
			b->other++;
		ret = rz_peer_send_msg(b->p, "x", 1);
		b->calls++;
		if (ret == -EAGAIN)
			b->eagain++;
		else if (ret != 0 && ret != -ETIMEDOUT)
			b->other++;
	}
	return NULL;
}

static uint64_t
p99_of(uint64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_u64);
	return v[(n * 99 + 99) / 100 - 1];
}

static int
nostall_rounds(struct rz_region *r, struct rz_region *r2, struct rz_peer *pb, uint64_t *gr,
		uint64_t *loc)
{
	struct rz_rdma_desc d;
	int i, ret;

	for (i = 0; i < NOSTALL_ROUNDS; i++) {
		uint64_t t0 = now_us();

		ret = rz_rdma_grant(r, pb, RZ_MODE_SHARE, 8192, 4096, 0, &d);
		if (ret == 0)
			ret = rz_rdma_revoke(&d);
		gr[i] = now_us() - t0;
		if (ret != 0)
			return ret;
		t0 = now_us();
		ret = rz_region_unmap(r2, RZ_PID_SELF);
		if (ret == 0)
			ret = rz_region_map(r2, RZ_PID_SELF, NULL, RZ_PERM_RW);
		if (ret == 0 && rz_rdma_grant_count() < 0)
			ret = -EIO;
		loc[i] = now_us() - t0;
		if (ret != 0)
			return ret;
	}
	return 0;
}

static void
test_no_global_stall(void)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0), *r2 = new_region(MB2, RZ_PERM_RW, 0);
	static uint64_t g0[NOSTALL_ROUNDS], l0[NOSTALL_ROUNDS], g1[NOSTALL_ROUNDS],
		l1[NOSTALL_ROUNDS];
	struct nostall_bg bg = { 0 };
	uint64_t pg0, pl0, pg1, pl1;
	struct rz_peer *pa, *pb;
	char n_arg[16], buf[64];
	pthread_t t;
	pid_t a, b;
	int i;

	CU_ASSERT_FATAL(r != NULL && r2 != NULL);
	a = spawn_peer("stall", NULL);
	CU_ASSERT_FATAL(a > 0);
	pa = accept_peer();
	CU_ASSERT_FATAL(pa != NULL);
	snprintf(n_arg, sizeof(n_arg), "%d", 2 * NOSTALL_ROUNDS);
	b = spawn_peer("drain", n_arg);
	CU_ASSERT_FATAL(b > 0);
	pb = accept_peer();
	CU_ASSERT_FATAL(pb != NULL);
	CU_ASSERT_EQUAL_FATAL(nostall_rounds(r, r2, pb, g0, l0), 0);
	/* The stalled peer's door fills first (its 16 slots + 1), then every call waits. */
	bg.r = r;
	bg.p = pa;
	CU_ASSERT_FATAL(pthread_create(&t, NULL, nostall_bg_main, &bg) == 0);
	while (bg.eagain == 0)
		usleep(10000);
	CU_ASSERT_EQUAL(nostall_rounds(r, r2, pb, g1, l1), 0);
	bg.stop = true;
	pthread_join(t, NULL);
	pg0 = p99_of(g0, NOSTALL_ROUNDS);
	pl0 = p99_of(l0, NOSTALL_ROUNDS);
	pg1 = p99_of(g1, NOSTALL_ROUNDS);
	pl1 = p99_of(l1, NOSTALL_ROUNDS);
	printf("\n  another peer's grant+revoke p99 %" PRIu64 " us before, %" PRIu64 " us while "
			"a thread is held up by a stalled peer (%" PRIu64 " calls to it, %" PRIu64
			" -EAGAIN after 100 ms); local unmap+map+count p99 %" PRIu64 " us before, %"
			PRIu64 " us during\n", pg0, pg1, bg.calls, bg.eagain, pl0, pl1);
	CU_ASSERT(bg.eagain > 0);
	CU_ASSERT_EQUAL(bg.other, 0);
	CU_ASSERT(pg1 <= 4 * pg0 + 50000);
	CU_ASSERT(pl1 <= 4 * pl0 + 50000);
	/* The drain peer took its descriptors; the stalled one is let go and closed. */
	CU_ASSERT_EQUAL(rz_peer_recv_msg(pb, buf, TMO), 4);
	CU_ASSERT_EQUAL(rz_peer_send_msg(pb, "bye", 3), 0);
	CU_ASSERT_EQUAL(wait_peer(b), 0);
	kill(a, SIGKILL);
	wait_peer(a);
	rz_peer_close(pa);
	rz_peer_close(pb);
	for (i = 0; i < 3 && rz_rdma_grant_count() != 0; i++)
		rz_rdma_progress();
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(r2), 0);
}

/*
 * Two threads map the same region into the same peer at the same moment, 60 rounds: each round
 * exactly one map succeeds and the other is refused with -EEXIST ("maps it already"), one grant
 * exists, one descriptor goes to the peer. (The check and the grant are under the peer's
 * control lock: the RDMA lock alone is released while the window is bound.)
 */
#define SEED_RACE_ROUNDS 60

struct seed_race {
	struct rz_region *r;
	pid_t id;
	pthread_barrier_t go, done;
	int ret[2];
	int eagain;
	bool quit;
};

static void *
seed_race_thread(void *arg)
{
	struct seed_race *sr = ((void **)arg)[0];
	int k = (int)(intptr_t)((void **)arg)[1];

	for (;;) {
		int ret, tries = 0;

		pthread_barrier_wait(&sr->go);
		if (__atomic_load_n(&sr->quit, __ATOMIC_ACQUIRE))
			return NULL;
		/* -EAGAIN: the peer had not taken the previous descriptor within 100 ms
		 * (documented): again, bounded and counted. */
		while ((ret = rz_region_map(sr->r, sr->id, NULL, RZ_PERM_READ)) == -EAGAIN &&
				++tries < 100)
			__atomic_fetch_add(&sr->eagain, 1, __ATOMIC_RELAXED);
		sr->ret[k] = ret;
		pthread_barrier_wait(&sr->done);
	}
}

static void
test_seed_race(void)
{
	struct seed_race sr = { .r = new_region(MB2, RZ_PERM_RW, 0) };
	void *args[2][2] = { { &sr, (void *)0 }, { &sr, (void *)1 } };
	int both = 0, none = 0, other = 0, grants_bad = 0, round, i;
	char arg[16], buf[64];
	struct rz_peer *p;
	pthread_t t[2];
	pid_t pid;

	CU_ASSERT_FATAL(sr.r != NULL);
	snprintf(arg, sizeof(arg), "%d", SEED_RACE_ROUNDS);
	pid = spawn_peer("drain", arg);
	CU_ASSERT_FATAL(pid > 0);
	p = accept_peer();
	CU_ASSERT_FATAL(p != NULL);
	sr.id = rz_peer_id(p);
	CU_ASSERT_FATAL(pthread_barrier_init(&sr.go, NULL, 3) == 0);
	CU_ASSERT_FATAL(pthread_barrier_init(&sr.done, NULL, 3) == 0);
	for (i = 0; i < 2; i++)
		CU_ASSERT_FATAL(pthread_create(&t[i], NULL, seed_race_thread, args[i]) == 0);
	for (round = 0; round < SEED_RACE_ROUNDS; round++) {
		int ok;

		pthread_barrier_wait(&sr.go);
		pthread_barrier_wait(&sr.done);
		ok = (sr.ret[0] == 0) + (sr.ret[1] == 0);
		if (ok == 2)
			both++;
		else if (ok == 0)
			none++;
		else if (sr.ret[0] != -EEXIST && sr.ret[1] != -EEXIST)
			other++;
		if (rz_rdma_grant_count() != ok)
			grants_bad++;
		if (ok > 0)
			CU_ASSERT_EQUAL(rz_region_unmap(sr.r, sr.id), 0);
		if (ok != 1)
			printf("\n  round %d: %d and %d", round, sr.ret[0], sr.ret[1]);
	}
	__atomic_store_n(&sr.quit, true, __ATOMIC_RELEASE);
	pthread_barrier_wait(&sr.go);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("\n  %d rounds: both mapped %d, neither %d, a loser not -EEXIST %d, grant count "
			"wrong %d; -EAGAIN retried %d\n", SEED_RACE_ROUNDS, both, none, other,
			grants_bad, sr.eagain);
	CU_ASSERT_EQUAL(both, 0);
	CU_ASSERT_EQUAL(none, 0);
	CU_ASSERT_EQUAL(other, 0);
	CU_ASSERT_EQUAL(grants_bad, 0);
	/* The peer took one descriptor a round, no more, no fewer. */
	CU_ASSERT_EQUAL(rz_peer_recv_msg(p, buf, TMO), 4);
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "bye", 3), 0);
	CU_ASSERT_EQUAL(wait_peer(pid), 0);
	rz_peer_close(p);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), 0);
	pthread_barrier_destroy(&sr.go);
	pthread_barrier_destroy(&sr.done);
	CU_ASSERT_EQUAL(rz_region_destroy(sr.r), 0);
}

static const struct rz_test_case cases[] = {
	{ "registration (one MR per arena)", test_register },
	{ "descriptor round trip", test_desc_roundtrip },
	{ "descriptor delivered by the application; telemetry", test_app_delivered_desc },
	{ "Share: write, read, atomics land", test_share_write_lands },
	{ "CoW: remote write refused", test_cow_write_refused },
	{ "sub-range: one byte past fails", test_subrange_one_byte_past },
	{ "revoke: 10000 attempts fail", test_revoke_then_attempts_fail },
	{ "re-bound windows: stale rkeys stay dead", test_rebind_stale_rkeys },
	{ "messages and descriptors keep their order", test_msg_desc_order },
	{ "unsignaled operations: retired in order", test_unsignaled },
	{ "prepared operations: checked once, posted many", test_prepared },
	{ "prepared operations: full queue, refused posts undone, -ENOTCONN after a failure",
		test_prepared_queue },
	{ "remote reap: counts successes, stops before a failure for rz_remote_poll()",
		test_remote_reap },
	{ "revoke one peer, other works", test_revoke_one_peer_other_works },
	{ "a peer that takes nothing holds up nobody", test_stalled_peer },
	{ "expiry revokes", test_expiry },
	{ "dead peer's grants revoked", test_dead_peer_revoked },
	{ "keepalive: a peer that stops answering is declared dead", test_keepalive_mute_peer },
	{ "keepalive: the same, connected with retry count 7", test_keepalive_mute_peer_retry7 },
	{ "keepalive: the same with an ACK timeout of 67 ms", test_keepalive_ack_timeout },
	{ "rkey unpredictability (1024 grants)", test_rkey_entropy },
	{ "kill -9 of a peer mid-transfer", test_kill9_mid_transfer },
	{ "peers in the seed calls", test_peer_seed_calls },
	{ "a secondary registers and posts", test_secondary_posts },
	{ "bad input", test_bad_input },
	{ "limits: max_mr / max_mw refused", test_limits },
	{ "grants revoked before a transfer; B reuses the pages", test_grant_outlives_transfer },
	{ "Move capability refused while the owner holds grants", test_grant_outlives_move },
	{ "owner killed -9 after granting: its grants die with it", test_grant_outlives_kill },
	{ "owner's rz_fini() revokes its grants first", test_grant_outlives_fini },
	{ "rz_rdma_register: only for a read-write mapper", test_register_rights },
	{ "expiry by the monotonic clock", test_expiry_monotonic },
	{ "abuse: SEND flood and garbage, another peer works", test_flood_garbage },
	{ "abuse: connect/disconnect churn, another peer works", test_churn },
	{ "abuse: a peer that never posts receives, another peer works", test_deaf_peer },
	{ "hello of version 1 refused", test_hello_v1_refused },
	{ "concurrency: a stalled peer holds up no other peer, no local call",
		test_no_global_stall },
	{ "concurrency: stress, control from one thread, data from two, to one peer", test_stress },
	{ "concurrency: two threads map one region into one peer at once", test_seed_race },
	{ NULL, NULL },
};

/* Cases that need two hosts (netem on the wire): the wire suite only. */
static const struct rz_test_case wire_only_cases[] = {
	{ "wire: loss 1% and 5%: every operation completes, every byte", test_wire_loss },
	{ "wire: reordered and duplicated packets: no corruption", test_wire_reorder_duplicate },
	{ "wire: link down 2 s, then up", test_wire_link_down },
	{ "wire: partition of 30 s that heals", test_wire_partition },
	/* Last: host B, its peer server with it, is powered off. */
	{ "wire: the peer's host powered off mid-transfer", test_wire_peer_host_off },
	{ NULL, NULL },
};

/* The wire suite's cases (main(), --wire-owner). */
static void (*const wire_cases[])(void) = {
	test_app_delivered_desc, test_share_write_lands, test_cow_write_refused,
	test_subrange_one_byte_past, test_revoke_then_attempts_fail, test_rebind_stale_rkeys,
	test_msg_desc_order, test_unsignaled, test_revoke_one_peer_other_works, test_expiry,
	test_dead_peer_revoked, test_peer_seed_calls, NULL,
};

int
main(int argc, char **argv)
{
	char prefix[96];
	/* The base address of tests/common/rz_test.h: the secondaries of a sanitized build
	 * (grantors, the secondary test) get the primary's addresses (ASan's own mappings took
	 * them otherwise, now and then: "Cannot get a virtual area at requested address"). */
	char *eal[] = { argv[0], "--no-pci", "-l", "0", "--log-level=lib.rzone:notice",
		RZ_TEST_BASE_VA, prefix, NULL };
	struct rz_test_case run[RTE_DIM(cases) + RTE_DIM(wire_only_cases)];
	unsigned int failed;
	bool wire, owner_dies;
	size_t i, k;
	ssize_t n;
	int ret;

	if (argc >= 2 && strcmp(argv[1], "--peer") == 0)
		return peer_main(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "--raw") == 0)
		return raw_main(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "--secondary") == 0)
		return secondary_main(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "--grantor") == 0)
		return grantor_main(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "--stress") == 0)
		return stress_main(argc, argv);
	n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	if (n <= 0) {
		fprintf(stderr, "FAIL: readlink /proc/self/exe\n");
		return 1;
	}
	self_exe[n] = '\0';
	/* The wire suite (devtools/vm/pair.sh): this host serves peers, or owns and uses them. */
	if (argc >= 2 && strcmp(argv[1], "--peer-server") == 0)
		return wire_server_main(self_exe, WIRE_CTL_PORT, 600);
	owner_dies = argc >= 2 && strcmp(argv[1], "--wire-owner-dies") == 0;
	wire = owner_dies || (argc >= 2 && strcmp(argv[1], "--wire-owner") == 0);
	test_ip = getenv(wire ? "RZ_WIRE_SELF" : "RZ_RDMA_TEST_IP");
	if (test_ip == NULL && wire) {
		fprintf(stderr, "FAIL: --wire-owner[-dies] needs RZ_WIRE_SELF and RZ_WIRE_OTHER "
				"(devtools/vm/pair.sh sets them)\n");
		return 1;
	}
	if (test_ip == NULL)
		test_ip = "10.0.2.15";
	if (wire && (getenv("RZ_WIRE_OTHER") == NULL ||
			wire_connect(getenv("RZ_WIRE_OTHER"), WIRE_CTL_PORT, 300) != 0)) {
		fprintf(stderr, "FAIL: no peer server on the other host\n");
		return 1;
	}
	snprintf(file_prefix, sizeof(file_prefix), "rzt-rdma-%d", (int)getpid());
	snprintf(prefix, sizeof(prefix), "--file-prefix=%s", file_prefix);
	if (rte_eal_init(RTE_DIM(eal) - 1, eal) < 0) {
		fprintf(stderr, "FAIL: rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	if (rz_init() != 0) {
		fprintf(stderr, "FAIL: rz_init\n");
		return 1;
	}
	/* The secondary test exercises the import path: both sides opt in (import.c). */
	setenv("RZ_RDMA_IMPORT", "1", 1);
	/* No device is a FAILURE, never a skip. */
	ret = rz_rdma_init(NULL);
	if (ret != 0) {
		fprintf(stderr, "FAIL: rz_rdma_init: %s (no usable RDMA device)\n", strerror(-ret));
		return 1;
	}
	lst = rz_peer_listen(test_ip, 0);
	if (lst == NULL) {
		fprintf(stderr, "FAIL: rz_peer_listen(%s): %s\n", test_ip, strerror(rte_errno));
		return 1;
	}
	printf("rdma device %s, listening on %s:%u\n", rz_rdma_device_name(), test_ip,
			rz_peer_listener_port(lst));
	if (owner_dies)
		return wire_owner_dies();
	/* Across the wire: the cases whose peers only connect, act and report (no signals, no
	 * secondaries, no local process of theirs). */
	for (i = 0, k = 0; cases[i].name != NULL; i++) {
		size_t w;

		for (w = 0; wire && wire_cases[w] != NULL; w++)
			if (cases[i].fn == wire_cases[w])
				break;
		if (!wire || wire_cases[w] != NULL)
			run[k++] = cases[i];
	}
	for (i = 0; wire && wire_only_cases[i].name != NULL; i++)
		run[k++] = wire_only_cases[i];
	run[k] = (struct rz_test_case){ NULL, NULL };
	if (wire)
		printf("wire: peers on %s, %zu cases\n", getenv("RZ_WIRE_OTHER"), k);
	failed = rz_test_run(wire ? "wire" : "rdma", run);
	wire_quit();
	rz_peer_listener_close(lst);
	rz_rdma_fini();
	rz_fini();
	rte_eal_cleanup();
	return failed ? 1 : 0;
}
