/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * Grants: type-2 memory windows bound on the grantee's own QP. A window's rkey works only on
 * that QP, inside its range, with its rights; the key byte is random and new for the window
 * (an rkey is never handed out twice); windows come from a pool in random order and, once
 * invalidated, are kept by the peer they were bound for and re-bound for its next grants.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_tailq.h>

#include "audit_private.h"
#include "desc_private.h"
#include "rdma_private.h"
#include "region_private.h"

/* Post a bind or an invalidation on @p's QP and wait for it (without the process's lock).
 * Caller in @p's control. */
static int
post_wait(struct rz_peer *p, struct ibv_send_wr *wr, const char *what)
{
	struct ibv_wc wc;
	int ret;

	ret = peer_post_wait(p, wr, RZ_CTRL_TIMEOUT_MS, &wc);
	if (ret != 0) {
		RZ_LOG(ERR, "%s: %s", what, strerror(-ret));
		return ret;
	}
	if (wc.status != IBV_WC_SUCCESS) {
		RZ_LOG(ERR, "%s: completed with %s", what, ibv_wc_status_str(wc.status));
		return wc.status == IBV_WC_WR_FLUSH_ERR ? -ENOTCONN : -EIO;
	}
	return 0;
}

uint32_t
grant_ceiling_rights(uint32_t perms)
{
	uint32_t r = 0;

	if (perms & RZ_PERM_READ)
		r |= RZ_RDMA_RIGHT_READ;
	if (perms & RZ_PERM_WRITE)
		r |= RZ_RDMA_RIGHT_WRITE | RZ_RDMA_RIGHT_ATOMIC;
	return r;
}

static int
mw_access(uint32_t rights)
{
	int a = 0;

	if (rights & RZ_RDMA_RIGHT_READ)
		a |= IBV_ACCESS_REMOTE_READ;
	if (rights & RZ_RDMA_RIGHT_WRITE)
		a |= IBV_ACCESS_REMOTE_WRITE;
	if (rights & RZ_RDMA_RIGHT_ATOMIC)
		a |= IBV_ACCESS_REMOTE_ATOMIC;
	return a;
}

int
grant_count_locked(void)
{
	struct grant *g;
	int n = 0;

	TAILQ_FOREACH(g, &rdma_state.grants, next)
		n++;
	return n;
}

int
rz_rdma_grant_count(void)
{
	int n;

	rdma_lock();
	n = rdma_state.initialized ? grant_count_locked() : -ENODEV;
	rdma_unlock();
	return n;
}

pid_t
grant_remote_owner_locked(uint64_t region_id)
{
	struct grant *g;

	TAILQ_FOREACH(g, &rdma_state.grants, next)
		if ((g->kind & GRANT_F_OWNER) && g->desc.region_id == region_id)
			return g->peer->local_id;
	return 0;
}

static int grant_new_ctrl_locked(struct rz_region *r, struct rz_peer *p, uint32_t mode,
		uint32_t rights, size_t offset, size_t len, uint64_t lifetime_ns, uint32_t kind,
		struct grant **out);

int
grant_new_locked(struct rz_region *r, struct rz_peer *p, uint32_t mode, uint32_t rights,
		size_t offset, size_t len, uint64_t lifetime_ns, uint32_t kind,
		struct grant **out)
{
	int ret;

	if (!p->connected) {
		RZ_LOG(ERR, "peer %d (%016" PRIx64 ") is disconnected", (int)p->local_id,
				p->remote_id);
		return -ENOTCONN;
	}
	/* The peer's control for the whole grant (the RDMA lock is released during its waits;
	 * the grant is listed only once complete). */
	ret = peer_ctrl_enter(p);
	if (ret != 0)
		return ret;
	ret = grant_new_ctrl_locked(r, p, mode, rights, offset, len, lifetime_ns, kind, out);
	peer_ctrl_exit(p);
	return ret;
}

