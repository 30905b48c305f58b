/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * Remote peers in the seed calls. A peer id (RZ_PEER_ID_BASE + index) given to rz_region_map(),
 * rz_region_unmap(), rz_region_get_mapping(), rz_region_transfer_ownership() or
 * rz_region_create_capability() lands here (lib/core/remote_ops.h). A peer's "mapping" of a
 * region is a whole-region grant made by map or by a capability; a remote owner is a peer whose
 * grant carries GRANT_F_OWNER, while this process stays the proxy owner in the shared table.
 * The local layers reach these functions through the table of remote operations registered
 * below (lib/core/remote_ops.h) when the library is loaded.
 */

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <rte_tailq.h>

#include "desc_private.h"
#include "rdma_private.h"

/* Region id of a handle, or -errno. */
static int
seed_region(const struct rz_region *r, uint64_t *id)
{
	if (r == NULL)
		return -EINVAL;
	*id = rz_region_id(r);
	return *id == 0 ? -rte_errno : 0;
}

/* The RDMA lock held on success, and with @ctrl the peer's control lock too: a call that checks
 * the peer's state (maps it already? owned by it?) and then changes it holds the control lock
 * from the check to the change, so that two threads' calls for one peer cannot both pass the
 * check (the RDMA lock alone is released while a grant waits for its window). */
static int
seed_enter(pid_t id, struct rz_peer **p, bool ctrl)
{
	int ret;

	rdma_lock();
	*p = rdma_state.initialized ? peer_by_id_locked(id) : NULL;
	if (*p == NULL) {
		rdma_unlock();
		RZ_LOG(ERR, "id %d is in the peer range but no open peer of this process has it",
				(int)id);
		return -ESRCH;
	}
	if (!ctrl)
		return 0;
	ret = peer_ctrl_enter(*p);	/* may release and retake the RDMA lock */
	if (ret != 0) {
		rdma_unlock();
		RZ_LOG(ERR, "peer %d is being closed", (int)id);
	}
	return ret;
}

static void
seed_exit(struct rz_peer *p, bool ctrl)
{
	if (ctrl)
		peer_ctrl_exit(p);
	rdma_unlock();
}

static int
seed_owner_check(const struct rz_region *r, uint64_t rid, pid_t id, const char *what)
{
	pid_t owner = rz_region_owner(r);

	if (owner < 0)
		return owner;
	if (owner != local_proc.pid) {
		RZ_LOG(ERR, "region %#" PRIx64 ": pid %d is not the owner (pid %d) and may not %s "
				"peer %d", rid, (int)local_proc.pid, (int)owner, what, (int)id);
		return -EPERM;
	}
	return 0;
}

/* The peer's mapping of a region: its whole-region grant made by map or by a capability. */
static struct grant *
peer_mapping_locked(const struct rz_peer *p, uint64_t rid)
{
	struct grant *g;

	TAILQ_FOREACH(g, &rdma_state.grants, next)
		if (g->peer == p && g->desc.region_id == rid &&
				(g->kind & (GRANT_F_MAP | GRANT_F_CAP)))
			return g;
	return NULL;
}

static uint32_t
rights_perms(uint32_t rights)
{
	return ((rights & RZ_RDMA_RIGHT_READ) ? RZ_PERM_READ : 0) |
		((rights & RZ_RDMA_RIGHT_WRITE) ? RZ_PERM_WRITE : 0);
}

int
rdma_peer_map(struct rz_region *r, pid_t id, void *virtual_base, uint32_t perms)
{
	struct rz_peer *p;
	struct grant *g;
	uint32_t ceiling;
	uint64_t rid;
	int ret;

	ret = seed_region(r, &rid);
	if (ret != 0)
		return ret;
	ceiling = rz_region_perms(r);
	ret = seed_enter(id, &p, true);
	if (ret != 0)
		return ret;
	if (perms == 0 || (perms & ~RZ_PERM_ALL)) {
		RZ_LOG(ERR, "region %#" PRIx64 ": bad permissions 0x%x", rid, perms);
		ret = -EINVAL;
	} else if (virtual_base != NULL) {
		RZ_LOG(ERR, "region %#" PRIx64 ": peer %d sees the region at its own address: "
				"virtual_base must be NULL", rid, (int)id);
		ret = -EINVAL;
	} else if (perms & ~ceiling) {
		RZ_LOG(ERR, "region %#" PRIx64 ": permissions 0x%x exceed the ceiling 0x%x", rid,
				perms, ceiling);
		ret = -EPERM;
	} else if (perms & RZ_PERM_EXEC) {
		RZ_LOG(ERR, "region %#" PRIx64 ": there is no remote execute right", rid);
		ret = -EINVAL;
	} else if (peer_mapping_locked(p, rid) != NULL) {
		RZ_LOG(ERR, "region %#" PRIx64 ": peer %d maps it already", rid, (int)id);
		ret = -EEXIST;
	} else {
		ret = seed_owner_check(r, rid, id, "map it into");
		if (ret == 0)
			ret = grant_new_locked(r, p, RZ_MODE_SHARE, grant_ceiling_rights(perms), 0,
					0, 0, GRANT_F_MAP, &g);
	}
	seed_exit(p, true);
	return ret;
}

