/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_RDMA_PRIVATE_H
#define RZ_RDMA_PRIVATE_H

/*
 * What the files of lib/rdma share: rdma_state (the process's one RDMA context, under its lock),
 * the peer, grant, window and MR structures, and what each file offers the others (declared
 * below under the file's name).
 */

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <rte_spinlock.h>

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include "core_private.h"
#include "rzone_rdma.h"
#include "quirks.h"
#include "remote_ops.h"
#include "wire_private.h"

#define RZ_PEER_RECV_SLOTS	16
#define RZ_PEER_SLOT_SIZE	128
#define RZ_PEER_SQ_DEPTH	RZ_REMOTE_SQ_DEPTH
#define RZ_PEER_STASH		RZ_PEER_SQ_DEPTH
/* rzone's own work requests in flight on one peer's QP at once (control: binds, invalidations,
 * SENDs; synchronous data calls): each has a completion slot. The QP and its send CQ have room
 * for them beside the RZ_PEER_SQ_DEPTH of the asynchronous data path. */
#define RZ_PEER_WAIT_SLOTS	64
#define RZ_PEER_QP_DEPTH	(RZ_PEER_SQ_DEPTH + RZ_PEER_WAIT_SLOTS)
/* Bound of a synchronous data call when the QP's retry settings give none (timeout 0). */
#define RZ_SYNC_DEFAULT_MS	10000
#define RZ_CTRL_TIMEOUT_MS	5000
/* How long a grant, revoke or message waits for the peer to take the previous SEND (descriptor
 * or message) before giving up: a peer that posts no receive holds it back for ever (RNR retries
 * have no limit) and every work request queued behind it on the QP. */
#define RZ_SEND_BACKLOG_MS	100
/* Our QP's receiver-not-ready NAK timer, IB encoding: 12 = 0.64 ms (rdma_cm's 0 = 655 ms). */
#define RZ_MIN_RNR_TIMER	12
#define RZ_MW_POOL_GROW		16
/* Windows a peer keeps after their grants are revoked, for its next grants (re-bound on the same
 * QP, with a key the window never had). A window is retired after RZ_MW_KEY_USES keys. */
#define RZ_PEER_MW_CACHE	16
#define RZ_MW_KEY_USES		128
#define RZ_RND_BUF		256

/* wr_id of rzone's own work requests: bit 63 set, a sequence number above bit 6, the index of
 * the completion slot (struct wait_slot) in bits 0-5. */
#define RZ_WRID_INTERNAL	(UINT64_C(1) << 63)
#define RZ_WRID_SLOT_MASK	((uint64_t)RZ_PEER_WAIT_SLOTS - 1)

/* Where the completion of one of rzone's own work requests is delivered, by whichever thread
 * polls the send CQ (completion.c): @wr_id is the work request waited for (swapped to 0 by the
 * thread that delivers it), @done is set to that wr_id (release) once @wc holds its completion:
 * a watcher that compares it with the wr_id it watches cannot mistake a later use of the slot
 * for its own. */
struct wait_slot {
	uint64_t wr_id;
	uint64_t done;
	struct ibv_wc wc;
};

struct mw_slot {
	struct ibv_mw *mw;
	uint32_t uses;		/* binds so far */
	uint8_t keys[32];	/* key bytes it had: never bound twice with the same one */
};

struct rz_peer;

/* What made a grant (grant.kind). */
#define GRANT_F_MAP	(1u << 0)	/* rz_region_map() on a peer id: the peer's mapping */
#define GRANT_F_CAP	(1u << 1)	/* rz_region_create_capability() on a peer id */
#define GRANT_F_OWNER	(1u << 2)	/* the peer owns the region while this grant lives */
#define GRANT_F_NO_SEND	(1u << 3)	/* RZ_GRANT_F_NO_SEND: the application sends it */

struct grant {
	TAILQ_ENTRY(grant) next;
	struct rz_peer *peer;
	struct mw_slot mw;
	uint32_t kind;		/* GRANT_F_*; 0: rz_rdma_grant() */
	uint64_t token;		/* GRANT_F_CAP: the capability token */
	uint64_t expiry_mono_ns;	/* CLOCK_MONOTONIC ns after which it is revoked; 0: never */
	struct rz_rdma_desc desc;
};

