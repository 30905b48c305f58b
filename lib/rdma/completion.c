/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * Completions of a peer's send CQ. rzone's own work requests (window binds and invalidations,
 * SENDs of descriptors and messages: wr_id with RZ_WRID_INTERNAL) are waited for one at a
 * time; the completions of the user's asynchronous operations met on the way are stashed for
 * rz_remote_poll(). At most one SEND is in flight; the next one waits for it (backlog).
 */

#include <errno.h>
#include <inttypes.h>
#include <sched.h>

#include "rdma_private.h"

/* Wait for the completion of internal work request @wr_id on the send CQ; other completions
 * (asynchronous operations of the user) are stashed for rz_remote_poll(). */
int
peer_wait_internal(struct rz_peer *p, uint64_t wr_id, int timeout_ms, struct ibv_wc *out)
{
	/* No clock is read before 256 empty polls (and never on the data path, which waits
	 * without a deadline): clock_gettime() is a system call where the clocksource has no vDSO
	 * support (HPET in the test VM). */
	uint64_t deadline = 0;
	struct ibv_wc wc;
	uint32_t spins = 0;

	for (;;) {
		int n = ibv_poll_cq(p->scq, 1, &wc);

		if (n < 0)
			return -EIO;
		if (n == 1) {
			if (wc.wr_id == wr_id) {
				*out = wc;
				return 0;
			}
			if (wc.wr_id & RZ_WRID_INTERNAL) {
				peer_ctrl_seen(p, &wc);
			} else if (p->stash_n < RZ_PEER_STASH) {
				p->stash[(p->stash_head + p->stash_n) % RZ_PEER_STASH] = wc;
				p->stash_n++;
			}
			continue;
		}
		if (timeout_ms >= 0) {
			/* A control operation (bind, invalidate, send): on a software device the
			 * completion is made by kernel work that needs this CPU too. */
			sched_yield();
			if ((++spins & 0xff) == 0) {
				uint64_t now = mono_time_ns();

				if (deadline == 0)
					deadline = now + (uint64_t)timeout_ms * 1000000;
				else if (now > deadline)
					return -ETIMEDOUT;
			}
		}
	}
}

void
peer_ctrl_seen(struct rz_peer *p, const struct ibv_wc *wc)
{
	if (wc->wr_id != p->send_pending)
		return;	/* a control WR whose wait timed out earlier */
	p->send_pending = 0;
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
	ret = peer_wait_internal(p, p->send_pending, RZ_SEND_BACKLOG_MS, &wc);
	if (ret == -ETIMEDOUT) {
		RZ_STAT_INC(stats_backlog_refused, 1);
		return -EAGAIN;
	}
	if (ret != 0)
		return ret;
	peer_ctrl_seen(p, &wc);
	if (wc.status != IBV_WC_SUCCESS)
		return wc.status == IBV_WC_WR_FLUSH_ERR ? -ENOTCONN : -EIO;
	return 0;
}
