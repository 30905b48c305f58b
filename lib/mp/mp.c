/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * Multi-process requests over DPDK IPC (rte_mp).
 *
 * rte_mp cannot address one secondary: a primary's rte_mp_request_sync() goes to every
 * secondary and waits for every answer, so one secondary that does not answer (a plain DPDK
 * tool, a process that left rzone) would stall every request. rzone therefore sends one-way
 * messages (rte_mp_sendmsg()) both ways and matches answers itself:
 *
 *   primary -> secondary:  request broadcast to the secondaries; the target acts, its reply
 *                          goes to the primary (the only place a secondary can send to).
 *   secondary -> X:        request to the primary; if X is not the primary, the primary
 *                          forwards it to the secondaries (RZ_MP_F_RELAY), and forwards the
 *                          reply back the same way.
 *
 * Every request carries a deadline (CLOCK_MONOTONIC, the same clock in every process). The
 * target checks it under the table lock before it acts; the requester, once the deadline has
 * passed without an answer, reads the outcome from the table under the same lock. So a request
 * that timed out either happened (and is reported as done) or never will.
 *
 * The rte_mp handler runs in the EAL's IPC thread, which also serves DPDK's memory hotplug: it
 * never waits for rzone's table lock (a primary growing an arena holds that lock while DPDK
 * waits for every secondary's IPC thread). It validates, routes, delivers replies to waiting
 * threads, and queues requests for this process's control thread ("rz-ctl"), which also reaps
 * dead processes every RZ_REAP_PERIOD_MS.
 *
 * This layer is the transport only: what a request does in the target (map_local(), in
 * lib/mapping) and the periodic reaping (lib/init/reap.c) are functions the layers above register
 * with mp_set_server() and mp_set_tick().
 */

#include <errno.h>
#include <inttypes.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_pause.h>
#include <rte_ring.h>
#include <rte_string_fns.h>

#include "core_private.h"
#include "mp_private.h"
#include "proc_private.h"

#define RZ_MP_TIMEOUT_MS	2000
#define RZ_REAP_PERIOD_MS	200
#define RZ_JOBS			256
#define RZ_WAITERS		64

struct waiter {
	uint64_t seq;		/* 0: free */
	bool done;
	int result;
	uint64_t addr;
};

static struct {
	struct rte_ring *jobs;	/* struct rz_mp_msg * for rz-ctl */
	sem_t wake;
	pthread_t thread;
	bool running;
	volatile bool stop;
	bool registered;	/* the action stays registered for the life of the process */
	/* The IPC thread's way in: handle() counts itself in, then looks at @accepting;
	 * mp_stop() clears @accepting, then waits for @inflight to drain before it frees what
	 * handle() uses (both sequentially consistent: one of them sees the other). */
	bool accepting;
	uint32_t inflight;
	uint64_t seq;
	pthread_mutex_t wlock;	/* process-local, never held across a wait or a send */
	pthread_cond_t wcond;
	struct waiter waiters[RZ_WAITERS];
	mp_serve_fn *serve;	/* registered by lib/mapping */
	mp_tick_fn *tick;	/* registered by lib/init */
} mp = { .wlock = PTHREAD_MUTEX_INITIALIZER };

void
mp_set_server(mp_serve_fn *fn)
{
	__atomic_store_n(&mp.serve, fn, __ATOMIC_RELEASE);
}

void
mp_set_tick(mp_tick_fn *fn)
{
	__atomic_store_n(&mp.tick, fn, __ATOMIC_RELEASE);
}

static int
send(const struct rz_mp_msg *body)
{
	struct rte_mp_msg m;

	memset(&m, 0, sizeof(m));
	strlcpy(m.name, RZ_MP_ACTION, sizeof(m.name));
	m.len_param = sizeof(*body);
	memcpy(m.param, body, sizeof(*body));
	if (rte_mp_sendmsg(&m) < 0) {
		RZ_LOG(ERR, "IPC send (op %u to pid %d): %s", body->op, body->target_pid,
				rte_strerror(rte_errno));
		return -rte_errno;
	}
	return 0;
}

static void
send_reply(const struct rz_mp_msg *req, int result, uint64_t addr)
{
	struct rz_mp_msg r = *req;

	r.op = RZ_MP_OP_REPLY;
	r.flags = local_proc.primary ? 0 : RZ_MP_F_RELAY;
	r.result = result;
	r.vaddr = addr;
	r.perms = 0;
	r.deadline_ns = 0;
	r.socket = 0;
	r.npages = 0;
	send(&r);
}