int
rdma_peer_unmap(struct rz_region *r, pid_t id)
{
	struct rz_peer *p;
	struct grant *g, *t = NULL;
	uint64_t rid;
	int ret, n = 0;

	ret = seed_region(r, &rid);
	if (ret != 0)
		return ret;
	ret = seed_enter(id, &p, true);
	if (ret != 0)
		return ret;
	ret = seed_owner_check(r, rid, id, "unmap it from");
	if (ret == 0) {
		/* Each revoke may release the lock: walk again from the head after each. */
		for (;;) {
			TAILQ_FOREACH(g, &rdma_state.grants, next)
				if (g->peer == p && g->desc.region_id == rid && g != t)
					break;
			if (g == NULL)
				break;
			if (grant_revoke_locked(g) == -EIO) {
				ret = -EIO;
				t = g;	/* left listed: not again */
			}
			n++;
		}
		if (n == 0) {
			RZ_LOG(ERR, "region %#" PRIx64 ": peer %d holds nothing of it", rid,
					(int)id);
			ret = -ENOENT;
		}
	}
	seed_exit(p, true);
	return ret;
}

int
rdma_peer_mapping(const struct rz_region *r, pid_t id, uint64_t *addr, uint32_t *perms)
{
	struct rz_peer *p;
	struct grant *g;
	uint64_t rid;
	int ret;

	ret = seed_region(r, &rid);
	if (ret != 0)
		return ret;
	ret = seed_enter(id, &p, false);
	if (ret != 0)
		return ret;
	g = peer_mapping_locked(p, rid);
	if (g == NULL) {
		ret = -ENOENT;
	} else {
		*addr = g->desc.addr;
		*perms = rights_perms(g->desc.rights);
	}
	seed_exit(p, false);
	return ret;
}

int
rdma_peer_transfer(struct rz_region *r, pid_t id)
{
	struct rz_peer *p;
	struct grant *old, *g;
	uint64_t rid;
	pid_t owner;
	int ret;

	ret = seed_region(r, &rid);
	if (ret != 0)
		return ret;
	ret = seed_enter(id, &p, true);
	if (ret != 0)
		return ret;
	ret = seed_owner_check(r, rid, id, "give ownership to");
	if (ret != 0)
		goto out;
	owner = grant_remote_owner_locked(rid);
	old = peer_mapping_locked(p, rid);
	if (owner == id) {
		ret = 0;	/* already */
	} else if (owner != 0) {
		RZ_LOG(ERR, "region %#" PRIx64 " is owned by peer %d", rid, (int)owner);
		ret = -EPERM;
	} else if (old == NULL) {
		RZ_LOG(ERR, "region %#" PRIx64 ": new owner peer %d does not map it", rid, (int)id);
		ret = -EINVAL;
	} else {
		/* The owner's rights on a new window, then the old one goes: the peer is never
		 * without access, and never holds two mappings once this returns. */
		uint64_t old_gen = old->desc.generation, old_token = old->token;

		/* The lock is released while the window is bound: @old is looked up again. */
		ret = grant_new_locked(r, p, RZ_MODE_MOVE, RZ_RDMA_RIGHT_ALL, 0, 0, 0,
				(old->kind & (GRANT_F_MAP | GRANT_F_CAP)) | GRANT_F_OWNER, &g);
		if (ret == 0) {
			g->token = old_token;
			TAILQ_FOREACH(old, &rdma_state.grants, next)
				if (old->desc.generation == old_gen)
					break;
			if (old != NULL)
				grant_revoke_locked(old);
			RZ_LOG(INFO, "region %#" PRIx64 ": owner pid %d -> peer %d (pid %d stays "
					"the proxy owner)", rid, (int)local_proc.pid, (int)id,
					(int)local_proc.pid);
		}
	}
out:
	seed_exit(p, true);
	return ret;
}

static bool
token_used_locked(uint64_t token)
{
	struct grant *g;

	TAILQ_FOREACH(g, &rdma_state.grants, next)
		if ((g->kind & GRANT_F_CAP) && g->token == token)
			return true;
	return false;
}

