/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * Arenas: regions are carved from large memzones instead of one memzone each, so that DPDK's
 * memzone limit (2560 in Debian's build) does not cap the number of regions, creation is cheap,
 * and an arena is the unit an RDMA registration covers. Arenas of RZ_ARENA_PAGES hugepages are
 * shared by regions of up to that many pages; a larger region gets an arena of its own. One
 * empty shared arena per socket is kept as a spare; the others go back to DPDK when empty.
 */

#include <errno.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <rte_debug.h>
#include <rte_memzone.h>

#include "core_private.h"
#include "mp_private.h"
#include "region_private.h"
#include "remote_ops.h"

/* Arenas this process took out of the table with the table lock held, to free after it; and
 * names of memzones whose reservation was cut short (found by the repair), to look up and free
 * after it. */
static struct {
	pthread_mutex_t lock;	/* process-local; taken inside the table lock, never around it */
	uint32_t n;
	struct arena_gone gone[RZ_MAX_ARENAS];
	uint32_t norphans;
	char orphans[RZ_MAX_ARENAS][RTE_MEMZONE_NAMESIZE];
} deferred = { .lock = PTHREAD_MUTEX_INITIALIZER };

static uint64_t
run_mask(uint32_t n)
{
	return n >= 64 ? UINT64_MAX : ((UINT64_C(1) << n) - 1);
}

/* First run of @n clear bits in the low @npages bits of @used, or -1. */
static int
find_run(uint64_t used, uint32_t npages, uint32_t n)
{
	uint32_t i;

	for (i = 0; i + n <= npages; i++) {
		uint64_t m = run_mask(n) << i;

		if ((used & m) == 0)
			return (int)i;
	}
	return -1;
}

static long
free_hugepages(int socket, uint64_t page_sz)
{
	char path[128];
	long n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/hugepages/"
			"hugepages-%" PRIu64 "kB/free_hugepages", socket, page_sz >> 10);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld", &n) != 1)
		n = -1;
	fclose(f);
	return n;
}

/*
 * Only the primary reserves (and frees) arena memzones, and never with the table lock held:
 * DPDK's memzone and memory-hotplug locks are not robust, so a process killed inside
 * rte_memzone_reserve() or rte_memzone_free() would leave them held and wedge every later
 * allocation of the instance; the primary's death ends the instance anyway. A secondary that
 * needs an arena asks the primary (mp_remote_arena()); an arena a secondary empties stays in
 * the table until the primary's control thread trims it (arena_trim()).
 */
static void arena_detach_locked(struct arena *a, struct arena_gone *gone);

int
arena_reserve(int socket, uint32_t npages)
{
	struct rz_table *t = tbl();
	const struct rte_memzone *mz;
	struct arena *a = NULL;
	char name[RTE_MEMZONE_NAMESIZE];
	uint32_t i;
	int ret;

	if (!local_proc.primary)
		return -EPERM;
	if (npages == 0 || npages > UINT32_MAX / 2 || socket < 0 || socket >= RTE_MAX_NUMA_NODES)
		return -EINVAL;
	ret = table_lock();
	if (ret < 0)
		return ret;
	for (i = 0; i < RZ_MAX_ARENAS; i++) {
		if (t->arenas[i].state == ARENA_FREE) {
			a = &t->arenas[i];
			break;
		}
	}
	if (a == NULL) {
		table_unlock();
		RZ_LOG(ERR, "all %u arenas are in use", RZ_MAX_ARENAS);
		return -ENOSPC;
	}
	memset(a, 0, sizeof(*a));
	a->state = ARENA_RESERVING;
	a->seq = ++t->arena_seq;
	snprintf(a->name, sizeof(a->name), "rz_arena_%" PRIu64, a->seq);
	memcpy(name, a->name, sizeof(name));
	table_unlock();

	/* No IOVA_CONTIG: regions need not be IOVA-contiguous (they cannot be in a VM). */
	mz = rte_memzone_reserve_aligned(name, (size_t)npages * t->page_sz, socket, 0,
			t->page_sz);
	fault_point("arena.reserved");
	if (mz == NULL) {
		long avail = free_hugepages(socket, t->page_sz);
		/* An aligned memzone costs one more page: DPDK's allocator puts its element
		 * header in front of the aligned start. */
		long need = (long)npages + 1;

		if (avail >= 0)
			RZ_LOG(ERR, "node %d: cannot reserve %u hugepages of %" PRIu64 " kB "
					"(%ld with DPDK's allocator header; %ld free on the node: "
					"%ld missing): %s", socket, npages, t->page_sz >> 10, need,
					avail, avail >= need ? 0 : need - avail,
					rte_strerror(rte_errno));
		else
			RZ_LOG(ERR, "node %d: cannot reserve %u hugepages of %" PRIu64 " kB: %s",
					socket, npages, t->page_sz >> 10, rte_strerror(rte_errno));
		ret = -ENOMEM;
	}
	if (table_lock() < 0) {
		if (mz != NULL)
			rte_memzone_free(mz);
		return -EIO;
	}
	if (mz == NULL) {
		memset(a, 0, sizeof(*a));
	} else {
		a->mz = mz;
		a->va = mz->addr;
		a->socket = socket;
		a->npages = npages;
		a->nused = 0;
		a->used_mask = 0;
		a->idle_ns = mono_time_ns();
		a->state = ARENA_LIVE;
		RZ_LOG(DEBUG, "arena %s: %u pages on node %d at %p", a->name, npages, socket,
				mz->addr);
		ret = 0;
	}
	table_unlock();
	return ret;
}

