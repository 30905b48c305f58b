/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * Mappings. A process holds at most one mapping of a region:
 *  - at the DPDK shared address (the memzone's own mapping, which every process of the
 *    instance has), protected in that process with mprotect() to the mapping's permissions;
 *  - or a view: the same hugepage files mapped again at a chosen address with exactly the
 *    mapping's permissions (MAP_SHARED | MAP_FIXED_NOREPLACE, one mmap per hugepage).
 * The record in the shared table is written under the table lock; its address word is read
 * lock-free by get_mapping.
 * Another process's mapping is made by that process, asked over IPC (lib/mp); mapping_init()
 * registers the function that serves those requests.
 */

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>

#include <rte_memory.h>

#include "audit_private.h"
#include "core_private.h"
#include "mapping_private.h"
#include "mp_private.h"
#include "proc_private.h"
#include "region_private.h"
#include "remote_ops.h"

/* Registered by lib/capability: a mapping made by a capability went away. */
static mapping_cap_gone_fn *cap_gone;

void
mapping_set_cap_gone(mapping_cap_gone_fn *fn)
{
	cap_gone = fn;
}

static int
perms_prot(uint32_t perms)
{
	return ((perms & RZ_PERM_READ) ? PROT_READ : 0) |
		((perms & RZ_PERM_WRITE) ? PROT_WRITE : 0) |
		((perms & RZ_PERM_EXEC) ? PROT_EXEC : 0);
}

int
map_check_locked(const struct region_entry *e, uint32_t requester, uint32_t target, void *vaddr,
		uint32_t perms, bool by_cap)
{
	uint64_t page_sz = tbl()->page_sz;

	if (perms == 0 || (perms & ~RZ_PERM_ALL)) {
		RZ_LOG(ERR, "region %#" PRIx64 ": bad permissions 0x%x", e->id, perms);
		return -EINVAL;
	}
	if (region_busy_locked(e, by_cap ? "capability use" : "mapping") < 0)
		return -EBUSY;
	if ((uintptr_t)vaddr % page_sz != 0) {
		RZ_LOG(ERR, "region %#" PRIx64 ": view address %p is not aligned to the %" PRIu64
				" kB hugepage size", e->id, vaddr, page_sz >> 10);
		return -EINVAL;
	}
	if (!by_cap && (requester != e->owner ||
			(requester == local_proc.self && !owned_by_self_locked(e)))) {
		RZ_LOG(ERR, "region %#" PRIx64 ": pid %d may not map it into pid %d: only the "
				"owner (pid %d) maps; others need a capability", e->id,
				(int)proc_pid(requester), (int)proc_pid(target),
				(int)proc_pid(e->owner));
		return -EPERM;
	}
	if (perms & ~e->perms) {
		RZ_LOG(ERR, "region %#" PRIx64 ": permissions 0x%x exceed the ceiling 0x%x", e->id,
				perms, e->perms);
		return -EPERM;
	}
	if (e->maps[target].addr != 0) {
		RZ_LOG(ERR, "region %#" PRIx64 ": pid %d maps it already", e->id,
				(int)proc_pid(target));
		return -EEXIST;
	}
	return 0;
}