static int
grant_new_ctrl_locked(struct rz_region *r, struct rz_peer *p, uint32_t mode, uint32_t rights,
		size_t offset, size_t len, uint64_t lifetime_ns, uint32_t kind,
		struct grant **out)
{
	struct ibv_send_wr wr;
	struct grant *g;
	struct ibv_mr *mr;
	uint32_t perms;
	uint64_t region_id;
	pid_t owner;
	uint8_t key;
	void *addr;
	size_t size;
	int ret;

	if (!p->connected) {
		RZ_LOG(ERR, "peer %d (0x%016" PRIx64 ") is disconnected", (int)p->local_id,
				p->remote_id);
		audit_record(AUDIT_GRANT, AUDIT_CAUSE_EXPLICIT, rz_region_id(r), local_proc.pid,
				p->local_id, rights, -ENOTCONN, offset, len, 0);
		return -ENOTCONN;
	}
	/* Nothing is posted behind a SEND the peer has not taken: the bind would wait behind it
	 * (for ever if the peer receives nothing) and complete after we gave up on it. */
	ret = peer_backlog(p);
	if (ret == -EAGAIN)
		RZ_LOG(WARNING, "peer %d (0x%016" PRIx64 ") has not taken its previous descriptor "
				"or message (it receives nothing): no grant now, try again",
				(int)p->local_id, p->remote_id);
	if (ret != 0) {
		audit_record(AUDIT_GRANT, AUDIT_CAUSE_EXPLICIT, rz_region_id(r), local_proc.pid,
				p->local_id, rights, ret, offset, len, 0);
		return ret;
	}
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return -ENOMEM;
	mr = rdma_region_mr_locked(r, &addr, &size, &region_id, &perms);
	if (mr == NULL) {
		ret = -rte_errno;
		goto out_free;
	}
	if (len == 0 && offset < size)
		len = size - offset;
	if (offset >= size || len > size - offset) {
		RZ_LOG(ERR, "range %zu+%zu outside region %#" PRIx64 " of %zu bytes", offset, len,
				region_id, size);
		ret = -EINVAL;
		goto out_free;
	}
	owner = grant_remote_owner_locked(region_id);
	if (owner != 0 && owner != p->local_id) {
		RZ_LOG(ERR, "region %#" PRIx64 " is owned by peer %d: only it may be granted",
				region_id, (int)owner);
		ret = -EPERM;
		goto out_free;
	}
	rights &= grant_ceiling_rights(perms);
	if (!(rights & RZ_RDMA_RIGHT_READ)) {
		RZ_LOG(ERR, "region %#" PRIx64 ": its ceiling 0x%x leaves no read right", region_id,
				perms);
		ret = -EPERM;
		goto out_free;
	}
	/* Counted in the shared table, under its lock, with the owner check: from here the
	 * region can neither leave this process nor be freed before the grant is revoked. */
	ret = region_grant_hold(region_id);
	if (ret != 0)
		goto out_free;
	if (!rdma_state.quirks->mw_range_enforced) {
		/* The device checks remote accesses against the MR only: bind the window on an
		 * MR of exactly the granted range, registered the first time the range is
		 * granted and kept for the next grants (it opens nothing by itself). */
		mr = range_mr_get_locked(region_id, (uint8_t *)addr + offset, len, &ret);
		if (mr == NULL)
			goto out_release;
	}
	ret = mw_get_for_peer_locked(p, &g->mw);
	if (ret != 0)
		goto out_release;
	ret = mw_new_key_locked(&g->mw, &key);
	if (ret != 0) {
		mw_drop_locked(&g->mw);
		goto out_release;
	}
	g->desc.rkey = (g->mw.mw->rkey & ~UINT32_C(0xff)) | key;

