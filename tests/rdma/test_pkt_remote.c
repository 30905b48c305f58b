/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * Remote packets on a real RDMA device (Soft-RoCE rxe0 in the VM lane): rzone_pkt_remote.h.
 * Two processes per case: this one, a DPDK primary that owns an mbuf pool in an rzone region
 * (rz_pktmbuf_pool_create()) and the receiving side (a window, or a channel's consumer ring in a
 * region of its own), and a producer: a DPDK secondary of the same instance (the same binary,
 * "--producer PREFIX IP PORT POOL MODE"), given the pool (rz_pktmbuf_pool_share()), connected
 * over rdma_cm, sending mbufs of the shared pool through the descriptor the primary grants it.
 * Its report (struct report) comes back as a message; its exit status is its half's verdict.
 *
 * Packets are deterministic: packet i has pkt_len(i) bytes (64 to 9000), pkt_nseg(i) segments,
 * its first 8 bytes are i and byte j after that is pat(i, j); the receiver checks every byte.
 *
 * Environment: RZ_RDMA_TEST_IP (default 10.0.2.15), RZ_RDMA_DEV, RZ_TEST_ONLY (tests/common).
 */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_malloc.h>
#include <rte_mempool.h>

#include "rz_test.h"
#include "rzone.h"
#include "rzone_pkt.h"
#include "rzone_pkt_remote.h"
#include "rzone_rdma.h"

#define MB2		(2u << 20)
#define TMO		60000	/* ms: everything is slow under TCG */
#define POOL_NAME	"rzt-pkt-remote"
#define POOL_N		2047
#define NSLOTS		64
#define SLOT_SIZE	9216
#define BURST_PKTS	200
#define STREAM_PKTS	3000
#define REVOKE_AFTER	400
#define REGRANT_PKTS	300
#define LANE_PKTS	1500
#define LANE_OFF	(640u << 10)
#define ZC_PKTS		600

extern char **environ;

static const char *test_ip;
static struct rz_peer_listener *lst;
static char self_exe[4096];
static char file_prefix[64];
static struct rte_mempool *pool;

static const uint32_t sizes[] = { 64, 1500, 65, 9000, 512, 100, 1514, 2048, 3000, 128, 4097,
	511, 2049, 64, 7000, 1500 };

static uint32_t
pkt_len(uint64_t i)
{
	return sizes[i % RTE_DIM(sizes)];
}

/* Segments of packet i: 1 to 4, more when the data room (2048) needs them. */
static uint32_t
pkt_nseg(uint64_t i)
{
	uint32_t len = pkt_len(i), n = 1 + (uint32_t)(i % 4), min = (len + 2047) / 2048;

	return n < min ? min : n;
}

static uint8_t
pat(uint64_t i, uint32_t j)
{
	return (uint8_t)(i * 131 + j * 7 + (j >> 8) + 1);
}

/* Does @buf hold packet i (@len bytes)? The index of the first bad byte, or -1. */
static long
pkt_check(uint64_t i, const uint8_t *buf, uint32_t len)
{
	uint64_t id;
	uint32_t j;

	if (len != pkt_len(i))
		return 0;
	memcpy(&id, buf, sizeof(id));
	if (id != i)
		return 0;
	for (j = 8; j < len; j++)
		if (buf[j] != pat(i, j))
			return j;
	return -1;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* What a producer reports (at most 64 bytes: one message). */
struct report {
	int32_t status;		/* 0: its checks passed */
	int32_t err;		/* the error that ended its stream, if any */
	uint64_t accepted;	/* packets accepted */
	uint64_t backpressure;	/* -ENOBUFS seen */
	uint64_t bytes_copied;
	uint64_t freed;
	uint64_t doorbells;
	uint64_t extra;		/* per mode */
	uint32_t head_reads;	/* "zc": its channel's head reads, */
	uint32_t head_reads_empty; /* those that brought no credit (64 bytes: a message's most) */
};
_Static_assert(sizeof(struct report) <= 64, "a report is one rz_peer_send_msg()");

/* ---------------------------------------------------------------------------------------- */
/* Producer side: a DPDK secondary. */

#define PFAIL(...) do { fprintf(stderr, "producer: FAIL: " __VA_ARGS__); \
	fprintf(stderr, "\n"); rep.status = 1; goto report; } while (0)

/* Packet i as a chain of mbufs of @mp, or NULL. */
static struct rte_mbuf *
pkt_build(struct rte_mempool *mp, uint64_t i)
{
	uint32_t len = pkt_len(i), nseg = pkt_nseg(i), per = (len + nseg - 1) / nseg, off = 0;
	struct rte_mbuf *head = NULL, *last = NULL;

	while (off < len) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
		uint32_t n = len - off < per ? len - off : per, j;
		uint8_t *d;

		if (m == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)n);
		for (j = 0; j < n; j++) {
			uint32_t at = off + j;

			d[j] = at < 8 ? (uint8_t)(i >> (8 * at)) : pat(i, at);
		}
		if (head == NULL) {
			head = m;
		} else {
			last->next = m;
			head->nb_segs++;
			head->pkt_len += n;
		}
		last = m;
		off += n;
	}
	return head;
}

static uint32_t
pool_free_count(struct rte_mempool *mp)
{
	return rte_mempool_avail_count(mp);
}

/* Poison the data room of every free mbuf of @mp (all of them, after a flush). */
static void
pool_poison(struct rte_mempool *mp)
{
	struct rte_mbuf *m[64];
	unsigned int n = 0, i;

	while (n < RTE_DIM(m) && (m[n] = rte_pktmbuf_alloc(mp)) != NULL)
		n++;
	for (i = 0; i < n; i++)
		memset(m[i]->buf_addr, 0xdd, m[i]->buf_len);
	for (i = 0; i < n; i++)
		rte_pktmbuf_free(m[i]);
}

/* Send packets [from, to) on channel @c, retrying on backpressure; the first other error. */
static int
stream_send(struct rz_pkt_chan *c, struct rte_mempool *mp, uint64_t from, uint64_t to,
		struct report *rep)
{
	struct rte_mbuf *b[32];
	uint64_t i = from, until = now_ms() + 10 * TMO;
	unsigned int n = 0, k;
	int ret;

	while (i < to || n > 0) {
		while (n < RTE_DIM(b) && i + n < to) {
			b[n] = pkt_build(mp, i + n);
			if (b[n] == NULL)
				break;
			n++;
		}
		ret = rz_pkt_chan_send(c, b, (uint16_t)n);
		if (ret == -ENOBUFS) {
			rep->backpressure++;
			if (now_ms() > until)
				return -ETIMEDOUT;
			usleep(200);
			continue;
		}
		if (ret < 0) {
			for (k = 0; k < n; k++)
				rte_pktmbuf_free(b[k]);
			return ret;
		}
		rep->accepted += (uint64_t)ret;
		i += (uint64_t)ret;
		memmove(b, b + ret, (n - (unsigned int)ret) * sizeof(b[0]));
		n -= (unsigned int)ret;
		if (i >= to && n == 0)
			break;
	}
	return 0;
}

static int
wait_msg(struct rz_peer *p, const char *want)
{
	char m[64];
	int n = rz_peer_recv_msg(p, m, TMO);

	if (n != (int)strlen(want) || memcmp(m, want, (size_t)n) != 0) {
		fprintf(stderr, "producer: expected '%s', got %d\n", want, n);
		return -1;
	}
	return 0;
}

/* One lcore of the "lanes" mode: its own connection and channel. */
struct lane {
	struct rz_peer *p;
	struct rz_rdma_desc d;
	struct rte_mempool *mp;
	struct report rep;
	pthread_t th;
};

static void *
lane_main(void *arg)
{
	struct lane *l = arg;
	struct rz_pkt_chan_stats cs;
	struct rz_pkt_chan *c = rz_pkt_chan_producer_attach(l->p, &l->d);
	int ret;

	if (c == NULL) {
		l->rep.status = 1;
		l->rep.err = -rte_errno;
		return NULL;
	}
	ret = stream_send(c, l->mp, 0, LANE_PKTS, &l->rep);
	if (ret == 0)
		ret = rz_pkt_chan_flush(c, TMO);
	rz_pkt_chan_stats_get(c, &cs);
	l->rep.freed = cs.tx.freed;
	l->rep.status = ret != 0;
	l->rep.err = ret;
	rz_pkt_chan_close(c);
	return NULL;
}

