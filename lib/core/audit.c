/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * The audit trail (audit_private.h): a lock-free multi-writer ring in shared memory, and the
 * pages in which processes publish their RDMA state for observers.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_atomic.h>
#include <rte_memzone.h>

#include "audit_private.h"
#include "core_private.h"
#include "rzone_observe.h"

static_assert((RZ_AUDIT_ENTRIES & (RZ_AUDIT_ENTRIES - 1)) == 0,
		"audit_entries is a power of two");
static_assert(sizeof(struct audit_rec) == 64, "an audit record is 64 bytes");

struct audit_ring *audit_ring;
static const struct rte_memzone *audit_mz;
static int audit_log_on = -1;	/* -1: not decided yet (RZ_AUDIT_LOG) */

static const char *const event_names[AUDIT_EVENT_MAX] = {
	[AUDIT_NONE] = "none",
	[AUDIT_REGION_CREATE] = "create",
	[AUDIT_REGION_DESTROY] = "destroy",
	[AUDIT_REGION_FREE] = "free",
	[AUDIT_TRANSFER] = "transfer",
	[AUDIT_CAP_CREATE] = "cap-create",
	[AUDIT_CAP_USE] = "cap-use",
	[AUDIT_CAP_REVOKE] = "cap-revoke",
	[AUDIT_GRANT] = "grant",
	[AUDIT_REVOKE] = "revoke",
	[AUDIT_REAP] = "reap",
};

static const char *const cause_names[AUDIT_CAUSE_MAX] = {
	[AUDIT_CAUSE_NONE] = "",
	[AUDIT_CAUSE_EXPLICIT] = "explicit",
	[AUDIT_CAUSE_EXPIRY] = "expiry",
	[AUDIT_CAUSE_PEER_GONE] = "peer-gone",
	[AUDIT_CAUSE_DESTROY] = "region-destroyed",
	[AUDIT_CAUSE_TRANSFER] = "transfer",
	[AUDIT_CAUSE_OWNER_LEFT] = "owner-left",
	[AUDIT_CAUSE_CAPABILITY] = "capability",
	[AUDIT_CAUSE_PEER_DEAD] = "peer-dead",
};

const char *
audit_event_name(uint32_t event)
{
	return event < AUDIT_EVENT_MAX ? event_names[event] : "?";
}

const char *
audit_cause_name(uint32_t cause)
{
	return cause < AUDIT_CAUSE_MAX ? cause_names[cause] : "?";
}

static bool
ring_ok(const struct audit_ring *r)
{
	return __atomic_load_n(&r->magic, __ATOMIC_ACQUIRE) == RZ_AUDIT_MAGIC &&
		r->version == RZ_AUDIT_VERSION && r->nrecs == RZ_AUDIT_ENTRIES &&
		r->size == sizeof(*r);
}

int
audit_create(void)
{
	const struct rte_memzone *mz;
	struct audit_ring *r;

	mz = rte_memzone_reserve_aligned(RZ_AUDIT_MZ, sizeof(*r), SOCKET_ID_ANY, 0,
			RTE_CACHE_LINE_SIZE);
	if (mz == NULL && rte_errno == EEXIST)
		return audit_attach();	/* left by an earlier rz_init() of this primary */
	if (mz == NULL) {
		RZ_LOG(ERR, "cannot reserve the audit ring (%zu bytes): %s", sizeof(*r),
				rte_strerror(rte_errno));
		return -ENOMEM;
	}
	r = mz->addr;
	memset(r, 0, sizeof(*r));
	r->version = RZ_AUDIT_VERSION;
	r->nrecs = RZ_AUDIT_ENTRIES;
	r->size = sizeof(*r);
	__atomic_store_n(&r->magic, RZ_AUDIT_MAGIC, __ATOMIC_RELEASE);
	audit_mz = mz;
	audit_ring = r;
	return 0;
}

int
audit_attach(void)
{
	const struct rte_memzone *mz = rte_memzone_lookup(RZ_AUDIT_MZ);

	if (mz == NULL) {
		RZ_LOG(ERR, "no audit ring in this instance");
		return -ENOENT;
	}
	if (mz->len < sizeof(struct audit_ring) || !ring_ok(mz->addr)) {
		RZ_LOG(ERR, "audit ring made by an incompatible rzone build (%zu bytes; this "
				"build: %zu bytes, %u records)", mz->len, sizeof(struct audit_ring),
				RZ_AUDIT_ENTRIES);
		return -EPROTO;
	}
	audit_mz = mz;
	audit_ring = mz->addr;
	return 0;
}

