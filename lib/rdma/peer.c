/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * Peers over librdmacm: one RC QP, a send CQ and a receive CQ each, its own event channel
 * (non-blocking, so that disconnects are noticed by polling), and an identity exchanged in the
 * connection's private data.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_byteorder.h>

#include "desc_private.h"
#include "rdma_private.h"

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static struct rdma_event_channel *
channel_new(void)
{
	struct rdma_event_channel *ch = rdma_create_event_channel();

	if (ch == NULL)
		return NULL;
	if (set_nonblock(ch->fd) != 0) {
		rdma_destroy_event_channel(ch);
		return NULL;
	}
	return ch;
}

/* A non-blocking event channel and an RC (TCP port space) id on it. 0 or -errno; on failure
 * *ch and *id are left NULL or as made, for the caller's cleanup path. */
static int
cm_id_new(struct rdma_event_channel **ch, struct rdma_cm_id **id, void *ctx)
{
	*id = NULL;
	*ch = channel_new();
	if (*ch == NULL)
		return -ENOMEM;
	if (rdma_create_id(*ch, id, ctx, RDMA_PS_TCP) != 0) {
		*id = NULL;
		return rdma_errno(-1);
	}
	return 0;
}

/* Next event of a channel, waiting at most @timeout_ms (< 0: for ever). 0 or -ETIMEDOUT /
 * -errno. */
