/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * What a process holds is released when it leaves (rz_fini) or is found dead (the reaper, run
 * by the control thread every 200 ms and by a destroy that finds a mapper busy): capabilities
 * aimed at it, its mappings, the regions it owns (they pass to the oldest mapper or are freed).
 */

#include <errno.h>
#include <stdbool.h>

#include "audit_private.h"
#include "capability_private.h"
#include "core_private.h"
#include "init_private.h"
#include "mapping_private.h"
#include "proc_private.h"
#include "region_private.h"

void
proc_release_locked(uint32_t slot, bool self_leaving)
{
	struct rz_table *t = tbl();
	uint32_t i;

	cap_drop_target_locked(slot);
	zero_intents_finish_locked(slot);
	for (i = 0; i < RZ_MAX_REGIONS; i++) {
		struct region_entry *e = &t->regions[i];
		bool held = false;

		if (e->state != REGION_LIVE)
			continue;
		if (e->maps[slot].addr != 0) {
			held = true;
			if (self_leaving)
				unmap_self_locked(e);
			else
				mapping_clear_locked(e, slot);
		}
		if (e->owner == slot) {
			held = true;
			region_owner_leaves_locked(e, slot);
		}
		if (held && !self_leaving)
			fault_point("reap.region");	/* one region released, the rest not */
	}
	rdma_pub_clear(slot);
	if (!self_leaving)
		audit_release_proc(slot);	/* audit records it died writing */
	proc_free_locked(slot);
}

int
proc_register(void)
{
	struct rz_table *t = tbl();
	uint64_t st = proc_start_time(local_proc.pid);
	int ret, stale;

	if (st == 0) {
		RZ_LOG(ERR, "cannot read /proc/%d/stat", (int)local_proc.pid);
		return -EIO;
	}
	ret = table_lock();
	if (ret < 0)
		return ret;
	while ((stale = proc_stale_slot_locked(local_proc.pid)) >= 0) {
		/* Our pid, an earlier life: that process died unreaped. */
		RZ_LOG(NOTICE, "pid %d reused: releasing the dead process's slot %d",
				(int)local_proc.pid, stale);
		audit_record(AUDIT_REAP, AUDIT_CAUSE_NONE, 0, local_proc.pid, local_proc.pid, 0, 0,
				(uint32_t)stale, 0, 0);
		proc_release_locked((uint32_t)stale, false);
		__atomic_add_fetch(&t->stats_reaped, 1, __ATOMIC_RELAXED);
	}
	ret = proc_claim_locked(st);
	table_unlock();
	arena_flush();
	return ret;
}

unsigned int
proc_reap_dead(void)
{
	struct rz_table *t = tbl();
	bool dead[RZ_MAX_PROCS] = { false };
	unsigned int n = 0;
	uint32_t i;

	if (fault_skip("reap"))
		return 0;
	/* Lock-free pass first: nearly always nothing to do. */
	for (i = 0; i < RZ_MAX_PROCS; i++) {
		if (i == local_proc.self ||
				__atomic_load_n(&t->procs[i].state, __ATOMIC_ACQUIRE) != PROC_LIVE)
			continue;
		if (!proc_alive(i)) {
			dead[i] = true;
			n++;
		}
	}
	if (n == 0 || table_lock() < 0) {
		arena_flush();	/* what a repair of this process left to free */
		return 0;
	}
	n = 0;
	for (i = 0; i < RZ_MAX_PROCS; i++) {
		/* Re-check under the lock: another process may have reaped it already. */
		if (!dead[i] || t->procs[i].state != PROC_LIVE || proc_alive(i))
			continue;
		RZ_LOG(NOTICE, "process %d (slot %u) died: releasing what it held",
				(int)t->procs[i].pid, i);
		fault_point("reap.release");
		audit_record(AUDIT_REAP, AUDIT_CAUSE_NONE, 0, local_proc.pid, t->procs[i].pid, 0, 0,
				i, 0, 0);
		proc_release_locked(i, false);
		__atomic_add_fetch(&t->stats_reaped, 1, __ATOMIC_RELAXED);
		n++;
	}
	table_unlock();
	arena_flush();
	return n;
}
