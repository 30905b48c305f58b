/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * The local control plane: requests from one process of the instance to another (map or unmap
 * a region in the target, reserve an arena in the primary), point to point, through mailboxes
 * in the shared table (struct mp_mailbox, lib/core/core_private.h; doc/wire-format.md, "Local
 * mailbox"). DPDK's IPC (rte_mp) is not used: it cannot address one process (a primary's
 * request goes to every secondary, a secondary can only talk to the primary), so every request
 * was a broadcast that every secondary woke up for, relayed by the primary, and a stopped
 * process's full socket blocked the sender.
 *
 * A request, from the requesting thread:
 *   1. takes one of this process's own RZ_MP_RECORDS records (process-local lock; -EBUSY when
 *      all are in flight, or when RZ_MP_PER_TARGET of them wait for the same target: a stopped
 *      target ties up no more than that);
 *   2. writes the body (struct rz_mp_msg) and publishes it: tag (seq, POSTED);
 *   3. sets bit <record> of pending[<own slot>] in the target's mailbox, bumps the target's
 *      bell and, if the target's control thread sleeps, FUTEX_WAKEs it (a shared futex: the
 *      table is a MAP_SHARED hugepage mapping in every process);
 *   4. sleeps on its record's tag (a futex too) until the answer, its deadline, or the target's
 *      death (checked every RZ_MP_POLL_MS).
 * The target's control thread ("rz-ctl") claims the record (CAS POSTED -> TAKEN), validates
 * every field, acts (the server lib/mapping registered), and answers in the tag (CAS TAKEN ->
 * DONE with the errno) and wakes the requester. Nobody ever waits for a process that does not
 * answer: the sender only writes its own record and atomics of the target's mailbox, which
 * cannot fill up (one bit per record).
 *
 * Deadlines: every request carries one (CLOCK_MONOTONIC, the same clock in every process,
 * RZ_MP_TIMEOUT_MS after the call). The target checks it under the table lock before it acts.
 * The requester, at the deadline, takes its record back (CAS POSTED -> FREE): if that works the
 * target never saw the request and never will (-ETIMEDOUT). If the target had claimed it, the
 * requester reads the outcome from the table under the same lock (so a request that timed out
 * either happened, and is reported done, or never will) and leaves the record to the target
 * until it answers or dies.
 *
 * The primary: only it reserves arenas (RZ_MP_OP_ARENA). Without a live primary that request
 * fails at once with -EHOSTDOWN; everything else works between the processes that are left.
 *
 * The control thread also runs the periodic work registered with mp_set_tick() (the reaper)
 * every RZ_REAP_PERIOD_MS. This layer is the transport only: what a request does in the target
 * (map_local(), in lib/mapping) is the function registered with mp_set_server().
 *
 * An rte_mp action "rzone_mp" stays registered only to drop what an earlier rzone version (or
 * anyone else) sends there, closing the file descriptors it carries; it never blocks.
 */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_pause.h>
#include <rte_string_fns.h>

#include "core_private.h"
#include "mp_private.h"
#include "proc_private.h"

#define RZ_MP_TIMEOUT_MS	2000
#define RZ_REAP_PERIOD_MS	200
#define RZ_MP_POLL_MS		20	/* a waiting requester checks the target's liveness */
#define RZ_MP_PER_TARGET	16	/* records of one process waiting for one target */

static_assert(sizeof(struct rz_mp_msg) == RZ_MP_BODY_WORDS * sizeof(uint64_t),
		"the mailbox record body is a struct rz_mp_msg");
static_assert(RZ_MP_RECORDS <= 64, "one pending bit per record");

/* Record states: the low 8 bits of its tag. */
enum rec_state {
	REC_FREE = 0,
	REC_WRITING = 1,	/* the requester fills the body */
	REC_POSTED = 2,		/* published; the target may claim it */
	REC_TAKEN = 3,		/* claimed by the target, which acts */
	REC_DONE = 4,		/* answered: bits 31..16 hold the errno (0: done) */
};

#define TAG(seq, st, err) (((uint64_t)(seq) << 32) | ((uint64_t)(err) << 16) | (uint64_t)(st))
#define TAG_SEQ(t)	((uint32_t)((t) >> 32))
#define TAG_ST(t)	((uint32_t)(t) & 0xffu)
#define TAG_ERR(t)	(((uint32_t)(t) >> 16) & 0xffffu)