static bool
for_me(uint32_t slot, int32_t pid, uint64_t gen)
{
	return slot == local_proc.self && pid == local_proc.pid && gen == local_proc.self_gen;
}

/* EAL IPC thread: a reply for one of our waiting threads. */
static void
deliver(const struct rz_mp_msg *m)
{
	unsigned int i;

	pthread_mutex_lock(&mp.wlock);
	for (i = 0; i < RZ_WAITERS; i++) {
		struct waiter *w = &mp.waiters[i];

		if (w->seq == m->seq && !w->done) {
			w->done = true;
			w->result = m->result;
			w->addr = m->vaddr;
			pthread_cond_broadcast(&mp.wcond);
			break;
		}
	}
	pthread_mutex_unlock(&mp.wlock);
}

/* Close the file descriptors a message brought: rzone's never carry any, and one that is
 * dropped must not leave them open (a sender could push the receiver to EMFILE). */
static void
close_fds(const struct rte_mp_msg *msg)
{
	int i;

	for (i = 0; i < msg->num_fds && i < RTE_MP_MAX_FD_NUM; i++)
		if (msg->fds[i] >= 0)
			close(msg->fds[i]);
}

static int handle_accepted(const struct rte_mp_msg *msg);

/* EAL IPC thread: never blocks. */
static int
handle(const struct rte_mp_msg *msg, const void *peer)
{
	int ret = 0;

	RTE_SET_USED(peer);
	close_fds(msg);
	__atomic_add_fetch(&mp.inflight, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&mp.accepting, __ATOMIC_SEQ_CST))
		ret = handle_accepted(msg);
	/* else: rz_fini() is under way or done: nothing to do, nobody waits for us */
	__atomic_sub_fetch(&mp.inflight, 1, __ATOMIC_SEQ_CST);
	return ret;
}

static int
handle_accepted(const struct rte_mp_msg *msg)
{
	struct rz_mp_msg m, *job;
	const char *why;
	int ret;

	if (local_proc.tbl == NULL || local_proc.self == RZ_NO_SLOT)
		return 0;
	ret = mp_msg_parse(msg->param, msg->len_param < 0 ? SIZE_MAX : (size_t)msg->len_param,
			RZ_MAX_PROCS, &m, &why);
	if (ret == 0 && msg->num_fds != 0) {
		ret = -EPROTO;
		why = "unexpected file descriptors";
	}
	if (ret < 0) {
		__atomic_add_fetch(&local_proc.tbl->stats_ipc_rejected, 1, __ATOMIC_RELAXED);
		RZ_LOG(ERR, "malformed IPC message dropped: %s", why);
		return 0;
	}
	switch (m.op) {
	case RZ_MP_OP_REPLY:
		if (m.requester == local_proc.self && m.requester_gen == local_proc.self_gen)
			deliver(&m);
		else if (local_proc.primary && (m.flags & RZ_MP_F_RELAY)) {
			m.flags &= ~RZ_MP_F_RELAY;
			send(&m);	/* to the secondaries: one of them asked */
		}
		return 0;
	case RZ_MP_OP_MAP:
	case RZ_MP_OP_UNMAP:
	case RZ_MP_OP_ARENA:
		if (m.op == RZ_MP_OP_ARENA && !local_proc.primary)
			return 0;	/* only the primary reserves arenas */
		if (!for_me(m.target, m.target_pid, m.target_gen)) {
			if (local_proc.primary && (m.flags & RZ_MP_F_RELAY)) {
				m.flags &= ~RZ_MP_F_RELAY;
				send(&m);
			}
			return 0;
		}
		job = malloc(sizeof(*job));
		if (job == NULL) {
			send_reply(&m, -ENOMEM, 0);
			return 0;
		}
		*job = m;
		if (rte_ring_enqueue(mp.jobs, job) < 0) {
			free(job);
			RZ_LOG(ERR, "IPC queue full");
			send_reply(&m, -EBUSY, 0);
			return 0;
		}
		sem_post(&mp.wake);
		return 0;
	default:
		return 0;
	}
}

