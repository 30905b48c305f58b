/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_PROC_PRIVATE_H
#define RZ_PROC_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Start time of a pid in clock ticks since boot (/proc/<pid>/stat field 22), 0 if none. */
uint64_t proc_start_time(pid_t pid);

/* Table lock held: the slot a live entry of @pid holds (an earlier life of that pid that was
 * never reaped), or -1. */
int proc_stale_slot_locked(pid_t pid);

/* Table lock held: take a free slot for the caller (local_proc.pid, @start_time); sets
 * local_proc.self and self_gen. 0 or -ENOSPC. */
int proc_claim_locked(uint64_t start_time);

/* Table lock held: the slot is free again (what it held was released by the caller). */
void proc_free_locked(uint32_t slot);

/* Slot of a live attached pid (RZ_PID_SELF: own), lock-free; -ESRCH if none. */
int proc_slot_of(pid_t pid);

/* Is the process in @slot still the one that attached (alive, same start time)? */
bool proc_alive(uint32_t slot);

/* Close the pidfds proc_alive() keeps (rz_fini). */
void proc_forget_pidfds(void);

/* Pid of a slot (for logs and dumps). */
pid_t proc_pid(uint32_t slot);

#endif /* RZ_PROC_PRIVATE_H */
