/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * Remote access data path: RDMA READ/WRITE and 8-byte atomics through a capability
 * descriptor's window. No lock, no allocation, no payload copy: one work request built on the
 * stack, posted on the peer's QP, completion polled on its send CQ.
 */

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>

#include "rdma_private.h"

int
wc_errno(enum ibv_wc_status s)
{
	switch (s) {
	case IBV_WC_SUCCESS:
		return 0;
	case IBV_WC_REM_ACCESS_ERR:
		return -EACCES;
	case IBV_WC_WR_FLUSH_ERR:
		return -ENOTCONN;
	case IBV_WC_RETRY_EXC_ERR:
	case IBV_WC_RNR_RETRY_EXC_ERR:
		return -ETIMEDOUT;
	case IBV_WC_LOC_PROT_ERR:
	case IBV_WC_LOC_ACCESS_ERR:
		return -EFAULT;
	case IBV_WC_REM_INV_REQ_ERR:
		return -EINVAL;
	default:
		return -EIO;
	}
}

/* struct rz_remote_sge is handed to the device as it is: it must be an ibv_sge. */
_Static_assert(sizeof(struct rz_remote_sge) == sizeof(struct ibv_sge) &&
		offsetof(struct rz_remote_sge, addr) == offsetof(struct ibv_sge, addr) &&
		offsetof(struct rz_remote_sge, len) == offsetof(struct ibv_sge, length) &&
		offsetof(struct rz_remote_sge, lkey) == offsetof(struct ibv_sge, lkey),
		"struct rz_remote_sge is not laid out as struct ibv_sge");

/* The local side of a scatter-list WRITE (or READ): 1..p->max_sge entries of > 0 bytes each,
 * their sum op->len. The keys are the caller's (the device checks them: -EFAULT on completion). */
static inline int
build_sgl(const struct rz_peer *p, const struct rz_remote_op *op, struct ibv_send_wr *wr)
{
	uint64_t sum = 0;
	uint32_t i;

	if (op->opcode > RZ_REMOTE_WRITE || op->nsge == 0 || op->nsge > p->max_sge)
		return -EINVAL;
	for (i = 0; i < op->nsge; i++) {
		if (op->sgl[i].len == 0)
			return -EINVAL;
		sum += op->sgl[i].len;
	}
	if (sum != op->len)
		return -EINVAL;
	wr->sg_list = (struct ibv_sge *)(uintptr_t)op->sgl;
	wr->num_sge = (int)op->nsge;
	return 0;
}

/* The work request of @op in @wr (its one SGE in @sge unless @op has a scatter list), every
 * field the device reads for these opcodes set (no memset of the whole request); wr->next is
 * the caller's. Signaled unless RZ_REMOTE_F_UNSIGNALED. */
static __rte_always_inline int
build_wr(const struct rz_peer *p, const struct rz_remote_op *op, struct ibv_send_wr *wr,
		struct ibv_sge *sge)
{
	const struct rz_rdma_desc *d = op->remote;
	uint64_t raddr;
	int ret;

