/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_REGION_PRIVATE_H
#define RZ_REGION_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "core_private.h"

/* Release a region whose last user is gone (owner died or left, nobody maps it). Table lock
 * held; the memory is zeroed and returned to its arena. */
void region_free_locked(struct region_entry *e);

/* Pass ownership to the oldest remaining mapper other than @leaving, or free the region.
 * Table lock held. */
void region_owner_leaves_locked(struct region_entry *e, uint32_t leaving);

/* Free every region and arena (primary, last process out). Table lock held. */
void region_free_all_locked(void);

/* Arena memzones. */
int arena_alloc_locked(int socket, uint32_t npages, uint32_t *arena, uint32_t *first_page);
/* Give pages back. Returns the arena's memzone when the arena went with them: the caller frees
 * it (rte_memzone_free(), which zeroes it) once the table lock is released. */
const struct rte_memzone *arena_release_locked(uint32_t arena, uint32_t first_page,
		uint32_t npages);
/* Would releasing @npages (all the arena's used pages) free the arena? */
bool arena_zeroes_locked(uint32_t arena, uint32_t npages);

#endif /* RZ_REGION_PRIVATE_H */