static int
producer_main(int argc, char **argv)
{
	char prefix[96];
	char *eal[] = { argv[0], "--proc-type=secondary", "--no-pci", "-l", "0",
		"--log-level=lib.rzone:notice", RZ_TEST_BASE_VA, prefix, NULL };
	struct rz_pkt_tx_stats ts;
	struct rz_pkt_chan_stats cs;
	struct rz_pkt_chan *c = NULL;
	struct rz_pkt_tx *tx = NULL;
	struct rte_mempool *mp, *plain;
	struct rz_rdma_desc d;
	struct rz_peer *p = NULL;
	struct report rep;
	const char *mode;
	uint32_t free0;
	uint16_t port;
	int ret;

	memset(&rep, 0, sizeof(rep));
	if (argc < 7) {
		fprintf(stderr, "usage: --producer PREFIX IP PORT POOL MODE\n");
		return 1;
	}
	mode = argv[6];
	port = (uint16_t)atoi(argv[4]);
	snprintf(prefix, sizeof(prefix), "--file-prefix=%s", argv[2]);
	if (rte_eal_init(RTE_DIM(eal) - 1, eal) < 0) {
		fprintf(stderr, "producer: rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	if (rz_init() != 0 || rz_rdma_init(NULL) != 0) {
		fprintf(stderr, "producer: rz_init / rz_rdma_init failed\n");
		return 1;
	}
	p = rz_peer_connect(argv[3], port, TMO);
	if (p == NULL) {
		fprintf(stderr, "producer: connect: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	if (wait_msg(p, "pool") != 0)
		PFAIL("no pool message");
	mp = rz_pktmbuf_pool_attach(argv[5]);
	if (mp == NULL)
		PFAIL("rz_pktmbuf_pool_attach: %s", rte_strerror(rte_errno));
	ret = rz_pktmbuf_pool_rdma_register(mp);
	if (ret != 0)
		PFAIL("rz_pktmbuf_pool_rdma_register: %s", strerror(-ret));
	ret = rz_peer_recv_desc(p, &d, TMO);
	if (ret != 0)
		PFAIL("descriptor: %s", strerror(-ret));
	free0 = pool_free_count(mp);

	if (strcmp(mode, "burst") == 0) {
		/* rz_pkt_tx_send(): bursts of 16 into the window, packet i at off[i]. */
		uint64_t off[BURST_PKTS], o = 0, i;

		for (i = 0; i < BURST_PKTS; i++) {
			off[i] = o;
			o += RTE_ALIGN_CEIL(pkt_len(i), 64);
		}
		if (o > d.length)
			PFAIL("window too small: %" PRIu64 " < %" PRIu64, d.length, o);
		tx = rz_pkt_tx_create(p);
		if (tx == NULL)
			PFAIL("rz_pkt_tx_create: %s", rte_strerror(rte_errno));
		for (i = 0; i < BURST_PKTS; i += 16) {
			struct rte_mbuf *b[16];
			unsigned int k, nb = (unsigned int)RTE_MIN((uint64_t)16, BURST_PKTS - i);

			for (k = 0; k < nb; k++)
				if ((b[k] = pkt_build(mp, i + k)) == NULL)
					PFAIL("mbuf alloc");
			ret = rz_pkt_tx_send(tx, &d, off + i, b, (uint16_t)nb);
			if (ret != (int)nb)
				PFAIL("rz_pkt_tx_send: %d", ret);
			rz_pkt_tx_stats_get(tx, &ts);
			/* An mbuf goes back to the pool only when the sender frees it. */
			{
				uint64_t held = 0, pk;

				for (pk = ts.freed; pk < ts.pkts; pk++)
					held += pkt_nseg(pk);
				if (pool_free_count(mp) + held != free0)
					PFAIL("pool holds %u free, %" PRIu64 " in flight, "
							"%u before", pool_free_count(mp), held,
							free0);
			}
		}
		ret = rz_pkt_tx_flush(tx, TMO);
		if (ret != 0)
			PFAIL("flush: %s", strerror(-ret));
		rz_pkt_tx_stats_get(tx, &ts);
		if (pool_free_count(mp) != free0)
			PFAIL("after the flush %u free, %u before", pool_free_count(mp), free0);
		/* The device is done with them: whatever the pool's data rooms hold now cannot
		 * change what the remote got. */
		pool_poison(mp);
		rep.accepted = ts.pkts;
		rep.bytes_copied = ts.bytes_copied;
		rep.freed = ts.freed;
		rep.doorbells = ts.doorbells;
		rep.extra = ts.bytes;
	} else if (strcmp(mode, "stream") == 0) {
		c = rz_pkt_chan_producer_attach(p, &d);
		if (c == NULL)
			PFAIL("attach: %s", rte_strerror(rte_errno));
		ret = stream_send(c, mp, 0, STREAM_PKTS, &rep);
		if (ret != 0)
			PFAIL("stream: %s", strerror(-ret));
		ret = rz_pkt_chan_flush(c, TMO);
		if (ret != 0)
			PFAIL("flush: %s", strerror(-ret));
		rz_pkt_chan_stats_get(c, &cs);
		rep.bytes_copied = cs.tx.bytes_copied;
		rep.freed = cs.tx.freed;
		rep.doorbells = cs.tx.doorbells;
		rep.extra = cs.head_reads;
		if (cs.tx.inflight != 0)
			PFAIL("%" PRIu64 " in flight after the flush", cs.tx.inflight);
	} else if (strcmp(mode, "revoke") == 0) {
		/* Stream until the consumer revokes; then a new connection, a new grant, and the
		 * numbering goes on from what was accepted. */
		c = rz_pkt_chan_producer_attach(p, &d);
		if (c == NULL)
			PFAIL("attach: %s", rte_strerror(rte_errno));
		ret = stream_send(c, mp, 0, UINT64_MAX >> 1, &rep);
		rep.err = ret;
		rz_pkt_chan_stats_get(c, &cs);
		rz_pkt_chan_close(c);
		c = NULL;
		rep.freed = cs.tx.freed;
		/* Everything accepted came back, through completions (or their flush). */
		if (pool_free_count(mp) != free0)
			PFAIL("after the revoke %u free, %u before", pool_free_count(mp), free0);
		rz_peer_close(p);
		p = rz_peer_connect(argv[3], port, TMO);
		if (p == NULL)
			PFAIL("reconnect: %s", rte_strerror(rte_errno));
		ret = rz_peer_recv_desc(p, &d, TMO);
		if (ret != 0)
			PFAIL("second descriptor: %s", strerror(-ret));
		c = rz_pkt_chan_producer_attach(p, &d);
		if (c == NULL)
			PFAIL("attach again: %s", rte_strerror(rte_errno));
		rep.extra = rep.accepted;
		ret = stream_send(c, mp, rep.accepted, rep.accepted + REGRANT_PKTS, &rep);
		if (ret != 0)
			PFAIL("stream after the new grant: %s", strerror(-ret));
		ret = rz_pkt_chan_flush(c, TMO);
		if (ret != 0)
			PFAIL("flush: %s", strerror(-ret));
	} else if (strcmp(mode, "zc") == 0) {
		/* A consumer that takes zero-copy and holds its mbufs: backpressure until it
		 * frees them, then the stream goes on. */
		struct rte_mbuf *b[1];

		c = rz_pkt_chan_producer_attach(p, &d);
		if (c == NULL)
			PFAIL("attach: %s", rte_strerror(rte_errno));
		/* Zero-copy receive is the consumer's: refused on a producer end. */
		ret = rz_pkt_chan_recv_zc(c, mp, b, 1);
		if (ret != -EINVAL)
			PFAIL("recv_zc on a producer end: %d, not -EINVAL", ret);
		rep.extra = now_ms();	/* then: how long its stream took, ms */
		ret = stream_send(c, mp, 0, ZC_PKTS, &rep);
		if (ret != 0)
			PFAIL("stream: %s", strerror(-ret));
		ret = rz_pkt_chan_flush(c, TMO);
		if (ret != 0)
			PFAIL("flush: %s", strerror(-ret));
		rep.extra = now_ms() - rep.extra;
		rz_pkt_chan_stats_get(c, &cs);
		rep.bytes_copied = cs.tx.bytes_copied;
		rep.freed = cs.tx.freed;
		rep.head_reads = (uint32_t)cs.head_reads;
		rep.head_reads_empty = (uint32_t)cs.head_reads_empty;
	} else if (strcmp(mode, "lanes") == 0) {
		/* Two lcores, two connections, two channels, at the same time. */
		struct lane l[2];

		l[0].p = p;
		l[0].d = d;
		l[1].p = rz_peer_connect(argv[3], port, TMO);
		if (l[1].p == NULL)
			PFAIL("second connection: %s", rte_strerror(rte_errno));
		ret = rz_peer_recv_desc(l[1].p, &l[1].d, TMO);
		if (ret != 0)
			PFAIL("second descriptor: %s", strerror(-ret));
		for (ret = 0; ret < 2; ret++) {
			l[ret].mp = mp;
			memset(&l[ret].rep, 0, sizeof(l[ret].rep));
			if (pthread_create(&l[ret].th, NULL, lane_main, &l[ret]) != 0)
				PFAIL("pthread_create");
		}
		for (ret = 0; ret < 2; ret++)
			pthread_join(l[ret].th, NULL);
		rz_peer_close(l[1].p);
		for (ret = 0; ret < 2; ret++) {
			if (l[ret].rep.status != 0)
				PFAIL("lane %d: %s", ret, strerror(-l[ret].rep.err));
			rep.accepted += l[ret].rep.accepted;
			rep.backpressure += l[ret].rep.backpressure;
			rep.freed += l[ret].rep.freed;
		}
	} else if (strcmp(mode, "bad") == 0) {
		struct rte_mbuf *b[2];
		uint64_t n = 0, until;

		c = rz_pkt_chan_producer_attach(p, &d);
		if (c == NULL)
			PFAIL("attach: %s", rte_strerror(rte_errno));
		/* An mbuf of a pool that is not an rzone pool: refused, still ours. */
		plain = rte_pktmbuf_pool_create("rzt-plain", 63, 0, 0, 2176, SOCKET_ID_ANY);
		if (plain == NULL)
			PFAIL("plain pool: %s", rte_strerror(rte_errno));
		b[0] = rte_pktmbuf_alloc(plain);
		rte_pktmbuf_append(b[0], 100);
		if ((ret = rz_pkt_chan_send(c, b, 1)) != -EINVAL)
			PFAIL("mbuf of a plain pool: %d", ret);
		if (rte_mbuf_refcnt_read(b[0]) != 1)
			PFAIL("the refused mbuf was touched");
		/* A good one then the plain one: 1 accepted, the second stays ours. */
		b[1] = b[0];
		b[0] = pkt_build(mp, 0);
		if ((ret = rz_pkt_chan_send(c, b, 2)) != 1)
			PFAIL("good + plain: %d", ret);
		rte_pktmbuf_free(b[1]);
		n = 1;
		/* Someone else's asynchronous posts on the channel's connection (the header
		 * says not to): the channel's own count cannot see them, the peer's send queue
		 * does. With a full unsignaled run there, the channel's chain is refused whole
		 * (-ENOBUFS: nothing posted, the packet still the caller's, nothing counted but
		 * the backpressure); once a signaled one is posted and completes (the channel's
		 * reap skips it, not its own) the same packet goes, in sequence. */
		{
			static uint8_t scratch[4096] __rte_aligned(4096);
			struct rz_pkt_chan_stats s0, s1;
			struct rz_rdma_mem sm;
			struct rz_remote_op op = {
				.opcode = RZ_REMOTE_READ, .local = &sm, .remote = &d, .len = 64,
				.flags = RZ_REMOTE_F_UNSIGNALED,
			};
			int k;

			if ((ret = rz_rdma_register_mem(scratch, sizeof(scratch), &sm)) != 0)
				PFAIL("register scratch: %s", strerror(-ret));
			for (k = 0; k < RZ_REMOTE_UNSIGNALED_MAX; k++) {
				op.wr_id = (UINT64_C(1) << 40) + (uint64_t)k;
				if ((ret = rz_remote_post(p, &op)) != 0)
					PFAIL("foreign unsignaled read %d: %d", k, ret);
			}
			b[0] = pkt_build(mp, n);
			rz_pkt_chan_stats_get(c, &s0);
			if ((ret = rz_pkt_chan_send(c, b, 1)) != -ENOBUFS)
				PFAIL("send on a full unsignaled run: %d, want -ENOBUFS", ret);
			rz_pkt_chan_stats_get(c, &s1);
			if (rte_mbuf_refcnt_read(b[0]) != 1 ||
					s1.tx.doorbells != s0.tx.doorbells ||
					s1.tx.wrs != s0.tx.wrs || s1.tx.pkts != s0.tx.pkts ||
					s1.tx.backpressure != s0.tx.backpressure + 1)
				PFAIL("refused chain changed something: refcnt %u, doorbells "
						"%" PRIu64 " -> %" PRIu64 ", wrs %" PRIu64 " -> %"
						PRIu64, rte_mbuf_refcnt_read(b[0]),
						s0.tx.doorbells, s1.tx.doorbells, s0.tx.wrs,
						s1.tx.wrs);
			op.flags = 0;
			op.wr_id = (UINT64_C(1) << 40) + (uint64_t)k;
			if ((ret = rz_remote_post(p, &op)) != 0)
				PFAIL("foreign signaled read: %d", ret);
			until = now_ms() + TMO;
			while ((ret = rz_pkt_chan_send(c, b, 1)) == -ENOBUFS && now_ms() < until)
				usleep(1000);
			if (ret != 1)
				PFAIL("send after the foreign run completed: %d", ret);
			n++;
			/* In order on the RC connection: the foreign reads are done when the
			 * channel's requests after them are. */
			if ((ret = rz_pkt_chan_flush(c, TMO)) != 0)
				PFAIL("flush after the foreign run: %s", strerror(-ret));
			if ((ret = rz_rdma_deregister_mem(&sm)) != 0)
				PFAIL("deregister scratch: %s", strerror(-ret));
		}
		/* Larger than a slot's payload. */
		b[0] = rte_pktmbuf_alloc(mp);
		b[0]->next = rte_pktmbuf_alloc(mp);
		b[0]->next->next = rte_pktmbuf_alloc(mp);
		b[0]->next->next->next = rte_pktmbuf_alloc(mp);
		b[0]->next->next->next->next = rte_pktmbuf_alloc(mp);
		b[0]->nb_segs = 5;
		{
			struct rte_mbuf *s;

			for (s = b[0]; s != NULL; s = s->next)
				s->data_len = 2000;
		}
		b[0]->pkt_len = 10000;
		if ((ret = rz_pkt_chan_send(c, b, 1)) != -EMSGSIZE)
			PFAIL("oversize: %d", ret);
		rte_pktmbuf_free(b[0]);
		if ((ret = rz_pkt_chan_send(c, NULL, 1)) != -EINVAL)
			PFAIL("NULL: %d", ret);
		/* A consumer that takes nothing: exactly NSLOTS accepted, then -ENOBUFS, no
		 * overwrite. */
		until = now_ms() + TMO;
		while (now_ms() < until) {
			b[0] = pkt_build(mp, n);
			ret = rz_pkt_chan_send(c, b, 1);
			if (ret == 1) {
				n++;
				continue;
			}
			rte_pktmbuf_free(b[0]);
			if (ret != -ENOBUFS)
				PFAIL("filling: %d", ret);
			rep.backpressure++;
			if (n == NSLOTS && rep.backpressure > 200)
				break;
			usleep(1000);
		}
		rep.accepted = n;
		if (rz_pkt_chan_flush(c, TMO) != 0)
			PFAIL("flush");
		if (rz_peer_send_msg(p, "full", 4) != 0 || wait_msg(p, "closed") != 0)
			PFAIL("full/closed");
		/* The consumer closed its end: the next head read says so. */
		until = now_ms() + TMO;
		do {
			b[0] = pkt_build(mp, n);
			ret = rz_pkt_chan_send(c, b, 1);
			if (ret != 1)
				rte_pktmbuf_free(b[0]);
			usleep(1000);
		} while (ret == -ENOBUFS && now_ms() < until);
		rep.err = ret;
		rte_mempool_free(plain);
	} else {
		PFAIL("unknown mode %s", mode);
	}
report:
	if (c != NULL)
		rz_pkt_chan_close(c);
	if (tx != NULL)
		rz_pkt_tx_free(tx);
	if (p != NULL) {
		if (rz_peer_send_msg(p, &rep, sizeof(rep)) != 0)
			rep.status = 1;
		/* Connected until the primary has read the report and checked the ring. */
		wait_msg(p, "bye");
		rz_peer_close(p);
	}
	rz_rdma_fini();
	rz_fini();
	rte_eal_cleanup();
	return rep.status;
}

/* ---------------------------------------------------------------------------------------- */
/* Primary side. */

static pid_t
spawn_producer(const char *mode)
{
	char port[16], opt[] = "--producer", ip[64], pfx[64], pn[64], md[32];
	char *argv[] = { self_exe, opt, pfx, ip, port, pn, md, NULL };
	pid_t pid;

	snprintf(port, sizeof(port), "%u", rz_peer_listener_port(lst));
	snprintf(ip, sizeof(ip), "%s", test_ip);
	snprintf(pfx, sizeof(pfx), "%s", file_prefix);
	snprintf(pn, sizeof(pn), "%s", POOL_NAME);
	snprintf(md, sizeof(md), "%s", mode);
	if (posix_spawn(&pid, self_exe, NULL, NULL, argv, environ) != 0)
		return -1;
	return pid;
}

static int
wait_pid(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Accept the producer @pid, give it the pool. */
static struct rz_peer *
accept_producer(pid_t pid)
{
	struct rz_peer *p = rz_peer_accept(lst, TMO);
	int ret;

	if (p == NULL) {
		fprintf(stderr, "accept: %s\n", rte_strerror(rte_errno));
		return NULL;
	}
	ret = rz_pktmbuf_pool_share(pool, pid);
	if (ret != 0)
		fprintf(stderr, "rz_pktmbuf_pool_share: %s\n", strerror(-ret));
	CU_ASSERT_EQUAL(ret, 0);
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "pool", 4), 0);
	return p;
}

static struct rz_region *
new_region(size_t size)
{
	struct rz_region *r = rz_region_create(RZ_PID_SELF, size, RZ_PERM_RW);

	if (r == NULL)
		return NULL;
	if (rz_region_map(r, RZ_PID_SELF, NULL, RZ_PERM_RW) != 0 &&
			rz_region_get_mapping(r, RZ_PID_SELF) == NULL)
		return NULL;
	memset(rz_region_addr(r), 0, size);
	return r;
}

static int
get_report(struct rz_peer *p, struct report *rep)
{
	int n = rz_peer_recv_msg(p, rep, TMO);

	CU_ASSERT_EQUAL(n, (int)sizeof(*rep));
	if (n != (int)sizeof(*rep)) {
		memset(rep, 0, sizeof(*rep));
		rep->status = -1;
		return -1;
	}
	return 0;
}

static void
finish(struct rz_peer *p, pid_t pid)
{
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "bye", 3), 0);
	CU_ASSERT_EQUAL(wait_pid(pid), 0);
	rz_peer_close(p);
	/* The producer's mapping of the pool's region went with it. */
}

