/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * Packet pools in regions (include/rzone_pkt.h). A pool is an ordinary DPDK pktmbuf mempool
 * (its header and ring in DPDK memzones, found by name in every process) whose objects are
 * laid out on the IOVA-contiguous chunks of one rzone region, one populate call a chunk. The
 * rzone private area after DPDK's (pkt_private.h) names the region, so that any process finds
 * the region of any mbuf in O(1): m->pool -> private area -> region id -> this process's lkey
 * table slot.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>
#include <rte_mempool.h>
#include <rte_spinlock.h>

#include "core_private.h"
#include "pkt_private.h"
#include "region_private.h"
#include "rzone_pkt.h"

/* The smallest hugepage rzone meets (x86: 2 MiB): an IOVA chunk is at least that long. */
#define PKT_MIN_CHUNK	(UINT64_C(2) << 20)
#define PKT_OPS		"ring_mp_mc"

/* This process's lkeys, by region slot (struct pkt_lkey_entry: pkt_private.h says how they
 * are read); written under lkey_lock. */
struct pkt_lkey_entry pkt_lkeys[RZ_MAX_REGIONS];
uint64_t pkt_pool_gen;
static rte_spinlock_t lkey_lock = RTE_SPINLOCK_INITIALIZER;
static pkt_lkey_resolve_fn *lkey_resolver;

void
pkt_set_lkey_resolver(pkt_lkey_resolve_fn *fn)
{
	lkey_resolver = fn;
}

static int
obj_total_size(uint16_t priv_size, uint16_t data_room_size, uint32_t *elt, uint32_t *total)
{
	struct rte_mempool_objsz sz;
	uint32_t e = (uint32_t)sizeof(struct rte_mbuf) + priv_size + data_room_size;
	uint32_t t = rte_mempool_calc_obj_size(e, 0, &sz);

	if (t + RTE_MEMPOOL_ALIGN > PKT_MIN_CHUNK) {
		RZ_LOG(ERR, "an mbuf of %u bytes (%u with the mempool's header and trailer) is "
				"larger than a hugepage", e, t);
		return -EINVAL;
	}
	*elt = e;
	*total = t;
	return 0;
}

size_t
rz_pktmbuf_pool_region_size(unsigned int n, uint16_t priv_size, uint16_t data_room_size)
{
	uint32_t elt, total;
	uint64_t bytes, chunks;

	if (n == 0) {
		RZ_LOG(ERR, "a pool of 0 mbufs");
		rte_errno = EINVAL;
		return 0;
	}
	if (obj_total_size(priv_size, data_room_size, &elt, &total) < 0) {
		rte_errno = EINVAL;
		return 0;
	}
	bytes = (uint64_t)n * total;
	/* Each chunk may waste its alignment and the tail that cannot hold a whole object. */
	chunks = bytes / PKT_MIN_CHUNK + 2;
	return (size_t)(bytes + chunks * (total + RTE_MEMPOOL_ALIGN));
}

/* Objects the chunks of a region hold, as rte_mempool_populate_iova() lays them out. */
static uint64_t
chunks_capacity(const uint8_t *base, const struct rz_iova_chunk *c, int nc, uint32_t total)
{
	uint64_t cap = 0;
	int i;

	for (i = 0; i < nc; i++) {
		const uint8_t *va = base + c[i].offset;
		size_t off = RTE_PTR_DIFF(RTE_PTR_ALIGN_CEIL(va, RTE_MEMPOOL_ALIGN), va);

		if (c[i].len > off)
			cap += (c[i].len - off) / total;
	}
	return cap;
}

struct pool_using {
	uint64_t region_id;
	const struct rte_mempool *found;
};

static void
pool_using_cb(struct rte_mempool *mp, void *arg)
{
	struct pool_using *u = arg;
	const struct pkt_pool_priv *pp = pkt_pool_priv(mp);

	if (pp != NULL && pp->region_id == u->region_id)
		u->found = mp;
}

