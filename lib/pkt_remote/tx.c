/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * Zero-copy remote send of mbufs (rzone_pkt_remote.h): one RDMA WRITE per packet whose scatter
 * list is the mbuf's segments, a burst chained into one doorbell (rz_remote_post_burst()), the
 * last request of each burst signaled, and the mbufs kept in a ring until a completion retires
 * them (pkt_remote_private.h says how). No lock, no allocation, no payload copy.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "core_private.h"
#include "rzone_pkt.h"
#include "pkt_private.h"
#include "rdma_private.h"
#include "pkt_remote_private.h"

/* This thread's last pool of direct mbufs and its lkey, valid while pkt_pool_gen is @gen (no
 * pool freed, no key table entry written since). Per thread: no sharing, no lock. Initial-exec:
 * an access is one load relative to the thread pointer, not a call. */
struct lkey_cache {
	const struct rte_mempool *mp;
	uint64_t gen;
	uint32_t lkey;
};

static __thread struct lkey_cache lkey_last __attribute__((tls_model("initial-exec")));

/* The lkey of a direct mbuf's pool: this thread's last one if it is the same pool and still
 * valid, else pkt_direct_lkey() (inline: the pool's private area, the key table). */
static inline int
pool_lkey(const struct rte_mempool *mp, uint32_t *lkey)
{
	struct lkey_cache *c = &lkey_last;
	uint64_t gen = __atomic_load_n(&pkt_pool_gen, __ATOMIC_ACQUIRE);
	int ret;

	if (likely(c->mp == mp && c->gen == gen)) {
		*lkey = c->lkey;
		return 0;
	}
	ret = pkt_direct_lkey(mp, lkey);
	if (unlikely(ret != 0))
		return ret;
	c->mp = mp;
	c->gen = gen;
	c->lkey = *lkey;
	return 0;
}

/* The segments' lkeys: a direct segment's is its pool's (pool_lkey(): no call across modules,
 * once per pool and packet, the segments of a packet usually share one); a clone's or an
 * external buffer's through rz_mbuf_lkey(). */
int
tx_mbuf_sgl(const struct rte_mbuf *m, struct rz_remote_sge *sge, uint32_t max)
{
	const struct rte_mempool *pool = NULL;
	uint32_t n = 0, lkey = 0;
	int ret;

	if (m->nb_segs > max)
		return -EINVAL;
	for (; m != NULL; m = m->next) {
		if (unlikely(n == max || m->data_len == 0))
			return -EINVAL;
		if (likely(RTE_MBUF_DIRECT(m))) {
			if (m->pool != pool) {
				ret = pool_lkey(m->pool, &lkey);
				if (unlikely(ret != 0))
					return ret;
				pool = m->pool;
			}
			sge[n].lkey = lkey;
		} else {
			ret = rz_mbuf_lkey(m, &sge[n].lkey);
			if (unlikely(ret != 0))
				return ret;
		}
		sge[n].addr = rte_pktmbuf_mtod(m, uintptr_t);
		sge[n].len = m->data_len;
		n++;
	}
	return (int)n;
}

/* Free the in-flight mbufs of packets [pkt_freed, @end). */
static unsigned int
tx_free_to(struct rz_pkt_tx *tx, uint64_t end)
{
	unsigned int freed = 0;

	while (tx->pkt_freed < end) {
		uint32_t at = (uint32_t)(tx->pkt_freed % TX_PKT_RING);
		uint32_t k = (uint32_t)RTE_MIN(end - tx->pkt_freed, (uint64_t)(TX_PKT_RING - at));

		rte_pktmbuf_free_bulk(&tx->ring[at], k);
		tx->pkt_freed += k;
		freed += k;
	}
	tx->st.freed += freed;
	return freed;
}

