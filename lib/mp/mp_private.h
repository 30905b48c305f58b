/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_MP_PRIVATE_H
#define RZ_MP_PRIVATE_H

#include <stdint.h>

#include "mp_msg.h"

/* Start the control thread (serves IPC requests, reaps dead processes) and the IPC action. */
int mp_start(void);
void mp_stop(void);

/* Ask process slot @target to map / unmap a region on our behalf. Waits for the answer.
 * Must be called without the table lock. */
int mp_remote_map(uint32_t target, uint64_t region_id, void *vaddr, uint32_t perms);
int mp_remote_unmap(uint32_t target, uint64_t region_id);

#endif /* RZ_MP_PRIVATE_H */