/* Burst send of mixed-size multi-segment mbufs, verified byte for byte; mbufs back in the pool
 * only through their completions; nothing copied; the pool poisoned after the completions
 * changes nothing. */
static void
test_burst(void)
{
	struct rz_region *r = new_region(MB2);
	uint64_t o = 0, i, bytes = 0;
	struct rz_rdma_desc d;
	struct report rep;
	struct rz_peer *p;
	long bad;
	int wrong = 0;
	pid_t pid;

	CU_ASSERT_FATAL(r != NULL);
	pid = spawn_producer("burst");
	CU_ASSERT_FATAL(pid > 0);
	p = accept_producer(pid);
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL_FATAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, 0, MB2, 0, &d), 0);
	CU_ASSERT_FATAL(get_report(p, &rep) == 0);
	CU_ASSERT_EQUAL(rep.status, 0);
	for (i = 0; i < BURST_PKTS; i++) {
		bad = pkt_check(i, (uint8_t *)rz_region_addr(r) + o, pkt_len(i));
		if (bad >= 0 && wrong++ < 5)
			printf("\n  packet %" PRIu64 " (%u bytes, %u segments) wrong at byte %ld",
					i, pkt_len(i), pkt_nseg(i), bad);
		bytes += pkt_len(i);
		o += RTE_ALIGN_CEIL(pkt_len(i), 64);
	}
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT_EQUAL(rep.accepted, BURST_PKTS);
	CU_ASSERT_EQUAL(rep.freed, BURST_PKTS);
	CU_ASSERT_EQUAL(rep.bytes_copied, 0);
	CU_ASSERT_EQUAL(rep.extra, bytes);
	/* One doorbell per burst of 16. */
	CU_ASSERT_EQUAL(rep.doorbells, BURST_PKTS / 16 + (BURST_PKTS % 16 != 0));
	printf("\n  %d packets, %" PRIu64 " bytes, %" PRIu64 " doorbells, %" PRIu64
			" bytes copied\n", BURST_PKTS, bytes, rep.doorbells, rep.bytes_copied);
	CU_ASSERT_EQUAL(rz_rdma_revoke(&d), 0);
	finish(p, pid);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

