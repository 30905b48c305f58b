/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZONE_RDMA_H
#define RZONE_RDMA_H

/**
 * @file
 * rzone remote: RDMA access to rzone regions (libibverbs + librdmacm).
 *
 * A process opens one RDMA device (rz_rdma_init()) and gets one protection domain. Region
 * memory is registered once per hugepage arena (one memory region, MR, per arena per process);
 * the MR key never leaves the host. Remote peers connect over librdmacm (one RC queue pair and
 * two completion queues per peer). The owner grants a peer access to a region, or a sub-range
 * of it, by binding a type-2 memory window (MW) on that peer's own QP: the window's rkey,
 * carried in a fixed-size capability descriptor (doc/wire-format.md), works only on that QP,
 * only inside the range and only with the rights of the transfer mode. Revocation invalidates
 * the window and returns once the device has completed the invalidation.
 *
 * Grants and ownership: remote grants on a region are only ever held by its current owner
 * process (only the owner grants). Before ownership leaves that process or the region's memory
 * is freed, the owner's grants on it are revoked and their invalidation completed: the calls
 * the owner makes (rz_region_destroy(), rz_region_transfer_ownership(), rz_fini(),
 * rz_rdma_fini()) revoke them themselves once they know the call will succeed; a call of
 * another process that would take ownership away (rz_capability_map() of an RZ_MODE_MOVE
 * capability) fails with -EBUSY while the owner holds remote grants on the region; an owner
 * that dies takes its grants with it (the kernel destroys its windows and MRs when its uverbs
 * context closes, at exit, before the reaper can see it dead). The count of grants each owner
 * holds is kept in the shared table for that check (doc/guide.md, "Remote grants and
 * ownership").
 *
 * Threading (exact contract, every function of this header):
 * - Any thread, any time, concurrently with anything (no wait for any peer: they take the
 *   process's RDMA lock, which no call holds while it waits for a device, a completion or a
 *   peer): rz_rdma_device_name(), rz_rdma_numa_node(), rz_rdma_self_id(), rz_rdma_limits(),
 *   rz_rdma_register(), rz_rdma_register_mem(), rz_rdma_deregister_mem(),
 *   rz_rdma_region_lkey(), rz_rdma_dump(), rz_rdma_region_owner(), rz_rdma_import_status(),
 *   rz_rdma_grant_count(), rz_rdma_desc_pack(), rz_peer_listen(), rz_peer_listener_port(),
 *   rz_peer_lookup(), rz_peer_id(), rz_peer_identity(), rz_peer_pid(),
 *   rz_peer_sync_timeout_ms(), rz_peer_connected(), rz_peer_desc_unpack(), rz_peer_max_sge(),
 *   rz_rdma_set_keepalive_ms(), rz_rdma_keepalive_ms(), rz_rdma_set_ack_timeout(),
 *   rz_rdma_ack_timeout(), rz_rdma_set_peer_down_handler(), rz_peer_down_reason(),
 *   rz_peer_liveness_bound_ms(), rz_remote_prepare(), rz_remote_prep_free() (not while a post
 *   of that prepared operation runs). The local calls of
 *   rzone.h (rz_region_map() of a process, capabilities, telemetry) never wait for a peer
 *   either.
 * - Control calls for a peer, from any thread, concurrently with each other and with other
 *   threads driving that peer's data path: rz_rdma_grant(), rz_rdma_grant_ext(),
 *   rz_rdma_revoke(), rz_rdma_progress(), rz_peer_send_msg(), and the calls of rzone.h on a
 *   peer id. Calls for one peer are serialised by that peer's own control lock, held across
 *   their waits; calls for different peers never wait for each other. Their completions and the
 *   data path's share the peer's send CQ: whichever thread polls it delivers each completion to
 *   its owner (by wr_id), nothing is lost or taken by another caller. Bounds for a stalled
 *   peer (it takes no message, or its QP is in error): a grant waits at most 100 ms for the
 *   previous SEND (then -EAGAIN), 5 s for the window bind and 5 s for its descriptor's SEND when
 *   it does not fit inline (-ETIMEDOUT); a revoke at most 100 ms + 5 s (a held-up or broken QP
 *   frees the window instead: 0); rz_peer_send_msg() 100 ms + 5 s; rz_rdma_progress() the
 *   revoke bound per expired grant. Another control call for the same peer may first wait for
 *   the one in progress.
 * - The data path of a peer (rz_remote_read(), rz_remote_write(), rz_remote_fetch_add(),
 *   rz_remote_cmp_swap(), rz_remote_post(), rz_remote_post_burst(), rz_remote_post_prep(),
 *   rz_remote_poll(), rz_remote_reap()): one
 *   thread at a time per peer connection, concurrently with any control call. It waits for
 *   no lock (it polls the peer's CQ only if no control call of that peer polls it at that
 *   moment, a try-lock, and otherwise takes what that call stashed for it, lock-free),
 *   allocates nothing, copies no payload. N lcores to one
 *   remote process: one connection each (rz_peer_connect() N times; each its own RC QP and
 *   CQs, a data channel; the remote grants on each the windows its lcore uses: a type-2
 *   window is bound to one QP). A synchronous call returns within rz_peer_sync_timeout_ms()
 *   (-ETIMEDOUT otherwise).
 * - The receive side of a peer (rz_peer_recv_desc(), rz_peer_recv_msg()): one thread at a
 *   time per peer, concurrently with everything above.
 * - Lifetime: rz_peer_accept() / rz_peer_connect() from any thread; rz_peer_close() of a peer
 *   while other threads' control calls for it run (they end at once: the QP is disconnected and
 *   their work requests flush), but not while another thread may still pass that peer to any
 *   call (the handle is freed). rz_peer_listener_close() likewise for its listener. rz_rdma_init()
 *   and rz_rdma_fini(): once, with no other call of this header in progress.
 *
 * Errors: int functions return 0 (or a count) on success and a negative errno on failure;
 * pointer functions return NULL and set rte_errno.
 *
 * The functions come in groups, one manual page each: rzone_rdma_device(3),
 * rzone_rdma_registration(3), rzone_rdma_peers(3), rzone_rdma_grants(3), rzone_rdma_remote(3),
 * rzone_rdma_messages(3). The calls of rzone.h that take a pid also take a peer id: see
 * rzone_mappings(3).
 */

/**
 * @defgroup rzone_rdma_device RDMA device: open, close, describe, housekeeping
 *
 * @details
 * One RDMA device and one protection domain per process, opened by rz_rdma_init() (in an rzone
 * DPDK process after rz_init(), or in any plain process that only acts as a peer).
 *
 * @code
 * #include <rzone_rdma.h>	// cc app.c $(pkg-config --cflags --libs librzone)
 * @endcode
 */

/**
 * @defgroup rzone_rdma_registration RDMA registration: local keys for regions and memory
 *
 * @details
 * Region memory is registered once per hugepage arena; plain memory one registration each. The
 * MR key never leaves the host: remote access goes through the memory windows of grants.
 *
 * @code
 * #include <rzone_rdma.h>	// cc app.c $(pkg-config --cflags --libs librzone)
 * @endcode
 */

/**
 * @defgroup rzone_rdma_peers RDMA peers: listen, accept, connect, close
 *
 * @details
 * A peer is a remote process connected over librdmacm: one RC queue pair and two completion
 * queues. Its peer id (rz_peer_id()) names it in the seed calls of rzone.h.
 *
 * @code
 * #include <rzone_rdma.h>	// cc app.c $(pkg-config --cflags --libs librzone)
 * @endcode
 */

/**
 * @defgroup rzone_rdma_grants RDMA grants: memory windows and capability descriptors
 *
 * @details
 * A grant binds a type-2 memory window over a region, or a range of it, on one peer's queue
 * pair, with the rights of a transfer mode; the peer gets its capability descriptor (rkey,
 * address, length, rights). Revocation invalidates the window before it returns.
 *
 * @code
 * #include <rzone_rdma.h>	// cc app.c $(pkg-config --cflags --libs librzone)
 * @endcode
 */

/**
 * @defgroup rzone_rdma_remote RDMA remote access: read, write, atomics
 *
 * @details
 * RDMA operations through a descriptor a peer granted: synchronous, or posted and polled. A
 * peer's data path is driven by one thread at a time (per connection: open one per lcore),
 * concurrently with any control call for that peer from other threads (header: Threading).
 *
 * @code
 * #include <rzone_rdma.h>	// cc app.c $(pkg-config --cflags --libs librzone)
 * @endcode
 */

