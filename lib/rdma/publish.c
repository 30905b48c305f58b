/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * What this process publishes of its RDMA state for observers (rzone-info): its device, its
 * peers and its live grants, in its own page of the audit memzone (lib/core/audit_private.h).
 * Rewritten whole, with the RDMA lock held, whenever a grant or a peer comes or goes: a few
 * microseconds on the control path, nothing on the data path.
 */

#include <string.h>

#include <rte_string_fns.h>

#include "audit_private.h"
#include "core_private.h"
#include "rdma_private.h"

void
rdma_publish_locked(void)
{
	struct rdma_pub *pub = rdma_pub_begin();
	const struct rz_peer *p;
	const struct grant *g;
	uint32_t n = 0;

	if (pub == NULL)
		return;
	if (!rdma_state.initialized) {
		pub->pid = 0;
		pub->npeers = 0;
		pub->ngrants = 0;
		pub->device[0] = '\0';
		rdma_pub_end(pub);
		return;
	}
	pub->pid = local_proc.pid;
	rte_strlcpy(pub->device, rdma_state.name, sizeof(pub->device));
	TAILQ_FOREACH(p, &rdma_state.peers, next) {
		if (n < RZ_PUB_PEERS) {
			struct pub_peer *pp = &pub->peers[n];

			pp->remote_id = p->remote_id;
			pp->local_id = p->local_id;
			pp->remote_pid = p->remote_pid;
			pp->ngrants = p->ngrants;
			pp->connected = p->connected != 0;
		}
		n++;
	}
	pub->npeers = n;
	n = 0;
	TAILQ_FOREACH(g, &rdma_state.grants, next) {
		if (n < RZ_PUB_GRANTS) {
			struct pub_grant *pg = &pub->grants[n];
			struct region_entry *e = region_by_id(g->desc.region_id);

			pg->region = g->desc.region_id;
			pg->offset = e != NULL ? g->desc.addr - (uint64_t)(uintptr_t)e->va : 0;
			pg->length = g->desc.length;
			pg->expiry_ns = g->desc.expiry_ns;
			pg->peer_remote = g->peer->remote_id;
			pg->peer = g->peer->local_id;
			pg->rights = g->desc.rights;
			pg->rkey = g->desc.rkey;
		}
		n++;
	}
	pub->ngrants = n;
	rdma_pub_end(pub);
}

void
rdma_audit_grant(uint16_t event, uint16_t cause, const struct grant *g, int result)
{
	struct region_entry *e = region_by_id(g->desc.region_id);

	audit_record(event, cause, g->desc.region_id, local_proc.pid, g->peer->local_id,
			g->desc.rights, result,
			e != NULL ? g->desc.addr - (uint64_t)(uintptr_t)e->va : g->desc.addr,
			g->desc.length, 0);
}
