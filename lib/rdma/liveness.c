/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * Liveness of peers. An RC connection notices a dead other side only when it sends: an idle
 * owner never learns that its peer's host powered off. rz_rdma_progress() therefore posts, every
 * keepalive interval, a zero-length RDMA WRITE on each connected peer's QP (no rkey, no data:
 * the other side's device acknowledges it and its application sees nothing). At most one is in
 * flight per peer; it takes one of the peer's completion slots like any of rzone's own work
 * requests, so whichever thread polls the send CQ delivers its completion (completion.c), and
 * this file only looks at the slot: no wait, no lock but the RDMA lock the caller holds for its
 * walk. A keepalive that completes in error marks the peer down: retries exceeded (no answer:
 * the host is gone) is -ETIMEDOUT, anything else (flushed: the QP went into error, e.g. after a
 * failed data operation) -ENOTCONN. A peer marked down is disconnected (whatever else is queued
 * on its QP flushes at once), its grants are revoked by the caller (cm.c, peer_events_locked())
 * and the application's down handler is called by liveness_report() after the lock is dropped.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "rdma_private.h"

#define KEEPALIVE_DEFAULT_MS	1000
#define KEEPALIVE_MAX_MS	3600000u
/* The QP's local ACK timeout is 5 bits: 4.096 us * 2^exp, exp 1..31. */
#define ACK_TIMEOUT_MAX		31u
/* Down peers handed to the handler per round of liveness_report(). */
#define REPORT_BATCH		16

static uint32_t
keepalive_ms(void)
{
	uint32_t ms = __atomic_load_n(&rdma_state.keepalive_ms, __ATOMIC_RELAXED);

	/* 0 in the static state means "never set": the default (UINT32_MAX: set to 0, off). */
	if (ms == 0)
		return KEEPALIVE_DEFAULT_MS;
	return ms == UINT32_MAX ? 0 : ms;
}

int
rz_rdma_set_keepalive_ms(uint32_t ms)
{
	if (ms > KEEPALIVE_MAX_MS) {
		RZ_LOG(ERR, "keepalive interval %u ms: want 0..%u", ms, KEEPALIVE_MAX_MS);
		return -EINVAL;
	}
	__atomic_store_n(&rdma_state.keepalive_ms, ms == 0 ? UINT32_MAX : ms, __ATOMIC_RELAXED);
	return 0;
}

uint32_t
rz_rdma_keepalive_ms(void)
{
	return keepalive_ms();
}

int
rz_rdma_set_ack_timeout(unsigned int exp)
{
	if (exp > ACK_TIMEOUT_MAX) {
		RZ_LOG(ERR, "ACK timeout exponent %u: want 0 (rdma_cm's) or 1..%u", exp,
				ACK_TIMEOUT_MAX);
		return -EINVAL;
	}
	__atomic_store_n(&rdma_state.ack_timeout, (uint8_t)exp, __ATOMIC_RELAXED);
	return 0;
}

unsigned int
rz_rdma_ack_timeout(void)
{
	return __atomic_load_n(&rdma_state.ack_timeout, __ATOMIC_RELAXED);
}

int
cm_apply_ack_timeout(struct rdma_cm_id *id)
{
	uint8_t exp = (uint8_t)rz_rdma_ack_timeout();

	if (exp == 0)
		return 0;
	if (rdma_set_option(id, RDMA_OPTION_ID, RDMA_OPTION_ID_ACK_TIMEOUT, &exp,
			sizeof(exp)) != 0) {
		int ret = -errno;

		RZ_LOG(ERR, "rdma_set_option(ACK_TIMEOUT %u): %s (kernel without it?)", exp,
				strerror(-ret));
		return ret;
	}
	return 0;
}