/**
 * @defgroup rzone_rdma_messages RDMA messages: descriptors and small messages from a peer
 *
 * @details
 * Descriptors and plain messages share a peer's connection and keep their order; each side has
 * 16 receive slots, given back as the application takes its messages.
 *
 * @code
 * #include <rzone_rdma.h>	// cc app.c $(pkg-config --cflags --libs librzone)
 * @endcode
 */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <infiniband/verbs.h>

#include "rzone.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @addtogroup rzone_rdma_grants
 * @{
 */

/** Remote read right in a descriptor. */
#define RZ_RDMA_RIGHT_READ   (1u << 0)
/** Remote write right in a descriptor. */
#define RZ_RDMA_RIGHT_WRITE  (1u << 1)
/** Remote 8-byte atomics (fetch-add, compare-swap) right in a descriptor. */
#define RZ_RDMA_RIGHT_ATOMIC (1u << 2)
/** Every right bit. */
#define RZ_RDMA_RIGHT_ALL    (RZ_RDMA_RIGHT_READ | RZ_RDMA_RIGHT_WRITE | RZ_RDMA_RIGHT_ATOMIC)

/** Size in bytes of an encoded capability descriptor on the wire. */
#define RZ_RDMA_DESC_SIZE 80

/**
 * A capability descriptor, decoded. The owner gets one from rz_rdma_grant() and the peer
 * receives the same values with rz_peer_recv_desc().
 */
struct rz_rdma_desc {
	uint64_t issuer;      /**< Identity of the granting process (rz_rdma_self_id()). */
	uint64_t target;      /**< Identity of the peer it was granted to. */
	uint64_t region_id;   /**< rzone region id on the issuer's instance. */
	uint64_t generation;  /**< Grant number, unique and increasing in the issuer process. */
	uint64_t addr;        /**< Remote virtual address of the first byte of the window. */
	uint64_t length;      /**< Window length in bytes. */
	uint32_t rkey;        /**< Memory window rkey. */
	uint32_t rights;      /**< RZ_RDMA_RIGHT_* bits. */
	uint32_t mode;        /**< enum rz_transfer_mode. */
	/** CLOCK_REALTIME ns after which the grantor revokes it; 0: never. Advisory: the grantor
	 * revokes by its own CLOCK_MONOTONIC (a wall-clock step moves nothing), and a receiver
	 * refuses a descriptor already past it by its own wall clock (-ESTALE). */
	uint64_t expiry_ns;
};

/** @} */

/**
 * Locally registered memory: what local work requests need.
 * @ingroup rzone_rdma_registration
 */
struct rz_rdma_mem {
	void *addr;     /**< First byte. */
	size_t len;     /**< Length in bytes. */
	uint32_t lkey;  /**< Local key of the covering memory region. */
	uint32_t rkey;  /**< Key of the covering MR itself: never give it to a peer. */
	void *priv;     /**< rzone's own (the MR of plain memory; NULL for regions). */
};

/**
 * A connected remote peer.
 * @ingroup rzone_rdma_peers
 */
struct rz_peer;
/**
 * A listening endpoint.
 * @ingroup rzone_rdma_peers
 */
struct rz_peer_listener;

/** @addtogroup rzone_rdma_remote
 * @{
 */

/** Remote operation, for rz_remote_post(). */
enum rz_remote_opcode {
	RZ_REMOTE_READ = 0,   /**< remote -> local */
	RZ_REMOTE_WRITE,      /**< local -> remote */
	RZ_REMOTE_FETCH_ADD,  /**< 8-byte fetch-add; old value lands in local memory */
	RZ_REMOTE_CMP_SWAP,   /**< 8-byte compare-swap; old value lands in local memory */
};

/**
 * rz_remote_op.flags: no completion is reported for this operation when it succeeds. It is
 * complete, and its send-queue slot free, once a later signaled operation of the same peer has
 * been collected by rz_remote_poll() (an RC queue pair completes in order). A failed operation is
 * always reported, with its wr_id; after that the peer's queue pair is in error.
 */
#define RZ_REMOTE_F_UNSIGNALED	(1u << 0)

/** At most this many unsignaled operations in a row; then a signaled one must be posted. */
#define RZ_REMOTE_UNSIGNALED_MAX 64

/** Most entries in the scatter list of one operation (rz_remote_op.sgl); a device with fewer
 * caps it (the QP is created with min(this, the device's max_sge)). */
#define RZ_REMOTE_SGE_MAX 16

/**
 * One entry of a scatter list (rz_remote_op.sgl): local registered memory given by address and
 * local key, e.g. one segment of an mbuf. Laid out as struct ibv_sge: the list goes to the
 * device as it is, nothing copied.
 */
struct rz_remote_sge {
	uint64_t addr;   /**< First byte (virtual address). */
	uint32_t len;    /**< Bytes, > 0. */
	uint32_t lkey;   /**< Local key of the memory region covering [addr, addr + len). */
};

/** An asynchronous remote operation. */
struct rz_remote_op {
	enum rz_remote_opcode opcode;  /**< What to do. */
	const struct rz_rdma_mem *local; /**< Local registered memory. */
	size_t local_off;              /**< Offset in @p local. */
	const struct rz_rdma_desc *remote; /**< Capability descriptor of the remote memory. */
	uint64_t remote_off;           /**< Offset inside the descriptor's window. */
	size_t len;                    /**< Bytes (8 for atomics). */
	uint64_t compare_add;          /**< Add value, or compare value for CMP_SWAP. */
	uint64_t swap;                 /**< Swap value for CMP_SWAP. */
	uint64_t wr_id;                /**< Returned in the completion; bit 63 must be clear. */
	uint32_t flags;                /**< 0 or RZ_REMOTE_F_UNSIGNALED. */
	/** READ or WRITE only: if not NULL, the local side is this scatter list of @p nsge
	 * entries instead of @p local / @p local_off (ignored), @p len their total. The list is
	 * read during the call only; the memory it names must stay untouched until the operation
	 * completes. Its keys are not checked before posting (a wrong one fails the operation
	 * with -EFAULT on completion and puts the QP in error). */
	const struct rz_remote_sge *sgl;
	uint32_t nsge;                 /**< Entries of @p sgl: 1..RZ_REMOTE_SGE_MAX. */
};

/** Completion of an asynchronous operation. */
struct rz_remote_cqe {
	uint64_t wr_id;     /**< From rz_remote_op.wr_id. */
	int status;         /**< 0 or a negative errno (see rz_remote_read()). */
	int wc_status;      /**< Raw enum ibv_wc_status. */
};

/** @} */

/**
 * Open an RDMA device and allocate this process's protection domain. Call once per process
 * (an rzone DPDK process after rz_init(), or any plain process that only acts as a peer).
 *
 * @param dev_name
 *   Device name (e.g. "rxe0"), or NULL for the RZ_RDMA_DEV environment variable if set, else the
 *   first device librdmacm knows.
 * @return
 *   0 on success;
 *   -EALREADY (already initialised);
 *   -ENODEV (no RDMA device, or none named @p dev_name: the log lists the ones there are);
 *   -ENOMEM (context or PD allocation failed);
 *   -EIO (the device could not be queried);
 *   the negative errno of getrandom(2) if no random identity can be drawn.
 *
 * @ingroup rzone_rdma_device
 */
int rz_rdma_init(const char *dev_name);

/**
 * Close every peer and listener, revoke every grant (each invalidation completed, or its
 * window freed), deregister all memory, free the PD and close the device. rz_fini() calls it
 * first: the regions this process owned pass to another process or are freed only after.
 *
 * @return
 *   0 on success; -ENODEV if rz_rdma_init() was not called.
 *
 * @ingroup rzone_rdma_device
 */
int rz_rdma_fini(void);

/**
 * The name of the open RDMA device.
 *
 * @return
 *   The name of the open device, or NULL with rte_errno set to ENODEV (rz_rdma_init() not
 *   called).
 *
 * @ingroup rzone_rdma_device
 */
const char *rz_rdma_device_name(void);

/**
 * NUMA node nearest the device (hwloc; then sysfs numa_node of the device or of its network
 * device). rzone regions should be created there to keep RDMA traffic node-local.
 *
 * @return
 *   The node (>= 0); RZ_NUMA_ANY (-1) if the device reports no locality (software devices);
 *   -ENODEV if rz_rdma_init() was not called.
 *
 * @ingroup rzone_rdma_device
 */
int rz_rdma_numa_node(void);

/**
 * This process's RDMA identity: a random non-zero 64-bit number drawn at rz_rdma_init(),
 * exchanged when peers connect and written in descriptors (issuer / target).
 *
 * @return
 *   The identity, or 0 with rte_errno set to ENODEV.
 *
 * @ingroup rzone_rdma_device
 */
uint64_t rz_rdma_self_id(void);

/**
 * Device limits and usage. rzone refuses, with -ENOSPC and a log line, a registration or a window
 * that would exceed them.
 *
 * Test knobs (read once, by rz_rdma_init()): the environment variables RZ_RDMA_MAX_MR_OVERRIDE
 * and RZ_RDMA_MAX_MW_OVERRIDE, a decimal number from 1 to the device's own limit, lower the
 * limits rzone enforces (to reach them in a test); any other value is ignored with a log line.
 *
 * @param max_mr
 *   If not NULL, receives the max_mr rzone enforces (the device's, or the override).
 * @param max_mw
 *   If not NULL, receives the max_mw rzone enforces.
 * @param used_mr
 *   If not NULL, receives the MRs this process holds.
 * @param used_mw
 *   If not NULL, receives the MWs this process holds (pool included).
 * @return
 *   0, or -ENODEV.
 *
 * @ingroup rzone_rdma_device
 */
int rz_rdma_limits(uint32_t *max_mr, uint32_t *max_mw, uint32_t *used_mr, uint32_t *used_mw);

/**
 * Register a region's memory: the whole hugepage arena holding the region is registered once
 * (ibv_reg_mr with LOCAL_WRITE and MW_BIND) and cached; later calls for any region of that arena
 * cost a table lookup. Never needed on the data path: keep @p mem.
 *
 * The lkey lets the device read the region (sends, RDMA writes from it) and write into it
 * (receives, RDMA reads and atomics into it): only a process that maps the region read and
 * write gets one. The device checks the MR, which covers the whole arena, not this process's
 * page protections: that check is rzone's, made here.
 *
 * @param r
 *   Region handle; its memory must be mapped in this process with RZ_PERM_READ and
 *   RZ_PERM_WRITE.
 * @param mem
 *   Receives address, length, lkey of the region.
 * @return
 *   0 on success;
 *   -EINVAL (NULL argument, bad handle); -ENOENT (region destroyed);
 *   -EACCES (this process does not map the region, or maps it without RZ_PERM_WRITE: nothing
 *   is registered, @p mem is untouched);
 *   -ENOSPC (registering would exceed the device's max_mr);
 *   -ENOMEM / -EFAULT / -EPERM (ibv_reg_mr failed: the log says why; -EPERM is usually the
 *   locked-memory limit);
 *   -ENODEV (rz_rdma_init() or rz_init() was not called).
 *
 * @ingroup rzone_rdma_registration
 */
int rz_rdma_register(struct rz_region *r, struct rz_rdma_mem *mem);

/**
 * Register plain process memory (for peers that are not DPDK processes). One MR each.
 *
 * @param addr
 *   First byte.
 * @param len
 *   Length, > 0.
 * @param mem
 *   Receives the registration.
 * @return
 *   0; -EINVAL (NULL, zero length); -ENOSPC (max_mr reached); -ENOMEM / -EFAULT / -EPERM
 *   (ibv_reg_mr failed); -ENODEV.
 *
 * @ingroup rzone_rdma_registration
 */
int rz_rdma_register_mem(void *addr, size_t len, struct rz_rdma_mem *mem);

/**
 * Deregister memory registered with rz_rdma_register_mem(). Region registrations are released
 * by rz_rdma_fini().
 *
 * @param mem
 *   The registration.
 * @return
 *   0; -EINVAL (NULL, or not from rz_rdma_register_mem()); -EBUSY (device refused: still in
 *   use); -ENODEV.
 *
 * @ingroup rzone_rdma_registration
 */
int rz_rdma_deregister_mem(struct rz_rdma_mem *mem);

/**
 * Local key of the MR covering a region (registering it if needed).
 *
 * @param r
 *   Region handle.
 * @param lkey
 *   Receives the lkey.
 * @return
 *   0, or -EINVAL (NULL @p lkey), or the errors of rz_rdma_register() (-EINVAL, -ENOENT,
 *   -EACCES, -ENOSPC, -ENOMEM, -EFAULT, -EPERM, -ENODEV).
 *
 * @ingroup rzone_rdma_registration
 */
int rz_rdma_region_lkey(struct rz_region *r, uint32_t *lkey);

/**
 * Print the device, its NUMA node, limits, MRs, peers and grants.
 *
 * @param f
 *   Stream.
 * @return
 *   0; -EINVAL (NULL @p f); -ENODEV.
 *
 * @ingroup rzone_rdma_device
 */
int rz_rdma_dump(FILE *f);

/**
 * Listen for peers.
 *
 * @param ip
 *   Local IPv4/IPv6 address to bind (e.g. "10.0.2.15"), or NULL for any.
 * @param port
 *   TCP-style port for rdma_cm; 0 lets the system choose (see rz_peer_listener_port()).
 * @return
 *   The listener, or NULL with rte_errno set to: EINVAL (bad address); EADDRINUSE (the port
 *   is taken); ENODEV (not initialised, or the address is not on the open device); ENOMEM;
 *   EIO or another errno of rdma_listen(3) (the log names it).
 *
 * @ingroup rzone_rdma_peers
 */
struct rz_peer_listener *rz_peer_listen(const char *ip, uint16_t port);

/**
 * The port a listener listens on.
 *
 * @param l
 *   Listener.
 * @return
 *   The port it listens on, or 0 for a NULL listener.
 *
 * @ingroup rzone_rdma_peers
 */
uint16_t rz_peer_listener_port(const struct rz_peer_listener *l);

/**
 * Accept one peer: wait for a connection request, create its QP and CQs, accept, and wait for
 * the connection to be established.
 *
 * @param l
 *   Listener.
 * @param timeout_ms
 *   How long to wait; < 0 waits for ever.
 * @return
 *   The peer, or NULL with rte_errno set to: EINVAL (NULL listener); ENODEV (not
 *   initialised, or the connection comes through another device); ETIMEDOUT; EPROTO (the
 *   remote is not an rzone peer or speaks another version); ECONNREFUSED (the remote gave up);
 *   ENOSPC (QP or max_mr limits, or peer ids exhausted); ENOMEM; EIO.
 *
 * @ingroup rzone_rdma_peers
 */
struct rz_peer *rz_peer_accept(struct rz_peer_listener *l, int timeout_ms);

/**
 * Close a listener (peers it accepted stay connected).
 *
 * @param l
 *   Listener, may be NULL.
 * @return
 *   0.
 *
 * @ingroup rzone_rdma_peers
 */
int rz_peer_listener_close(struct rz_peer_listener *l);

/**
 * Connect to a listening peer.
 *
 * @param ip
 *   Remote address.
 * @param port
 *   Remote port.
 * @param timeout_ms
 *   How long to wait for each step (resolve, route, establish); < 0 waits for ever.
 * @return
 *   The peer, or NULL with rte_errno set to: EINVAL (NULL or non-numeric @p ip, port 0); ENODEV
 *   (not initialised, or the route goes through another device); ETIMEDOUT; ECONNREFUSED
 *   (rejected, or nobody listens); EHOSTUNREACH (no address or route to @p ip); EPROTO (not an
 *   rzone peer); ENOSPC (QP or max_mr limits, or peer ids exhausted); ENOMEM; EIO.
 *
 * @ingroup rzone_rdma_peers
 */
struct rz_peer *rz_peer_connect(const char *ip, uint16_t port, int timeout_ms);

/**
 * Disconnect and free a peer; every grant made to it is revoked first (a region it owned
 * comes back to this process). Its peer id names nothing any more.
 *
 * @param p
 *   Peer, may be NULL.
 * @return
 *   0.
 *
 * @ingroup rzone_rdma_peers
 */
int rz_peer_close(struct rz_peer *p);

/**
 * The peer's id in the pid space of the seed calls: RZ_PEER_ID_BASE + a per-process index,
 * never an OS pid, valid in this process while the peer is open, never reused by this
 * process. Pass it to rz_region_map(), rz_region_unmap(), rz_region_get_mapping(),
 * rz_region_get_mapping_perms(), rz_region_transfer_ownership() and
 * rz_region_create_capability() to act on the peer (doc/guide.md, "Peers").
 *
 * @param p
 *   Peer.
 * @return
 *   The id (>= RZ_PEER_ID_BASE), or -EINVAL for a NULL peer.
 *
 * @ingroup rzone_rdma_peers
 */
pid_t rz_peer_id(const struct rz_peer *p);

/**
 * The RDMA identity of a peer.
 *
 * @param p
 *   Peer.
 * @return
 *   The remote's RDMA identity (its rz_rdma_self_id(), the issuer / target of descriptors), or
 *   0 with rte_errno set to EINVAL.
 *
 * @ingroup rzone_rdma_peers
 */
uint64_t rz_peer_identity(const struct rz_peer *p);

/**
 * The open peer that has a given id.
 *
 * @param id
 *   Peer id from rz_peer_id().
 * @return
 *   The peer, or NULL with rte_errno set to ESRCH (no open peer has this id in this process)
 *   or ENODEV (rz_rdma_init() not called).
 *
 * @ingroup rzone_rdma_peers
 */
struct rz_peer *rz_peer_lookup(pid_t id);

/**
 * Effective owner of a region as the RDMA module sees it: a peer id while a remote peer owns
 * the region (rz_region_transfer_ownership() or an RZ_MODE_MOVE capability to a peer; this
 * process stays the proxy owner that keeps the memory, see doc/guide.md "Peers"), else
 * rz_region_owner().
 *
 * @param r
 *   Region handle.
 * @return
 *   A peer id or a pid; -EINVAL (bad handle); -ENOENT (region destroyed); -ENODEV (rz_init()
 *   not called).
 *
 * @ingroup rzone_rdma_grants
 */
pid_t rz_rdma_region_owner(const struct rz_region *r);

/**
 * How this process got its device context. A DPDK secondary started with RZ_RDMA_IMPORT=1
 * asks the primary for its verbs command fd over DPDK IPC (the primary gives it only if it too
 * was started with RZ_RDMA_IMPORT=1, else -EPERM) and tries ibv_import_device(); by default no
 * import is tried and no fd is handed out. Where the device does not support it
 * (rxe: EOPNOTSUPP), or where the import cannot be used (see doc/guide.md, "Secondary
 * processes"), it opens its own context and registers region memory itself.
 *
 * @return
 *   0: own context, no import tried (primary, non-DPDK process, or RZ_RDMA_IMPORT not 1);
 *   1: the primary's context was imported and is usable;
 *   a negative errno: the import was tried, failed with it, and this process uses its own
 *   context (-EOPNOTSUPP on rxe; -ENOTSUP when the import works but rzone cannot use it;
 *   -EPERM when the primary does not enable import);
 *   -ENODEV is returned when rz_rdma_init() was not called.
 *
 * @ingroup rzone_rdma_device
 */
int rz_rdma_import_status(void);

/**
 * The pid a peer announced when it connected.
 *
 * @param p
 *   Peer.
 * @return
 *   The remote's pid as it announced it, or -EINVAL (NULL peer).
 *
 * @ingroup rzone_rdma_peers
 */
int rz_peer_pid(const struct rz_peer *p);

/**
 * The bound of a synchronous data call on a peer (rz_remote_read(), rz_remote_write(),
 * rz_remote_fetch_add(), rz_remote_cmp_swap()): the longest the device takes to give up on a
 * work request that gets no answer, (retry_cnt + 1) transport timeouts of 4.096 us * 2^timeout
 * (the QP's settings, read once connected) plus one second; 10000 ms if the QP's timeout is 0
 * (infinite). A synchronous call that has no completion by then returns -ETIMEDOUT.
 * Thread-safe, no wait.
 *
 * @param p
 *   Peer.
 * @return
 *   The bound in milliseconds, or -EINVAL (NULL peer).
 *
 * @ingroup rzone_rdma_peers
 */
int rz_peer_sync_timeout_ms(const struct rz_peer *p);

/**
 * Is the peer connected? Reads pending connection events without blocking; a disconnected
 * peer's grants are revoked here. A peer declared dead by its keepalive (rz_rdma_progress(),
 * liveness) is disconnected; rz_peer_down_reason() tells why.
 *
 * @param p
 *   Peer.
 * @return
 *   1 connected, 0 disconnected or declared dead, -EINVAL (NULL peer).
 *
 * @ingroup rzone_rdma_peers
 */
int rz_peer_connected(struct rz_peer *p);

/**
 * Housekeeping: read every peer's connection events (revoking the grants of peers that went
 * away), keep every peer's liveness (below), revoke expired grants, then call the peer down
 * handler (rz_rdma_set_peer_down_handler()) for each peer that went down since the last call.
 * Call it regularly (e.g. from a control thread, every 100 ms or so).
 *
 * Liveness: an RC connection notices nothing on its own while it sends nothing, so a peer whose
 * host powered off would stay "connected" for ever on an idle side. Every keepalive interval
 * (rz_rdma_set_keepalive_ms(), default 1000 ms) this call posts, on each connected peer's QP, a
 * zero-length RDMA WRITE (no rkey, no data, nothing for the other side's application to do; at
 * most one in flight per peer, posted and reaped without waiting). The other side's device
 * acknowledges it; if it does not within the QP's retries (retry count 6 x the local ACK
 * timeout), the write completes in error, the peer is declared dead: rz_peer_connected() and
 * rz_peer_down_reason() say so (-ETIMEDOUT), its connection is disconnected (every work
 * request still queued on it fails at once), its grants are revoked (audit cause
 * "peer-dead"), and the down handler is called. A keepalive that fails because the QP went
 * into error for another reason (a failed data operation) marks the peer down as well
 * (-ENOTCONN). Bound, from the other host's death to its detection:
 * rz_peer_liveness_bound_ms() = the keepalive interval + rz_peer_sync_timeout_ms() (the
 * transport's retries + 1 s), plus one period of your calls to this function.
 *
 * No wait for any peer: the RDMA lock is held for the walk, never across a wait (the keepalive
 * is posted and its completion taken by whichever thread polls the peer's send CQ, as any of
 * rzone's own work requests: the data path is not disturbed).
 *
 * @return
 *   The number of grants revoked, or -ENODEV.
 *
 * @ingroup rzone_rdma_device
 */
int rz_rdma_progress(void);

/**
 * Set the keepalive interval of every peer (rz_rdma_progress(), liveness). The environment
 * variable RZ_RDMA_KEEPALIVE_MS (decimal, 0 to 3600000), read by rz_rdma_init(), sets it too;
 * this call overrides it. Takes effect at each peer's next keepalive. Thread-safe, no wait.
 *
 * @param ms
 *   Interval in milliseconds, 0 to 3600000; 0: no keepalive (an idle peer whose host is gone
 *   is then noticed only when this side sends something). Default 1000.
 * @return
 *   0, or -EINVAL (@p ms above 3600000; nothing changed).
 *
 * @ingroup rzone_rdma_peers
 */
int rz_rdma_set_keepalive_ms(uint32_t ms);

/**
 * The keepalive interval in force (rz_rdma_set_keepalive_ms(), RZ_RDMA_KEEPALIVE_MS).
 * Thread-safe, no wait.
 *
 * @return
 *   Milliseconds (0: keepalive off).
 *
 * @ingroup rzone_rdma_peers
 */
uint32_t rz_rdma_keepalive_ms(void);

/**
 * Set the local ACK timeout of the connections made from now on (rz_peer_connect(),
 * rz_peer_accept()): how long this side's QP waits for the other side's acknowledgement before
 * it retransmits, 4.096 us x 2^@p exp. It bounds how fast a lost packet is resent (throughput
 * on a lossy network) and how fast a gone peer is noticed: rz_peer_sync_timeout_ms() =
 * (retry count + 1) x that timeout + 1 s, and rz_peer_liveness_bound_ms() follow it. rdma_cm's
 * default on RoCE comes from the route's packet lifetime (19 = 2.1 s on rxe: 16.0 s to notice a
 * dead host); 14 (67 ms, what perftest's `-u 14` asks for) gives 1.5 s. Too short a timeout on a
 * long or congested path retransmits what was only late. Each side's QP has its own: set it on
 * both. The environment variable RZ_RDMA_ACK_TIMEOUT (decimal, 0 to 31), read by
 * rz_rdma_init(), sets it too; this call overrides it. Connections already made keep theirs.
 * Thread-safe, no wait.
 *
 * @param exp
 *   Exponent 1 to 31, or 0: rdma_cm's default (the default).
 * @return
 *   0, or -EINVAL (@p exp above 31; nothing changed). A kernel that cannot set it makes the
 *   later rz_peer_connect() / rz_peer_accept() fail with its errno (logged).
 *
 * @ingroup rzone_rdma_peers
 */
int rz_rdma_set_ack_timeout(unsigned int exp);

/**
 * The local ACK timeout exponent for new connections (rz_rdma_set_ack_timeout(),
 * RZ_RDMA_ACK_TIMEOUT). Thread-safe, no wait.
 *
 * @return
 *   The exponent, 0: rdma_cm's default.
 *
 * @ingroup rzone_rdma_peers
 */
unsigned int rz_rdma_ack_timeout(void);

/**
 * A peer went down (see rz_rdma_set_peer_down_handler()).
 *
 * @param peer_id
 *   Its peer id (rz_peer_id()); the handle stays valid until the application closes it.
 * @param identity
 *   Its identity (rz_peer_identity()).
 * @param reason
 *   rz_peer_down_reason(): -ETIMEDOUT or -ENOTCONN.
 * @param arg
 *   The handler's argument.
 */
typedef void (*rz_peer_down_fn)(pid_t peer_id, uint64_t identity, int reason, void *arg);

/**
 * Be told when a peer goes down: its keepalive got no answer (its host is gone or unreachable)
 * or it disconnected. Called by rz_rdma_progress(), in its thread, without any of rzone's locks
 * held, once per peer, after the peer's grants were revoked; the handler may call anything
 * (rz_peer_close() of that peer included). Thread-safe, no wait.
 *
 * @param fn
 *   Handler, or NULL: none.
 * @param arg
 *   Its argument.
 * @return
 *   0.
 *
 * @ingroup rzone_rdma_peers
 */
int rz_rdma_set_peer_down_handler(rz_peer_down_fn fn, void *arg);

/**
 * Why a peer is down. Reads pending connection events without blocking (as
 * rz_peer_connected()).
 *
 * @param p
 *   Peer.
 * @return
 *   0 (connected); -ETIMEDOUT (it stopped answering: a keepalive or another work request got no
 *   acknowledgement within the transport's retries; its host is gone or unreachable);
 *   -ENOTCONN (it disconnected or was disconnected, or its QP went into error after a failed
 *   operation); -EINVAL (NULL peer).
 *
 * @ingroup rzone_rdma_peers
 */
int rz_peer_down_reason(struct rz_peer *p);

/**
 * The liveness bound of a peer: within how long after its host powers off this side notices
 * (rz_rdma_progress() called regularly): the keepalive interval + rz_peer_sync_timeout_ms().
 * With keepalive off, the bound applies only while this side sends. Thread-safe, no wait.
 *
 * @param p
 *   Peer.
 * @return
 *   Milliseconds, or -EINVAL (NULL peer).
 *
 * @ingroup rzone_rdma_peers
 */
int rz_peer_liveness_bound_ms(const struct rz_peer *p);

/**
 * Grant @p p access to a region or a sub-range: bind a type-2 memory window on the peer's QP
 * (one the peer had before, or a fresh one from the pool, drawn at random) with a random key
 * byte the window never had, so that no rkey is ever handed out twice; wait for the bind
 * completion, then send the peer the descriptor. The call returns once the descriptor is posted
 * on the peer's RC queue pair (inline), which delivers it in order or fails the connection (and
 * a peer whose connection is down loses its grants); the next grant to the same peer waits for
 * the previous descriptor's completion first. Rights by @p mode: RZ_MODE_SHARE and RZ_MODE_MOVE
 * read+write+atomics, RZ_MODE_COPY_ON_WRITE read only; never beyond the region's ceiling.
 *
 * @param r
 *   Region handle, registered or not (it is registered if needed).
 * @param p
 *   Connected peer.
 * @param mode
 *   Transfer mode.
 * @param offset
 *   Start of the window inside the region.
 * @param len
 *   Window length; 0 means up to the end of the region.
 * @param lifetime_ns
 *   Revoke automatically after this long, measured on CLOCK_MONOTONIC (by rz_rdma_progress());
 *   0: no expiry. The descriptor carries the wall-clock time of the end (advisory).
 * @param desc
 *   If not NULL, receives the descriptor sent.
 * @return
 *   0 on success;
 *   -EINVAL (NULL region/peer, unknown mode, range outside the region);
 *   -EPERM (the caller is not the region's owner, the ceiling leaves no read right, or another
 *   remote peer owns the region: only it may be granted);
 *   -EBUSY (the owner is destroying or transferring the region: rz_region_destroy());
 *   -ENOENT (region destroyed); -ENOTCONN (peer disconnected, or the bind was flushed);
 *   -ENOSPC (max_mw reached, or max_mr for the region's registration);
 *   -EFAULT / -EPERM (the region's registration failed, as rz_rdma_register());
 *   -EIO (the bind, or the previous descriptor's send, completed in error: nothing stays
 *   granted); -ETIMEDOUT (no completion in 5 s); -ENOMEM; -ENODEV;
 *   -EAGAIN (the peer has not taken the previous descriptor or message within 100 ms: it posts
 *   no receive, i.e. does not call rz_peer_recv_desc() / rz_peer_recv_msg(), and its 16
 *   receive slots are full; nothing was posted, try again later).
 *
 * @ingroup rzone_rdma_grants
 */
int rz_rdma_grant(struct rz_region *r, struct rz_peer *p, enum rz_transfer_mode mode,
		size_t offset, size_t len, uint64_t lifetime_ns, struct rz_rdma_desc *desc);

/** rz_rdma_grant_ext() flag: bind the window but send nothing; the application delivers the
 * descriptor itself (rz_rdma_desc_pack() gives its 80 wire bytes) on a channel of its own, and
 * the peer validates it with rz_peer_desc_unpack().
 * @ingroup rzone_rdma_grants
 */
#define RZ_GRANT_F_NO_SEND (1u << 0)

/**
 * rz_rdma_grant() with flags. With 0 it is rz_rdma_grant(). With RZ_GRANT_F_NO_SEND the window
 * is bound (its completion waited for) and the grant is live when the call returns, but no
 * descriptor goes to the peer: @p desc is what the application sends it, for instance packed
 * with rz_rdma_desc_pack() into a message of its own protocol (the way UCX applications ship a
 * packed rkey). Revocation, expiry and disconnect apply as to any grant.
 *
 * @param r
 *   Region handle, registered or not (it is registered if needed).
 * @param p
 *   Connected peer.
 * @param mode
 *   Transfer mode.
 * @param offset
 *   Start of the window inside the region.
 * @param len
 *   Window length; 0 means up to the end of the region.
 * @param lifetime_ns
 *   Revoke automatically after this long (by rz_rdma_progress()); 0: no expiry.
 * @param flags
 *   0 or RZ_GRANT_F_NO_SEND.
 * @param desc
 *   Receives the descriptor; required with RZ_GRANT_F_NO_SEND.
 * @return
 *   As rz_rdma_grant(), and -EINVAL also for an unknown flag, or RZ_GRANT_F_NO_SEND with a NULL
 *   @p desc (nothing is granted).
 *
 * @ingroup rzone_rdma_grants
 */
int rz_rdma_grant_ext(struct rz_region *r, struct rz_peer *p, enum rz_transfer_mode mode,
		size_t offset, size_t len, uint64_t lifetime_ns, uint32_t flags,
		struct rz_rdma_desc *desc);

/**
 * Encode a descriptor into its wire format (doc/wire-format.md): RZ_RDMA_DESC_SIZE bytes,
 * little-endian, CRC-32C protected. For descriptors the application delivers itself
 * (RZ_GRANT_F_NO_SEND).
 *
 * @param desc
 *   Descriptor from rz_rdma_grant_ext().
 * @param buf
 *   Where the bytes go.
 * @param len
 *   Room at @p buf.
 * @return
 *   RZ_RDMA_DESC_SIZE (bytes written); -EINVAL (NULL argument, or @p desc is not a valid
 *   descriptor: zero ids or length, wrapping range, unknown mode or rights, rights beyond the
 *   mode); -ENOSPC (@p len < RZ_RDMA_DESC_SIZE; nothing written).
 *
 * @ingroup rzone_rdma_grants
 */
int rz_rdma_desc_pack(const struct rz_rdma_desc *desc, void *buf, size_t len);

/**
 * Decode and validate a descriptor that peer @p p issued and the application received on a
 * channel of its own: the same checks as rz_peer_recv_desc() (size, version, checksum, issuer is
 * @p p, target is us, not expired).
 *
 * @param p
 *   The peer that granted it (whose QP the rkey works on).
 * @param buf
 *   The bytes as received.
 * @param len
 *   Their number (RZ_RDMA_DESC_SIZE for a well-formed descriptor).
 * @param desc
 *   Receives the descriptor; untouched on error.
 * @return
 *   0; -EINVAL (NULL argument); -EBADMSG (malformed, truncated, oversized, bad checksum or
 *   unknown version); -EPROTO (foreign: another issuer or target; or inconsistent fields);
 *   -ESTALE (expired). The log names the reason.
 *
 * @ingroup rzone_rdma_grants
 */
int rz_peer_desc_unpack(struct rz_peer *p, const void *buf, size_t len,
		struct rz_rdma_desc *desc);

/**
 * Revoke a grant: post a local invalidate of the window on the peer's QP and wait for its
 * completion (if the QP is dead, or held up by a descriptor or message the peer has not taken,
 * deallocate the window instead). When this returns 0 no access
 * through the rkey can succeed any more; other grants are untouched.
 *
 * @param desc
 *   Descriptor returned by rz_rdma_grant() (matched by generation and rkey).
 * @return
 *   0 on success; -EINVAL (NULL); -ENOENT (no such live grant: already revoked or expired);
 *   -EIO (the window could not be invalidated nor freed); -ENODEV.
 *
 * @ingroup rzone_rdma_grants
 */
int rz_rdma_revoke(const struct rz_rdma_desc *desc);

/**
 * Number of live grants, all peers.
 *
 * @return
 *   The count, or -ENODEV.
 *
 * @ingroup rzone_rdma_grants
 */
int rz_rdma_grant_count(void);

/**
 * Receive one capability descriptor from a peer and validate it (size, version, checksum,
 * issuer is this peer, target is us, not expired).
 *
 * @param p
 *   Peer.
 * @param desc
 *   Receives the descriptor.
 * @param timeout_ms
 *   How long to wait; < 0 for ever.
 * @return
 *   0; -EINVAL (NULL); -ETIMEDOUT; -ENOTCONN (the connection failed); -EIO (the completion
 *   queue failed);
 *   -ENOMSG (the next message is a plain message of rz_peer_send_msg(): it stays queued for
 *   rz_peer_recv_msg(), nothing is consumed);
 *   -EBADMSG (malformed, truncated or unknown version); -EPROTO (foreign: another issuer or
 *   target; or inconsistent fields); -ESTALE (expired). The log names the reason. A rejected
 *   descriptor is consumed.
 *
 * @ingroup rzone_rdma_messages
 */
int rz_peer_recv_desc(struct rz_peer *p, struct rz_rdma_desc *desc, int timeout_ms);

/**
 * RDMA READ @p len bytes at @p remote_off of the window into @p local at @p local_off; waits
 * for the completion.
 *
 * @param p
 *   Peer the descriptor came from.
 * @param local
 *   Local registered memory.
 * @param local_off
 *   Offset in @p local.
 * @param remote
 *   Descriptor.
 * @param remote_off
 *   Offset in the window.
 * @param len
 *   Bytes, > 0.
 * @return
 *   0 on success;
 *   -EINVAL (NULL, zero length, local range outside @p local; or the remote rejected the
 *   request as invalid);
 *   -ERANGE (remote range outside the descriptor: nothing sent);
 *   -EACCES (remote access error: revoked window, wrong rights, out of the window);
 *   -ENOTCONN (the QP is in error: flushed); -ETIMEDOUT (transport retries exceeded, or no
 *   completion within rz_peer_sync_timeout_ms(): the QP is dead; the work request may still
 *   complete later, so @p local's range is undefined until the peer is closed);
 *   -EFAULT (local protection error); -EIO (any other completion error);
 *   -EBUSY (asynchronous operations are outstanding on this peer, or 64 internal work
 *   requests are in flight on it);
 *   -EAGAIN (a descriptor or message to this peer waits for it to post receives: the
 *   operation would queue behind it; nothing sent).
 *
 * @ingroup rzone_rdma_remote
 */
int rz_remote_read(struct rz_peer *p, const struct rz_rdma_mem *local, size_t local_off,
		const struct rz_rdma_desc *remote, uint64_t remote_off, size_t len);

/**
 * RDMA WRITE from @p local to the window; waits for the completion.
 *
 * @param p
 *   Peer.
 * @param local
 *   Local registered memory.
 * @param local_off
 *   Offset in @p local.
 * @param remote
 *   Descriptor.
 * @param remote_off
 *   Offset in the window.
 * @param len
 *   Bytes, > 0.
 * @return
 *   As rz_remote_read().
 *
 * @ingroup rzone_rdma_remote
 */
int rz_remote_write(struct rz_peer *p, const struct rz_rdma_mem *local, size_t local_off,
		const struct rz_rdma_desc *remote, uint64_t remote_off, size_t len);

/**
 * 8-byte atomic fetch-add on the window; the old value lands in @p local at @p local_off.
 *
 * @param p
 *   Peer.
 * @param local
 *   Local registered memory (8 bytes at @p local_off).
 * @param local_off
 *   Offset in @p local, 8-byte aligned address.
 * @param remote
 *   Descriptor.
 * @param remote_off
 *   Offset in the window; the remote address must be 8-byte aligned.
 * @param add
 *   Value to add.
 * @param old
 *   If not NULL, receives the old value.
 * @return
 *   As rz_remote_read(), plus -EINVAL for a misaligned address.
 *
 * @ingroup rzone_rdma_remote
 */
int rz_remote_fetch_add(struct rz_peer *p, const struct rz_rdma_mem *local, size_t local_off,
		const struct rz_rdma_desc *remote, uint64_t remote_off, uint64_t add,
		uint64_t *old);

/**
 * 8-byte atomic compare-and-swap on the window; the old value lands in @p local.
 *
 * @param p
 *   Peer.
 * @param local
 *   Local registered memory.
 * @param local_off
 *   Offset in @p local, 8-byte aligned address.
 * @param remote
 *   Descriptor.
 * @param remote_off
 *   Offset in the window, 8-byte aligned address.
 * @param compare
 *   Expected value.
 * @param swap
 *   New value, written if the old one equals @p compare.
 * @param old
 *   If not NULL, receives the old value (equal to @p compare iff the swap happened).
 * @return
 *   As rz_remote_fetch_add().
 *
 * @ingroup rzone_rdma_remote
 */
int rz_remote_cmp_swap(struct rz_peer *p, const struct rz_rdma_mem *local, size_t local_off,
		const struct rz_rdma_desc *remote, uint64_t remote_off, uint64_t compare,
		uint64_t swap, uint64_t *old);

/**
 * Post an operation without waiting; collect it with rz_remote_poll(). With
 * RZ_REMOTE_F_UNSIGNALED it reports nothing on success (see the flag); post a signaled one at
 * least every RZ_REMOTE_UNSIGNALED_MAX operations. The synchronous calls need every posted
 * operation collected first (-EBUSY), unsignaled ones included.
 *
 * @param p
 *   Peer.
 * @param op
 *   Operation.
 * @return
 *   0; -EINVAL (bad arguments, as the synchronous calls, bit 63 set in wr_id, or an unknown
 *   flag; a scatter list on an atomic, of 0 or more than rz_peer_max_sge() entries, with an
 *   empty entry, or whose lengths do not add up to @p len); -ERANGE (remote range outside
 *   the descriptor); -ENOBUFS (send queue full, or RZ_REMOTE_UNSIGNALED_MAX unsignaled
 *   operations in a row: post a signaled one);
 *   -ENOTCONN (disconnected, or an earlier operation failed: the QP is in error);
 *   -EIO (the device refused the work request otherwise).
 *
 * @ingroup rzone_rdma_remote
 */
int rz_remote_post(struct rz_peer *p, const struct rz_remote_op *op);

/** Most operations in one rz_remote_post_burst(). */
#define RZ_REMOTE_BURST_MAX 32

/**
 * Post @p n operations with one doorbell: one ibv_post_send() of a chained list. Each
 * operation is checked as rz_remote_post() checks it, all before anything is posted; each
 * keeps its own flags, so the usual batch is unsignaled operations with a signaled one every
 * few (and last). Same threading as rz_remote_post() (the data path of @p p: one thread at a
 * time, no lock, no allocation).
 *
 * @param p
 *   Peer (or data channel: a connection of its own).
 * @param ops
 *   Array of @p n operations.
 * @param n
 *   1..RZ_REMOTE_BURST_MAX.
 * @return
 *   The number posted: @p n, or fewer if the device refused the rest (those are not in
 *   flight); or, with nothing posted, -EINVAL (bad arguments, as rz_remote_post(), or @p n out
 *   of range); -ERANGE; -ENOBUFS (the burst does not fit the send queue or the unsignaled
 *   limit); -ENOTCONN; -EIO.
 *
 * @ingroup rzone_rdma_remote
 */
int rz_remote_post_burst(struct rz_peer *p, const struct rz_remote_op *ops, unsigned int n);

/** Send-queue slots of a peer's asynchronous data path (rz_remote_post() and its kin): at
 * most RZ_REMOTE_SQ_DEPTH - 1 of its operations outstanding, then -ENOBUFS. */
#define RZ_REMOTE_SQ_DEPTH 256

/** An entry of struct rz_remote_sq's ring of runs: as struct rz_remote_sq, not for applications.
 * @ingroup rzone_rdma_remote */
struct rz_remote_sq_run {
	uint32_t sig;	/**< Sequence number of the signaled operation that ends it. */
	uint32_t slots;	/**< Its unsignaled operations (that one's completion retires them). */
};

/**
 * The send-queue accounting of a peer's (or data channel's) asynchronous data path, and
 * whether it may post. Exposed only so that rz_remote_post_prep() can be an inline function
 * (as DPDK's rte_eth_tx_burst() reads struct rte_eth_fp_ops): applications must not read or
 * write it. It is not part of the stable API: its layout, and struct rz_remote_prep's, may
 * change in any release. Because rz_remote_post_prep() is compiled into the application, a
 * change of either layout is an ABI change (the library's soname changes with it): an
 * application runs with the librzone it was built against, and is rebuilt for another.
 * Written by the thread that drives the peer's data path, except @p limit.
 * @ingroup rzone_rdma_remote
 */
struct rz_remote_sq {
	/** Send-queue slots the data path may fill: RZ_REMOTE_SQ_DEPTH - 1 while the peer is
	 * connected and its QP not in error, else 0 (atomic; the one word a post reads for
	 * both its room and the connection's state). */
	uint32_t limit;
	/** Asynchronous operations not yet retired (send-queue slots). */
	uint32_t outstanding;
	/** Unsignaled operations in flight (all counted in @p runs). The signaled ones in
	 * flight are @p outstanding - @p unsig_out. */
	uint32_t unsig_out;
	/** Signaled operations completed so far (free-running): the sequence number of the
	 * oldest one in flight; the next one posted gets @p sig_head + the signaled ones in
	 * flight. Each one's completion retires its own slot, and those of the unsignaled run
	 * before it if there is one (in @p runs). */
	uint32_t sig_head;
	/** Ring of the unsignaled runs in flight: @p run_n from @p run_head (free-running),
	 * oldest first. The newest is still open (the run goes on) while its @p sig is the next
	 * signaled operation's sequence number. */
	uint32_t run_head;
	uint32_t run_n;	/**< See @p run_head. */
	/** The ring of @p run_head. */
	struct rz_remote_sq_run runs[RZ_REMOTE_SQ_DEPTH];
};

/**
 * A prepared operation (rz_remote_prepare()): a READ or WRITE between one local range and one
 * remote range, checked once, posted many times with rz_remote_post_prep(). Its fields are
 * exposed only for the inline rz_remote_post_prep(), under the same terms as struct
 * rz_remote_sq: do not touch them; made by rz_remote_prepare() only.
 * @ingroup rzone_rdma_remote
 */
struct rz_remote_prep {
	struct ibv_send_wr wr;	/**< Built once; a post sets wr_id, send_flags, remote_addr. */
	struct ibv_sge sge;	/**< Its one SGE; a post sets addr and length. */
	struct ibv_qp *qp;	/**< The peer's QP. */
	/** The QP's provider post (ibv_post_send() without its two loads). */
	int (*post_send)(struct ibv_qp *qp, struct ibv_send_wr *wr, struct ibv_send_wr **bad);
	struct rz_remote_sq *sq;	/**< The peer's send-queue accounting. */
	struct rz_peer *p;	/**< The peer. */
	uint64_t laddr;		/**< First byte of the prepared local range. */
	uint64_t raddr;		/**< First byte of the prepared remote range. */
	uint32_t len;		/**< Length of both ranges. */
	uint32_t max_inline;	/**< WRITEs of up to this go inline; 0 for READs. */
	/** The work request's send flags by [unsignaled][inline]. */
	unsigned int send_flags[2][2];
};

/**
 * Prepare an operation that will be posted many times: every check of rz_remote_post() is made
 * here, once (the descriptor, its window and bounds, the local memory and its range, the
 * opcode), and the work request is built; rz_remote_post_prep() then checks only what changes
 * per post (offsets and length within the prepared ranges, wr_id, flags, the connection's
 * state and send queue). The prepared ranges are @p op->len bytes of @p op->local from
 * @p op->local_off, and of the descriptor's window from @p op->remote_off. The descriptor and
 * the local memory are read here only: a descriptor revoked or expired later fails the
 * operations posted after it as rz_remote_post()'s do (-EACCES on completion), a local
 * memory unregistered later fails them with -EFAULT on completion; neither is touched.
 * A control call (it allocates): any thread, as rz_peer_max_sge(); free it with
 * rz_remote_prep_free() before rz_peer_close() of @p p.
 *
 * @param p
 *   Peer (or data channel).
 * @param op
 *   The operation: RZ_REMOTE_READ or RZ_REMOTE_WRITE, @p local / @p local_off, @p remote /
 *   @p remote_off, @p len (the ranges); @p wr_id, @p flags and @p sgl must be 0 / NULL (they
 *   are per post).
 * @return
 *   The prepared operation; NULL with rte_errno set: EINVAL (NULL argument, not READ or WRITE,
 *   a scatter list, a wr_id or flags, @p len 0 or above 4 GiB - 1, the local range outside
 *   @p local), ERANGE (the remote range outside the descriptor), ENOMEM.
 *
 * @ingroup rzone_rdma_remote
 */
struct rz_remote_prep *rz_remote_prepare(struct rz_peer *p, const struct rz_remote_op *op);

/**
 * Post a prepared operation without waiting (rz_remote_post(), less the checks made by
 * rz_remote_prepare()): @p len bytes from @p local_off of its local range to (WRITE) or from
 * (READ) @p remote_off of its remote range. Collect it with rz_remote_poll(). Same threading
 * as rz_remote_post(): the data path of the prepared operation's peer, one thread at a time;
 * no lock, no allocation. An inline function (the checks, the send-queue accounting and the
 * provider's post compiled into the caller, no call into librzone unless the device refuses
 * the post): see struct rz_remote_sq for what that means for the ABI.
 *
 * @param prep
 *   The prepared operation (of the peer it was prepared for).
 * @param wr_id
 *   Returned in the completion; bit 63 must be clear.
 * @param local_off
 *   Offset in the prepared local range.
 * @param remote_off
 *   Offset in the prepared remote range.
 * @param len
 *   Bytes, > 0.
 * @param flags
 *   0 or RZ_REMOTE_F_UNSIGNALED.
 * @return
 *   0; -EINVAL (NULL @p prep, bit 63 set in @p wr_id, an unknown flag); -ERANGE (@p len 0,
 *   or a range outside the prepared one); -ENOBUFS, -ENOTCONN, -EIO as rz_remote_post().
 *   Nothing is posted on error.
 *
 * @ingroup rzone_rdma_remote
 */
static inline int rz_remote_post_prep(struct rz_remote_prep *prep, uint64_t wr_id,
		size_t local_off, uint64_t remote_off, size_t len, uint32_t flags);

/**
 * The slow path of the inline rz_remote_post_prep() when the device refused the post; not for
 * applications: the send-queue accounting charged for that post undone.
 *
 * @param prep
 *   The prepared operation whose post the device refused.
 * @param unsig
 *   1 if that post was unsignaled, else 0.
 * @param ret
 *   The provider's return value.
 * @return
 *   What rz_remote_post() returns for it: -ENOBUFS (the send queue is full), else the
 *   device's error as a negative errno (-EIO if it gave none).
 *
 * @ingroup rzone_rdma_remote
 */
int rz_remote_post_prep_refused(struct rz_remote_prep *prep, uint32_t unsig, int ret);

/**
 * The charge of one unsignaled operation to @p sq (not for applications; called by the inline
 * rz_remote_post_prep() once the room is checked): counted in the open run, or in a new one.
 *
 * @param sq
 *   The send-queue accounting.
 * @return
 *   0; -ENOBUFS (RZ_REMOTE_UNSIGNALED_MAX unsignaled operations in a row: nothing charged).
 */
static inline int
rz_remote_sq_unsig(struct rz_remote_sq *sq)
{
	uint32_t next_sig = sq->sig_head + sq->outstanding - sq->unsig_out;
	struct rz_remote_sq_run *e;

	e = &sq->runs[(sq->run_head + sq->run_n - 1) % RZ_REMOTE_SQ_DEPTH];
	if (sq->run_n > 0 && e->sig == next_sig) {
		if (e->slots >= RZ_REMOTE_UNSIGNALED_MAX)
			return -ENOBUFS;
		e->slots++;
	} else {
		e = &sq->runs[(sq->run_head + sq->run_n) % RZ_REMOTE_SQ_DEPTH];
		e->sig = next_sig;
		e->slots = 1;
		sq->run_n++;
	}
	sq->unsig_out++;
	return 0;
}

static inline int
rz_remote_post_prep(struct rz_remote_prep *prep, uint64_t wr_id, size_t local_off,
		uint64_t remote_off, size_t len, uint32_t flags)
{
	struct rz_remote_sq *sq;
	struct ibv_send_wr *bad;
	uint32_t lim, out, unsig;
	int ret;

	if (__builtin_expect(prep == NULL || (wr_id >> 63) != 0 ||
			(flags & ~RZ_REMOTE_F_UNSIGNALED) != 0, 0))
		return -EINVAL;
	/* len in 1..lim, both ranges inside the prepared ones (no overflow: each offset is
	 * compared with lim - len, which cannot wrap). */
	lim = prep->len;
	if (__builtin_expect(len - 1 >= lim || local_off > lim - len || remote_off > lim - len, 0))
		return -ERANGE;
	sq = prep->sq;
	/* Room for it (an unsignaled one also leaves room for the signaled one that will retire
	 * it), and the connection's state with it (no room at all while it is down or failed):
	 * charged before the post, undone if the device refuses it. A signaled one only counts;
	 * an unsignaled one is counted in its run. */
	unsig = flags;
	out = sq->outstanding;
	if (__builtin_expect(out + unsig >= __atomic_load_n(&sq->limit, __ATOMIC_RELAXED), 0))
		return __atomic_load_n(&sq->limit, __ATOMIC_RELAXED) == 0 ? -ENOTCONN : -ENOBUFS;
	if (unsig && __builtin_expect(rz_remote_sq_unsig(sq) != 0, 0))
		return -ENOBUFS;
	sq->outstanding = out + 1;
	prep->wr.wr_id = wr_id;
	prep->wr.send_flags = prep->send_flags[unsig][len <= prep->max_inline];
	prep->sge.addr = prep->laddr + local_off;
	prep->sge.length = (uint32_t)len;
	prep->wr.wr.rdma.remote_addr = prep->raddr + remote_off;
	ret = prep->post_send(prep->qp, &prep->wr, &bad);
	if (__builtin_expect(ret != 0, 0))
		return rz_remote_post_prep_refused(prep, unsig, ret);
	return 0;
}

/** One operation of a burst of a prepared operation (rz_remote_post_prep_burst()). */
struct rz_remote_prep_op {
	uint64_t wr_id;      /**< Returned in the completion; bit 63 must be clear. */
	uint64_t local_off;  /**< Offset in the prepared local range. */
	uint64_t remote_off; /**< Offset in the prepared remote range. */
	uint32_t len;        /**< Bytes, > 0. */
	uint32_t flags;      /**< 0 or RZ_REMOTE_F_UNSIGNALED. */
};

/**
 * Post @p n operations of a prepared operation with one doorbell (one ibv_post_send() of a
 * chained list): rz_remote_post_burst() for the shape rz_remote_prepare() fixed (opcode, local
 * memory, descriptor and the two ranges), with only what changes per operation checked: each
 * operation as rz_remote_post_prep() checks it, all before anything is posted. The usual batch
 * is unsignaled operations closed by a signaled one. The work requests are the prepared
 * operation's (built with it: no allocation); same threading as rz_remote_post_prep() (the
 * data path of the prepared operation's peer, one thread at a time, and one thread at a time
 * for the prepared operation).
 *
 * @param prep
 *   The prepared operation.
 * @param ops
 *   Array of @p n operations: wr_id, offsets, length, flags.
 * @param n
 *   1..RZ_REMOTE_BURST_MAX.
 * @return
 *   The number posted: @p n, or fewer if the device refused the rest (those are not in
 *   flight); or, with nothing posted, -EINVAL (NULL @p prep or @p ops, @p n out of range, bit
 *   63 set in a wr_id, an unknown flag); -ERANGE (a length 0, or a range outside the prepared
 *   one); -ENOBUFS (the burst does not fit the send queue or the unsignaled limit);
 *   -ENOTCONN (disconnected, or an earlier operation failed); -EIO.
 *
 * @ingroup rzone_rdma_remote
 */
int rz_remote_post_prep_burst(struct rz_remote_prep *prep, const struct rz_remote_prep_op *ops,
		unsigned int n);

/**
 * Free a prepared operation. Operations posted from it and not yet complete are not affected.
 *
 * @param prep
 *   The prepared operation, or NULL (nothing done).
 *
 * @ingroup rzone_rdma_remote
 */
void rz_remote_prep_free(struct rz_remote_prep *prep);

/**
 * The most scatter-list entries one operation may have on this peer's connection: the
 * device's limit, at most RZ_REMOTE_SGE_MAX. Any thread.
 *
 * @param p
 *   Peer.
 * @return
 *   1..RZ_REMOTE_SGE_MAX; -EINVAL (NULL).
 *
 * @ingroup rzone_rdma_remote
 */
int rz_peer_max_sge(const struct rz_peer *p);

/**
 * Collect completions of posted operations. Never blocks. A completion of a signaled operation
 * also retires the unsignaled ones posted before it (they report nothing); a failed operation is
 * reported whether it was signaled or not, and so is every operation flushed after it.
 *
 * @param p
 *   Peer.
 * @param cqe
 *   Array to fill.
 * @param n
 *   Its capacity.
 * @return
 *   Completions written (0..n), or -EINVAL (NULL peer, or NULL @p cqe with @p n > 0) / -EIO
 *   (CQ error).
 *
 * @ingroup rzone_rdma_remote
 */
int rz_remote_poll(struct rz_peer *p, struct rz_remote_cqe *cqe, unsigned int n);

/**
 * Reap completions by count, for a data path that only needs to know how many of its
 * operations completed, all successfully (as a DPDK PMD reaps its transmit completions):
 * takes up to @p n completions of @p p's posted operations, in order, and returns how many
 * completed successfully, without their wr_ids. A completion of a signaled operation also
 * retires the unsignaled ones posted before it, as with rz_remote_poll(), and counts one. It
 * stops before the first failed completion: that one, and every completion after it, stay for
 * rz_remote_poll(), which reports them with their wr_ids and status (nothing is lost or
 * reported twice); until then each call returns 0. Completions of rzone's own work requests
 * (control calls for @p p) are delivered to their callers as rz_remote_poll() delivers them.
 * Never blocks. Same threading as rz_remote_poll(): the data path of @p p, one thread at a
 * time (with rz_remote_poll() and the posts), concurrently with any control call.
 *
 * @param p
 *   Peer.
 * @param n
 *   Most completions to take (0: none, returns 0).
 * @return
 *   Successful completions taken (0..n); -EINVAL (NULL peer); -EIO (CQ error).
 *
 * @ingroup rzone_rdma_remote
 */
int rz_remote_reap(struct rz_peer *p, unsigned int n);

/**
 * Send a small message (up to 64 bytes) to the peer; for tests and simple rendezvous.
 *
 * @param p
 *   Peer.
 * @param buf
 *   Bytes.
 * @param len
 *   At most 64.
 * @return
 *   0; -EINVAL (NULL peer, NULL @p buf with @p len > 0, @p len > 64); -ENOTCONN; -EIO;
 *   -ETIMEDOUT (not taken in 5 s: the peer posts no receive; the message stays queued and goes
 *   when it does); -EAGAIN (an earlier descriptor or message is still not taken: nothing
 *   sent).
 *
 * @ingroup rzone_rdma_messages
 */
int rz_peer_send_msg(struct rz_peer *p, const void *buf, size_t len);

/**
 * Receive a message sent with rz_peer_send_msg() (not a descriptor).
 *
 * @param p
 *   Peer.
 * @param buf
 *   At least 64 bytes.
 * @param timeout_ms
 *   < 0: for ever.
 * @return
 *   Bytes received; -EINVAL (NULL argument); -ETIMEDOUT; -ENOTCONN; -EIO (the completion
 *   queue failed); -ENOMSG (the next message is a capability descriptor: it stays queued for
 *   rz_peer_recv_desc(), nothing is consumed);
 *   -EBADMSG (neither a message nor a descriptor came; it is consumed and logged).
 *
 * @ingroup rzone_rdma_messages
 */
int rz_peer_recv_msg(struct rz_peer *p, void *buf, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* RZONE_RDMA_H */
