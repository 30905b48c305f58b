/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * The message channel of a peer: RZ_PEER_RECV_SLOTS receive slots and one send slot of
 * RZ_PEER_SLOT_SIZE bytes in a registered buffer. It carries capability descriptors
 * (RZ_DESC_MAGIC, validated on receipt) and application messages (RZ_MSG_MAGIC, up to
 * RZ_PEER_MSG_MAX bytes). A received message is held at the head until the call of its kind
 * takes it. Also the descriptor codec's public face: rz_rdma_desc_pack(), rz_peer_desc_unpack().
 */

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>

#include <rte_byteorder.h>

#include "desc_private.h"
#include "rdma_private.h"

int
peer_post_recv(struct rz_peer *p, uint32_t slot)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)(p->buf + (size_t)slot * RZ_PEER_SLOT_SIZE),
		.length = RZ_PEER_SLOT_SIZE,
		.lkey = p->buf_mr->lkey,
	};
	struct ibv_recv_wr wr = { .wr_id = slot, .sg_list = &sge, .num_sge = 1 }, *bad;
	int ret = ibv_post_recv(p->qp, &wr, &bad);

	return ret == 0 ? 0 : rdma_errno(ret);
}

/* Post a SEND of @len bytes that are in the send slot, and wait for it. Caller in @p's
 * control. */
static int
peer_send_slot(struct rz_peer *p, size_t len)
{
	uint8_t *slot = p->buf + (size_t)RZ_PEER_RECV_SLOTS * RZ_PEER_SLOT_SIZE;
	struct ibv_sge sge = { .addr = (uintptr_t)slot, .length = (uint32_t)len,
		.lkey = p->buf_mr->lkey };
	struct ibv_send_wr wr, *bad;
	struct ibv_wc wc;
	int ret;

	memset(&wr, 0, sizeof(wr));
	ret = peer_slot_get(p, &wr.wr_id);
	if (ret != 0)
		return ret;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = IBV_WR_SEND;
	wr.send_flags = IBV_SEND_SIGNALED | (len <= p->max_inline ? IBV_SEND_INLINE : 0);
	ret = ibv_post_send(p->qp, &wr, &bad);
	if (ret != 0) {
		peer_slot_put(p, wr.wr_id);
		return rdma_errno(ret);
	}
	ret = peer_wait_slot(p, wr.wr_id, RZ_CTRL_TIMEOUT_MS, &wc);
	if (ret == -ETIMEDOUT) {
		/* Still queued: it goes when the peer posts receives again. Until then the slot
		 * is in use and later SENDs wait for it (peer_backlog()). */
		__atomic_store_n(&p->send_pending, wr.wr_id, __ATOMIC_RELEASE);
		RZ_LOG(ERR, "send to peer 0x%016" PRIx64 ": not taken in %d ms (the peer receives "
				"nothing): it stays queued", p->remote_id, RZ_CTRL_TIMEOUT_MS);
		return ret;
	}
	peer_slot_put(p, wr.wr_id);
	if (ret != 0)
		return ret;
	if (wc.status != IBV_WC_SUCCESS) {
		RZ_LOG(ERR, "send to peer 0x%016" PRIx64 ": %s", p->remote_id,
				ibv_wc_status_str(wc.status));
		return wc.status == IBV_WC_WR_FLUSH_ERR ? -ENOTCONN : -EIO;
	}
	return 0;
}

int
peer_send_desc(struct rz_peer *p, const struct rz_rdma_desc *d)
{
	uint8_t *slot = p->buf + (size_t)RZ_PEER_RECV_SLOTS * RZ_PEER_SLOT_SIZE;
	struct ibv_sge sge = { .addr = (uintptr_t)slot, .length = RZ_RDMA_DESC_SIZE,
		.lkey = p->buf_mr->lkey };
	struct ibv_send_wr wr, *bad;
	int ret;

	/* The previous SEND first: one in flight at most (the caller has usually waited for it
	 * already, before binding the window). */
	ret = peer_backlog(p);
	if (ret != 0)
		return ret;
	ret = desc_encode(d, slot, RZ_PEER_SLOT_SIZE);
	if (ret != 0)
		return ret;
	if (RZ_RDMA_DESC_SIZE > p->max_inline)
		return peer_send_slot(p, RZ_RDMA_DESC_SIZE);	/* the slot is in use until done */
	/* Inline: the bytes are in the work request, the slot is free again at once. The RC
	 * QP delivers the descriptor in order or the connection fails; no need to wait: the
	 * completion is reaped by the next control call (backlog). */
	memset(&wr, 0, sizeof(wr));
	ret = peer_slot_get(p, &wr.wr_id);
	if (ret != 0)
		return ret;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = IBV_WR_SEND;
	wr.send_flags = IBV_SEND_SIGNALED | IBV_SEND_INLINE;
	ret = ibv_post_send(p->qp, &wr, &bad);
	if (ret != 0) {
		peer_slot_put(p, wr.wr_id);
		return rdma_errno(ret);
	}
	__atomic_store_n(&p->send_pending, wr.wr_id, __ATOMIC_RELEASE);
	return 0;
}

