/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_MP_PRIVATE_H
#define RZ_MP_PRIVATE_H

#include <stdint.h>

#include "mp_msg.h"

/* What a request addressed to this process does (lib/mapping registers it): 0 or -errno for
 * the reply; *@addr: the mapped address for a MAP. Runs in the control thread, takes the table
 * lock itself. */
typedef int mp_serve_fn(const struct rz_mp_msg *m, uint64_t *addr);
/* Periodic work of the control thread (lib/init registers the reaper), every 200 ms. */
typedef void mp_tick_fn(void);
void mp_set_server(mp_serve_fn *fn);
void mp_set_tick(mp_tick_fn *fn);

/* Start the control thread (serves the requests of this process's mailbox, reaps dead
 * processes). After proc_register(): the mailbox is the one of this process's slot. */
int mp_start(void);
void mp_stop(void);

/* Ask process slot @target to map / unmap a region on our behalf. Waits for the answer, at most
 * 2 s (the deadline); any thread, without the table lock. 0 or the target's -errno; -ETIMEDOUT
 * (no answer: the table says it did not happen); -ESRCH (the target is dead or gone); -EBUSY
 * (64 requests of this process in flight, or 16 to this target); -EPROTO (a malformed answer). */
int mp_remote_map(uint32_t target, uint64_t region_id, void *vaddr, uint32_t perms);
int mp_remote_unmap(uint32_t target, uint64_t region_id);
/* Secondary: ask the primary to reserve an arena of @npages hugepages on @socket (it alone
 * calls DPDK's allocator: DPDK's memory locks are not robust, a secondary killed inside
 * rte_memzone_reserve() would wedge the instance). 0 once the arena is in the table; -EHOSTDOWN
 * at once without a live primary; otherwise as mp_remote_map(). */
int mp_remote_arena(int socket, uint32_t npages);

#endif /* RZ_MP_PRIVATE_H */