static int
view_map(const struct region_entry *e, uint8_t *vaddr, int prot)
{
	uint64_t page_sz = tbl()->page_sz, off;
	int ret = 0;

	for (off = 0; off < e->size; off += page_sz) {
		struct rte_memseg *ms = rte_mem_virt2memseg(e->va + off, NULL);
		size_t fd_off = 0;
		void *p;
		int fd;

		/* The _thread_unsafe variants take no DPDK lock: DPDK's memory lock is not robust,
		 * and a process killed while it held it (even as a reader) would wedge every later
		 * allocation of the instance. Safe here: the region is live under the table lock,
		 * so its arena memzone, its memsegs and this process's descriptors of their
		 * hugepage files stay as they are (only the primary frees an arena, once empty). */
		fd = ms == NULL ? -1 : rte_memseg_get_fd_thread_unsafe(ms);
		if (fd < 0 || rte_memseg_get_fd_offset_thread_unsafe(ms, &fd_off) < 0) {
			RZ_LOG(ERR, "region %#" PRIx64 ": no hugepage file behind %p (EAL runs "
					"--in-memory or without hugetlbfs?)", e->id,
					(void *)(e->va + off));
			ret = -ENOTSUP;
			break;
		}
		p = mmap(vaddr + off, page_sz, prot, MAP_SHARED | MAP_FIXED_NOREPLACE, fd,
				(off_t)fd_off);
		if (p == MAP_FAILED) {
			ret = errno == EEXIST ? -EADDRINUSE : -errno;
			RZ_LOG(ERR, "region %#" PRIx64 ": view at %p: %s", e->id,
					(void *)(vaddr + off), ret == -EADDRINUSE ?
					"overlaps an existing mapping" : strerror(errno));
			break;
		}
		if (p != vaddr + off) {
			/* A kernel that ignores MAP_FIXED_NOREPLACE treats it as a hint. */
			munmap(p, page_sz);
			RZ_LOG(ERR, "region %#" PRIx64 ": view at %p overlaps a mapping", e->id,
					(void *)(vaddr + off));
			ret = -EADDRINUSE;
			break;
		}
	}
	if (ret < 0 && off > 0)
		munmap(vaddr, off);
	return ret;
}

int
map_self_locked(struct region_entry *e, void *vaddr, uint32_t perms, uint32_t flags,
		uint32_t cap_slot)
{
	struct rz_table *t = tbl();
	struct map_entry *m = &e->maps[local_proc.self];
	int prot = perms_prot(perms), ret;
	uint8_t *addr;

	if (vaddr == NULL) {
		addr = e->va;
		if (mprotect(addr, e->size, prot) < 0) {
			ret = -errno;
			RZ_LOG(ERR, "region %#" PRIx64 ": mprotect: %s", e->id, strerror(errno));
			return ret;
		}
	} else {
		addr = vaddr;
		ret = view_map(e, addr, prot);
		if (ret < 0)
			return ret;
		flags |= MAP_F_VIEW;
	}
	__atomic_store_n(&m->perms, perms, __ATOMIC_RELAXED);	/* read lock-free */
	m->flags = flags;
	m->cap_slot = cap_slot;
	m->seq = ++t->map_seq;
	e->nmaps++;
	fault_point("map.counted");	/* counted, not recorded: the repair recounts */
	__atomic_store_n(&m->addr, (uint64_t)(uintptr_t)addr, __ATOMIC_RELEASE);
	return 0;
}

void
mapping_clear_locked(struct region_entry *e, uint32_t slot)
{
	struct map_entry *m = &e->maps[slot];

	if (m->addr == 0)
		return;
	__atomic_store_n(&m->addr, 0, __ATOMIC_RELEASE);
	fault_point("unmap.cleared");	/* cleared, still counted */
	if ((m->flags & MAP_F_CAP) && cap_gone != NULL)
		cap_gone(m->cap_slot);
	/* Not the address word again: lock-free readers load it (a plain store would race). */
	__atomic_store_n(&m->perms, 0, __ATOMIC_RELAXED);
	m->flags = 0;
	m->seq = 0;
	m->cap_slot = 0;
	m->pad = 0;
	e->nmaps--;
}

void
unmap_self_locked(struct region_entry *e)
{
	struct map_entry *m = &e->maps[local_proc.self];
	void *addr = (void *)(uintptr_t)m->addr;

	if (addr == NULL)
		return;
	if (m->flags & MAP_F_VIEW) {
		/* munmap flushes this range from every CPU's TLB before it returns. */
		if (munmap(addr, e->size) < 0)
			RZ_LOG(ERR, "region %#" PRIx64 ": munmap %p: %s", e->id, addr,
					strerror(errno));
	} else if (mprotect(e->va, e->size, PROT_READ | PROT_WRITE) < 0) {
		RZ_LOG(ERR, "region %#" PRIx64 ": mprotect: %s", e->id, strerror(errno));
	}
	mapping_clear_locked(e, local_proc.self);
}

static bool
expired(uint64_t deadline_ns)
{
	if (deadline_ns == 0 || mono_time_ns() <= deadline_ns)
		return false;
	RZ_LOG(ERR, "IPC request arrived after its deadline: refused");
	return true;
}

