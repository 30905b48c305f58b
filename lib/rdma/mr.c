/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * Memory registration. One MR per arena per process, made on first use and replaced when its
 * arena slot holds a new arena (rz_rdma_register(), rz_rdma_region_lkey()); MRs of exactly a
 * granted range, for devices whose windows are not bounded to their range (range_mr); plain
 * registrations of application memory (rz_rdma_register_mem()). None has a remote right:
 * remote access goes through memory windows (mw.c) bound over them.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_tailq.h>

#include "rdma_private.h"

struct ibv_mr *
rdma_reg_mr_locked(void *addr, size_t len, int *err)
{
	/* LOCAL_WRITE (reads and atomics land here) and MW_BIND (windows are bound over it).
	 * No remote right: the MR's own rkey opens nothing; remote access only goes through
	 * memory windows, whose rights are those of each grant. */
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_MW_BIND;
	struct ibv_mr *mr;

	if (rdma_state.n_mr + 1 > rdma_state.max_mr) {
		RZ_LOG(ERR, "%s: registering %zu bytes would exceed max_mr %u (%u in use)",
				rdma_state.name, len, rdma_state.max_mr, rdma_state.n_mr);
		*err = -ENOSPC;
		return NULL;
	}
	mr = ibv_reg_mr(rdma_state.pd, addr, len, access);
	if (mr == NULL) {
		*err = rdma_errno(-1);
		if (*err == -EIO)
			*err = -ENOMEM;
		RZ_LOG(ERR, "ibv_reg_mr(%p, %zu) on %s: %s%s", addr, len, rdma_state.name,
				strerror(-*err), *err == -EPERM || *err == -ENOMEM ?
				" (check ulimit -l)" : "");
		return NULL;
	}
	rdma_state.n_mr++;
	*err = 0;
	return mr;
}

struct ibv_mr *
rdma_region_mr_locked(struct rz_region *r, void **addr, size_t *len, uint64_t *region_id,
		uint32_t *perms)
{
	struct region_entry *e;
	struct rz_table *t;
	struct arena *a;
	struct arena_mr *am;
	void *a_va;
	size_t a_len;
	uint64_t a_seq;
	uint32_t idx;
	int err;

	if (tbl() == NULL) {
		rte_errno = ENODEV;
		return NULL;
	}
	e = region_from_handle(r, &err);
	if (e == NULL) {
		rte_errno = -err;
		return NULL;
	}
	t = tbl();
	err = table_lock();
	if (err != 0) {
		rte_errno = -err;
		return NULL;
	}
	if (!region_is(e, handle_id(r)) || e->arena >= RZ_MAX_ARENAS) {
		table_unlock();
		rte_errno = ENOENT;
		return NULL;
	}
	idx = e->arena;
	a = &t->arenas[idx];
	a_va = a->va;
	a_len = (size_t)a->npages * t->page_sz;
	a_seq = a->seq;
	*addr = e->va;
	*len = e->size;
	*region_id = e->id;
	*perms = e->perms;
	table_unlock();

	am = &rdma_state.arena_mr[idx];
	if (am->mr != NULL && am->seq != a_seq) {
		/* The arena this MR was made for is gone; its slot holds a new one. */
		ibv_dereg_mr(am->mr);
		rdma_state.n_mr--;
		am->mr = NULL;
	}
	if (am->mr == NULL) {
		am->mr = rdma_reg_mr_locked(a_va, a_len, &err);
		if (am->mr == NULL) {
			rte_errno = -err;
			return NULL;
		}
		am->seq = a_seq;
		RZ_LOG(DEBUG, "arena %u: %zu bytes at %p registered, lkey 0x%x", idx, a_len,
				a_va, am->mr->lkey);
	}
	return am->mr;
}

/* The lkey lets the device read the region (sends, writes) and write into it (LOCAL_WRITE:
 * receives, reads, atomics): only a process that maps it read-write may have one. The device
 * checks the MR (the whole arena), not this process's page protections: rzone checks here. */
static int
register_rights_check(struct rz_region *r)
{
	int perms = rz_region_get_mapping_perms(r, RZ_PID_SELF);

	if (perms == -ENOENT && rz_region_id(r) != 0)
		perms = 0;	/* the region exists; this process does not map it */
	if (perms < 0)
		return perms;
	if ((perms & RZ_PERM_RW) != RZ_PERM_RW) {
		RZ_LOG(ERR, "region %#" PRIx64 ": pid %d %s: its lkey lets the device read and "
				"write it; map it read-write first", rz_region_id(r),
				(int)local_proc.pid, perms == 0 ? "does not map it" :
				"maps it read-only");
		return -EACCES;
	}
	return 0;
}

int
rz_rdma_register(struct rz_region *r, struct rz_rdma_mem *mem)
{
	struct ibv_mr *mr;
	uint64_t id;
	uint32_t perms;
	void *addr;
	size_t len;
	int ret;

	if (r == NULL || mem == NULL)
		return -EINVAL;
	ret = register_rights_check(r);
	if (ret < 0)
		return ret;
	rdma_lock();
	if (!rdma_state.initialized) {
		rdma_unlock();
		return -ENODEV;
	}
	mr = rdma_region_mr_locked(r, &addr, &len, &id, &perms);
	if (mr == NULL) {
		ret = -rte_errno;
		rdma_unlock();
		return ret;
	}
	mem->addr = addr;
	mem->len = len;
	mem->lkey = mr->lkey;
	mem->rkey = mr->rkey;
	mem->priv = NULL;
	rdma_unlock();
	return 0;
}

