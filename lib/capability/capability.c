/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * Local capabilities. A token is (48 bits from getrandom() << 16) | table slot: the slot gives
 * O(1) lookup, the random part makes a token unguessable (one try in 2^48 for a forger that
 * knows the slot). A token names one target process (slot + generation, so a reused pid does
 * not inherit it), works once, and is dropped when its region is destroyed or its target goes.
 */

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/random.h>

#include "capability_private.h"
#include "audit_private.h"
#include "core_private.h"
#include "mapping_private.h"
#include "mp_private.h"
#include "proc_private.h"
#include "region_private.h"
#include "remote_ops.h"

uint32_t
cap_mode_rights(uint32_t mode)
{
	switch (mode) {
	case RZ_MODE_MOVE:
	case RZ_MODE_SHARE:
		return RZ_PERM_RW;
	case RZ_MODE_COPY_ON_WRITE:
		return RZ_PERM_READ;
	default:
		return 0;
	}
}

static void
cap_free_locked(struct cap_entry *c)
{
	struct rz_table *t = tbl();
	struct region_entry *e = region_by_id(c->region_id);

	if (e != NULL && e->ncaps > 0)
		e->ncaps--;
	__atomic_sub_fetch(&t->ncaps, 1, __ATOMIC_RELAXED);	/* read lock-free */
	memset(c, 0, sizeof(*c));
}

void
cap_drop_region_locked(struct region_entry *e)
{
	struct rz_table *t = tbl();
	uint32_t i;

	if (e->ncaps == 0)
		return;
	for (i = 0; i < RZ_MAX_CAPS; i++)
		if (t->caps[i].state != CAP_FREE && t->caps[i].region_id == e->id)
			cap_free_locked(&t->caps[i]);
}

void
cap_drop_target_locked(uint32_t slot)
{
	struct rz_table *t = tbl();
	uint32_t i;

	if (t->ncaps == 0)
		return;
	for (i = 0; i < RZ_MAX_CAPS; i++)
		if (t->caps[i].state != CAP_FREE && t->caps[i].target == slot)
			cap_free_locked(&t->caps[i]);
}

void
cap_mapping_gone_locked(uint32_t cap_slot)
{
	struct rz_table *t = tbl();

	if (cap_slot < RZ_MAX_CAPS && t->caps[cap_slot].state == CAP_USED)
		cap_free_locked(&t->caps[cap_slot]);
}

int
rz_region_create_capability(struct rz_region *r, pid_t target, enum rz_transfer_mode mode,
		uint64_t *token)
{
	struct rz_table *t = tbl();
	struct region_entry *e;
	struct cap_entry *c = NULL;
	uint32_t i = 0, rights = 0;
	uint64_t rnd, id;
	int ret, tslot;

	e = region_from_handle(r, &ret);
	if (e == NULL)
		return ret;
	id = handle_id(r);
	if (token == NULL || (unsigned int)mode > RZ_MODE_COPY_ON_WRITE) {
		RZ_LOG(ERR, "region %#" PRIx64 ": %s", e->id, token == NULL ? "NULL token pointer" :
				"unknown transfer mode");
		return -EINVAL;
	}
	if (remote_pid_is_peer(target)) {
		const struct remote_ops *ro = remote_for_peer(target, &ret);

		return ro == NULL ? ret : ro->capability(r, target, (uint32_t)mode, token);
	}
	ret = remote_owner_check(id, "capability");
	if (ret < 0)
		return ret;
	tslot = proc_slot_of(target);
	if (tslot < 0 || !proc_alive((uint32_t)tslot)) {
		RZ_LOG(ERR, "region %#" PRIx64 ": target pid %d is not a live attached process",
				e->id, (int)target);
		return -ESRCH;
	}
	if ((uint32_t)tslot == local_proc.self) {
		RZ_LOG(ERR, "region %#" PRIx64 ": a capability for oneself is pointless: map it",
				e->id);
		return -EINVAL;
	}
	do {
		if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd)) {
			RZ_LOG(ERR, "getrandom: %s", strerror(errno));
			return -EIO;
		}
		rnd <<= RZ_CAP_SLOT_BITS;
	} while (rnd == 0);

	ret = table_lock();
	if (ret < 0)
		return ret;
	if (!region_is(e, id)) {
		ret = -ENOENT;
		goto out;
	}
	if (!owned_by_self_locked(e)) {
		RZ_LOG(ERR, "region %#" PRIx64 ": pid %d is not the owner", e->id,
				(int)local_proc.pid);
		ret = -EPERM;
		goto out;
	}
	ret = region_busy_locked(e, "capability");
	if (ret < 0)
		goto out;
	rights = cap_mode_rights(mode) & e->perms;
	if (!(rights & RZ_PERM_READ)) {
		RZ_LOG(ERR, "region %#" PRIx64 ": the ceiling leaves nothing of this mode", e->id);
		ret = -EPERM;
		goto out;
	}
	for (i = 0; i < RZ_MAX_CAPS; i++) {
		if (t->caps[i].state == CAP_FREE) {
			c = &t->caps[i];
			break;
		}
	}
	if (c == NULL) {
		RZ_LOG(ERR, "capability table full (%u)", RZ_MAX_CAPS);
		ret = -ENOSPC;
		goto out;
	}
	c->token = rnd | i;
	c->region_id = e->id;
	c->mode = mode;
	c->rights = rights;
	c->target = (uint32_t)tslot;
	c->target_gen = t->procs[tslot].gen;
	c->creator = local_proc.self;
	c->state = CAP_ACTIVE;
	e->ncaps++;
	__atomic_add_fetch(&t->ncaps, 1, __ATOMIC_RELAXED);
	*token = c->token;
	ret = 0;
