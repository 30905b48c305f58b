/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/* Read-only telemetry of the RDMA half: /rzone/rdma, /rzone/rdma/peers, /rzone/rdma/peer. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_common.h>
#include <rte_telemetry.h>

#include "rdma_private.h"

static uint64_t
counter(const uint64_t *v)
{
	return __atomic_load_n(v, __ATOMIC_RELAXED);
}

/* Take the lock if rz_rdma_init() ran: 0 (locked) or -ENODEV (not locked). */
static int
tel_lock(void)
{
	rdma_lock();
	if (rdma_state.initialized)
		return 0;
	rdma_unlock();
	return -ENODEV;
}

static int
tel_rdma(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rz_peer *p;
	uint32_t npeers = 0;
	char hex[24];

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	if (tel_lock() != 0)
		return -ENODEV;
	TAILQ_FOREACH(p, &rdma_state.peers, next)
		npeers++;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "device", rdma_state.name);
	rte_tel_data_add_dict_int(d, "numa_node", rdma_state.numa_node);
	snprintf(hex, sizeof(hex), "%#" PRIx64, rdma_state.self_id);
	rte_tel_data_add_dict_string(d, "self_id", hex);	/* ids: 0x-hex, as in the logs */
	rte_tel_data_add_dict_u64(d, "max_mr", rdma_state.max_mr);
	rte_tel_data_add_dict_u64(d, "max_mw", rdma_state.max_mw);
	rte_tel_data_add_dict_u64(d, "used_mr", rdma_state.n_mr);
	rte_tel_data_add_dict_u64(d, "used_mw", rdma_state.n_mw);
	rte_tel_data_add_dict_u64(d, "peers", npeers);
	rte_tel_data_add_dict_u64(d, "grants", (uint64_t)grant_count_locked());
	rte_tel_data_add_dict_int(d, "import_status", rdma_state.import_status);
	rte_tel_data_add_dict_u64(d, "granted", counter(&rdma_state.stats_granted));
	rte_tel_data_add_dict_u64(d, "revoked", counter(&rdma_state.stats_revoked));
	rte_tel_data_add_dict_u64(d, "expired", counter(&rdma_state.stats_expired));
	rte_tel_data_add_dict_u64(d, "desc_rejected", counter(&rdma_state.stats_desc_rejected));
	rte_tel_data_add_dict_u64(d, "backlog_refused", counter(&rdma_state.stats_backlog_refused));
	rte_tel_data_add_dict_u64(d, "peers_dead", counter(&rdma_state.stats_peers_dead));
	rte_tel_data_add_dict_u64(d, "keepalive_ms", rz_rdma_keepalive_ms());
	rte_tel_data_add_dict_u64(d, "ack_timeout", rz_rdma_ack_timeout());
	rdma_unlock();
	return 0;
}

static int
tel_peers(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rz_peer *p;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	if (tel_lock() != 0)
		return -ENODEV;
	rte_tel_data_start_array(d, RTE_TEL_INT_VAL);
	TAILQ_FOREACH(p, &rdma_state.peers, next)
		if (rte_tel_data_add_array_int(d, p->local_id) < 0)
			break;	/* telemetry's array is full: the list is truncated */
	rdma_unlock();
	return 0;
}

static int
tel_peer(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rz_peer *p;
	char hex[24];
	int32_t id;

	RTE_SET_USED(cmd);
	if (tel_peer_param(params, &id) != 0)
		return -EINVAL;
	if (tel_lock() != 0)
		return -ENODEV;
	p = peer_by_id_locked((pid_t)id);
	if (p == NULL) {
		rdma_unlock();
		return -ENOENT;
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_int(d, "id", p->local_id);
	snprintf(hex, sizeof(hex), "%#" PRIx64, p->remote_id);
	rte_tel_data_add_dict_string(d, "identity", hex);
	rte_tel_data_add_dict_int(d, "pid", p->remote_pid);
	rte_tel_data_add_dict_u64(d, "qp_num", p->qp != NULL ? p->qp->qp_num : 0);
	rte_tel_data_add_dict_int(d, "connected", p->connected ? 1 : 0);
	rte_tel_data_add_dict_u64(d, "grants", p->ngrants);
	rte_tel_data_add_dict_u64(d, "windows_kept", p->mw_cached);
	rte_tel_data_add_dict_u64(d, "async_outstanding",
			__atomic_load_n(&p->sq.outstanding, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_int(d, "send_pending", p->send_pending != 0);
	rdma_unlock();
	return 0;
}

RTE_INIT(rz_rdma_telemetry_init)
{
	rte_telemetry_register_cmd("/rzone/rdma", tel_rdma,
			"RDMA device, limits, peers, grants and counters. Takes no parameters");
	rte_telemetry_register_cmd("/rzone/rdma/peers", tel_peers,
			"Ids of the RDMA peers (the seed calls' peer ids). Takes no parameters");
	rte_telemetry_register_cmd("/rzone/rdma/peer", tel_peer,
			"One RDMA peer. Parameters: peer id");
}