static int
channel_get(struct rdma_event_channel *ch, int timeout_ms, struct rdma_cm_event **ev)
{
	struct pollfd pfd = { .fd = ch->fd, .events = POLLIN };
	uint64_t deadline = mono_time_ns() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms) * 1000000;

	for (;;) {
		int t = -1, n;

		if (rdma_get_cm_event(ch, ev) == 0)
			return 0;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		if (timeout_ms >= 0) {
			uint64_t now = mono_time_ns();

			if (now >= deadline)
				return -ETIMEDOUT;
			t = (int)((deadline - now) / 1000000) + 1;
		}
		n = poll(&pfd, 1, t);
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

/* Wait for one event of type @want on @ch; anything else fails. The event is acked unless
 * @keep is not NULL. */
static int
channel_expect(struct rdma_event_channel *ch, enum rdma_cm_event_type want, int timeout_ms,
		struct rdma_cm_event **keep)
{
	struct rdma_cm_event *ev;
	int ret = channel_get(ch, timeout_ms, &ev);

	if (ret != 0) {
		RZ_LOG(ERR, "waiting for %s: %s", rdma_event_str(want), strerror(-ret));
		return ret;
	}
	if (ev->event != want) {
		RZ_LOG(ERR, "expected %s, got %s (status %d)", rdma_event_str(want),
				rdma_event_str(ev->event), ev->status);
		switch (ev->event) {
		case RDMA_CM_EVENT_REJECTED:
		case RDMA_CM_EVENT_UNREACHABLE:
		case RDMA_CM_EVENT_CONNECT_ERROR:
			ret = -ECONNREFUSED;
			break;
		case RDMA_CM_EVENT_ADDR_ERROR:
		case RDMA_CM_EVENT_ROUTE_ERROR:
			ret = -EHOSTUNREACH;
			break;
		default:
			ret = -EIO;
		}
		rdma_ack_cm_event(ev);
		return ret;
	}
	if (keep != NULL)
		*keep = ev;
	else
		rdma_ack_cm_event(ev);
	return 0;
}

static void
hello_make(struct hello *h)
{
	memset(h, 0, sizeof(*h));
	h->magic = RZ_HELLO_MAGIC;
	h->version = RZ_HELLO_VERSION;
	h->size = sizeof(*h);
	h->id = rdma_state.self_id;
	h->pid = (uint32_t)getpid();
}

static int
hello_check(const void *data, uint8_t len, struct hello *h)
{
	if (data == NULL || len < sizeof(*h)) {
		RZ_LOG(ERR, "connection without rzone hello (%u bytes of private data)", len);
		return -EPROTO;
	}
	memcpy(h, data, sizeof(*h));
	if (h->magic != RZ_HELLO_MAGIC || h->size != sizeof(*h)) {
		RZ_LOG(ERR, "remote is not an rzone peer");
		return -EPROTO;
	}
	if (h->version != RZ_HELLO_VERSION) {
		RZ_LOG(ERR, "remote speaks rzone peer version %u, we speak %u", h->version,
				RZ_HELLO_VERSION);
		return -EPROTO;
	}
	if (h->id == 0 || h->id == rdma_state.self_id) {
		RZ_LOG(ERR, "remote identity %016" PRIx64 " is invalid", h->id);
		return -EPROTO;
	}
	return 0;
}

static int
post_recv(struct rz_peer *p, uint32_t slot)
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

static void
peer_free(struct rz_peer *p)
{
	if (p->id != NULL && p->qp != NULL)
		rdma_destroy_qp(p->id);
	if (p->buf_mr != NULL) {
		ibv_dereg_mr(p->buf_mr);
		rdma_state.n_mr--;
	}
	if (p->scq != NULL)
		ibv_destroy_cq(p->scq);
	if (p->rcq != NULL) {
		if (p->rcq_unacked > 0)
			ibv_ack_cq_events(p->rcq, p->rcq_unacked);
		ibv_destroy_cq(p->rcq);
	}
	if (p->rch != NULL)
		ibv_destroy_comp_channel(p->rch);
	if (p->id != NULL)
		rdma_destroy_id(p->id);
	if (p->ch != NULL)
		rdma_destroy_event_channel(p->ch);
	free(p->buf);
	free(p);
}

/* CQs, QP, receive buffers for @p->id. Control lock held. */
static int
peer_setup_qp_locked(struct rz_peer *p)
{
	const size_t buf_len = (size_t)(RZ_PEER_RECV_SLOTS + 1) * RZ_PEER_SLOT_SIZE;
	struct ibv_qp_init_attr qa;
	uint32_t i;
	int ret;

	if (p->id->verbs != rdma_state.verbs) {
		RZ_LOG(ERR, "the connection goes through device %s, rzone uses %s",
				p->id->verbs != NULL ?
				ibv_get_device_name(p->id->verbs->device) : "(none)",
				rdma_state.name);
		return -ENODEV;
	}
	if (rdma_state.n_mr + 1 > rdma_state.max_mr) {
		RZ_LOG(ERR, "%s: the peer's buffer registration would exceed max_mr %u",
				rdma_state.name, rdma_state.max_mr);
		return -ENOSPC;
	}
	p->buf = aligned_alloc(64, buf_len);
	if (p->buf == NULL)
		return -ENOMEM;
	memset(p->buf, 0, buf_len);
	p->buf_mr = ibv_reg_mr(rdma_state.pd, p->buf, buf_len, IBV_ACCESS_LOCAL_WRITE);
	if (p->buf_mr == NULL)
		return rdma_errno(-1);
	rdma_state.n_mr++;
	p->rch = ibv_create_comp_channel(rdma_state.verbs);
	if (p->rch == NULL || set_nonblock(p->rch->fd) != 0) {
		RZ_LOG(ERR, "ibv_create_comp_channel: %s", strerror(errno));
		return -ENOMEM;
	}
	p->scq = ibv_create_cq(rdma_state.verbs, RZ_PEER_SQ_DEPTH, NULL, NULL, 0);
	p->rcq = ibv_create_cq(rdma_state.verbs, RZ_PEER_RECV_SLOTS, NULL, p->rch, 0);
	if (p->scq == NULL || p->rcq == NULL) {
		RZ_LOG(ERR, "ibv_create_cq: %s", strerror(errno));
		return -ENOMEM;
	}
	memset(&qa, 0, sizeof(qa));
	qa.send_cq = p->scq;
	qa.recv_cq = p->rcq;
	qa.qp_type = IBV_QPT_RC;
	qa.sq_sig_all = 0;
	qa.cap.max_send_wr = RZ_PEER_SQ_DEPTH;
	qa.cap.max_recv_wr = RZ_PEER_RECV_SLOTS;
	qa.cap.max_send_sge = 1;
	qa.cap.max_recv_sge = 1;
	qa.cap.max_inline_data = RZ_PEER_SLOT_SIZE;
	if (rdma_create_qp(p->id, rdma_state.pd, &qa) != 0) {
		/* Retry without inline data: some devices have none. */
		qa.cap.max_inline_data = 0;
		if (rdma_create_qp(p->id, rdma_state.pd, &qa) != 0) {
			ret = rdma_errno(-1);
			RZ_LOG(ERR, "rdma_create_qp: %s", strerror(-ret));
			return ret == -ENOMEM ? -ENOSPC : ret;
		}
	}
	p->qp = p->id->qp;
	p->max_inline = qa.cap.max_inline_data;
	for (i = 0; i < RZ_PEER_RECV_SLOTS; i++) {
		ret = post_recv(p, i);
		if (ret != 0)
			return ret;
	}
	return 0;
}

/*
 * RDMA READs and atomics in flight each way: as many as the device allows (perftest does the
 * same; rxe allows 128, most NICs 16), capped by what the other side offers when accepting
 * (@their_init: its initiator depth, @their_resp: its responder resources; 255: no cap).
 */
static void
conn_param(struct rdma_conn_param *cp, const struct hello *h, uint8_t their_init,
		uint8_t their_resp)
{
	int resp = RTE_MIN(rdma_state.attr.max_qp_rd_atom, UINT8_MAX);
	int init = RTE_MIN(rdma_state.attr.max_qp_init_rd_atom, UINT8_MAX);

	memset(cp, 0, sizeof(*cp));
	cp->private_data = h;
	cp->private_data_len = sizeof(*h);
	cp->responder_resources = (uint8_t)RTE_MIN(resp, (int)their_init);
	cp->initiator_depth = (uint8_t)RTE_MIN(init, (int)their_resp);
	cp->retry_count = 7;
	cp->rnr_retry_count = 7;
}

struct rz_peer *
peer_by_id_locked(pid_t id)
{
	struct rz_peer *p;

	if (!remote_pid_is_peer(id))
		return NULL;
	TAILQ_FOREACH(p, &rdma_state.peers, next)
		if (p->local_id == id)
			return p;
	return NULL;
}

/* Give @p its peer id and list it. Lock held. */
static int
peer_add_locked(struct rz_peer *p)
{
	if (rdma_state.next_peer > (uint32_t)(RZ_PEER_ID_MAX - RZ_PEER_ID_BASE)) {
		RZ_LOG(ERR, "peer ids exhausted in this process (%u peers opened)",
				rdma_state.next_peer);
		return -ENOSPC;
	}
	p->local_id = RZ_PEER_ID_BASE + (pid_t)rdma_state.next_peer++;
	TAILQ_INSERT_TAIL(&rdma_state.peers, p, next);
	return 0;
}

int
rz_peer_pid(const struct rz_peer *p)
{
	return p == NULL ? -EINVAL : p->remote_pid;
}

struct rz_peer_listener *
rz_peer_listen(const char *ip, uint16_t port)
{
	struct rz_peer_listener *l;
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	int ret;

	if (!rdma_state.initialized) {
		rte_errno = ENODEV;
		return NULL;
	}
	memset(&ss, 0, sizeof(ss));
	if (ip == NULL) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
	} else if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
	} else if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
	} else {
		RZ_LOG(ERR, "bad address %s", ip);
		rte_errno = EINVAL;
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	ret = cm_id_new(&l->ch, &l->id, l);
	if (ret != 0)
		goto fail;
	if (rdma_bind_addr(l->id, (struct sockaddr *)&ss) != 0) {
		ret = rdma_errno(-1);
		RZ_LOG(ERR, "rdma_bind_addr(%s:%u): %s", ip ? ip : "*", port, strerror(-ret));
		if (ret != -EADDRINUSE && ret != -EINVAL)
			ret = -ENODEV;
		goto fail;
	}
	if (l->id->verbs != NULL && l->id->verbs != rdma_state.verbs) {
		RZ_LOG(ERR, "%s is on device %s, rzone uses %s", ip,
				ibv_get_device_name(l->id->verbs->device), rdma_state.name);
		ret = -ENODEV;
		goto fail;
	}
	if (rdma_listen(l->id, 16) != 0) {
		ret = rdma_errno(-1);
		RZ_LOG(ERR, "rdma_listen: %s", strerror(-ret));
		goto fail;
	}
	l->port = ntohs(rdma_get_src_port(l->id));
	return l;
fail:
	if (l->id != NULL)
		rdma_destroy_id(l->id);
	if (l->ch != NULL)
		rdma_destroy_event_channel(l->ch);
	free(l);
	rte_errno = -ret;
	return NULL;
}

