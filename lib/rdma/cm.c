/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * Peers over librdmacm: connection set-up and tear-down. Each peer has one RC QP, a send CQ
 * and a receive CQ, its own event channel (non-blocking, so that disconnects are noticed by
 * polling), and an identity exchanged in the connection's private data (struct hello). Also
 * the peer table (peer ids), the connection events that take a gone peer's grants, and
 * rz_rdma_progress() (which also keeps the peers' liveness, liveness.c).
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
		struct hello h;

		RZ_LOG(ERR, "expected %s, got %s (status %d)", rdma_event_str(want),
				rdma_event_str(ev->event), ev->status);
		/* An rzone owner refuses a bad hello with its own (cm.c, rz_peer_accept()). */
		if (ev->event == RDMA_CM_EVENT_REJECTED &&
				ev->param.conn.private_data_len >= RZ_HELLO_SIZE &&
				(hello_parse(ev->param.conn.private_data,
					ev->param.conn.private_data_len, 0, &h, NULL),
				h.magic == RZ_HELLO_MAGIC))
			RZ_LOG(ERR, "the remote refused our hello: it speaks rzone peer version "
					"%u, we speak %u", h.version, RZ_HELLO_VERSION);
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

/* Our hello, in @h as the RZ_HELLO_SIZE little-endian bytes that go on the wire. */
static void
hello_make(struct hello *h)
{
	RTE_BUILD_BUG_ON(sizeof(*h) != RZ_HELLO_SIZE);
	hello_encode((uint8_t *)h, rdma_state.self_id, (uint32_t)getpid());
}

static int
hello_check(const void *data, uint8_t len, struct hello *h)
{
	const char *why;
	int ret = hello_parse(data, len, rdma_state.self_id, h, &why);

	if (ret != 0)
		RZ_LOG(ERR, "%s (%u bytes of private data, version %u, identity 0x%016" PRIx64
				"; we speak version %u)", why, len, h->version, h->id,
				RZ_HELLO_VERSION);
	return ret;
}

/* A new peer structure: its locks initialised. NULL on allocation failure. */
static struct rz_peer *
peer_new(void)
{
	struct rz_peer *p = calloc(1, sizeof(*p));
	pthread_mutexattr_t ma;

	if (p == NULL)
		return NULL;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&p->ctrl, &ma);
	pthread_mutexattr_destroy(&ma);
	rte_spinlock_init(&p->cq_lock);
	p->sync_timeout_ms = RZ_SYNC_DEFAULT_MS;
	return p;
}

int
peer_ctrl_enter(struct rz_peer *p)
{
	bool held = rdma_lock_held();

	__atomic_fetch_add(&p->busy, 1, __ATOMIC_ACQUIRE);
	if (pthread_mutex_trylock(&p->ctrl) != 0) {
		/* Lock order: a peer's ctrl before the process's lock. */
		if (held)
			rdma_unlock();
		pthread_mutex_lock(&p->ctrl);
		if (held)
			rdma_lock();
	}
	if (__atomic_load_n(&p->closing, __ATOMIC_ACQUIRE)) {
		pthread_mutex_unlock(&p->ctrl);
		__atomic_fetch_sub(&p->busy, 1, __ATOMIC_RELEASE);
		return -ENOTCONN;
	}
	return 0;
}

