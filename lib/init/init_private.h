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

#endif /* RZ_INIT_PRIVATE_H */
