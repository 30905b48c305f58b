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

/* Note work request @w (a number wr_posted + 1 + i of the chain being built): the packets
 * accepted up to and including it, @pkt_end, and its @kind. The caller of tx_post_chain()
 * fills these while it builds the chain; entries beyond wr_posted are nobody's until posted
 * (the room checks keep them below TX_WR_RING), so a chain that is then refused leaves
 * nothing behind. */
static inline void
tx_wr_note(struct rz_pkt_tx *tx, uint64_t w, uint64_t pkt_end, uint8_t kind)
{
	uint32_t at = (uint32_t)(w % TX_WR_RING);

	tx->pkt_end[at] = pkt_end;
	tx->kind[at] = kind;
}

/* Keep @m as in-flight packet @pk (a number pkt_posted + i of the chain being built): taken
 * only when tx_post_chain() counts it posted, as tx_wr_note(). */
static inline void
tx_pkt_keep(struct rz_pkt_tx *tx, uint64_t pk, struct rte_mbuf *m)
{
	tx->ring[pk % TX_PKT_RING] = m;
}

/* Post @n work requests the caller built and checked itself (the channel: every offset inside
 * its window), the first @npkts of them one packet each: wr_id numbered wr_posted + 1 + i,
 * chained through next (the last one's next and SIGNALED set here, send_flags otherwise
 * final), each noted (tx_wr_note()) and each packet kept (tx_pkt_keep()) by the caller.
 * Posted without a second validation (remote_post_run()). The number of requests posted
 * (the packets of those are taken), or a negative errno (nothing taken). */
int tx_post_chain(struct rz_pkt_tx *tx, struct ibv_send_wr *wr, unsigned int n,
		uint16_t npkts);

/* Reap the connection's completions, free what they retire: mbufs freed, or -EIO. */
int tx_reap(struct rz_pkt_tx *tx);
/* Initialise @tx on @p (no allocation). */
int tx_init(struct rz_pkt_tx *tx, struct rz_peer *p);
/* Wait for everything in flight, then free what is left; 0 or -ETIMEDOUT. */
int tx_fini(struct rz_pkt_tx *tx);

#endif /* RZ_PKT_REMOTE_PRIVATE_H */