/* Take up to @max packets from @c, checking each is the next of *@next; slow: every 64 a pause.
 * Every other round through rz_pkt_chan_recv() (copied into mbufs of the pool). Ends after
 * @idle_ms without a packet if > 0. */
static int
drain(struct rz_pkt_chan *c, uint64_t *next, uint64_t max, bool slow, bool allow_gap,
		uint64_t *gaps, int *wrong, uint64_t idle_ms)
{
	struct rz_pkt_chan_slot sl[32];
	struct rte_mbuf *m[32];
	int n, i, round = 0;
	uint64_t got = 0, until = now_ms() + 10 * TMO, last = now_ms();

	while (got < max && now_ms() < until) {
		if (idle_ms > 0 && now_ms() - last > idle_ms)
			break;
		uint16_t want = (uint16_t)RTE_MIN((uint64_t)RTE_DIM(sl), max - got);

		if ((round++ & 1) == 0) {
			n = rz_pkt_chan_peek(c, sl, want);
			if (n < 0)
				return n;
			for (i = 0; i < n; i++) {
				uint64_t id;

				memcpy(&id, sl[i].data, sizeof(id));
				if (allow_gap && id > *next) {
					(*gaps) += id - *next;
					*next = id;
				}
				if (pkt_check(*next, sl[i].data, sl[i].len) >= 0 && (*wrong)++ < 5)
					printf("\n  slot %" PRIu64 ": packet %" PRIu64
							" wrong (id %" PRIu64 ", %u bytes)",
							sl[i].seq, *next, id, sl[i].len);
				(*next)++;
			}
			CU_ASSERT_EQUAL(rz_pkt_chan_release(c, (uint16_t)n), 0);
		} else {
			n = rz_pkt_chan_recv(c, pool, m, want);
			if (n < 0)
				return n;
			for (i = 0; i < n; i++) {
				uint8_t buf[9000];
				const uint8_t *d = rte_pktmbuf_read(m[i], 0, m[i]->pkt_len, buf);
				uint64_t id;

				memcpy(&id, d, sizeof(id));
				if (allow_gap && id > *next) {
					(*gaps) += id - *next;
					*next = id;
				}
				if (pkt_check(*next, d, m[i]->pkt_len) >= 0 && (*wrong)++ < 5)
					printf("\n  mbuf: packet %" PRIu64 " wrong", *next);
				(*next)++;
				rte_pktmbuf_free(m[i]);
			}
		}
		got += (uint64_t)n;
		if (n > 0)
			last = now_ms();
		if (n == 0)
			usleep(500);
		if (slow && n > 0 && (*next % 64) < (uint64_t)n)
			usleep(20000);
	}
	return (int)got;
}

/* A stream of sequence-numbered packets through a channel with a slow consumer: backpressure,
 * no loss, no duplicate, every byte. */
static void
test_stream(void)
{
	struct rz_region *r = new_region(MB2);
	struct rz_pkt_chan_stats cs;
	struct rz_pkt_chan *c;
	struct rz_rdma_desc d;
	uint64_t next = 0, gaps = 0, t0;
	struct report rep;
	struct rz_peer *p;
	int wrong = 0, n;
	pid_t pid;

	CU_ASSERT_FATAL(r != NULL);
	c = rz_pkt_chan_consumer_create(r, 0, NSLOTS, SLOT_SIZE);
	CU_ASSERT_FATAL(c != NULL);
	pid = spawn_producer("stream");
	CU_ASSERT_FATAL(pid > 0);
	p = accept_producer(pid);
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL_FATAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, 0,
			rz_pkt_chan_window_size(NSLOTS, SLOT_SIZE), 0, &d), 0);
	t0 = now_ms();
	n = drain(c, &next, STREAM_PKTS, true, false, &gaps, &wrong, 0);
	CU_ASSERT_EQUAL(n, STREAM_PKTS);
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT_EQUAL(next, STREAM_PKTS);
	CU_ASSERT_FATAL(get_report(p, &rep) == 0);
	CU_ASSERT_EQUAL(rep.status, 0);
	CU_ASSERT_EQUAL(rep.accepted, STREAM_PKTS);
	CU_ASSERT_EQUAL(rep.freed, STREAM_PKTS);
	CU_ASSERT_EQUAL(rep.bytes_copied, 0);
	CU_ASSERT(rep.backpressure > 0);	/* the consumer was slower than the ring */
	CU_ASSERT(rep.extra > 0);		/* head reads */
	/* Nothing more, no duplicate. */
	CU_ASSERT_EQUAL(rz_pkt_chan_peek(c, NULL, 0), 0);
	CU_ASSERT_EQUAL(rz_pkt_chan_stats_get(c, &cs), 0);
	CU_ASSERT_EQUAL(cs.rx_pkts, STREAM_PKTS);
	CU_ASSERT_EQUAL(cs.rx_bad, 0);
	CU_ASSERT(cs.rx_bytes_copied > 0 && cs.rx_bytes_copied < cs.rx_bytes);
	printf("\n  %d packets in %" PRIu64 " ms, producer: %" PRIu64 " backpressure, %" PRIu64
			" head reads, %" PRIu64 " doorbells, %" PRIu64 " bytes copied; consumer: %"
			PRIu64 " bytes, %" PRIu64 " copied into mbufs by rz_pkt_chan_recv()\n",
			STREAM_PKTS, now_ms() - t0, rep.backpressure, rep.extra, rep.doorbells,
			rep.bytes_copied, cs.rx_bytes, cs.rx_bytes_copied);
	CU_ASSERT_EQUAL(rz_rdma_revoke(&d), 0);
	finish(p, pid);
	CU_ASSERT_EQUAL(rz_pkt_chan_close(c), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

/* Revoke mid-stream: the producer stops with -EACCES; the consumer drains exactly what was
 * published, every packet whole and in order; a new connection and grant go on. */
static void
test_revoke(void)
{
	struct rz_region *r = new_region(MB2);
	size_t wlen = rz_pkt_chan_window_size(NSLOTS, SLOT_SIZE);
	uint64_t next = 0, gaps = 0, before, after;
	struct rz_pkt_chan_stats cs;
	struct rz_pkt_chan *c;
	struct rz_rdma_desc d;
	struct report rep;
	struct rz_peer *p, *p2;
	int wrong = 0, n;
	pid_t pid;

	CU_ASSERT_FATAL(r != NULL);
	c = rz_pkt_chan_consumer_create(r, 0, NSLOTS, SLOT_SIZE);
	CU_ASSERT_FATAL(c != NULL);
	pid = spawn_producer("revoke");
	CU_ASSERT_FATAL(pid > 0);
	p = accept_producer(pid);
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL_FATAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, 0, wlen, 0, &d), 0);
	n = drain(c, &next, REVOKE_AFTER, false, false, &gaps, &wrong, 0);
	CU_ASSERT_EQUAL(n, REVOKE_AFTER);
	/* Mid-stream: the producer is writing (the ring is full or filling). */
	CU_ASSERT_EQUAL(rz_rdma_revoke(&d), 0);
	/* What was published before the revoke is there, whole. */
	n = drain(c, &next, NSLOTS * 2, false, false, &gaps, &wrong, 1000);
	CU_ASSERT(n >= 0 && n <= NSLOTS);
	before = next;
	CU_ASSERT_EQUAL(wrong, 0);
	/* A new connection, a new grant: the stream resumes at the consumer's tail. */
	p2 = rz_peer_accept(lst, TMO);
	CU_ASSERT_FATAL(p2 != NULL);
	CU_ASSERT_EQUAL_FATAL(rz_rdma_grant(r, p2, RZ_MODE_SHARE, 0, wlen, 0, &d), 0);
	n = drain(c, &next, REGRANT_PKTS, false, true, &gaps, &wrong, 0);
	CU_ASSERT_EQUAL(n, REGRANT_PKTS);
	after = next;
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT_FATAL(get_report(p2, &rep) == 0);
	CU_ASSERT_EQUAL(rep.status, 0);
	CU_ASSERT_EQUAL(rep.err, -EACCES);
	/* Losses only where the revoke cut: accepted before it, never published. */
	CU_ASSERT_EQUAL(rep.extra, before + gaps);
	CU_ASSERT_EQUAL(after, rep.extra + REGRANT_PKTS);
	CU_ASSERT_EQUAL(rz_pkt_chan_stats_get(c, &cs), 0);
	CU_ASSERT_EQUAL(cs.rx_bad, 0);
	CU_ASSERT_EQUAL(cs.rx_bad_tail, 0);
	printf("\n  revoked after %" PRIu64 " packets taken; %" PRIu64 " published before the "
			"revoke; %" PRIu64 " accepted by the producer before -EACCES (%" PRIu64
			" lost in the cut); %d after the new grant\n", (uint64_t)REVOKE_AFTER,
			before, rep.extra, gaps, REGRANT_PKTS);
	CU_ASSERT_EQUAL(rz_rdma_revoke(&d), 0);
	rz_peer_close(p);
	finish(p2, pid);
	CU_ASSERT_EQUAL(rz_pkt_chan_close(c), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

/* Many lcores = many channels: two producer threads, each its own connection and channel,
 * into two rings drained together; each stream whole and in order. */
static void
test_lanes(void)
{
	struct rz_region *r = new_region(MB2);
	size_t wlen = rz_pkt_chan_window_size(NSLOTS, SLOT_SIZE);
	struct rz_pkt_chan_slot sl[32];
	struct rz_pkt_chan *c[2];
	struct rz_rdma_desc d[2];
	uint64_t next[2] = { 0, 0 }, until;
	struct rz_peer *p, *p2;
	struct report rep;
	int wrong = 0, bad = 0, i, k, n;
	pid_t pid;

	CU_ASSERT_FATAL(r != NULL);
	c[0] = rz_pkt_chan_consumer_create(r, 0, NSLOTS, SLOT_SIZE);
	c[1] = rz_pkt_chan_consumer_create(r, LANE_OFF, NSLOTS, SLOT_SIZE);
	CU_ASSERT_FATAL(c[0] != NULL && c[1] != NULL);
	pid = spawn_producer("lanes");
	CU_ASSERT_FATAL(pid > 0);
	p = accept_producer(pid);
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL_FATAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, 0, wlen, 0, &d[0]), 0);
	p2 = rz_peer_accept(lst, TMO);
	CU_ASSERT_FATAL(p2 != NULL);
	CU_ASSERT_EQUAL_FATAL(rz_rdma_grant(r, p2, RZ_MODE_SHARE, LANE_OFF, wlen, 0, &d[1]), 0);
	until = now_ms() + 10 * TMO;
	while ((next[0] < LANE_PKTS || next[1] < LANE_PKTS) && now_ms() < until) {
		for (k = 0; k < 2; k++) {
			n = rz_pkt_chan_peek(c[k], sl, RTE_DIM(sl));
			bad += n < 0;
			for (i = 0; i < n; i++)
				wrong += pkt_check(next[k]++, sl[i].data, sl[i].len) >= 0;
			if (n > 0)
				bad += rz_pkt_chan_release(c[k], (uint16_t)n) != 0;
		}
	}
	CU_ASSERT_EQUAL(next[0], LANE_PKTS);
	CU_ASSERT_EQUAL(next[1], LANE_PKTS);
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_FATAL(get_report(p, &rep) == 0);
	CU_ASSERT_EQUAL(rep.status, 0);
	CU_ASSERT_EQUAL(rep.accepted, 2 * LANE_PKTS);
	CU_ASSERT_EQUAL(rep.freed, 2 * LANE_PKTS);
	printf("\n  2 lanes x %d packets, %" PRIu64 " backpressure\n", LANE_PKTS,
			rep.backpressure);
	CU_ASSERT_EQUAL(rz_rdma_revoke(&d[0]), 0);
	CU_ASSERT_EQUAL(rz_rdma_revoke(&d[1]), 0);
	rz_peer_close(p2);
	finish(p, pid);
	CU_ASSERT_EQUAL(rz_pkt_chan_close(c[0]), 0);
	CU_ASSERT_EQUAL(rz_pkt_chan_close(c[1]), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

/* Bad input: an mbuf of a plain pool, an oversize packet, a ring full (a consumer that takes
 * nothing: no overwrite), a consumer that closes (-EPIPE). */
static void
test_bad(void)
{
	struct rz_region *r = new_region(MB2);
	struct rz_pkt_chan_slot sl[NSLOTS];
	struct rz_pkt_chan *c;
	struct rz_rdma_desc d;
	struct report rep;
	struct rz_peer *p;
	char m[64];
	int i, n, wrong = 0;
	pid_t pid;

	CU_ASSERT_FATAL(r != NULL);
	c = rz_pkt_chan_consumer_create(r, 0, NSLOTS, SLOT_SIZE);
	CU_ASSERT_FATAL(c != NULL);
	pid = spawn_producer("bad");
	CU_ASSERT_FATAL(pid > 0);
	p = accept_producer(pid);
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL_FATAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, 0,
			rz_pkt_chan_window_size(NSLOTS, SLOT_SIZE), 0, &d), 0);
	CU_ASSERT_EQUAL(rz_peer_recv_msg(p, m, TMO), 4);
	/* Full: exactly the ring, packets 0..NSLOTS-1, none overwritten. */
	n = rz_pkt_chan_peek(c, sl, NSLOTS);
	CU_ASSERT_EQUAL(n, NSLOTS);
	for (i = 0; i < n; i++)
		wrong += pkt_check((uint64_t)i, sl[i].data, sl[i].len) >= 0;
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT_EQUAL(rz_pkt_chan_release(c, (uint16_t)(n + 1)), -EINVAL);
	CU_ASSERT_EQUAL(rz_pkt_chan_close(c), 0);
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "closed", 6), 0);
	CU_ASSERT_FATAL(get_report(p, &rep) == 0);
	CU_ASSERT_EQUAL(rep.status, 0);
	CU_ASSERT_EQUAL(rep.accepted, NSLOTS);
	CU_ASSERT(rep.backpressure > 0);
	CU_ASSERT_EQUAL(rep.err, -EPIPE);
	CU_ASSERT_EQUAL(rz_rdma_revoke(&d), 0);
	finish(p, pid);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