	if (d == NULL || op->len == 0 || op->len > UINT32_MAX)
		return -EINVAL;
	if (op->sgl != NULL) {
		ret = build_sgl(p, op, wr);
		if (ret != 0)
			return ret;
	} else {
		const struct rz_rdma_mem *l = op->local;

		if (l == NULL || op->local_off > l->len || op->len > l->len - op->local_off)
			return -EINVAL;
		sge->addr = (uintptr_t)l->addr + op->local_off;
		sge->length = (uint32_t)op->len;
		sge->lkey = l->lkey;
		wr->sg_list = sge;
		wr->num_sge = 1;
	}
	if (op->remote_off > d->length || op->len > d->length - op->remote_off)
		return -ERANGE;
	raddr = d->addr + op->remote_off;
	wr->wr_id = op->wr_id;
	wr->imm_data = 0;
	wr->send_flags = (op->flags & RZ_REMOTE_F_UNSIGNALED) ? 0 : IBV_SEND_SIGNALED;
	switch (op->opcode) {
	case RZ_REMOTE_READ:
		wr->opcode = IBV_WR_RDMA_READ;
		break;
	case RZ_REMOTE_WRITE:
		wr->opcode = IBV_WR_RDMA_WRITE;
		/* Small writes go inline in the work request, as latency-bound verbs users do:
		 * the device skips fetching the payload through the lkey. */
		if (op->len <= p->max_inline)
			wr->send_flags |= IBV_SEND_INLINE;
		break;
	case RZ_REMOTE_FETCH_ADD:
	case RZ_REMOTE_CMP_SWAP:
		if (op->len != 8 || (raddr & 7) || (sge->addr & 7))
			return -EINVAL;
		wr->opcode = op->opcode == RZ_REMOTE_FETCH_ADD ?
				IBV_WR_ATOMIC_FETCH_AND_ADD : IBV_WR_ATOMIC_CMP_AND_SWP;
		wr->wr.atomic.remote_addr = raddr;
		wr->wr.atomic.rkey = d->rkey;
		wr->wr.atomic.compare_add = op->compare_add;
		wr->wr.atomic.swap = op->swap;
		return 0;
	default:
		return -EINVAL;
	}
	wr->wr.rdma.remote_addr = raddr;
	wr->wr.rdma.rkey = d->rkey;
	return 0;
}

/* What an asynchronous operation may carry: a user wr_id, known flags. */
static inline bool
op_flags_ok(const struct rz_remote_op *op)
{
	return !(op->wr_id & RZ_WRID_INTERNAL) && !(op->flags & ~RZ_REMOTE_F_UNSIGNALED);
}

/*
 * Send-queue accounting of the asynchronous data path, one place for rz_remote_post() and
 * rz_remote_post_burst() (the inline rz_remote_post_prep() does the same for one operation).
 * A sig_acct is a copy of what the checks need (the slots taken, the length of the open
 * unsignaled run): operations are checked against it and counted in it (acct_charge()), and
 * only those the device took are charged to the peer (acct_commit(), after the post): a
 * refused burst leaves the peer as it was. The data path is one thread at a time, and the
 * retire of their completions runs on it too: nothing retires them before they are charged.
 */
struct sig_acct {
	uint32_t outstanding;
	uint32_t run;
};

/* The length of the open unsignaled run of @sq (0: the last operation posted was signaled). */
static inline uint32_t
sq_open_run(const struct rz_remote_sq *sq)
{
	const struct rz_remote_sq_run *e;

	if (sq->run_n == 0)
		return 0;
	e = &sq->runs[(sq->run_head + sq->run_n - 1) % RZ_PEER_SQ_DEPTH];
	return e->sig == sq->sig_head + sq->outstanding - sq->unsig_out ? e->slots : 0;
}

static inline void
acct_begin(const struct rz_peer *p, struct sig_acct *a)
{
	a->outstanding = p->sq.outstanding;
	a->run = sq_open_run(&p->sq);
}

/* Room for one more operation (an unsignaled one also leaves room for the signaled one that
 * will retire it)? Count it. -ENOBUFS otherwise (nothing counted). */
static inline int
acct_charge(struct sig_acct *a, bool unsig)
{
	if (a->outstanding + (unsig ? 2 : 1) >= RZ_PEER_SQ_DEPTH ||
			(unsig && a->run >= RZ_REMOTE_UNSIGNALED_MAX))
		return -ENOBUFS;
	a->outstanding++;
	a->run = unsig ? a->run + 1 : 0;
	return 0;
}

/* The first @n of @wr, which the device took, charged to the peer (as the inline
 * rz_remote_post_prep() charges one; the checks were made by acct_charge()). */
static inline void
acct_commit(struct rz_peer *p, const struct ibv_send_wr *wr, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (!(wr[i].send_flags & IBV_SEND_SIGNALED))
			rz_remote_sq_unsig(&p->sq);
		p->sq.outstanding++;
	}
}