struct rz_peer {
	TAILQ_ENTRY(rz_peer) next;
	/* Per-peer control lock (recursive): held by a control call for this peer (grant,
	 * revoke, message SEND) across its waits for the device or the peer. Taken before the
	 * process's RDMA lock, never on the data path. */
	pthread_mutex_t ctrl;
	uint32_t busy;		/* control calls that hold or wait for @ctrl (RDMA lock) */
	bool closing;		/* rz_peer_close() runs: no new control call */
	/* Held only while polling the send CQ and dispatching what it gives (no wait): the
	 * QP is shared by control and data, so completions go to their owner. */
	rte_spinlock_t cq_lock;
	uint64_t slots_used;	/* bitmap of @slots (atomic) */
	struct wait_slot slots[RZ_PEER_WAIT_SLOTS];
	uint32_t sync_timeout_ms;	/* bound of a synchronous data call (QP retries) */
	struct rdma_event_channel *ch;
	struct rdma_cm_id *id;
	struct ibv_cq *scq;
	struct ibv_cq *rcq;
	struct ibv_comp_channel *rch;	/* receive CQ events: receivers sleep in poll() */
	uint32_t rcq_unacked;
	struct ibv_qp *qp;
	struct ibv_mr *buf_mr;
	uint8_t *buf;		/* RZ_PEER_RECV_SLOTS receive slots + 1 send slot */
	uint64_t remote_id;
	int32_t remote_pid;
	pid_t local_id;		/* RZ_PEER_ID_BASE + index: the peer in the seed calls */
	volatile int connected;
	uint32_t max_inline;
	uint32_t max_sge;	/* SGEs per data work request (RZ_REMOTE_SGE_MAX or fewer) */
	uint64_t seq;		/* internal wr_id sequence (atomic) */
	/* wr_id of a SEND (descriptor, message) whose completion was not reaped yet (its slot
	 * stays taken); 0: none. Written under @ctrl; read by the data path (atomic). */
	uint64_t send_pending;
	bool qp_failed;		/* an asynchronous operation failed: the QP is in error */
	/* The send-queue accounting of the asynchronous data path (outstanding operations, the
	 * ring of unsignaled runs in flight), and sq.limit: 0 unless connected and !qp_failed,
	 * kept with them by peer_set_connected() and retire(), read by the inline
	 * rz_remote_post_prep(). */
	struct rz_remote_sq sq;
	uint32_t ngrants;
	/* The stash of the user's completions that other threads polled: a ring with one consumer
	 * (the data path, rz_remote_poll(), lock-free) and producers serialised by @cq_lock;
	 * free-running indexes, atomics. */
	uint32_t stash_head;	/* next to hand out: written by the consumer only */
	uint32_t stash_tail;	/* next free: written under @cq_lock only */
	bool held;		/* a received message waits for the call of its kind */
	uint32_t held_slot;
	uint32_t held_len;
	/* Liveness (liveness.c), under the RDMA lock: a zero-length RDMA WRITE every keepalive
	 * interval, at most one in flight. */
	uint64_t ka_wr_id;	/* the keepalive in flight (its completion slot taken); 0: none */
	uint64_t ka_next_ns;	/* CLOCK_MONOTONIC ns from which the next one may go */
	/* When the transport does not bound it (retry count 7: Soft-RoCE retries for ever), a
	 * keepalive not completed by then is no answer; 0: the transport's bound. */
	uint64_t ka_deadline_ns;
	uint8_t retry_cnt;	/* the QP's (queried once connected) */
	uint64_t ka_sent;	/* keepalives posted, answered */
	uint64_t ka_answered;
	int down_reason;	/* 0 while up; why it went down (rz_peer_down_reason()) */
	bool down_reported;	/* handed to the application's down handler */
	uint32_t mw_cached;	/* windows last bound on this QP, free for its next grants */
	struct mw_slot mw_cache[RZ_PEER_MW_CACHE];
	struct ibv_wc stash[RZ_PEER_STASH];
};

struct rz_peer_listener {
	struct rdma_event_channel *ch;
	struct rdma_cm_id *id;
	uint16_t port;
};

struct arena_mr {
	uint64_t seq;		/* arena seq the MR was made for */
	struct ibv_mr *mr;
};

/* On devices whose windows are not bounded to their range (rxe), a window is bound on an MR of
 * exactly the granted range. Such an MR has no remote right (its own rkey opens nothing), so
 * it is kept and reused by every grant of the same range, until its region goes. */
struct range_mr {
	TAILQ_ENTRY(range_mr) next;
	uint64_t region_id;
	uintptr_t addr;
	size_t len;
	struct ibv_mr *mr;
};