int
arena_grow(int socket, uint32_t npages)
{
	int ret;

	if (local_proc.primary)
		return arena_reserve(socket, npages);
	fault_point("arena.ask");
	ret = mp_remote_arena(socket, npages);
	fault_point("arena.asked");
	return ret;
}

int
arena_alloc_locked(int socket, uint32_t npages, uint32_t *arena, uint32_t *first_page,
		uint32_t *grow)
{
	struct rz_table *t = tbl();
	uint32_t i;
	int pos;

	for (i = 0; i < RZ_MAX_ARENAS; i++) {
		struct arena *a = &t->arenas[i];

		if (a->state != ARENA_LIVE || a->socket != socket || a->nused == a->npages)
			continue;
		if (a->npages != RZ_ARENA_PAGES) {
			/* An arena of one region: an empty one of exactly this size. */
			if (a->nused != 0 || a->npages != npages)
				continue;
			pos = 0;
		} else if (npages > RZ_ARENA_PAGES) {
			continue;
		} else {
			pos = find_run(a->used_mask, a->npages, npages);
			if (pos < 0)
				continue;
		}
		a->used_mask |= run_mask(npages) << pos;
		a->nused += npages;
		*arena = i;
		*first_page = (uint32_t)pos;
		return 0;
	}
	/* A new arena is needed: the caller drops the lock, calls arena_grow(), tries again. */
	*grow = npages <= RZ_ARENA_PAGES ? RZ_ARENA_PAGES : npages;
	return -EAGAIN;
}

void
arena_trim(void)
{
	struct arena_gone gone[16];
	struct rz_table *t = tbl();
	uint64_t now = mono_time_ns();
	unsigned int n = 0, k;
	bool spare[RTE_MAX_NUMA_NODES] = { false };
	uint32_t i;

	if (!local_proc.primary || t == NULL || table_lock() < 0)
		return;
	/* The spare of each node first: the shared arena with the lowest index stays. */
	for (i = 0; i < RZ_MAX_ARENAS; i++) {
		struct arena *a = &t->arenas[i];

		if (a->state == ARENA_LIVE && a->npages == RZ_ARENA_PAGES && a->nused == 0 &&
				a->socket >= 0 && a->socket < RTE_MAX_NUMA_NODES &&
				!spare[a->socket]) {
			spare[a->socket] = true;
			a->idle_ns = UINT64_MAX;	/* marks it kept, this round */
		}
	}
	for (i = 0; i < RZ_MAX_ARENAS && n < RTE_DIM(gone); i++) {
		struct arena *a = &t->arenas[i];

		if (a->state != ARENA_LIVE || a->nused != 0)
			continue;
		if (a->idle_ns == UINT64_MAX) {
			a->idle_ns = now;
			continue;
		}
		/* Left a second to the creator that asked for it (or to the next region). */
		if (now - a->idle_ns < 1000000000ull)
			continue;
		arena_detach_locked(a, &gone[n++]);
	}
	table_unlock();
	for (k = 0; k < n; k++)
		arena_gone_free(&gone[k]);
}

/* Take an arena out of the table; its memzone is for the caller to free, after the lock. */
static void
arena_detach_locked(struct arena *a, struct arena_gone *gone)
{
	gone->mz = a->mz;
	gone->idx = (uint32_t)(a - tbl()->arenas);
	gone->seq = a->seq;
	RZ_LOG(DEBUG, "arena %s: freed", a->name);
	memset(a, 0, sizeof(*a));
}

