/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * Completions of a peer's send CQ, delivered to their owner whichever thread polls. The QP
 * carries rzone's own work requests (window binds and invalidations, SENDs of descriptors and
 * messages, synchronous data calls: wr_id with RZ_WRID_INTERNAL and the index of a completion
 * slot) and the user's asynchronous operations. Any thread that waits polls the CQ under the
 * peer's cq_lock (held for one poll, never across a wait) and delivers each completion: an
 * internal one to its slot (its waiter sees @done), a user's one to the stash that
 * rz_remote_poll() hands out. Nothing is discarded but the late completions of internal work
 * requests whose waiter gave up (their slot has moved on to another wr_id). At most one SEND is
 * in flight; the next one waits for it (backlog).
 */

#include <errno.h>
#include <inttypes.h>
#include <sched.h>

#include <rte_pause.h>

#include "rdma_private.h"

int
peer_slot_get(struct rz_peer *p, uint64_t *wr_id)
{
	uint64_t used = __atomic_load_n(&p->slots_used, __ATOMIC_RELAXED);

	for (;;) {
		uint64_t seq;
		int i;

		if (used == UINT64_MAX)
			return -EBUSY;
		i = __builtin_ctzll(~used);
		if (!__atomic_compare_exchange_n(&p->slots_used, &used, used | (UINT64_C(1) << i),
				false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			continue;
		seq = __atomic_add_fetch(&p->seq, 1, __ATOMIC_RELAXED);
		*wr_id = RZ_WRID_INTERNAL | ((seq << 6) & ~RZ_WRID_INTERNAL) | (uint64_t)i;
		__atomic_store_n(&p->slots[i].done, 0, __ATOMIC_RELAXED);
		/* Published before the work request is posted (the post is a release). */
		__atomic_store_n(&p->slots[i].wr_id, *wr_id, __ATOMIC_RELEASE);
		return 0;
	}
}

void
peer_slot_put(struct rz_peer *p, uint64_t wr_id)
{
	uint32_t i = (uint32_t)(wr_id & RZ_WRID_SLOT_MASK);
	struct wait_slot *s = &p->slots[i];
	uint64_t expected = wr_id;

	/* A poller that claimed the slot (wr_id swapped to 0) is writing the completion: let it
	 * finish before the slot can be reused. */
	if (!__atomic_compare_exchange_n(&s->wr_id, &expected, 0, false, __ATOMIC_ACQ_REL,
			__ATOMIC_ACQUIRE))
		while (__atomic_load_n(&s->done, __ATOMIC_ACQUIRE) != wr_id)
			rte_pause();
	__atomic_fetch_and(&p->slots_used, ~(UINT64_C(1) << i), __ATOMIC_RELEASE);
}

void
peer_deliver_internal(struct rz_peer *p, const struct ibv_wc *wc)
{
	struct wait_slot *s = &p->slots[wc->wr_id & RZ_WRID_SLOT_MASK];
	uint64_t expected = wc->wr_id;

	/* Claimed (wr_id swapped to 0) only if still waited for: a late completion of a work
	 * request whose slot was given up and reused goes nowhere. */
	if (!__atomic_compare_exchange_n(&s->wr_id, &expected, 0, false, __ATOMIC_ACQ_REL,
			__ATOMIC_RELAXED))
		return;
	s->wc = *wc;
	__atomic_store_n(&s->done, wc->wr_id, __ATOMIC_RELEASE);
}

void
peer_stash_put(struct rz_peer *p, const struct ibv_wc *wc)
{
	uint32_t tail = p->stash_tail;	/* ours: cq_lock held */

	if (likely(tail - __atomic_load_n(&p->stash_head, __ATOMIC_ACQUIRE) < RZ_PEER_STASH)) {
		p->stash[tail % RZ_PEER_STASH] = *wc;
		__atomic_store_n(&p->stash_tail, tail + 1, __ATOMIC_RELEASE);
		return;
	}
	/* Cannot happen: the asynchronous path has fewer signaled operations in flight. */
	RZ_LOG(ERR, "peer %016" PRIx64 ": completion stash full, wr_id 0x%" PRIx64 " lost",
			p->remote_id, wc->wr_id);
}

/* Deliver one completion: cq_lock held. */
static void
deliver(struct rz_peer *p, const struct ibv_wc *wc)
{
	if (wc->wr_id & RZ_WRID_INTERNAL)
		peer_deliver_internal(p, wc);
	else
		peer_stash_put(p, wc);
}

void
peer_cq_drain(struct rz_peer *p)
{
	struct ibv_wc wc[16];
	int n, i;

	if (!cq_trylock(p))
		return;	/* another thread polls and delivers */
	do {
		n = ibv_poll_cq(p->scq, (int)RTE_DIM(wc), wc);
		for (i = 0; i < n; i++)
			deliver(p, &wc[i]);
	} while (n == (int)RTE_DIM(wc));
	cq_unlock(p);
}

int
peer_wait_slot(struct rz_peer *p, uint64_t wr_id, int timeout_ms, struct ibv_wc *out)
{
	struct wait_slot *s = &p->slots[wr_id & RZ_WRID_SLOT_MASK];
	bool relock = rdma_lock_held();
	/* No clock is read before 256 empty polls: clock_gettime() is a system call where the
	 * clocksource has no vDSO support (HPET in the test VM). */
	uint64_t deadline = 0;
	uint32_t spins = 0;
	int ret = 0;

	if (relock)
		rdma_unlock();	/* no wait with the process's lock */
	for (;;) {
		if (__atomic_load_n(&s->done, __ATOMIC_ACQUIRE) == wr_id) {
			if (out != NULL)
				*out = s->wc;
			break;
		}
		/* A watcher of a slot it does not own (@out NULL): done once the completion came,
		 * whoever took it (wr_id swapped to 0, or the slot reused since). */
		if (out == NULL && __atomic_load_n(&s->wr_id, __ATOMIC_ACQUIRE) != wr_id)
			break;
		peer_cq_drain(p);
		if (__atomic_load_n(&s->done, __ATOMIC_ACQUIRE) == wr_id)
			continue;
		/* On a software device the completion is made by kernel work that needs this
		 * CPU too. */
		sched_yield();
		if ((++spins & 0xff) == 0) {
			uint64_t now = mono_time_ns();

			if (deadline == 0) {
				deadline = now + (uint64_t)timeout_ms * 1000000;
			} else if (now > deadline) {
				ret = -ETIMEDOUT;
				break;
			}
		}
	}
	if (relock)
		rdma_lock();
	return ret;
}

/* The pending SEND's completion, once it came: slot freed, status logged. */
static void
send_reaped(struct rz_peer *p, const struct ibv_wc *wc)
{
	peer_slot_put(p, p->send_pending);
	__atomic_store_n(&p->send_pending, 0, __ATOMIC_RELEASE);
	if (wc->status != IBV_WC_SUCCESS)
		/* The QP is in error: nothing can use the grant's window (it is bound on this QP),
		 * and the peer's grants go when the connection is seen down. */
		RZ_LOG(ERR, "descriptor or message to peer 0x%016" PRIx64 " not delivered: %s",
				p->remote_id, ibv_wc_status_str(wc->status));
}

int
peer_backlog(struct rz_peer *p)
{
	struct ibv_wc wc;
	int ret;

	if (p->send_pending == 0)
		return 0;
	ret = peer_wait_slot(p, p->send_pending, RZ_SEND_BACKLOG_MS, &wc);
	if (ret == -ETIMEDOUT) {
		RZ_STAT_INC(stats_backlog_refused, 1);
		return -EAGAIN;
	}
	if (ret != 0)
		return ret;
	send_reaped(p, &wc);
	if (wc.status != IBV_WC_SUCCESS)
		return wc.status == IBV_WC_WR_FLUSH_ERR ? -ENOTCONN : -EIO;
	return 0;
}

int
peer_post_wait(struct rz_peer *p, struct ibv_send_wr *wr, int timeout_ms, struct ibv_wc *wc)
{
	struct ibv_send_wr *bad;
	int ret;

	ret = peer_slot_get(p, &wr->wr_id);
	if (ret != 0)
		return ret;
	wr->send_flags |= IBV_SEND_SIGNALED;
	ret = ibv_post_send(p->qp, wr, &bad);
	if (ret != 0) {
		peer_slot_put(p, wr->wr_id);
		return rdma_errno(ret);
	}
	ret = peer_wait_slot(p, wr->wr_id, timeout_ms, wc);
	peer_slot_put(p, wr->wr_id);
	return ret;
}
