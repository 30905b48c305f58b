/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_REGION_PRIVATE_H
#define RZ_REGION_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core_private.h"

/*
 * What a layer above is told when a region leaves the table (destroyed, freed by the reaper or
 * by the last process out). Called with the table lock held, before the id is cleared; it must
 * not take the table lock nor call into DPDK's allocator.
 */
struct region_listener {
	const char *name;
	void (*unlink_locked)(struct region_entry *e);
};
/* Register @l (static storage), once; 0 or -ENOSPC. Called from rz_init(). */
int region_listener_add(const struct region_listener *l);

/* Reap processes that died (lib/init registers it): destroy retries once after it when a
 * mapper looks busy. Returns how many were reaped. Called without the table lock. */
typedef unsigned int region_reap_fn(void);
void region_set_reaper(region_reap_fn *fn);

/* Release a region whose last user is gone (owner died or left, nobody maps it). Table lock
 * held; the memory is zeroed and returned to its arena. */
void region_free_locked(struct region_entry *e);

/* Pass ownership to the oldest remaining mapper other than @leaving, or free the region.
 * Table lock held. */
void region_owner_leaves_locked(struct region_entry *e, uint32_t leaving);

/* Free every region and arena (primary, last process out). Table lock held. */
void region_free_all_locked(void);

/* grants.c: remote grants held by a region's owner (lib/rdma calls these; lower layers read
 * region_entry.rgrants and .leaving under the table lock). */
/* -EBUSY (logged: no @what now) while the owner of @e revokes its remote grants before a
 * destroy or transfer (e->leaving), else 0. Table lock held. */
int region_busy_locked(const struct region_entry *e, const char *what);
/* The calling process is about to bind a remote grant on region @region_id: count it. 0;
 * -ENOENT (no such region), -EPERM (the caller is not the owner), -EBUSY (leaving). Takes the
 * table lock: call it with the RDMA lock held, before the grant is bound. */
int region_grant_hold(uint64_t region_id);
/* A grant counted by region_grant_hold() is gone (revoked, or its bind failed). */
void region_grant_release(uint64_t region_id);
/* The owner's count of remote grants on @region_id (lock-free read), or -ENOENT. */
int region_remote_grants(uint64_t region_id);

/* pins.c: local users of a region (a packet pool, a packet channel) keep it from being
 * destroyed or transferred by this process. region_pin(): 0, -EINVAL / -ENOENT (no such
 * region), -ENODEV; takes the table lock. region_unpin() undoes one pin. @what names the
 * user in the log (static storage). */
int region_pin(const struct rz_region *r, const char *what);
void region_unpin(const struct rz_region *r);
/* -EBUSY (logged: no @op now) if this process pins @e, else 0. Table lock held. */
int region_pinned_locked(const struct region_entry *e, const char *op);

/* Arena memzones. */
/* Carve @npages from an arena of @socket: 0, or -EAGAIN with *@grow = the size of the arena
 * to make (drop the lock, arena_grow(socket, *grow), try again). */
int arena_alloc_locked(int socket, uint32_t npages, uint32_t *arena, uint32_t *first_page,
		uint32_t *grow);
/* Without the table lock: a new empty arena of @npages on @socket in the table. The primary
 * reserves it (arena_reserve()); a secondary asks the primary (lib/mp). 0 or -ENOMEM,
 * -ENOSPC, -ESRCH (no primary), -ETIMEDOUT. */
int arena_grow(int socket, uint32_t npages);
/* Primary only, without the table lock: reserve the memzone, record the arena. */
int arena_reserve(int socket, uint32_t npages);
/* Primary only, without the table lock (its control thread, every tick): free the arenas
 * that have been empty for a second, but one spare shared arena per node. */
void arena_trim(void);

/* An arena that left the table; its memzone is still reserved. */
struct arena_gone {
	const struct rte_memzone *mz;
	uint32_t idx;
	uint64_t seq;
};
/* Give pages back. true when the arena went with them (*@gone filled): the caller frees it with
 * arena_gone_free() once the table lock is released, or hands it to arena_defer_free_locked(). */
bool arena_release_locked(uint32_t arena, uint32_t first_page, uint32_t npages,
		struct arena_gone *gone);
/* Without the table lock: tell the RDMA module (its registration of the arena goes), then
 * rte_memzone_free() (which zeroes the memory). */
void arena_gone_free(const struct arena_gone *gone);
/* Table lock held: free @gone at the next arena_flush() of this process. */
void arena_defer_free_locked(const struct arena_gone *gone);
/* Without the table lock: free what arena_defer_free_locked() kept. Callers of the _locked
 * functions that free regions (region_free_locked, region_owner_leaves_locked,
 * region_free_all_locked) call it once they have released the table lock. */
void arena_flush(void);
/* Table lock held: memzone @name was reserved by a process that died before it recorded it;
 * arena_flush() looks it up and frees it. */
void arena_orphan_locked(const char *name);
/* Would releasing @npages (all the arena's used pages) free the arena? */
bool arena_zeroes_locked(uint32_t arena, uint32_t npages);

/* Intent records of pages being zeroed outside the lock (lib/region/repair.c). Table lock
 * held. add returns NULL when all RZ_MAX_INTENTS records are in use. */
struct zero_intent *zero_intent_add_locked(uint32_t arena, uint32_t first_page, uint32_t npages);
void zero_intent_clear_locked(struct zero_intent *zi);
/* Process slot @slot is gone: zero and release the pages it was zeroing. */
void zero_intents_finish_locked(uint32_t slot);
/* Restore the table's invariants after a lock holder died in the middle of an update (the
 * table_lock() repair hook, registered by region_repair_init()). Table lock held. */
void region_repair_locked(void);
/* The same scan, fixing nothing, of an observer's private copy of the table (no lock). */
unsigned int region_check_copy(FILE *f);
void region_repair_init(void);

#endif /* RZ_REGION_PRIVATE_H */