static int
remote_sync(struct rz_peer *p, struct rz_remote_op *op)
{
	struct ibv_send_wr wr, *bad;
	struct ibv_sge sge;
	struct ibv_wc wc;
	uint64_t pending;
	int ret;

	if (p == NULL)
		return -EINVAL;
	if (p->qp_failed)
		return -ENOTCONN;
	if (p->sq.outstanding != 0)
		return -EBUSY;
	/* Not behind a SEND of ours the peer has not taken: we would wait as long as it does.
	 * (Its completion is reaped by the control calls; here it is only watched.) */
	pending = __atomic_load_n(&p->send_pending, __ATOMIC_ACQUIRE);
	if (unlikely(pending != 0) &&
			peer_wait_slot(p, pending, RZ_SEND_BACKLOG_MS, NULL) == -ETIMEDOUT) {
		RZ_STAT_INC(stats_backlog_refused, 1);
		return -EAGAIN;
	}
	ret = peer_slot_get(p, &op->wr_id);
	if (ret != 0)
		return ret;
	ret = build_wr(p, op, &wr, &sge);
	if (ret != 0)
		goto out;
	wr.next = NULL;
	ret = ibv_post_send(p->qp, &wr, &bad);
	if (ret != 0) {
		ret = rdma_errno(ret);
		goto out;
	}
	/* The device completes a posted WR that waits for no receive of the peer (success,
	 * error after its retries, or flush) within the retries' time: p->sync_timeout_ms. */
	ret = peer_wait_slot(p, op->wr_id, (int)p->sync_timeout_ms, &wc);
	if (ret == 0)
		ret = wc_errno(wc.status);
	else if (ret == -ETIMEDOUT)
		RZ_LOG(ERR, "peer %016" PRIx64 ": synchronous operation not completed in %u ms",
				p->remote_id, p->sync_timeout_ms);
out:
	peer_slot_put(p, op->wr_id);
	return ret;
}

int
rz_remote_read(struct rz_peer *p, const struct rz_rdma_mem *local, size_t local_off,
		const struct rz_rdma_desc *remote, uint64_t remote_off, size_t len)
{
	struct rz_remote_op op = { .opcode = RZ_REMOTE_READ, .local = local,
		.local_off = local_off, .remote = remote, .remote_off = remote_off, .len = len };

	return remote_sync(p, &op);
}

int
rz_remote_write(struct rz_peer *p, const struct rz_rdma_mem *local, size_t local_off,
		const struct rz_rdma_desc *remote, uint64_t remote_off, size_t len)
{
	struct rz_remote_op op = { .opcode = RZ_REMOTE_WRITE, .local = local,
		.local_off = local_off, .remote = remote, .remote_off = remote_off, .len = len };

	return remote_sync(p, &op);
}

int
rz_remote_fetch_add(struct rz_peer *p, const struct rz_rdma_mem *local, size_t local_off,
		const struct rz_rdma_desc *remote, uint64_t remote_off, uint64_t add,
		uint64_t *old)
{
	struct rz_remote_op op = { .opcode = RZ_REMOTE_FETCH_ADD, .local = local,
		.local_off = local_off, .remote = remote, .remote_off = remote_off, .len = 8,
		.compare_add = add };
	int ret = remote_sync(p, &op);

	if (ret == 0 && old != NULL)
		*old = *(volatile uint64_t *)((uint8_t *)local->addr + local_off);
	return ret;
}

int
rz_remote_cmp_swap(struct rz_peer *p, const struct rz_rdma_mem *local, size_t local_off,
		const struct rz_rdma_desc *remote, uint64_t remote_off, uint64_t compare,
		uint64_t swap, uint64_t *old)
{
	struct rz_remote_op op = { .opcode = RZ_REMOTE_CMP_SWAP, .local = local,
		.local_off = local_off, .remote = remote, .remote_off = remote_off, .len = 8,
		.compare_add = compare, .swap = swap };
	int ret = remote_sync(p, &op);

	if (ret == 0 && old != NULL)
		*old = *(volatile uint64_t *)((uint8_t *)local->addr + local_off);
	return ret;
}

