/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * Device, protection domain, NUMA locality, memory registration (one MR per arena per process),
 * memory window pool, limits.
 */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <hwloc.h>
#include <rte_tailq.h>
#include <hwloc/openfabrics-verbs.h>

#include "rdma_private.h"

struct rdma_ctx rdma_state = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.peers = TAILQ_HEAD_INITIALIZER(rdma_state.peers),
	.grants = TAILQ_HEAD_INITIALIZER(rdma_state.grants),
	.range_mrs = TAILQ_HEAD_INITIALIZER(rdma_state.range_mrs),
};

/* Plain memory registrations (rz_rdma_register_mem) are tagged so that deregister can tell. */
#define RZ_MEM_TAG ((void *)&rdma_state.n_mr)

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

int
rdma_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Random bytes for keys and window picks: getrandom() output, fetched RZ_RND_BUF at a time so
 * that a grant does not pay a system call for each. Lock held. */
int
rdma_random_locked(void *buf, size_t len)
{
	uint8_t *out = buf;

	while (len > 0) {
		size_t n;

		if (rdma_state.rnd_pos == 0 || rdma_state.rnd_pos >= RZ_RND_BUF) {
			int ret = rdma_random(rdma_state.rnd, RZ_RND_BUF);

			if (ret != 0)
				return ret;
			rdma_state.rnd_pos = 0;
		}
		n = RTE_MIN(len, (size_t)(RZ_RND_BUF - rdma_state.rnd_pos));
		memcpy(out, rdma_state.rnd + rdma_state.rnd_pos, n);
		/* Bytes handed out are not kept. */
		memset(rdma_state.rnd + rdma_state.rnd_pos, 0, n);
		rdma_state.rnd_pos += (uint32_t)n;
		out += n;
		len -= n;
	}
	return 0;
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

	pthread_mutex_lock(&rdma_state.lock);
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
	memset(rdma_state.arena_mr, 0, sizeof(rdma_state.arena_mr));
	rdma_state.initialized = true;
	import_serve_start();
	RZ_LOG(INFO, "device %s (node %d, quirks %s), max_mr %u, max_mw %u, id %016" PRIx64,
			rdma_state.name, rdma_state.numa_node, rdma_state.quirks->name,
			rdma_state.max_mr, rdma_state.max_mw, rdma_state.self_id);
	if (!rdma_state.quirks->mw_range_enforced)
		RZ_LOG(INFO, "%s: memory windows are not bounded by the device: every grant gets "
				"an MR of exactly its range", rdma_state.name);
	ret = 0;
out:
	pthread_mutex_unlock(&rdma_state.lock);
	return ret;
}

