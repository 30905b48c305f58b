/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * The device of rzone remote: choice (rz_rdma_init(), RZ_RDMA_DEV), protection domain, quirks
 * (drivers/rdma), nearest NUMA node (hwloc, else sysfs), limits (max_mr, max_mw and their test
 * overrides), identity, the getters of all these, rz_rdma_dump(), and rdma_state itself: the
 * one context the files of lib/rdma share, under its lock. Also the errno and clock helpers
 * they all use.
 */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hwloc.h>
#include <hwloc/openfabrics-verbs.h>

#include "rdma_hooks.h"
#include "rdma_private.h"

struct rdma_ctx rdma_state = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.peers = TAILQ_HEAD_INITIALIZER(rdma_state.peers),
	.grants = TAILQ_HEAD_INITIALIZER(rdma_state.grants),
	.range_mrs = TAILQ_HEAD_INITIALIZER(rdma_state.range_mrs),
};

/* Does this thread hold rdma_state.lock? (A wait releases it, peer_wait_slot().) */
static __thread bool lock_held;

void
rdma_lock(void)
{
	pthread_mutex_lock(&rdma_state.lock);
	lock_held = true;
}

void
rdma_unlock(void)
{
	lock_held = false;
	pthread_mutex_unlock(&rdma_state.lock);
}

int
rdma_trylock(void)
{
	int ret = pthread_mutex_trylock(&rdma_state.lock);

	if (ret == 0)
		lock_held = true;
	return ret;
}

bool
rdma_lock_held(void)
{
	return lock_held;
}

int
rdma_errno(int e)
{
	/* rdma-core returns positive errno values, or -1 with errno set. */
	if (e == -1)
		e = errno;
	if (e < 0)
		e = -e;
	return e == 0 ? -EIO : -e;
}

uint64_t
rdma_now_realtime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int
read_int_file(const char *path, int *val)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (f == NULL)
		return -errno;
	ok = fscanf(f, "%d", val) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

/* hwloc first; then sysfs numa_node of the device, then of its parent network device. */
static int
device_numa_node(struct ibv_device *dev, const char *name)
{
	hwloc_topology_t topo;
	int node = -1;
	char path[PATH_MAX];
	char parent[64];
	FILE *f;

	if (hwloc_topology_init(&topo) == 0) {
		if (hwloc_topology_load(topo) == 0) {
			hwloc_cpuset_t set = hwloc_bitmap_alloc();
			hwloc_nodeset_t nodes = hwloc_bitmap_alloc();

			if (set != NULL && nodes != NULL &&
					hwloc_ibv_get_device_cpuset(topo, dev, set) == 0) {
				hwloc_cpuset_to_nodeset(topo, set, nodes);
				if (hwloc_bitmap_weight(nodes) == 1)
					node = hwloc_bitmap_first(nodes);
			}
			hwloc_bitmap_free(set);
			hwloc_bitmap_free(nodes);
		}
		hwloc_topology_destroy(topo);
	}
	if (node >= 0)
		return node;
	snprintf(path, sizeof(path), "/sys/class/infiniband/%s/device/numa_node", name);
	if (read_int_file(path, &node) == 0 && node >= 0)
		return node;
	/* Software devices (rxe) sit on a network device. */
	snprintf(path, sizeof(path), "/sys/class/infiniband/%s/parent", name);
	f = fopen(path, "r");
	if (f != NULL) {
		if (fscanf(f, "%63s", parent) == 1) {
			snprintf(path, sizeof(path), "/sys/class/net/%s/device/numa_node", parent);
			if (read_int_file(path, &node) == 0 && node >= 0) {
				fclose(f);
				return node;
			}
		}
		fclose(f);
	}
	return RZ_NUMA_ANY;
}

/* Test knob: a lower limit than the device's, from the environment. */
static uint32_t
limit_override(const char *var, int device_max)
{
	const char *v = getenv(var);
	unsigned long n;
	char *end;

	if (v == NULL)
		return (uint32_t)device_max;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n == 0 || n > (unsigned long)device_max) {
		RZ_LOG(WARNING, "%s=%s ignored: want 1..%d", var, v, device_max);
		return (uint32_t)device_max;
	}
	RZ_LOG(NOTICE, "test knob %s: limit %lu instead of the device's %d", var, n, device_max);
	return (uint32_t)n;
}

