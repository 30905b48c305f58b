/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZONE_PKT_H
#define RZONE_PKT_H

/**
 * @file
 * rzone packets: DPDK pktmbuf pools whose mbufs (headers and data) live in an rzone region.
 *
 * A pool made here is a standard DPDK pktmbuf mempool (ops "ring_mp_mc", initialised with
 * rte_pktmbuf_pool_init() and rte_pktmbuf_init()): PMDs receive into it and transmit from it,
 * rte_pktmbuf_alloc() / rte_pktmbuf_free() work in every process, and every process of the
 * instance finds it by name with rte_mempool_lookup(). Its objects are laid out on the
 * region's IOVA-contiguous chunks (rz_region_iova_chunks()), so each mbuf's buf_iova is the
 * real IOVA of its data room.
 *
 * The region's rules protect the pool: a process uses the pool only while it maps the region
 * read/write (the owner maps it into another process with rz_pktmbuf_pool_share(); that
 * process checks it with rz_pktmbuf_pool_attach()); the pool cannot be freed while another
 * process maps its region (-EBUSY).
 *
 * With the RDMA module (rzone_rdma.h), rz_mbuf_lkey() gives the local key of an mbuf's data in
 * O(1): the region is registered once per arena and process, and the key is kept in a
 * per-process table indexed by the region's slot. Without it, rz_mbuf_lkey() fails with
 * -ENOTSUP.
 *
 * Moving packets between the processes of one instance needs nothing more: an rte_ring of
 * mbuf pointers (rte_ring_create(), rte_ring_lookup()) carries them, zero-copy; the consumer
 * frees them back to the pool (doc/guide.md, "Packets").
 *
 * @code
 * #include <rzone_pkt.h>	// cc app.c $(pkg-config --cflags --libs librzone)
 * @endcode
 */

/**
 * @defgroup rzone_pkt Packets: mbuf pools in regions, local keys of mbufs
 *
 * @details
 * A pktmbuf pool in an rzone region, usable by PMDs and by every process of the instance;
 * the RDMA local key of any of its mbufs in O(1).
 *
 * @code
 * #include <rzone_pkt.h>	// cc app.c $(pkg-config --cflags --libs librzone)
 * @endcode
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "rzone.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @addtogroup rzone_pkt
 * @{
 */

/**
 * Bytes a region needs to hold a pool: what rz_pktmbuf_pool_create_in() asks for, in the
 * worst case of IOVA chunks one hugepage long (an object never straddles two chunks).
 *
 * @param n
 *   Number of mbufs, > 0.
 * @param priv_size
 *   Application private area of each mbuf (a multiple of RTE_MBUF_PRIV_ALIGN).
 * @param data_room_size
 *   Data room of each mbuf, headroom (RTE_PKTMBUF_HEADROOM) included.
 * @return
 *   The size in bytes (not rounded to hugepages), or 0 with rte_errno set to EINVAL (@p n 0,
 *   or an object larger than a hugepage).
 */
size_t rz_pktmbuf_pool_region_size(unsigned int n, uint16_t priv_size, uint16_t data_room_size);

/**
 * Create a pktmbuf pool in a new region of its own, owned by the caller, on NUMA node
 * @p socket_id, with the permission ceiling RZ_PERM_RW, mapped read/write by the caller. The
 * region is sized with rz_pktmbuf_pool_region_size() (rounded up to hugepages) and destroyed
 * by rz_pktmbuf_pool_free().
 *
 * @param name
 *   Pool name (rte_mempool_lookup() finds it), shorter than RTE_MEMPOOL_NAMESIZE.
 * @param n
 *   Number of mbufs, > 0.
 * @param cache_size
 *   Per-lcore cache, as rte_pktmbuf_pool_create() (at most RTE_MEMPOOL_CACHE_MAX_SIZE and
 *   n / 1.5).
 * @param priv_size
 *   Application private area of each mbuf (a multiple of RTE_MBUF_PRIV_ALIGN).
 * @param data_room_size
 *   Data room of each mbuf, headroom included (RTE_MBUF_DEFAULT_BUF_SIZE for a standard one).
 * @param socket_id
 *   NUMA node, or SOCKET_ID_ANY (rz_region_create()'s choice of node).
 * @return
 *   The pool, or NULL with rte_errno set to:
 *   EINVAL (NULL or too long name, @p n 0, @p priv_size not aligned, cache too large, object
 *   larger than a hugepage, node out of range);
 *   EEXIST (a mempool of that name exists); ENOMEM (hugepages short, or no memory for the
 *   mempool's header or ring); ENOSPC (region table full); ENODEV (rz_init() not called); or
 *   the other errors of rz_region_create(). Nothing is left behind by a failure.
 */
