/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * Regions: creation on a NUMA node (pages carved from arenas, arena.c), destruction, lookups,
 * getters, dumps. What the layers above must do when a region leaves the table (undo a
 * mapping, drop capabilities) they register with region_listener_add(); remote grants are
 * revoked through the RDMA module's table (remote_ops.h).
 */

#include <errno.h>
#include <inttypes.h>
#include <numaif.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_memory.h>

#include "audit_private.h"
#include "core_private.h"
#include "proc_private.h"
#include "region_private.h"
#include "remote_ops.h"

static const char *const policy_names[] = {
	[RZ_CACHE_WRITE_BACK] = "write-back",
	[RZ_CACHE_WRITE_THROUGH] = "write-through",
	[RZ_CACHE_UNCACHED] = "uncached",
	[RZ_CACHE_WRITE_COMBINING] = "write-combining",
};

static bool
socket_known(int node)
{
	unsigned int i;

	for (i = 0; i < rte_socket_count(); i++)
		if (rte_socket_id_by_idx(i) == node)
			return true;
	return false;
}

#define MAX_LISTENERS 4

static struct {
	const struct region_listener *l[MAX_LISTENERS];
	unsigned int n;
	region_reap_fn *reap;
} hooks;

int
region_listener_add(const struct region_listener *l)
{
	unsigned int i;

	for (i = 0; i < hooks.n; i++)
		if (hooks.l[i] == l)
			return 0;
	if (hooks.n == MAX_LISTENERS)
		return -ENOSPC;
	hooks.l[hooks.n++] = l;
	return 0;
}

void
region_set_reaper(region_reap_fn *fn)
{
	hooks.reap = fn;
}

static unsigned int
reap_dead(void)
{
	return hooks.reap == NULL ? 0 : hooks.reap();
}

static int
default_socket(void)
{
	const struct remote_ops *ro = remote_active();
	int s = ro != NULL ? ro->numa_node() : -1;

	/* With an RDMA device, the node nearest to it (hwloc). */
	if (s >= 0 && socket_known(s))
		return s;
	s = (int)rte_socket_id();

	if (s == SOCKET_ID_ANY || !socket_known(s))
		s = (int)rte_lcore_to_socket_id(rte_get_main_lcore());
	if (s == SOCKET_ID_ANY || !socket_known(s))
		s = rte_socket_id_by_idx(0);
	return s;
}

/* The node the kernel really put the pages on; -1 if they disagree or cannot be read. */
static int
pages_node(const uint8_t *va, uint32_t npages, uint64_t page_sz)
{
	int node = -1;
	uint32_t i;

	for (i = 0; i < npages; i += 64) {
		void *pages[64];
		int status[64];
		uint32_t j, n = RTE_MIN(64u, npages - i);

		for (j = 0; j < n; j++)
			pages[j] = (void *)(uintptr_t)(va + (uint64_t)(i + j) * page_sz);
		if (move_pages(0, n, pages, NULL, status, 0) != 0)
			return -1;
		for (j = 0; j < n; j++) {
			if (status[j] < 0)
				return -1;
			if (node == -1)
				node = status[j];
			else if (node != status[j])
				return -1;
		}
	}
	return node;
}