/* The consumer trusts nothing the producer writes: a tail too far ahead or behind, a slot of a
 * bad length or flags, a slot of another sequence. Written here by hand, as a malicious
 * producer would over RDMA. */
static void
test_consumer_validates(void)
{
	struct rz_region *r = new_region(MB2);
	struct rz_pkt_chan_slot sl[8];
	struct rz_pkt_chan_stats cs;
	struct rz_pkt_chan *c;
	uint8_t *w;
	uint64_t v;
	uint32_t u;

	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_PTR_NULL(rz_pkt_chan_consumer_create(r, 0, 3, SLOT_SIZE));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_PTR_NULL(rz_pkt_chan_consumer_create(r, 0, 8, 100));
	CU_ASSERT_PTR_NULL(rz_pkt_chan_consumer_create(r, 32, 8, 128));
	CU_ASSERT_PTR_NULL(rz_pkt_chan_consumer_create(r, MB2 - 256, 8, 128));
	CU_ASSERT_EQUAL(rte_errno, ERANGE);
	CU_ASSERT_EQUAL(rz_pkt_chan_window_size(8, 128), 256 + 8 * 128);
	CU_ASSERT_EQUAL(rz_pkt_chan_window_size(6, 128), 0);
	c = rz_pkt_chan_consumer_create(r, 4096, 8, 128);
	CU_ASSERT_FATAL(c != NULL);
	w = (uint8_t *)rz_region_addr(r) + 4096;
	memcpy(&u, w, 4);
	CU_ASSERT_EQUAL(u, 0x48435a52);
	CU_ASSERT_EQUAL(rz_pkt_chan_peek(c, sl, 8), 0);
	/* Tail more than the ring ahead: refused, nothing consumed. */
	v = 9;
	memcpy(w + 64, &v, 8);
	CU_ASSERT_EQUAL(rz_pkt_chan_peek(c, sl, 8), -EPROTO);
	/* Tail 3; slot 0 good, slot 1 too long, slot 2 of another sequence. */
	v = 3;
	memcpy(w + 64, &v, 8);
	v = 0;
	memcpy(w + 256, &v, 8);
	u = 112;
	memcpy(w + 256 + 8, &u, 4);
	u = 0;
	memcpy(w + 256 + 12, &u, 4);
	v = 1;
	memcpy(w + 256 + 128, &v, 8);
	u = 113;
	memcpy(w + 256 + 128 + 8, &u, 4);
	v = 77;
	memcpy(w + 256 + 256, &v, 8);
	CU_ASSERT_EQUAL(rz_pkt_chan_peek(c, sl, 8), 1);
	CU_ASSERT_EQUAL(sl[0].len, 112);
	CU_ASSERT_PTR_EQUAL(sl[0].data, w + 256 + 16);
	CU_ASSERT_EQUAL(rz_pkt_chan_release(c, 1), 0);
	/* Slot 1 is at the head now: dropped; slot 2 is not there (sequence 77). */
	CU_ASSERT_EQUAL(rz_pkt_chan_peek(c, sl, 8), 0);
	memcpy(&v, w + 128, 8);
	CU_ASSERT_EQUAL(v, 2);		/* the head the producer reads */
	/* Flags set: dropped too. */
	v = 2;
	memcpy(w + 256 + 256, &v, 8);
	u = 1;
	memcpy(w + 256 + 256 + 12, &u, 4);
	CU_ASSERT_EQUAL(rz_pkt_chan_peek(c, sl, 8), 0);
	/* Tail behind the head: refused. */
	v = 1;
	memcpy(w + 64, &v, 8);
	CU_ASSERT_EQUAL(rz_pkt_chan_peek(c, sl, 8), -EPROTO);
	CU_ASSERT_EQUAL(rz_pkt_chan_stats_get(c, &cs), 0);
	CU_ASSERT_EQUAL(cs.rx_bad, 2);
	CU_ASSERT_EQUAL(cs.rx_bad_tail, 2);
	CU_ASSERT_EQUAL(cs.rx_pkts, 1);
	/* A producer end's calls on a consumer end, and NULLs. */
	CU_ASSERT_EQUAL(rz_pkt_chan_send(c, NULL, 0), -EINVAL);
	CU_ASSERT_EQUAL(rz_pkt_chan_flush(c, 0), -EINVAL);
	CU_ASSERT_EQUAL(rz_pkt_chan_peek(NULL, sl, 1), -EINVAL);
	CU_ASSERT_EQUAL(rz_pkt_tx_send(NULL, NULL, NULL, NULL, 0), -EINVAL);
	CU_ASSERT_PTR_NULL(rz_pkt_chan_producer_attach(NULL, NULL));
	CU_ASSERT_EQUAL(rz_pkt_chan_close(c), 0);
	memcpy(&u, w + 136, 4);
	CU_ASSERT_EQUAL(u, 2);		/* closed */
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

/* Is @m a zero-copy mbuf of the window [@w, @w + @wlen) holding packet i? Its segments'
 * data all inside the window, its bytes those of packet i (pkt_check()). */
static bool
zc_mbuf_ok(const struct rte_mbuf *m, const uint8_t *w, size_t wlen, uint64_t i)
{
	static uint8_t buf[RZ_PKT_CHAN_SLOT_MAX];
	const struct rte_mbuf *seg;
	const uint8_t *d;

	for (seg = m; seg != NULL; seg = seg->next) {
		const uint8_t *a = rte_pktmbuf_mtod(seg, const uint8_t *);

		if (!RTE_MBUF_HAS_EXTBUF(seg) || a < w + RZ_PKT_CHAN_CTRL_SIZE ||
				a + seg->data_len > w + wlen)
			return false;
	}
	d = rte_pktmbuf_read(m, 0, m->pkt_len, buf);
	return d != NULL && pkt_check(i, d, m->pkt_len) < 0;
}

/* The IOVA of byte @off of region @r, from its chunks (RTE_BAD_IOVA if unknown). */
static rte_iova_t
region_iova(const struct rz_region *r, size_t off)
{
	struct rz_iova_chunk ch[64];
	int n = rz_region_iova_chunks(r, ch, RTE_DIM(ch)), i;

	for (i = 0; i < n && i < (int)RTE_DIM(ch); i++)
		if (off >= ch[i].offset && off < ch[i].offset + ch[i].len)
			return ch[i].iova == RTE_BAD_IOVA ? RTE_BAD_IOVA :
					ch[i].iova + (off - ch[i].offset);
	return RTE_BAD_IOVA;
}

/* Does every segment of @m carry the IOVA of its data (@w is region @r's byte 0)? */
static bool
zc_iova_ok(const struct rte_mbuf *m, const struct rz_region *r, const uint8_t *w)
{
	for (; m != NULL; m = m->next) {
		size_t off = (size_t)(rte_pktmbuf_mtod(m, const uint8_t *) - w);
		rte_iova_t want = region_iova(r, off);

		if (want == RTE_BAD_IOVA || rte_pktmbuf_iova(m) != want ||
				region_iova(r, off + m->data_len - 1) != want + m->data_len - 1)
			return false;
	}
	return true;
}

static uint64_t
ctrl_u64(const uint8_t *w, size_t off)
{
	return __atomic_load_n((const uint64_t *)(const void *)(w + off), __ATOMIC_ACQUIRE);
}

/* Write packet i into slot @s of the ring at @w as a producer would (@len bytes: pkt_len(i)
 * unless given). */
static void
hand_slot(uint8_t *w, uint32_t nslots, uint32_t slot_size, uint64_t s, uint64_t i, uint32_t len)
{
	uint8_t *slot = w + RZ_PKT_CHAN_CTRL_SIZE + (s & (nslots - 1)) * slot_size;
	uint32_t u = 0, j;

	for (j = 0; j < len; j++)
		slot[16 + j] = j < 8 ? (uint8_t)(i >> (8 * j)) : pat(i, j);
	memcpy(slot, &s, 8);
	memcpy(slot + 8, &len, 4);
	memcpy(slot + 12, &u, 4);
}

static void
hand_tail(uint8_t *w, uint64_t t)
{
	__atomic_store_n((uint64_t *)(void *)(w + 64), t, __ATOMIC_RELEASE);
}

struct zc_freer {
	struct rte_mbuf **m;
	unsigned int n;
};

/* Another thread (not an lcore of the EAL) frees zero-copy mbufs, last first. */
static void *
zc_free_thread(void *arg)
{
	struct zc_freer *f = arg;
	unsigned int i;

	for (i = f->n; i > 0; i--)
		rte_pktmbuf_free(f->m[i - 1]);
	return NULL;
}

/* Zero-copy receive on hand-written slots (as test_consumer_validates): mbufs into the ring,
 * credits back in ring order only, mixing refused, bad pools refused, a clone holds its slot,
 * another thread frees, a payload of several segments; state unchanged after each refusal. */
static void
test_zc_local(void)
{
	const uint32_t ns = 8, ss = 16384, bs = 196608;
	struct rz_region *r = new_region(MB2);
	size_t wlen = rz_pkt_chan_window_size(ns, ss), blen = rz_pkt_chan_window_size(4, bs);
	struct rte_mempool *hp, *pinned = NULL, *notpkt;
	struct rte_pktmbuf_extmem ext;
	struct rz_pkt_chan_slot sl[8];
	struct rz_pkt_chan_stats cs;
	struct rte_mbuf *m[8], *cl;
	struct zc_freer fr;
	struct rz_pkt_chan *c, *c2;
	pthread_t th;
	uint64_t s, bad_tail;
	uint8_t *w, *w2;
	int i, ok;

	CU_ASSERT_FATAL(r != NULL);
	/* Header-only mbufs: a data room of 0 is enough. */
	hp = rte_pktmbuf_pool_create("rzt-zc-hdr", 255, 0, 0, 0, SOCKET_ID_ANY);
	CU_ASSERT_FATAL(hp != NULL);
	notpkt = rte_mempool_create("rzt-zc-notpkt", 63, 256, 0, 0, NULL, NULL, NULL, NULL,
			SOCKET_ID_ANY, 0);
	CU_ASSERT_FATAL(notpkt != NULL);
	ext.buf_len = 64 * 2048;
	ext.elt_size = 2048;
	ext.buf_ptr = rte_malloc("rzt-zc-ext", ext.buf_len, 4096);
	CU_ASSERT_FATAL(ext.buf_ptr != NULL);
	ext.buf_iova = rte_malloc_virt2iova(ext.buf_ptr);
	pinned = rte_pktmbuf_pool_create_extbuf("rzt-zc-pinned", 63, 0, 0, 2048, SOCKET_ID_ANY,
			&ext, 1);
	CU_ASSERT_FATAL(pinned != NULL);
	c = rz_pkt_chan_consumer_create(r, 0, ns, ss);
	CU_ASSERT_FATAL(c != NULL);
	w = rz_region_addr(r);

	/* Bad input, with a packet published: refused, nothing handed out. */
	hand_slot(w, ns, ss, 0, 0, pkt_len(0));
	hand_tail(w, 1);
	CU_ASSERT_EQUAL(rz_pkt_chan_recv_zc(NULL, hp, m, 1), -EINVAL);
	CU_ASSERT_EQUAL(rz_pkt_chan_recv_zc(c, NULL, m, 1), -EINVAL);
	CU_ASSERT_EQUAL(rz_pkt_chan_recv_zc(c, hp, NULL, 1), -EINVAL);
	CU_ASSERT_EQUAL(rz_pkt_chan_recv_zc(c, pinned, m, 1), -EINVAL);
	CU_ASSERT_EQUAL(rz_pkt_chan_recv_zc(c, notpkt, m, 1), -EINVAL);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(pinned), 63);
	CU_ASSERT_EQUAL(rz_pkt_chan_stats_get(c, &cs), 0);
	CU_ASSERT_EQUAL(cs.rx_pkts, 0);
	CU_ASSERT_EQUAL(cs.rx_held, 0);
	CU_ASSERT_EQUAL(ctrl_u64(w, 128), 0);

	/* Packets 0..4 published; 3 taken zero-copy: in their slots, byte for byte. */
	for (s = 1; s < 5; s++)
		hand_slot(w, ns, ss, s, s, pkt_len(s));
	hand_tail(w, 5);
	CU_ASSERT_EQUAL_FATAL(rz_pkt_chan_recv_zc(c, hp, m, 3), 3);
	for (i = 0; i < 3; i++) {
		CU_ASSERT(zc_mbuf_ok(m[i], w, wlen, (uint64_t)i));
		CU_ASSERT_PTR_EQUAL(rte_pktmbuf_mtod(m[i], uint8_t *),
			w + RZ_PKT_CHAN_CTRL_SIZE + (uint64_t)i * ss + RZ_PKT_CHAN_SLOT_HDR);
		CU_ASSERT_EQUAL(m[i]->pkt_len, pkt_len((uint64_t)i));
		/* IOVAs for a PMD's DMA, from the region's chunks. */
		CU_ASSERT(zc_iova_ok(m[i], r, w));
	}
	CU_ASSERT_EQUAL(rz_pkt_chan_stats_get(c, &cs), 0);
	CU_ASSERT_EQUAL(cs.rx_held, 3);
	CU_ASSERT_EQUAL(cs.rx_pkts, 3);
	CU_ASSERT_EQUAL(cs.rx_bytes_copied, 0);
	CU_ASSERT_EQUAL(ctrl_u64(w, 128), 0);	/* no credit back yet */

	/* Mixing while they are out: refused, nothing changes. */
	CU_ASSERT_EQUAL(rz_pkt_chan_peek(c, sl, 8), -EBUSY);
	CU_ASSERT_EQUAL(rz_pkt_chan_release(c, 0), -EBUSY);
	CU_ASSERT_EQUAL(rz_pkt_chan_recv(c, pool, &cl, 1), -EBUSY);
	CU_ASSERT_EQUAL(rz_pkt_chan_close(c), -EBUSY);
	CU_ASSERT_EQUAL(__atomic_load_n((uint32_t *)(void *)(w + 136), __ATOMIC_ACQUIRE), 1);
	CU_ASSERT_EQUAL(rz_pkt_chan_stats_get(c, &cs), 0);
	CU_ASSERT_EQUAL(cs.rx_held, 3);
	CU_ASSERT_EQUAL(cs.rx_pkts, 3);
	CU_ASSERT_EQUAL(ctrl_u64(w, 128), 0);

	/* Out of order: the 2nd and 3rd freed first hold nothing back by themselves, but the
	 * head waits for the 1st. */
	rte_pktmbuf_free(m[1]);
	CU_ASSERT_EQUAL(rz_pkt_chan_recv_zc(c, hp, NULL, 0), 0);
	CU_ASSERT_EQUAL(ctrl_u64(w, 128), 0);
	rte_pktmbuf_free(m[2]);
	CU_ASSERT_EQUAL(rz_pkt_chan_recv_zc(c, hp, NULL, 0), 0);
	CU_ASSERT_EQUAL(ctrl_u64(w, 128), 0);
	CU_ASSERT_EQUAL(rz_pkt_chan_stats_get(c, &cs), 0);
	CU_ASSERT_EQUAL(cs.rx_held, 3);
	rte_pktmbuf_free(m[0]);
	CU_ASSERT_EQUAL(rz_pkt_chan_recv_zc(c, hp, NULL, 0), 0);
	CU_ASSERT_EQUAL(ctrl_u64(w, 128), 3);
	CU_ASSERT_EQUAL(rz_pkt_chan_stats_get(c, &cs), 0);
	CU_ASSERT_EQUAL(cs.rx_held, 0);
	/* Nothing out: peek and release again. */
	CU_ASSERT_EQUAL(rz_pkt_chan_peek(c, sl, 8), 2);
	CU_ASSERT_EQUAL(pkt_check(3, sl[0].data, sl[0].len), -1);
	CU_ASSERT_EQUAL(rz_pkt_chan_release(c, 2), 0);
	CU_ASSERT_EQUAL(ctrl_u64(w, 128), 5);

	/* The whole ring held (slots 5..12): a producer has no credit; tails out of order are
	 * refused with nothing handed out. */
	for (s = 5; s < 13; s++)
		hand_slot(w, ns, ss, s, s, pkt_len(s));
	hand_tail(w, 13);
	CU_ASSERT_EQUAL_FATAL(rz_pkt_chan_recv_zc(c, hp, m, 8), 8);
	ok = 0;
	for (i = 0; i < 8; i++)
		ok += zc_mbuf_ok(m[i], w, wlen, 5 + (uint64_t)i);
	CU_ASSERT_EQUAL(ok, 8);
	CU_ASSERT_EQUAL(rz_pkt_chan_recv_zc(c, hp, &cl, 1), 0);
	CU_ASSERT_EQUAL(rz_pkt_chan_stats_get(c, &cs), 0);
	bad_tail = cs.rx_bad_tail;
	hand_tail(w, 14);		/* more than the ring ahead of the head (5) */
	CU_ASSERT_EQUAL(rz_pkt_chan_recv_zc(c, hp, &cl, 1), -EPROTO);
	hand_tail(w, 10);		/* behind what was handed out (13) */
	CU_ASSERT_EQUAL(rz_pkt_chan_recv_zc(c, hp, &cl, 1), -EPROTO);
	hand_tail(w, 13);
	CU_ASSERT_EQUAL(rz_pkt_chan_stats_get(c, &cs), 0);
	CU_ASSERT_EQUAL(cs.rx_bad_tail, bad_tail + 2);
	CU_ASSERT_EQUAL(cs.rx_held, 8);
	CU_ASSERT_EQUAL(cs.rx_pkts, 13);
	CU_ASSERT_EQUAL(ctrl_u64(w, 128), 5);
	/* Freed by another thread, last first: the head moves in the consumer's next call. */
	fr.m = m;
	fr.n = 8;
	CU_ASSERT_FATAL(pthread_create(&th, NULL, zc_free_thread, &fr) == 0);
	pthread_join(th, NULL);
	CU_ASSERT_EQUAL(ctrl_u64(w, 128), 5);
	CU_ASSERT_EQUAL(rz_pkt_chan_recv_zc(c, hp, NULL, 0), 0);
	CU_ASSERT_EQUAL(ctrl_u64(w, 128), 13);

	/* A malformed slot behind a held one: the burst ends before it; the next call drops it
	 * (rx_bad) and its credit waits for the held one, in ring order. */
	hand_slot(w, ns, ss, 13, 13, pkt_len(13));
	hand_slot(w, ns, ss, 14, 14, 100);
	memcpy(w + RZ_PKT_CHAN_CTRL_SIZE + 6 * ss + 8, &ss, 4);	/* longer than a slot */
	hand_slot(w, ns, ss, 15, 15, pkt_len(15));
	hand_tail(w, 16);
	CU_ASSERT_EQUAL_FATAL(rz_pkt_chan_recv_zc(c, hp, m, 8), 1);
	CU_ASSERT_EQUAL_FATAL(rz_pkt_chan_recv_zc(c, hp, m + 1, 8), 1);
	CU_ASSERT(zc_mbuf_ok(m[0], w, wlen, 13));
	CU_ASSERT(zc_mbuf_ok(m[1], w, wlen, 15));
	CU_ASSERT_EQUAL(rz_pkt_chan_stats_get(c, &cs), 0);
	CU_ASSERT_EQUAL(cs.rx_bad, 1);
	CU_ASSERT_EQUAL(cs.rx_held, 3);
	rte_pktmbuf_free(m[1]);
	CU_ASSERT_EQUAL(rz_pkt_chan_recv_zc(c, hp, NULL, 0), 0);
	CU_ASSERT_EQUAL(ctrl_u64(w, 128), 13);
	rte_pktmbuf_free(m[0]);
	CU_ASSERT_EQUAL(rz_pkt_chan_recv_zc(c, hp, NULL, 0), 0);
	CU_ASSERT_EQUAL(ctrl_u64(w, 128), 16);

	/* A clone holds the slot too: given back when the last reference goes. */
	hand_slot(w, ns, ss, 16, 16, pkt_len(16));
	hand_tail(w, 17);
	CU_ASSERT_EQUAL_FATAL(rz_pkt_chan_recv_zc(c, hp, m, 8), 1);
	cl = rte_pktmbuf_clone(m[0], hp);
	CU_ASSERT_FATAL(cl != NULL);
	rte_pktmbuf_free(m[0]);
	CU_ASSERT_EQUAL(rz_pkt_chan_recv_zc(c, hp, NULL, 0), 0);
	CU_ASSERT_EQUAL(ctrl_u64(w, 128), 16);
	CU_ASSERT(zc_mbuf_ok(cl, w, wlen, 16));
	rte_pktmbuf_free(cl);
	CU_ASSERT_EQUAL(rz_pkt_chan_recv_zc(c, hp, NULL, 0), 0);
	CU_ASSERT_EQUAL(ctrl_u64(w, 128), 17);
	CU_ASSERT_EQUAL(rz_pkt_chan_stats_get(c, &cs), 0);
	CU_ASSERT_EQUAL(cs.rx_bytes_copied, 0);
	CU_ASSERT_EQUAL(cs.rx_held, 0);
	CU_ASSERT_EQUAL(rz_pkt_chan_close(c), 0);

	/* A payload larger than an external buffer's 16-bit length: a chain, one callback. */
	c2 = rz_pkt_chan_consumer_create(r, 256u << 10, 4, bs);
	CU_ASSERT_FATAL(c2 != NULL);
	w2 = (uint8_t *)rz_region_addr(r) + (256u << 10);
	hand_slot(w2, 4, bs, 0, 7, 150000);
	hand_tail(w2, 1);
	CU_ASSERT_EQUAL_FATAL(rz_pkt_chan_recv_zc(c2, hp, m, 1), 1);
	CU_ASSERT(m[0]->nb_segs >= 3);
	CU_ASSERT_EQUAL(m[0]->pkt_len, 150000);
	{
		static uint8_t big[150000];
		const uint8_t *d = rte_pktmbuf_read(m[0], 0, 150000, big);
		const struct rte_mbuf *seg;
		uint32_t j, wrong = 0;

		CU_ASSERT_FATAL(d != NULL);
		for (j = 8; j < 150000; j++)
			wrong += d[j] != pat(7, j);
		CU_ASSERT_EQUAL(wrong, 0);
		for (seg = m[0]; seg != NULL; seg = seg->next)
			CU_ASSERT(rte_pktmbuf_mtod(seg, uint8_t *) >= w2 &&
					rte_pktmbuf_mtod(seg, uint8_t *) + seg->data_len <=
					w2 + blen);
		CU_ASSERT(zc_iova_ok(m[0], r, w));
	}
	CU_ASSERT_EQUAL(rz_pkt_chan_close(c2), -EBUSY);
	rte_pktmbuf_free(m[0]);
	CU_ASSERT_EQUAL(rz_pkt_chan_recv_zc(c2, hp, NULL, 0), 0);
	CU_ASSERT_EQUAL(ctrl_u64(w2, 128), 1);
	CU_ASSERT_EQUAL(rz_pkt_chan_close(c2), 0);

	CU_ASSERT_EQUAL(rte_mempool_avail_count(hp), 255);
	rte_mempool_free(hp);
	rte_mempool_free(notpkt);
	rte_mempool_free(pinned);
	rte_free(ext.buf_ptr);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

/* Zero-copy receive from a real producer: the consumer holds the whole ring (backpressure, no
 * overwrite of what it holds), frees out of order (the head waits for the first), then lets
 * the stream go on; every byte checked in the ring, nothing copied on either side. */
static void
test_zc_stream(void)
{
	struct rz_region *r = new_region(MB2);
	size_t wlen = rz_pkt_chan_window_size(NSLOTS, SLOT_SIZE);
	struct rte_mbuf *held[NSLOTS], *m[32];
	struct rz_pkt_chan_slot sl[4];
	struct rz_pkt_chan_stats cs, cs0;
	struct rte_mempool *hp;
	struct rz_pkt_chan *c;
	struct rz_rdma_desc d;
	struct report rep;
	struct rz_peer *p;
	uint64_t next, until, tail;
	int n, i, nh = 0, wrong = 0;
	uint8_t *w;
	pid_t pid;

	CU_ASSERT_FATAL(r != NULL);
	hp = rte_pktmbuf_pool_create("rzt-zc-hdr2", 255, 0, 0, 0, SOCKET_ID_ANY);
	CU_ASSERT_FATAL(hp != NULL);
	c = rz_pkt_chan_consumer_create(r, 0, NSLOTS, SLOT_SIZE);
	CU_ASSERT_FATAL(c != NULL);
	w = rz_region_addr(r);
	pid = spawn_producer("zc");
	CU_ASSERT_FATAL(pid > 0);
	p = accept_producer(pid);
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL_FATAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, 0, wlen, 0, &d), 0);

	/* Take the whole ring and keep it. */
	until = now_ms() + 10 * TMO;
	while (nh < NSLOTS && now_ms() < until) {
		n = rz_pkt_chan_recv_zc(c, hp, held + nh, (uint16_t)(NSLOTS - nh));
		CU_ASSERT_FATAL(n >= 0);
		nh += n;
		if (n == 0)
			usleep(1000);
	}
	CU_ASSERT_EQUAL_FATAL(nh, NSLOTS);
	for (i = 0; i < NSLOTS; i++)
		wrong += !zc_mbuf_ok(held[i], w, wlen, (uint64_t)i);
	CU_ASSERT_EQUAL(wrong, 0);
	/* The producer keeps trying (-ENOBUFS): nothing more published, nothing overwritten. */
	usleep(1500 * 1000);
	CU_ASSERT_EQUAL(rz_pkt_chan_recv_zc(c, hp, m, 32), 0);
	CU_ASSERT_EQUAL(ctrl_u64(w, 64), NSLOTS);
	CU_ASSERT_EQUAL(ctrl_u64(w, 128), 0);
	for (i = 0; i < NSLOTS; i++)
		wrong += !zc_mbuf_ok(held[i], w, wlen, (uint64_t)i);
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT_EQUAL(rz_pkt_chan_stats_get(c, &cs0), 0);
	CU_ASSERT_EQUAL(cs0.rx_held, NSLOTS);
	CU_ASSERT_EQUAL(cs0.rx_bytes_copied, 0);
	/* Mixing while they are out: refused, nothing changes. */
	CU_ASSERT_EQUAL(rz_pkt_chan_peek(c, sl, 4), -EBUSY);
	CU_ASSERT_EQUAL(rz_pkt_chan_release(c, 1), -EBUSY);
	CU_ASSERT_EQUAL(rz_pkt_chan_recv(c, pool, m, 4), -EBUSY);
	CU_ASSERT_EQUAL(rz_pkt_chan_close(c), -EBUSY);
	CU_ASSERT_EQUAL(rz_pkt_chan_stats_get(c, &cs), 0);
	CU_ASSERT_EQUAL(cs.rx_held, cs0.rx_held);
	CU_ASSERT_EQUAL(cs.rx_pkts, cs0.rx_pkts);
	CU_ASSERT_EQUAL(ctrl_u64(w, 128), 0);
	/* The 2nd freed before the 1st: no credit, the producer stays stopped. */
	rte_pktmbuf_free(held[1]);
	CU_ASSERT_EQUAL(rz_pkt_chan_recv_zc(c, hp, m, 32), 0);
	CU_ASSERT_EQUAL(ctrl_u64(w, 128), 0);
	usleep(500 * 1000);
	CU_ASSERT_EQUAL(ctrl_u64(w, 64), NSLOTS);
	for (i = 2; i < NSLOTS; i++)
		wrong += !zc_mbuf_ok(held[i], w, wlen, (uint64_t)i);
	CU_ASSERT_EQUAL(wrong, 0);
	/* Then the 1st: two credits. */
	rte_pktmbuf_free(held[0]);
	CU_ASSERT_EQUAL(rz_pkt_chan_recv_zc(c, hp, NULL, 0), 0);
	CU_ASSERT_EQUAL(ctrl_u64(w, 128), 2);
	/* The producer goes on into those two slots only. */
	until = now_ms() + TMO;
	while (ctrl_u64(w, 64) < NSLOTS + 2 && now_ms() < until)
		usleep(1000);
	tail = ctrl_u64(w, 64);
	CU_ASSERT_EQUAL(tail, NSLOTS + 2);
	for (i = 2; i < NSLOTS; i++)
		wrong += !zc_mbuf_ok(held[i], w, wlen, (uint64_t)i);
	CU_ASSERT_EQUAL(wrong, 0);
	for (i = 2; i < NSLOTS; i++)
		rte_pktmbuf_free(held[i]);
	/* The rest of the stream, each burst freed last first. */
	next = NSLOTS;
	until = now_ms() + 10 * TMO;
	while (next < ZC_PKTS && now_ms() < until) {
		n = rz_pkt_chan_recv_zc(c, hp, m, 32);
		CU_ASSERT_FATAL(n >= 0);
		for (i = 0; i < n; i++)
			wrong += !zc_mbuf_ok(m[i], w, wlen, next++);
		for (i = n; i > 0; i--)
			rte_pktmbuf_free(m[i - 1]);
		if (n == 0)
			usleep(500);
	}
	CU_ASSERT_EQUAL(next, ZC_PKTS);
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT_FATAL(get_report(p, &rep) == 0);
	CU_ASSERT_EQUAL(rep.status, 0);
	CU_ASSERT_EQUAL(rep.accepted, ZC_PKTS);
	CU_ASSERT_EQUAL(rep.freed, ZC_PKTS);
	CU_ASSERT_EQUAL(rep.bytes_copied, 0);
	CU_ASSERT(rep.backpressure > 0);
	/* While the ring was held, the producer's head reads found nothing and backed off: a run
	 * of empty reads after a productive one waits 2, 4, ... us up to 1 ms each, so at most
	 * 10 per run plus one per millisecond of the stream (without the back-off: one per round
	 * trip, ~10 per ms in the guest). */
	CU_ASSERT(rep.head_reads_empty > 0);
	CU_ASSERT(rep.head_reads_empty <= rep.head_reads);
	CU_ASSERT(rep.head_reads_empty <=
			10 * (rep.head_reads - rep.head_reads_empty + 1) + rep.extra);
	CU_ASSERT_EQUAL(rz_pkt_chan_recv_zc(c, hp, NULL, 0), 0);
	CU_ASSERT_EQUAL(rz_pkt_chan_stats_get(c, &cs), 0);
	CU_ASSERT_EQUAL(cs.rx_pkts, ZC_PKTS);
	CU_ASSERT_EQUAL(cs.rx_bytes_copied, 0);
	CU_ASSERT_EQUAL(cs.rx_held, 0);
	CU_ASSERT_EQUAL(cs.rx_bad, 0);
	CU_ASSERT_EQUAL(ctrl_u64(w, 128), ZC_PKTS);
	printf("\n  %d packets zero-copy, the whole ring (%d slots) held 2 s; producer: %"
			PRIu64 " backpressure, %" PRIu64 " bytes copied; consumer: %" PRIu64
			" bytes, %" PRIu64 " copied; head reads %" PRIu32 " (%" PRIu32
			" empty) in %" PRIu64 " ms\n", ZC_PKTS, NSLOTS, rep.backpressure,
			rep.bytes_copied, cs.rx_bytes, cs.rx_bytes_copied, rep.head_reads,
			rep.head_reads_empty, rep.extra);
	CU_ASSERT_EQUAL(rz_rdma_revoke(&d), 0);
	finish(p, pid);
	/* The ring's region cannot be destroyed under an open consumer (its zero-copy mbufs
	 * point there); the consumer still works after the refusal. */
	CU_ASSERT_EQUAL(rz_region_destroy(r), -EBUSY);
	CU_ASSERT_EQUAL(rz_pkt_chan_recv_zc(c, hp, m, 32), 0);
	CU_ASSERT_EQUAL(rz_pkt_chan_close(c), 0);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(hp), 255);
	rte_mempool_free(hp);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