struct rdma_ctx {
	bool initialized;
	pthread_mutex_t lock;
	struct ibv_context **devs;	/* rdma_get_devices() */
	struct ibv_context *verbs;
	struct ibv_pd *pd;
	struct ibv_device_attr attr;
	const struct rdma_quirks *quirks;
	char name[IBV_SYSFS_NAME_MAX];
	int numa_node;
	uint64_t self_id;
	uint32_t max_mr;		/* enforced: the device's, or the test override */
	uint32_t max_mw;
	uint32_t n_mr;
	uint32_t n_mw;
	uint32_t next_peer;		/* peer id index */
	int import_status;		/* rz_rdma_import_status() */
	uint64_t next_gen;
	struct arena_mr arena_mr[RZ_MAX_ARENAS];
	struct mw_slot *pool;
	uint32_t pool_n;
	uint32_t pool_cap;
	uint32_t rnd_pos;		/* random bytes for keys and picks, refilled by getrandom */
	uint8_t rnd[RZ_RND_BUF];
	TAILQ_HEAD(, rz_peer) peers;
	TAILQ_HEAD(, grant) grants;
	TAILQ_HEAD(, range_mr) range_mrs;
	/* Counters since rz_rdma_init() (telemetry /rzone/rdma); atomic, read without the lock. */
	uint64_t stats_granted;
	uint64_t stats_revoked;		/* every way: revoke, unmap, expiry, disconnect, destroy */
	uint64_t stats_expired;
	uint64_t stats_desc_rejected;	/* descriptors a peer sent us that failed validation */
	uint64_t stats_backlog_refused;	/* -EAGAIN: the peer had not taken its previous SEND */
	uint64_t stats_peers_dead;	/* peers that stopped answering their keepalives */
	/* Liveness (liveness.c): interval in ms (0: no keepalive), read without the lock. */
	uint32_t keepalive_ms;
	/* Local ACK timeout exponent for new connections (0: rdma_cm's), read without the lock. */
	uint8_t ack_timeout;
	rz_peer_down_fn down_fn;	/* rz_rdma_set_peer_down_handler(), under the lock */
	void *down_arg;
};

#define RZ_STAT_INC(field, n) __atomic_fetch_add(&rdma_state.field, (n), __ATOMIC_RELAXED)

extern struct rdma_ctx rdma_state;

/* publish.c: this process's RDMA state for observers (after a grant or peer came or went),
 * and an audit record of grant @g. Lock held. */
void rdma_publish_locked(void);
void rdma_audit_grant(uint16_t event, uint16_t cause, const struct grant *g, int result);
/* grant.c: why grant_revoke_locked() revokes (enum audit_cause; explicit unless set). */
extern __thread uint16_t grant_revoke_cause;	/* per thread: a revoke may wait */

/* The process's RDMA lock (rdma_state.lock). Never held across a wait for a device, a
 * completion or a peer: a wait entered with it held (peer_wait_slot()) releases it and takes it
 * again, so callers re-read what they found under it. Lock order: peer ctrl, then this one. */
void rdma_lock(void);
void rdma_unlock(void);
int rdma_trylock(void);
bool rdma_lock_held(void);
/* Enter a control call for @p: take its ctrl lock (busy counted; may release the RDMA lock
 * meanwhile if held). 0, or -ENOTCONN if the peer is being closed (nothing held). */
int peer_ctrl_enter(struct rz_peer *p);
void peer_ctrl_exit(struct rz_peer *p);

/* device.c */
int rdma_errno(int e);
uint64_t rdma_now_realtime(void);

/* random.c */
int rdma_random(void *buf, size_t len);
int rdma_random_locked(void *buf, size_t len);	/* from a buffer of getrandom() bytes */

/* mr.c */
struct ibv_mr *rdma_reg_mr_locked(void *addr, size_t len, int *err);
struct ibv_mr *rdma_region_mr_locked(struct rz_region *r, void **addr, size_t *len,
		uint64_t *region_id, uint32_t *perms);
struct ibv_mr *range_mr_get_locked(uint64_t region_id, void *addr, size_t len, int *err);
void range_mr_drop_locked(uint64_t region_id);	/* UINT64_MAX: all */
/* rz_rdma_fini(): deregister every arena MR. */
void arena_mr_drop_all_locked(void);