int
rz_rdma_fini(void)
{
	uint32_t i;

	pthread_mutex_lock(&rdma_state.lock);
	if (!rdma_state.initialized) {
		pthread_mutex_unlock(&rdma_state.lock);
		return -ENODEV;
	}
	import_serve_stop();
	peer_close_all_locked();
	for (i = 0; i < rdma_state.pool_n; i++)
		ibv_dealloc_mw(rdma_state.pool[i].mw);
	free(rdma_state.pool);
	rdma_state.pool = NULL;
	rdma_state.pool_n = rdma_state.pool_cap = 0;
	range_mr_drop_locked(UINT64_MAX);
	for (i = 0; i < RZ_MAX_ARENAS; i++) {
		if (rdma_state.arena_mr[i].mr != NULL)
			ibv_dereg_mr(rdma_state.arena_mr[i].mr);
		rdma_state.arena_mr[i].mr = NULL;
	}
	ibv_dealloc_pd(rdma_state.pd);
	rdma_free_devices(rdma_state.devs);
	rdma_state.pd = NULL;
	rdma_state.devs = NULL;
	rdma_state.verbs = NULL;
	rdma_state.initialized = false;
	pthread_mutex_unlock(&rdma_state.lock);
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

struct ibv_mr *
rdma_reg_mr_locked(void *addr, size_t len, int *err)
{
	/* LOCAL_WRITE (reads and atomics land here) and MW_BIND (windows are bound over it).
	 * No remote right: the MR's own rkey opens nothing; remote access only goes through
	 * memory windows, whose rights are those of each grant. */
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_MW_BIND;
	struct ibv_mr *mr;

	if (rdma_state.n_mr + 1 > rdma_state.max_mr) {
		RZ_LOG(ERR, "%s: registering %zu bytes would exceed max_mr %u (%u in use)",
				rdma_state.name, len, rdma_state.max_mr, rdma_state.n_mr);
		*err = -ENOSPC;
		return NULL;
	}
	mr = ibv_reg_mr(rdma_state.pd, addr, len, access);
	if (mr == NULL) {
		*err = rdma_errno(-1);
		if (*err == -EIO)
			*err = -ENOMEM;
		RZ_LOG(ERR, "ibv_reg_mr(%p, %zu) on %s: %s%s", addr, len, rdma_state.name,
				strerror(-*err), *err == -EPERM || *err == -ENOMEM ?
				" (check ulimit -l)" : "");
		return NULL;
	}
	rdma_state.n_mr++;
	*err = 0;
	return mr;
}

struct ibv_mr *
rdma_region_mr_locked(struct rz_region *r, void **addr, size_t *len, uint64_t *region_id,
		uint32_t *perms)
{
	struct region_entry *e;
	struct rz_table *t;
	struct arena *a;
	struct arena_mr *am;
	void *a_va;
	size_t a_len;
	uint64_t a_seq;
	uint32_t idx;
	int err;

	if (tbl() == NULL) {
		rte_errno = ENODEV;
		return NULL;
	}
	e = region_from_handle(r, &err);
	if (e == NULL) {
		rte_errno = -err;
		return NULL;
	}
	t = tbl();
	err = table_lock();
	if (err != 0) {
		rte_errno = -err;
		return NULL;
	}
	if (e->id == 0 || e->state != REGION_LIVE || e->arena >= RZ_MAX_ARENAS) {
		table_unlock();
		rte_errno = ENOENT;
		return NULL;
	}
	idx = e->arena;
	a = &t->arenas[idx];
	a_va = a->va;
	a_len = (size_t)a->npages * t->page_sz;
	a_seq = a->seq;
	*addr = e->va;
	*len = e->size;
	*region_id = e->id;
	*perms = e->perms;
	table_unlock();

	am = &rdma_state.arena_mr[idx];
	if (am->mr != NULL && am->seq != a_seq) {
		/* The arena this MR was made for is gone; its slot holds a new one. */
		ibv_dereg_mr(am->mr);
		rdma_state.n_mr--;
		am->mr = NULL;
	}
	if (am->mr == NULL) {
		am->mr = rdma_reg_mr_locked(a_va, a_len, &err);
		if (am->mr == NULL) {
			rte_errno = -err;
			return NULL;
		}
		am->seq = a_seq;
		RZ_LOG(DEBUG, "arena %u: %zu bytes at %p registered, lkey 0x%x", idx, a_len,
				a_va, am->mr->lkey);
	}
	return am->mr;
}

int
rz_rdma_register(struct rz_region *r, struct rz_rdma_mem *mem)
{
	struct ibv_mr *mr;
	uint64_t id;
	uint32_t perms;
	void *addr;
	size_t len;

	if (r == NULL || mem == NULL)
		return -EINVAL;
	pthread_mutex_lock(&rdma_state.lock);
	if (!rdma_state.initialized) {
		pthread_mutex_unlock(&rdma_state.lock);
		return -ENODEV;
	}
	mr = rdma_region_mr_locked(r, &addr, &len, &id, &perms);
	if (mr == NULL) {
		int ret = -rte_errno;

		pthread_mutex_unlock(&rdma_state.lock);
		return ret;
	}
	mem->addr = addr;
	mem->len = len;
	mem->lkey = mr->lkey;
	mem->rkey = mr->rkey;
	mem->priv = NULL;
	pthread_mutex_unlock(&rdma_state.lock);
	return 0;
}

int
rz_rdma_region_lkey(struct rz_region *r, uint32_t *lkey)
{
	struct rz_rdma_mem m;
	int ret;

	if (lkey == NULL)
		return -EINVAL;
	ret = rz_rdma_register(r, &m);
	if (ret == 0)
		*lkey = m.lkey;
	return ret;
}

int
rz_rdma_register_mem(void *addr, size_t len, struct rz_rdma_mem *mem)
{
	struct ibv_mr *mr;
	int err;

	if (addr == NULL || len == 0 || mem == NULL)
		return -EINVAL;
	pthread_mutex_lock(&rdma_state.lock);
	if (!rdma_state.initialized) {
		pthread_mutex_unlock(&rdma_state.lock);
		return -ENODEV;
	}
	mr = rdma_reg_mr_locked(addr, len, &err);
	pthread_mutex_unlock(&rdma_state.lock);
	if (mr == NULL)
		return err;
	mem->addr = addr;
	mem->len = len;
	mem->lkey = mr->lkey;
	mem->rkey = mr->rkey;
	mem->priv = mr;
	return 0;
}

int
rz_rdma_deregister_mem(struct rz_rdma_mem *mem)
{
	struct ibv_mr *mr;
	int ret;

	if (mem == NULL || mem->priv == NULL)
		return -EINVAL;
	mr = mem->priv;
	if (mr->addr != mem->addr || mr->lkey != mem->lkey)
		return -EINVAL;
	pthread_mutex_lock(&rdma_state.lock);
	if (!rdma_state.initialized) {
		pthread_mutex_unlock(&rdma_state.lock);
		return -ENODEV;
	}
	ret = ibv_dereg_mr(mr);
	if (ret != 0) {
		pthread_mutex_unlock(&rdma_state.lock);
		return -EBUSY;
	}
	rdma_state.n_mr--;
	pthread_mutex_unlock(&rdma_state.lock);
	mem->priv = NULL;
	mem->lkey = 0;
	return 0;
}

/* Memory windows come from a pool and are handed out in random order, so that the index part
 * of an rkey says nothing about the order of grants. */
static void
mw_slot_init(struct mw_slot *s, struct ibv_mw *mw)
{
	memset(s, 0, sizeof(*s));
	s->mw = mw;
	/* The key the window was created with is never handed out. */
	s->keys[(mw->rkey & 0xff) / 8] |= (uint8_t)(1u << (mw->rkey & 7));
}

/* Free one window some peer keeps; false if none does. */
static bool
mw_evict_one_locked(void)
{
	struct rz_peer *p;

	TAILQ_FOREACH(p, &rdma_state.peers, next) {
		if (p->mw_cached > 0) {
			mw_drop_locked(&p->mw_cache[--p->mw_cached]);
			return true;
		}
	}
	return false;
}

int
mw_get_locked(struct mw_slot *out)
{
	uint32_t pick;
	int ret;

	if (rdma_state.pool_n == 0) {
		uint32_t want = RZ_MW_POOL_GROW, i;

		/* Windows kept by peers count against max_mw: give them back first. */
		while (rdma_state.n_mw + 1 > rdma_state.max_mw && mw_evict_one_locked())
			;
		if (rdma_state.n_mw + 1 > rdma_state.max_mw) {
			RZ_LOG(ERR, "%s: binding would need a new window beyond max_mw %u "
					"(%u in use)", rdma_state.name, rdma_state.max_mw,
					rdma_state.n_mw);
			return -ENOSPC;
		}
		if (rdma_state.n_mw + want > rdma_state.max_mw)
			want = rdma_state.max_mw - rdma_state.n_mw;
		if (rdma_state.pool_cap < want) {
			struct mw_slot *np = realloc(rdma_state.pool, want * sizeof(*np));

			if (np == NULL)
				return -ENOMEM;
			rdma_state.pool = np;
			rdma_state.pool_cap = want;
		}
		for (i = 0; i < want; i++) {
			struct ibv_mw *mw = ibv_alloc_mw(rdma_state.pd, IBV_MW_TYPE_2);

			if (mw == NULL) {
				ret = rdma_errno(-1);
				if (rdma_state.pool_n > 0)
					break;
				RZ_LOG(ERR, "ibv_alloc_mw(type 2) on %s: %s", rdma_state.name,
						strerror(-ret));
				return ret == -ENOMEM ? -ENOSPC : ret;
			}
			mw_slot_init(&rdma_state.pool[rdma_state.pool_n], mw);
			rdma_state.pool_n++;
			rdma_state.n_mw++;
		}
	}
	ret = rdma_random_locked(&pick, sizeof(pick));
	if (ret != 0)
		return ret;
	pick %= rdma_state.pool_n;
	*out = rdma_state.pool[pick];
	rdma_state.pool[pick] = rdma_state.pool[rdma_state.pool_n - 1];
	rdma_state.pool_n--;
	return 0;
}

void
mw_drop_locked(struct mw_slot *s)
{
	if (s->mw != NULL && ibv_dealloc_mw(s->mw) == 0)
		rdma_state.n_mw--;
	s->mw = NULL;
}

/*
 * A type-2 window invalidated on a QP can be bound again on that QP: no ibv_alloc_mw /
 * ibv_dealloc_mw per grant. (On rxe, re-binding it on *another* QP fails and breaks that QP, so
 * a window stays with the peer it was last bound for.) Which one is drawn at random among
 * RZ_PEER_MW_CACHE choices, one of which is a fresh window while the peer keeps fewer, so that
 * successive rkeys stay unpredictable; the key byte is random and new for the window.
 */
int
mw_get_for_peer_locked(struct rz_peer *p, struct mw_slot *out)
{
	uint8_t pick;
	int ret;

	ret = rdma_random_locked(&pick, sizeof(pick));
	if (ret != 0)
		return ret;
	pick %= RZ_PEER_MW_CACHE;
	if (pick < p->mw_cached) {
		*out = p->mw_cache[pick];
		p->mw_cache[pick] = p->mw_cache[--p->mw_cached];
		return 0;
	}
	ret = mw_get_locked(out);
	if (ret == -ENOSPC && p->mw_cached > 0) {
		*out = p->mw_cache[--p->mw_cached];
		ret = 0;
	}
	return ret;
}

void
mw_release_to_peer_locked(struct rz_peer *p, struct mw_slot *s)
{
	if (s->uses < RZ_MW_KEY_USES && p->mw_cached < RZ_PEER_MW_CACHE)
		p->mw_cache[p->mw_cached++] = *s;
	else
		mw_drop_locked(s);
	s->mw = NULL;
}

void
mw_peer_flush_locked(struct rz_peer *p)
{
	while (p->mw_cached > 0)
		mw_drop_locked(&p->mw_cache[--p->mw_cached]);
}

int
mw_new_key_locked(struct mw_slot *s, uint8_t *key)
{
	uint8_t k;
	int ret;

	if (s->uses >= 255)
		return -ENOSPC;
	do {
		ret = rdma_random_locked(&k, 1);
		if (ret != 0)
			return ret;
	} while (s->keys[k / 8] & (1u << (k & 7)));
	s->keys[k / 8] |= (uint8_t)(1u << (k & 7));
	s->uses++;
	*key = k;
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
	pthread_mutex_lock(&rdma_state.lock);
	if (!rdma_state.initialized) {
		pthread_mutex_unlock(&rdma_state.lock);
		return -ENODEV;
	}
	for (i = 0; i < RZ_MAX_ARENAS; i++)
		n += rdma_state.arena_mr[i].mr != NULL;
	fprintf(f, "rdma device %s: nearest NUMA node %d, id %016" PRIx64 ", quirks %s\n",
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
		fprintf(f, "  peer %d = %016" PRIx64 " pid %d qp %u: %s, %u grants\n",
				(int)p->local_id, p->remote_id, p->remote_pid,
				p->qp != NULL ? p->qp->qp_num : 0,
				p->connected ? "connected" : "disconnected", p->ngrants);
	TAILQ_FOREACH(g, &rdma_state.grants, next)
		fprintf(f, "  grant %" PRIu64 ": region %" PRIx64 " [0x%" PRIx64 "+%" PRIu64
				"] rkey 0x%08x rights 0x%x mode %u to peer %d%s%s%s%s%s\n",
				g->desc.generation, g->desc.region_id, g->desc.addr,
				g->desc.length, g->desc.rkey, g->desc.rights, g->desc.mode,
				(int)g->peer->local_id, g->desc.expiry_ns ? " (expires)" : "",
				(g->kind & GRANT_F_MAP) ? " map" : "",
				(g->kind & GRANT_F_CAP) ? " capability" : "",
				(g->kind & GRANT_F_OWNER) ? " owner" : "",
				(g->kind & GRANT_F_NO_SEND) ? " app-delivered" : "");
	pthread_mutex_unlock(&rdma_state.lock);
	return 0;
}

void
rdma_arena_released(uint32_t idx)
{
	struct arena_mr *am;

	if (idx >= RZ_MAX_ARENAS)
		return;
	/* Called with the table lock held, and the rdma code takes its lock before the table
	 * lock: only try. If busy, the MR is replaced when the slot is next used (the arena
	 * sequence number tells). */
	if (pthread_mutex_trylock(&rdma_state.lock) != 0)
		return;
	am = &rdma_state.arena_mr[idx];
	if (rdma_state.initialized && am->mr != NULL && ibv_dereg_mr(am->mr) == 0) {
		rdma_state.n_mr--;
		am->mr = NULL;
		RZ_LOG(DEBUG, "arena %u freed: its registration is dropped", idx);
	}
	pthread_mutex_unlock(&rdma_state.lock);
}

bool
rdma_initialized(void)
{
	return __atomic_load_n(&rdma_state.initialized, __ATOMIC_ACQUIRE);
}

struct ibv_mr *
range_mr_get_locked(uint64_t region_id, void *addr, size_t len, int *err)
{
	struct range_mr *rm;

	struct range_mr *tmp;

	TAILQ_FOREACH(rm, &rdma_state.range_mrs, next)
		if (rm->region_id == region_id && rm->addr == (uintptr_t)addr && rm->len == len)
			return rm->mr;
	/* A new registration: first let go of the MRs of regions that are gone without passing
	 * through this process (destroyed elsewhere after a transfer, or freed by the reaper).
	 * Region ids are never reused. */
	RTE_TAILQ_FOREACH_SAFE(rm, &rdma_state.range_mrs, next, tmp) {
		if (tbl() != NULL && region_by_id(rm->region_id) != NULL)
			continue;
		if (ibv_dereg_mr(rm->mr) != 0)
			continue;	/* a window is still bound on it: its grant goes first */
		RZ_LOG(DEBUG, "region %" PRIx64 " is gone: its range MR %p+%zu deregistered",
				rm->region_id, (void *)rm->addr, rm->len);
		rdma_state.n_mr--;
		TAILQ_REMOVE(&rdma_state.range_mrs, rm, next);
		free(rm);
	}
	rm = calloc(1, sizeof(*rm));
	if (rm == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	rm->mr = rdma_reg_mr_locked(addr, len, err);
	if (rm->mr == NULL) {
		free(rm);
		return NULL;
	}
	rm->region_id = region_id;
	rm->addr = (uintptr_t)addr;
	rm->len = len;
	TAILQ_INSERT_TAIL(&rdma_state.range_mrs, rm, next);
	return rm->mr;
}

void
range_mr_drop_locked(uint64_t region_id)
{
	struct range_mr *rm, *tmp;

	RTE_TAILQ_FOREACH_SAFE(rm, &rdma_state.range_mrs, next, tmp) {
		if (region_id != UINT64_MAX && rm->region_id != region_id)
			continue;
		TAILQ_REMOVE(&rdma_state.range_mrs, rm, next);
		if (ibv_dereg_mr(rm->mr) == 0)
			rdma_state.n_mr--;
		free(rm);
	}
}