static const struct rz_test_case cases[] = {
	{ "consumer validates what the producer writes", test_consumer_validates },
	{ "zero-copy burst send: multi-segment mbufs, byte for byte, poisoned after", test_burst },
	{ "channel stream: slow consumer, backpressure, no loss or duplicate", test_stream },
	{ "channel: revoke mid-stream, then a new grant", test_revoke },
	{ "channel bad input: plain pool, oversize, ring full, consumer closed", test_bad },
	{ "many lcores: two connections, two channels at once", test_lanes },
	{ "zero-copy receive: hand-written slots, ring order, mixing, bad pools", test_zc_local },
	{ "zero-copy receive: a consumer that holds, out-of-order free, stream", test_zc_stream },
	{ NULL, NULL },
};

int
main(int argc, char **argv)
{
	char prefix[96];
	char *eal[] = { argv[0], "--no-pci", "-l", "0", "--log-level=lib.rzone:notice",
		RZ_TEST_BASE_VA, prefix, NULL };
	unsigned int failed;
	ssize_t n;
	int ret;

	if (argc >= 2 && strcmp(argv[1], "--producer") == 0)
		return producer_main(argc, argv);
	n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	if (n <= 0) {
		fprintf(stderr, "FAIL: readlink /proc/self/exe\n");
		return 1;
	}
	self_exe[n] = '\0';
	test_ip = getenv("RZ_RDMA_TEST_IP");
	if (test_ip == NULL)
		test_ip = "10.0.2.15";
	snprintf(file_prefix, sizeof(file_prefix), "rzt-pktr-%d", (int)getpid());
	snprintf(prefix, sizeof(prefix), "--file-prefix=%s", file_prefix);
	if (rte_eal_init(RTE_DIM(eal) - 1, eal) < 0) {
		fprintf(stderr, "FAIL: rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	if (rz_init() != 0) {
		fprintf(stderr, "FAIL: rz_init\n");
		return 1;
	}
	ret = rz_rdma_init(NULL);
	if (ret != 0) {
		fprintf(stderr, "FAIL: rz_rdma_init: %s (no usable RDMA device)\n", strerror(-ret));
		return 1;
	}
	lst = rz_peer_listen(test_ip, 0);
	if (lst == NULL) {
		fprintf(stderr, "FAIL: rz_peer_listen(%s): %s\n", test_ip, rte_strerror(rte_errno));
		return 1;
	}
	pool = rz_pktmbuf_pool_create(POOL_NAME, POOL_N, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
			SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "FAIL: rz_pktmbuf_pool_create: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	printf("rdma device %s, listening on %s:%u\n", rz_rdma_device_name(), test_ip,
			rz_peer_listener_port(lst));
	failed = rz_test_run("pkt_remote", cases);
	rz_peer_listener_close(lst);
	ret = rz_pktmbuf_pool_free(pool);
	if (ret != 0) {
		fprintf(stderr, "FAIL: rz_pktmbuf_pool_free: %s\n", strerror(-ret));
		failed++;
	}
	rz_rdma_fini();
	rz_fini();
	rte_eal_cleanup();
	return failed ? 1 : 0;
}