static struct rz_region *
region_create(pid_t owner, size_t size, uint32_t perms, enum rz_cache_policy policy, int node,
		bool any_node)
{
	struct rz_table *t = tbl();
	struct region_entry *e = NULL;
	uint32_t i, npages, arena, first, grow = 0;
	int ret, socket, oslot, tries = 0;
	uint64_t pages64, id;

	if (t == NULL) {
		rte_errno = ENODEV;
		return NULL;
	}
	if (size == 0) {
		RZ_LOG(ERR, "size 0");
		rte_errno = EINVAL;
		return NULL;
	}
	if (perms == 0 || (perms & ~RZ_PERM_ALL) || !(perms & RZ_PERM_READ)) {
		RZ_LOG(ERR, "bad permission ceiling 0x%x (needs READ, only RZ_PERM_* bits)", perms);
		rte_errno = EINVAL;
		return NULL;
	}
	if ((unsigned int)policy > RZ_CACHE_WRITE_COMBINING) {
		RZ_LOG(ERR, "unknown cache policy %d", (int)policy);
		rte_errno = EINVAL;
		return NULL;
	}
	if (policy != RZ_CACHE_WRITE_BACK) {
		RZ_LOG(ERR, "cache policy %s cannot be honoured in userspace (hugepages are "
				"write-back; PAT is the kernel's)", policy_names[policy]);
		rte_errno = ENOTSUP;
		return NULL;
	}
	if (any_node) {
		socket = default_socket();
	} else if (node < 0 || node >= RTE_MAX_NUMA_NODES || !socket_known(node)) {
		RZ_LOG(ERR, "NUMA node %d out of range (the EAL knows %u nodes)", node,
				rte_socket_count());
		rte_errno = EINVAL;
		return NULL;
	} else {
		socket = node;
	}
	pages64 = (size / t->page_sz) + (size % t->page_sz != 0);
	if (pages64 > UINT32_MAX / 2) {
		RZ_LOG(ERR, "size %zu is larger than any hugepage pool", size);
		rte_errno = ENOMEM;
		return NULL;
	}
	npages = (uint32_t)pages64;

	oslot = proc_slot_of(owner);
	if (oslot < 0) {
		RZ_LOG(ERR, "owner pid %d is not an attached process", (int)owner);
		rte_errno = ESRCH;
		return NULL;
	}
	if ((uint32_t)oslot != local_proc.self) {
		RZ_LOG(ERR, "pid %d cannot create a region owned by pid %d", (int)local_proc.pid,
				(int)owner);
		rte_errno = EPERM;
		return NULL;
	}

again:
	ret = table_lock();
	if (ret < 0) {
		rte_errno = -ret;
		return NULL;
	}
	/* Slots below the hint are all taken: creation stays O(1) while regions only grow. */
	for (i = t->region_hint; i < RZ_MAX_REGIONS; i++) {
		if (t->regions[i].state == REGION_FREE) {
			e = &t->regions[i];
			break;
		}
	}
	if (e == NULL) {
		table_unlock();
		RZ_LOG(ERR, "region table full (%u regions)", RZ_MAX_REGIONS);
		rte_errno = ENOSPC;
		return NULL;
	}
	ret = arena_alloc_locked(socket, npages, &arena, &first, &grow);
	if (ret == -EAGAIN && tries++ < 4) {
		/* A new arena, reserved without the table lock (by the primary); another
		 * creator may take it first: try again, a few times. */
		table_unlock();
		ret = arena_grow(socket, grow);
		if (ret == -ENOMEM && grow > npages)
			/* Short of hugepages for a whole arena: exactly what is needed. */
			ret = arena_grow(socket, npages);
		if (ret == 0)
			goto again;
		rte_errno = -ret;
		return NULL;
	}
	if (ret < 0) {
		table_unlock();
		rte_errno = ret == -EAGAIN ? ENOMEM : -ret;
		return NULL;
	}
	fault_point("create.arena");
	/* Only now: a create that fails leaves the hint where it was (the slot is free). */
	t->region_hint = i + 1;
	table_zero(e, sizeof(*e));
	e->state = REGION_LIVE;
	e->perms = perms;
	e->size = (uint64_t)npages * t->page_sz;
	e->arena = arena;
	e->first_page = first;
	e->va = t->arenas[arena].va + (uint64_t)first * t->page_sz;
	e->numa_req = any_node ? RZ_NUMA_ANY : node;
	e->numa_node = pages_node(e->va, npages, t->page_sz);
	if (e->numa_node < 0)
		e->numa_node = t->arenas[arena].socket;
	e->policy = policy;
	e->owner = local_proc.self;
	e->owner_gen = local_proc.self_gen;
	e->created_ns = mono_time_ns();
	/* Counters are read lock-free (rz_stats_get()). */
	__atomic_add_fetch(&t->nregions, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&t->stats_created, 1, __ATOMIC_RELAXED);
	fault_point("create.fields");	/* live, no id yet: the repair frees it */
	id = (t->next_seq << RZ_SLOT_BITS) | i;
	__atomic_store_n(&t->next_seq, t->next_seq + 1, __ATOMIC_RELAXED);	/* read lock-free */
	__atomic_store_n(&e->id, id, __ATOMIC_RELEASE);
	fault_point("create.id");
	audit_record(AUDIT_REGION_CREATE, AUDIT_CAUSE_EXPLICIT, id, local_proc.pid,
			local_proc.pid, perms, 0, e->size, 0, 0);
	RZ_LOG(DEBUG, "region %#" PRIx64 ": %" PRIu64 " bytes on node %d at %p", id, e->size,
			e->numa_node, (void *)e->va);
	table_unlock();
	return region_handle(id);
}