/* rz-ctl: act on a request addressed to this process. */
static void
serve(const struct rz_mp_msg *m)
{
	const struct proc_entry *rq = &tbl()->procs[m->requester];
	mp_serve_fn *fn = __atomic_load_n(&mp.serve, __ATOMIC_ACQUIRE);
	uint64_t addr = 0;
	int ret;

	if (rq->state != PROC_LIVE || rq->gen != m->requester_gen) {
		RZ_LOG(ERR, "IPC request from a process that is gone (slot %u)", m->requester);
		send_reply(m, -ESRCH, 0);
		return;
	}
	ret = fn == NULL ? -ENOTSUP : fn(m, &addr);
	send_reply(m, ret, addr);
}

static struct waiter *
waiter_get(uint64_t seq)
{
	struct waiter *w = NULL;
	unsigned int i;

	pthread_mutex_lock(&mp.wlock);
	for (i = 0; i < RZ_WAITERS; i++) {
		if (mp.waiters[i].seq == 0) {
			w = &mp.waiters[i];
			w->seq = seq;
			w->done = false;
			break;
		}
	}
	pthread_mutex_unlock(&mp.wlock);
	return w;
}

/* What the table says after a request's deadline: did it happen? Called without the lock. */
static int
outcome(const struct rz_mp_msg *m)
{
	struct region_entry *e;
	int ret = -ETIMEDOUT;

	if (m->op == RZ_MP_OP_ARENA || table_lock() < 0)
		return ret;	/* an arena that was made anyway is found by the retry */
	e = region_by_id(m->region_id);
	if (m->op == RZ_MP_OP_MAP && e != NULL && e->maps[m->target].addr != 0 &&
			e->maps[m->target].perms == m->perms &&
			(m->vaddr == 0 || e->maps[m->target].addr == m->vaddr))
		ret = 0;
	else if (m->op == RZ_MP_OP_UNMAP && (e == NULL || e->maps[m->target].addr == 0))
		ret = 0;
	table_unlock();
	return ret;
}

static int
mp_call(uint32_t target, uint16_t op, uint64_t region_id, void *vaddr, uint32_t perms,
		int socket, uint32_t npages)
{
	struct rz_mp_msg body;
	struct timespec ts;
	struct waiter *w;
	bool answered;
	int ret;

	memset(&body, 0, sizeof(body));
	body.magic = RZ_MP_MAGIC;
	body.version = RZ_MP_VERSION;
	body.op = op;
	body.seq = __atomic_add_fetch(&mp.seq, 1, __ATOMIC_RELAXED);
	body.region_id = region_id;
	body.vaddr = (uint64_t)(uintptr_t)vaddr;
	body.perms = perms;
	body.socket = socket;
	body.npages = npages;
	body.requester = local_proc.self;
	body.requester_gen = local_proc.self_gen;
	body.target = target;
	body.target_gen = tbl()->procs[target].gen;
	body.target_pid = proc_pid(target);
	body.deadline_ns = mono_time_ns() + RZ_MP_TIMEOUT_MS * 1000000ull;
	if (!local_proc.primary && tbl()->procs[target].proc_type != RTE_PROC_PRIMARY)
		body.flags |= RZ_MP_F_RELAY;

	w = waiter_get(body.seq);
	if (w == NULL) {
		RZ_LOG(ERR, "too many IPC requests in flight (%u)", RZ_WAITERS);
		return -EBUSY;
	}
	ret = send(&body);
	ts.tv_sec = (time_t)(body.deadline_ns / 1000000000ull);
	ts.tv_nsec = (long)(body.deadline_ns % 1000000000ull);
	pthread_mutex_lock(&mp.wlock);
	while (ret == 0 && !w->done)
		if (pthread_cond_timedwait(&mp.wcond, &mp.wlock, &ts) == ETIMEDOUT)
			break;
	answered = w->done;
	if (answered)
		ret = w->result;
	w->seq = 0;
	pthread_mutex_unlock(&mp.wlock);
	if (answered)
		return ret;
	/* No answer (or the send failed). Past the deadline the target refuses to act, so the
	 * table tells whether it did. */
	while (mono_time_ns() <= body.deadline_ns)
		rte_delay_us_sleep(1000);
	ret = outcome(&body);
	if (ret < 0)
		RZ_LOG(ERR, "pid %d did not answer within %u ms", body.target_pid,
				RZ_MP_TIMEOUT_MS);
	return ret;
}