/* mw.c */
/* A fresh window from the device pool (random order). */
int mw_get_locked(struct mw_slot *out);
void mw_drop_locked(struct mw_slot *s);
/* A window for a grant to @p: one of those it had before (chosen at random) or a fresh one. */
int mw_get_for_peer_locked(struct rz_peer *p, struct mw_slot *out);
/* After a completed invalidation on @p's QP: keep the window for @p, or free it. */
void mw_release_to_peer_locked(struct rz_peer *p, struct mw_slot *s);
/* Free every window @p keeps. */
void mw_peer_flush_locked(struct rz_peer *p);
/* A random key byte @s never had; marks it used. */
int mw_new_key_locked(struct mw_slot *s, uint8_t *key);
/* rz_rdma_fini(): free the windows of the device pool (those peers keep go with the peers). */
void mw_pool_free_locked(void);

/* import.c */
int import_try(void);
void import_serve_start(void);
void import_serve_stop(void);

/* cm.c */
struct rz_peer *peer_by_id_locked(pid_t id);
void peer_close_all_locked(void);
void peer_events(struct rz_peer *p);

/*
 * The peer's CQ poll lock. DPDK's x86 spinlock is inline assembly, which ThreadSanitizer cannot
 * see: under TSan the lock's acquire and release are announced to it, so that what the lock
 * orders is not reported as a race (and what it does not order still is).
 */
#if defined(__SANITIZE_THREAD__)
#define RZ_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RZ_TSAN 1
#endif
#endif
#ifdef RZ_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#endif

static inline void
cq_lock(struct rz_peer *p)
{
	rte_spinlock_lock(&p->cq_lock);
#ifdef RZ_TSAN
	__tsan_acquire(&p->cq_lock);
#endif
}

static inline int
cq_trylock(struct rz_peer *p)
{
	if (!rte_spinlock_trylock(&p->cq_lock))
		return 0;
#ifdef RZ_TSAN
	__tsan_acquire(&p->cq_lock);
#endif
	return 1;
}

static inline void
cq_unlock(struct rz_peer *p)
{
#ifdef RZ_TSAN
	__tsan_release(&p->cq_lock);
#endif
	rte_spinlock_unlock(&p->cq_lock);
}

/* @p connected (1) or not (0): p->connected, and sq.limit with it (no room again once
 * the QP failed). */
static inline void
peer_set_connected(struct rz_peer *p, int connected)
{
	p->connected = connected;
	__atomic_store_n(&p->sq.limit, connected && !p->qp_failed ? RZ_PEER_SQ_DEPTH - 1u : 0u,
			__ATOMIC_RELAXED);
}

/* liveness.c */
/* rz_rdma_init(): the keepalive interval from RZ_RDMA_KEEPALIVE_MS and the ACK timeout from
 * RZ_RDMA_ACK_TIMEOUT, if set. */
void liveness_init_locked(void);
/* Before rdma_connect() / rdma_accept() on @id: the ACK timeout set, if any. 0 or -errno. */
int cm_apply_ack_timeout(struct rdma_cm_id *id);
/* @p connected: its first keepalive one interval from now. */
void peer_liveness_start(struct rz_peer *p);
/* rz_rdma_progress(): reap @p's keepalive, or post one if it is due; a keepalive that failed
 * marks @p down (disconnected, its grants revoked by the caller). No wait. Lock held. */
void peer_liveness_locked(struct rz_peer *p, uint64_t now);
/* @p is down for @reason (-ETIMEDOUT: no answer; -ENOTCONN: disconnected): recorded once. */
void peer_mark_down_locked(struct rz_peer *p, int reason);
/* rz_rdma_progress(), without the lock: tell the application's handler which peers went down
 * since the last call. */
void liveness_report(void);

/* completion.c */
/* A completion slot for an internal work request: its wr_id in *@wr_id. -EBUSY: none free. */
int peer_slot_get(struct rz_peer *p, uint64_t *wr_id);
void peer_slot_put(struct rz_peer *p, uint64_t wr_id);
/* Wait up to @timeout_ms for the completion of @wr_id (its slot stays taken; put it after).
 * Releases the RDMA lock while waiting if the caller holds it. 0 or -ETIMEDOUT / -EIO. With
 * @out NULL, only watches a slot another thread owns (nothing of it is read but its words). */
int peer_wait_slot(struct rz_peer *p, uint64_t wr_id, int timeout_ms, struct ibv_wc *out);
/* Poll the send CQ once and deliver what it gives (slots, or the stash of the user's
 * asynchronous completions). Returns without polling if another thread polls. */