int
tx_reap(struct rz_pkt_tx *tx)
{
	struct rz_remote_cqe cqe[16];
	int n, i, freed = 0;

	do {
		n = rz_remote_poll(tx->p, cqe, RTE_DIM(cqe));
		if (n < 0)
			return n;
		for (i = 0; i < n; i++) {
			uint64_t w = cqe[i].wr_id;
			uint32_t at = (uint32_t)(w % TX_WR_RING);

			tx->st.completions++;
			/* Not one of ours (or already retired): the connection is shared. */
			if (w <= tx->wr_done || w > tx->wr_posted)
				continue;
			if (cqe[i].status != 0) {
				tx->st.errors++;
				if (tx->err == 0) {
					tx->err = cqe[i].status;
					RZ_LOG(ERR, "remote packets: work request %" PRIu64
							" failed: %s", w, strerror(-cqe[i].status));
				}
			}
			tx->wr_done = w;
			freed += (int)tx_free_to(tx, tx->pkt_end[at]);
			if (tx->kind[at] == TX_WR_HEAD_READ && tx->on_head_read != NULL)
				tx->on_head_read(tx->arg, cqe[i].status);
		}
	} while (n == (int)RTE_DIM(cqe));
	tx->st.inflight = tx->pkt_posted - tx->pkt_freed;
	return freed;
}

/* After a post of @n requests carrying @npkts packets: the device took @ret (> 0). Counts the
 * doorbell, the requests and the packets now in flight; returns how many packets those are. */
static unsigned int
tx_account(struct rz_pkt_tx *tx, int ret, unsigned int n, uint16_t npkts)
{
	unsigned int taken = (unsigned int)ret < npkts ? (unsigned int)ret : npkts;

	tx->st.doorbells++;
	tx->st.wrs += (uint64_t)ret;
	tx->wr_posted += (uint64_t)ret;
	tx->pkt_posted += taken;
	if ((unsigned int)ret < n && tx->err == 0) {
		/* The device refused part of a burst it had room for (never seen): the
		 * connection's stream is cut; everything posted still completes. */
		RZ_LOG(ERR, "remote packets: the device took %d of %u work requests", ret, n);
		tx->err = -EIO;
	}
	tx->st.inflight = tx->pkt_posted - tx->pkt_freed;
	return taken;
}

int
tx_post(struct rz_pkt_tx *tx, struct rz_remote_op *ops, unsigned int n,
		struct rte_mbuf **pkts, uint16_t npkts, uint8_t kind_last)
{
	uint64_t w = tx->wr_posted, pk = tx->pkt_posted;
	unsigned int i, taken;
	int ret;

	for (i = 0; i < n; i++) {
		uint32_t at = (uint32_t)((w + 1 + i) % TX_WR_RING);

		ops[i].wr_id = w + 1 + i;
		ops[i].flags = i + 1 < n ? RZ_REMOTE_F_UNSIGNALED : 0;
		/* Packet requests come first, one per packet; the rest carry none. */
		pk += i < npkts ? 1 : 0;
		tx->pkt_end[at] = pk;
		tx->kind[at] = 0;
	}
	tx->kind[(w + n) % TX_WR_RING] = kind_last;
	ret = rz_remote_post_burst(tx->p, ops, n);
	if (ret <= 0)
		return ret;
	/* The packets of the requests posted are in flight: keep them (at the ring positions
	 * from pk on, before the account moves it). */
	pk = tx->pkt_posted;
	taken = tx_account(tx, ret, n, npkts);
	for (i = 0; i < taken; i++)
		tx->ring[(pk + i) % TX_PKT_RING] = pkts[i];
	return ret;
}

int
tx_post_chain(struct rz_pkt_tx *tx, struct ibv_send_wr *wr, unsigned int n, uint16_t npkts)
{
	int ret;

	wr[n - 1].next = NULL;
	wr[n - 1].send_flags |= IBV_SEND_SIGNALED;
	ret = remote_post_run(tx->p, wr, n);
	if (ret <= 0)
		return ret;
	/* The packets of the requests posted are in flight (kept in the ring already). */
	tx_account(tx, ret, n, npkts);
	return ret;
}

int
tx_init(struct rz_pkt_tx *tx, struct rz_peer *p)
{
	int sge = rz_peer_max_sge(p);

	if (sge < 0)
		return sge;
	if (rz_peer_connected(p) != 1)
		return -ENOTCONN;
	memset(tx, 0, offsetof(struct rz_pkt_tx, pkt_end));
	tx->p = p;
	tx->max_sge = (uint32_t)sge;
	tx->max_inline = p->max_inline;
	return 0;
}

static uint64_t
tx_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
tx_flush(struct rz_pkt_tx *tx, int timeout_ms)
{
	uint64_t until;
	int ret;

	if (timeout_ms < 0)
		timeout_ms = rz_peer_sync_timeout_ms(tx->p);
	until = tx_now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		ret = tx_reap(tx);
		if (ret < 0)
			return ret;
		if (tx->wr_done == tx->wr_posted)
			return tx->err;
		if (tx_now_ms() >= until)
			return -ETIMEDOUT;
		sched_yield();
	}
}