/* Process-local use of this process's records. */
enum rec_use {
	USE_FREE = 0,
	USE_CALL,	/* a thread of ours waits on it */
	/* Timed out while the target had claimed it: the target's until it answers. */
	USE_ORPHAN,
};

static struct {
	pthread_t thread;
	bool running;
	bool registered;	/* the legacy rte_mp action stays registered for ever */
	bool stop;
	pthread_mutex_t lock;	/* process-local, never held across a wait */
	uint8_t use[RZ_MP_RECORDS];
	uint32_t target[RZ_MP_RECORDS];
	uint64_t target_gen[RZ_MP_RECORDS];
	uint32_t per_target[RZ_MAX_PROCS];
	mp_serve_fn *serve;	/* registered by lib/mapping */
	mp_tick_fn *tick;	/* registered by lib/init */
} mp = { .lock = PTHREAD_MUTEX_INITIALIZER };

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

/* The 32 bits of a tag a futex sleeps on: its low half (state and errno). */
static uint32_t *
tag_futex(uint64_t *tag)
{
	return (uint32_t *)tag + (RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN ? 0 : 1);
}

/* Shared (not FUTEX_PRIVATE_FLAG) futexes: the words are in a mapping every process shares. */
static void
futex_wait(uint32_t *word, uint32_t val, uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / 1000000000ull),
		.tv_nsec = (long)(ns % 1000000000ull),
	};

	syscall(SYS_futex, word, FUTEX_WAIT, val, &ts, NULL, 0);
}

static void
futex_wake(uint32_t *word, int n)
{
	syscall(SYS_futex, word, FUTEX_WAKE, n, NULL, NULL, 0);
}

static void
rejected(const char *why, uint32_t from)
{
	__atomic_add_fetch(&tbl()->stats_ipc_rejected, 1, __ATOMIC_RELAXED);
	RZ_LOG(ERR, "malformed request from process slot %u dropped: %s", from, why);
}

/* ---- the target: the control thread serves its mailbox -------------------------------- */

/* Answer record @r (claimed by us, seq @seq) with @ret (0 or -errno) and wake its owner. */
static void
answer(struct mp_record *r, uint32_t seq, uint32_t state, int ret)
{
	uint64_t want = TAG(seq, state, 0);
	uint32_t err = ret < 0 && ret >= -4095 ? (uint32_t)-ret : (ret < 0 ? EIO : 0);

	if (__atomic_compare_exchange_n(&r->tag, &want, TAG(seq, REC_DONE, err), false,
			__ATOMIC_RELEASE, __ATOMIC_RELAXED))
		futex_wake(tag_futex(&r->tag), INT_MAX);
}

/* What is wrong with request @m found in record seq @seq of process slot @from, or NULL. */
static const char *
request_problem(const struct rz_mp_msg *m, uint32_t from, uint32_t seq)
{
	if (m->op != RZ_MP_OP_MAP && m->op != RZ_MP_OP_UNMAP && m->op != RZ_MP_OP_ARENA)
		return "not a request";
	if (m->flags != 0)
		return "flags set";
	if (m->seq != seq)
		return "sequence does not match its record";
	if (m->requester != from)
		return "requester is not the slot the record belongs to";
	if (m->op == RZ_MP_OP_ARENA && m->target == local_proc.self && !local_proc.primary)
		return "arena request to a secondary";
	if (m->deadline_ns > mono_time_ns() + 2 * RZ_MP_TIMEOUT_MS * 1000000ull)
		return "deadline too far ahead";
	return NULL;
}

/* Copy, check and claim record @i of process slot @from. 1 with *@m and *@seq if it is a valid
 * request for this process, claimed (TAKEN); 0 if it is not ours to serve. */