int
map_local(uint64_t region_id, uint32_t requester, void *vaddr, uint32_t perms,
		uint64_t deadline_ns)
{
	struct region_entry *e;
	int ret;

	ret = table_lock();
	if (ret < 0)
		return ret;
	e = region_by_id(region_id);
	if (expired(deadline_ns)) {
		ret = -ETIMEDOUT;
	} else if (e == NULL) {
		RZ_LOG(ERR, "region %#" PRIx64 " does not exist", region_id);
		ret = -ENOENT;
	} else {
		/* A remote requester's slot and generation were checked by the IPC layer. */
		ret = map_check_locked(e, requester, local_proc.self, vaddr, perms, false);
		if (ret == 0)
			ret = map_self_locked(e, vaddr, perms, 0, RZ_NO_SLOT);
	}
	table_unlock();
	return ret;
}

int
unmap_local(uint64_t region_id, uint32_t requester, uint64_t deadline_ns)
{
	struct region_entry *e;
	int ret;

	ret = table_lock();
	if (ret < 0)
		return ret;
	e = region_by_id(region_id);
	if (expired(deadline_ns)) {
		ret = -ETIMEDOUT;
	} else if (e == NULL) {
		RZ_LOG(ERR, "region %#" PRIx64 " does not exist", region_id);
		ret = -ENOENT;
	} else if (requester != local_proc.self && requester != e->owner) {
		RZ_LOG(ERR, "region %#" PRIx64 ": pid %d may not unmap it from pid %d",
				region_id, (int)proc_pid(requester), (int)local_proc.pid);
		ret = -EPERM;
	} else if (region_busy_locked(e, "unmap") < 0) {
		ret = -EBUSY;	/* a transfer to us may be waiting for our mapping */
	} else if (e->maps[local_proc.self].addr == 0) {
		RZ_LOG(ERR, "region %#" PRIx64 ": pid %d does not map it", region_id,
				(int)local_proc.pid);
		ret = -ENOENT;
	} else {
		unmap_self_locked(e);
		ret = 0;
	}
	table_unlock();
	return ret;
}

static int
target_slot(pid_t process)
{
	int slot = proc_slot_of(process);

	if (slot < 0 || !proc_alive((uint32_t)slot)) {
		RZ_LOG(ERR, "pid %d is not a live attached process", (int)process);
		return -ESRCH;
	}
	return slot;
}

/* While a remote peer owns a region, only it may be granted anything (doc/guide.md, "Peers"). */
int
remote_owner_check(uint64_t id, const char *what)
{
	const struct remote_ops *ro = remote_active();
	pid_t owner = ro != NULL ? ro->region_owner(id) : 0;

	if (owner == 0)
		return 0;
	RZ_LOG(ERR, "region %#" PRIx64 " is owned by peer %d: only it may be granted, no %s",
			id, (int)owner, what);
	return -EPERM;
}

int
rz_region_map(struct rz_region *r, pid_t process, void *virtual_base, uint32_t perms)
{
	struct region_entry *e;
	uint64_t id;
	int ret, target;

	e = region_from_handle(r, &ret);
	if (e == NULL)
		return ret;
	if (remote_pid_is_peer(process)) {
		const struct remote_ops *ro = remote_for_peer(process, &ret);

		return ro == NULL ? ret : ro->map(r, process, virtual_base, perms);
	}
	id = handle_id(r);
	ret = remote_owner_check(id, "mapping");
	if (ret < 0)
		return ret;
	target = target_slot(process);
	if (target < 0)
		return target;
	if ((uint32_t)target == local_proc.self)
		return map_local(id, local_proc.self, virtual_base, perms, 0);
	/* Fail fast here with the same checks the target will make. */
	ret = table_lock();
	if (ret < 0)
		return ret;
	ret = region_by_id(id) == NULL ? -ENOENT :
		map_check_locked(e, local_proc.self, (uint32_t)target, virtual_base, perms,
				false);
	table_unlock();
	if (ret < 0)
		return ret;
	return mp_remote_map((uint32_t)target, id, virtual_base, perms);
}