	memset(&wr, 0, sizeof(wr));
	wr.opcode = IBV_WR_BIND_MW;
	wr.bind_mw.mw = g->mw.mw;
	wr.bind_mw.rkey = g->desc.rkey;
	wr.bind_mw.bind_info.mr = mr;
	wr.bind_mw.bind_info.addr = (uintptr_t)addr + offset;
	wr.bind_mw.bind_info.length = len;
	wr.bind_mw.bind_info.mw_access_flags = (unsigned int)mw_access(rights);
	/* The rkey leaves the host only once the device says the window is bound. */
	ret = post_wait(p, &wr, "bind memory window");
	if (ret != 0) {
		mw_drop_locked(&g->mw);
		goto out_release;
	}
	/* The window's rkey is now the bound one: the next bind of it names it so (rxe checks
	 * the work request's window rkey against the window's current one). */
	g->mw.mw->rkey = g->desc.rkey;
	g->peer = p;
	g->kind = kind;
	g->desc.issuer = rdma_state.self_id;
	g->desc.target = p->remote_id;
	g->desc.region_id = region_id;
	g->desc.generation = rdma_state.next_gen++;
	g->desc.addr = (uintptr_t)addr + offset;
	g->desc.length = len;
	g->desc.rights = rights;
	g->desc.mode = mode;
	/* Expiry is kept by the monotonic clock here (a wall-clock step moves nothing); the
	 * descriptor carries the wall-clock time for the peer, advisory. */
	g->expiry_mono_ns = lifetime_ns ? mono_time_ns() + lifetime_ns : 0;
	g->desc.expiry_ns = lifetime_ns ? rdma_now_realtime() + lifetime_ns : 0;
	TAILQ_INSERT_TAIL(&rdma_state.grants, g, next);
	p->ngrants++;
	RZ_STAT_INC(stats_granted, 1);	/* counted live, so that granted - revoked = live */
	ret = (kind & GRANT_F_NO_SEND) ? 0 : peer_send_desc(p, &g->desc);
	if (ret != 0) {
		RZ_LOG(ERR, "descriptor not delivered to peer 0x%016" PRIx64 ": revoking",
				p->remote_id);
		grant_revoke_locked(g);
		return ret;
	}
	RZ_LOG(DEBUG, "grant %" PRIu64 ": region %#" PRIx64 " +%zu/%zu rkey 0x%08x rights 0x%x "
			"kind 0x%x to peer %d", g->desc.generation, region_id, offset, len,
			g->desc.rkey, rights, kind, (int)p->local_id);
	*out = g;
	rdma_audit_grant(AUDIT_GRANT, AUDIT_CAUSE_EXPLICIT, g, 0);
	rdma_publish_locked();
	return 0;
out_release:
	region_grant_release(region_id);
out_free:
	audit_record(AUDIT_GRANT, AUDIT_CAUSE_EXPLICIT, rz_region_id(r), local_proc.pid,
			p->local_id, rights, ret, offset, len, 0);
	free(g);
	return ret;
}

int
rz_rdma_grant_ext(struct rz_region *r, struct rz_peer *p, enum rz_transfer_mode mode,
		size_t offset, size_t len, uint64_t lifetime_ns, uint32_t flags,
		struct rz_rdma_desc *desc)
{
	struct grant *g;
	int ret;

	if (r == NULL || p == NULL || desc_mode_rights((uint32_t)mode) == 0)
		return -EINVAL;
	if (flags & ~RZ_GRANT_F_NO_SEND) {
		RZ_LOG(ERR, "grant: unknown flags 0x%x", flags & ~RZ_GRANT_F_NO_SEND);
		return -EINVAL;
	}
	if ((flags & RZ_GRANT_F_NO_SEND) && desc == NULL) {
		RZ_LOG(ERR, "grant: RZ_GRANT_F_NO_SEND without a descriptor to deliver");
		return -EINVAL;
	}
	rdma_lock();
	if (!rdma_state.initialized)
		ret = -ENODEV;
	else
		ret = grant_new_locked(r, p, (uint32_t)mode, desc_mode_rights((uint32_t)mode),
				offset, len, lifetime_ns,
				(flags & RZ_GRANT_F_NO_SEND) ? GRANT_F_NO_SEND : 0, &g);
	if (ret == 0 && desc != NULL)
		*desc = g->desc;
	rdma_unlock();
	return ret;
}

