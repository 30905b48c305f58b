/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * The bottom layer: the shared table (create in the primary, attach in a secondary, destroy),
 * its lock, the process-local state, the log type, the clock, and handle <-> entry checks.
 * It references no other module of rzone.
 */

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_atomic.h>
#include <rte_eal.h>
#include <rte_memzone.h>
#include <inttypes.h>

#include "audit_private.h"
#include "core_private.h"

RTE_LOG_REGISTER_DEFAULT(rzone_logtype, INFO);

struct local_proc local_proc = { .self = RZ_NO_SLOT };

uint64_t
mono_time_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static table_repair_fn *repair;

void
table_set_repair(table_repair_fn *fn)
{
	repair = fn;
}

#ifdef RZ_FAULT_INJECTION
void
fault_point(const char *point)
{
	const char *want = getenv("RZ_FAULT_KILL");

	if (want == NULL || strcmp(want, point) != 0)
		return;
	RZ_LOG(WARNING, "fault injection: pid %d killed at %s", (int)getpid(), point);
	raise(SIGKILL);
}

bool
fault_skip(const char *what)
{
	const char *skip = getenv("RZ_FAULT_SKIP");

	return skip != NULL && strcmp(skip, what) == 0;
}
#endif

/* The observers' write count: odd from the lock to the unlock (a holder that died leaves it
 * odd: the next one makes it odd again, a step further). */
static void
table_wseq_bump(bool locking)
{
	struct rz_table *t = local_proc.tbl;
	uint64_t w = __atomic_load_n(&t->wseq, __ATOMIC_RELAXED);

	if (locking) {
		__atomic_store_n(&t->wseq, (w | 1) + 2, __ATOMIC_RELAXED);
		rte_smp_wmb();	/* the count is seen before what the holder writes */
	} else {
		rte_smp_wmb();	/* what the holder wrote is seen before the count */
		__atomic_store_n(&t->wseq, (w | 1) + 1, __ATOMIC_RELAXED);
	}
}

int
table_lock(void)
{
	int ret = pthread_mutex_lock(&local_proc.tbl->lock);

	if (ret == EOWNERDEAD) {
		/* The holder died mid-update: restore the invariants before anything else (the
		 * reaper releases what the dead process held, later). */
		RZ_LOG(WARNING, "table lock holder died; recovering the lock and repairing");
		pthread_mutex_consistent(&local_proc.tbl->lock);
		__atomic_add_fetch(&local_proc.tbl->stats_repairs, 1, __ATOMIC_RELAXED);
		if (repair != NULL)
			repair();
		ret = 0;
	}
	if (ret != 0) {
		RZ_LOG(ERR, "table lock failed: %s", strerror(ret));
		return -ret;
	}
	table_wseq_bump(true);
	return 0;
}

void
table_unlock(void)
{
	table_wseq_bump(false);
	pthread_mutex_unlock(&local_proc.tbl->lock);
}

struct region_entry *
region_from_handle(const struct rz_region *r, int *err)
{
	struct rz_table *t = local_proc.tbl;
	uint64_t id = handle_id(r);
	struct region_entry *e;

	if (t == NULL) {
		*err = -ENODEV;
		return NULL;
	}
	if ((id >> RZ_SLOT_BITS) == 0 || (id & RZ_SLOT_MASK) >= RZ_MAX_REGIONS ||
			(id >> RZ_SLOT_BITS) >= __atomic_load_n(&t->next_seq, __ATOMIC_RELAXED)) {
		RZ_LOG(ERR, "invalid region handle %p (no region ever had that id)",
				(const void *)r);
		*err = -EINVAL;
		return NULL;
	}
	e = region_by_id(id);
	if (e == NULL) {
		RZ_LOG(ERR, "region handle %#" PRIx64 ": that region is gone", id);
		*err = -ENOENT;
		return NULL;
	}
	*err = 0;
	return e;
}

struct region_entry *
region_by_id(uint64_t id)
{
	struct rz_table *t = local_proc.tbl;
	uint64_t slot = id & RZ_SLOT_MASK;
	struct region_entry *e;

	if (t == NULL || id == 0 || slot >= RZ_MAX_REGIONS)
		return NULL;
	e = &t->regions[slot];
	if (__atomic_load_n(&e->id, __ATOMIC_ACQUIRE) != id)
		return NULL;
	return e;
}

int
table_create(void)
{
	const struct rte_memzone *mz;
	pthread_mutexattr_t ma;
	struct rz_table *t;

	mz = rte_memzone_reserve_aligned(RZ_TABLE_MZ, sizeof(*t), SOCKET_ID_ANY, 0,
			RTE_CACHE_LINE_SIZE);
	if (mz == NULL) {
		if (rte_errno == EEXIST) {
			/* Left over by an earlier rz_init() of this primary (after rz_fini()
			 * kept it for attached secondaries): reuse it. */
			mz = rte_memzone_lookup(RZ_TABLE_MZ);
			if (mz == NULL)
				return -ENOMEM;
			local_proc.mz = mz;
			local_proc.tbl = mz->addr;
			return audit_create();
		}
		RZ_LOG(ERR, "cannot reserve the region table (%zu bytes): %s", sizeof(*t),
				rte_strerror(rte_errno));
		return -ENOMEM;
	}
	t = mz->addr;
	memset(t, 0, sizeof(*t));
	t->version = RZ_TABLE_VERSION;
	t->max_regions = RZ_MAX_REGIONS;
	t->max_procs = RZ_MAX_PROCS;
	t->max_caps = RZ_MAX_CAPS;
	t->table_size = sizeof(*t);
	t->page_sz = mz->hugepage_sz;
	t->next_seq = 1;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&t->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	__atomic_store_n(&t->magic, RZ_TABLE_MAGIC, __ATOMIC_RELEASE);
	local_proc.mz = mz;
	local_proc.tbl = t;
	if (audit_create() < 0) {
		table_destroy();
		return -ENOMEM;
	}
	RZ_LOG(DEBUG, "region table: %zu bytes, %u regions, %u processes, %u capabilities",
			sizeof(*t), RZ_MAX_REGIONS, RZ_MAX_PROCS, RZ_MAX_CAPS);
	return 0;
}

int
table_attach(void)
{
	const struct rte_memzone *mz = rte_memzone_lookup(RZ_TABLE_MZ);
	struct rz_table *t;

	if (mz == NULL) {
		RZ_LOG(ERR, "no region table: the primary process has not called rz_init()");
		return -ENOENT;
	}
	t = mz->addr;
	if (__atomic_load_n(&t->magic, __ATOMIC_ACQUIRE) != RZ_TABLE_MAGIC ||
			t->version != RZ_TABLE_VERSION || t->table_size != sizeof(*t) ||
			t->max_regions != RZ_MAX_REGIONS || t->max_procs != RZ_MAX_PROCS ||
			t->max_caps != RZ_MAX_CAPS) {
		RZ_LOG(ERR, "region table made by an incompatible rzone build (version %u, "
				"%" PRIu64 " bytes; this build: version %u, %zu bytes)",
				t->version, t->table_size, RZ_TABLE_VERSION, sizeof(*t));
		return -EPROTO;
	}
	local_proc.mz = mz;
	local_proc.tbl = t;
	return audit_attach();
}

void
table_destroy(void)
{
	__atomic_store_n(&local_proc.tbl->magic, 0, __ATOMIC_RELEASE);
	rte_memzone_free(local_proc.mz);
	audit_destroy();
	table_forget();
}

void
table_forget(void)
{
	local_proc.tbl = NULL;
	local_proc.mz = NULL;
	audit_forget();
}