int
rz_rdma_init(const char *dev_name)
{
	struct ibv_context **devs;
	struct ibv_context *verbs = NULL;
	int n = 0, i, ret, import_status;

	rdma_lock();
	if (rdma_state.initialized) {
		ret = -EALREADY;
		goto out;
	}
	if (dev_name == NULL)
		dev_name = getenv("RZ_RDMA_DEV");
	import_status = import_try();
	devs = rdma_get_devices(&n);
	if (devs == NULL || n == 0) {
		RZ_LOG(ERR, "no RDMA device (is an RDMA driver loaded? ibv_devices lists none)");
		if (devs != NULL)
			rdma_free_devices(devs);
		ret = -ENODEV;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (dev_name == NULL ||
				strcmp(ibv_get_device_name(devs[i]->device), dev_name) == 0) {
			verbs = devs[i];
			break;
		}
	}
	if (verbs == NULL) {
		RZ_LOG(ERR, "no RDMA device named %s; there are:", dev_name);
		for (i = 0; i < n; i++)
			RZ_LOG(ERR, "  %s", ibv_get_device_name(devs[i]->device));
		rdma_free_devices(devs);
		ret = -ENODEV;
		goto out;
	}
	ret = ibv_query_device(verbs, &rdma_state.attr);
	if (ret != 0) {
		ret = rdma_errno(ret);
		RZ_LOG(ERR, "%s: ibv_query_device: %s", ibv_get_device_name(verbs->device),
				strerror(-ret));
		rdma_free_devices(devs);
		ret = -EIO;
		goto out;
	}
	rdma_state.pd = ibv_alloc_pd(verbs);
	if (rdma_state.pd == NULL) {
		RZ_LOG(ERR, "ibv_alloc_pd: %s", strerror(errno));
		rdma_free_devices(devs);
		ret = -ENOMEM;
		goto out;
	}
	rdma_state.devs = devs;
	rdma_state.verbs = verbs;
	snprintf(rdma_state.name, sizeof(rdma_state.name), "%s",
			ibv_get_device_name(verbs->device));
	rdma_state.numa_node = device_numa_node(verbs->device, rdma_state.name);
	rdma_state.quirks = rdma_quirks_lookup(rdma_state.attr.vendor_id, rdma_state.name);
	do {
		ret = rdma_random(&rdma_state.self_id, sizeof(rdma_state.self_id));
	} while (ret == 0 && rdma_state.self_id == 0);
	if (ret != 0) {
		ibv_dealloc_pd(rdma_state.pd);
		rdma_free_devices(devs);
		goto out;
	}
	rdma_state.max_mr = limit_override("RZ_RDMA_MAX_MR_OVERRIDE", rdma_state.attr.max_mr);
	rdma_state.max_mw = limit_override("RZ_RDMA_MAX_MW_OVERRIDE", rdma_state.attr.max_mw);
	rdma_state.n_mr = 0;
	rdma_state.n_mw = 0;
	rdma_state.next_gen = 1;
	rdma_state.stats_granted = rdma_state.stats_revoked = rdma_state.stats_expired = 0;
	rdma_state.stats_desc_rejected = rdma_state.stats_backlog_refused = 0;
	rdma_state.import_status = import_status;
	rdma_state.stats_peers_dead = 0;
	liveness_init_locked();
	memset(rdma_state.arena_mr, 0, sizeof(rdma_state.arena_mr));
	rdma_state.initialized = true;
	rdma_publish_locked();
	import_serve_start();
	RZ_LOG(INFO, "device %s (node %d, quirks %s), max_mr %u, max_mw %u, id 0x%016" PRIx64,
			rdma_state.name, rdma_state.numa_node, rdma_state.quirks->name,
			rdma_state.max_mr, rdma_state.max_mw, rdma_state.self_id);
	if (!rdma_state.quirks->mw_range_enforced)
		RZ_LOG(INFO, "%s: memory windows are not bounded by the device: every grant gets "
				"an MR of exactly its range", rdma_state.name);
	ret = 0;
out:
	rdma_unlock();
	return ret;
}

static rdma_fini_hook_fn *fini_hook;

void
rdma_set_fini_hook(rdma_fini_hook_fn *fn)
{
	fini_hook = fn;
}

int
rz_rdma_fini(void)
{
	rdma_lock();
	if (!rdma_state.initialized) {
		rdma_unlock();
		return -ENODEV;
	}
	import_serve_stop();
	peer_close_all_locked();
	mw_pool_free_locked();
	range_mr_drop_locked(UINT64_MAX);
	arena_mr_drop_all_locked();
	/* The lkeys the modules above cached (rz_mbuf_lkey()'s table) name MRs that are gone. */
	if (fini_hook != NULL)
		fini_hook();
	ibv_dealloc_pd(rdma_state.pd);
	rdma_free_devices(rdma_state.devs);
	rdma_state.pd = NULL;
	rdma_state.devs = NULL;
	rdma_state.verbs = NULL;
	rdma_state.initialized = false;
	rdma_publish_locked();
	rdma_unlock();
	return 0;
}