uint16_t
rz_peer_listener_port(const struct rz_peer_listener *l)
{
	return l == NULL ? 0 : l->port;
}

int
rz_peer_listener_close(struct rz_peer_listener *l)
{
	if (l == NULL)
		return 0;
	rdma_destroy_id(l->id);
	rdma_destroy_event_channel(l->ch);
	free(l);
	return 0;
}

/*
 * The receiver-not-ready timer of our QP: how long a sender that finds no receive posted (we
 * take messages late) waits before it retries. rdma_cm leaves it at 0, which in the encoding of
 * the IB spec is the longest, 655 ms; RZ_MIN_RNR_TIMER (12) is 0.64 ms. Settable in RTS.
 */
static void
peer_set_rnr_timer(struct rz_peer *p)
{
	struct ibv_qp_attr a;
	int ret;

	memset(&a, 0, sizeof(a));
	a.min_rnr_timer = RZ_MIN_RNR_TIMER;
	ret = ibv_modify_qp(p->qp, &a, IBV_QP_MIN_RNR_TIMER);
	if (ret != 0)
		RZ_LOG(WARNING, "qp %u: RNR timer left as rdma_cm set it: %s", p->qp->qp_num,
				strerror(ret));
}

/* Connected (either side): take the other side's identity and enter the peer table. */
static int
peer_established(struct rz_peer *p, const struct hello *theirs)
{
	int ret;

	peer_set_rnr_timer(p);
	p->remote_id = theirs->id;
	p->remote_pid = (int32_t)theirs->pid;
	p->connected = 1;
	pthread_mutex_lock(&rdma_state.lock);
	ret = peer_add_locked(p);
	pthread_mutex_unlock(&rdma_state.lock);
	if (ret != 0)
		rdma_disconnect(p->id);
	return ret;
}