void peer_cq_drain(struct rz_peer *p);
/* Hand the completion of an internal work request to its slot's waiter (cq_lock held). */
void peer_deliver_internal(struct rz_peer *p, const struct ibv_wc *wc);
/* Put the user's completion @wc at the tail of the stash that rz_remote_poll() hands out first
 * (cq_lock held: the stash's one producer). Logged and dropped if full (cannot happen). */
void peer_stash_put(struct rz_peer *p, const struct ibv_wc *wc);
/* Post @wr (its wr_id and SIGNALED set here) and wait for it; 0 or -errno. Caller in @p's
 * control (peer_ctrl_enter()). */
int peer_post_wait(struct rz_peer *p, struct ibv_send_wr *wr, int timeout_ms,
		struct ibv_wc *wc);
/* Wait up to RZ_SEND_BACKLOG_MS for the peer's pending SEND, if any. 0: the QP has nothing of
 * ours queued that waits for the peer; -EAGAIN: the peer has not taken it (its receive queue
 * is full); -ENOTCONN / -EIO: it completed in error (the QP is in error). */
int peer_backlog(struct rz_peer *p);

/* msg.c */
/* Give receive slot @slot of @p's buffer (back) to its receive queue. */
int peer_post_recv(struct rz_peer *p, uint32_t slot);
/* Queue descriptor @d to @p: returns once it is posted (inline) on the RC QP, which delivers it
 * in order or fails the connection. At most one is in flight; its completion is reaped by the
 * next wait on the QP. */
int peer_send_desc(struct rz_peer *p, const struct rz_rdma_desc *d);

/* grant.c */
uint32_t grant_ceiling_rights(uint32_t perms);
/* Bind a window of [offset, offset + len) of @r for @p with @rights (already capped), send
 * the descriptor; the new grant in *@out. Lock held. */
int grant_new_locked(struct rz_region *r, struct rz_peer *p, uint32_t mode, uint32_t rights,
		size_t offset, size_t len, uint64_t lifetime_ns, uint32_t kind,
		struct grant **out);
/* Peer id owning region @region_id (GRANT_F_OWNER), 0 if none. Lock held. */
pid_t grant_remote_owner_locked(uint64_t region_id);
int grant_revoke_locked(struct grant *g);
int grant_revoke_peer_locked(struct rz_peer *p);
/* Revoke the grants whose lifetime ended by @now (CLOCK_MONOTONIC ns, mono_time_ns()). */
int grant_expire_locked(uint64_t now);
int grant_count_locked(void);

/* Has this process called rz_rdma_init()? */
bool rdma_initialized(void);
/* Arena @arena_idx (sequence @seq) is about to be freed: drop this process's registration of it.
 * Without the table lock; takes the RDMA lock. */
void rdma_arena_released(uint32_t arena_idx, uint64_t seq);

/* seed.c: the seed calls on peer ids (remote_ops.h says what each does). */
int rdma_peer_map(struct rz_region *r, pid_t peer, void *virtual_base, uint32_t perms);
int rdma_peer_unmap(struct rz_region *r, pid_t peer);
int rdma_peer_mapping(const struct rz_region *r, pid_t peer, uint64_t *addr, uint32_t *perms);
int rdma_peer_transfer(struct rz_region *r, pid_t peer);
int rdma_peer_capability(struct rz_region *r, pid_t peer, uint32_t mode, uint64_t *token);
int rdma_capability_revoke(uint64_t token);
bool rdma_capability_is_peer(uint64_t token);
pid_t rdma_region_remote_owner(uint64_t region_id);

/* grant.c: revoke every grant of a region made by this process; returns how many. */
int rdma_revoke_region(uint64_t region_id);

/* remote.c */
int wc_errno(enum ibv_wc_status s);
/* The asynchronous data path for a caller above (lib/pkt_remote) that built and checked its
 * work requests itself (every bound: they go to the device as they are): one run of @n >= 1
 * requests in @wr[0..n-1], chained by the caller, user wr_ids (bit 63 clear), send_flags
 * final: every request unsignaled but the last, which is signaled (the caller knows its
 * chain's shape, so nothing scans the flags). Charged to the peer's send-queue accounting as
 * rz_remote_post_burst() charges, in one step; returns as it does (-ENOBUFS: the peer's queue
 * has no room for the whole run, nothing posted). */
int remote_post_run(struct rz_peer *p, struct ibv_send_wr *wr, unsigned int n);

#endif /* RZ_RDMA_PRIVATE_H */