int
rz_remote_post(struct rz_peer *p, const struct rz_remote_op *op)
{
	struct ibv_send_wr wr, *bad;
	struct ibv_sge sge;
	struct sig_acct a;
	int ret;

	if (p == NULL || op == NULL || !op_flags_ok(op))
		return -EINVAL;
	if (!p->connected || p->qp_failed)
		return -ENOTCONN;
	acct_begin(p, &a);
	ret = acct_charge(&a, (op->flags & RZ_REMOTE_F_UNSIGNALED) != 0);
	if (ret != 0)
		return ret;
	ret = build_wr(p, op, &wr, &sge);
	if (ret != 0)
		return ret;
	wr.next = NULL;
	ret = ibv_post_send(p->qp, &wr, &bad);
	if (ret != 0) {
		ret = rdma_errno(ret);
		return ret == -ENOMEM ? -ENOBUFS : ret;
	}
	acct_commit(p, &wr, 1);
	return 0;
}

/* @k unsignaled operations then one signaled, which the device all took, charged in one step
 * (as @k rz_remote_sq_unsig() and @k + 1 counts: the next signaled operation's sequence
 * number does not move with unsignaled ones, so they extend one run). */
static inline void
acct_commit_run(struct rz_remote_sq *sq, uint32_t k)
{
	uint32_t next_sig = sq->sig_head + sq->outstanding - sq->unsig_out;
	struct rz_remote_sq_run *e;

	if (k > 0) {
		e = &sq->runs[(sq->run_head + sq->run_n - 1) % RZ_REMOTE_SQ_DEPTH];
		if (sq->run_n > 0 && e->sig == next_sig) {
			e->slots += k;
		} else {
			e = &sq->runs[(sq->run_head + sq->run_n) % RZ_REMOTE_SQ_DEPTH];
			e->sig = next_sig;
			e->slots = k;
			sq->run_n++;
		}
		sq->unsig_out += k;
	}
	sq->outstanding += k + 1;
}

/* Post the chain @wr of @n work requests checked with acct_charge() (or, @run, @n - 1
 * unsignaled ones and the signaled last one, checked together), and charge what the device
 * took: @n, or the first ones only (the count), or nothing (-ENOBUFS if the send queue was
 * full, else the device's error). */
static inline int
post_chain(struct rz_peer *p, struct ibv_send_wr *wr, unsigned int n, bool run)
{
	struct ibv_send_wr *bad = NULL;
	unsigned int posted;
	int ret;

	ret = ibv_post_send(p->qp, wr, &bad);
	if (likely(ret == 0)) {
		if (run)
			acct_commit_run(&p->sq, n - 1);
		else
			acct_commit(p, wr, n);
		return (int)n;
	}
	/* The device took the first @posted only: charge those. */
	posted = (unsigned int)(bad - wr);
	acct_commit(p, wr, posted);
	ret = rdma_errno(ret);
	if (posted > 0)
		return (int)posted;	/* the rest was refused by the device */
	return ret == -ENOMEM ? -ENOBUFS : ret;
}

int
rz_remote_post_burst(struct rz_peer *p, const struct rz_remote_op *ops, unsigned int n)
{
	struct ibv_send_wr wr[RZ_REMOTE_BURST_MAX];
	struct ibv_sge sge[RZ_REMOTE_BURST_MAX];
	unsigned int i, nunsig = 0;
	struct sig_acct a;
	int ret;

	if (p == NULL || ops == NULL || n == 0 || n > RZ_REMOTE_BURST_MAX)
		return -EINVAL;
	if (!p->connected || p->qp_failed)
		return -ENOTCONN;
	/* All or nothing: each operation checked as rz_remote_post() would, in order. */
	acct_begin(p, &a);
	for (i = 0; i < n; i++) {
		const struct rz_remote_op *op = &ops[i];
		bool unsig = (op->flags & RZ_REMOTE_F_UNSIGNALED) != 0;

		if (!op_flags_ok(op))
			return -EINVAL;
		ret = acct_charge(&a, unsig);
		if (ret != 0)
			return ret;
		nunsig += unsig;
		ret = build_wr(p, op, &wr[i], &sge[i]);
		if (ret != 0)
			return ret;
		wr[i].next = &wr[i + 1];
	}
	wr[n - 1].next = NULL;
	/* The usual burst (unsignaled requests closed by one signaled one) is charged in one
	 * step, as remote_post_run() charges it. */
	return post_chain(p, wr, n, nunsig == n - 1 && (wr[n - 1].send_flags & IBV_SEND_SIGNALED));
}