/* Check the arguments shared by both creators; 0 or -EINVAL (logged). */
static int
pool_args_check(const char *name, unsigned int n, uint16_t priv_size, uint16_t data_room_size,
		uint32_t *elt, uint32_t *total)
{
	if (name == NULL || name[0] == '\0' || strnlen(name, RTE_MEMPOOL_NAMESIZE) >=
			RTE_MEMPOOL_NAMESIZE) {
		RZ_LOG(ERR, "pool name %s (1 to %d characters)", name == NULL ? "NULL" :
				"too long or empty", (int)RTE_MEMPOOL_NAMESIZE - 1);
		return -EINVAL;
	}
	if (n == 0) {
		RZ_LOG(ERR, "pool %s of 0 mbufs", name);
		return -EINVAL;
	}
	if (RTE_ALIGN(priv_size, RTE_MBUF_PRIV_ALIGN) != priv_size) {
		RZ_LOG(ERR, "pool %s: private size %u is not a multiple of %u", name, priv_size,
				(unsigned int)RTE_MBUF_PRIV_ALIGN);
		return -EINVAL;
	}
	return obj_total_size(priv_size, data_room_size, elt, total);
}

/*
 * Create the mempool on region @r, which the caller maps read/write (checked by the callers).
 * -errno; on failure nothing of the mempool is left.
 */
static struct rte_mempool *
pool_build(const char *name, struct rz_region *r, unsigned int n, unsigned int cache_size,
		uint16_t priv_size, uint16_t data_room_size, uint32_t elt, uint32_t flags,
		const struct rz_iova_chunk *c, int nc, int *err)
{
	struct rte_pktmbuf_pool_private mbp = {
		.mbuf_data_room_size = data_room_size,
		.mbuf_priv_size = priv_size,
	};
	uint8_t *base = rz_region_addr(r);
	struct pkt_pool_priv *pp;
	struct rte_mempool *mp;
	int i, ret, socket = rz_region_numa_node(r);

	mp = rte_mempool_create_empty(name, n, elt, cache_size, sizeof(struct pkt_pool_priv),
			socket < 0 ? SOCKET_ID_ANY : socket, 0);
	if (mp == NULL) {
		*err = -rte_errno;
		RZ_LOG(ERR, "pool %s: rte_mempool_create_empty(): %s", name,
				rte_strerror(rte_errno));
		return NULL;
	}
	ret = rte_mempool_set_ops_byname(mp, PKT_OPS, NULL);
	if (ret != 0) {
		RZ_LOG(ERR, "pool %s: mempool ops %s: %s", name, PKT_OPS, rte_strerror(-ret));
		goto fail;
	}
	rte_pktmbuf_pool_init(mp, &mbp);
	pp = rte_mempool_get_priv(mp);
	pp->region_id = rz_region_id(r);
	pp->flags = flags;
	pp->n = n;
	pp->elt_size = elt;
	pp->chunks = 0;
	for (i = 0; i < nc && mp->populated_size < n; i++) {
		ret = rte_mempool_populate_iova(mp, (char *)base + c[i].offset, c[i].iova,
				c[i].len, NULL, NULL);
		if (ret < 0) {
			RZ_LOG(ERR, "pool %s: populating chunk %d (iova 0x%" PRIx64
					", %zu bytes): %s", name, i, (uint64_t)c[i].iova, c[i].len,
					rte_strerror(-ret));
			goto fail;
		}
		if (ret > 0)
			pp->chunks++;
	}
	if (mp->populated_size < n) {
		RZ_LOG(ERR, "pool %s: region 0x%" PRIx64 " holds %u of the %u mbufs", name,
				pp->region_id, mp->populated_size, n);
		ret = -ENOSPC;
		goto fail;
	}
	rte_mempool_obj_iter(mp, rte_pktmbuf_init, NULL);
	__atomic_store_n(&pp->magic, PKT_POOL_MAGIC, __ATOMIC_RELEASE);
	*err = 0;
	return mp;
fail:
	rte_mempool_free(mp);
	*err = ret;
	return NULL;
}