int
mp_remote_map(uint32_t target, uint64_t region_id, void *vaddr, uint32_t perms)
{
	return mp_call(target, RZ_MP_OP_MAP, region_id, vaddr, perms, 0, 0);
}

int
mp_remote_unmap(uint32_t target, uint64_t region_id)
{
	return mp_call(target, RZ_MP_OP_UNMAP, region_id, NULL, 0, 0, 0);
}

int
mp_remote_arena(int socket, uint32_t npages)
{
	struct rz_table *t = tbl();
	uint32_t i;

	for (i = 0; i < RZ_MAX_PROCS; i++)
		if (__atomic_load_n(&t->procs[i].state, __ATOMIC_ACQUIRE) == PROC_LIVE &&
				t->procs[i].proc_type == RTE_PROC_PRIMARY)
			return mp_call(i, RZ_MP_OP_ARENA, 0, NULL, 0, socket, npages);
	RZ_LOG(ERR, "no primary process is attached: it alone reserves arenas");
	return -ESRCH;
}

static void *
ctl_thread(void *arg)
{
	uint64_t last_reap = 0;
	void *p;

	RTE_SET_USED(arg);
	while (!mp.stop) {
		struct timespec ts;
		uint64_t now;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		sem_timedwait(&mp.wake, &ts);
		while (rte_ring_dequeue(mp.jobs, &p) == 0) {
			serve(p);
			free(p);
		}
		now = mono_time_ns();
		if (now - last_reap >= RZ_REAP_PERIOD_MS * 1000000ull) {
			mp_tick_fn *tick = __atomic_load_n(&mp.tick, __ATOMIC_ACQUIRE);

			if (tick != NULL)
				tick();
			last_reap = now;
		}
	}
	return NULL;
}

int
mp_start(void)
{
	size_t sz = rte_ring_get_memsize(RZ_JOBS);
	pthread_condattr_t ca;
	int ret;

	/* Process-local ring in ordinary memory: no memzone spent on it. */
	mp.jobs = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL(sz, RTE_CACHE_LINE_SIZE));
	if (mp.jobs == NULL)
		return -ENOMEM;
	ret = rte_ring_init(mp.jobs, "rz_jobs", RZ_JOBS, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (ret < 0)
		goto fail_ring;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&mp.wcond, &ca);
	pthread_condattr_destroy(&ca);
	sem_init(&mp.wake, 0, 0);
	mp.stop = false;
	/* Registered once, kept for the life of the process: a handler that stays answers
	 * nothing after rz_fini() instead of leaving DPDK to log every message. */
	if (!mp.registered) {
		if (rte_mp_action_register(RZ_MP_ACTION, handle) < 0 && rte_errno != EEXIST) {
			ret = -rte_errno;
			RZ_LOG(ERR, "cannot register the IPC action: %s", rte_strerror(rte_errno));
			goto fail_sem;
		}
		mp.registered = true;
	}
	ret = rte_ctrl_thread_create(&mp.thread, "rz-ctl", NULL, ctl_thread, NULL);
	if (ret != 0) {
		ret = -ret;
		RZ_LOG(ERR, "cannot start the control thread: %s", strerror(-ret));
		goto fail_sem;
	}
	mp.running = true;
	__atomic_store_n(&mp.accepting, true, __ATOMIC_SEQ_CST);
	return 0;
fail_sem:
	sem_destroy(&mp.wake);
	pthread_cond_destroy(&mp.wcond);
fail_ring:
	free(mp.jobs);
	mp.jobs = NULL;
	return ret;
}

void
mp_stop(void)
{
	void *p;

	if (!mp.running)
		return;
	/* No IPC handler is inside once this returns, and none gets in after. */
	__atomic_store_n(&mp.accepting, false, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&mp.inflight, __ATOMIC_SEQ_CST) != 0)
		rte_pause();
	mp.stop = true;
	sem_post(&mp.wake);
	pthread_join(mp.thread, NULL);
	while (rte_ring_dequeue(mp.jobs, &p) == 0) {
		send_reply(p, -ESRCH, 0);
		free(p);
	}
	sem_destroy(&mp.wake);
	free(mp.jobs);
	mp.jobs = NULL;
	mp.running = false;
}
