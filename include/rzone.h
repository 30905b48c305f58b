/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZONE_H
#define RZONE_H

/**
 * @file
 * rzone: shared memory regions for DPDK applications.
 *
 * A region is hugepage memory (carved from NUMA-local DPDK memzones) that every process of one
 * DPDK instance (primary and secondaries) sees at the same address. A region has an owner (one
 * process of the instance), a permission ceiling that nothing may exceed, and at most one
 * mapping per process. Ownership can be transferred; capabilities (random 64-bit tokens) let one
 * named process map the region with the rights of a transfer mode.
 *
 * Processes are named by their OS pid. A pid names the DPDK process that called rz_init() with
 * it; rzone checks the process start time, so a reused pid never inherits a dead process's
 * mappings, ownership or capabilities. Processes that die without calling rz_fini() are reaped
 * by rzone within one second.
 *
 * Errors: functions returning int return 0 (or a non-negative count) on success and a negative
 * errno value on failure; functions returning a pointer return NULL and set rte_errno.
 *
 * Every function is thread-safe and may be called from any thread of any process of the
 * instance once rz_init() has returned 0 in that process.
 *
 * The functions come in groups, one manual page each: rzone_processes(3), rzone_regions(3),
 * rzone_mappings(3), rzone_capabilities(3), rzone_stats(3); with the RDMA module,
 * rzone_rdma.h(3) and its groups. Each function has a page of its name that shows its group's.
 */

/**
 * @defgroup rzone_processes Processes: attach, detach, who is attached
 *
 * @details
 * rz_init() in every process of the DPDK instance after rte_eal_init(), the primary first;
 * rz_fini() before rte_eal_cleanup(). A process is named by its OS pid (RZ_PID_SELF is the
 * caller); a process that dies without rz_fini() is reaped within one second, and its regions
 * pass to the process that has mapped them the longest (or are destroyed if nobody maps them).
 *
 * @code
 * #include <rzone.h>	// cc app.c $(pkg-config --cflags --libs librzone)
 * @endcode
 */

/**
 * @defgroup rzone_regions Regions: create, describe, find, hand over, destroy
 *
 * @details
 * A region is hugepage memory on one NUMA node, at the same address in every process of the
 * instance, with an owner and a permission ceiling. Its handle is valid in every process until
 * the region is destroyed; its id names it in any process.
 *
 * @code
 * #include <rzone.h>	// cc app.c $(pkg-config --cflags --libs librzone)
 * @endcode
 */

/**
 * @defgroup rzone_mappings Mappings: map, unmap, look up a process's mapping
 *
 * @details
 * A process holds at most one mapping of a region, at the region's DPDK address (protected to
 * the mapping's permissions) or as a view at an address of its choice. Only the owner maps:
 * itself or another process (over DPDK IPC); the others use a capability. A peer id (with
 * the RDMA module) stands for a remote peer.
 *
 * @code
 * #include <rzone.h>	// cc app.c $(pkg-config --cflags --libs librzone)
 * @endcode
 */

/**
 * @defgroup rzone_capabilities Capabilities: tokens to map a region
 *
 * @details
 * A capability is a random, unguessable 64-bit token made by the owner for one target process
 * (or remote peer), with the rights of a transfer mode; the target maps the region with it once.
 *
 * @code
 * #include <rzone.h>	// cc app.c $(pkg-config --cflags --libs librzone)
 * @endcode
 */

/**
 * @defgroup rzone_stats Statistics and dumps
 *
 * @details
 * Counters of the whole instance and human-readable dumps of a region, of the attached
 * processes and of everything (see also the telemetry commands under /rzone/).
 *
 * @code
 * #include <rzone.h>	// cc app.c $(pkg-config --cflags --libs librzone)
 * @endcode
 */

#include <stdint.h>
#include <stdio.h>
#include <stddef.h>
#include <sys/types.h>