int
rz_peer_send_msg(struct rz_peer *p, const void *buf, size_t len)
{
	uint8_t *slot;
	int ret;

	if (p == NULL || (buf == NULL && len > 0) || len > RZ_PEER_MSG_MAX)
		return -EINVAL;
	if (!p->connected)
		return -ENOTCONN;
	/* The peer's control: the send slot and its pending SEND are ours. */
	ret = peer_ctrl_enter(p);
	if (ret != 0)
		return ret;
	ret = peer_backlog(p);	/* the send slot may still hold a queued SEND */
	if (ret == -EAGAIN)
		RZ_LOG(WARNING, "peer 0x%016" PRIx64 " has not taken the previous descriptor or "
				"message (it receives nothing): message not sent", p->remote_id);
	if (ret != 0)
		goto out;
	slot = p->buf + (size_t)RZ_PEER_RECV_SLOTS * RZ_PEER_SLOT_SIZE;
	ret = msg_encode(slot, buf, len);
	if (ret < 0)
		goto out;
	ret = peer_send_slot(p, (size_t)ret);
out:
	peer_ctrl_exit(p);
	return ret;
}

/* Next received message: its slot and length. It stays at the head (held) until taken with
 * peer_take(), which gives the slot back to the receive queue. */
static int
peer_recv(struct rz_peer *p, int timeout_ms, uint32_t *slot, uint32_t *len)
{
	uint64_t deadline = mono_time_ns() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms) * 1000000;
	bool armed = false;
	struct ibv_wc wc;

	for (;;) {
		struct pollfd pfd[2];
		int n, wait_ms = 100;

		if (p->held) {
			*slot = p->held_slot;
			*len = p->held_len;
			return 0;
		}
		n = ibv_poll_cq(p->rcq, 1, &wc);
		if (n < 0)
			return -EIO;
		if (n == 1) {
			if (wc.status != IBV_WC_SUCCESS) {
				RZ_LOG(ERR, "receive from peer 0x%016" PRIx64 ": %s", p->remote_id,
						ibv_wc_status_str(wc.status));
				return -ENOTCONN;
			}
			p->held = true;
			p->held_slot = (uint32_t)wc.wr_id;
			p->held_len = wc.byte_len;
			continue;
		}
		peer_events(p);
		if (!p->connected)
			return -ENOTCONN;
		if (!armed) {
			/* Ask for an event, then look once more: a completion that came in between
			 * would not raise one. */
			if (ibv_req_notify_cq(p->rcq, 0) != 0)
				return -EIO;
			armed = true;
			continue;
		}
		if (timeout_ms >= 0) {
			uint64_t now = mono_time_ns();

			if (now > deadline)
				return -ETIMEDOUT;
			if ((deadline - now) / 1000000 < (uint64_t)wait_ms)
				wait_ms = (int)((deadline - now) / 1000000) + 1;
		}
		/* Sleep until a completion or a connection event (or 100 ms, for expiries and
		 * the deadline). */
		pfd[0] = (struct pollfd){ .fd = p->rch->fd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = p->ch->fd, .events = POLLIN };
		if (poll(pfd, 2, wait_ms) > 0 && (pfd[0].revents & POLLIN)) {
			struct ibv_cq *cq;
			void *ctx;

			if (ibv_get_cq_event(p->rch, &cq, &ctx) == 0 &&
					++p->rcq_unacked >= RZ_PEER_RECV_SLOTS) {
				ibv_ack_cq_events(p->rcq, p->rcq_unacked);
				p->rcq_unacked = 0;
			}
			armed = false;
		}
	}
}

static void
peer_take(struct rz_peer *p)
{
	p->held = false;
	peer_post_recv(p, p->held_slot);
}