struct rz_peer *
rz_peer_accept(struct rz_peer_listener *l, int timeout_ms)
{
	uint8_t their_init, their_resp;
	struct rdma_conn_param cp;
	struct rdma_cm_event *ev;
	struct hello mine, theirs;
	struct rz_peer *p;
	int ret;

	if (l == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	if (!rdma_state.initialized) {
		rte_errno = ENODEV;
		return NULL;
	}
	ret = channel_expect(l->ch, RDMA_CM_EVENT_CONNECT_REQUEST, timeout_ms, &ev);
	if (ret != 0) {
		rte_errno = -ret;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		rdma_reject(ev->id, NULL, 0);
		rdma_destroy_id(ev->id);
		rdma_ack_cm_event(ev);
		rte_errno = ENOMEM;
		return NULL;
	}
	p->id = ev->id;
	ret = hello_check(ev->param.conn.private_data, ev->param.conn.private_data_len, &theirs);
	their_init = ev->param.conn.initiator_depth;
	their_resp = ev->param.conn.responder_resources;
	rdma_ack_cm_event(ev);
	if (ret != 0) {
		rdma_reject(p->id, NULL, 0);
		goto fail;
	}
	p->ch = channel_new();
	if (p->ch == NULL || rdma_migrate_id(p->id, p->ch) != 0) {
		ret = -ENOMEM;
		rdma_reject(p->id, NULL, 0);
		goto fail;
	}
	pthread_mutex_lock(&rdma_state.lock);
	ret = peer_setup_qp_locked(p);
	pthread_mutex_unlock(&rdma_state.lock);
	if (ret != 0) {
		rdma_reject(p->id, NULL, 0);
		goto fail;
	}
	hello_make(&mine);
	conn_param(&cp, &mine, their_init, their_resp);
	if (rdma_accept(p->id, &cp) != 0) {
		ret = rdma_errno(-1);
		RZ_LOG(ERR, "rdma_accept: %s", strerror(-ret));
		goto fail;
	}
	ret = channel_expect(p->ch, RDMA_CM_EVENT_ESTABLISHED, timeout_ms, NULL);
	if (ret != 0)
		goto fail;
	ret = peer_established(p, &theirs);
	if (ret != 0)
		goto fail;
	RZ_LOG(INFO, "peer %d = %016" PRIx64 " (pid %d) accepted, qp %u", (int)p->local_id,
			p->remote_id, p->remote_pid, p->qp->qp_num);
	return p;
fail:
	pthread_mutex_lock(&rdma_state.lock);
	peer_free(p);
	pthread_mutex_unlock(&rdma_state.lock);
	rte_errno = -ret;
	return NULL;
}

struct rz_peer *
rz_peer_connect(const char *ip, uint16_t port, int timeout_ms)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST };
	struct addrinfo *ai = NULL;
	struct rdma_conn_param cp;
	struct rdma_cm_event *ev;
	struct hello mine, theirs;
	struct rz_peer *p;
	char portstr[8];
	int ret, step_ms = timeout_ms < 0 ? 30000 : timeout_ms;

	if (ip == NULL || port == 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	if (!rdma_state.initialized) {
		rte_errno = ENODEV;
		return NULL;
	}
	snprintf(portstr, sizeof(portstr), "%u", port);
	if (getaddrinfo(ip, portstr, &hints, &ai) != 0 || ai == NULL) {
		RZ_LOG(ERR, "bad address %s", ip);
		rte_errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		freeaddrinfo(ai);
		rte_errno = ENOMEM;
		return NULL;
	}
	ret = cm_id_new(&p->ch, &p->id, p);
	if (ret != 0)
		goto fail;
	if (rdma_resolve_addr(p->id, NULL, ai->ai_addr, step_ms) != 0) {
		ret = rdma_errno(-1);
		RZ_LOG(ERR, "rdma_resolve_addr(%s): %s", ip, strerror(-ret));
		goto fail;
	}
	ret = channel_expect(p->ch, RDMA_CM_EVENT_ADDR_RESOLVED, timeout_ms, NULL);
	if (ret != 0)
		goto fail;
	if (rdma_resolve_route(p->id, step_ms) != 0) {
		ret = rdma_errno(-1);
		goto fail;
	}
	ret = channel_expect(p->ch, RDMA_CM_EVENT_ROUTE_RESOLVED, timeout_ms, NULL);
	if (ret != 0)
		goto fail;
	pthread_mutex_lock(&rdma_state.lock);
	ret = peer_setup_qp_locked(p);
	pthread_mutex_unlock(&rdma_state.lock);
	if (ret != 0)
		goto fail;
	hello_make(&mine);
	conn_param(&cp, &mine, UINT8_MAX, UINT8_MAX);
	if (rdma_connect(p->id, &cp) != 0) {
		ret = rdma_errno(-1);
		RZ_LOG(ERR, "rdma_connect: %s", strerror(-ret));
		goto fail;
	}
	ret = channel_expect(p->ch, RDMA_CM_EVENT_ESTABLISHED, timeout_ms, &ev);
	if (ret != 0)
		goto fail;
	ret = hello_check(ev->param.conn.private_data, ev->param.conn.private_data_len, &theirs);
	rdma_ack_cm_event(ev);
	if (ret != 0) {
		rdma_disconnect(p->id);
		goto fail;
	}
	freeaddrinfo(ai);
	ret = peer_established(p, &theirs);
	if (ret != 0)
		goto fail_noai;
	RZ_LOG(INFO, "connected to peer %d = %016" PRIx64 " (pid %d) at %s:%u, qp %u",
			(int)p->local_id, p->remote_id, p->remote_pid, ip, port, p->qp->qp_num);
	return p;
fail:
	freeaddrinfo(ai);
fail_noai:
	pthread_mutex_lock(&rdma_state.lock);
	peer_free(p);
	pthread_mutex_unlock(&rdma_state.lock);
	rte_errno = -ret;
	return NULL;
}