struct rte_mempool *rz_pktmbuf_pool_create(const char *name, unsigned int n,
		unsigned int cache_size, uint16_t priv_size, uint16_t data_room_size,
		int socket_id);

/**
 * Create a pktmbuf pool in an existing region. The caller must map the region read/write, or
 * own it (the pool then maps it read/write into the caller, and rz_pktmbuf_pool_free() unmaps
 * it again). The pool takes the region from its first byte; rz_pktmbuf_pool_free() leaves the
 * region alive. Until then the region cannot be destroyed or transferred by this process
 * (rz_region_destroy(), rz_region_transfer_ownership(): -EBUSY): the mbufs live in it.
 *
 * @param name
 *   Pool name, shorter than RTE_MEMPOOL_NAMESIZE.
 * @param r
 *   Region handle; its ceiling must allow RZ_PERM_WRITE.
 * @param n
 *   Number of mbufs, > 0.
 * @param cache_size
 *   Per-lcore cache, as rz_pktmbuf_pool_create().
 * @param priv_size
 *   Application private area of each mbuf (a multiple of RTE_MBUF_PRIV_ALIGN).
 * @param data_room_size
 *   Data room of each mbuf, headroom included.
 * @return
 *   The pool, or NULL with rte_errno set to:
 *   EINVAL (bad handle, NULL or too long name, @p n 0, @p priv_size not aligned, cache too
 *   large, object larger than a hugepage); ENOENT (region destroyed);
 *   ENOSPC (the region's IOVA chunks hold fewer than @p n objects: the log says how many fit);
 *   EACCES (the ceiling forbids writing, or the caller maps the region without RZ_PERM_WRITE,
 *   or neither maps nor owns it); EBUSY (another pool already uses the region);
 *   EEXIST (name taken); ENOMEM; ENODEV. After a failure the region, its mappings and the
 *   mempool list are as they were.
 */
struct rte_mempool *rz_pktmbuf_pool_create_in(const char *name, struct rz_region *r,
		unsigned int n, unsigned int cache_size, uint16_t priv_size,
		uint16_t data_room_size);

/**
 * Map the pool's region read/write into another process of the instance, so that it may use
 * the pool (rz_pktmbuf_pool_attach()). Only the region's owner may (rz_region_map()).
 *
 * @param mp
 *   A pool of rz_pktmbuf_pool_create() or rz_pktmbuf_pool_create_in().
 * @param process
 *   Pid of an attached process (not the caller).
 * @return
 *   0 (also when @p process already maps the region read/write);
 *   -EINVAL (NULL, not an rzone pool, @p process is the caller); -ENOENT (region destroyed);
 *   -EEXIST (@p process maps the region without write: unmap it first); -EPERM (caller is
 *   not the owner); -ESRCH, -ETIMEDOUT, -EBUSY, -ENOMEM, -ENODEV (as rz_region_map()).
 */
int rz_pktmbuf_pool_share(struct rte_mempool *mp, pid_t process);

