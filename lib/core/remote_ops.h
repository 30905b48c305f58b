/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_REMOTE_OPS_H
#define RZ_REMOTE_OPS_H

/*
 * How the local layers reach remote peers without referencing the RDMA module above them: the
 * RDMA module (lib/rdma) registers this table when the library is loaded. Without it (rzone
 * built with -Drdma=disabled) there is none, and a seed call that names a peer id fails with
 * -ENOTSUP.
 *
 * Every function is called WITHOUT the table lock: the RDMA module takes its own lock, then the
 * table lock (never the other way round).
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "rzone.h"

struct remote_ops {
	/* rz_rdma_init() was called and rz_rdma_fini() was not. */
	bool (*active)(void);
	/* Seed calls naming peer id @peer (lib/rdma/seed.c): 0 or -errno as the seed call
	 * documents, -ESRCH for an id no open peer of this process has. */
	int (*map)(struct rz_region *r, pid_t peer, void *virtual_base, uint32_t perms);
	int (*unmap)(struct rz_region *r, pid_t peer);
	int (*mapping)(const struct rz_region *r, pid_t peer, uint64_t *addr, uint32_t *perms);
	int (*transfer)(struct rz_region *r, pid_t peer);
	int (*capability)(struct rz_region *r, pid_t peer, uint32_t mode, uint64_t *token);
	/* Revoke a capability granted to a peer; -ENOENT if @token is not one. */
	int (*cap_revoke)(uint64_t token);
	/* Is @token a capability granted to a peer by this process? */
	bool (*cap_is_remote)(uint64_t token);
	/* Peer id that owns a region (only it may be granted), 0 if none. */
	pid_t (*region_owner)(uint64_t region_id);
	/* Revoke every remote grant of a region made by this process; returns how many. */
	int (*revoke_region)(uint64_t region_id);
	/* Arena @arena (sequence @seq) is about to go back to DPDK: drop its registration. */
	void (*arena_freed)(uint32_t arena, uint64_t seq);
	/* NUMA node nearest the device, or a negative value. */
	int (*numa_node)(void);
	/* Device name, or NULL. */
	const char *(*device_name)(void);
	/* rz_fini(): close the RDMA side first (its grants go before the regions can be freed). */
	void (*fini)(void);
};

/* Register the RDMA module's table (once, from its constructor). */
void remote_ops_register(const struct remote_ops *ops);

/* The table if the RDMA module is built in AND initialised in this process, else NULL. */
const struct remote_ops *remote_active(void);

/* Does @pid name a remote peer (RZ_PEER_ID_BASE..RZ_PEER_ID_MAX) rather than a process? */
static inline bool
remote_pid_is_peer(pid_t pid)
{
	return pid >= RZ_PEER_ID_BASE;
}

/* The table for a seed call that names peer id @peer, or NULL with *@err set: -ENOTSUP (rzone
 * built without RDMA), -ESRCH (rz_rdma_init() not called: no peer is open). Logs why. */
const struct remote_ops *remote_for_peer(pid_t peer, int *err);

#endif /* RZ_REMOTE_OPS_H */
