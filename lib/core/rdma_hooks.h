/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_RDMA_HOOKS_H
#define RZ_RDMA_HOOKS_H

/* What the local core tells the RDMA module (lib/rdma), and asks of it. */

#include <stdbool.h>
#include <stdint.h>

/* Has this process called rz_rdma_init()? */
bool rdma_initialized(void);
/* Revoke every remote grant of a region made by this process; returns how many. */
int rdma_revoke_region(uint64_t region_id);
/* An arena's memzone is being freed (table lock held): drop its registration. */
void rdma_arena_released(uint32_t arena_idx);

#endif /* RZ_RDMA_HOOKS_H */
