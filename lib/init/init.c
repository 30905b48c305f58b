/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * rz_init() and rz_fini(): attach this process to the instance's table (the primary makes it),
 * take a process slot, register the layers' callbacks with the layers below them, start the
 * IPC control thread; and the reverse.
 */

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>

#include "capability_private.h"
#include "core_private.h"
#include "init_private.h"
#include "mapping_private.h"
#include "mp_private.h"
#include "proc_private.h"
#include "region_private.h"
#include "remote_ops.h"

static void
reap_tick(void)
{
	proc_reap_dead();
	arena_trim();	/* primary: empty arenas go back to DPDK */
}

/* Each layer's callbacks into the ones below it. Idempotent. */
static int
layers_register(void)
{
	int ret = mapping_init();

	if (ret == 0)
		ret = capability_init();
	if (ret < 0) {
		RZ_LOG(ERR, "cannot register the layers' callbacks: %s", strerror(-ret));
		return ret;
	}
	region_set_reaper(proc_reap_dead);
	region_repair_init();
	mp_set_tick(reap_tick);
	return 0;
}

int
rz_init(void)
{
	int ret;

	if (local_proc.observer) {
		RZ_LOG(ERR, "this process is an observer (rz_observe_open()): rz_init() refused");
		return -EBUSY;
	}
	if (local_proc.tbl != NULL && local_proc.self != RZ_NO_SLOT) {
		RZ_LOG(ERR, "rz_init() called twice");
		return -EALREADY;
	}
	if (rte_eal_process_type() == RTE_PROC_AUTO || rte_eal_process_type() == RTE_PROC_INVALID
			|| !rte_eal_has_hugepages()) {
		RZ_LOG(ERR, "the EAL is not initialised (or runs without hugepages)");
		return -EINVAL;
	}
	ret = layers_register();
	if (ret < 0)
		return ret;
	local_proc.primary = rte_eal_process_type() == RTE_PROC_PRIMARY;
	local_proc.pid = getpid();
	ret = local_proc.primary ? table_create() : table_attach();
	if (ret < 0)
		goto fail;
	ret = proc_register();
	if (ret < 0)
		goto fail;
	ret = mp_start();
	if (ret < 0) {
		table_lock();
		proc_release_locked(local_proc.self, true);
		table_unlock();
		arena_flush();
		local_proc.self = RZ_NO_SLOT;
		goto fail;
	}
	RZ_LOG(INFO, "attached %s pid %d as process slot %u",
			local_proc.primary ? "primary" : "secondary", local_proc.pid,
			local_proc.self);
	return 0;
fail:
	table_forget();
	return ret;
}

int
rz_fini(void)
{
	struct rz_table *t = local_proc.tbl;
	const struct remote_ops *ro;
	bool last = true;
	uint32_t i;

	if (t == NULL || local_proc.self == RZ_NO_SLOT)
		return -ENODEV;
	/* Remote grants go before the regions they open can be freed. */
	ro = remote_active();
	if (ro != NULL)
		ro->fini();
	mp_stop();
	proc_reap_dead();
	if (table_lock() < 0)
		return -EIO;
	proc_release_locked(local_proc.self, true);
	for (i = 0; i < RZ_MAX_PROCS; i++)
		if (t->procs[i].state == PROC_LIVE)
			last = false;
	if (local_proc.primary && last)
		region_free_all_locked();
	table_unlock();
	arena_flush();
	if (local_proc.primary && last)
		table_destroy();
	else
		table_forget();
	proc_forget_pidfds();
	RZ_LOG(INFO, "detached pid %d", local_proc.pid);
	local_proc.self = RZ_NO_SLOT;
	return 0;
}