/* First 4 bytes of a received message: which kind it is. */
static uint32_t
peer_msg_magic(const struct rz_peer *p, uint32_t slot, uint32_t len)
{
	uint32_t magic = 0;

	if (len >= sizeof(magic))
		memcpy(&magic, p->buf + (size_t)slot * RZ_PEER_SLOT_SIZE, sizeof(magic));
	return rte_le_to_cpu_32(magic);
}

/* Validate @len bytes as a descriptor from peer @p to us (issuer, target, expiry). */
static int
peer_parse_desc(struct rz_peer *p, const void *buf, size_t len, struct rz_rdma_desc *desc)
{
	struct desc_check chk;
	const char *why = NULL;
	int ret;

	memset(&chk, 0, sizeof(chk));
	chk.issuer = p->remote_id;
	chk.target = rdma_state.self_id;
	/* The expiry is the grantor's wall clock: another host's may be ahead of ours by a
	 * little (two VM guests differ by up to a second); the grantor enforces the expiry by
	 * its own monotonic clock in any case. */
	chk.now_ns = rdma_now_realtime() - RZ_DESC_CLOCK_SKEW_NS;
	ret = desc_parse(buf, len, &chk, desc, &why);
	if (ret != 0) {
		RZ_STAT_INC(stats_desc_rejected, 1);
		RZ_LOG(ERR, "descriptor from peer 0x%016" PRIx64 " rejected: %s", p->remote_id,
				why);
	}
	return ret;
}

int
rz_rdma_desc_pack(const struct rz_rdma_desc *desc, void *buf, size_t len)
{
	if (desc == NULL || buf == NULL) {
		RZ_LOG(ERR, "descriptor pack: NULL %s", desc == NULL ? "descriptor" : "buffer");
		return -EINVAL;
	}
	if (len < RZ_RDMA_DESC_SIZE) {
		RZ_LOG(ERR, "descriptor pack: %zu bytes of room, %u needed", len,
				RZ_RDMA_DESC_SIZE);
		return -ENOSPC;
	}
	if (desc_encode(desc, buf, len) != 0) {
		RZ_LOG(ERR, "descriptor pack: generation %" PRIu64 " is not a valid descriptor",
				desc->generation);
		return -EINVAL;
	}
	return RZ_RDMA_DESC_SIZE;
}

int
rz_peer_desc_unpack(struct rz_peer *p, const void *buf, size_t len, struct rz_rdma_desc *desc)
{
	if (p == NULL || buf == NULL || desc == NULL) {
		RZ_LOG(ERR, "descriptor unpack: NULL argument");
		return -EINVAL;
	}
	return peer_parse_desc(p, buf, len, desc);
}

int
rz_peer_recv_desc(struct rz_peer *p, struct rz_rdma_desc *desc, int timeout_ms)
{
	uint32_t slot, len;
	int ret;

	if (p == NULL || desc == NULL)
		return -EINVAL;
	ret = peer_recv(p, timeout_ms, &slot, &len);
	if (ret != 0)
		return ret;
	if (peer_msg_magic(p, slot, len) == RZ_MSG_MAGIC) {
		RZ_LOG(DEBUG, "peer 0x%016" PRIx64 ": next is a message, not a descriptor: kept "
				"for rz_peer_recv_msg()", p->remote_id);
		return -ENOMSG;
	}
	ret = peer_parse_desc(p, p->buf + (size_t)slot * RZ_PEER_SLOT_SIZE, len, desc);
	peer_take(p);
	return ret;
}

int
rz_peer_recv_msg(struct rz_peer *p, void *buf, int timeout_ms)
{
	uint32_t slot, len;
	const void *payload;
	const char *why;
	int ret;

	if (p == NULL || buf == NULL)
		return -EINVAL;
	ret = peer_recv(p, timeout_ms, &slot, &len);
	if (ret != 0)
		return ret;
	if (peer_msg_magic(p, slot, len) == RZ_DESC_MAGIC) {
		RZ_LOG(DEBUG, "peer 0x%016" PRIx64 ": next is a descriptor, not a message: kept "
				"for rz_peer_recv_desc()", p->remote_id);
		return -ENOMSG;
	}
	ret = msg_parse(p->buf + (size_t)slot * RZ_PEER_SLOT_SIZE, len, &payload, &why);
	if (ret >= 0)
		memcpy(buf, payload, (size_t)ret);
	else
		RZ_LOG(ERR, "message from peer 0x%016" PRIx64 " rejected: %u bytes, not a message "
				"(%s)", p->remote_id, len, why);
	peer_take(p);
	return ret;
}