void
audit_destroy(void)
{
	if (audit_mz != NULL) {
		__atomic_store_n(&audit_ring->magic, 0, __ATOMIC_RELEASE);
		rte_memzone_free(audit_mz);
	}
	audit_forget();
}

void
audit_forget(void)
{
	audit_ring = NULL;
	audit_mz = NULL;
}

int
rz_audit_log(int enable)
{
	int old = audit_log_on > 0;

	if (enable >= 0)
		__atomic_store_n(&audit_log_on, enable != 0, __ATOMIC_RELAXED);
	return old;
}

static bool
log_wanted(void)
{
	int on = __atomic_load_n(&audit_log_on, __ATOMIC_RELAXED);

	if (on < 0) {
		const char *v = getenv("RZ_AUDIT_LOG");

		on = v != NULL && strcmp(v, "0") != 0 && v[0] != '\0';
		__atomic_store_n(&audit_log_on, on, __ATOMIC_RELAXED);
	}
	return on != 0;
}

/* A record's words after its sequence word, stored and loaded one by one with relaxed atomics. */
#define REC_WORDS	(sizeof(struct audit_rec) / sizeof(uint64_t))

static void
rec_words_store(struct audit_rec *rec, const struct audit_rec *src)
{
	uint64_t *dst = (uint64_t *)rec, w;
	const uint8_t *from = (const uint8_t *)src;
	size_t i;

	for (i = 1; i < REC_WORDS; i++) {
		memcpy(&w, from + i * sizeof(w), sizeof(w));
		__atomic_store_n(&dst[i], w, __ATOMIC_RELAXED);
	}
}

static void
rec_words_load(struct audit_rec *out, const struct audit_rec *rec)
{
	const uint64_t *from = (const uint64_t *)rec;
	uint8_t *to = (uint8_t *)out;
	size_t i;

	for (i = 1; i < REC_WORDS; i++) {
		uint64_t w = __atomic_load_n(&from[i], __ATOMIC_RELAXED);

		memcpy(to + i * sizeof(w), &w, sizeof(w));
	}
}

void
audit_record(uint16_t event, uint16_t cause, uint64_t region, int32_t actor, int32_t target,
		uint32_t rights, int32_t result, uint64_t a, uint64_t b, uint32_t aux)
{
	struct audit_ring *r = audit_ring;
	struct timespec ts;
	struct audit_rec *rec, tmp;
	uint64_t n, old, busy;

	if (r == NULL)
		return;
	n = __atomic_fetch_add(&r->head, 1, __ATOMIC_RELAXED);
	rec = &r->recs[n & (RZ_AUDIT_ENTRIES - 1)];
	busy = RZ_AUDIT_BUSY | (uint64_t)(local_proc.self & 0x7fff) << RZ_AUDIT_SLOT_SHIFT |
		((n + 1) & RZ_AUDIT_SEQ_MASK);
	old = __atomic_load_n(&rec->seq, __ATOMIC_RELAXED);
	for (;;) {
		/* A writer of a later lap has the slot already, or one of an earlier lap is still
		 * in it (slow, or dead until the reaper releases it): give this record up. */
		if ((old & RZ_AUDIT_BUSY) || (old & RZ_AUDIT_SEQ_MASK) > n + 1) {
			__atomic_fetch_add(&r->lost, 1, __ATOMIC_RELAXED);
			return;
		}
		if (__atomic_compare_exchange_n(&rec->seq, &old, busy, false, __ATOMIC_ACQUIRE,
				__ATOMIC_RELAXED))
			break;
	}
	/* The fields, word by word with relaxed atomics (a reader may copy them meanwhile: it
	 * keeps the copy only if the sequence did not change; atomics make that race defined). */
	clock_gettime(CLOCK_REALTIME, &ts);
	memset(&tmp, 0, sizeof(tmp));
	tmp.time_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	tmp.region = region;
	tmp.a = a;
	tmp.b = b;
	tmp.actor = actor;
	tmp.target = target;
	tmp.event = event;
	tmp.cause = cause;
	tmp.rights = rights;
	tmp.result = result;
	tmp.aux = aux;
	rec_words_store(rec, &tmp);
	__atomic_store_n(&rec->seq, n + 1, __ATOMIC_RELEASE);
	if (log_wanted())
		RZ_LOG(INFO, "audit #%" PRIu64 ": %s%s%s region %#" PRIx64 " actor %d target %d "
				"rights 0x%x result %d (%#" PRIx64 " %#" PRIx64 " %u)", n,
				audit_event_name(event), cause ? " by " : "",
				audit_cause_name(cause), region, (int)actor, (int)target, rights,
				(int)result, a, b, aux);
}

