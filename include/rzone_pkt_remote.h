/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZONE_PKT_REMOTE_H
#define RZONE_PKT_REMOTE_H

/**
 * @file
 * rzone remote packets: mbufs RDMA-written to a remote peer straight from their data, and a
 * packet channel (a single-producer / single-consumer ring) across hosts.
 *
 * Zero-copy send (rz_pkt_tx_*): a burst of mbufs becomes one RDMA WRITE per packet whose
 * scatter list has one entry per mbuf segment (local keys from rz_mbuf_lkey(), so the mbufs
 * come from an rzone pool, rz_pktmbuf_pool_create()), chained into one doorbell per burst,
 * unsignaled but for the last of each burst. An accepted mbuf belongs to the sender until the
 * device is done with it: it is freed to its pool when a completion retires it (a ring of
 * in-flight mbufs per connection). No payload byte is copied by rzone on the way
 * (rz_pkt_tx_stats.bytes_copied counts them: it stays 0; a device may still inline the
 * smallest work requests, as raw verbs users do).
 *
 * Packet channel (rz_pkt_chan_*): the consumer lays a ring out in a region it owns
 * (rz_pkt_chan_consumer_create()) and grants the ring's window to the producer
 * (rz_rdma_grant(), RZ_MODE_SHARE: read and write); the producer attaches to the descriptor
 * (rz_pkt_chan_producer_attach()), RDMA-writes each packet into the next slot (a 16-byte slot
 * header then the payload, zero-copy from the mbuf), then its new tail; it learns the consumer's
 * head (its credits) by an RDMA READ of the ring's control block, posted only when the ring
 * looks full. Backpressure, never overwrite: a send accepts what fits and returns -ENOBUFS when
 * nothing does. The layout is in doc/wire-format.md ("Packet channel"), byte by byte, so that a
 * peer in another language can be either side. The consumer trusts nothing the producer wrote
 * (tail, slot headers): it keeps the ring's geometry and its head in private memory, checks
 * every index and length, drops a malformed slot (counted) and never reads outside its ring.
 *
 * Revoking the producer's grant (rz_rdma_revoke() on the consumer) stops the producer: its next
 * writes fail with a remote access error, so its sends return -EACCES (then -ENOTCONN once the
 * connection is in error), and the ring stays consistent for the consumer: a tail is published
 * only after the slots it covers on the same RC connection, so the consumer drains exactly the
 * packets published before the revoke. A new connection and grant resume the stream where the
 * consumer's tail left it.
 *
 * Threading: a sender (rz_pkt_tx) or a channel end is driven by one thread at a time; it owns
 * the asynchronous data path of its connection (its rz_remote_poll() completions: use the
 * connection for nothing else asynchronous; if something else posts on it anyway, a burst the
 * peer's send queue has no room for is refused whole with -ENOBUFS, and the other poster's
 * completions are taken and dropped by the sender's reap). Many lcores: one connection and one
 * channel each.
 * The calls marked "control" allocate and may wait; the data path (send, reap, peek, release,
 * recv, recv_zc) allocates nothing, takes no lock and copies no payload (but
 * rz_pkt_chan_recv(), which copies into the caller's mbufs, counted).
 *
 * Zero-copy receive (rz_pkt_chan_recv_zc()): the consumer hands out mbufs whose data is the
 * payload in its slot (DPDK external buffers: only the mbuf headers come from the caller's
 * pool), so an application or a PMD reads, forwards or transmits straight from the ring. A
 * slot's credit goes back to the producer only once all its mbufs are freed, in ring order: a
 * packet freed before an earlier one holds no credit back by itself, but the head waits for
 * the earlier one. Ownership and threads: the mbufs are the caller's, to free with
 * rte_pktmbuf_free() from any thread of the consumer's process (another lcore, a PMD's
 * transmit cleanup, a control thread), in any order, clones included (the slot waits for the
 * last reference); their free callback does one atomic store and nothing else (no lock, no
 * allocation). The head moves in the consumer thread only, in its next rz_pkt_chan_recv_zc()
 * (@p n 0: only that). While zero-copy mbufs are out, rz_pkt_chan_peek(), _release(), _recv()
 * and rz_pkt_chan_close() refuse with -EBUSY. Not to be freed in another process (the free
 * callback is this process's), not with a PMD's RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE (which
 * skips the callback). The consumer's region outlives them: while a consumer is open (and so
 * while its mbufs are out, as close refuses then), this process's rz_region_destroy() and
 * rz_region_transfer_ownership() of that region return -EBUSY; other processes cannot destroy
 * it while this one maps it.
 *
 * @code
 * #include <rzone_pkt_remote.h>	// cc app.c $(pkg-config --cflags --libs librzone)
 * @endcode
 */