int
remote_post_run(struct rz_peer *p, struct ibv_send_wr *wr, unsigned int n)
{
	struct sig_acct a;

	RTE_ASSERT(n > 0 && (wr[n - 1].send_flags & IBV_SEND_SIGNALED));
	if (unlikely(!p->connected || p->qp_failed))
		return -ENOTCONN;
	acct_begin(p, &a);
	/* The checks acct_charge() would make of each request, in one step: the last
	 * unsignaled one leaves room for the signaled one; the run limit. The caller's own
	 * accounting keeps it below both, unless something else posts on the connection: the
	 * peer's queue is what counts. */
	if (unlikely(a.outstanding + n >= RZ_PEER_SQ_DEPTH ||
			a.run + (n - 1) > RZ_REMOTE_UNSIGNALED_MAX))
		return -ENOBUFS;
	return post_chain(p, wr, n, true);
}

/* A prepared operation and the work requests of its bursts (rz_remote_post_prep_burst()),
 * built once with it and chained; the public part first: the prepared operation is the
 * allocation (rz_remote_prep_free() frees it). */
struct prep_burst {
	struct rz_remote_prep pub;
	struct ibv_send_wr wr[RZ_REMOTE_BURST_MAX];
	struct ibv_sge sge[RZ_REMOTE_BURST_MAX];
};

/*
 * Prepared operations (rz_remote_prepare()): the work request and its one SGE built and
 * checked once; a post (rz_remote_post_prep(), inline in rzone_rdma.h) writes only what changes
 * (wr_id, addresses, length, flags) into them. struct rz_remote_prep is in the public header
 * for that: the base addresses are of the prepared ranges, len their common length.
 */
struct rz_remote_prep *
rz_remote_prepare(struct rz_peer *p, const struct rz_remote_op *op)
{
	struct rz_remote_prep *r;
	struct prep_burst *b;
	struct ibv_send_wr wr;
	struct ibv_sge sge;
	unsigned int i;
	int ret;

	if (p == NULL || op == NULL) {
		RZ_LOG(ERR, "rz_remote_prepare(): NULL %s", p == NULL ? "peer" : "operation");
		rte_errno = EINVAL;
		return NULL;
	}
	if ((op->opcode != RZ_REMOTE_READ && op->opcode != RZ_REMOTE_WRITE) || op->sgl != NULL ||
			op->wr_id != 0 || op->flags != 0) {
		RZ_LOG(ERR, "rz_remote_prepare(): READ or WRITE of one local range only, "
				"no wr_id or flags (opcode %d)", (int)op->opcode);
		rte_errno = EINVAL;
		return NULL;
	}
	ret = build_wr(p, op, &wr, &sge);
	if (ret != 0) {
		RZ_LOG(ERR, "rz_remote_prepare(): %s", ret == -ERANGE ?
				"remote range outside the descriptor" :
				"bad descriptor, length or local range");
		rte_errno = -ret;
		return NULL;
	}
	b = calloc(1, sizeof(*b));
	r = b != NULL ? &b->pub : NULL;
	if (r == NULL) {
		RZ_LOG(ERR, "rz_remote_prepare(): out of memory");
		rte_errno = ENOMEM;
		return NULL;
	}
	r->p = p;
	r->sq = &p->sq;
	r->qp = p->qp;
	r->post_send = p->qp->context->ops.post_send;
	r->wr = wr;
	r->sge = sge;
	r->wr.sg_list = &r->sge;
	r->wr.num_sge = 1;
	r->wr.next = NULL;
	r->wr.send_flags = 0;
	r->laddr = sge.addr;
	r->raddr = wr.wr.rdma.remote_addr;
	r->len = (uint32_t)op->len;
	r->max_inline = op->opcode == RZ_REMOTE_WRITE ? p->max_inline : 0;
	r->send_flags[0][0] = IBV_SEND_SIGNALED;
	r->send_flags[0][1] = IBV_SEND_SIGNALED | (r->max_inline > 0 ? IBV_SEND_INLINE : 0);
	r->send_flags[1][0] = 0;
	r->send_flags[1][1] = r->max_inline > 0 ? IBV_SEND_INLINE : 0;
	for (i = 0; i < RZ_REMOTE_BURST_MAX; i++) {
		b->wr[i] = r->wr;
		b->sge[i] = r->sge;
		b->wr[i].sg_list = &b->sge[i];
		b->wr[i].next = i + 1 < RZ_REMOTE_BURST_MAX ? &b->wr[i + 1] : NULL;
	}
	return r;
}