int
rz_rdma_region_lkey(struct rz_region *r, uint32_t *lkey)
{
	struct rz_rdma_mem m;
	int ret;

	if (lkey == NULL)
		return -EINVAL;
	ret = rz_rdma_register(r, &m);
	if (ret == 0)
		*lkey = m.lkey;
	return ret;
}

int
rz_rdma_register_mem(void *addr, size_t len, struct rz_rdma_mem *mem)
{
	struct ibv_mr *mr;
	int err;

	if (addr == NULL || len == 0 || mem == NULL)
		return -EINVAL;
	rdma_lock();
	if (!rdma_state.initialized) {
		rdma_unlock();
		return -ENODEV;
	}
	mr = rdma_reg_mr_locked(addr, len, &err);
	rdma_unlock();
	if (mr == NULL)
		return err;
	mem->addr = addr;
	mem->len = len;
	mem->lkey = mr->lkey;
	mem->rkey = mr->rkey;
	mem->priv = mr;
	return 0;
}

int
rz_rdma_deregister_mem(struct rz_rdma_mem *mem)
{
	struct ibv_mr *mr;
	int ret;

	if (mem == NULL || mem->priv == NULL)
		return -EINVAL;
	mr = mem->priv;
	if (mr->addr != mem->addr || mr->lkey != mem->lkey)
		return -EINVAL;
	rdma_lock();
	if (!rdma_state.initialized) {
		rdma_unlock();
		return -ENODEV;
	}
	ret = ibv_dereg_mr(mr);
	if (ret != 0) {
		rdma_unlock();
		return -EBUSY;
	}
	rdma_state.n_mr--;
	rdma_unlock();
	mem->priv = NULL;
	mem->lkey = 0;
	return 0;
}

void
arena_mr_drop_all_locked(void)
{
	uint32_t i;

	for (i = 0; i < RZ_MAX_ARENAS; i++) {
		if (rdma_state.arena_mr[i].mr != NULL)
			ibv_dereg_mr(rdma_state.arena_mr[i].mr);
		rdma_state.arena_mr[i].mr = NULL;
	}
}

void
rdma_arena_released(uint32_t idx, uint64_t seq)
{
	struct arena_mr *am;

	if (idx >= RZ_MAX_ARENAS)
		return;
	/* Called without the table lock (lib/region tells us before it frees the memzone), so
	 * this may wait for the RDMA lock: the MR never outlives the memory under it. */
	rdma_lock();
	am = &rdma_state.arena_mr[idx];
	if (rdma_state.initialized && am->mr != NULL && am->seq == seq &&
			ibv_dereg_mr(am->mr) == 0) {
		rdma_state.n_mr--;
		am->mr = NULL;
		RZ_LOG(DEBUG, "arena %u freed: its registration is dropped", idx);
	}
	rdma_unlock();
}

struct ibv_mr *
range_mr_get_locked(uint64_t region_id, void *addr, size_t len, int *err)
{
	struct range_mr *rm;

	struct range_mr *tmp;

	TAILQ_FOREACH(rm, &rdma_state.range_mrs, next)
		if (rm->region_id == region_id && rm->addr == (uintptr_t)addr && rm->len == len)
			return rm->mr;
	/* A new registration: first let go of the MRs of regions that are gone without passing
	 * through this process (destroyed elsewhere after a transfer, or freed by the reaper).
	 * Region ids are never reused. */
	RTE_TAILQ_FOREACH_SAFE(rm, &rdma_state.range_mrs, next, tmp) {
		if (tbl() != NULL && region_by_id(rm->region_id) != NULL)
			continue;
		if (ibv_dereg_mr(rm->mr) != 0)
			continue;	/* a window is still bound on it: its grant goes first */
		RZ_LOG(DEBUG, "region %#" PRIx64 " is gone: its range MR %p+%zu deregistered",
				rm->region_id, (void *)rm->addr, rm->len);
		rdma_state.n_mr--;
		TAILQ_REMOVE(&rdma_state.range_mrs, rm, next);
		free(rm);
	}
	rm = calloc(1, sizeof(*rm));
	if (rm == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	rm->mr = rdma_reg_mr_locked(addr, len, err);
	if (rm->mr == NULL) {
		free(rm);
		return NULL;
	}
	rm->region_id = region_id;
	rm->addr = (uintptr_t)addr;
	rm->len = len;
	TAILQ_INSERT_TAIL(&rdma_state.range_mrs, rm, next);
	return rm->mr;
}

void
range_mr_drop_locked(uint64_t region_id)
{
	struct range_mr *rm, *tmp;

	RTE_TAILQ_FOREACH_SAFE(rm, &rdma_state.range_mrs, next, tmp) {
		if (region_id != UINT64_MAX && rm->region_id != region_id)
			continue;
		TAILQ_REMOVE(&rdma_state.range_mrs, rm, next);
		if (ibv_dereg_mr(rm->mr) == 0)
			rdma_state.n_mr--;
		free(rm);
	}
}
