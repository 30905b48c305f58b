/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/* Read-only telemetry under /rzone/ (dpdk-telemetry.py, or the telemetry socket). */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_telemetry.h>

#include "core_private.h"
#include "init_private.h"
#include "proc_private.h"

static int
tel_info(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rz_table *t = tbl();

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	if (t == NULL)
		return -ENODEV;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "version", RZ_VERSION);
	rte_tel_data_add_dict_u64(d, "regions", t->nregions);
	rte_tel_data_add_dict_u64(d, "capabilities", t->ncaps);
	rte_tel_data_add_dict_u64(d, "page_size", t->page_sz);
	rte_tel_data_add_dict_u64(d, "max_regions", t->max_regions);
	rte_tel_data_add_dict_u64(d, "created", t->stats_created);
	rte_tel_data_add_dict_u64(d, "destroyed", t->stats_destroyed);
	rte_tel_data_add_dict_u64(d, "reaped", t->stats_reaped);
	rte_tel_data_add_dict_u64(d, "ipc_rejected", t->stats_ipc_rejected);
	rte_tel_data_add_dict_u64(d, "liveness_unknown", t->stats_liveness_unknown);
	rte_tel_data_add_dict_u64(d, "repairs", t->stats_repairs);
	return 0;
}

static int
tel_regions(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rz_table *t = tbl();
	uint32_t i;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	if (t == NULL)
		return -ENODEV;
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	for (i = 0; i < RZ_MAX_REGIONS; i++) {
		uint64_t id = __atomic_load_n(&t->regions[i].id, __ATOMIC_ACQUIRE);
		char hex[24];

		if (id == 0)
			continue;
		snprintf(hex, sizeof(hex), "%#" PRIx64, id);
		if (rte_tel_data_add_array_string(d, hex) < 0)
			break;	/* telemetry's array is full: the list is truncated */
	}
	return 0;
}

static int
tel_region(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct region_entry *e;
	char hex[24];
	uint64_t id;

	RTE_SET_USED(cmd);
	if (tbl() == NULL)
		return -ENODEV;
	if (tel_region_param(params, &id) != 0)
		return -EINVAL;
	/* Under the table lock: the counts and owner change under it (telemetry is no hot path;
	 * ThreadSanitizer saw the capability count read while a reaper freed one). */
	if (table_lock() < 0)
		return -EIO;
	e = region_by_id(id);
	if (e == NULL) {
		table_unlock();
		return -ENOENT;
	}
	rte_tel_data_start_dict(d);
	/* Ids and addresses as the logs and dumps print them: 0x-hex strings. */
	snprintf(hex, sizeof(hex), "%#" PRIx64, e->id);
	rte_tel_data_add_dict_string(d, "id", hex);
	rte_tel_data_add_dict_u64(d, "size", e->size);
	rte_tel_data_add_dict_u64(d, "perms", e->perms);
	rte_tel_data_add_dict_int(d, "owner_pid", proc_pid(e->owner));
	rte_tel_data_add_dict_int(d, "numa_node", e->numa_node);
	snprintf(hex, sizeof(hex), "%#" PRIx64, (uint64_t)(uintptr_t)e->va);
	rte_tel_data_add_dict_string(d, "addr", hex);
	rte_tel_data_add_dict_u64(d, "mappings", e->nmaps);
	rte_tel_data_add_dict_u64(d, "capabilities", e->ncaps);
	table_unlock();
	return 0;
}

static int
tel_procs(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rz_table *t = tbl();
	uint32_t i;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	if (t == NULL)
		return -ENODEV;
	rte_tel_data_start_array(d, RTE_TEL_INT_VAL);
	for (i = 0; i < RZ_MAX_PROCS; i++)
		if (__atomic_load_n(&t->procs[i].state, __ATOMIC_ACQUIRE) == PROC_LIVE)
			rte_tel_data_add_array_int(d, t->procs[i].pid);
	return 0;
}

RTE_INIT(rz_telemetry_init)
{
	rte_telemetry_register_cmd("/rzone/info", tel_info,
			"rzone counters. Takes no parameters");
	rte_telemetry_register_cmd("/rzone/regions", tel_regions,
			"Ids of the live regions. Takes no parameters");
	rte_telemetry_register_cmd("/rzone/region", tel_region,
			"One region. Parameters: region id (0x-hex or decimal)");
	rte_telemetry_register_cmd("/rzone/procs", tel_procs,
			"Pids of the attached processes. Takes no parameters");
}