/**
 * Find a pool by name in the calling process and check that this process may use it: it is
 * an rzone pool and this process maps its region read/write (given by the owner with
 * rz_pktmbuf_pool_share(), by a capability, or the creator's own mapping).
 *
 * @param name
 *   Pool name.
 * @return
 *   The pool, or NULL with rte_errno set to: EINVAL (NULL name, or the mempool of that name
 *   is not an rzone pool); ENOENT (no mempool has that name, or its region is gone);
 *   EACCES (this process does not map the region, or maps it without write); ENODEV.
 */
struct rte_mempool *rz_pktmbuf_pool_attach(const char *name);

/**
 * Stop using a pool in this process: its mapping of the pool's region is removed
 * (rz_region_unmap() of the caller). The mbufs it still holds must have been freed or handed
 * on before. Not for the region's owner (it frees the pool instead).
 *
 * @param mp
 *   A pool this process attached.
 * @return
 *   0; -EINVAL (NULL, not an rzone pool); -EPERM (the caller owns the region);
 *   -ENOENT (this process does not map the region, or it is gone); -ENODEV.
 */
int rz_pktmbuf_pool_detach(struct rte_mempool *mp);

/**
 * Free a pool: the mempool (rte_mempool_free()) and, for a pool of rz_pktmbuf_pool_create(),
 * its region. Only the region's owner may, and only while no other process maps the region.
 * Every mbuf should be back in the pool: one still in use elsewhere points into freed memory.
 *
 * @param mp
 *   A pool of rz_pktmbuf_pool_create() or rz_pktmbuf_pool_create_in().
 * @return
 *   0; -EINVAL (NULL, not an rzone pool); -ENOENT (its region is already gone);
 *   -EPERM (the caller does not own the region);
 *   -EBUSY (another process maps the region: nothing is freed, the pool works as before);
 *   -ENODEV.
 */
int rz_pktmbuf_pool_free(struct rte_mempool *mp);

/**
 * The region of an rzone pool.
 *
 * @param mp
 *   A mempool.
 * @return
 *   The region handle, or NULL with rte_errno set to EINVAL (NULL, or not an rzone pool).
 */
struct rz_region *rz_pktmbuf_pool_region(const struct rte_mempool *mp);

/**
 * Local key (RDMA lkey) of the memory holding an mbuf's data, for a scatter/gather entry
 * that points into it: O(1), no lock, no search, on the data path. For an indirect mbuf, the
 * key of the mbuf whose data it points to. Each segment of a chain has its own pool: ask for
 * each.
 *
 * The first call for a pool in a process registers its region with the device
 * (rz_rdma_region_lkey(), once per arena and process): call rz_pktmbuf_pool_rdma_register()
 * before the data path to keep that off it. Keys stay valid until rz_rdma_fini(), which
 * forgets them all: from then on -ENODEV, and after a new rz_rdma_init() the key of the new
 * registration (call rz_pktmbuf_pool_rdma_register() again to keep it off the data path).
 *
 * @param m
 *   An mbuf.
 * @param lkey
 *   Receives the key.
 * @return
 *   0; -EINVAL (NULL argument, an mbuf with an external buffer, or from a pool that is not an
 *   rzone pool); -ENOTSUP (rzone built without RDMA); -ENOENT (the pool's region is gone);
 *   or the errors of rz_rdma_region_lkey() (-EACCES: this process does not map the region
 *   read/write; -ENODEV: rz_rdma_init() not called, or rz_rdma_fini() since; -ENOSPC,
 *   -ENOMEM, -EFAULT, -EPERM).
 */
int rz_mbuf_lkey(const struct rte_mbuf *m, uint32_t *lkey);

/**
 * Register a pool's region with the RDMA device in this process and remember its key, so
 * that rz_mbuf_lkey() never registers on the data path.
 *
 * @param mp
 *   An rzone pool this process maps read/write.
 * @return
 *   0, or the errors of rz_mbuf_lkey() (-EINVAL, -ENOTSUP, -ENOENT, -EACCES, -ENODEV, ...).
 */
int rz_pktmbuf_pool_rdma_register(struct rte_mempool *mp);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* RZONE_PKT_H */
