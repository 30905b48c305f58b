/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_INIT_PRIVATE_H
#define RZ_INIT_PRIVATE_H

/*
 * The top of the local layers: rz_init() / rz_fini() (init.c), and what a process holds is
 * released when it leaves or dies (reap.c). It may call every local module; none calls it
 * except through the functions it registers (mp's periodic tick, region's reaper).
 */

#include <stdbool.h>
#include <stdint.h>

/* Everything process slot @slot holds is released (mappings, capabilities aimed at it,
 * ownership), then the slot is freed. Table lock held; @self_leaving: the caller is that
 * process (it undoes its own page protections too). The caller runs arena_flush() after
 * unlocking. */
void proc_release_locked(uint32_t slot, bool self_leaving);

/* Find processes that died without rz_fini() and release them. Takes the lock if needed.
 * Returns how many were reaped. */
unsigned int proc_reap_dead(void);

/* Take a process slot for the caller; an earlier life of the same pid that was never reaped is
 * released first. */
int proc_register(void);

/* param.c: the parameter of /rzone/region, a region id as strtoull() with base 0 reads it (the
 * whole string; as strtoull(), a leading '-' negates and an out-of-range number reads as
 * UINT64_MAX: such ids match no region). 0 and *@id, or -EINVAL (NULL, empty, trailing
 * bytes). Pure C, no log. */
int tel_region_param(const char *params, uint64_t *id);

#endif /* RZ_INIT_PRIVATE_H */