/* Read pending connection events; a peer that went away loses its grants. Lock held. */
static void
peer_events_locked(struct rz_peer *p)
{
	struct rdma_cm_event *ev;

	while (p->ch != NULL && rdma_get_cm_event(p->ch, &ev) == 0) {
		enum rdma_cm_event_type t = ev->event;

		rdma_ack_cm_event(ev);
		if (t == RDMA_CM_EVENT_DISCONNECTED || t == RDMA_CM_EVENT_DEVICE_REMOVAL ||
				t == RDMA_CM_EVENT_TIMEWAIT_EXIT) {
			if (p->connected)
				RZ_LOG(INFO, "peer %016" PRIx64 " (pid %d): %s", p->remote_id,
						p->remote_pid, rdma_event_str(t));
			p->connected = 0;
		}
	}
	if (!p->connected && p->ngrants > 0)
		grant_revoke_peer_locked(p);
	if (!p->connected)
		mw_peer_flush_locked(p);
}

void
peer_events(struct rz_peer *p)
{
	pthread_mutex_lock(&rdma_state.lock);
	peer_events_locked(p);
	pthread_mutex_unlock(&rdma_state.lock);
}

int
rz_peer_connected(struct rz_peer *p)
{
	if (p == NULL)
		return -EINVAL;
	peer_events(p);
	return p->connected ? 1 : 0;
}