out:
	/* The token's random part is a secret: the trail keeps only its slot. */
	audit_record(AUDIT_CAP_CREATE, AUDIT_CAUSE_EXPLICIT, id, local_proc.pid, target,
			ret == 0 ? rights : cap_mode_rights(mode), ret, ret == 0 ? i : 0, 0, mode);
	table_unlock();
	return ret;
}

static struct cap_entry *
cap_find_locked(uint64_t token)
{
	uint64_t slot = token & RZ_CAP_SLOT_MASK;
	struct cap_entry *c;

	if (slot >= RZ_MAX_CAPS)
		return NULL;
	c = &tbl()->caps[slot];
	if (c->state == CAP_FREE || c->token != token)
		return NULL;
	return c;
}

int
rz_capability_map(uint64_t token, void *virtual_base, struct rz_region **region)
{
	struct cap_entry *c, seen = { .token = 0 };
	const struct remote_ops *ro;
	struct region_entry *e;
	uint32_t slot;
	int ret;

	if (tbl() == NULL || local_proc.self == RZ_NO_SLOT)
		return -ENODEV;
	ro = remote_active();
	if (ro != NULL && ro->cap_is_remote(token)) {
		RZ_LOG(ERR, "capability %#" PRIx64 " is a remote peer's: it was used when it was "
				"made", token);
		return -EPERM;
	}
	ret = table_lock();
	if (ret < 0)
		return ret;
	c = cap_find_locked(token);
	if (c != NULL)
		seen = *c;	/* for the audit record (a Move frees it) */
	if (c == NULL || c->state != CAP_ACTIVE) {
		RZ_LOG(ERR, "no such capability %#" PRIx64 " (forged, used or revoked)", token);
		ret = -ENOENT;
		goto out;
	}
	if (c->target != local_proc.self || c->target_gen != local_proc.self_gen) {
		RZ_LOG(ERR, "capability %#" PRIx64 " is for pid %d, not pid %d", token,
				(int)proc_pid(c->target), (int)local_proc.pid);
		ret = -EPERM;
		goto out;
	}
	e = region_by_id(c->region_id);
	if (e == NULL) {
		ret = -ENOENT;
		goto out;
	}
	ret = map_check_locked(e, local_proc.self, local_proc.self, virtual_base, c->rights, true);
	if (ret < 0)
		goto out;
	slot = (uint32_t)(c - tbl()->caps);
	fault_point("capmap.locked");
	if (c->mode == RZ_MODE_MOVE && e->rgrants > 0) {
		/* Remote grants are only held by the owner: it revokes them (or transfers the
		 * region, which revokes them) before ownership may leave it. */
		RZ_LOG(ERR, "region %#" PRIx64 ": owner pid %d holds %u remote grant%s on it: not "
				"moved", e->id, (int)proc_pid(e->owner), e->rgrants,
				e->rgrants == 1 ? "" : "s");
		ret = -EBUSY;
		goto out;
	}
	if (c->mode == RZ_MODE_MOVE) {
		ret = map_self_locked(e, virtual_base, c->rights, 0, RZ_NO_SLOT);
		if (ret < 0)
			goto out;
		RZ_LOG(INFO, "region %#" PRIx64 ": moved from pid %d to pid %d by capability",
				e->id, (int)proc_pid(e->owner), (int)local_proc.pid);
		audit_record(AUDIT_TRANSFER, AUDIT_CAUSE_CAPABILITY, e->id, proc_pid(e->owner),
				local_proc.pid, c->rights, 0, token & RZ_CAP_SLOT_MASK, 0, c->mode);
		/* Atomic: rz_region_owner() reads it without the lock. */
		__atomic_store_n(&e->owner, local_proc.self, __ATOMIC_RELAXED);
		e->owner_gen = local_proc.self_gen;
		cap_free_locked(c);
	} else {
		ret = map_self_locked(e, virtual_base, c->rights, MAP_F_CAP, slot);
		if (ret < 0)
			goto out;
		c->state = CAP_USED;
	}
	if (region != NULL)
		*region = region_handle(e->id);
out:
	audit_record(AUDIT_CAP_USE, AUDIT_CAUSE_EXPLICIT, seen.region_id, local_proc.pid,
			seen.token != 0 ? proc_pid(seen.target) : 0, seen.rights, ret,
			token & RZ_CAP_SLOT_MASK, 0, seen.mode);
	table_unlock();
	return ret;
}