int
rz_rdma_grant(struct rz_region *r, struct rz_peer *p, enum rz_transfer_mode mode,
		size_t offset, size_t len, uint64_t lifetime_ns, struct rz_rdma_desc *desc)
{
	return rz_rdma_grant_ext(r, p, mode, offset, len, lifetime_ns, 0, desc);
}

__thread uint16_t grant_revoke_cause = AUDIT_CAUSE_EXPLICIT;

static struct grant *
grant_find_locked(uint64_t generation)
{
	struct grant *g;

	TAILQ_FOREACH(g, &rdma_state.grants, next)
		if (g->desc.generation == generation)
			return g;
	return NULL;
}

/*
 * Invalidate the window and forget the grant. Lock held; released while waiting for the
 * device (so the caller re-reads the grant list after). -ENOENT if another thread revoked it
 * meanwhile.
 */
int
grant_revoke_locked(struct grant *g)
{
	struct rz_peer *p = g->peer;
	uint64_t gen = g->desc.generation;
	int ret = -ENOTCONN, backlog = -ENOTCONN;
	bool ctrl = false;

	if (p->connected) {
		/* The peer's control: one revoke (or grant) of its at a time, the invalidation and
		 * the SEND slot are ours. The RDMA lock may have been released meanwhile: the
		 * grant is looked up again (-ENOTCONN from the enter: the peer is being closed,
		 * disconnected already, and waits for this lock to free it). */
		ctrl = peer_ctrl_enter(p) == 0;
		g = grant_find_locked(gen);
		if (g == NULL) {
			if (ctrl)
				peer_ctrl_exit(p);
			return -ENOENT;
		}
	}
	/* Ours alone from here: no other thread finds it. */
	TAILQ_REMOVE(&rdma_state.grants, g, next);
	/* A local invalidate posted behind a SEND the peer has not taken would wait as long as
	 * the peer does: free the window instead, which invalidates it at once. */
	if (ctrl && p->connected)
		backlog = peer_backlog(p);
	if (backlog == 0) {
		struct ibv_send_wr wr;

		memset(&wr, 0, sizeof(wr));
		wr.opcode = IBV_WR_LOCAL_INV;
		wr.invalidate_rkey = g->desc.rkey;
		ret = post_wait(p, &wr, "invalidate memory window");
	}
	if (ret == 0) {
		/* Invalidated on this peer's QP: the peer keeps it for its next grants. */
		mw_release_to_peer_locked(p, &g->mw);
	} else {
		/* The QP is gone, broken or held up: freeing the window invalidates it too. */
		if (p->connected && backlog == -EAGAIN)
			RZ_LOG(INFO, "grant %" PRIu64 ": the QP of peer %d is held up by a SEND it "
					"has not taken: window freed instead of invalidated",
					g->desc.generation, (int)p->local_id);
		else if (p->connected)
			RZ_LOG(INFO, "grant %" PRIu64 ": the QP of peer %d cannot invalidate (%s: "
					"in error, e.g. after a remote access error): window freed "
					"instead", g->desc.generation, (int)p->local_id,
					strerror(-(backlog != 0 ? backlog : ret)));
		if (ibv_dealloc_mw(g->mw.mw) != 0) {
			RZ_LOG(ERR, "grant %" PRIu64 ": window can be neither invalidated "
					"nor freed", g->desc.generation);
			TAILQ_INSERT_TAIL(&rdma_state.grants, g, next);
			if (ctrl)
				peer_ctrl_exit(p);
			return -EIO;
		}
		rdma_state.n_mw--;
	}
	if (ctrl)
		peer_ctrl_exit(p);
	region_grant_release(g->desc.region_id);
	p->ngrants--;
	RZ_STAT_INC(stats_revoked, 1);
	if (g->kind & GRANT_F_OWNER)
		RZ_LOG(INFO, "region %#" PRIx64 ": peer %d no longer owns it: pid %d does",
				g->desc.region_id, (int)p->local_id, (int)local_proc.pid);
	RZ_LOG(DEBUG, "grant %" PRIu64 " (rkey 0x%08x) revoked", g->desc.generation,
			g->desc.rkey);
	rdma_audit_grant(AUDIT_REVOKE, grant_revoke_cause, g, 0);
	free(g);
	rdma_publish_locked();
	return 0;
}