struct rz_region *
rz_region_create(pid_t owner, size_t size, uint32_t perms)
{
	return region_create(owner, size, perms, RZ_CACHE_WRITE_BACK, 0, true);
}

struct rz_region *
rz_region_create_with_policy(pid_t owner, size_t size, enum rz_cache_policy policy,
		int numa_node)
{
	return region_create(owner, size, RZ_PERM_RW, policy, numa_node,
			numa_node == RZ_NUMA_ANY);
}

struct rz_region *
rz_region_create_numa(pid_t owner, size_t size, uint32_t perms, int numa_node)
{
	return region_create(owner, size, perms, RZ_CACHE_WRITE_BACK, numa_node, false);
}

/* Where a region's pages are, once it is out of the table. */
struct released {
	uint8_t *va;
	uint64_t size;
	uint32_t arena;
	uint32_t first_page;
	uint32_t npages;
};

/* Take a region out of the table (lookups fail from here on); its pages stay reserved. */
static void
region_unlink_locked(struct region_entry *e, struct released *rel)
{
	struct rz_table *t = tbl();
	uint32_t slot = region_slot(e);
	unsigned int i;

	for (i = 0; i < hooks.n; i++)
		hooks.l[i]->unlink_locked(e);
	__atomic_store_n(&e->id, 0, __ATOMIC_RELEASE);
	e->state = REGION_FREE;
	rel->va = e->va;
	rel->size = e->size;
	rel->arena = e->arena;
	rel->first_page = e->first_page;
	rel->npages = (uint32_t)(e->size / t->page_sz);
	__atomic_sub_fetch(&t->nregions, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&t->stats_destroyed, 1, __ATOMIC_RELAXED);
	if (slot < t->region_hint)
		t->region_hint = slot;
}

void
region_free_locked(struct region_entry *e)
{
	struct arena_gone gone;
	struct released rel;

	region_unlink_locked(e, &rel);
	/* The next region carved here starts zeroed, as DPDK's own allocations do; an arena
	 * that goes back to DPDK is zeroed by rte_memzone_free(). */
	if (!arena_zeroes_locked(rel.arena, rel.npages))
		memset(rel.va, 0, rel.size);
	if (arena_release_locked(rel.arena, rel.first_page, rel.npages, &gone))
		arena_defer_free_locked(&gone);	/* after the table lock: arena_flush() */
}