int
rz_capability_revoke(uint64_t token)
{
	const struct remote_ops *ro;
	struct region_entry *e;
	struct cap_entry *c;
	uint32_t target;
	uint64_t region_id;
	int ret;

	if (tbl() == NULL || local_proc.self == RZ_NO_SLOT)
		return -ENODEV;
	ro = remote_active();
	if (ro != NULL) {
		/* A peer's capability: invalidate its window, wait for the completion. */
		ret = ro->cap_revoke(token);
		if (ret != -ENOENT)
			return ret;
	}
	ret = table_lock();
	if (ret < 0)
		return ret;
	c = cap_find_locked(token);
	e = c == NULL ? NULL : region_by_id(c->region_id);
	if (c == NULL || e == NULL) {
		RZ_LOG(ERR, "no such capability %#" PRIx64, token);
		ret = -ENOENT;
		goto out;
	}
	if (!owned_by_self_locked(e)) {
		RZ_LOG(ERR, "capability %#" PRIx64 ": pid %d does not own region %#" PRIx64, token,
				(int)local_proc.pid, e->id);
		ret = -EPERM;
		goto out;
	}
	if (c->state == CAP_ACTIVE) {
		cap_free_locked(c);
		goto out;
	}
	/* Used: take the mapping it made away from its target. */
	target = c->target;
	region_id = e->id;
	if (target == local_proc.self) {
		unmap_self_locked(e);	/* frees the capability */
		goto out;
	}
	table_unlock();
	ret = mp_remote_unmap(target, region_id);
	if (ret == 0 || table_lock() < 0) {
		audit_record(AUDIT_CAP_REVOKE, AUDIT_CAUSE_EXPLICIT, region_id, local_proc.pid,
				proc_pid(target), 0, ret, token & RZ_CAP_SLOT_MASK, 0, 0);
		return ret;	/* unmapped: the mapping layer freed the capability */
	}
	c = cap_find_locked(token);
	e = region_by_id(region_id);
	if (c == NULL || c->state != CAP_USED || e == NULL || e->maps[target].addr == 0 ||
			!(e->maps[target].flags & MAP_F_CAP) ||
			e->maps[target].cap_slot != (uint32_t)(c - tbl()->caps)) {
		/* The mapping went meanwhile (the target unmapped it, or died and was reaped). */
		if (c != NULL)
			cap_free_locked(c);
		ret = 0;
	} else {
		/* The target did not unmap: the capability stays in force (and revocable again);
		 * revoking the token alone would leave the mapping in place silently. */
		RZ_LOG(ERR, "capability %#" PRIx64 ": pid %d did not unmap region %#" PRIx64
				" (%s): the capability is still in force, revoke it again",
				token, (int)proc_pid(target), region_id, strerror(-ret));
	}
out:
	audit_record(AUDIT_CAP_REVOKE, AUDIT_CAUSE_EXPLICIT, e != NULL ? e->id : 0,
			local_proc.pid, 0, 0, ret, token & RZ_CAP_SLOT_MASK, 0, 0);
	table_unlock();
	return ret;
}

static const struct region_listener listener = {
	.name = "capability",
	.unlink_locked = cap_drop_region_locked,
};

int
capability_init(void)
{
	mapping_set_cap_gone(cap_mapping_gone_locked);
	return region_listener_add(&listener);
}