static void
ack_timeout_from_env(void)
{
	const char *v = getenv("RZ_RDMA_ACK_TIMEOUT");
	unsigned long n;
	char *end;

	if (v == NULL)
		return;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n > ACK_TIMEOUT_MAX) {
		RZ_LOG(WARNING, "RZ_RDMA_ACK_TIMEOUT=%s ignored: want 0..%u", v, ACK_TIMEOUT_MAX);
		return;
	}
	rz_rdma_set_ack_timeout((unsigned int)n);
	RZ_LOG(INFO, "local ACK timeout exponent %lu (RZ_RDMA_ACK_TIMEOUT)%s", n,
			n == 0 ? ": rdma_cm's" : "");
}

void
liveness_init_locked(void)
{
	const char *v = getenv("RZ_RDMA_KEEPALIVE_MS");
	unsigned long n;
	char *end;

	ack_timeout_from_env();
	if (v == NULL)
		return;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n > KEEPALIVE_MAX_MS) {
		RZ_LOG(WARNING, "RZ_RDMA_KEEPALIVE_MS=%s ignored: want 0..%u", v, KEEPALIVE_MAX_MS);
		return;
	}
	rz_rdma_set_keepalive_ms((uint32_t)n);
	RZ_LOG(INFO, "keepalive interval %lu ms (RZ_RDMA_KEEPALIVE_MS)%s", n,
			n == 0 ? ": off" : "");
}

int
rz_rdma_set_peer_down_handler(rz_peer_down_fn fn, void *arg)
{
	rdma_lock();
	rdma_state.down_fn = fn;
	rdma_state.down_arg = arg;
	rdma_unlock();
	return 0;
}

void
peer_liveness_start(struct rz_peer *p)
{
	p->ka_wr_id = 0;
	p->ka_next_ns = mono_time_ns() + (uint64_t)keepalive_ms() * 1000000;
	p->down_reason = 0;
	p->down_reported = false;
}

void
peer_mark_down_locked(struct rz_peer *p, int reason)
{
	if (p->down_reason == 0)
		p->down_reason = reason;
	if (!p->connected)
		return;
	peer_set_connected(p, 0);
	if (reason == -ETIMEDOUT)
		RZ_STAT_INC(stats_peers_dead, 1);
	RZ_LOG(ERR, "peer %d = 0x%016" PRIx64 " (pid %d) is down: %s; its grants are revoked",
			(int)p->local_id, p->remote_id, p->remote_pid,
			reason == -ETIMEDOUT ? "no answer to its keepalive within the transport's "
			"retries (its host is gone or unreachable)" :
			"its connection is in error");
	/* The QP goes to error: whatever is queued on it (a synchronous call waiting, control
	 * calls) flushes now instead of at its own timeout. No wait. */
	rdma_disconnect(p->id);
}

/* The keepalive's completion, if it came: its slot freed. 1: reaped (*@status), 0: not yet. */
static int
keepalive_reaped(struct rz_peer *p, enum ibv_wc_status *status)
{
	struct wait_slot *s = &p->slots[p->ka_wr_id & RZ_WRID_SLOT_MASK];

	if (__atomic_load_n(&s->done, __ATOMIC_ACQUIRE) != p->ka_wr_id) {
		peer_cq_drain(p);	/* no wait: returns at once if another thread polls */
		if (__atomic_load_n(&s->done, __ATOMIC_ACQUIRE) != p->ka_wr_id)
			return 0;
	}
	*status = s->wc.status;
	peer_slot_put(p, p->ka_wr_id);
	p->ka_wr_id = 0;
	return 1;
}

