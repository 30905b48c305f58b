/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_RDMA_HOOKS_H
#define RZ_RDMA_HOOKS_H

/* What the local core tells the RDMA module (lib/rdma), and asks of it. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "rzone.h"

/* Has this process called rz_rdma_init()? */
bool rdma_initialized(void);
/* Revoke every remote grant of a region made by this process; returns how many. */
int rdma_revoke_region(uint64_t region_id);
/* An arena's memzone is being freed (table lock held): drop its registration. */
void rdma_arena_released(uint32_t arena_idx);

/*
 * Peers in the seed calls (lib/rdma/seed.c). A pid in [RZ_PEER_ID_BASE, RZ_PEER_ID_MAX] names a
 * remote peer of this process. These take the RDMA lock, then the table lock: call them without
 * the table lock. They return 0 or -errno as the seed call documents, -ESRCH for an id no open
 * peer has.
 */
static inline bool
rdma_pid_is_peer(pid_t pid)
{
	return pid >= RZ_PEER_ID_BASE;
}
int rdma_peer_map(struct rz_region *r, pid_t peer, void *virtual_base, uint32_t perms);
int rdma_peer_unmap(struct rz_region *r, pid_t peer);
int rdma_peer_mapping(const struct rz_region *r, pid_t peer, uint64_t *addr, uint32_t *perms);
int rdma_peer_transfer(struct rz_region *r, pid_t peer);
int rdma_peer_capability(struct rz_region *r, pid_t peer, uint32_t mode, uint64_t *token);
/* Revoke a capability granted to a peer; -ENOENT if @token is not one. */
int rdma_capability_revoke(uint64_t token);
/* Is @token a capability granted to a peer by this process? */
bool rdma_capability_is_peer(uint64_t token);
/* Peer id that owns a region (only it may be granted), 0 if none. */
pid_t rdma_region_remote_owner(uint64_t region_id);

#endif /* RZ_RDMA_HOOKS_H */