void
audit_release_proc(uint32_t slot)
{
	struct audit_ring *r = audit_ring;
	uint32_t i;

	if (r == NULL)
		return;
	for (i = 0; i < RZ_AUDIT_ENTRIES; i++) {
		struct audit_rec *rec = &r->recs[i];
		uint64_t w = __atomic_load_n(&rec->seq, __ATOMIC_ACQUIRE);

		if (!(w & RZ_AUDIT_BUSY) ||
				((w >> RZ_AUDIT_SLOT_SHIFT) & 0x7fff) != (slot & 0x7fff))
			continue;
		/* Half written by a process that is gone: empty (event none), complete. */
		__atomic_store_n(&rec->event, AUDIT_NONE, __ATOMIC_RELAXED);
		__atomic_compare_exchange_n(&rec->seq, &w, w & RZ_AUDIT_SEQ_MASK, false,
				__ATOMIC_RELEASE, __ATOMIC_RELAXED);
		__atomic_fetch_add(&r->lost, 1, __ATOMIC_RELAXED);
	}
}

bool
audit_read(const struct audit_ring *ring, uint64_t n, struct audit_rec *out)
{
	const struct audit_rec *rec = &ring->recs[n & (RZ_AUDIT_ENTRIES - 1)];

	out->seq = __atomic_load_n(&rec->seq, __ATOMIC_ACQUIRE);
	if (out->seq != n + 1)
		return false;
	rec_words_load(out, rec);
	/* The loads above before the sequence is read again (C11 seqlock reader). */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&rec->seq, __ATOMIC_RELAXED) != n + 1)
		return false;
	/* Shared memory: what the reader is given is checked as any input is. */
	if (out->event == AUDIT_NONE || out->event >= AUDIT_EVENT_MAX ||
			out->cause >= AUDIT_CAUSE_MAX)
		return false;
	return true;
}

struct rdma_pub *
rdma_pub_begin(void)
{
	struct rdma_pub *p;

	if (audit_ring == NULL || local_proc.self >= RZ_MAX_PROCS)
		return NULL;
	p = &audit_ring->pub[local_proc.self];
	__atomic_store_n(&p->seq, __atomic_load_n(&p->seq, __ATOMIC_RELAXED) | 1,
			__ATOMIC_RELAXED);
	rte_smp_wmb();
	return p;
}

void
rdma_pub_end(struct rdma_pub *p)
{
	rte_smp_wmb();
	__atomic_store_n(&p->seq, (__atomic_load_n(&p->seq, __ATOMIC_RELAXED) | 1) + 1,
			__ATOMIC_RELAXED);
}

void
rdma_pub_clear(uint32_t slot)
{
	struct rdma_pub *p;

	if (audit_ring == NULL || slot >= RZ_MAX_PROCS)
		return;
	p = &audit_ring->pub[slot];
	__atomic_store_n(&p->seq, __atomic_load_n(&p->seq, __ATOMIC_RELAXED) | 1,
			__ATOMIC_RELAXED);
	rte_smp_wmb();
	p->pid = 0;
	p->npeers = 0;
	p->ngrants = 0;
	rdma_pub_end(p);
}

bool
rdma_pub_read(const struct audit_ring *ring, uint32_t slot, struct rdma_pub *out)
{
	const struct rdma_pub *p;
	unsigned int tries;

	if (slot >= RZ_MAX_PROCS)
		return false;
	p = &ring->pub[slot];
	for (tries = 0; tries < 1000; tries++) {
		uint64_t s1 = __atomic_load_n(&p->seq, __ATOMIC_ACQUIRE);

		if (s1 & 1)
			continue;
		memcpy(out, p, sizeof(*out));
		rte_smp_rmb();
		if (__atomic_load_n(&p->seq, __ATOMIC_RELAXED) != s1)
			continue;
		out->device[sizeof(out->device) - 1] = '\0';
		return out->pid != 0;
	}
	return false;
}