void
region_owner_leaves_locked(struct region_entry *e, uint32_t leaving)
{
	struct rz_table *t = tbl();
	uint32_t i, best = RZ_NO_SLOT, best_cow = RZ_NO_SLOT;
	uint64_t best_seq = UINT64_MAX, cow_seq = UINT64_MAX;

	/* The leaving owner's remote grants went with it: revoked by rz_fini(), or destroyed by
	 * the kernel with its RDMA context when it died. A destroy or transfer it had begun ends
	 * here: the region is freed, or is the oldest mapper's with nothing pending. */
	e->rgrants = 0;
	e->leaving = REGION_STAYS;
	/* The heir is the oldest mapper. A process that maps the region only through a
	 * Copy-on-write capability (read rights) is taken only if nobody else maps it, and then
	 * with the ceiling lowered to what its mapping allows: ownership never adds rights. */
	for (i = 0; i < RZ_MAX_PROCS; i++) {
		const struct map_entry *m = &e->maps[i];
		bool cow;

		if (i == leaving || m->addr == 0 || t->procs[i].state != PROC_LIVE)
			continue;
		cow = (m->flags & MAP_F_CAP) && m->cap_slot < RZ_MAX_CAPS &&
			t->caps[m->cap_slot].state == CAP_USED &&
			t->caps[m->cap_slot].mode == RZ_MODE_COPY_ON_WRITE;
		if (cow && m->seq < cow_seq) {
			cow_seq = m->seq;
			best_cow = i;
		} else if (!cow && m->seq < best_seq) {
			best_seq = m->seq;
			best = i;
		}
	}
	if (best == RZ_NO_SLOT && best_cow != RZ_NO_SLOT) {
		best = best_cow;
		__atomic_store_n(&e->perms, e->perms & (e->maps[best].perms | RZ_PERM_READ),
				__ATOMIC_RELAXED);	/* read by the lock-free getter */
		RZ_LOG(NOTICE, "region %#" PRIx64 ": only Copy-on-write mappers are left: the "
				"heir keeps its rights (ceiling now 0x%x)", e->id, e->perms);
	}
	if (best != RZ_NO_SLOT) {
		RZ_LOG(NOTICE, "region %#" PRIx64 ": owner pid %d left; pid %d (oldest mapper) "
				"owns it now", e->id, (int)t->procs[leaving].pid,
				(int)t->procs[best].pid);
		__atomic_store_n(&e->owner, best, __ATOMIC_RELAXED);
		e->owner_gen = t->procs[best].gen;
		audit_record(AUDIT_TRANSFER, AUDIT_CAUSE_OWNER_LEFT, e->id, t->procs[leaving].pid,
				t->procs[best].pid, e->perms, 0, 0, 0, 0);
		return;
	}
	audit_record(AUDIT_REGION_FREE, AUDIT_CAUSE_OWNER_LEFT, e->id, local_proc.pid,
			t->procs[leaving].pid, e->perms, 0, e->size, 0, 0);
	RZ_LOG(NOTICE, "region %#" PRIx64 ": owner pid %d left and nobody maps it: freed", e->id,
			(int)t->procs[leaving].pid);
	region_free_locked(e);
}

static int region_destroy(struct region_entry *e, uint64_t id);

/*
 * First half of a destroy: the checks that decide it, then the mark that keeps them true
 * while the owner's remote grants are revoked without the table lock (maps, capabilities,
 * grants of the region are refused with -EBUSY meanwhile). A destroy that fails here changes
 * nothing; once marked, it cannot fail. An owner killed while the mark is set leaves a region
 * nobody else maps: the reaper frees it.
 */
static int
destroy_begin(struct region_entry *e, uint64_t id)
{
	uint32_t i;
	int ret = table_lock();

	if (ret < 0)
		return ret;
	if (!region_is(e, id))
		ret = -ENOENT;
	else if (!owned_by_self_locked(e))
		ret = -EPERM;
	else
		ret = region_busy_locked(e, "destroy");
	if (ret == 0)
		ret = region_pinned_locked(e, "destroy");
	if (ret == -EPERM)
		RZ_LOG(ERR, "region %#" PRIx64 ": pid %d is not the owner (pid %d)", e->id,
				(int)local_proc.pid, (int)proc_pid(e->owner));
	for (i = 0; ret == 0 && i < RZ_MAX_PROCS; i++) {
		if (i != local_proc.self && e->maps[i].addr != 0) {
			RZ_LOG(ERR, "region %#" PRIx64 ": still mapped by pid %d", e->id,
					(int)proc_pid(i));
			ret = -EBUSY;
		}
	}
	if (ret == 0)
		e->leaving = REGION_LEAVING_DESTROY;
	table_unlock();
	return ret;
}

int
rz_region_destroy(struct rz_region *r)
{
	const struct remote_ops *ro;
	struct region_entry *e;
	uint64_t id;
	int ret;

	e = region_from_handle(r, &ret);
	if (e == NULL)
		return ret;
	id = handle_id(r);
	ret = destroy_begin(e, id);
	if (ret == -EBUSY && reap_dead() > 0)
		/* A dead process maps nothing: a mapper that died before the reaper's next
		 * round must not make destroy fail. */
		ret = destroy_begin(e, id);
	if (ret < 0)
		return ret;
	/* Remote peers lose access (invalidation completed) before the memory is zeroed and
	 * reused. */
	ro = remote_active();
	if (ro != NULL)
		ro->revoke_region(id);
	return region_destroy(e, id);
}

