/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * Multi-process requests over DPDK IPC (rte_mp).
 *
 * The rte_mp handler runs in the EAL's IPC thread, which also serves DPDK's own memory hotplug
 * synchronisation; it must never block on rzone's table lock (a primary growing an arena holds
 * that lock while it waits for every secondary's IPC thread). So the handler only validates a
 * message, answers "not for me" on the spot, and queues the rest for this process's control
 * thread ("rz-ctl"), which maps or unmaps and replies with rte_mp_reply(). The same thread reaps
 * dead processes every RZ_REAP_PERIOD_MS.
 *
 * A primary's request reaches every secondary; a secondary's reaches only the primary, so a
 * secondary asking another secondary sends RZ_MP_F_RELAY and the primary's control thread
 * forwards it.
 */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_ring.h>
#include <rte_string_fns.h>

#include "core_private.h"
#include "mapping_private.h"
#include "mp_private.h"
#include "proc_private.h"

#define RZ_MP_TIMEOUT_MS	2000
#define RZ_MP_RELAY_TIMEOUT_MS	1500
#define RZ_REAP_PERIOD_MS	200
#define RZ_JOBS			256

struct mp_job {
	struct rz_mp_msg msg;
	char peer[PATH_MAX];
};

static struct {
	struct rte_ring *jobs;
	sem_t wake;
	pthread_t thread;
	bool running;
	volatile bool stop;
	uint64_t seq;
} mp;

static void
msg_init(struct rte_mp_msg *m, const struct rz_mp_msg *body)
{
	memset(m, 0, sizeof(*m));
	strlcpy(m->name, RZ_MP_ACTION, sizeof(m->name));
	m->len_param = sizeof(*body);
	memcpy(m->param, body, sizeof(*body));
}

static void
reply(const char *peer, const struct rz_mp_msg *req, uint16_t op, int result, uint64_t addr)
{
	struct rz_mp_msg body;
	struct rte_mp_msg m;

	memset(&body, 0, sizeof(body));
	body.magic = RZ_MP_MAGIC;
	body.version = RZ_MP_VERSION;
	body.op = op;
	body.result = result;
	body.vaddr = addr;
	if (req != NULL) {
		body.seq = req->seq;
		body.region_id = req->region_id;
		body.target = req->target;
		body.target_pid = req->target_pid;
	}
	msg_init(&m, &body);
	if (rte_mp_reply(&m, peer) < 0)
		RZ_LOG(ERR, "reply to %s: %s", peer, rte_strerror(rte_errno));
}

/* Send a request and return the target's answer. Not from the EAL IPC thread. */
static int
request(struct rz_mp_msg *body, unsigned int timeout_ms, uint64_t *addr)
{
	struct timespec ts = { .tv_sec = timeout_ms / 1000,
		.tv_nsec = (long)(timeout_ms % 1000) * 1000000 };
	struct rte_mp_reply rep;
	struct rte_mp_msg m;
	int ret = -ETIMEDOUT, i;

	body->seq = __atomic_add_fetch(&mp.seq, 1, __ATOMIC_RELAXED);
	msg_init(&m, body);
	memset(&rep, 0, sizeof(rep));
	if (rte_mp_request_sync(&m, &rep, &ts) < 0) {
		RZ_LOG(ERR, "IPC request to pid %d: %s", body->target_pid, rte_strerror(rte_errno));
		free(rep.msgs);
		return -rte_errno == -ENOTSUP ? -ENOTSUP : -ETIMEDOUT;
	}
	for (i = 0; i < rep.nb_received; i++) {
		struct rz_mp_msg a;
		const char *why;

		if (rz_mp_msg_parse(rep.msgs[i].param, (size_t)rep.msgs[i].len_param, RZ_MAX_PROCS,
				&a, &why) < 0) {
			RZ_LOG(ERR, "malformed IPC reply dropped: %s", why);
			continue;
		}
		if (a.op == RZ_MP_OP_REPLY && a.seq == body->seq) {
			ret = a.result;
			if (addr != NULL)
				*addr = a.vaddr;
			break;
		}
	}
	if (i == rep.nb_received)
		RZ_LOG(ERR, "pid %d did not answer (%d of %d processes replied)", body->target_pid,
				rep.nb_received, rep.nb_sent);
	free(rep.msgs);
	return ret;
}

static int
mp_call(uint32_t target, uint16_t op, uint64_t region_id, void *vaddr, uint32_t perms)
{
	struct rz_mp_msg body;

	memset(&body, 0, sizeof(body));
	body.magic = RZ_MP_MAGIC;
	body.version = RZ_MP_VERSION;
	body.op = op;
	body.region_id = region_id;
	body.vaddr = (uint64_t)(uintptr_t)vaddr;
	body.perms = perms;
	body.requester = rz_local.self;
	body.requester_gen = rz_local.self_gen;
	body.target = target;
	body.target_gen = rz_tbl()->procs[target].gen;
	body.target_pid = proc_pid(target);
	if (!rz_local.primary)
		body.flags |= RZ_MP_F_RELAY;
	return request(&body, RZ_MP_TIMEOUT_MS, NULL);
}

int
mp_remote_map(uint32_t target, uint64_t region_id, void *vaddr, uint32_t perms)
{
	return mp_call(target, RZ_MP_OP_MAP, region_id, vaddr, perms);
}

int
mp_remote_unmap(uint32_t target, uint64_t region_id)
{
	return mp_call(target, RZ_MP_OP_UNMAP, region_id, NULL, 0);
}