int
rdma_peer_capability(struct rz_region *r, pid_t id, uint32_t mode, uint64_t *token)
{
	struct rz_peer *p;
	struct grant *g;
	uint64_t rid, tok = 0;
	uint32_t kind = GRANT_F_CAP;
	int ret;

	ret = seed_region(r, &rid);
	if (ret != 0)
		return ret;
	if (token == NULL || desc_mode_rights(mode) == 0) {
		RZ_LOG(ERR, "region %#" PRIx64 ": %s", rid, token == NULL ? "NULL token pointer" :
				"unknown transfer mode");
		return -EINVAL;
	}
	ret = seed_enter(id, &p, true);
	if (ret != 0)
		return ret;
	ret = seed_owner_check(r, rid, id, "grant a capability to");
	if (ret != 0)
		goto out;
	if (peer_mapping_locked(p, rid) != NULL) {
		RZ_LOG(ERR, "region %#" PRIx64 ": peer %d maps it already", rid, (int)id);
		ret = -EEXIST;
		goto out;
	}
	do {
		ret = rdma_random(&tok, sizeof(tok));
	} while (ret == 0 && (tok == 0 || token_used_locked(tok)));
	if (ret != 0)
		goto out;
	if (mode == RZ_MODE_MOVE)
		kind |= GRANT_F_OWNER;
	ret = grant_new_locked(r, p, mode, desc_mode_rights(mode), 0, 0, 0, kind, &g);
	if (ret == 0) {
		g->token = tok;
		*token = tok;
		if (mode == RZ_MODE_MOVE)
			RZ_LOG(INFO, "region %#" PRIx64 ": moved to peer %d by capability (pid %d "
					"stays the proxy owner)", rid, (int)id,
					(int)local_proc.pid);
	}
out:
	seed_exit(p, true);
	return ret;
}

int
rdma_capability_revoke(uint64_t token)
{
	struct grant *g;
	int ret = -ENOENT;

	rdma_lock();
	if (rdma_state.initialized) {
		TAILQ_FOREACH(g, &rdma_state.grants, next) {
			if ((g->kind & GRANT_F_CAP) && g->token == token) {
				/* Returns once the device completed the invalidation. */
				ret = grant_revoke_locked(g);
				break;
			}
		}
	}
	rdma_unlock();
	return ret;
}

bool
rdma_capability_is_peer(uint64_t token)
{
	bool found;

	rdma_lock();
	found = rdma_state.initialized && token_used_locked(token);
	rdma_unlock();
	return found;
}

pid_t
rdma_region_remote_owner(uint64_t region_id)
{
	pid_t owner = 0;

	rdma_lock();
	if (rdma_state.initialized)
		owner = grant_remote_owner_locked(region_id);
	rdma_unlock();
	return owner;
}

pid_t
rz_rdma_region_owner(const struct rz_region *r)
{
	uint64_t rid;
	pid_t owner;
	int ret;

	ret = seed_region(r, &rid);
	if (ret != 0)
		return ret;
	owner = rdma_region_remote_owner(rid);
	return owner != 0 ? owner : rz_region_owner(r);
}

struct rz_peer *
rz_peer_lookup(pid_t id)
{
	struct rz_peer *p = NULL;

	rdma_lock();
	if (!rdma_state.initialized)
		rte_errno = ENODEV;
	else if ((p = peer_by_id_locked(id)) == NULL)
		rte_errno = ESRCH;
	rdma_unlock();
	return p;
}

static bool
ops_active(void)
{
	return rdma_initialized();
}

static int
ops_numa_node(void)
{
	return rz_rdma_numa_node();
}

static const char *
ops_device_name(void)
{
	return rz_rdma_device_name();
}

static void
ops_fini(void)
{
	rz_rdma_fini();
}

static const struct remote_ops ops = {
	.active = ops_active,
	.map = rdma_peer_map,
	.unmap = rdma_peer_unmap,
	.mapping = rdma_peer_mapping,
	.transfer = rdma_peer_transfer,
	.capability = rdma_peer_capability,
	.cap_revoke = rdma_capability_revoke,
	.cap_is_remote = rdma_capability_is_peer,
	.region_owner = rdma_region_remote_owner,
	.revoke_region = rdma_revoke_region,
	.arena_freed = rdma_arena_released,
	.numa_node = ops_numa_node,
	.device_name = ops_device_name,
	.fini = ops_fini,
};

RTE_INIT(rdma_remote_ops_init)
{
	remote_ops_register(&ops);
}