/* Each revoke may release the lock: the list is walked again from its head after each. A
 * grant that could not be revoked (-EIO, left listed) is skipped: generations below
 * @min_gen. */
static struct grant *
next_match_locked(const struct rz_peer *p, uint64_t region_id, uint64_t now, uint64_t min_gen)
{
	struct grant *g;

	TAILQ_FOREACH(g, &rdma_state.grants, next) {
		if (g->desc.generation < min_gen)
			continue;
		if (p != NULL && g->peer != p)
			continue;
		if (region_id != 0 && g->desc.region_id != region_id)
			continue;
		if (now != 0 && (g->expiry_mono_ns == 0 || g->expiry_mono_ns > now))
			continue;
		return g;
	}
	return NULL;
}

int
grant_revoke_peer_locked(struct rz_peer *p)
{
	struct grant *g;
	uint64_t min_gen = 0;
	int ret = 0;

	grant_revoke_cause = p->down_reason == -ETIMEDOUT ? AUDIT_CAUSE_PEER_DEAD :
		AUDIT_CAUSE_PEER_GONE;
	while ((g = next_match_locked(p, 0, 0, min_gen)) != NULL) {
		uint64_t gen = g->desc.generation;

		if (grant_revoke_locked(g) == -EIO) {
			ret = -EIO;
			min_gen = gen + 1;
		}
	}
	grant_revoke_cause = AUDIT_CAUSE_EXPLICIT;
	return ret;
}

int
grant_expire_locked(uint64_t now)
{
	struct grant *g;
	uint64_t min_gen = 0;
	int n = 0, ret;

	grant_revoke_cause = AUDIT_CAUSE_EXPIRY;
	while ((g = next_match_locked(NULL, 0, now, min_gen)) != NULL) {
		uint64_t gen = g->desc.generation;

		ret = grant_revoke_locked(g);
		if (ret == 0)
			n++;
		else if (ret == -EIO)
			min_gen = gen + 1;
	}
	grant_revoke_cause = AUDIT_CAUSE_EXPLICIT;
	RZ_STAT_INC(stats_expired, (uint64_t)n);
	return n;
}

int
rz_rdma_revoke(const struct rz_rdma_desc *desc)
{
	struct grant *g;
	int ret = -ENOENT;

	if (desc == NULL)
		return -EINVAL;
	rdma_lock();
	if (!rdma_state.initialized) {
		rdma_unlock();
		return -ENODEV;
	}
	TAILQ_FOREACH(g, &rdma_state.grants, next) {
		if (g->desc.generation == desc->generation && g->desc.rkey == desc->rkey) {
			ret = grant_revoke_locked(g);
			break;
		}
	}
	rdma_unlock();
	return ret;
}

int
rdma_revoke_region(uint64_t region_id)
{
	struct grant *g;
	uint64_t min_gen = 0;
	int n = 0;

	rdma_lock();
	if (rdma_state.initialized) {
		const struct region_entry *e = region_by_id(region_id);

		grant_revoke_cause = e != NULL && e->leaving == REGION_LEAVING_TRANSFER ?
			AUDIT_CAUSE_TRANSFER : AUDIT_CAUSE_DESTROY;
		while ((g = next_match_locked(NULL, region_id, 0, min_gen)) != NULL) {
			uint64_t gen = g->desc.generation;

			if (grant_revoke_locked(g) == -EIO)
				min_gen = gen + 1;
			n++;
		}
		grant_revoke_cause = AUDIT_CAUSE_EXPLICIT;
	}
	if (rdma_state.initialized)
		range_mr_drop_locked(region_id);
	rdma_unlock();
	if (n > 0)
		RZ_LOG(INFO, "region %#" PRIx64 ": %d remote grant%s revoked with it", region_id, n,
				n == 1 ? "" : "s");
	return n;
}