int
tx_fini(struct rz_pkt_tx *tx)
{
	int ret = tx_flush(tx, -1);

	if (ret == -ETIMEDOUT) {
		RZ_LOG(WARNING, "remote packets: %" PRIu64 " packets still in flight after the "
				"connection's bound: freed anyway", tx->pkt_posted - tx->pkt_freed);
	} else {
		ret = 0;
	}
	tx_free_to(tx, tx->pkt_posted);
	return ret;
}

struct rz_pkt_tx *
rz_pkt_tx_create(struct rz_peer *p)
{
	struct rz_pkt_tx *tx;
	int ret;

	if (p == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	tx = calloc(1, sizeof(*tx));
	if (tx == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	ret = tx_init(tx, p);
	if (ret != 0) {
		RZ_LOG(ERR, "rz_pkt_tx_create: %s", strerror(-ret));
		free(tx);
		rte_errno = -ret;
		return NULL;
	}
	return tx;
}

int
rz_pkt_tx_send(struct rz_pkt_tx *tx, const struct rz_rdma_desc *window,
		const uint64_t *remote_off, struct rte_mbuf **pkts, uint16_t n)
{
	struct rz_remote_sge sge[RZ_PKT_BURST_MAX][RZ_REMOTE_SGE_MAX];
	struct rz_remote_op ops[RZ_PKT_BURST_MAX];
	uint16_t done = 0;
	int ret;

	if (tx == NULL || window == NULL || remote_off == NULL || pkts == NULL || n == 0)
		return -EINVAL;
	ret = tx_reap(tx);
	if (ret < 0)
		return ret;
	if (tx->err != 0)
		return tx->err;
	while (done < n) {
		uint32_t k = RTE_MIN((uint32_t)(n - done), (uint32_t)RZ_PKT_BURST_MAX), i;

		k = RTE_MIN(k, tx_wr_room(tx));
		k = RTE_MIN(k, tx_pkt_room(tx));
		if (k == 0) {
			tx->st.backpressure++;
			return done > 0 ? done : -ENOBUFS;
		}
		for (i = 0; i < k; i++) {
			struct rte_mbuf *m = pkts[done + i];

			ret = tx_mbuf_sgl(m, sge[i], tx->max_sge);
			if (ret < 0)
				break;
			ops[i].opcode = RZ_REMOTE_WRITE;
			ops[i].remote = window;
			ops[i].remote_off = remote_off[done + i];
			ops[i].len = m->pkt_len;
			ops[i].sgl = sge[i];
			ops[i].nsge = (uint32_t)ret;
		}
		if (i == 0) {
			if (ret < 0)
				RZ_LOG(ERR, "rz_pkt_tx_send: packet %u refused: %s", done,
						strerror(-ret));
			return done > 0 ? done : ret;
		}
		ret = tx_post(tx, ops, i, pkts + done, (uint16_t)i, 0);
		if (ret <= 0) {
			if (ret == -ENOBUFS)
				tx->st.backpressure++;
			return done > 0 ? done : ret;
		}
		tx->st.pkts += (uint64_t)ret;
		for (i = 0; i < (uint32_t)ret; i++)
			tx->st.bytes += pkts[done + i]->pkt_len;
		done = (uint16_t)(done + ret);
		if ((uint32_t)ret < k)
			break;
	}
	return done;
}

int
rz_pkt_tx_reap(struct rz_pkt_tx *tx)
{
	return tx == NULL ? -EINVAL : tx_reap(tx);
}

int
rz_pkt_tx_flush(struct rz_pkt_tx *tx, int timeout_ms)
{
	return tx == NULL ? -EINVAL : tx_flush(tx, timeout_ms);
}

int
rz_pkt_tx_stats_get(const struct rz_pkt_tx *tx, struct rz_pkt_tx_stats *st)
{
	if (tx == NULL || st == NULL)
		return -EINVAL;
	*st = tx->st;
	st->inflight = tx->pkt_posted - tx->pkt_freed;
	return 0;
}

int
rz_pkt_tx_free(struct rz_pkt_tx *tx)
{
	int ret;

	if (tx == NULL)
		return 0;
	ret = tx_fini(tx);
	free(tx);
	return ret;
}