void
arena_gone_free(const struct arena_gone *gone)
{
	const struct remote_ops *ro = remote_active();

	/* The registration goes before the memory: no MR of this process outlives it. */
	if (ro != NULL)
		ro->arena_freed(gone->idx, gone->seq);
	rte_memzone_free(gone->mz);
}

void
arena_defer_free_locked(const struct arena_gone *gone)
{
	pthread_mutex_lock(&deferred.lock);
	/* One entry per arena slot at most: no arena is made between a release and its
	 * flush by the same caller. */
	RTE_VERIFY(deferred.n < RZ_MAX_ARENAS);
	deferred.gone[deferred.n++] = *gone;
	pthread_mutex_unlock(&deferred.lock);
}

void
arena_orphan_locked(const char *name)
{
	pthread_mutex_lock(&deferred.lock);
	if (deferred.norphans < RZ_MAX_ARENAS)
		snprintf(deferred.orphans[deferred.norphans++], RTE_MEMZONE_NAMESIZE, "%s",
				name);
	pthread_mutex_unlock(&deferred.lock);
}

void
arena_flush(void)
{
	char name[RTE_MEMZONE_NAMESIZE];
	struct arena_gone g;

	for (;;) {
		const struct rte_memzone *mz;

		pthread_mutex_lock(&deferred.lock);
		/* Only the primary calls into DPDK's allocator (see arena_reserve()). */
		if (deferred.norphans == 0 || !local_proc.primary) {
			pthread_mutex_unlock(&deferred.lock);
			break;
		}
		memcpy(name, deferred.orphans[--deferred.norphans], sizeof(name));
		pthread_mutex_unlock(&deferred.lock);
		mz = rte_memzone_lookup(name);
		if (mz != NULL) {
			RZ_LOG(NOTICE, "memzone %s: reserved by a process killed before it "
					"recorded it: freed", name);
			rte_memzone_free(mz);
		}
	}
	for (;;) {
		pthread_mutex_lock(&deferred.lock);
		if (deferred.n == 0) {
			pthread_mutex_unlock(&deferred.lock);
			return;
		}
		g = deferred.gone[--deferred.n];
		pthread_mutex_unlock(&deferred.lock);
		arena_gone_free(&g);
	}
}

/* Would releasing these pages leave the arena to be freed (DPDK then zeroes all of it)? */
static bool
arena_goes_locked(const struct arena *a, uint32_t npages)
{
	struct rz_table *t = tbl();
	uint32_t i;

	if (a->nused != npages || !local_proc.primary)
		return false;	/* a secondary leaves an empty arena to the primary's trim */
	if (a->npages != RZ_ARENA_PAGES)
		return true;
	/* An empty shared arena stays as the node's spare unless there is one already. */
	for (i = 0; i < RZ_MAX_ARENAS; i++) {
		const struct arena *o = &t->arenas[i];

		if (o != a && o->state == ARENA_LIVE && o->socket == a->socket &&
				o->npages == RZ_ARENA_PAGES && o->nused == 0)
			return true;
	}
	return false;
}

bool
arena_zeroes_locked(uint32_t arena, uint32_t npages)
{
	return arena_goes_locked(&tbl()->arenas[arena], npages);
}

bool
arena_release_locked(uint32_t arena, uint32_t first_page, uint32_t npages,
		struct arena_gone *gone)
{
	struct arena *a = &tbl()->arenas[arena];
	bool goes = arena_goes_locked(a, npages);

	a->used_mask &= ~(run_mask(npages) << first_page);
	a->nused -= npages;
	if (a->nused == 0)
		a->idle_ns = mono_time_ns();
	if (goes)
		arena_detach_locked(a, gone);
	return goes;
}

void
region_free_all_locked(void)
{
	struct rz_table *t = tbl();
	uint32_t i;

	for (i = 0; i < RZ_MAX_REGIONS; i++)
		if (t->regions[i].state == REGION_LIVE)
			region_free_locked(&t->regions[i]);
	for (i = 0; i < RZ_MAX_ARENAS; i++) {
		struct arena_gone gone;

		if (t->arenas[i].state != ARENA_LIVE)
			continue;
		arena_detach_locked(&t->arenas[i], &gone);
		arena_defer_free_locked(&gone);
	}
}