/* A region holds one pool, claimed across the processes of the instance by a memzone named
 * after the region (rte_memzone_reserve() is atomic under DPDK's shared configuration lock):
 * two creators racing for one region, in any threads or processes, get one pool and -EBUSY,
 * never two pools over the same memory. Released when the pool is freed. */
static void
claim_name(uint64_t region_id, char *buf, size_t len)
{
	snprintf(buf, len, "rzpc_%" PRIx64, region_id);
}

static int
pool_claim(uint64_t region_id)
{
	char name[RTE_MEMZONE_NAMESIZE];

	claim_name(region_id, name, sizeof(name));
	if (rte_memzone_reserve(name, RTE_CACHE_LINE_SIZE, SOCKET_ID_ANY, 0) != NULL)
		return 0;
	if (rte_errno == EEXIST) {
		RZ_LOG(ERR, "region 0x%" PRIx64 " holds a pool already, or another one is being "
				"made in it", region_id);
		return -EBUSY;
	}
	RZ_LOG(ERR, "region 0x%" PRIx64 ": pool claim %s: %s", region_id, name,
			rte_strerror(rte_errno));
	return -rte_errno;
}

static void
pool_unclaim(uint64_t region_id)
{
	char name[RTE_MEMZONE_NAMESIZE];
	const struct rte_memzone *mz;

	claim_name(region_id, name, sizeof(name));
	mz = rte_memzone_lookup(name);
	if (mz != NULL)
		rte_memzone_free(mz);
}

/* Create the pool in @r. @own: the region is the pool's (rz_pktmbuf_pool_create()). */
static struct rte_mempool *
pool_create_in(const char *name, struct rz_region *r, unsigned int n, unsigned int cache_size,
		uint16_t priv_size, uint16_t data_room_size, bool own)
{
	struct pool_using using = { 0 };
	struct rz_iova_chunk *c = NULL;
	struct rte_mempool *mp = NULL;
	uint32_t elt, total, flags = own ? PKT_F_OWN_REGION : 0;
	bool claimed = false;
	uint64_t cap;
	uint32_t perms;
	int err, nc, mperms;

	err = pool_args_check(name, n, priv_size, data_room_size, &elt, &total);
	if (err < 0)
		goto out;
	if (region_from_handle(r, &err) == NULL)
		goto out;
	perms = rz_region_perms(r);
	if (perms == 0) {
		err = -rte_errno;
		goto out;
	}
	if ((perms & RZ_PERM_WRITE) == 0) {
		RZ_LOG(ERR, "pool %s: region 0x%" PRIx64 "'s ceiling (0x%x) forbids writing",
				name, handle_id(r), perms);
		err = -EACCES;
		goto out;
	}
	mperms = rz_region_get_mapping_perms(r, RZ_PID_SELF);
	if (mperms == -ENOENT) {
		if (rz_region_owner(r) != local_proc.pid) {
			RZ_LOG(ERR, "pool %s: this process neither maps nor owns region 0x%" PRIx64,
					name, handle_id(r));
			err = -EACCES;
			goto out;
		}
		flags |= PKT_F_MAPPED_SELF;
	} else if (mperms < 0) {
		err = mperms;
		goto out;
	} else if ((mperms & RZ_PERM_WRITE) == 0) {
		RZ_LOG(ERR, "pool %s: this process maps region 0x%" PRIx64 " without write",
				name, handle_id(r));
		err = -EACCES;
		goto out;
	}
	using.region_id = handle_id(r);
	rte_mempool_walk(pool_using_cb, &using);
	if (using.found != NULL) {
		RZ_LOG(ERR, "pool %s: region 0x%" PRIx64 " already holds pool %s", name,
				handle_id(r), using.found->name);
		err = -EBUSY;
		goto out;
	}
	err = pool_claim(handle_id(r));
	if (err < 0)
		goto out;
	claimed = true;
	nc = rz_region_iova_chunks(r, NULL, 0);
	if (nc <= 0) {
		err = nc < 0 ? nc : -EINVAL;
		goto out;
	}
	c = calloc((size_t)nc, sizeof(*c));
	if (c == NULL) {
		err = -ENOMEM;
		goto out;
	}
	nc = rz_region_iova_chunks(r, c, (unsigned int)nc);
	if (nc < 0) {
		err = nc;
		goto out;
	}
	cap = chunks_capacity(rz_region_addr(r), c, nc, total);
	if (cap < n) {
		RZ_LOG(ERR, "pool %s: region 0x%" PRIx64 " (%zu bytes, %d IOVA chunks) holds %"
				PRIu64 " mbufs of %u bytes, not %u (rz_pktmbuf_pool_region_size(): "
				"%zu bytes)", name, handle_id(r), rz_region_size(r), nc, cap, total,
				n, rz_pktmbuf_pool_region_size(n, priv_size, data_room_size));
		err = -ENOSPC;
		goto out;
	}
	if ((flags & PKT_F_MAPPED_SELF) != 0) {
		err = rz_region_map(r, RZ_PID_SELF, NULL, RZ_PERM_RW);
		if (err < 0)
			goto out;
	}
	/* The mbufs live in the region: this process may not destroy or transfer it while the
	 * pool lives (rz_pktmbuf_pool_free() unpins). */
	err = region_pin(r, "an mbuf pool");
	if (err < 0) {
		if ((flags & PKT_F_MAPPED_SELF) != 0)
			rz_region_unmap(r, RZ_PID_SELF);
		goto out;
	}
	mp = pool_build(name, r, n, cache_size, priv_size, data_room_size, elt, flags, c, nc,
			&err);
	if (mp == NULL) {
		region_unpin(r);
		if ((flags & PKT_F_MAPPED_SELF) != 0)
			rz_region_unmap(r, RZ_PID_SELF);
	}
out:
	free(c);
	if (mp == NULL) {
		if (claimed)
			pool_unclaim(handle_id(r));
		rte_errno = -err;
	}
	return mp;
}