/**
 * @defgroup rzone_pkt_remote Remote packets: zero-copy send of mbufs, packet channels
 *
 * @details
 * mbufs of an rzone pool RDMA-written to a remote window from their own data, freed on
 * completion; a ring of packet slots across hosts with credits and backpressure.
 *
 * @code
 * #include <rzone_pkt_remote.h>	// cc app.c $(pkg-config --cflags --libs librzone)
 * @endcode
 */

#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "rzone.h"
#include "rzone_rdma.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @addtogroup rzone_pkt_remote
 * @{
 */

/** Most packets one rz_pkt_tx_send() or rz_pkt_chan_send() posts with one doorbell (more are
 * taken in several). */
#define RZ_PKT_BURST_MAX 31

/** Bytes of the channel's control block, before slot 0 (doc/wire-format.md). */
#define RZ_PKT_CHAN_CTRL_SIZE 256
/** Bytes of a slot header, before the payload. */
#define RZ_PKT_CHAN_SLOT_HDR 16
/** Slots: a power of two in [RZ_PKT_CHAN_SLOTS_MIN, RZ_PKT_CHAN_SLOTS_MAX]. */
#define RZ_PKT_CHAN_SLOTS_MIN 2
/** Most slots of a channel. */
#define RZ_PKT_CHAN_SLOTS_MAX 65536
/** Slot size: a multiple of 64 in [RZ_PKT_CHAN_SLOT_MIN, RZ_PKT_CHAN_SLOT_MAX]. */
#define RZ_PKT_CHAN_SLOT_MIN 64
/** Largest slot (header included). */
#define RZ_PKT_CHAN_SLOT_MAX (1u << 20)

/** A zero-copy sender of mbufs on one connection. */
struct rz_pkt_tx;
/** One end of a packet channel (producer or consumer). */
struct rz_pkt_chan;

/** Counters of a sender (all since its creation). */
struct rz_pkt_tx_stats {
	uint64_t pkts;          /**< Packets accepted (posted). */
	uint64_t bytes;         /**< Their payload bytes. */
	uint64_t wrs;           /**< Work requests posted (packets, tails, head reads). */
	uint64_t doorbells;     /**< ibv_post_send() calls (one per burst). */
	uint64_t completions;   /**< Completions reaped (signaled, or errors). */
	uint64_t freed;         /**< mbufs freed to their pool after their completion. */
	uint64_t inflight;      /**< Packets posted whose mbufs are not freed yet. */
	uint64_t backpressure;  /**< Sends that accepted fewer than asked for lack of room. */
	uint64_t errors;        /**< Completions in error. */
	uint64_t bytes_copied;  /**< Payload bytes rzone copied to send them: 0 on this path. */
};

/** Counters of a channel end. */
struct rz_pkt_chan_stats {
	struct rz_pkt_tx_stats tx;  /**< Producer: its sender's. Consumer: zero. */
	uint64_t head_reads;    /**< Producer: RDMA READs of the consumer's head (credits). */
	uint64_t rx_pkts;       /**< Consumer: packets handed to the application. */
	uint64_t rx_bytes;      /**< Consumer: their payload bytes. */
	uint64_t rx_bytes_copied; /**< Consumer: bytes rz_pkt_chan_recv() copied into mbufs. */
	uint64_t rx_bad;        /**< Consumer: malformed slots dropped (length or flags). */
	uint64_t rx_bad_tail;   /**< Consumer: tails refused (behind the head, or > ring ahead). */
	uint64_t rx_nombuf;     /**< Consumer: rz_pkt_chan_recv() or rz_pkt_chan_recv_zc() short
				  *  of mbufs. */
	uint64_t rx_held;       /**< Consumer: slots handed out by rz_pkt_chan_recv_zc() whose
				  *  credits are not back yet (mbufs not all freed, or freed since
				  *  the consumer's last call): the producer cannot use them. */
	uint64_t head_reads_empty; /**< Producer: head reads that brought no credit (each makes
				    *  the next wait longer: 2 us doubling up to 1 ms; a read
				    *  that brings credit ends the wait). */
};

/** A slot the consumer may read in place (rz_pkt_chan_peek()). */
struct rz_pkt_chan_slot {
	const uint8_t *data;    /**< First payload byte, in the ring. */
	uint32_t len;           /**< Payload bytes (checked: inside the slot). */
	uint64_t seq;           /**< The slot's sequence number (0 for the first packet). */
};

/**
 * Control: a zero-copy sender on connection @p p. It takes the connection's asynchronous data
 * path (no other rz_remote_post() user on it).
 *
 * @param p
 *   Connected peer.
 * @return
 *   The sender, or NULL with rte_errno set to EINVAL (NULL), ENOTCONN (not connected),
 *   ENOMEM, or the errors of rz_rdma_register_mem() (its small registered header area).
 */
struct rz_pkt_tx *rz_pkt_tx_create(struct rz_peer *p);

/**
 * RDMA-write a burst of mbufs into a remote window, packet i at @p remote_off[i], from the
 * mbufs' own data: one work request per packet, one scatter entry per segment, one doorbell
 * per RZ_PKT_BURST_MAX packets, the last of each signaled. Data path.
 *
 * Accepted mbufs belong to the sender from now on: each is freed to its pool once a completion
 * shows the device is done with it (rz_pkt_tx_reap(), also called here). The others stay the
 * caller's.
 *
 * @param tx
 *   Sender.
 * @param window
 *   Descriptor of the remote window (granted with write right).
 * @param remote_off
 *   Offset in the window of each packet.
 * @param pkts
 *   mbufs of an rzone pool (rz_mbuf_lkey()), each at most rz_peer_max_sge() segments.
 * @param n
 *   Number of packets.
 * @return
 *   Packets accepted (1..n, in order: the first ones), or, nothing accepted:
 *   -EINVAL (NULL argument, @p n 0; or the first packet is bad: more segments than the
 *   connection's scatter list, an empty segment, or an mbuf whose pool is not an rzone pool of
 *   this process: the errors of rz_mbuf_lkey()); -ERANGE (the first packet does not fit the
 *   window at its offset); -ENOBUFS (no room: too many work requests or mbufs in flight; reap
 *   and retry); -EACCES (an earlier write was refused by the remote: revoked window or wrong
 *   rights; the connection is in error); -ENOTCONN (connection in error or gone); -EIO.
 *   A bad packet after the first ends the burst before it (the count says where).
 */
int rz_pkt_tx_send(struct rz_pkt_tx *tx, const struct rz_rdma_desc *window,
		const uint64_t *remote_off, struct rte_mbuf **pkts, uint16_t n);

/**
 * Reap the connection's completions: free the mbufs they retire. Never blocks. Data path.
 *
 * @param tx
 *   Sender.
 * @return
 *   mbufs freed (>= 0); -EINVAL (NULL); -EIO (completion queue error).
 */
int rz_pkt_tx_reap(struct rz_pkt_tx *tx);

/**
 * Wait until every accepted mbuf is freed (the device is done with all of them).
 *
 * @param tx
 *   Sender.
 * @param timeout_ms
 *   Bound; < 0: rz_peer_sync_timeout_ms() of the connection.
 * @return
 *   0; -EINVAL; -ETIMEDOUT (some still in flight); or the connection's first error (-EACCES,
 *   -ENOTCONN, -EIO, ...) once everything in flight has completed.
 */
int rz_pkt_tx_flush(struct rz_pkt_tx *tx, int timeout_ms);

/**
 * Counters of a sender.
 *
 * @param tx
 *   Sender.
 * @param st
 *   Filled.
 * @return
 *   0; -EINVAL (NULL).
 */
int rz_pkt_tx_stats_get(const struct rz_pkt_tx *tx, struct rz_pkt_tx_stats *st);

/**
 * Control: free a sender. In-flight mbufs are waited for (rz_pkt_tx_flush() with the
 * connection's bound), then freed; the connection stays open. Call before rz_peer_close().
 *
 * @param tx
 *   Sender, or NULL (nothing done).
 * @return
 *   0; -ETIMEDOUT (the device did not finish within the bound: the mbufs were freed anyway,
 *   logged).
 */
int rz_pkt_tx_free(struct rz_pkt_tx *tx);

/**
 * Bytes of a channel's window: RZ_PKT_CHAN_CTRL_SIZE + @p nslots x @p slot_size.
 *
 * @param nslots
 *   Slots.
 * @param slot_size
 *   Slot size.
 * @return
 *   The size, or 0 if the geometry is invalid (see rz_pkt_chan_consumer_create()).
 */
size_t rz_pkt_chan_window_size(uint32_t nslots, uint32_t slot_size);

/**
 * Control: lay a channel's ring out at @p offset of region @p r (mapped read/write by the
 * caller), empty and open. Grant the producer rz_pkt_chan_window_size() bytes from @p offset
 * with rz_rdma_grant() (RZ_MODE_SHARE).
 *
 * @param r
 *   Region.
 * @param offset
 *   Offset of the window in @p r, a multiple of 64.
 * @param nslots
 *   Slots, a power of two in [RZ_PKT_CHAN_SLOTS_MIN, RZ_PKT_CHAN_SLOTS_MAX].
 * @param slot_size
 *   Slot bytes (header included), a multiple of 64 in [RZ_PKT_CHAN_SLOT_MIN,
 *   RZ_PKT_CHAN_SLOT_MAX]: the largest packet is @p slot_size - RZ_PKT_CHAN_SLOT_HDR.
 * @return
 *   The consumer end, or NULL with rte_errno set to EINVAL (NULL, bad geometry or offset),
 *   ERANGE (the window does not fit the region), EACCES (the caller does not map the region
 *   read/write), ENOMEM, or the errors of rz_region_addr().
 */
struct rz_pkt_chan *rz_pkt_chan_consumer_create(struct rz_region *r, size_t offset,
		uint32_t nslots, uint32_t slot_size);

/**
 * Control: attach the producer end to a channel whose window the consumer granted on
 * connection @p p. Reads the control block (synchronous RDMA READ, so nothing else may be in
 * flight on @p p), checks it and starts at the consumer's tail.
 *
 * @param p
 *   Connection the window was granted on.
 * @param window
 *   Its descriptor (read and write rights).
 * @return
 *   The producer end, or NULL with rte_errno set to EINVAL (NULL), EACCES (the descriptor
 *   lacks read or write right, or the read was refused), EPROTO (no valid control block:
 *   magic, version, geometry larger than the window, indices out of order), EPIPE (the
 *   consumer closed the channel), or the errors of rz_remote_read() and rz_pkt_tx_create().
 */
struct rz_pkt_chan *rz_pkt_chan_producer_attach(struct rz_peer *p,
		const struct rz_rdma_desc *window);

/**
 * Producer: send a burst of packets into the ring, zero-copy (one WRITE per packet into its
 * slot: slot header + one scatter entry per segment; then one WRITE of the new tail; one
 * doorbell). Accepts what fits in the credits it knows; when the ring looks full it posts an
 * RDMA READ of the consumer's head (at most one in flight) and later calls see the credits it
 * brings. Accepted mbufs are freed after their completion. Data path.
 *
 * @param c
 *   Producer end.
 * @param pkts
 *   mbufs of an rzone pool, each at most rz_peer_max_sge() - 1 segments and
 *   slot_size - RZ_PKT_CHAN_SLOT_HDR bytes.
 * @param n
 *   Number of packets.
 * @return
 *   Packets accepted (1..n, the first ones), or, nothing accepted:
 *   -ENOBUFS (ring full, or too much in flight: backpressure, nothing lost; try again later);
 *   -EMSGSIZE (the first packet is larger than a slot's payload);
 *   -EINVAL (NULL, @p n 0, a consumer end, or the first packet is bad as in rz_pkt_tx_send());
 *   -EACCES (the consumer revoked the grant: a write or read was refused; the connection is in
 *   error, attach anew on a new connection and grant); -ENOTCONN (connection in error or
 *   gone); -EPIPE (the consumer closed the channel); -EPROTO (the consumer's head is out of
 *   order: not a valid ring); -EIO.
 */
int rz_pkt_chan_send(struct rz_pkt_chan *c, struct rte_mbuf **pkts, uint16_t n);

/**
 * Producer: wait until everything sent has completed (mbufs freed) and the consumer's head is
 * read once more.
 *
 * @param c
 *   Producer end.
 * @param timeout_ms
 *   Bound; < 0: the connection's rz_peer_sync_timeout_ms().
 * @return
 *   As rz_pkt_tx_flush(); -EINVAL for a consumer end.
 */
int rz_pkt_chan_flush(struct rz_pkt_chan *c, int timeout_ms);

/**
 * Consumer: the packets published and not yet released, in place, up to @p n, from the head.
 * Does not consume: call rz_pkt_chan_release(). A malformed slot at the head is dropped
 * (rx_bad) and the scan goes on; one further on ends the scan before it. Data path.
 *
 * @param c
 *   Consumer end.
 * @param slots
 *   Filled with up to @p n slots.
 * @param n
 *   Capacity.
 * @return
 *   Slots written (0: nothing published); -EINVAL (NULL, a producer end); -EBUSY (mbufs of
 *   rz_pkt_chan_recv_zc() are out: nothing done); -EPROTO (the tail the producer wrote is
 *   behind the head or more than the ring ahead: refused, counted in rx_bad_tail, nothing
 *   consumed; the ring is unchanged).
 */
int rz_pkt_chan_peek(struct rz_pkt_chan *c, struct rz_pkt_chan_slot *slots, uint16_t n);

/**
 * Consumer: release the first @p n slots of the last peek (credits back to the producer: the
 * new head is stored in the control block it reads). Data path.
 *
 * @param c
 *   Consumer end.
 * @param n
 *   At most what the last rz_pkt_chan_peek() returned.
 * @return
 *   0; -EINVAL (NULL, a producer end, @p n more than peeked); -EBUSY (mbufs of
 *   rz_pkt_chan_recv_zc() are out: nothing done).
 */
int rz_pkt_chan_release(struct rz_pkt_chan *c, uint16_t n);

/**
 * Consumer: take up to @p n packets as mbufs of @p mp (payload copied into them, chained when
 * larger than the data room; counted in rx_bytes_copied), releasing their slots. Data path.
 *
 * @param c
 *   Consumer end.
 * @param mp
 *   pktmbuf pool for the packets.
 * @param pkts
 *   Filled with up to @p n mbufs, the caller's.
 * @param n
 *   Capacity.
 * @return
 *   Packets written (0: nothing published, or no mbuf: rx_nombuf); -EINVAL; -EBUSY (mbufs of
 *   rz_pkt_chan_recv_zc() are out: nothing done); -EPROTO (as rz_pkt_chan_peek()).
 */
int rz_pkt_chan_recv(struct rz_pkt_chan *c, struct rte_mempool *mp, struct rte_mbuf **pkts,
		uint16_t n);

/**
 * Consumer: take up to @p n packets zero-copy, as mbufs whose data is each packet's payload in
 * its slot (DPDK external buffers, rte_pktmbuf_attach_extbuf(); a payload larger than 65,472
 * bytes, or crossing the end of an IOVA-contiguous chunk of the region, rz_region_iova_chunks(),
 * is a chain of several).
 * Only the mbuf headers are taken from @p mp (a data room of 0 is enough). The slots stay
 * held until their mbufs are freed (see the file's "Zero-copy receive": any thread, any
 * order); each call first gives back, in ring order, the credits of the slots whose mbufs
 * are all freed. The mbufs have no headroom; their IOVAs are set (from the region's chunks, once
 * at the consumer's creation; RTE_BAD_IOVA where the region's are unknown) so that a PMD can
 * transmit them. Nothing is copied (rx_bytes_copied does not
 * move). A malformed slot first in line is dropped (rx_bad); one further on ends the burst
 * before it. Data path.
 *
 * @param c
 *   Consumer end.
 * @param mp
 *   pktmbuf pool for the mbuf headers, whose mbufs can take an external buffer (not a pool of
 *   pinned external buffers, rte_pktmbuf_pool_create_extbuf()).
 * @param pkts
 *   Filled with up to @p n mbufs, the caller's (free them with rte_pktmbuf_free()).
 * @param n
 *   Capacity; 0: only give back the credits of freed slots.
 * @return
 *   Packets written (0: nothing published, or no mbuf header: rx_nombuf); -EINVAL (NULL, a
 *   producer end, or a pool whose mbufs cannot take an external buffer); -EPROTO (the tail the
 *   producer wrote is behind what was handed out or more than the ring ahead of the head:
 *   refused, counted in rx_bad_tail, nothing handed out). After an error nothing changed but
 *   credits given back for freed slots.
 */
int rz_pkt_chan_recv_zc(struct rz_pkt_chan *c, struct rte_mempool *mp, struct rte_mbuf **pkts,
		uint16_t n);

/**
 * Counters of a channel end.
 *
 * @param c
 *   Channel end.
 * @param st
 *   Filled.
 * @return
 *   0; -EINVAL (NULL).
 */
int rz_pkt_chan_stats_get(const struct rz_pkt_chan *c, struct rz_pkt_chan_stats *st);

/**
 * Control: close a channel end. A consumer marks the ring closed (its producer's next head
 * read ends it with -EPIPE); revoke its grant with rz_rdma_revoke() to stop writes at once.
 * A producer flushes (as rz_pkt_tx_free()). Then the handle is freed. A consumer with mbufs
 * of rz_pkt_chan_recv_zc() still out (not all freed) is not closed: -EBUSY, the handle and the
 * ring unchanged; free the mbufs and close again.
 *
 * @param c
 *   Channel end, or NULL (nothing done).
 * @return
 *   0; -ETIMEDOUT as rz_pkt_tx_free(); -EBUSY (consumer: zero-copy mbufs out, not closed).
 */
int rz_pkt_chan_close(struct rz_pkt_chan *c);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* RZONE_PKT_REMOTE_H */