pid_t
rz_peer_id(const struct rz_peer *p)
{
	return p == NULL ? -EINVAL : p->local_id;
}

uint64_t
rz_peer_identity(const struct rz_peer *p)
{
	if (p == NULL) {
		rte_errno = EINVAL;
		return 0;
	}
	return p->remote_id;
}

static void
peer_close_locked(struct rz_peer *p)
{
	grant_revoke_peer_locked(p);
	mw_peer_flush_locked(p);
	if (p->connected)
		rdma_disconnect(p->id);
	p->connected = 0;
	TAILQ_REMOVE(&rdma_state.peers, p, next);
	peer_free(p);
}

int
rz_peer_close(struct rz_peer *p)
{
	if (p == NULL)
		return 0;
	pthread_mutex_lock(&rdma_state.lock);
	peer_close_locked(p);
	pthread_mutex_unlock(&rdma_state.lock);
	return 0;
}

void
peer_close_all_locked(void)
{
	struct rz_peer *p;

	while ((p = TAILQ_FIRST(&rdma_state.peers)) != NULL)
		peer_close_locked(p);
}

int
rz_rdma_progress(void)
{
	struct rz_peer *p;
	int n, before;

	pthread_mutex_lock(&rdma_state.lock);
	if (!rdma_state.initialized) {
		pthread_mutex_unlock(&rdma_state.lock);
		return -ENODEV;
	}
	before = grant_count_locked();
	TAILQ_FOREACH(p, &rdma_state.peers, next)
		peer_events_locked(p);
	grant_expire_locked(rdma_now_realtime());
	n = before - grant_count_locked();
	pthread_mutex_unlock(&rdma_state.lock);
	return n;
}

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

/* Post a SEND of @len bytes that are in the send slot, and wait for it. */
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
	wr.wr_id = RZ_WRID_INTERNAL | ++p->seq;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = IBV_WR_SEND;
	wr.send_flags = IBV_SEND_SIGNALED | (len <= p->max_inline ? IBV_SEND_INLINE : 0);
	ret = ibv_post_send(p->qp, &wr, &bad);
	if (ret != 0)
		return rdma_errno(ret);
	ret = peer_wait_internal(p, wr.wr_id, RZ_CTRL_TIMEOUT_MS, &wc);
	if (ret == -ETIMEDOUT) {
		/* Still queued: it goes when the peer posts receives again. Until then the slot
		 * is in use and later SENDs wait for it (peer_backlog()). */
		p->send_pending = wr.wr_id;
		RZ_LOG(ERR, "send to peer %016" PRIx64 ": not taken in %d ms (the peer receives "
				"nothing): it stays queued", p->remote_id, RZ_CTRL_TIMEOUT_MS);
		return ret;
	}
	if (ret != 0)
		return ret;
	if (wc.status != IBV_WC_SUCCESS) {
		RZ_LOG(ERR, "send to peer %016" PRIx64 ": %s", p->remote_id,
				ibv_wc_status_str(wc.status));
		return wc.status == IBV_WC_WR_FLUSH_ERR ? -ENOTCONN : -EIO;
	}
	return 0;
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
		RZ_LOG(ERR, "descriptor or message to peer %016" PRIx64 " not delivered: %s",
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
	 * QP delivers the descriptor in order or the connection fails; no need to wait. */
	memset(&wr, 0, sizeof(wr));
	wr.wr_id = RZ_WRID_INTERNAL | ++p->seq;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = IBV_WR_SEND;
	wr.send_flags = IBV_SEND_SIGNALED | IBV_SEND_INLINE;
	ret = ibv_post_send(p->qp, &wr, &bad);
	if (ret != 0)
		return rdma_errno(ret);
	p->send_pending = wr.wr_id;
	return 0;
}