void
peer_liveness_locked(struct rz_peer *p, uint64_t now)
{
	struct ibv_send_wr wr, *bad;
	enum ibv_wc_status st;
	uint32_t ms;
	int ret;

	if (!p->connected || __atomic_load_n(&p->closing, __ATOMIC_ACQUIRE))
		return;
	if (p->ka_wr_id != 0) {
		if (!keepalive_reaped(p, &st)) {
			if (p->ka_deadline_ns == 0 || now < p->ka_deadline_ns)
				return;
			/* The transport retries for ever: our own bound. The slot stays taken
			 * until the completion (flushed by the disconnect) comes. */
			RZ_LOG(ERR, "peer 0x%016" PRIx64 ": keepalive unanswered for %u ms (the "
					"QP's retry count %u does not end)", p->remote_id,
					p->sync_timeout_ms, p->retry_cnt);
			peer_mark_down_locked(p, -ETIMEDOUT);
			return;
		}
		if (st != IBV_WC_SUCCESS) {
			RZ_LOG(ERR, "peer 0x%016" PRIx64 ": keepalive failed: %s", p->remote_id,
					ibv_wc_status_str(st));
			peer_mark_down_locked(p, st == IBV_WC_RETRY_EXC_ERR ? -ETIMEDOUT :
					-ENOTCONN);
			return;
		}
		p->ka_answered++;
	}
	ms = keepalive_ms();
	if (ms == 0 || now < p->ka_next_ns)
		return;
	p->ka_next_ns = now + (uint64_t)ms * 1000000;
	memset(&wr, 0, sizeof(wr));	/* no data, remote address 0, rkey 0: nothing accessed */
	if (peer_slot_get(p, &wr.wr_id) != 0)
		return;		/* 64 of rzone's own in flight: plenty of traffic; next time */
	wr.opcode = IBV_WR_RDMA_WRITE;
	wr.send_flags = IBV_SEND_SIGNALED;
	ret = ibv_post_send(p->qp, &wr, &bad);
	if (ret != 0) {
		peer_slot_put(p, wr.wr_id);
		RZ_LOG(ERR, "peer 0x%016" PRIx64 ": keepalive not posted: %s", p->remote_id,
				strerror(ret));
		peer_mark_down_locked(p, -ENOTCONN);
		return;
	}
	p->ka_wr_id = wr.wr_id;
	p->ka_sent++;
	/* Our own deadline only where the transport sets none, and only if nothing ahead of the
	 * keepalive waits for the peer's receiver (a SEND held by RNR, which has no limit and
	 * proves the peer alive). */
	p->ka_deadline_ns = p->retry_cnt >= 7 && __atomic_load_n(&p->send_pending,
			__ATOMIC_ACQUIRE) == 0 ? now + (uint64_t)p->sync_timeout_ms * 1000000 : 0;
}

void
liveness_report(void)
{
	struct {
		pid_t id;
		uint64_t identity;
		int reason;
	} down[REPORT_BATCH];
	rz_peer_down_fn fn;
	struct rz_peer *p;
	void *arg;
	int n, i;

	do {
		n = 0;
		rdma_lock();
		fn = rdma_state.down_fn;
		arg = rdma_state.down_arg;
		TAILQ_FOREACH(p, &rdma_state.peers, next) {
			if (p->connected || p->down_reported)
				continue;
			p->down_reported = true;
			if (fn == NULL)
				continue;
			down[n].id = p->local_id;
			down[n].identity = p->remote_id;
			down[n].reason = p->down_reason != 0 ? p->down_reason : -ENOTCONN;
			if (++n == REPORT_BATCH)
				break;
		}
		rdma_unlock();
		for (i = 0; i < n; i++)
			fn(down[i].id, down[i].identity, down[i].reason, arg);
	} while (n == REPORT_BATCH);
}

int
rz_peer_down_reason(struct rz_peer *p)
{
	if (p == NULL)
		return -EINVAL;
	peer_events(p);
	if (p->connected)
		return 0;
	return p->down_reason != 0 ? p->down_reason : -ENOTCONN;
}

int
rz_peer_liveness_bound_ms(const struct rz_peer *p)
{
	uint64_t ms;

	if (p == NULL)
		return -EINVAL;
	ms = (uint64_t)keepalive_ms() + p->sync_timeout_ms;
	return (int)RTE_MIN(ms, (uint64_t)INT32_MAX);
}
