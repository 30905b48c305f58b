/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_MAPPING_PRIVATE_H
#define RZ_MAPPING_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "core_private.h"

/* Register what this layer does for the ones below: serve other processes' map requests (mp),
 * undo this process's mapping of a region that leaves the table (region). From rz_init(). */
int mapping_init(void);

/* What lib/capability is told when a mapping made by capability @cap_slot goes away. Called
 * with the table lock held. */
typedef void mapping_cap_gone_fn(uint32_t cap_slot);
void mapping_set_cap_gone(mapping_cap_gone_fn *fn);

/* -EPERM (logged) while a remote peer owns region @id: only it may be granted anything, no
 * @what. 0 otherwise. Without the table lock. */
int remote_owner_check(uint64_t id, const char *what);

/*
 * Map / unmap in the calling process, on behalf of process slot @requester (the caller itself,
 * or the owner that asked over IPC). Take the table lock themselves. @deadline_ns: 0, or the
 * CLOCK_MONOTONIC time after which the request is refused with -ETIMEDOUT (checked under the
 * lock, so a requester that gave up can read the outcome from the table). @cap_slot: RZ_NO_SLOT,
 * or the capability whose use this is (its checks were done by the caller, under the lock).
 */
int map_local(uint64_t region_id, uint32_t requester, void *vaddr, uint32_t perms,
		uint64_t deadline_ns);
int unmap_local(uint64_t region_id, uint32_t requester, uint64_t deadline_ns);

/* With the table lock held: map in this process (checks done by caller). */
int map_self_locked(struct region_entry *e, void *vaddr, uint32_t perms, uint32_t flags,
		uint32_t cap_slot);
/* With the table lock held: undo this process's own mapping (munmap / mprotect back). */
void unmap_self_locked(struct region_entry *e);
/* With the table lock held: forget slot's mapping record (process gone, or undone remotely). */
void mapping_clear_locked(struct region_entry *e, uint32_t slot);

/* Checks shared by local and remote map: returns 0 or -errno, logs the reason. */
int map_check_locked(const struct region_entry *e, uint32_t requester, uint32_t target,
		void *vaddr, uint32_t perms, bool by_cap);

#endif /* RZ_MAPPING_PRIVATE_H */