static int
region_destroy(struct region_entry *e, uint64_t id)
{
	struct zero_intent *intent;
	struct arena_gone gone;
	struct released rel;
	bool zero, goes = false;
	uint32_t i;
	int ret;

	ret = table_lock();
	if (ret < 0)
		return ret;
	if (!region_is(e, id)) {
		table_unlock();
		return -ENOENT;
	}
	if (!owned_by_self_locked(e) || e->leaving != REGION_LEAVING_DESTROY) {
		RZ_LOG(ERR, "region %#" PRIx64 ": pid %d is not the owner (pid %d)", e->id,
				(int)local_proc.pid, (int)proc_pid(e->owner));
		table_unlock();
		return -EPERM;
	}
	if (e->rgrants > 0) {
		/* A window could be neither invalidated nor freed (logged): the memory must
		 * not be reused under it. */
		RZ_LOG(ERR, "region %#" PRIx64 ": %u remote grant%s could not be revoked: not "
				"destroyed", e->id, e->rgrants, e->rgrants == 1 ? "" : "s");
		e->leaving = REGION_STAYS;
		table_unlock();
		return -EIO;
	}
	for (i = 0; i < RZ_MAX_PROCS; i++) {
		if (i != local_proc.self && e->maps[i].addr != 0) {
			/* Cannot happen: maps are refused while the region is leaving. */
			e->leaving = REGION_STAYS;
			RZ_LOG(ERR, "region %#" PRIx64 ": still mapped by pid %d", e->id,
					(int)proc_pid(i));
			table_unlock();
			return -EBUSY;
		}
	}
	/* The owner's own mapping is undone by the mapping layer's listener. */
	audit_record(AUDIT_REGION_DESTROY, AUDIT_CAUSE_EXPLICIT, id, local_proc.pid, 0, e->perms,
			0, e->size, 0, 0);
	region_unlink_locked(e, &rel);
	fault_point("destroy.unlinked");
	zero = !arena_zeroes_locked(rel.arena, rel.npages);
	intent = zero ? zero_intent_add_locked(rel.arena, rel.first_page, rel.npages) : NULL;
	if (zero && intent == NULL) {
		/* No intent record free: zero under the lock rather than risk the pages. */
		memset(rel.va, 0, rel.size);
		zero = false;
	}
	if (!zero)
		goes = arena_release_locked(rel.arena, rel.first_page, rel.npages, &gone);
	table_unlock();

	/* Zeroing and freeing take long (2 ms for 64 MiB): not under the instance's lock. The
	 * pages stay reserved in the arena until they are clean; the intent record says whose
	 * they are, so that they are not lost if this process dies meanwhile. */
	if (zero) {
		memset(rel.va, 0, rel.size / 2);
		fault_point("destroy.zeroing");
		memset(rel.va + rel.size / 2, 0, rel.size - rel.size / 2);
		ret = table_lock();
		if (ret < 0)
			return ret;
		goes = arena_release_locked(rel.arena, rel.first_page, rel.npages, &gone);
		zero_intent_clear_locked(intent);
		fault_point("destroy.released");
		table_unlock();
	}
	if (goes)
		arena_gone_free(&gone);
	return 0;
}

struct rz_region *
rz_region_lookup(uint64_t id)
{
	struct region_entry *e;

	if (tbl() == NULL) {
		rte_errno = ENODEV;
		return NULL;
	}
	e = region_by_id(id);
	if (e == NULL) {
		rte_errno = ENOENT;
		return NULL;
	}
	return region_handle(id);
}

int
rz_region_walk(int (*cb)(struct rz_region *r, void *arg), void *arg)
{
	struct rz_table *t = tbl();
	uint32_t i;
	int ret;

	if (t == NULL)
		return -ENODEV;
	if (cb == NULL)
		return -EINVAL;
	for (i = 0; i < RZ_MAX_REGIONS; i++) {
		uint64_t id = __atomic_load_n(&t->regions[i].id, __ATOMIC_ACQUIRE);

		if (id == 0)
			continue;
		ret = cb(region_handle(id), arg);
		if (ret != 0)
			return ret;
	}
	return 0;
}

int
rz_region_count(void)
{
	if (tbl() == NULL)
		return -ENODEV;
	return (int)__atomic_load_n(&tbl()->nregions, __ATOMIC_RELAXED);
}