const char *
rz_rdma_device_name(void)
{
	if (!rdma_state.initialized) {
		rte_errno = ENODEV;
		return NULL;
	}
	return rdma_state.name;
}

int
rz_rdma_numa_node(void)
{
	return rdma_state.initialized ? rdma_state.numa_node : -ENODEV;
}

int
rz_rdma_import_status(void)
{
	return rdma_state.initialized ? rdma_state.import_status : -ENODEV;
}

uint64_t
rz_rdma_self_id(void)
{
	if (!rdma_state.initialized) {
		rte_errno = ENODEV;
		return 0;
	}
	return rdma_state.self_id;
}

int
rz_rdma_limits(uint32_t *max_mr, uint32_t *max_mw, uint32_t *used_mr, uint32_t *used_mw)
{
	if (!rdma_state.initialized)
		return -ENODEV;
	if (max_mr != NULL)
		*max_mr = rdma_state.max_mr;
	if (max_mw != NULL)
		*max_mw = rdma_state.max_mw;
	if (used_mr != NULL)
		*used_mr = rdma_state.n_mr;
	if (used_mw != NULL)
		*used_mw = rdma_state.n_mw;
	return 0;
}

int
rz_rdma_dump(FILE *f)
{
	struct rz_peer *p;
	struct grant *g;
	uint32_t i, n = 0, kept = 0;

	if (f == NULL)
		return -EINVAL;
	rdma_lock();
	if (!rdma_state.initialized) {
		rdma_unlock();
		return -ENODEV;
	}
	for (i = 0; i < RZ_MAX_ARENAS; i++)
		n += rdma_state.arena_mr[i].mr != NULL;
	fprintf(f, "rdma device %s: nearest NUMA node %d, id 0x%016" PRIx64 ", quirks %s\n",
			rdma_state.name, rdma_state.numa_node, rdma_state.self_id,
			rdma_state.quirks->name);
	TAILQ_FOREACH(p, &rdma_state.peers, next)
		kept += p->mw_cached;
	fprintf(f, "  limits: max_mr %u (used %u, %u arenas), max_mw %u (used %u: %u pooled, "
			"%u kept by peers)\n", rdma_state.max_mr, rdma_state.n_mr, n,
			rdma_state.max_mw, rdma_state.n_mw, rdma_state.pool_n, kept);
	if (rdma_state.import_status == 1)
		fprintf(f, "  context: imported from the primary\n");
	else if (rdma_state.import_status < 0)
		fprintf(f, "  context: own (import from the primary failed: %s)\n",
				strerror(-rdma_state.import_status));
	else
		fprintf(f, "  context: own\n");
	for (i = 0; i < RZ_MAX_ARENAS; i++) {
		struct ibv_mr *mr = rdma_state.arena_mr[i].mr;

		if (mr != NULL)
			fprintf(f, "  arena %u: MR %p+%zu lkey 0x%x\n", i, mr->addr, mr->length,
					mr->lkey);
	}
	TAILQ_FOREACH(p, &rdma_state.peers, next)
		fprintf(f, "  peer %d = 0x%016" PRIx64 " pid %d qp %u: %s, %u grants\n",
				(int)p->local_id, p->remote_id, p->remote_pid,
				p->qp != NULL ? p->qp->qp_num : 0,
				p->connected ? "connected" : "disconnected", p->ngrants);
	TAILQ_FOREACH(g, &rdma_state.grants, next)
		fprintf(f, "  grant %" PRIu64 ": region %#" PRIx64 " [0x%" PRIx64 "+%" PRIu64
				"] rkey 0x%08x rights 0x%x mode %u to peer %d%s%s%s%s%s\n",
				g->desc.generation, g->desc.region_id, g->desc.addr,
				g->desc.length, g->desc.rkey, g->desc.rights, g->desc.mode,
				(int)g->peer->local_id, g->desc.expiry_ns ? " (expires)" : "",
				(g->kind & GRANT_F_MAP) ? " map" : "",
				(g->kind & GRANT_F_CAP) ? " capability" : "",
				(g->kind & GRANT_F_OWNER) ? " owner" : "",
				(g->kind & GRANT_F_NO_SEND) ? " app-delivered" : "");
	rdma_unlock();
	return 0;
}

bool
rdma_initialized(void)
{
	return __atomic_load_n(&rdma_state.initialized, __ATOMIC_ACQUIRE);
}