struct rte_mempool *
rz_pktmbuf_pool_create_in(const char *name, struct rz_region *r, unsigned int n,
		unsigned int cache_size, uint16_t priv_size, uint16_t data_room_size)
{
	return pool_create_in(name, r, n, cache_size, priv_size, data_room_size, false);
}

struct rte_mempool *
rz_pktmbuf_pool_create(const char *name, unsigned int n, unsigned int cache_size,
		uint16_t priv_size, uint16_t data_room_size, int socket_id)
{
	struct rte_mempool *mp;
	struct rz_region *r;
	uint32_t elt, total;
	size_t size;
	int err;

	err = pool_args_check(name, n, priv_size, data_room_size, &elt, &total);
	if (err < 0) {
		rte_errno = -err;
		return NULL;
	}
	if (rte_mempool_lookup(name) != NULL) {
		RZ_LOG(ERR, "pool %s: a mempool of that name exists", name);
		rte_errno = EEXIST;
		return NULL;
	}
	size = rz_pktmbuf_pool_region_size(n, priv_size, data_room_size);
	if (socket_id == SOCKET_ID_ANY)
		r = rz_region_create(RZ_PID_SELF, size, RZ_PERM_RW);
	else
		r = rz_region_create_numa(RZ_PID_SELF, size, RZ_PERM_RW, socket_id);
	if (r == NULL) {
		RZ_LOG(ERR, "pool %s: no region of %zu bytes: %s", name, size,
				rte_strerror(rte_errno));
		return NULL;
	}
	mp = pool_create_in(name, r, n, cache_size, priv_size, data_room_size, true);
	if (mp == NULL) {
		err = rte_errno;
		rz_region_destroy(r);
		rte_errno = err;
	}
	return mp;
}

struct rz_region *
rz_pktmbuf_pool_region(const struct rte_mempool *mp)
{
	const struct pkt_pool_priv *pp = pkt_pool_priv(mp);

	if (pp == NULL) {
		RZ_LOG(ERR, "mempool %s is not an rzone pool", mp == NULL ? "NULL" : mp->name);
		rte_errno = EINVAL;
		return NULL;
	}
	return region_handle(pp->region_id);
}