static bool
for_me(const struct rz_mp_msg *m)
{
	return m->target == rz_local.self && m->target_pid == rz_local.pid &&
		m->target_gen == rz_local.self_gen;
}

static void
serve(struct mp_job *j)
{
	struct rz_mp_msg *m = &j->msg;
	const struct proc_entry *rq;
	uint64_t addr = 0;
	int ret;

	if (!for_me(m)) {
		/* Primary relaying a secondary's request to another secondary. */
		struct rz_mp_msg fwd = *m;

		fwd.flags &= ~RZ_MP_F_RELAY;
		ret = request(&fwd, RZ_MP_RELAY_TIMEOUT_MS, &addr);
		reply(j->peer, m, RZ_MP_OP_REPLY, ret, addr);
		return;
	}
	rq = &rz_tbl()->procs[m->requester];
	if (rq->state != PROC_LIVE || rq->gen != m->requester_gen) {
		RZ_LOG(ERR, "IPC request from a process that is gone (slot %u)", m->requester);
		reply(j->peer, m, RZ_MP_OP_REPLY, -ESRCH, 0);
		return;
	}
	if (m->op == RZ_MP_OP_MAP)
		ret = map_local(m->region_id, m->requester, (void *)(uintptr_t)m->vaddr, m->perms);
	else
		ret = unmap_local(m->region_id, m->requester);
	if (ret == 0 && m->op == RZ_MP_OP_MAP) {
		struct region_entry *e = region_by_id(m->region_id);

		addr = e == NULL ? 0 : __atomic_load_n(&e->maps[rz_local.self].addr,
				__ATOMIC_ACQUIRE);
	}
	reply(j->peer, m, RZ_MP_OP_REPLY, ret, addr);
}

/* EAL IPC thread: never blocks. */
static int
handle(const struct rte_mp_msg *msg, const void *peer)
{
	struct rz_mp_msg m;
	struct mp_job *j;
	const char *why;
	int ret;

	ret = rz_mp_msg_parse(msg->param, msg->len_param < 0 ? SIZE_MAX : (size_t)msg->len_param,
			RZ_MAX_PROCS, &m, &why);
	if (ret == 0 && msg->num_fds != 0) {
		ret = -EPROTO;
		why = "unexpected file descriptors";
	}
	if (ret < 0) {
		RZ_LOG(ERR, "malformed IPC message rejected: %s", why);
		reply(peer, NULL, RZ_MP_OP_REPLY, ret, 0);
		return 0;
	}
	if (m.op != RZ_MP_OP_MAP && m.op != RZ_MP_OP_UNMAP) {
		RZ_LOG(ERR, "IPC message with op %u is not a request", m.op);
		reply(peer, &m, RZ_MP_OP_REPLY, -EPROTO, 0);
		return 0;
	}
	if (!for_me(&m) && !(rz_local.primary && (m.flags & RZ_MP_F_RELAY))) {
		reply(peer, &m, RZ_MP_OP_IGNORE, 0, 0);
		return 0;
	}
	j = malloc(sizeof(*j));
	if (j == NULL) {
		reply(peer, &m, RZ_MP_OP_REPLY, -ENOMEM, 0);
		return 0;
	}
	j->msg = m;
	strlcpy(j->peer, peer, sizeof(j->peer));
	if (rte_ring_enqueue(mp.jobs, j) < 0) {
		free(j);
		RZ_LOG(ERR, "IPC queue full");
		reply(peer, &m, RZ_MP_OP_REPLY, -EBUSY, 0);
		return 0;
	}
	sem_post(&mp.wake);
	return 0;
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
		now = rz_now_ns();
		if (now - last_reap >= RZ_REAP_PERIOD_MS * 1000000ull) {
			proc_reap_dead();
			last_reap = now;
		}
	}
	return NULL;
}

int
mp_start(void)
{
	size_t sz = rte_ring_get_memsize(RZ_JOBS);
	int ret;

	/* Process-local ring in ordinary memory: no memzone spent on it. */
	mp.jobs = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL(sz, RTE_CACHE_LINE_SIZE));
	if (mp.jobs == NULL)
		return -ENOMEM;
	ret = rte_ring_init(mp.jobs, "rz_jobs", RZ_JOBS, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (ret < 0)
		goto fail_ring;
	sem_init(&mp.wake, 0, 0);
	mp.stop = false;
	if (rte_mp_action_register(RZ_MP_ACTION, handle) < 0 && rte_errno != EEXIST) {
		ret = -rte_errno;
		RZ_LOG(ERR, "cannot register the IPC action: %s", rte_strerror(rte_errno));
		goto fail_sem;
	}
	ret = rte_ctrl_thread_create(&mp.thread, "rz-ctl", NULL, ctl_thread, NULL);
	if (ret != 0) {
		ret = -ret;
		RZ_LOG(ERR, "cannot start the control thread: %s", strerror(-ret));
		rte_mp_action_unregister(RZ_MP_ACTION);
		goto fail_sem;
	}
	mp.running = true;
	return 0;
fail_sem:
	sem_destroy(&mp.wake);
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
	rte_mp_action_unregister(RZ_MP_ACTION);
	mp.stop = true;
	sem_post(&mp.wake);
	pthread_join(mp.thread, NULL);
	while (rte_ring_dequeue(mp.jobs, &p) == 0) {
		struct mp_job *j = p;

		reply(j->peer, &j->msg, RZ_MP_OP_REPLY, -ESRCH, 0);
		free(j);
	}
	sem_destroy(&mp.wake);
	free(mp.jobs);
	mp.jobs = NULL;
	mp.running = false;
}
