/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZONE_OBSERVE_H
#define RZONE_OBSERVE_H

/**
 * @file
 * Observing a running rzone instance (what rzone-info does): a DPDK secondary that never calls
 * rz_init() opens the instance's shared table read-only with rz_observe_open(), without taking
 * a process slot: the instance does not know it is there, and its death changes nothing. Each
 * rz_info_write() copies the table without its lock (a copy is kept only if no process held the
 * lock while it was taken, so that the observer never holds a lock a killed observer could
 * leave behind) and prints the copy. The audit trail (every grant, revoke, capability, transfer,
 * destroy and reap of the instance) is read with rz_audit_write().
 *
 * @defgroup rzone_observe Observers and the audit trail
 * @{
 */

#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/** rz_info_write(), rz_audit_write(): one JSON document (doc/rzone-info.md) instead of text. */
#define RZ_INFO_F_JSON (1u << 0)

/**
 * Open the instance this DPDK process belongs to as an observer: look up the shared table and
 * the audit ring, check they were made by a compatible build. Takes no process slot, no lock,
 * and writes nothing to shared memory. Call it after rte_eal_init() (as a secondary) instead of
 * rz_init().
 *
 * @return
 *   0; -EALREADY (already open); -EBUSY (this process called rz_init()); -EINVAL (the EAL is
 *   not initialised); -ENOENT (no rzone table: the primary has not called rz_init()); -EPROTO
 *   (made by an incompatible rzone build); -ENOMEM (no memory for the copy of the table).
 */
int rz_observe_open(void);

/**
 * Close what rz_observe_open() opened (the copy of the table is freed).
 *
 * @return
 *   0, or -ENODEV (not open).
 */
int rz_observe_close(void);

/**
 * Print the instance: processes (pid, type, start time, liveness), hugepages and arenas per
 * NUMA node, regions (id, size, node, owner, ceiling, arena and pages, mappings per process,
 * outstanding capabilities), the RDMA state each process publishes (device, peers, live grants)
 * and what is wrong with it (the findings of rz_check() on the copy, regions owned by dead
 * processes, processes dead but not released, an instance without a live primary).
 *
 * @param f
 *   Output stream.
 * @param region_id
 *   Only this region (0: all of them, with processes, nodes and RDMA state).
 * @param flags
 *   0 (text) or RZ_INFO_F_JSON.
 * @return
 *   The number of problems found (0: healthy); -EINVAL (NULL @p f, unknown flags); -ENODEV
 *   (rz_observe_open() not called); -ENOENT (no region @p region_id); -EAGAIN (the table was
 *   being written during every one of the copies tried, for about a second).
 */
int rz_info_write(FILE *f, uint64_t region_id, uint32_t flags);

/**
 * Print the audit trail: the records still in the ring, oldest first, with how many were
 * written in all and how many are gone (overwritten, or lost by a writer).
 *
 * @param f
 *   Output stream.
 * @param max
 *   At most this many of the newest records (0: all there are).
 * @param flags
 *   0 (text) or RZ_INFO_F_JSON.
 * @return
 *   The number of records printed; -EINVAL (NULL @p f, unknown flags); -ENODEV (neither
 *   rz_observe_open() nor rz_init() called).
 */
int rz_audit_write(FILE *f, unsigned int max, uint32_t flags);

/**
 * Mirror the audit records this process writes to the log (lib.rzone, INFO) or stop doing so.
 * By default they are mirrored when the environment variable RZ_AUDIT_LOG is set to a value
 * other than 0.
 *
 * @param enable
 *   1: mirror, 0: do not, -1: only ask.
 * @return
 *   1 if it mirrored before the call, 0 if not.
 */
int rz_audit_log(int enable);

#ifdef __cplusplus
}
#endif

/** @} */

#endif /* RZONE_OBSERVE_H */