int
rz_pktmbuf_pool_share(struct rte_mempool *mp, pid_t process)
{
	struct rz_region *r = rz_pktmbuf_pool_region(mp);
	int ret, perms;

	if (r == NULL)
		return -EINVAL;
	if (process == RZ_PID_SELF || process == local_proc.pid) {
		RZ_LOG(ERR, "pool %s: share with the caller itself", mp->name);
		return -EINVAL;
	}
	ret = rz_region_map(r, process, NULL, RZ_PERM_RW);
	if (ret != -EEXIST)
		return ret;
	perms = rz_region_get_mapping_perms(r, process);
	if (perms > 0 && (perms & RZ_PERM_WRITE) != 0)
		return 0;
	RZ_LOG(ERR, "pool %s: process %d maps region 0x%" PRIx64 " without write", mp->name,
			(int)process, handle_id(r));
	return -EEXIST;
}

struct rte_mempool *
rz_pktmbuf_pool_attach(const char *name)
{
	struct rte_mempool *mp;
	struct rz_region *r;
	int perms;

	if (local_proc.tbl == NULL) {
		rte_errno = ENODEV;
		return NULL;
	}
	if (name == NULL) {
		RZ_LOG(ERR, "NULL pool name");
		rte_errno = EINVAL;
		return NULL;
	}
	mp = rte_mempool_lookup(name);
	if (mp == NULL) {
		RZ_LOG(ERR, "no mempool named %s", name);
		rte_errno = ENOENT;
		return NULL;
	}
	r = rz_pktmbuf_pool_region(mp);
	if (r == NULL)
		return NULL;
	perms = rz_region_get_mapping_perms(r, RZ_PID_SELF);
	if (perms == -ENOENT && rz_region_id(r) == 0) {
		RZ_LOG(ERR, "pool %s: its region 0x%" PRIx64 " is gone", name, handle_id(r));
		rte_errno = ENOENT;
		return NULL;
	}
	if (perms < 0 || (perms & RZ_PERM_WRITE) == 0) {
		RZ_LOG(ERR, "pool %s: this process does not map region 0x%" PRIx64 " read/write "
				"(the owner shares it: rz_pktmbuf_pool_share())", name,
				handle_id(r));
		rte_errno = perms == -ENODEV ? ENODEV : EACCES;
		return NULL;
	}
	return mp;
}

int
rz_pktmbuf_pool_detach(struct rte_mempool *mp)
{
	struct rz_region *r = rz_pktmbuf_pool_region(mp);
	pid_t owner;

	if (r == NULL)
		return -EINVAL;
	owner = rz_region_owner(r);
	if (owner < 0)
		return owner;
	if (owner == local_proc.pid) {
		RZ_LOG(ERR, "pool %s: the owner of region 0x%" PRIx64 " frees the pool "
				"(rz_pktmbuf_pool_free()), it does not detach", mp->name,
				handle_id(r));
		return -EPERM;
	}
	return rz_region_unmap(r, RZ_PID_SELF);
}

/* Processes other than this one that map @r; -errno. */
static int
other_mappers(struct rz_region *r)
{
	struct region_entry *e;
	uint32_t i;
	int err, n = 0;

	e = region_from_handle(r, &err);
	if (e == NULL)
		return err;
	err = table_lock();
	if (err < 0)
		return err;
	if (!region_is(e, handle_id(r))) {
		table_unlock();
		return -ENOENT;
	}
	for (i = 0; i < RZ_MAX_PROCS; i++)
		if (i != local_proc.self && __atomic_load_n(&e->maps[i].addr,
				__ATOMIC_RELAXED) != 0)
			n++;
	table_unlock();
	return n;
}