void
peer_ctrl_exit(struct rz_peer *p)
{
	pthread_mutex_unlock(&p->ctrl);
	__atomic_fetch_sub(&p->busy, 1, __ATOMIC_RELEASE);
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
	pthread_mutex_destroy(&p->ctrl);
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
	p->scq = ibv_create_cq(rdma_state.verbs, RZ_PEER_QP_DEPTH, NULL, NULL, 0);
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
	qa.cap.max_send_wr = RZ_PEER_QP_DEPTH;
	qa.cap.max_recv_wr = RZ_PEER_RECV_SLOTS;
	qa.cap.max_send_sge = rdma_state.attr.max_sge < RZ_REMOTE_SGE_MAX ?
			(uint32_t)rdma_state.attr.max_sge : RZ_REMOTE_SGE_MAX;
	if (qa.cap.max_send_sge == 0)
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
	p->max_sge = qa.cap.max_send_sge;
	for (i = 0; i < RZ_PEER_RECV_SLOTS; i++) {
		ret = peer_post_recv(p, i);
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
	/* 6, not 7: Soft-RoCE (rxe) reads a retry count of 7 as "for ever", like the RNR retry
	 * count's 7, so a peer whose host is gone would keep a QP retrying without end (seen in
	 * the wire suite: 30 s of every packet lost, no error). 6 retries of the local ACK
	 * timeout end such a connection on every device. RNR retries stay infinite: a peer
	 * that takes nothing is bounded by rzone itself (RZ_SEND_BACKLOG_MS). */
	cp->retry_count = 6;
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
	rdma_publish_locked();
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

/*
 * The bound of a synchronous data call (rz_remote_read() ...): the longest the device takes to
 * give up on a work request that gets no answer, (retry_cnt + 1) transport timeouts of
 * 4.096 us * 2^timeout each, plus one second; RZ_SYNC_DEFAULT_MS when the QP's timeout is 0
 * (infinite) or cannot be read.
 */
static void
peer_set_sync_timeout(struct rz_peer *p)
{
	struct ibv_qp_init_attr ia;
	struct ibv_qp_attr a;
	uint64_t us;

	memset(&a, 0, sizeof(a));
	a.retry_cnt = 7;
	if (ibv_query_qp(p->qp, &a, IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT, &ia) != 0)
		a.timeout = 0;
	/* The QP's retry count is the connecting side's (the CM request carries it). */
	p->retry_cnt = a.retry_cnt;
	if (a.timeout == 0 || a.timeout > 31) {
		p->sync_timeout_ms = RZ_SYNC_DEFAULT_MS;
		return;
	}
	us = (uint64_t)(a.retry_cnt + 1) * ((UINT64_C(4096) << a.timeout) / 1000);
	p->sync_timeout_ms = (uint32_t)RTE_MIN(us / 1000 + 1000, (uint64_t)INT32_MAX);
}

/* Connected (either side): take the other side's identity and enter the peer table. */
static int
peer_established(struct rz_peer *p, const struct hello *theirs)
{
	int ret;

	peer_set_rnr_timer(p);
	peer_set_sync_timeout(p);
	p->remote_id = theirs->id;
	p->remote_pid = (int32_t)theirs->pid;
	peer_liveness_start(p);
	peer_set_connected(p, 1);
	rdma_lock();
	ret = peer_add_locked(p);
	rdma_unlock();
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
	p = peer_new();
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
		/* Our hello with the refusal: the remote can tell which version we speak. */
		hello_make(&mine);
		rdma_reject(p->id, &mine, sizeof(mine));
		goto fail;
	}
	p->ch = channel_new();
	if (p->ch == NULL || rdma_migrate_id(p->id, p->ch) != 0) {
		ret = -ENOMEM;
		rdma_reject(p->id, NULL, 0);
		goto fail;
	}
	rdma_lock();
	ret = peer_setup_qp_locked(p);
	rdma_unlock();
	if (ret != 0) {
		rdma_reject(p->id, NULL, 0);
		goto fail;
	}
	ret = cm_apply_ack_timeout(p->id);
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
	RZ_LOG(INFO, "peer %d = 0x%016" PRIx64 " (pid %d) accepted, qp %u", (int)p->local_id,
			p->remote_id, p->remote_pid, p->qp->qp_num);
	return p;
fail:
	rdma_lock();
	peer_free(p);
	rdma_unlock();
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
	p = peer_new();
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
	rdma_lock();
	ret = peer_setup_qp_locked(p);
	rdma_unlock();
	if (ret != 0)
		goto fail;
	ret = cm_apply_ack_timeout(p->id);
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
	RZ_LOG(INFO, "connected to peer %d = 0x%016" PRIx64 " (pid %d) at %s:%u, qp %u",
			(int)p->local_id, p->remote_id, p->remote_pid, ip, port, p->qp->qp_num);
	return p;
fail:
	freeaddrinfo(ai);
fail_noai:
	rdma_lock();
	peer_free(p);
	rdma_unlock();
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
				RZ_LOG(INFO, "peer 0x%016" PRIx64 " (pid %d): %s", p->remote_id,
						p->remote_pid, rdma_event_str(t));
			if (p->down_reason == 0)
				p->down_reason = -ENOTCONN;
			peer_set_connected(p, 0);
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
	rdma_lock();
	peer_events_locked(p);
	rdma_unlock();
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

/*
 * Close @p: no new control call enters it; disconnecting puts the QP in error, so that the
 * control calls in progress for it end at once (their work requests flush); once none is left
 * its grants go (freeing a window invalidates it: nothing to wait for) and it is freed. Lock
 * held; released while waiting for those calls.
 */
static void
peer_close_locked(struct rz_peer *p)
{
	__atomic_store_n(&p->closing, true, __ATOMIC_RELEASE);
	TAILQ_REMOVE(&rdma_state.peers, p, next);
	if (p->connected)
		rdma_disconnect(p->id);
	peer_set_connected(p, 0);
	while (__atomic_load_n(&p->busy, __ATOMIC_ACQUIRE) != 0) {
		rdma_unlock();
		sched_yield();
		rdma_lock();
	}
	grant_revoke_peer_locked(p);
	mw_peer_flush_locked(p);
	peer_free(p);
	rdma_publish_locked();
}

int
rz_peer_close(struct rz_peer *p)
{
	if (p == NULL)
		return 0;
	rdma_lock();
	peer_close_locked(p);
	rdma_unlock();
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
	uint64_t now;
	int n = 0;

	rdma_lock();
	if (!rdma_state.initialized) {
		rdma_unlock();
		return -ENODEV;
	}
	/* A gone peer's grants go without waiting (its QP is down: windows are freed), so the
	 * lock is kept for this walk; expiries release it while each invalidation completes. */
	now = mono_time_ns();
	TAILQ_FOREACH(p, &rdma_state.peers, next) {
		uint32_t before = p->ngrants;

		peer_liveness_locked(p, now);	/* no wait */
		peer_events_locked(p);
		n += (int)(before - p->ngrants);
	}
	n += grant_expire_locked(mono_time_ns());
	rdma_unlock();
	liveness_report();
	return n;
}

int
rz_peer_sync_timeout_ms(const struct rz_peer *p)
{
	return p == NULL ? -EINVAL : (int)p->sync_timeout_ms;
}

int
rz_peer_max_sge(const struct rz_peer *p)
{
	return p == NULL ? -EINVAL : (int)p->max_sge;
}