int
rz_remote_post_prep_refused(struct rz_remote_prep *r, uint32_t unsig, int ret)
{
	struct rz_remote_sq *sq = r->sq;

	/* The charge of rz_remote_post_prep() undone: the last operation charged was this one
	 * (the data path is one thread at a time). An unsignaled one is the last of the newest
	 * run (which goes if it was its only one); a signaled one only counted (the run it
	 * would have ended is open again). */
	sq->outstanding--;
	if (unsig) {
		struct rz_remote_sq_run *e =
				&sq->runs[(sq->run_head + sq->run_n - 1) % RZ_PEER_SQ_DEPTH];

		if (--e->slots == 0)
			sq->run_n--;
		sq->unsig_out--;
	}
	ret = rdma_errno(ret);
	return ret == -ENOMEM ? -ENOBUFS : ret;
}

void
rz_remote_prep_free(struct rz_remote_prep *prep)
{
	free(prep);	/* the struct prep_burst it begins */
}

/*
 * A burst of prepared operations: each checked as the inline rz_remote_post_prep() checks it
 * (wr_id, flags, length and offsets within the prepared ranges) and counted against a copy of
 * the send-queue accounting, all before anything is posted; written into the prepared
 * operation's chain (only what changes per post: wr_id, flags, local address and length,
 * remote address); one doorbell for the chain cut at @n; charged for what the device took.
 */
int
rz_remote_post_prep_burst(struct rz_remote_prep *prep, const struct rz_remote_prep_op *ops,
		unsigned int n)
{
	struct prep_burst *b = (struct prep_burst *)prep;
	unsigned int i, nunsig = 0;
	struct rz_peer *p;
	struct sig_acct a;
	uint32_t lim;
	int ret;

	if (unlikely(prep == NULL || ops == NULL || n == 0 || n > RZ_REMOTE_BURST_MAX))
		return -EINVAL;
	p = prep->p;
	if (unlikely(!p->connected || p->qp_failed))
		return -ENOTCONN;
	lim = prep->len;
	acct_begin(p, &a);
	for (i = 0; i < n; i++) {
		const struct rz_remote_prep_op *op = &ops[i];
		uint32_t unsig = op->flags, len = op->len;

		if (unlikely((op->wr_id >> 63) != 0 || (unsig & ~RZ_REMOTE_F_UNSIGNALED) != 0))
			return -EINVAL;
		/* len in 1..lim, both ranges inside the prepared ones (lim - len cannot wrap). */
		if (unlikely(len - 1 >= lim || op->local_off > lim - len ||
				op->remote_off > lim - len))
			return -ERANGE;
		ret = acct_charge(&a, unsig != 0);
		if (unlikely(ret != 0))
			return ret;
		nunsig += unsig;
		b->wr[i].wr_id = op->wr_id;
		b->wr[i].send_flags = prep->send_flags[unsig][len <= prep->max_inline];
		b->wr[i].wr.rdma.remote_addr = prep->raddr + op->remote_off;
		b->sge[i].addr = prep->laddr + op->local_off;
		b->sge[i].length = len;
	}
	b->wr[n - 1].next = NULL;
	ret = post_chain(p, b->wr, n, nunsig == n - 1 && !(ops[n - 1].flags &
			RZ_REMOTE_F_UNSIGNALED));
	if (n < RZ_REMOTE_BURST_MAX)
		b->wr[n - 1].next = &b->wr[n];
	return ret;
}

/* Signaled operations in flight. */
static inline uint32_t
sq_nsig(const struct rz_peer *p)
{
	return p->sq.outstanding - p->sq.unsig_out;
}

/* The slots that the completions of @done signaled operations from the oldest in flight
 * retire: their own, and those of the unsignaled runs they end (popped from the ring). */
