/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_PKT_PRIVATE_H
#define RZ_PKT_PRIVATE_H

#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "core_private.h"

/* The private area of an rzone pool: DPDK's pktmbuf private area first (PMDs and
 * rte_pktmbuf_data_room_size() read it there), rzone's after it. In the mempool's memzone,
 * shared by every process. */
#define PKT_POOL_MAGIC	UINT64_C(0x727a706b74706f6c)	/* "rzpktpol" */

#define PKT_F_OWN_REGION	(1u << 0)	/* rz_pktmbuf_pool_create()'s: freed with it */
#define PKT_F_MAPPED_SELF	(1u << 1)	/* the pool mapped the region into its creator */

struct pkt_pool_priv {
	struct rte_pktmbuf_pool_private mbp;
	uint64_t magic;
	uint64_t region_id;
	uint32_t flags;
	uint32_t n;			/* mbufs */
	uint32_t elt_size;		/* sizeof(struct rte_mbuf) + priv + data room */
	uint32_t chunks;		/* IOVA chunks populated */
};

/* The rzone private area of @mp, or NULL if it is not an rzone pool. */
static inline const struct pkt_pool_priv *
pkt_pool_priv(const struct rte_mempool *mp)
{
	const struct pkt_pool_priv *pp;

	if (mp == NULL || mp->private_data_size < sizeof(struct pkt_pool_priv))
		return NULL;
	pp = rte_mempool_get_priv((struct rte_mempool *)(uintptr_t)mp);
	/* Acquire: pairs with the release store that ends the pool's build (pool_build()), so a
	 * walk of the mempools meeting one still being built reads no half-written area. */
	return __atomic_load_n(&pp->magic, __ATOMIC_ACQUIRE) == PKT_POOL_MAGIC ? pp : NULL;
}

/* How a region's lkey is found when this process's table has none yet: lib/pkt_rdma (above
 * lib/rdma) registers it from a constructor; without RDMA there is none (-ENOTSUP). Called
 * off the data path (once per region and process), without any rzone lock held. */
typedef int pkt_lkey_resolve_fn(uint64_t region_id, uint32_t *lkey);
void pkt_set_lkey_resolver(pkt_lkey_resolve_fn *fn);

/* This process's lkeys, by region slot (pkt.c). An entry is valid while its id is the
 * region's; written under pkt.c's lock (the miss path, pkt_lkey_miss()), read lock-free: id
 * (acquire), lkey, id again. */
struct pkt_lkey_entry {
	uint64_t id;
	uint32_t lkey;
	uint32_t pad;
};

extern struct pkt_lkey_entry pkt_lkeys[RZ_MAX_REGIONS];

/* Bumped (atomic) whenever this process frees an rzone pool or writes a table entry: a cache
 * of pool -> lkey kept by a module above (lib/pkt_remote, per thread) is valid while it has
 * not changed (a pool freed and another created at the same address gets no stale key). */
extern uint64_t pkt_pool_gen;

/* Resolve and record the lkey of @region_id (off the data path: once per region and
 * process). 0 or a negative errno, logged. */
int pkt_lkey_miss(uint64_t region_id, uint32_t *lkey);

/* Forget every recorded lkey (the RDMA module went down: its MRs are gone) and bump
 * pkt_pool_gen; the next rz_mbuf_lkey() of each region resolves it again. */
void pkt_lkeys_clear(void);

/* rz_mbuf_lkey() of a direct mbuf (no external buffer, not a clone: its data is in its own
 * pool's memory), inline for the data paths of the modules above (lib/pkt_remote): the pool's
 * private area, the region id it names (bounded: shared memory any process can write), this
 * process's table entry. 0 or -EINVAL (not an rzone pool) / pkt_lkey_miss()'s errors. */
static inline int
pkt_direct_lkey(const struct rte_mempool *mp, uint32_t *lkey)
{
	const struct pkt_pool_priv *pp = pkt_pool_priv(mp);
	const struct pkt_lkey_entry *e;
	uint64_t id;
	uint32_t k;

	if (unlikely(pp == NULL))
		return -EINVAL;
	id = pp->region_id;
	if (unlikely((id & RZ_SLOT_MASK) >= RZ_MAX_REGIONS))
		return -EINVAL;
	e = &pkt_lkeys[id & RZ_SLOT_MASK];
	if (likely(__atomic_load_n(&e->id, __ATOMIC_ACQUIRE) == id)) {
		k = __atomic_load_n(&e->lkey, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (likely(__atomic_load_n(&e->id, __ATOMIC_RELAXED) == id)) {
			*lkey = k;
			return 0;
		}
	}
	return pkt_lkey_miss(id, lkey);
}

#endif /* RZ_PKT_PRIVATE_H */