int
rz_region_unmap(struct rz_region *r, pid_t process)
{
	struct region_entry *e;
	uint64_t id;
	int ret, target;

	e = region_from_handle(r, &ret);
	if (e == NULL)
		return ret;
	if (remote_pid_is_peer(process)) {
		const struct remote_ops *ro = remote_for_peer(process, &ret);

		return ro == NULL ? ret : ro->unmap(r, process);
	}
	id = handle_id(r);
	target = target_slot(process);
	if (target < 0)
		return target;
	if ((uint32_t)target == local_proc.self)
		return unmap_local(id, local_proc.self, 0);
	ret = table_lock();
	if (ret < 0)
		return ret;
	if (region_by_id(id) == NULL) {
		ret = -ENOENT;
	} else if (!owned_by_self_locked(e)) {
		RZ_LOG(ERR, "region %#" PRIx64 ": pid %d is not the owner and may not unmap pid %d",
				id, (int)local_proc.pid, (int)process);
		ret = -EPERM;
	} else if (e->maps[target].addr == 0) {
		RZ_LOG(ERR, "region %#" PRIx64 ": pid %d does not map it", id, (int)process);
		ret = -ENOENT;
	}
	table_unlock();
	if (ret < 0)
		return ret;
	return mp_remote_unmap((uint32_t)target, id);
}

static const struct map_entry *
mapping_of(const struct rz_region *r, pid_t process, uint64_t *addr)
{
	const struct region_entry *e;
	int err, slot;
	uint64_t id;

	e = region_from_handle(r, &err);
	if (e == NULL) {
		rte_errno = -err;
		return NULL;
	}
	id = handle_id(r);
	slot = proc_slot_of(process);
	if (slot < 0) {
		rte_errno = ESRCH;
		return NULL;
	}
	*addr = __atomic_load_n(&e->maps[slot].addr, __ATOMIC_ACQUIRE);
	if (*addr == 0 || !region_is(e, id)) {
		rte_errno = ENOENT;
		return NULL;
	}
	return &e->maps[slot];
}

void *
rz_region_get_mapping(const struct rz_region *r, pid_t process)
{
	uint64_t addr;
	uint32_t perms;
	int ret;

	if (remote_pid_is_peer(process)) {
		const struct remote_ops *ro = remote_for_peer(process, &ret);

		if (ro != NULL)
			ret = ro->mapping(r, process, &addr, &perms);
		if (ret < 0) {
			rte_errno = -ret;
			return NULL;
		}
		return (void *)(uintptr_t)addr;
	}
	if (mapping_of(r, process, &addr) == NULL)
		return NULL;
	return (void *)(uintptr_t)addr;
}

int
rz_region_get_mapping_perms(const struct rz_region *r, pid_t process)
{
	const struct map_entry *m;
	uint64_t addr;
	uint32_t perms;
	int ret;

	if (remote_pid_is_peer(process)) {
		const struct remote_ops *ro = remote_for_peer(process, &ret);

		if (ro != NULL)
			ret = ro->mapping(r, process, &addr, &perms);
		return ret < 0 ? ret : (int)perms;
	}
	m = mapping_of(r, process, &addr);
	if (m == NULL)
		return -rte_errno;
	perms = __atomic_load_n(&m->perms, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&m->addr, __ATOMIC_ACQUIRE) != addr)
		return -ENOENT;
	return (int)perms;
}

/* The checks of a transfer to process slot @target, table lock held. */
static int
transfer_check_locked(struct region_entry *e, uint64_t id, int target, pid_t new_owner)
{
	if (!region_is(e, id))
		return -ENOENT;
	if (!owned_by_self_locked(e)) {
		RZ_LOG(ERR, "region %#" PRIx64 ": pid %d is not the owner (pid %d)", e->id,
				(int)local_proc.pid, (int)proc_pid(e->owner));
		return -EPERM;
	}
	if (e->maps[target].addr == 0) {
		RZ_LOG(ERR, "region %#" PRIx64 ": new owner pid %d does not map it", e->id,
				(int)new_owner);
		return -EINVAL;
	}
	return 0;
}

/*
 * Checks, then (if this process holds remote grants on the region) the leaving mark, the
 * grants revoked without the table lock, and the transfer; the mark keeps the checks true
 * meanwhile (the new owner cannot unmap), except the new owner's death: -ESRCH then, with the
 * grants revoked. An owner killed while the mark is set: the reaper gives the region to its
 * oldest mapper, as for any owner that dies.
 */