static inline uint32_t
runs_take(struct rz_peer *p, uint32_t done)
{
	uint32_t freed = done;

	while (p->sq.run_n > 0) {
		const struct rz_remote_sq_run *e = &p->sq.runs[p->sq.run_head % RZ_PEER_SQ_DEPTH];

		if (e->sig - p->sq.sig_head >= done)
			break;
		freed += e->slots;
		p->sq.unsig_out -= e->slots;
		p->sq.run_head++;
		p->sq.run_n--;
	}
	return freed;
}

/* @done signaled operations from the oldest in flight completed (done <= sq_nsig()): their
 * send-queue slots freed. */
static inline void
retire_n(struct rz_peer *p, uint32_t done)
{
	uint32_t freed = unlikely(p->sq.run_n > 0) ? runs_take(p, done) : done;

	p->sq.sig_head += done;
	p->sq.outstanding -= RTE_MIN(freed, p->sq.outstanding);
}

/* A completion of the user's is handed out (the slow path: one at a time): free the
 * send-queue slots it retires. */
static void
retire(struct rz_peer *p, enum ibv_wc_status status)
{
	if (status != IBV_WC_SUCCESS) {
		p->qp_failed = true;
		__atomic_store_n(&p->sq.limit, 0, __ATOMIC_RELAXED);
	}
	if (!p->qp_failed && sq_nsig(p) > 0) {
		retire_n(p, 1);
		return;
	}
	/* In error every work request still queued completes on its own (flushed), signaled or
	 * not; the count is kept for rz_remote_poll()'s callers, posting is refused. */
	p->sq.run_n = 0;
	p->sq.unsig_out = 0;
	if (p->sq.outstanding > 0)
		p->sq.outstanding--;
}

/* Hand out up to @n stashed completions (the consumer's side of the stash: no lock). With
 * @cqe NULL (rz_remote_reap()), successes only: it stops at a failed one, which stays (the
 * stash is not empty afterwards although fewer than @n were taken). */
static unsigned int
stash_take(struct rz_peer *p, struct rz_remote_cqe *cqe, unsigned int n)
{
	uint32_t head = p->stash_head, tail = __atomic_load_n(&p->stash_tail, __ATOMIC_ACQUIRE);
	unsigned int got = 0;

	while (got < n && head != tail) {
		const struct ibv_wc *w = &p->stash[head % RZ_PEER_STASH];

		if (cqe == NULL) {
			if (w->status != IBV_WC_SUCCESS)
				break;
		} else {
			cqe[got].wr_id = w->wr_id;
			cqe[got].wc_status = w->status;
			cqe[got].status = wc_errno(w->status);
		}
		retire(p, w->status);
		got++;
		head++;
	}
	if (got > 0)
		__atomic_store_n(&p->stash_head, head, __ATOMIC_RELEASE);
	return got;
}

/* The completions @wc[0..@k) of one poll one at a time, into @c: what the fast path of
 * cq_collect() does not take (an internal one, a failure, more successes than are in flight).
 * With @c NULL (rz_remote_reap()): successes are counted only, and a failure stops it: that
 * one and the rest of @wc go to the stash, in order (internal ones still to their slot), for
 * rz_remote_poll(). Returns the user's completions handed out (written to @c, or counted). */
static __rte_noinline unsigned int
poll_slow(struct rz_peer *p, const struct ibv_wc *wc, int k, struct rz_remote_cqe *c)
{
	const struct ibv_wc *w, *end = wc + k;
	unsigned int got = 0;

	for (w = wc; w < end; w++) {
		if (w->wr_id & RZ_WRID_INTERNAL) {
			/* A control call's or a synchronous call's: to its slot. */
			peer_deliver_internal(p, w);
			continue;
		}
		if (c == NULL && w->status != IBV_WC_SUCCESS) {
			for (; w < end; w++) {
				if (w->wr_id & RZ_WRID_INTERNAL)
					peer_deliver_internal(p, w);
				else
					peer_stash_put(p, w);
			}
			break;
		}
		if (c != NULL) {
			c[got].wr_id = w->wr_id;
			c[got].wc_status = w->status;
		}
		if (likely(w->status == IBV_WC_SUCCESS && sq_nsig(p) > 0)) {
			if (c != NULL)
				c[got].status = 0;
			retire_n(p, 1);
		} else {
			/* A failure (reported, and the peer put in error), or a success beyond
			 * those in flight (cannot happen): as retire() has it. */
			if (c != NULL)
				c[got].status = wc_errno(w->status);
			retire(p, w->status);
		}
		got++;
	}
	return got;
}