int
rz_pktmbuf_pool_free(struct rte_mempool *mp)
{
	const struct pkt_pool_priv *pp = pkt_pool_priv(mp);
	struct rz_region *r;
	uint32_t flags;
	pid_t owner;
	int n, ret = 0;

	if (pp == NULL) {
		RZ_LOG(ERR, "mempool %s is not an rzone pool", mp == NULL ? "NULL" : mp->name);
		return -EINVAL;
	}
	if (local_proc.tbl == NULL)
		return -ENODEV;
	r = region_handle(pp->region_id);
	flags = pp->flags;
	owner = rz_region_owner(r);
	if (owner < 0)
		return owner;
	if (owner != local_proc.pid) {
		RZ_LOG(ERR, "pool %s: only the owner of region 0x%" PRIx64 " (process %d) frees "
				"it", mp->name, handle_id(r), (int)owner);
		return -EPERM;
	}
	n = other_mappers(r);
	if (n < 0)
		return n;
	if (n > 0) {
		RZ_LOG(ERR, "pool %s: %d other process%s still map%s region 0x%" PRIx64,
				mp->name, n, n > 1 ? "es" : "", n > 1 ? "" : "s", handle_id(r));
		return -EBUSY;
	}
	__atomic_fetch_add(&pkt_pool_gen, 1, __ATOMIC_RELEASE);
	rte_mempool_free(mp);
	pool_unclaim(handle_id(r));
	region_unpin(r);
	if ((flags & PKT_F_OWN_REGION) != 0)
		ret = rz_region_destroy(r);
	else if ((flags & PKT_F_MAPPED_SELF) != 0)
		ret = rz_region_unmap(r, RZ_PID_SELF);
	if (ret < 0)
		RZ_LOG(ERR, "region 0x%" PRIx64 " of a freed pool: %s (a process mapped it "
				"meanwhile)", handle_id(r), rte_strerror(-ret));
	return ret;
}

int
pkt_lkey_miss(uint64_t region_id, uint32_t *lkey)
{
	struct pkt_lkey_entry *e;
	uint32_t k;
	int ret;

	if ((region_id & RZ_SLOT_MASK) >= RZ_MAX_REGIONS) {
		RZ_LOG(ERR, "pool names region 0x%" PRIx64 ": no such slot", region_id);
		return -EINVAL;
	}
	e = &pkt_lkeys[region_id & RZ_SLOT_MASK];

	if (lkey_resolver == NULL) {
		RZ_LOG(ERR, "no local key: rzone was built without RDMA");
		return -ENOTSUP;
	}
	ret = lkey_resolver(region_id, &k);
	if (ret < 0)
		return ret;
	rte_spinlock_lock(&lkey_lock);
	__atomic_store_n(&e->id, 0, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&e->lkey, k, __ATOMIC_RELAXED);
	__atomic_store_n(&e->id, region_id, __ATOMIC_RELEASE);
	__atomic_fetch_add(&pkt_pool_gen, 1, __ATOMIC_RELEASE);
	rte_spinlock_unlock(&lkey_lock);
	*lkey = k;
	return 0;
}

void
pkt_lkeys_clear(void)
{
	unsigned int i;

	rte_spinlock_lock(&lkey_lock);
	for (i = 0; i < RTE_DIM(pkt_lkeys); i++)
		__atomic_store_n(&pkt_lkeys[i].id, 0, __ATOMIC_RELEASE);
	__atomic_fetch_add(&pkt_pool_gen, 1, __ATOMIC_RELEASE);
	rte_spinlock_unlock(&lkey_lock);
}

int
rz_mbuf_lkey(const struct rte_mbuf *m, uint32_t *lkey)
{
	if (unlikely(m == NULL || lkey == NULL))
		return -EINVAL;
	if (unlikely(RTE_MBUF_HAS_EXTBUF(m)))
		return -EINVAL;
	if (RTE_MBUF_CLONED(m))
		m = rte_mbuf_from_indirect((struct rte_mbuf *)(uintptr_t)m);
	return pkt_direct_lkey(m->pool, lkey);
}

int
rz_pktmbuf_pool_rdma_register(struct rte_mempool *mp)
{
	const struct pkt_pool_priv *pp = pkt_pool_priv(mp);
	uint32_t k;

	if (pp == NULL) {
		RZ_LOG(ERR, "mempool %s is not an rzone pool", mp == NULL ? "NULL" : mp->name);
		return -EINVAL;
	}
	return pkt_lkey_miss(pp->region_id, &k);
}
