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

/* Take a process slot for the caller; reaps a stale slot of the same pid first. Locked inside. */
int proc_register(void);

/* Slot of a live attached pid (RZ_PID_SELF: own), lock-free; -ESRCH if none. */
int proc_slot_of(pid_t pid);

/* Is the process in @slot still the one that attached (alive, same start time)? */
bool proc_alive(uint32_t slot);

/* Everything a leaving process holds is released: mappings, capabilities, ownership.
 * Called with the table lock held; @self_leaving: the caller is that process (undo its own
 * page protections too). */
void proc_release_locked(uint32_t slot, bool self_leaving);

/* Find processes that died without rz_fini() and release them. Takes the lock if needed. */
unsigned int proc_reap_dead(void);

/* Close the pidfds proc_alive() keeps (rz_fini). */
void proc_forget_pidfds(void);

/* Pid of a slot (for logs and dumps). */
pid_t proc_pid(uint32_t slot);

#endif /* RZ_PROC_PRIVATE_H */
