/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * The count of remote grants a region's owner holds (region_entry.rgrants), and the "leaving"
 * mark of a region whose owner revokes them before it destroys or transfers it.
 *
 * The rule (doc/guide.md, "Remote grants and ownership"): remote grants on a region are only
 * ever held by its current owner process. Before ownership leaves that process or the memory
 * is freed, the owner's grants on it are revoked and their invalidation completed. The windows
 * are objects of the owner's own RDMA context; lib/rdma keeps this count in the shared table
 * (through the functions below: it may call down, this layer never calls up) so that another
 * process can refuse to take the region away (an RZ_MODE_MOVE capability: -EBUSY) while the
 * owner holds grants on it.
 */

#include <errno.h>
#include <inttypes.h>

#include "core_private.h"
#include "proc_private.h"
#include "region_private.h"

int
region_busy_locked(const struct region_entry *e, const char *what)
{
	if (e->leaving == REGION_STAYS)
		return 0;
	RZ_LOG(ERR, "region %#" PRIx64 ": its owner pid %d is revoking its remote grants before "
			"it is %s: no %s now", e->id, (int)proc_pid(e->owner),
			e->leaving == REGION_LEAVING_DESTROY ? "destroyed" : "transferred", what);
	return -EBUSY;
}

int
region_grant_hold(uint64_t region_id)
{
	struct region_entry *e;
	int ret = table_lock();

	if (ret < 0)
		return ret;
	e = region_by_id(region_id);
	if (e == NULL) {
		ret = -ENOENT;
	} else if (!owned_by_self_locked(e)) {
		RZ_LOG(ERR, "region %#" PRIx64 ": pid %d is not the owner (pid %d): only the owner "
				"grants", region_id, (int)local_proc.pid, (int)proc_pid(e->owner));
		ret = -EPERM;
	} else {
		ret = region_busy_locked(e, "grant");
		if (ret == 0)
			e->rgrants++;
	}
	table_unlock();
	return ret;
}

void
region_grant_release(uint64_t region_id)
{
	struct region_entry *e;

	if (tbl() == NULL || table_lock() < 0)
		return;
	e = region_by_id(region_id);
	/* A region that changed hands had its count reset: not ours to decrement. */
	if (e != NULL && owned_by_self_locked(e) && e->rgrants > 0)
		e->rgrants--;
	table_unlock();
}

int
region_remote_grants(uint64_t region_id)
{
	struct region_entry *e = region_by_id(region_id);

	return e == NULL ? -ENOENT : (int)__atomic_load_n(&e->rgrants, __ATOMIC_RELAXED);
}