#include <rte_memory.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @addtogroup rzone_regions
 * @{
 */

/** Read access. */
#define RZ_PERM_READ  (1u << 0)
/** Write access. */
#define RZ_PERM_WRITE (1u << 1)
/** Execute access. */
#define RZ_PERM_EXEC  (1u << 2)
/** Read and write. */
#define RZ_PERM_RW    (RZ_PERM_READ | RZ_PERM_WRITE)
/** Every permission bit rzone knows. */
#define RZ_PERM_ALL   (RZ_PERM_READ | RZ_PERM_WRITE | RZ_PERM_EXEC)

/** Any NUMA node (with rz_region_create_with_policy()). */
#define RZ_NUMA_ANY (-1)

/** @} */

/**
 * The calling process, wherever a pid is expected.
 * @ingroup rzone_processes
 */
#define RZ_PID_SELF ((pid_t)0)

/**
 * First peer id. Ids from RZ_PEER_ID_BASE to RZ_PEER_ID_MAX name remote RDMA peers
 * (rz_peer_id() in rzone_rdma.h), not processes: Linux never gives out a pid above pid_max,
 * which is at most 2^22, so a peer id can never be an OS pid. A peer id is valid in the process
 * that holds the peer's connection, from rz_peer_accept() / rz_peer_connect() until
 * rz_peer_close(), and is never reused by that process. The seed calls that take a pid
 * (rz_region_map(), rz_region_unmap(), rz_region_get_mapping(), rz_region_get_mapping_perms(),
 * rz_region_transfer_ownership(), rz_region_create_capability()) accept one: see doc/guide.md,
 * "Peers".
 *
 * @ingroup rzone_mappings
 */
#define RZ_PEER_ID_BASE ((pid_t)0x40000000)
/**
 * Last peer id.
 * @ingroup rzone_mappings
 */
#define RZ_PEER_ID_MAX ((pid_t)0x7fffffff)

/**
 * Cache policy of a region's memory (see doc/guide.md, "Cache policies").
 * @ingroup rzone_regions
 */
enum rz_cache_policy {
	/** Normal cacheable memory: the only policy userspace can honour. */
	RZ_CACHE_WRITE_BACK = 0,
	/** Refused with -ENOTSUP: needs kernel PAT control. */
	RZ_CACHE_WRITE_THROUGH,
	/** Refused with -ENOTSUP: needs kernel PAT control. */
	RZ_CACHE_UNCACHED,
	/** Refused with -ENOTSUP: needs kernel PAT control. */
	RZ_CACHE_WRITE_COMBINING,
};

/**
 * What a capability gives its target.
 * @ingroup rzone_capabilities
 */
enum rz_transfer_mode {
	/** Read/write mapping, and the target becomes the owner when it uses the token. */
	RZ_MODE_MOVE = 0,
	/** Read/write mapping. */
	RZ_MODE_SHARE,
	/** Read-only mapping. */
	RZ_MODE_COPY_ON_WRITE,
};

/**
 * A run of IOVA-contiguous memory inside a region.
 * @ingroup rzone_regions
 */
struct rz_iova_chunk {
	rte_iova_t iova;  /**< IOVA of the first byte. */
	size_t len;       /**< Length in bytes. */
	size_t offset;    /**< Offset of the first byte from the start of the region. */
};

/**
 * A region handle. It names one region for ever: the same handle value is valid in every
 * process of the instance (it may be passed between them, as may the region id), and once the
 * region is destroyed every call with it fails with -ENOENT (getters: their error value with
 * rte_errno ENOENT), whatever region has been created since. A value that was never a handle
 * (NULL, or no region ever had it) gives -EINVAL. Handles are opaque, not pointers to memory:
 * use the accessors.
 *
 * @ingroup rzone_regions
 */
struct rz_region;

/**
 * Attach rzone to the running DPDK instance. Call after rte_eal_init(), once per process. The
 * primary process creates the shared region table; a secondary attaches to it. Each process
 * gets a process slot and a control thread that serves map/unmap requests from other processes
 * and reaps dead processes.
 *
 * @return
 *   0 on success;
 *   -EALREADY if this process already called rz_init();
 *   -EBUSY if this process is an observer (rz_observe_open(), include/rzone_observe.h);
 *   -ENOENT in a secondary whose primary has not called rz_init();
 *   -ENOSPC if RZ_MAX_PROCS processes are already attached;
 *   -EPROTO if the shared table was made by an incompatible rzone build;
 *   -ENOMEM if the shared table (or the control thread's queue) cannot be allocated;
 *   -EINVAL if the EAL is not initialised, or runs without hugepages (--no-huge);
 *   -ENOTSUP if the EAL has no multi-process IPC (--no-shconf, --in-memory);
 *   -EIO if /proc/self/stat cannot be read;
 *   -EAGAIN if the control thread cannot be started.
 *
 * @ingroup rzone_processes
 */
int rz_init(void);

/**
 * Detach this process: every mapping it holds is unmapped, capabilities aimed at it are
 * dropped, regions it owns pass to their longest-standing mapper or are destroyed if nobody
 * maps them (the same rules as for a process that dies). In the primary, when no other process
 * is attached, all remaining regions and the table itself are freed.
 *
 * Before anything else, if rz_rdma_init() was called: rz_rdma_fini(), so every remote grant
 * of this process is revoked (its invalidation completed) before the regions it owned pass to
 * another process or are freed (doc/guide.md, "Remote grants and ownership").
 *
 * @return
 *   0 on success;
 *   -ENODEV if rz_init() was not called;
 *   -EIO if the instance's lock cannot be taken (nothing is released).
 *
 * @ingroup rzone_processes
 */
int rz_fini(void);

/**
 * Create a region owned by @p owner (seed: new). The memory comes from hugepages on the NUMA
 * node nearest to the RDMA device when rz_rdma_init() was called (hwloc), else on the node of
 * the calling lcore; it is rounded up to a whole number of hugepages, and zeroed.
 *
 * @param owner
 *   RZ_PID_SELF or the caller's own pid: a process can only create regions it owns.
 * @param size
 *   Size in bytes, > 0; rounded up to the hugepage size.
 * @param perms
 *   Permission ceiling (RZ_PERM_* bits, at least RZ_PERM_READ): no mapping or capability of this
 *   region will ever exceed it.
 * @return
 *   The region handle, or NULL with rte_errno set to:
 *   EINVAL (size 0, perms empty, unknown bits or without READ);
 *   ESRCH (owner is not an attached process); EPERM (owner is another process);
 *   ENOMEM (not enough free hugepages on the node; the log names the node and the pages missing;
 *   or a size larger than any hugepage pool);
 *   ENOSPC (region table full, or every arena slot in use); ENODEV (rz_init() not called);
 *   EHOSTDOWN (a secondary's region needs a new arena and no primary is alive to reserve it:
 *   only the primary reserves memzones; the call fails at once, nothing changed).
 *
 * @ingroup rzone_regions
 */
struct rz_region *rz_region_create(pid_t owner, size_t size, uint32_t perms);

/**
 * Create a region with a cache policy on a NUMA node (seed: new_with_policy). The ceiling is
 * RZ_PERM_RW.
 *
 * @param owner
 *   RZ_PID_SELF or the caller's pid.
 * @param size
 *   Size in bytes, > 0.
 * @param policy
 *   Cache policy: only RZ_CACHE_WRITE_BACK can be honoured in userspace.
 * @param numa_node
 *   A NUMA node known to the EAL, or RZ_NUMA_ANY.
 * @return
 *   The region handle, or NULL with rte_errno set to the errors of rz_region_create() plus:
 *   ENOTSUP (a policy other than write-back); EINVAL (unknown policy, node out of range).
 *
 * @ingroup rzone_regions
 */
struct rz_region *rz_region_create_with_policy(pid_t owner, size_t size,
		enum rz_cache_policy policy, int numa_node);

/**
 * Create a region on a given NUMA node (seed: new_numa).
 *
 * @param owner
 *   RZ_PID_SELF or the caller's pid.
 * @param size
 *   Size in bytes, > 0.
 * @param perms
 *   Permission ceiling, as for rz_region_create().
 * @param numa_node
 *   A NUMA node known to the EAL.
 * @return
 *   The region handle, or NULL with rte_errno set to the errors of rz_region_create() plus
 *   EINVAL (node out of range).
 *
 * @ingroup rzone_regions
 */
struct rz_region *rz_region_create_numa(pid_t owner, size_t size, uint32_t perms,
		int numa_node);

/**
 * Destroy a region. Only its owner may; the owner's own mapping, if any, is unmapped; the
 * outstanding capabilities, local and remote (RDMA grants), are revoked; the memory is zeroed
 * and returned to its arena.
 *
 * The checks come first (a destroy that fails with -EBUSY revokes nothing); then the region is
 * marked as being destroyed, this process's remote grants on it are revoked and their
 * invalidation completed (without the table lock: this waits for the device), and the memory
 * is freed. While it is marked, other calls on the region (maps, unmaps, capability creation
 * and use, grants, transfers, destroys) fail with -EBUSY. An owner killed while the region is
 * marked: the kernel destroys its windows with its RDMA context, and the reaper frees the
 * region (nobody else maps it).
 *
 * @param r
 *   Region handle.
 * @return
 *   0 on success;
 *   -EINVAL (NULL or foreign handle); -ENOENT (region already destroyed);
 *   -EPERM (caller is not the owner); -EBUSY (another process still maps it, this process
 *   still uses it through a packet pool or an open packet channel consumer (rzone_pkt.h,
 *   rzone_pkt_remote.h: free or close that first), or the region is being destroyed or
 *   transferred by another thread: nothing changes, no grant is revoked);
 *   -EIO (a remote grant could be neither invalidated nor freed: the region is kept, and back
 *   to normal);
 *   -ENODEV (rz_init() not called).
 *
 * @ingroup rzone_regions
 */
int rz_region_destroy(struct rz_region *r);

/**
 * Find a region by id, from any process. O(1), takes no lock.
 *
 * @param id
 *   Region id.
 * @return
 *   The handle, or NULL with rte_errno set to ENOENT (no live region has this id) or ENODEV.
 *
 * @ingroup rzone_regions
 */
struct rz_region *rz_region_lookup(uint64_t id);

/**
 * Call @p cb for every live region. Takes no lock: regions created or destroyed meanwhile may or
 * may not be seen. Stops at the first non-zero return of @p cb.
 *
 * @param cb
 *   Callback; may call any rzone function.
 * @param arg
 *   Passed to @p cb.
 * @return
 *   0 if every region was visited, the first non-zero value @p cb returned, -EINVAL if @p cb is
 *   NULL, -ENODEV if rz_init() was not called.
 *
 * @ingroup rzone_regions
 */
int rz_region_walk(int (*cb)(struct rz_region *r, void *arg), void *arg);

/**
 * The id of a region.
 *
 * @param r
 *   Region handle.
 * @return
 *   The region id (unique in the instance, never reused, the same in every process), or 0 with
 *   rte_errno set to EINVAL (bad handle), ENOENT (destroyed) or ENODEV (rz_init() not
 *   called).
 *
 * @ingroup rzone_regions
 */
uint64_t rz_region_id(const struct rz_region *r);

/**
 * The size of a region.
 *
 * @param r
 *   Region handle.
 * @return
 *   The size in bytes (a multiple of the hugepage size), or 0 with rte_errno set to EINVAL,
 *   ENOENT or ENODEV, as rz_region_id().
 *
 * @ingroup rzone_regions
 */
size_t rz_region_size(const struct rz_region *r);

/**
 * The NUMA node of a region (seed: numa_node).
 *
 * @param r
 *   Region handle.
 * @return
 *   The NUMA node the pages really are on (read back from the kernel with libnuma at creation),
 *   or -EINVAL (bad handle) / -ENOENT (destroyed) / -ENODEV (rz_init() not called).
 *
 * @ingroup rzone_regions
 */
int rz_region_numa_node(const struct rz_region *r);

/**
 * The owner of a region. While a remote peer owns it, this is the proxy owner that keeps the
 * memory: see rz_rdma_region_owner().
 *
 * @param r
 *   Region handle.
 * @return
 *   The owner's pid, or -EINVAL (bad handle) / -ENOENT (destroyed) / -ENODEV (rz_init() not
 *   called).
 *
 * @ingroup rzone_regions
 */
pid_t rz_region_owner(const struct rz_region *r);

/**
 * The permission ceiling of a region.
 *
 * @param r
 *   Region handle.
 * @return
 *   The permission ceiling (RZ_PERM_* bits), or 0 with rte_errno set to EINVAL, ENOENT or
 *   ENODEV, as rz_region_id().
 *
 * @ingroup rzone_regions
 */
uint32_t rz_region_perms(const struct rz_region *r);

/**
 * The region at its DPDK shared address: the same in every process of the instance, whatever
 * views exist. Use it to pass pointers between processes; access rights are those of each
 * process's mapping.
 *
 * @param r
 *   Region handle.
 * @return
 *   The address, or NULL with rte_errno set to EINVAL, ENOENT or ENODEV, as rz_region_id().
 *
 * @ingroup rzone_regions
 */
void *rz_region_addr(const struct rz_region *r);

/**
 * IOVA of the region's first byte (seed: physical_base). Regions need not be IOVA-contiguous:
 * see rz_region_iova_chunks().
 *
 * @param r
 *   Region handle.
 * @return
 *   The IOVA, or RTE_BAD_IOVA with rte_errno set to EINVAL, ENOENT or ENODEV, as
 *   rz_region_id().
 *
 * @ingroup rzone_regions
 */
rte_iova_t rz_region_physical_base(const struct rz_region *r);

/**
 * The region as a list of IOVA-contiguous chunks, in address order.
 *
 * @param r
 *   Region handle.
 * @param chunks
 *   Array to fill; may be NULL when @p n is 0 (to count).
 * @param n
 *   Capacity of @p chunks.
 * @return
 *   The number of chunks the region has (which may exceed @p n: only @p n are written), or
 *   -EINVAL (bad handle, or NULL @p chunks with @p n > 0) / -ENOENT (destroyed) / -ENODEV.
 *
 * @ingroup rzone_regions
 */
int rz_region_iova_chunks(const struct rz_region *r, struct rz_iova_chunk *chunks,
		unsigned int n);

/**
 * Map a region into a process (seed: map). Only the owner maps: itself, or another process of
 * the instance, which rzone asks over DPDK multi-process IPC, waiting for its answer (at most
 * 2 s). Any other process gets a mapping from the owner, or maps itself with a capability
 * (rz_capability_map()).
 *
 * With @p virtual_base NULL the mapping is the region at its DPDK shared address, protected in
 * that process to @p perms. With a given @p virtual_base, rzone creates an extra view of the
 * same hugepages at that address with exactly @p perms; a write through a read-only view faults.
 *
 * With a peer id (RZ_PEER_ID_BASE.., rz_peer_id()) the owner grants that remote peer the whole
 * region: a memory window bound on the peer's QP with the rights of @p perms (READ: RDMA read;
 * WRITE: RDMA write and atomics), whose descriptor is sent to the peer before this returns.
 *
 * @param r
 *   Region handle.
 * @param process
 *   Pid of an attached process, RZ_PID_SELF, or the id of an open peer of this process.
 * @param virtual_base
 *   NULL, or a hugepage-aligned address where nothing is mapped yet. NULL for a peer (it
 *   accesses the region at its own address).
 * @param perms
 *   RZ_PERM_* bits, not empty, within the region's ceiling; no RZ_PERM_EXEC for a peer.
 * @return
 *   0 on success;
 *   -EINVAL (bad handle, empty or unknown perms, unaligned @p virtual_base; for a peer: a
 *   @p virtual_base, or RZ_PERM_EXEC);
 *   -ENOENT (region destroyed); -ESRCH (process unknown or dead, or no open peer has the id);
 *   -ENOTSUP (also: a peer id, but rzone was built without RDMA, -Drdma=disabled);
 *   -EPERM (perms above the ceiling, the caller is not the owner, or a remote peer owns the
 *   region and @p process is not that peer);
 *   -EEXIST (the process or peer already maps this region);
 *   -EADDRINUSE (the view would overlap an existing mapping of that process);
 *   -ENOTSUP (a view, but the EAL keeps no hugepage file behind the region);
 *   -ETIMEDOUT (the other process did not answer); -EBUSY (too many IPC requests of this
 *   process in flight, or the owner is destroying or transferring the region: see
 *   rz_region_destroy()); -ENOMEM (no memory for the view or the protection change); -ENODEV;
 *   for a peer also -ENOTCONN (disconnected), -ENOSPC (max_mr / max_mw reached), -EIO (the bind
 *   or the send of the descriptor failed), -EAGAIN (the peer has not taken its previous
 *   descriptor or message: it receives nothing; try again later).
 *   After a failure nothing is mapped or granted and the region is unchanged.
 *
 * @ingroup rzone_mappings
 */
int rz_region_map(struct rz_region *r, pid_t process, void *virtual_base, uint32_t perms);

/**
 * Unmap a region from a process (seed: unmap): the process itself, or the owner for another
 * process. A view is unmapped (munmap, which flushes the TLB); a mapping at the DPDK address
 * gets its default read/write protection back.
 *
 * With a peer id, the owner revokes everything that peer holds on the region (its mapping,
 * capabilities, rz_rdma_grant() windows); each window is invalidated and the invalidation has
 * completed when this returns. A peer that owned the region no longer does.
 *
 * @param r
 *   Region handle.
 * @param process
 *   Pid of an attached process, RZ_PID_SELF, or the id of an open peer of this process.
 * @return
 *   0 on success; -EINVAL; -ENOENT (region destroyed, or @p process does not map it: for a
 *   peer, holds nothing of it); -ESRCH (process unknown or dead, no open peer with this id);
 *   -ENOTSUP (a peer id, but rzone was built without RDMA);
 *   -EPERM (caller is neither @p process nor the owner); -ETIMEDOUT (the other process did not
 *   answer); -EBUSY (too many IPC requests of this process in flight, or the owner is
 *   destroying or transferring the region: a transfer waits for its new owner's mapping);
 *   -EIO (a peer's window could be neither invalidated nor freed); -ENODEV.
 *
 * @ingroup rzone_mappings
 */
int rz_region_unmap(struct rz_region *r, pid_t process);

/**
 * Address of a process's mapping of a region (seed: get_mapping). Takes no lock for a process;
 * for a peer it takes the RDMA module's lock.
 *
 * @param r
 *   Region handle.
 * @param process
 *   Pid, RZ_PID_SELF, or the id of an open peer of this process.
 * @return
 *   The address the process uses (its view, or the DPDK shared address); for a peer, the
 *   remote-visible address of its whole-region grant (by rz_region_map() or a capability).
 *   NULL with rte_errno set to ENOENT (no mapping, or region destroyed), ESRCH (process not
 *   attached, no open peer with this id), ENOTSUP (a peer id, but rzone was built without
 *   RDMA), EINVAL (bad handle) or ENODEV (rz_init() not called).
 *
 * @ingroup rzone_mappings
 */
void *rz_region_get_mapping(const struct rz_region *r, pid_t process);

/**
 * Permissions of a process's mapping.
 *
 * @param r
 *   Region handle.
 * @param process
 *   Pid, RZ_PID_SELF, or a peer id (its grant's rights: RDMA write and atomics read as
 *   RZ_PERM_WRITE).
 * @return
 *   RZ_PERM_* bits (> 0), or -EINVAL / -ENOENT / -ESRCH / -ENOTSUP / -ENODEV as
 *   rz_region_get_mapping().
 *
 * @ingroup rzone_mappings
 */
int rz_region_get_mapping_perms(const struct rz_region *r, pid_t process);

/**
 * Transfer ownership (seed: transfer_ownership). Only the owner may call it, only to a live
 * process that currently maps the region. The old owner keeps its mapping.
 *
 * Remote grants stay with the process that made them (the windows are its RDMA objects), so
 * ownership does not leave with them: after the checks, the caller's remote grants on the
 * region are revoked and their invalidation completed, then ownership passes. Meanwhile the
 * region is marked (other calls on it: -EBUSY, as for rz_region_destroy()); only the new
 * owner's death in that time makes the transfer fail after the revoke (-ESRCH).
 *
 * To a connected peer that maps the region: the peer's window is replaced by one with the
 * owner's rights (read + write + atomics within the ceiling, descriptor mode RZ_MODE_MOVE) and
 * the peer becomes the region's owner: while it is, nothing may be granted to anyone else
 * (-EPERM). The caller stays the proxy owner that keeps the memory alive: rz_region_owner()
 * still names it, rz_rdma_region_owner() names the peer. Ownership comes back when the peer's
 * window is revoked (rz_region_unmap(), rz_capability_revoke(), disconnection).
 *
 * @param r
 *   Region handle.
 * @param new_owner
 *   Pid of the new owner, or the id of an open peer of this process.
 * @return
 *   0 on success (also when the peer already owns it); -EINVAL (bad handle, or @p new_owner
 *   does not map the region); -ENOENT; -EPERM (caller is not the owner, or a remote peer owns
 *   the region); -ESRCH (new owner unknown or dead, no open peer with this id); -ENOTSUP (a
 *   peer id, but rzone was built without RDMA); -EBUSY (the region is being destroyed or
 *   transferred by another thread, or this process uses it through a packet pool or an open
 *   packet channel consumer); -EIO (a remote grant could be neither invalidated nor
 *   freed: not transferred); -ENODEV; for a
 *   peer also -ENOTCONN, -ENOSPC, -EIO, -ETIMEDOUT, -ENOMEM (the new window: nothing changed),
 *   -EAGAIN (as rz_region_map()).
 *
 * @ingroup rzone_regions
 */
int rz_region_transfer_ownership(struct rz_region *r, pid_t new_owner);

/**
 * Create a capability (seed: create_capability): a random, unguessable 64-bit token that lets
 * @p target, and only it, map the region once with rz_capability_map(), with the rights of
 * @p mode capped by the ceiling. Only the owner may create capabilities.
 *
 * For a peer target the capability is used at once: a whole-region window with the mode's
 * rights (Share: read + write + atomics; Copy-on-write: read; Move: read + write + atomics and
 * the peer becomes the owner, as with rz_region_transfer_ownership()) is bound on the peer's QP
 * and its descriptor sent; the token identifies that grant in this process, for
 * rz_capability_revoke().
 *
 * @param r
 *   Region handle.
 * @param target
 *   Pid of an attached process (not the caller), or the id of an open peer of this process.
 * @param mode
 *   Transfer mode.
 * @param token
 *   Where to store the token.
 * @return
 *   0 on success; -EINVAL (bad handle, NULL @p token, unknown mode, target is the caller);
 *   -ENOENT; -EPERM (caller not owner, the mode's rights do not fit the ceiling at all, or a
 *   remote peer owns the region and @p target is not that peer);
 *   -ESRCH (target unknown or dead, no open peer with this id); -ENOTSUP (a peer id, but rzone
 *   was built without RDMA); -EBUSY (the owner is destroying or transferring the region);
 *   -ENOSPC (capability table
 *   full; for a peer: max_mr / max_mw reached); -EIO (no random bytes from getrandom(); for a
 *   peer also: the bind or the send of the descriptor failed); -ENODEV; for a peer also
 *   -EEXIST (it maps the region already), -ENOTCONN, -ETIMEDOUT, -ENOMEM, -EAGAIN (as
 *   rz_region_map()).
 *
 * @ingroup rzone_capabilities
 */
int rz_region_create_capability(struct rz_region *r, pid_t target, enum rz_transfer_mode mode,
		uint64_t *token);

/**
 * Use a capability: map its region into the calling process with the capability's rights. A
 * token works once, and only in its target process. With RZ_MODE_MOVE the caller becomes the
 * owner.
 *
 * Remote grants on a region are only held by its owner: a Move capability is refused (-EBUSY,
 * the log names the owner's pid and how many grants it holds) while the owner holds remote
 * grants on the region; once the owner has revoked them (or transferred the region itself,
 * which revokes them) the same token works.
 *
 * @param token
 *   Token from rz_region_create_capability().
 * @param virtual_base
 *   NULL (DPDK address) or a hugepage-aligned address for a view.
 * @param region
 *   If not NULL, receives the region handle.
 * @return
 *   0 on success; -ENOENT (no such live capability: forged, used, revoked, or its region is
 *   gone); -EPERM (the caller is not the target, e.g. the token is a peer's); -EEXIST (the
 *   caller maps the region already); -EINVAL (unaligned @p virtual_base); -EADDRINUSE (the view
 *   would overlap a mapping); -ENOTSUP (a view, but the EAL keeps no hugepage file behind the
 *   region); -EBUSY (RZ_MODE_MOVE while the owner holds remote grants on the region, or the
 *   owner is destroying or transferring it); -ENOMEM; -ENODEV (rz_init() not called). On
 *   failure the token stays as it was.
 *
 * @ingroup rzone_capabilities
 */
int rz_capability_map(uint64_t token, void *virtual_base, struct rz_region **region);

/**
 * Revoke a capability. An unused token stops working; a used Share or Copy-on-write token's
 * mapping is unmapped from its target. Only the region owner may revoke. A peer's token (only
 * in the process that holds the peer's connection): its window is invalidated, and this
 * returns once the device has completed the invalidation; a Move token's peer stops owning the
 * region.
 *
 * @param token
 *   Token.
 * @return
 *   0 on success; -ENOENT (no such capability); -EPERM (caller is not the region owner);
 *   -ETIMEDOUT / -ESRCH / -EBUSY (the target could not be asked to unmap, or did not answer in
 *   time: its mapping and the capability stay in force, as before the call; revoke again
 *   later. A target that dies loses the mapping and the capability with it);
 *   -EIO (a peer's window could be neither invalidated nor freed); -ENODEV.
 *
 * @ingroup rzone_capabilities
 */
int rz_capability_revoke(uint64_t token);

/**
 * Print every field of a region (seed: Debug).
 *
 * @param f
 *   Output stream.
 * @param r
 *   Region handle.
 * @return
 *   0, or -EINVAL (NULL @p f or bad handle) / -ENOENT (destroyed) / -ENODEV (rz_init() not
 *   called).
 *
 * @ingroup rzone_stats
 */
int rz_region_dump(FILE *f, const struct rz_region *r);

/**
 * Print the attached processes.
 *
 * @param f
 *   Output stream.
 * @return
 *   0, -EINVAL (NULL @p f) or -ENODEV.
 *
 * @ingroup rzone_stats
 */
int rz_process_dump(FILE *f);

/**
 * Print the whole instance: processes, arenas, regions.
 *
 * @param f
 *   Output stream.
 * @return
 *   0, -EINVAL (NULL @p f) or -ENODEV.
 *
 * @ingroup rzone_stats
 */
int rz_dump(FILE *f);

/**
 * Check the shared table's invariants, changing nothing: every live region has an id and pages
 * of a live arena, no two regions share a page, the pages each arena marks in use are exactly
 * those of its regions (plus those a live process is zeroing after a destroy), no arena
 * outlives its region, and the region, mapping and capability counts match. The same checks
 * run, fixing what they find, when a process takes the table lock after its holder died
 * (see doc/guide.md, "Crash consistency"). Takes the table lock.
 *
 * @param f
 *   If not NULL, each finding is printed there (and logged in any case).
 * @return
 *   The number of findings (0: consistent), or -ENODEV (rz_init() not called) or an error of
 *   the table lock (-EDEADLK, -EINVAL).
 *
 * @ingroup rzone_stats
 */
int rz_check(FILE *f);

/**
 * Is a pid an attached, live rzone process of this instance?
 *
 * @param pid
 *   Pid, or RZ_PID_SELF.
 * @return
 *   1 if attached, 0 if not (peer ids included: a peer is not a process of the instance),
 *   -ENODEV if rz_init() was not called.
 *
 * @ingroup rzone_processes
 */
int rz_process_attached(pid_t pid);

/**
 * The number of live regions in the instance.
 *
 * @return
 *   The number of live regions, or -ENODEV (rz_init() not called).
 *
 * @ingroup rzone_stats
 */
int rz_region_count(void);

/**
 * Counters of the whole instance (every process), read with rz_stats_get().
 * @ingroup rzone_stats
 */
struct rz_stats {
	uint64_t regions;	/**< Live regions. */
	uint64_t capabilities;	/**< Outstanding local capabilities. */
	uint64_t created;	/**< Regions created since the instance started. */
	uint64_t destroyed;	/**< Regions destroyed (by their owner or when their owner left). */
	uint64_t reaped;	/**< Processes released after dying without rz_fini(). */
	uint64_t ipc_rejected;	/**< Malformed rzone IPC messages dropped. */
};

/**
 * Read the instance's counters. Takes no lock: each counter is read on its own.
 *
 * @param stats
 *   Where to store them.
 * @return
 *   0, -EINVAL (NULL @p stats) or -ENODEV.
 *
 * @ingroup rzone_stats
 */
int rz_stats_get(struct rz_stats *stats);

#ifdef __cplusplus
}
#endif

#endif /* RZONE_H */
