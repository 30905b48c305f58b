/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_PKT_REMOTE_PRIVATE_H
#define RZ_PKT_REMOTE_PRIVATE_H

/*
 * What tx.c (the zero-copy sender) offers chan.c (the packet channel).
 *
 * Retirement: every work request the sender posts has wr_id = its number (wrs posted before it
 * + 1, below 2^62). An RC queue pair completes in order, so a completion of number w, signaled
 * or failed, means the device is done with every request up to w: @pkt_end[w % TX_WR_RING] is
 * the number of packets accepted up to and including request w, and the in-flight mbufs below
 * it are freed. A request that is a channel's head read has TX_WR_HEAD_READ in @kind.
 */

#include <stdbool.h>
#include <stdint.h>

#include <infiniband/verbs.h>

#include <rte_mbuf.h>

#include "rzone_pkt_remote.h"
#include "rzone_rdma.h"

#define TX_WR_RING	512	/* > the work requests in flight (TX_WR_MAX) */
#define TX_WR_MAX	224	/* below the connection's asynchronous send queue (256) */
#define TX_PKT_RING	512	/* in-flight mbufs (packets, not segments) */
#define TX_WR_HEAD_READ	1

struct rz_pkt_tx {
	struct rz_peer *p;
	uint32_t max_sge;
	uint32_t max_inline;		/* the connection's inline limit (as build_wr() uses it) */
	int err;			/* first completion error (sticky) */
	uint64_t wr_posted;		/* work requests posted */
	uint64_t wr_done;		/* ... known completed */
	uint64_t pkt_posted;		/* packets accepted */
	uint64_t pkt_freed;		/* ... whose mbufs are freed */
	/* Called for a completed head read (chan.c), with its status. */
	void (*on_head_read)(void *arg, int status);
	void *arg;
	struct rz_pkt_tx_stats st;
	uint64_t pkt_end[TX_WR_RING];
	uint8_t kind[TX_WR_RING];
	struct rte_mbuf *ring[TX_PKT_RING];
};

/* Work requests and packets that may still be posted now. */
static inline uint32_t
tx_wr_room(const struct rz_pkt_tx *tx)
{
	return TX_WR_MAX - (uint32_t)(tx->wr_posted - tx->wr_done);
}

static inline uint32_t
tx_pkt_room(const struct rz_pkt_tx *tx)
{
	return TX_PKT_RING - (uint32_t)(tx->pkt_posted - tx->pkt_freed);
}

/* Fill @sge (at most @max entries) with the segments of @m: their count, or -EINVAL (too many,
 * an empty one) / the errors of rz_mbuf_lkey(). */
int tx_mbuf_sgl(const struct rte_mbuf *m, struct rz_remote_sge *sge, uint32_t max);

/* Post @n prepared operations (their wr_id and flags set here: numbered, the last signaled)
 * carrying @npkts packets @pkts (kept until retired); @kind_last marks the last one. The
 * number of operations posted (packets of the operations refused are not taken: only
 * whole-burst success takes them), or a negative errno. */
int tx_post(struct rz_pkt_tx *tx, struct rz_remote_op *ops, unsigned int n,
		struct rte_mbuf **pkts, uint16_t npkts, uint8_t kind_last);

/* As tx_post(), for work requests the caller built and checked itself (the channel: every
 * offset inside its window): wr_id, chaining and the last one's SIGNALED set here, send_flags
 * otherwise final; posted without a second validation (remote_post_prepared()). */
int tx_post_wr(struct rz_pkt_tx *tx, struct ibv_send_wr *wr, unsigned int n,
		struct rte_mbuf **pkts, uint16_t npkts, uint8_t kind_last);

/* Reap the connection's completions, free what they retire: mbufs freed, or -EIO. */
int tx_reap(struct rz_pkt_tx *tx);
/* Initialise @tx on @p (no allocation). */
int tx_init(struct rz_pkt_tx *tx, struct rz_peer *p);
/* Wait for everything in flight, then free what is left; 0 or -ETIMEDOUT. */
int tx_fini(struct rz_pkt_tx *tx);

#endif /* RZ_PKT_REMOTE_PRIVATE_H */