static int
claim(uint32_t from, uint32_t i, struct rz_mp_msg *m, uint32_t *seq)
{
	struct rz_table *t = tbl();
	struct mp_record *r = &t->mbox[from].rec[i];
	const struct proc_entry *rq = &t->procs[from];
	uint64_t body[RZ_MP_BODY_WORDS], tag, want;
	const char *why = NULL;
	unsigned int k;

	tag = __atomic_load_n(&r->tag, __ATOMIC_ACQUIRE);
	if (TAG_ST(tag) != REC_POSTED)
		return 0;	/* taken back, reused, or a stale pending bit */
	for (k = 0; k < RZ_MP_BODY_WORDS; k++)
		body[k] = __atomic_load_n(&r->body[k], __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&r->tag, __ATOMIC_RELAXED) != tag)
		return 0;	/* rewritten while we copied: not the request we saw */
	*seq = TAG_SEQ(tag);
	if (mp_msg_parse(body, sizeof(body), RZ_MAX_PROCS, m, &why) == 0) {
		if (m->target != local_proc.self || m->target_gen != local_proc.self_gen ||
				m->target_pid != local_proc.pid)
			return 0;	/* for another process (or an earlier one of our slot) */
		if (__atomic_load_n(&rq->state, __ATOMIC_ACQUIRE) != PROC_LIVE ||
				__atomic_load_n(&rq->gen, __ATOMIC_RELAXED) != m->requester_gen)
			return 0;	/* from a process that is gone: nobody waits */
		why = request_problem(m, from, *seq);
	}
	want = tag;
	if (!__atomic_compare_exchange_n(&r->tag, &want, TAG(*seq, REC_TAKEN, 0), false,
			__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return 0;
	if (why == NULL)
		return 1;
	/* Answer a buggy sender at once rather than let it wait for its deadline. */
	rejected(why, from);
	answer(r, *seq, REC_TAKEN, -EPROTO);
	return 0;
}

static void
serve_one(uint32_t from, uint32_t i)
{
	struct mp_record *r = &tbl()->mbox[from].rec[i];
	mp_serve_fn *fn = __atomic_load_n(&mp.serve, __ATOMIC_ACQUIRE);
	struct rz_mp_msg m;
	uint64_t addr = 0;
	uint32_t seq;
	int ret;

	if (!claim(from, i, &m, &seq))
		return;
	ret = fn == NULL ? -ENOTSUP : fn(&m, &addr);
	answer(r, seq, REC_TAKEN, ret);
	__atomic_add_fetch(&tbl()->mbox[local_proc.self].served, 1, __ATOMIC_RELAXED);
}

/* Serve every request posted to this process; the number of pending bits seen. @refuse: answer
 * them -ESRCH instead (this process is leaving). */
static unsigned int
serve_mailbox(bool refuse)
{
	struct mp_mailbox *mb = &tbl()->mbox[local_proc.self];
	unsigned int n = 0;
	uint32_t p;

	for (p = 0; p < RZ_MAX_PROCS; p++) {
		uint64_t bits;

		if (__atomic_load_n(&mb->pending[p], __ATOMIC_RELAXED) == 0)
			continue;
		bits = __atomic_exchange_n(&mb->pending[p], 0, __ATOMIC_SEQ_CST);
		while (bits != 0) {
			uint32_t i = (uint32_t)__builtin_ctzll(bits);

			bits &= bits - 1;
			n++;
			if (refuse) {
				struct rz_mp_msg m;
				uint32_t seq;

				if (claim(p, i, &m, &seq))
					answer(&tbl()->mbox[p].rec[i], seq, REC_TAKEN, -ESRCH);
			} else {
				serve_one(p, i);
			}
		}
	}
	return n;
}

static void *
ctl_thread(void *arg)
{
	struct mp_mailbox *mb = &tbl()->mbox[local_proc.self];
	uint64_t last_reap = 0;

	RTE_SET_USED(arg);
	while (!__atomic_load_n(&mp.stop, __ATOMIC_ACQUIRE)) {
		uint64_t now = mono_time_ns(), next;
		uint32_t bell;

		if (now - last_reap >= RZ_REAP_PERIOD_MS * 1000000ull) {
			mp_tick_fn *tick = __atomic_load_n(&mp.tick, __ATOMIC_ACQUIRE);

			if (tick != NULL)
				tick();
			last_reap = now = mono_time_ns();
		}
		/* Announce the sleep, then look: a sender bumps the bell after it set its bit,
		 * then wakes us if we sleep (all sequentially consistent: no wake-up is lost). */
		__atomic_store_n(&mb->sleeping, 1, __ATOMIC_SEQ_CST);
		bell = __atomic_load_n(&mb->bell, __ATOMIC_SEQ_CST);
		if (serve_mailbox(false) == 0 && !__atomic_load_n(&mp.stop, __ATOMIC_ACQUIRE)) {
			next = last_reap + RZ_REAP_PERIOD_MS * 1000000ull;
			futex_wait(&mb->bell, bell, next > now ? next - now : 0);
		}
		__atomic_store_n(&mb->sleeping, 0, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

/* ---- the requester -------------------------------------------------------------------- */

/* Is the process in @slot still the one of generation @gen, and alive? */
static bool
target_alive(uint32_t slot, uint64_t gen)
{
	const struct proc_entry *p = &tbl()->procs[slot];

	return __atomic_load_n(&p->state, __ATOMIC_ACQUIRE) == PROC_LIVE &&
		__atomic_load_n(&p->gen, __ATOMIC_RELAXED) == gen && proc_alive(slot);
}

/* A record for a request to @target: its index, or -EBUSY. Orphans the target answered (or
 * that died with it) are free again first. */
static int
record_get(uint32_t target, uint64_t target_gen)
{
	struct mp_record *rec = tbl()->mbox[local_proc.self].rec;
	int ret = -EBUSY;
	uint32_t i;

	pthread_mutex_lock(&mp.lock);
	for (i = 0; i < RZ_MP_RECORDS; i++) {
		const struct proc_entry *p;

		if (mp.use[i] != USE_ORPHAN)
			continue;
		p = &tbl()->procs[mp.target[i]];
		if (TAG_ST(__atomic_load_n(&rec[i].tag, __ATOMIC_ACQUIRE)) != REC_TAKEN ||
				__atomic_load_n(&p->state, __ATOMIC_ACQUIRE) != PROC_LIVE ||
				__atomic_load_n(&p->gen, __ATOMIC_RELAXED) != mp.target_gen[i]) {
			mp.use[i] = USE_FREE;
			mp.per_target[mp.target[i]]--;
		}
	}
	if (mp.per_target[target] >= RZ_MP_PER_TARGET) {
		pthread_mutex_unlock(&mp.lock);
		RZ_LOG(ERR, "%u requests to pid %d are in flight or unanswered already: refused",
				RZ_MP_PER_TARGET, (int)proc_pid(target));
		return -EBUSY;
	}
	for (i = 0; i < RZ_MP_RECORDS; i++) {
		if (mp.use[i] == USE_FREE) {
			mp.use[i] = USE_CALL;
			mp.target[i] = target;
			mp.target_gen[i] = target_gen;
			mp.per_target[target]++;
			ret = (int)i;
			break;
		}
	}
	pthread_mutex_unlock(&mp.lock);
	if (ret < 0)
		RZ_LOG(ERR, "too many requests of this process in flight (%u)", RZ_MP_RECORDS);
	return ret;
}

static void
record_put(uint32_t i, bool orphan)
{
	pthread_mutex_lock(&mp.lock);
	if (orphan) {
		mp.use[i] = USE_ORPHAN;
	} else {
		mp.use[i] = USE_FREE;
		mp.per_target[mp.target[i]]--;
	}
	pthread_mutex_unlock(&mp.lock);
}

/* What the table says after a request's deadline: did it happen? Called without the lock. */
static int
outcome(const struct rz_mp_msg *m, int none)
{
	struct region_entry *e;
	int ret = none;

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

/* Post record @i (body @m) to @target's mailbox and wake its control thread. */
static void
post(uint32_t i, const struct rz_mp_msg *m, uint32_t target)
{
	struct mp_mailbox *own = &tbl()->mbox[local_proc.self], *mb = &tbl()->mbox[target];
	struct mp_record *r = &own->rec[i];
	uint64_t body[RZ_MP_BODY_WORDS];
	unsigned int k;

	memcpy(body, m, sizeof(body));
	__atomic_store_n(&r->tag, TAG(m->seq, REC_WRITING, 0), __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	for (k = 0; k < RZ_MP_BODY_WORDS; k++)
		__atomic_store_n(&r->body[k], body[k], __ATOMIC_RELAXED);
	__atomic_store_n(&r->tag, TAG(m->seq, REC_POSTED, 0), __ATOMIC_RELEASE);
	__atomic_fetch_or(&mb->pending[local_proc.self], UINT64_C(1) << i, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&mb->bell, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&mb->sleeping, __ATOMIC_SEQ_CST))
		futex_wake(&mb->bell, 1);
}

static int
mp_call(uint32_t target, uint16_t op, uint64_t region_id, void *vaddr, uint32_t perms,
		int socket, uint32_t npages)
{
	struct mp_record *r;
	struct rz_mp_msg body;
	uint64_t gen, tag, now, next_poll;
	int i, ret, gone_err = op == RZ_MP_OP_ARENA ? -EHOSTDOWN : -ESRCH;
	uint32_t st;

	if (target >= RZ_MAX_PROCS || target == local_proc.self)
		return -EINVAL;
	gen = __atomic_load_n(&tbl()->procs[target].gen, __ATOMIC_ACQUIRE);
	if (!target_alive(target, gen)) {
		RZ_LOG(ERR, "%s pid %d is gone", op == RZ_MP_OP_ARENA ? "the primary," :
				"process", (int)proc_pid(target));
		return gone_err;
	}
	i = record_get(target, gen);
	if (i < 0)
		return i;
	r = &tbl()->mbox[local_proc.self].rec[i];
	memset(&body, 0, sizeof(body));
	body.magic = RZ_MP_MAGIC;
	body.version = RZ_MP_VERSION;
	body.op = op;
	/* A new sequence for the record: a late answer to its previous use cannot match. */
	body.seq = (uint32_t)(TAG_SEQ(__atomic_load_n(&r->tag, __ATOMIC_ACQUIRE)) + 1);
	body.region_id = region_id;
	body.vaddr = (uint64_t)(uintptr_t)vaddr;
	body.perms = perms;
	body.socket = socket;
	body.npages = npages;
	body.requester = local_proc.self;
	body.requester_gen = local_proc.self_gen;
	body.target = target;
	body.target_gen = gen;
	body.target_pid = proc_pid(target);
	body.deadline_ns = mono_time_ns() + RZ_MP_TIMEOUT_MS * 1000000ull;
	post((uint32_t)i, &body, target);

	now = mono_time_ns();
	next_poll = now + RZ_MP_POLL_MS * 1000000ull;
	for (;;) {
		uint64_t until;

		tag = __atomic_load_n(&r->tag, __ATOMIC_ACQUIRE);
		st = TAG_ST(tag);
		if (TAG_SEQ(tag) != (uint32_t)body.seq || (st != REC_POSTED && st != REC_TAKEN &&
				st != REC_DONE)) {
			/* Only we and the target write the tag, so someone scribbled on it. */
			rejected("the record's tag was overwritten", local_proc.self);
			record_put((uint32_t)i, false);
			return -EPROTO;
		}
		if (st == REC_DONE) {
			record_put((uint32_t)i, false);
			if (TAG_ERR(tag) > 4095) {
				rejected("answer out of range", target);
				return -EPROTO;
			}
			return -(int)TAG_ERR(tag);
		}
		now = mono_time_ns();
		if (now >= body.deadline_ns)
			break;
		if (now >= next_poll) {
			next_poll = now + RZ_MP_POLL_MS * 1000000ull;
			if (!target_alive(target, gen))
				break;
		}
		until = RTE_MIN(body.deadline_ns, next_poll);
		futex_wait(tag_futex(&r->tag), (uint32_t)tag, until - now);
	}
	/* Deadline passed, or the target died. Take the record back if the target never
	 * claimed it: then it never acts on it. */
	tag = TAG(body.seq, REC_POSTED, 0);
	if (__atomic_compare_exchange_n(&r->tag, &tag, TAG(body.seq, REC_FREE, 0), false,
			__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		record_put((uint32_t)i, false);
		if (!target_alive(target, gen)) {
			RZ_LOG(ERR, "pid %d died before it took the request", body.target_pid);
			return gone_err;
		}
		RZ_LOG(ERR, "pid %d did not take the request within %u ms", body.target_pid,
				RZ_MP_TIMEOUT_MS);
		return -ETIMEDOUT;
	}
	if (TAG_ST(tag) == REC_DONE && TAG_SEQ(tag) == (uint32_t)body.seq) {
		record_put((uint32_t)i, false);
		return TAG_ERR(tag) > 4095 ? -EPROTO : -(int)TAG_ERR(tag);
	}
	/* Claimed and not answered: the target acts now or never (it checks the deadline under
	 * the table lock). Wait for the deadline, then the table tells. */
	record_put((uint32_t)i, true);
	while (mono_time_ns() <= body.deadline_ns)
		rte_delay_us_sleep(1000);
	ret = outcome(&body, target_alive(target, gen) ? -ETIMEDOUT : gone_err);
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
				__atomic_load_n(&t->procs[i].proc_type, __ATOMIC_RELAXED) ==
				RTE_PROC_PRIMARY)
			return mp_call(i, RZ_MP_OP_ARENA, 0, NULL, 0, socket, npages);
	RZ_LOG(ERR, "no primary process is attached (it died or left): only the primary reserves "
			"arenas");
	return -EHOSTDOWN;
}

/* ---- start, stop, and the legacy rte_mp action ----------------------------------------- */

/* EAL IPC thread: rzone sends nothing over rte_mp any more. Drop what comes, close the file
 * descriptors it brought (a sender could push us to EMFILE), count it. Never blocks. */
static int
legacy_handle(const struct rte_mp_msg *msg, const void *peer)
{
	struct rz_table *t = __atomic_load_n(&local_proc.tbl, __ATOMIC_ACQUIRE);
	int i;

	RTE_SET_USED(peer);
	for (i = 0; i < msg->num_fds && i < RTE_MP_MAX_FD_NUM; i++)
		if (msg->fds[i] >= 0)
			close(msg->fds[i]);
	if (t != NULL && __atomic_load_n(&mp.running, __ATOMIC_ACQUIRE)) {
		__atomic_add_fetch(&t->stats_ipc_rejected, 1, __ATOMIC_RELAXED);
		RZ_LOG(ERR, "DPDK IPC message on \"%s\" dropped: rzone's requests go through its "
				"mailboxes (an rzone older than message version %u?)", RZ_MP_ACTION,
				RZ_MP_VERSION);
	}
	return 0;
}

int
mp_start(void)
{
	struct mp_mailbox *own = &tbl()->mbox[local_proc.self];
	uint32_t i;
	int ret;

	/* Our records, left by an earlier process of this slot: new sequences, free. A target
	 * that still holds one of the old ones cannot answer into the new ones. */
	for (i = 0; i < RZ_MP_RECORDS; i++) {
		uint64_t tag = __atomic_load_n(&own->rec[i].tag, __ATOMIC_ACQUIRE);

		__atomic_store_n(&own->rec[i].tag, TAG(TAG_SEQ(tag) + 1, REC_FREE, 0),
				__ATOMIC_RELEASE);
	}
	memset(mp.use, 0, sizeof(mp.use));
	memset(mp.per_target, 0, sizeof(mp.per_target));
	__atomic_store_n(&mp.stop, false, __ATOMIC_RELEASE);
	if (!mp.registered) {
		if (rte_mp_action_register(RZ_MP_ACTION, legacy_handle) < 0 &&
				rte_errno != EEXIST) {
			ret = -rte_errno;
			RZ_LOG(ERR, "cannot register the IPC action: %s", rte_strerror(rte_errno));
			return ret;
		}
		mp.registered = true;
	}
	ret = rte_ctrl_thread_create(&mp.thread, "rz-ctl", NULL, ctl_thread, NULL);
	if (ret != 0) {
		RZ_LOG(ERR, "cannot start the control thread: %s", strerror(ret));
		return -ret;
	}
	__atomic_store_n(&mp.running, true, __ATOMIC_RELEASE);
	return 0;
}

void
mp_stop(void)
{
	struct mp_mailbox *own;

	if (!__atomic_load_n(&mp.running, __ATOMIC_ACQUIRE))
		return;
	own = &tbl()->mbox[local_proc.self];
	__atomic_store_n(&mp.stop, true, __ATOMIC_RELEASE);
	__atomic_add_fetch(&own->bell, 1, __ATOMIC_SEQ_CST);
	futex_wake(&own->bell, 1);
	pthread_join(mp.thread, NULL);
	/* Whoever asked us something meanwhile hears at once that we are leaving. */
	serve_mailbox(true);
	__atomic_store_n(&mp.running, false, __ATOMIC_RELEASE);
}