int
rz_peer_send_msg(struct rz_peer *p, const void *buf, size_t len)
{
	uint8_t *slot;
	uint32_t hdr[2];
	int ret;

	if (p == NULL || (buf == NULL && len > 0) || len > RZ_PEER_MSG_MAX)
		return -EINVAL;
	if (!p->connected)
		return -ENOTCONN;
	ret = peer_backlog(p);	/* the send slot may still hold a queued SEND */
	if (ret == -EAGAIN)
		RZ_LOG(WARNING, "peer %016" PRIx64 " has not taken the previous descriptor or "
				"message (it receives nothing): message not sent", p->remote_id);
	if (ret != 0)
		return ret;
	slot = p->buf + (size_t)RZ_PEER_RECV_SLOTS * RZ_PEER_SLOT_SIZE;
	hdr[0] = RZ_MSG_MAGIC;
	hdr[1] = (uint32_t)len;
	memcpy(slot, hdr, sizeof(hdr));
	if (len > 0)
		memcpy(slot + sizeof(hdr), buf, len);
	return peer_send_slot(p, sizeof(hdr) + len);
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
				RZ_LOG(ERR, "receive from peer %016" PRIx64 ": %s", p->remote_id,
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
	post_recv(p, p->held_slot);
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
	chk.now_ns = rdma_now_realtime();
	ret = desc_parse(buf, len, &chk, desc, &why);
	if (ret != 0) {
		RZ_STAT_INC(stats_desc_rejected, 1);
		RZ_LOG(ERR, "descriptor from peer %016" PRIx64 " rejected: %s", p->remote_id,
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
		RZ_LOG(DEBUG, "peer %016" PRIx64 ": next is a message, not a descriptor: kept for "
				"rz_peer_recv_msg()", p->remote_id);
		return -ENOMSG;
	}
	ret = peer_parse_desc(p, p->buf + (size_t)slot * RZ_PEER_SLOT_SIZE, len, desc);
	peer_take(p);
	return ret;
}

int
rz_peer_recv_msg(struct rz_peer *p, void *buf, int timeout_ms)
{
	uint32_t slot, len, hdr[2];
	const uint8_t *s;
	int ret;

	if (p == NULL || buf == NULL)
		return -EINVAL;
	ret = peer_recv(p, timeout_ms, &slot, &len);
	if (ret != 0)
		return ret;
	if (peer_msg_magic(p, slot, len) == RZ_DESC_MAGIC) {
		RZ_LOG(DEBUG, "peer %016" PRIx64 ": next is a descriptor, not a message: kept for "
				"rz_peer_recv_desc()", p->remote_id);
		return -ENOMSG;
	}
	s = p->buf + (size_t)slot * RZ_PEER_SLOT_SIZE;
	ret = -EBADMSG;
	if (len >= sizeof(hdr)) {
		memcpy(hdr, s, sizeof(hdr));
		if (hdr[0] == RZ_MSG_MAGIC && hdr[1] <= RZ_PEER_MSG_MAX &&
				hdr[1] == len - sizeof(hdr)) {
			memcpy(buf, s + sizeof(hdr), hdr[1]);
			ret = (int)hdr[1];
		}
	}
	if (ret < 0)
		RZ_LOG(ERR, "message from peer %016" PRIx64 " rejected: %u bytes, not a message",
				p->remote_id, len);
	peer_take(p);
	return ret;
}