/*
 * What rz_remote_poll() (@reap false: each completion converted into @cqe) and
 * rz_remote_reap() (@reap true, @cqe unused: successes counted, up to the first failure) share:
 * the CQ's try-lock, the stash first, the polls, the routing of internal completions, the
 * retire. @n > 0. Inlined into each with @reap constant.
 */
static __rte_always_inline int
cq_collect(struct rz_peer *p, struct rz_remote_cqe *cqe, unsigned int n, const bool reap)
{
	struct ibv_wc wc[16];
	struct ibv_cq *cq;
	unsigned int got = 0;

	if (reap)
		cqe = NULL;
	/* The CQ is shared with the control calls' pollers, one poll at a time: if one of them
	 * polls now, it stashes what is ours; we take what is stashed (in order, lock-free) and
	 * the rest next time: the data path never waits for it. */
	if (unlikely(!cq_trylock(p)))
		return (int)stash_take(p, cqe, n);
	/* What other threads' polls stashed for us comes before anything newer. It is stashed
	 * under the lock only: with the lock held, this one look is final. */
	if (unlikely(p->stash_head != __atomic_load_n(&p->stash_tail, __ATOMIC_ACQUIRE))) {
		got = stash_take(p, cqe, n);
		/* Not all taken: @n reached, or a reap stopped at a failure (nothing newer
		 * before it). */
		if (p->stash_head != p->stash_tail) {
			cq_unlock(p);
			return (int)got;
		}
	}
	cq = p->scq;
	while (got < n) {
		int want = (int)RTE_MIN(n - got, RTE_DIM(wc)), k, i;
		uint64_t ids = 0;
		uint32_t sts = 0;

		k = ibv_poll_cq(cq, want, wc);
		if (unlikely(k <= 0)) {
			if (k == 0)
				break;
			cq_unlock(p);
			return -EIO;
		}
		/* The fast path: all @k the successful completions of the user's signaled
		 * operations (the usual poll), converted (a poll) in one pass that also collects
		 * what says otherwise (the internal bit, a status), and retired together. */
		if (reap) {
			for (i = 0; i < k; i++) {
				ids |= wc[i].wr_id;
				sts |= (uint32_t)wc[i].status;
			}
		} else {
			struct rz_remote_cqe *c = cqe + got;

			for (i = 0; i < k; i++) {
				ids |= wc[i].wr_id;
				sts |= (uint32_t)wc[i].status;
				c[i].wr_id = wc[i].wr_id;
				/* Both words 0: one store. */
				c[i].status = 0;
				c[i].wc_status = IBV_WC_SUCCESS;
			}
		}
		if (likely(!(ids & RZ_WRID_INTERNAL) && sts == 0 && (uint32_t)k <= sq_nsig(p))) {
			retire_n(p, (uint32_t)k);
			got += (unsigned int)k;
		} else {
			/* Converted again, one at a time. */
			got += poll_slow(p, wc, k, reap ? NULL : cqe + got);
			/* A reap that met a failure stashed it: it stops before it. */
			if (reap && p->stash_head != p->stash_tail)
				break;
		}
		if (k < want)
			break;
	}
	cq_unlock(p);
	return (int)got;
}

int
rz_remote_poll(struct rz_peer *p, struct rz_remote_cqe *cqe, unsigned int n)
{
	if (unlikely(p == NULL || (cqe == NULL && n > 0)))
		return -EINVAL;
	if (unlikely(n == 0))
		return 0;
	return cq_collect(p, cqe, n, false);
}

int
rz_remote_reap(struct rz_peer *p, unsigned int n)
{
	if (unlikely(p == NULL))
		return -EINVAL;
	if (unlikely(n == 0))
		return 0;
	return cq_collect(p, NULL, n, true);
}