int
rz_region_transfer_ownership(struct rz_region *r, pid_t new_owner)
{
	const struct remote_ops *ro;
	struct region_entry *e;
	int ret, target;
	uint64_t id;

	e = region_from_handle(r, &ret);
	if (e == NULL)
		return ret;
	id = handle_id(r);
	if (remote_pid_is_peer(new_owner)) {
		ro = remote_for_peer(new_owner, &ret);

		return ro == NULL ? ret : ro->transfer(r, new_owner);
	}
	ret = remote_owner_check(id, "transfer");
	if (ret < 0)
		return ret;
	target = target_slot(new_owner);
	if (target < 0)
		return target;
	ret = table_lock();
	if (ret < 0)
		return ret;
	ret = transfer_check_locked(e, id, target, new_owner);
	if (ret == 0)
		ret = region_busy_locked(e, "transfer");
	if (ret == 0)
		ret = region_pinned_locked(e, "transfer");
	ro = remote_active();
	if (ret == 0 && ro != NULL && e->rgrants > 0) {
		/* Ownership does not leave with this process's windows still bound. */
		e->leaving = REGION_LEAVING_TRANSFER;
		table_unlock();
		ro->revoke_region(id);
		ret = table_lock();
		if (ret < 0)
			return ret;
		if (e->leaving == REGION_LEAVING_TRANSFER)
			e->leaving = REGION_STAYS;
		ret = transfer_check_locked(e, id, target, new_owner);
		if (ret == 0 && e->rgrants > 0) {
			RZ_LOG(ERR, "region %#" PRIx64 ": %u remote grant%s could not be revoked: "
					"not transferred", e->id, e->rgrants,
					e->rgrants == 1 ? "" : "s");
			ret = -EIO;
		}
		if (ret == 0 && !proc_alive((uint32_t)target)) {
			RZ_LOG(ERR, "region %#" PRIx64 ": new owner pid %d died", e->id,
					(int)new_owner);
			ret = -ESRCH;
		}
	}
	if (ret == 0) {
		fault_point("transfer.locked");
		/* Atomic: rz_region_owner() reads it without the lock. */
		__atomic_store_n(&e->owner, (uint32_t)target, __ATOMIC_RELAXED);
		fault_point("transfer.owner");
		e->owner_gen = tbl()->procs[target].gen;
		e->rgrants = 0;
		RZ_LOG(INFO, "region %#" PRIx64 ": owner pid %d -> pid %d", e->id,
				(int)local_proc.pid, (int)new_owner);
	}
	audit_record(AUDIT_TRANSFER, AUDIT_CAUSE_EXPLICIT, id, local_proc.pid, new_owner,
			ret == 0 ? e->perms : 0, ret, 0, 0, 0);
	table_unlock();
	return ret;
}

/* mp's server: a MAP, UNMAP (or, in the primary, ARENA) another process asked of this one. */
static int
serve(const struct rz_mp_msg *m, uint64_t *addr)
{
	struct region_entry *e;
	int ret;

	if (m->op == RZ_MP_OP_ARENA)
		return arena_reserve(m->socket, m->npages);	/* a secondary asked (primary) */
	if (m->op == RZ_MP_OP_MAP)
		ret = map_local(m->region_id, m->requester, (void *)(uintptr_t)m->vaddr, m->perms,
				m->deadline_ns);
	else
		ret = unmap_local(m->region_id, m->requester, m->deadline_ns);
	if (ret == 0 && m->op == RZ_MP_OP_MAP) {
		e = region_by_id(m->region_id);
		*addr = e == NULL ? 0 : __atomic_load_n(&e->maps[local_proc.self].addr,
				__ATOMIC_ACQUIRE);
	}
	return ret;
}

/* A region leaves the table: this process's own mapping of it goes first. */
static void
region_unlinked_locked(struct region_entry *e)
{
	if (e->maps[local_proc.self].addr != 0)
		unmap_self_locked(e);
}

static const struct region_listener listener = {
	.name = "mapping",
	.unlink_locked = region_unlinked_locked,
};

int
mapping_init(void)
{
	mp_set_server(serve);
	return region_listener_add(&listener);
}