int
rz_stats_get(struct rz_stats *stats)
{
	struct rz_table *t = tbl();

	if (stats == NULL)
		return -EINVAL;
	if (t == NULL)
		return -ENODEV;
	stats->regions = __atomic_load_n(&t->nregions, __ATOMIC_RELAXED);
	stats->capabilities = __atomic_load_n(&t->ncaps, __ATOMIC_RELAXED);
	stats->created = __atomic_load_n(&t->stats_created, __ATOMIC_RELAXED);
	stats->destroyed = __atomic_load_n(&t->stats_destroyed, __ATOMIC_RELAXED);
	stats->reaped = __atomic_load_n(&t->stats_reaped, __ATOMIC_RELAXED);
	stats->ipc_rejected = __atomic_load_n(&t->stats_ipc_rejected, __ATOMIC_RELAXED);
	return 0;
}

/* Lock-free getters: read, then check the region was not destroyed meanwhile. */
#define GETTER(e, r, errval, expr) do {					\
		int err_;						\
		uint64_t id_;						\
		__typeof__(expr) v_;					\
		(e) = region_from_handle((r), &err_);			\
		if ((e) == NULL) {					\
			rte_errno = -err_;				\
			return (errval);				\
		}							\
		id_ = handle_id(r);					\
		v_ = (expr);						\
		if (!region_is((e), id_)) {				\
			rte_errno = ENOENT;				\
			return (errval);				\
		}							\
		return v_;						\
	} while (0)

uint64_t
rz_region_id(const struct rz_region *r)
{
	struct region_entry *e;

	GETTER(e, r, 0, id_);
}

size_t
rz_region_size(const struct rz_region *r)
{
	struct region_entry *e;

	GETTER(e, r, 0, (size_t)e->size);
}

uint32_t
rz_region_perms(const struct rz_region *r)
{
	struct region_entry *e;

	GETTER(e, r, 0, __atomic_load_n(&e->perms, __ATOMIC_RELAXED));
}

void *
rz_region_addr(const struct rz_region *r)
{
	struct region_entry *e;

	GETTER(e, r, NULL, (void *)e->va);
}

int
rz_region_numa_node(const struct rz_region *r)
{
	struct region_entry *e;

	GETTER(e, r, -rte_errno, e->numa_node);
}

pid_t
rz_region_owner(const struct rz_region *r)
{
	struct region_entry *e;

	GETTER(e, r, -rte_errno, proc_pid(__atomic_load_n(&e->owner, __ATOMIC_RELAXED)));
}

rte_iova_t
rz_region_physical_base(const struct rz_region *r)
{
	struct region_entry *e;

	GETTER(e, r, RTE_BAD_IOVA, rte_mem_virt2iova(e->va));
}

int
rz_region_iova_chunks(const struct rz_region *r, struct rz_iova_chunk *chunks, unsigned int n)
{
	struct region_entry *e;
	uint64_t off, page_sz;
	int err, count = 0;
	rte_iova_t next = RTE_BAD_IOVA;

	e = region_from_handle(r, &err);
	if (e == NULL)
		return err;
	if (chunks == NULL && n > 0)
		return -EINVAL;
	page_sz = tbl()->page_sz;
	for (off = 0; off < e->size; off += page_sz) {
		rte_iova_t iova = rte_mem_virt2iova(e->va + off);

		if (count > 0 && iova == next && iova != RTE_BAD_IOVA) {
			if ((unsigned int)count <= n)
				chunks[count - 1].len += page_sz;
		} else {
			if ((unsigned int)count < n) {
				chunks[count].iova = iova;
				chunks[count].len = page_sz;
				chunks[count].offset = off;
			}
			count++;
		}
		next = iova == RTE_BAD_IOVA ? RTE_BAD_IOVA : iova + page_sz;
	}
	if (!region_is(e, handle_id(r)))
		return -ENOENT;	/* destroyed meanwhile: what was read may be another's */
	return count;
}

static const char *
perms_str(uint32_t p, char *buf)
{
	buf[0] = (p & RZ_PERM_READ) ? 'r' : '-';
	buf[1] = (p & RZ_PERM_WRITE) ? 'w' : '-';
	buf[2] = (p & RZ_PERM_EXEC) ? 'x' : '-';
	buf[3] = '\0';
	return buf;
}

