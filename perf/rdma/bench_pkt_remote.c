/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * rz-bench-pkt-remote: packets/s of a packet channel to a remote peer (issue 13), three ways in the
 * same run, on the same connection, into the same kind of ring, interleaved per size:
 *   rz    rz_pkt_chan_send(): zero-copy, slot header + the mbuf's segment as the scatter list,
 *         mbufs freed on completion;
 *   copy  the copy baseline: each packet memcpy'd (header + payload) into a registered bounce
 *         slot, one-entry WRITE of it, the mbuf freed at once;
 *   raw   raw verbs doing the same SGE writes as rz with the same batching (bursts of 31
 *         packets + a tail WRITE, one doorbell, the last signaled, a head READ when half the
 *         ring is used), ibv_post_send / ibv_poll_cq straight on the connection's QP and CQ,
 *         the pool's one lkey, mbufs freed on completion.
 * Each writes into a ring of its own (256 slots of 2 KiB) that this process, the consumer (a
 * DPDK primary owning the rings' region and the mbuf pool), drains all the time with
 * rz_pkt_chan_recv_zc() (zero-copy: mbuf headers of a header-only pool attached to the slots,
 * freed at once, which gives the slots back; nothing copied, checked at the end), or with
 * rz_pkt_chan_peek() / rz_pkt_chan_release() when RZB_CONSUMER=peek. The producer is this
 * binary again, "--producer ...", a DPDK secondary given the pool.
 *
 *   rz-bench-pkt-remote PKTS ROUNDS SIZE...      e.g. rz-bench-pkt-remote 20000 3 64 512 1500
 * Output: "pkt size S round R variant V pkts N us T pps X" lines, then per size the median
 * pps of each variant and the ratios rz/raw and rz/copy ("pktsum" lines).
 * RZB_PRODUCER_CALLGRIND=FILE runs the producer under callgrind (perf/rdma/pkt_remote.sh --cg):
 * the inclusive costs of bench_rz_burst / bench_raw_burst per packet.
 */

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <infiniband/verbs.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "rzone.h"
#include "rzone_pkt.h"
#include "rzone_pkt_remote.h"
#include "rzone_rdma.h"
#include "rdma_private.h"	/* the connection's QP and CQ, for the raw-verbs baseline */

#define TMO		60000
#define POOL_NAME	"rzb-pkt"
#define POOL_N		4095
#define NSLOTS		256
#define SLOT		2048
#define RING_STRIDE	(576u << 10)
#define NVAR		3
#define BURST		31
#define MAX_ROUNDS	16
#define MAX_SIZES	8
/* Far from where valgrind puts itself: the producer under callgrind gets the primary's
 * addresses (without it: "Cannot get a virtual area at requested address"). */
#define BASE_VA		"--base-virtaddr=0x200000000000"

extern char **environ;

static const char *const var_name[NVAR] = { "rz", "copy", "raw" };
static uint64_t nobufs[NVAR];	/* calls that found no room (credits, send queue) */
static uint64_t total_pkts[NVAR];

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------------------------------- */
/* Producer: the copy and raw baselines, the channel protocol in plain verbs. */

struct raw_chan {
	struct ibv_qp *qp;
	struct ibv_cq *cq;
	const struct rz_rdma_desc *win;
	uint32_t pool_lkey;
	uint32_t max_inline;
	bool copy;
	uint8_t *lmem;			/* [ctrl copy 256][tails][headers][bounce] */
	uint32_t lkey;
	uint64_t tail, head_known;
	bool reading;
	uint64_t wr_posted, wr_done, pk_posted, pk_freed;
	uint64_t pk_end[512];
	uint8_t is_read[512];
	struct rte_mbuf *ring[512];
};

#define L_TAILS		256
#define L_HDRS		(L_TAILS + NSLOTS * 8)
#define L_BOUNCE	(L_HDRS + NSLOTS * 16)
#define L_SIZE		(L_BOUNCE + NSLOTS * SLOT)

static int
raw_reap(struct raw_chan *c)
{
	struct ibv_wc wc[16];
	int n, i;

	do {
		n = ibv_poll_cq(c->cq, 16, wc);
		if (n < 0)
			return -EIO;
		for (i = 0; i < n; i++) {
			uint64_t w = wc[i].wr_id, end;

			if (wc[i].status != IBV_WC_SUCCESS) {
				fprintf(stderr, "raw: completion %s\n",
						ibv_wc_status_str(wc[i].status));
				return -EIO;
			}
			c->wr_done = w;
			end = c->pk_end[w % 512];
			while (c->pk_freed < end) {
				uint32_t at = (uint32_t)(c->pk_freed % 512);
				uint32_t k = (uint32_t)RTE_MIN(end - c->pk_freed,
						(uint64_t)(512 - at));

				if (!c->copy)
					rte_pktmbuf_free_bulk(&c->ring[at], k);
				c->pk_freed += k;
			}
			if (c->is_read[w % 512]) {
				memcpy(&c->head_known, c->lmem + 128, 8);
				c->reading = false;
			}
		}
	} while (n == 16);
	return 0;
}

static inline __attribute__((always_inline)) int
raw_burst(struct raw_chan *c, struct rte_mbuf **pkts, uint16_t n)
{
	struct ibv_send_wr wr[BURST + 2], *bad;
	struct ibv_sge sge[BURST + 2][2];
	uint32_t credits, k, i, nw, room;
	bool read;
	int ret;

	ret = raw_reap(c);
	if (ret != 0)
		return ret;
	credits = NSLOTS - (uint32_t)(c->tail - c->head_known);
	room = 224 - (uint32_t)(c->wr_posted - c->wr_done);
	k = RTE_MIN((uint32_t)n, (uint32_t)BURST);
	k = RTE_MIN(k, credits);
	k = RTE_MIN(k, 512 - (uint32_t)(c->pk_posted - c->pk_freed));
	k = room >= 2 ? RTE_MIN(k, room - 2) : 0;
	read = !c->reading && room >= 1 && (c->tail + k - c->head_known) * 2 > NSLOTS;
	for (i = 0; i < k; i++) {
		struct rte_mbuf *m = pkts[i];
		uint32_t slot = (uint32_t)((c->tail + i) & (NSLOTS - 1));
		uint64_t *h = (uint64_t *)(void *)(c->lmem + L_HDRS + slot * 16);

		h[0] = c->tail + i;
		h[1] = m->pkt_len;
		wr[i].opcode = IBV_WR_RDMA_WRITE;
		wr[i].wr.rdma.remote_addr = c->win->addr + 256 + (uint64_t)slot * SLOT;
		wr[i].wr.rdma.rkey = c->win->rkey;
		wr[i].sg_list = sge[i];
		if (c->copy) {
			uint8_t *b = c->lmem + L_BOUNCE + (uint64_t)slot * SLOT;

			memcpy(b, h, 16);
			memcpy(b + 16, rte_pktmbuf_mtod(m, void *), m->data_len);
			sge[i][0].addr = (uintptr_t)b;
			sge[i][0].length = 16 + m->data_len;
			sge[i][0].lkey = c->lkey;
			wr[i].num_sge = 1;
		} else {
			sge[i][0].addr = (uintptr_t)h;
			sge[i][0].length = 16;
			sge[i][0].lkey = c->lkey;
			sge[i][1].addr = rte_pktmbuf_mtod(m, uintptr_t);
			sge[i][1].length = m->data_len;
			sge[i][1].lkey = c->pool_lkey;
			wr[i].num_sge = 2;
		}
		wr[i].send_flags = 16 + m->pkt_len <= c->max_inline ? IBV_SEND_INLINE : 0;
	}
	nw = k;
	if (k > 0) {
		uint64_t nt = c->tail + k;
		uint32_t to = L_TAILS + (uint32_t)((nt - 1) & (NSLOTS - 1)) * 8;

		memcpy(c->lmem + to, &nt, 8);
		sge[nw][0].addr = (uintptr_t)c->lmem + to;
		sge[nw][0].length = 8;
		sge[nw][0].lkey = c->lkey;
		wr[nw].opcode = IBV_WR_RDMA_WRITE;
		wr[nw].wr.rdma.remote_addr = c->win->addr + 64;
		wr[nw].wr.rdma.rkey = c->win->rkey;
		wr[nw].sg_list = sge[nw];
		wr[nw].num_sge = 1;
		wr[nw].send_flags = IBV_SEND_INLINE;
		nw++;
	}
	if (read) {
		sge[nw][0].addr = (uintptr_t)c->lmem + 128;
		sge[nw][0].length = 16;
		sge[nw][0].lkey = c->lkey;
		wr[nw].opcode = IBV_WR_RDMA_READ;
		wr[nw].wr.rdma.remote_addr = c->win->addr + 128;
		wr[nw].wr.rdma.rkey = c->win->rkey;
		wr[nw].sg_list = sge[nw];
		wr[nw].num_sge = 1;
		wr[nw].send_flags = 0;
		nw++;
	}
	if (nw == 0)
		return -ENOBUFS;
	for (i = 0; i < nw; i++) {
		c->wr_posted++;
		wr[i].wr_id = c->wr_posted;
		wr[i].next = i + 1 < nw ? &wr[i + 1] : NULL;
		c->pk_end[c->wr_posted % 512] = c->pk_posted + RTE_MIN(i + 1, k);
		c->is_read[c->wr_posted % 512] = 0;
	}
	wr[nw - 1].send_flags |= IBV_SEND_SIGNALED;
	c->is_read[c->wr_posted % 512] = read;
	ret = ibv_post_send(c->qp, wr, &bad);
	if (ret != 0) {
		fprintf(stderr, "raw: ibv_post_send: %s\n", strerror(ret));
		return -EIO;
	}
	if (read)
		c->reading = true;
	if (c->copy) {
		rte_pktmbuf_free_bulk(pkts, k);
	} else {
		for (i = 0; i < k; i++)
			c->ring[(c->pk_posted + i) % 512] = pkts[i];
	}
	c->pk_posted += k;
	c->tail += k;
	return k > 0 ? (int)k : -ENOBUFS;
}

/* One function per variant: callgrind's inclusive cost of each is that variant's. */
static __attribute__((noinline)) int
bench_raw_burst(struct raw_chan *c, struct rte_mbuf **pkts, uint16_t n)
{
	return raw_burst(c, pkts, n);
}

static __attribute__((noinline)) int
bench_copy_burst(struct raw_chan *c, struct rte_mbuf **pkts, uint16_t n)
{
	return raw_burst(c, pkts, n);
}

static __attribute__((noinline)) int
bench_rz_burst(struct rz_pkt_chan *c, struct rte_mbuf **pkts, uint16_t n)
{
	return rz_pkt_chan_send(c, pkts, n);
}

static int
raw_flush(struct raw_chan *c)
{
	uint64_t until = now_ns() + (uint64_t)TMO * 1000000;

	while (c->wr_done != c->wr_posted && now_ns() < until)
		if (raw_reap(c) != 0)
			return -EIO;
	return c->wr_done == c->wr_posted ? 0 : -ETIMEDOUT;
}

/* @n packets of @size bytes through variant @v; the time in ns, or 0 on failure. */
static uint64_t
run_one(int v, struct rz_pkt_chan *ch, struct raw_chan *rc, struct rte_mempool *mp,
		uint32_t size, uint64_t n)
{
	struct rte_mbuf *b[BURST];
	uint64_t sent = 0, t0 = now_ns();
	unsigned int have = 0, i;
	int ret;

	while (sent < n) {
		if (have < BURST) {
			if (rte_pktmbuf_alloc_bulk(mp, b + have, BURST - have) == 0) {
				for (i = have; i < BURST; i++) {
					b[i]->data_len = (uint16_t)size;
					b[i]->pkt_len = size;
				}
				have = BURST;
			}
		}
		if (have == 0) {
			/* Pool empty: reap. */
			if (v == 0)
				rz_pkt_chan_flush(ch, 0);
			else
				raw_reap(&rc[v - 1]);
			continue;
		}
		if (v == 0)
			ret = bench_rz_burst(ch, b, (uint16_t)have);
		else if (v == 1)
			ret = bench_copy_burst(&rc[0], b, (uint16_t)have);
		else
			ret = bench_raw_burst(&rc[1], b, (uint16_t)have);
		if (ret == -ENOBUFS) {
			nobufs[v]++;
			continue;
		}
		if (ret < 0) {
			fprintf(stderr, "producer: %s send: %s\n", var_name[v], strerror(-ret));
			return 0;
		}
		sent += (uint64_t)ret;
		have -= (unsigned int)ret;
		memmove(b, b + ret, have * sizeof(b[0]));
	}
	ret = v == 0 ? rz_pkt_chan_flush(ch, TMO) : raw_flush(&rc[v - 1]);
	if (ret != 0) {
		fprintf(stderr, "producer: %s flush: %s\n", var_name[v], strerror(-ret));
		return 0;
	}
	rte_pktmbuf_free_bulk(b, have);
	total_pkts[v] += n;
	return now_ns() - t0;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
producer_main(int argc, char **argv)
{
	char prefix[96];
	char *eal[] = { argv[0], "--proc-type=secondary", "--no-pci", "-l", "0",
		"--log-level=lib.rzone:notice", BASE_VA, prefix, NULL };
	static double pps[MAX_SIZES][NVAR][MAX_ROUNDS];
	struct rz_rdma_desc d[NVAR];
	static struct raw_chan rc[2];
	struct rz_rdma_mem lreg;
	struct rz_pkt_chan_stats cs;
	struct rz_pkt_chan *ch;
	struct rte_mempool *mp;
	struct rte_mbuf *m;
	struct rz_peer *p;
	uint32_t pool_lkey;
	uint64_t npkts;
	int rounds, nsizes, s, r, v, i, ret;
	char msg[64];

	if (argc < 9)
		return 1;
	snprintf(prefix, sizeof(prefix), "--file-prefix=%s", argv[2]);
	npkts = strtoull(argv[5], NULL, 0);
	rounds = RTE_MIN(atoi(argv[6]), MAX_ROUNDS);
	nsizes = RTE_MIN(argc - 7, MAX_SIZES);
	if (rte_eal_init(RTE_DIM(eal) - 1, eal) < 0 || rz_init() != 0 || rz_rdma_init(NULL) != 0)
		return 1;
	p = rz_peer_connect(argv[3], (uint16_t)atoi(argv[4]), TMO);
	if (p == NULL || rz_peer_recv_msg(p, msg, TMO) != 4)
		return 1;
	mp = rz_pktmbuf_pool_attach(POOL_NAME);
	if (mp == NULL || rz_pktmbuf_pool_rdma_register(mp) != 0)
		return 1;
	m = rte_pktmbuf_alloc(mp);
	if (m == NULL || rz_mbuf_lkey(m, &pool_lkey) != 0)
		return 1;
	rte_pktmbuf_free(m);
	for (v = 0; v < NVAR; v++)
		if (rz_peer_recv_desc(p, &d[v], TMO) != 0)
			return 1;
	ch = rz_pkt_chan_producer_attach(p, &d[0]);
	if (ch == NULL) {
		fprintf(stderr, "producer: attach: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	for (i = 0; i < 2; i++) {
		rc[i].qp = p->qp;
		rc[i].cq = p->scq;
		rc[i].win = &d[i + 1];
		rc[i].pool_lkey = pool_lkey;
		rc[i].max_inline = p->max_inline;
		rc[i].copy = i == 0;
		if (posix_memalign((void **)&rc[i].lmem, 64, L_SIZE) != 0 ||
				rz_rdma_register_mem(rc[i].lmem, L_SIZE, &lreg) != 0)
			return 1;
		memset(rc[i].lmem, 0, L_SIZE);
		rc[i].lkey = lreg.lkey;
	}
	printf("pkt device %s, %" PRIu64 " packets per run, %d rounds, rings of %u slots of %u B,"
			" bursts of %d, max_sge %d\n", rz_rdma_device_name(), npkts, rounds,
			NSLOTS, SLOT, BURST, rz_peer_max_sge(p));
	/* Both raw rings' completions share the CQ with the channel's: one variant at a time,
	 * each flushed before the next, so every completion is its own. Warm-up: one run each. */
	for (v = 0; v < NVAR; v++)
		if (run_one(v, ch, rc, mp, 64, 2000) == 0)
			return 1;
	for (s = 0; s < nsizes; s++) {
		uint32_t size = (uint32_t)atoi(argv[7 + s]);

		for (r = 0; r < rounds; r++) {
			for (i = 0; i < NVAR; i++) {
				uint64_t ns;

				v = (i + r) % NVAR;	/* which goes first rotates */
				ns = run_one(v, ch, rc, mp, size, npkts);
				if (ns == 0)
					return 1;
				pps[s][v][r] = (double)npkts * 1e9 / (double)ns;
				printf("pkt size %u round %d variant %s pkts %" PRIu64
						" us %" PRIu64 " pps %.0f\n", size, r, var_name[v],
						npkts, ns / 1000, pps[s][v][r]);
				fflush(stdout);
			}
		}
	}
	for (s = 0; s < nsizes; s++) {
		double med[NVAR];

		for (v = 0; v < NVAR; v++) {
			qsort(pps[s][v], (size_t)rounds, sizeof(double), cmp_d);
			med[v] = pps[s][v][rounds / 2];
		}
		printf("pktsum size %s rz %.0f copy %.0f raw %.0f rz/raw %.3f rz/copy %.3f\n",
				argv[7 + s], med[0], med[1], med[2], med[0] / med[2],
				med[0] / med[1]);
	}
	for (v = 0; v < NVAR; v++)
		printf("pkttotal variant %s pkts %" PRIu64 " nobufs %" PRIu64 "\n", var_name[v],
				total_pkts[v], nobufs[v]);
	rz_pkt_chan_stats_get(ch, &cs);
	printf("pkt rz: %" PRIu64 " packets, %" PRIu64 " doorbells, %" PRIu64 " head reads, %"
			PRIu64 " bytes copied\n", cs.tx.pkts, cs.tx.doorbells, cs.head_reads,
			cs.tx.bytes_copied);
	ret = rz_pkt_chan_close(ch);
	rz_peer_send_msg(p, "done", 4);
	rz_peer_close(p);
	rz_rdma_fini();
	rz_fini();
	rte_eal_cleanup();
	return ret == 0 ? 0 : 1;
}

/* ---------------------------------------------------------------------------------------- */
/* Consumer: drains the three rings until the producer exits. */

int
main(int argc, char **argv)
{
	char prefix[96], fp[64], self[4096], port[16], pfx[64];
	char *eal[] = { argv[0], "--no-pci", "-l", "0", "--log-level=lib.rzone:notice", BASE_VA,
		prefix, NULL };
	const char *ip = getenv("RZB_IP") != NULL ? getenv("RZB_IP") : "10.0.2.15";
	const char *cg = getenv("RZB_PRODUCER_CALLGRIND");
	char *pargv[32], cgopt[300];
	struct rz_pkt_chan *c[NVAR];
	struct rz_pkt_chan_slot sl[64];
	struct rte_mbuf *zm[64];
	struct rz_pkt_chan_stats cs;
	const char *how = getenv("RZB_CONSUMER");
	bool zc = how == NULL || strcmp(how, "peek") != 0;
	uint64_t rx = 0, rx_copied = 0, rx_held = 0;
	struct rte_mempool *hp;
	struct rz_peer_listener *l;
	struct rte_mempool *mp;
	struct rz_rdma_desc d;
	struct rz_region *reg;
	struct rz_peer *p;
	int i, k, n = 0, st;
	pid_t pid;
	ssize_t len;

	if (argc >= 2 && strcmp(argv[1], "--producer") == 0)
		return producer_main(argc, argv);
	if (argc < 4) {
		fprintf(stderr, "usage: rz-bench-pkt-remote PKTS ROUNDS SIZE...\n");
		return 1;
	}
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len <= 0)
		return 1;
	self[len] = '\0';
	snprintf(fp, sizeof(fp), "rzb-pkt-%d", (int)getpid());
	snprintf(prefix, sizeof(prefix), "--file-prefix=%s", fp);
	if (rte_eal_init(RTE_DIM(eal) - 1, eal) < 0 || rz_init() != 0 || rz_rdma_init(NULL) != 0) {
		fprintf(stderr, "rz-bench-pkt-remote: EAL / rzone / RDMA init failed\n");
		return 1;
	}
	l = rz_peer_listen(ip, 0);
	mp = rz_pktmbuf_pool_create(POOL_NAME, POOL_N, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
			SOCKET_ID_ANY);
	reg = rz_region_create(RZ_PID_SELF, 2u << 20, RZ_PERM_RW);
	/* The zero-copy consumer's mbuf headers: no data room. */
	hp = rte_pktmbuf_pool_create("rzb-zc-hdr", 1023, 64, 0, 0, SOCKET_ID_ANY);
	if (l == NULL || mp == NULL || reg == NULL || hp == NULL) {
		fprintf(stderr, "rz-bench-pkt-remote: listen / pool / region: %s\n",
				rte_strerror(rte_errno));
		return 1;
	}
	rz_region_map(reg, RZ_PID_SELF, NULL, RZ_PERM_RW);
	for (i = 0; i < NVAR; i++) {
		c[i] = rz_pkt_chan_consumer_create(reg, (size_t)i * RING_STRIDE, NSLOTS, SLOT);
		if (c[i] == NULL)
			return 1;
	}
	snprintf(port, sizeof(port), "%u", rz_peer_listener_port(l));
	snprintf(pfx, sizeof(pfx), "%s", fp);
	if (cg != NULL) {
		snprintf(cgopt, sizeof(cgopt), "--callgrind-out-file=%s", cg);
		pargv[n++] = (char *)(uintptr_t)"/usr/bin/valgrind";
		pargv[n++] = (char *)(uintptr_t)"--tool=callgrind";
		pargv[n++] = (char *)(uintptr_t)"--vgdb=no";
		pargv[n++] = cgopt;
	}
	pargv[n++] = self;
	pargv[n++] = (char *)(uintptr_t)"--producer";
	pargv[n++] = pfx;
	pargv[n++] = (char *)(uintptr_t)ip;
	pargv[n++] = port;
	for (i = 1; i < argc && n < 30; i++)
		pargv[n++] = argv[i];
	pargv[n] = NULL;
	if (posix_spawn(&pid, pargv[0], NULL, NULL, pargv, environ) != 0)
		return 1;
	p = rz_peer_accept(l, TMO * 5);
	if (p == NULL || rz_pktmbuf_pool_share(mp, pid) != 0 || rz_peer_send_msg(p, "pool", 4))
		return 1;
	for (i = 0; i < NVAR; i++)
		if (rz_rdma_grant(reg, p, RZ_MODE_SHARE, (size_t)i * RING_STRIDE,
				rz_pkt_chan_window_size(NSLOTS, SLOT), 0, &d) != 0)
			return 1;
	for (;;) {
		for (i = 0; i < NVAR; i++) {
			if (zc) {
				k = rz_pkt_chan_recv_zc(c[i], hp, zm, RTE_DIM(zm));
				if (k > 0)
					rte_pktmbuf_free_bulk(zm, (unsigned int)k);
				continue;
			}
			k = rz_pkt_chan_peek(c[i], sl, RTE_DIM(sl));
			if (k > 0)
				rz_pkt_chan_release(c[i], (uint16_t)k);
		}
		if (++n % 4096 == 0 && waitpid(pid, &st, WNOHANG) == pid)
			break;
	}
	for (i = 0; i < NVAR; i++) {
		if (zc)
			rz_pkt_chan_recv_zc(c[i], hp, NULL, 0);
		rz_pkt_chan_stats_get(c[i], &cs);
		rx += cs.rx_pkts;
		rx_copied += cs.rx_bytes_copied;
		rx_held += cs.rx_held;
	}
	printf("consumer %s: %" PRIu64 " packets, %" PRIu64 " bytes copied, %" PRIu64
			" slots held at the end\n", zc ? "rz_pkt_chan_recv_zc" : "peek/release", rx,
			rx_copied, rx_held);
	rz_peer_close(p);
	rz_peer_listener_close(l);
	for (i = 0; i < NVAR; i++)
		rz_pkt_chan_close(c[i]);
	rte_mempool_free(hp);
	rz_pktmbuf_pool_free(mp);
	rz_region_destroy(reg);
	rz_rdma_fini();
	rz_fini();
	rte_eal_cleanup();
	if (rx_copied != 0 || rx_held != 0) {
		fprintf(stderr, "rz-bench-pkt-remote: the consumer copied %" PRIu64 " bytes, %"
				PRIu64 " slots held\n", rx_copied, rx_held);
		return 1;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