int
rz_region_dump(FILE *f, const struct rz_region *r)
{
	const struct remote_ops *ro;
	struct rz_table *t = tbl();
	struct region_entry *e;
	char pb[4];
	uint32_t i;
	int err, nchunks;

	if (f == NULL)
		return -EINVAL;
	e = region_from_handle(r, &err);
	if (e == NULL)
		return err;
	nchunks = rz_region_iova_chunks(r, NULL, 0);
	fprintf(f, "region %#" PRIx64 " {\n", handle_id(r));
	fprintf(f, "  size:         %" PRIu64 " bytes (%" PRIu64 " x %" PRIu64 " kB pages)\n",
			e->size, e->size / t->page_sz, t->page_sz >> 10);
	fprintf(f, "  ceiling:      %s\n", perms_str(e->perms, pb));
	fprintf(f, "  owner:        pid %d (slot %u)\n", (int)proc_pid(e->owner), e->owner);
	fprintf(f, "  dpdk address: %p\n", (void *)e->va);
	fprintf(f, "  iova:         %#" PRIx64 " (%d contiguous chunk%s)\n",
			(uint64_t)rte_mem_virt2iova(e->va), nchunks, nchunks == 1 ? "" : "s");
	fprintf(f, "  numa node:    %d (requested: %s%d)\n", e->numa_node,
			e->numa_req == RZ_NUMA_ANY ? "any, default " : "",
			e->numa_req == RZ_NUMA_ANY ? t->arenas[e->arena].socket : e->numa_req);
	fprintf(f, "  cache policy: %s\n", policy_names[e->policy]);
	ro = remote_active();
	if (ro != NULL)
		fprintf(f, "  rdma device:  %s (nearest NUMA node %d)\n", ro->device_name(),
				ro->numa_node());
	fprintf(f, "  arena:        %s, pages %u..%" PRIu64 "\n", t->arenas[e->arena].name,
			e->first_page, e->first_page + e->size / t->page_sz - 1);
	fprintf(f, "  created:      %" PRIu64 " ns (monotonic)\n", e->created_ns);
	fprintf(f, "  capabilities: %u outstanding\n", e->ncaps);
	fprintf(f, "  mappings:     %u\n", e->nmaps);
	for (i = 0; i < RZ_MAX_PROCS; i++) {
		const struct map_entry *m = &e->maps[i];

		if (m->addr == 0)
			continue;
		fprintf(f, "    pid %d: %#" PRIx64 " %s%s%s\n", (int)proc_pid(i), m->addr,
				perms_str(m->perms, pb), (m->flags & MAP_F_VIEW) ? " view" : "",
				(m->flags & MAP_F_CAP) ? " (capability)" : "");
	}
	fprintf(f, "}\n");
	return 0;
}

int
rz_dump(FILE *f)
{
	struct rz_table *t = tbl();
	uint32_t i;

	if (f == NULL)
		return -EINVAL;
	if (t == NULL)
		return -ENODEV;
	fprintf(f, "rzone %s: %u regions, %u capabilities, hugepage %" PRIu64 " kB; "
			"created %" PRIu64 ", destroyed %" PRIu64 ", "
			"processes reaped %" PRIu64 "\n",
			RZ_VERSION, t->nregions, t->ncaps, t->page_sz >> 10, t->stats_created,
			t->stats_destroyed, t->stats_reaped);
	rz_process_dump(f);
	fprintf(f, "arenas:\n");
	for (i = 0; i < RZ_MAX_ARENAS; i++) {
		const struct arena *a = &t->arenas[i];

		if (a->state == ARENA_LIVE)
			fprintf(f, "  %s: node %d, %u/%u pages used, at %p\n", a->name, a->socket,
					a->nused, a->npages, (void *)a->va);
	}
	for (i = 0; i < RZ_MAX_REGIONS; i++) {
		uint64_t id = __atomic_load_n(&t->regions[i].id, __ATOMIC_ACQUIRE);

		if (id != 0)
			rz_region_dump(f, region_handle(id));
	}
	return 0;
}
