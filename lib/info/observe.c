/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * Observers (include/rzone_observe.h). rz_observe_open() attaches to the shared table as a
 * secondary does, but takes no process slot. rz_info_write() copies the table without its lock:
 * the copy is kept when the table's write count (rz_table.wseq, odd while a process holds the
 * lock) was even and the same before and after it, else it is taken again (for about a second;
 * a count that stays odd all that time means a holder that stopped or died: the last copy is
 * used and that is reported). While it prints, local_proc.tbl is the copy, so that the lower
 * layers' readers (rz_check's scan, liveness) run on it unchanged. An observer writes nothing
 * to shared memory and holds no lock of the instance: killing it changes nothing.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_atomic.h>
#include <rte_eal.h>
#include <rte_memory.h>

#include "audit_private.h"
#include "core_private.h"
#include "info_private.h"
#include "proc_private.h"
#include "region_private.h"
#include "rzone_observe.h"

#define MAX_PROBLEMS	64
#define PROBLEM_LEN	200

static struct {
	struct rz_table *shared;	/* the instance's table */
	struct rz_table *copy;		/* what is printed */
	bool consistent;
	uint64_t boot_ns;		/* CLOCK_REALTIME of boot (start times are since boot) */
	unsigned int nproblems;
	char problems[MAX_PROBLEMS][PROBLEM_LEN];
} obs;

int
rz_observe_open(void)
{
	int ret;

	if (local_proc.observer)
		return -EALREADY;
	if (local_proc.tbl != NULL) {
		RZ_LOG(ERR, "this process called rz_init(): it cannot be an observer too");
		return -EBUSY;
	}
	if (rte_eal_process_type() == RTE_PROC_AUTO ||
			rte_eal_process_type() == RTE_PROC_INVALID) {
		RZ_LOG(ERR, "the EAL is not initialised");
		return -EINVAL;
	}
	obs.copy = malloc(sizeof(struct rz_table));
	if (obs.copy == NULL)
		return -ENOMEM;
	ret = table_attach();
	if (ret < 0) {
		table_forget();
		free(obs.copy);
		obs.copy = NULL;
		return ret;
	}
	obs.shared = local_proc.tbl;
	local_proc.tbl = NULL;
	local_proc.observer = true;
	return 0;
}

int
rz_observe_close(void)
{
	if (!local_proc.observer)
		return -ENODEV;
	table_forget();
	free(obs.copy);
	memset(&obs, 0, sizeof(obs));
	local_proc.observer = false;
	return 0;
}

static void
problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
problem(const char *fmt, ...)
{
	va_list ap;

	if (obs.nproblems >= MAX_PROBLEMS) {
		obs.nproblems++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(obs.problems[obs.nproblems++], PROBLEM_LEN, fmt, ap);
	va_end(ap);
}

/* The copy, into obs.copy. */
static int
take_copy(void)
{
	const struct rz_table *t = obs.shared;
	uint64_t s1 = 0, s2, first = __atomic_load_n(&t->wseq, __ATOMIC_ACQUIRE);
	unsigned int tries;

	for (tries = 0; tries < 1000; tries++) {
		s1 = __atomic_load_n(&t->wseq, __ATOMIC_ACQUIRE);
		if (!(s1 & 1)) {
			memcpy(obs.copy, t, sizeof(*t));
			rte_smp_rmb();
			s2 = __atomic_load_n(&t->wseq, __ATOMIC_RELAXED);
			if (s1 == s2) {
				obs.consistent = true;
				return 0;
			}
		}
		usleep(1000);
	}
	if (s1 == first && (s1 & 1)) {
		/* Held, unchanged, for a second: a holder that stopped (or died, and nobody
		 * took the lock since). Show what is there. */
		memcpy(obs.copy, t, sizeof(*t));
		obs.consistent = false;
		problem("the table lock has been held for more than a second (thread %d): "
				"a process stopped or died holding it",
				obs.copy->lock.__data.__owner);
		return 0;
	}
	RZ_LOG(ERR, "the table was being written during each of %u copies", tries);
	return -EAGAIN;
}

static uint64_t
boot_realtime_ns(void)
{
	char line[256];
	uint64_t btime = 0;
	FILE *f = fopen("/proc/stat", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "btime %" SCNu64, &btime) == 1)
			break;
	fclose(f);
	return btime * 1000000000ull;
}

static uint64_t
start_realtime_ns(uint64_t ticks)
{
	long hz = sysconf(_SC_CLK_TCK);

	if (hz <= 0 || obs.boot_ns == 0)
		return 0;
	return obs.boot_ns + ticks * (1000000000ull / (uint64_t)hz);
}

static bool
slot_live(const struct rz_table *t, uint32_t slot)
{
	return slot < RZ_MAX_PROCS && t->procs[slot].state == PROC_LIVE;
}

static int32_t
slot_pid(const struct rz_table *t, uint32_t slot)
{
	return slot < RZ_MAX_PROCS ? t->procs[slot].pid : 0;
}

/* What is wrong with the instance, into obs.problems. */
static void
find_problems(bool alive[RZ_MAX_PROCS])
{
	const struct rz_table *t = obs.copy;
	bool primary = false;
	char *buf = NULL;
	size_t len = 0;
	uint32_t i;
	FILE *m;

	for (i = 0; i < RZ_MAX_PROCS; i++) {
		alive[i] = slot_live(t, i) && proc_alive(i);
		if (slot_live(t, i) && !alive[i])
			problem("process %d (slot %u) is dead but not released: no live process "
					"of the instance has reaped it", (int)t->procs[i].pid, i);
		if (alive[i] && t->procs[i].proc_type == RTE_PROC_PRIMARY)
			primary = true;
	}
	if (!primary)
		problem("no live primary process: the instance cannot grow arenas, and its "
				"memory goes when the last process leaves");
	for (i = 0; i < RZ_MAX_REGIONS; i++) {
		const struct region_entry *e = &t->regions[i];

		if (e->state != REGION_LIVE || e->id == 0)
			continue;
		if (e->owner < RZ_MAX_PROCS && slot_live(t, e->owner) && !alive[e->owner])
			problem("region %#" PRIx64 " is owned by pid %d, which is dead", e->id,
					(int)t->procs[e->owner].pid);
	}
	/* rz_check()'s findings on the copy (its scan divides by the page size: shared memory,
	 * checked first). */
	if (t->page_sz == 0 || (t->page_sz & (t->page_sz - 1)) != 0) {
		problem("the table's page size (%" PRIu64 ") is corrupt: not checked further",
				t->page_sz);
		return;
	}
	m = open_memstream(&buf, &len);
	if (m == NULL)
		return;
	if (region_check_copy(m) > 0) {
		char *line, *save = NULL;

		fflush(m);
		for (line = strtok_r(buf, "\n", &save); line != NULL;
				line = strtok_r(NULL, "\n", &save))
			problem("%s", line);
	}
	fclose(m);
	free(buf);
}

static const char *
type_name(int32_t type)
{
	return type == RTE_PROC_PRIMARY ? "primary" :
		type == RTE_PROC_SECONDARY ? "secondary" : "?";
}

static const char *
leaving_name(uint32_t l)
{
	return l == REGION_LEAVING_DESTROY ? "destroy" : l == REGION_LEAVING_TRANSFER ?
		"transfer" : NULL;
}

static uint64_t
read_sys_u64(const char *path)
{
	uint64_t v = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return 0;
	if (fscanf(f, "%" SCNu64, &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

struct node_sum {
	int node;
	uint32_t arenas;
	uint64_t pages;
	uint64_t used;
	uint64_t hp_total;
	uint64_t hp_free;
};

static unsigned int
nodes_sum(struct node_sum *ns, unsigned int max)
{
	const struct rz_table *t = obs.copy;
	unsigned int n = 0, i, j;
	char path[160];

	for (i = 0; i < rte_socket_count() && n < max; i++)
		ns[n++] = (struct node_sum){ .node = rte_socket_id_by_idx(i) };
	for (i = 0; i < RZ_MAX_ARENAS; i++) {
		const struct arena *a = &t->arenas[i];

		if (a->state != ARENA_LIVE)
			continue;
		for (j = 0; j < n && ns[j].node != a->socket; j++)
			;
		if (j == n) {
			if (n == max)
				continue;
			ns[n++] = (struct node_sum){ .node = a->socket };
		}
		ns[j].arenas++;
		ns[j].pages += a->npages;
		ns[j].used += a->nused <= a->npages ? a->nused : a->npages;
	}
	for (j = 0; j < n; j++) {
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/hugepages/"
				"hugepages-%" PRIu64 "kB/nr_hugepages", ns[j].node,
				t->page_sz >> 10);
		ns[j].hp_total = read_sys_u64(path);
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/hugepages/"
				"hugepages-%" PRIu64 "kB/free_hugepages", ns[j].node,
				t->page_sz >> 10);
		ns[j].hp_free = read_sys_u64(path);
	}
	return n;
}

static void
text_region(FILE *f, const struct region_entry *e, const bool alive[RZ_MAX_PROCS])
{
	const struct rz_table *t = obs.copy;
	const char *busy = leaving_name(e->leaving);
	char pb[4];
	uint32_t j;

	fprintf(f, "region %#" PRIx64 ": %" PRIu64 " bytes, node %d, owner pid %d%s, ceiling "
			"%s\n", e->id, e->size, e->numa_node, (int)slot_pid(t, e->owner),
			e->owner < RZ_MAX_PROCS && alive[e->owner] ? "" : " (dead)",
			fmt_perms(e->perms, pb));
	fprintf(f, "  arena %u (%s), pages %u..%" PRIu64 ", address %p%s%s\n", e->arena,
			e->arena < RZ_MAX_ARENAS ? t->arenas[e->arena].name : "?", e->first_page,
			e->first_page + (t->page_sz ? e->size / t->page_sz : 1) - 1, (void *)e->va,
			busy != NULL ? ", busy: " : "", busy != NULL ? busy : "");
	fprintf(f, "  remote grants (held by the owner): %u\n", e->rgrants);
	fprintf(f, "  mappings: %u\n", e->nmaps);
	for (j = 0; j < RZ_MAX_PROCS; j++) {
		const struct map_entry *m = &e->maps[j];

		if (m->addr == 0)
			continue;
		fprintf(f, "    pid %d: %#" PRIx64 " %s%s%s\n", (int)slot_pid(t, j), m->addr,
				fmt_perms(m->perms, pb), (m->flags & MAP_F_VIEW) ? " view" : "",
				(m->flags & MAP_F_CAP) ? " (capability)" : "");
	}
	fprintf(f, "  capabilities: %u\n", e->ncaps);
	for (j = 0; j < RZ_MAX_CAPS && e->ncaps > 0; j++) {
		const struct cap_entry *c = &t->caps[j];

		if (c->state == CAP_FREE || c->region_id != e->id)
			continue;
		fprintf(f, "    slot 0x%x: %s for pid %d, rights %s, %s\n", j, mode_name(c->mode),
				(int)slot_pid(t, c->target), fmt_perms(c->rights, pb),
				c->state == CAP_USED ? "used" : "not used yet");
	}
}

static void
json_region(struct jw *w, const struct region_entry *e, const bool alive[RZ_MAX_PROCS])
{
	const struct rz_table *t = obs.copy;
	const char *busy = leaving_name(e->leaving);
	char pb[4];
	uint32_t j;

	jw_obj(w, NULL);
	jw_hex(w, "id", e->id);
	jw_u64(w, "size", e->size);
	jw_int(w, "numa_node", e->numa_node);
	jw_int(w, "owner_pid", slot_pid(t, e->owner));
	jw_bool(w, "owner_alive", e->owner < RZ_MAX_PROCS && alive[e->owner]);
	jw_str(w, "ceiling", fmt_perms(e->perms, pb));
	jw_u64(w, "arena", e->arena);
	jw_str(w, "arena_name", e->arena < RZ_MAX_ARENAS ? t->arenas[e->arena].name : "");
	jw_u64(w, "first_page", e->first_page);
	jw_u64(w, "pages", t->page_sz ? e->size / t->page_sz : 0);
	jw_hex(w, "addr", (uint64_t)(uintptr_t)e->va);
	if (busy != NULL)
		jw_str(w, "busy", busy);
	else
		jw_null(w, "busy");
	jw_u64(w, "remote_grants", e->rgrants);
	jw_arr(w, "mappings");
	for (j = 0; j < RZ_MAX_PROCS; j++) {
		const struct map_entry *m = &e->maps[j];

		if (m->addr == 0)
			continue;
		jw_obj(w, NULL);
		jw_int(w, "pid", slot_pid(t, j));
		jw_hex(w, "addr", m->addr);
		jw_str(w, "perms", fmt_perms(m->perms, pb));
		jw_bool(w, "view", m->flags & MAP_F_VIEW);
		jw_bool(w, "capability", m->flags & MAP_F_CAP);
		jw_end(w, '}');
	}
	jw_end(w, ']');
	jw_arr(w, "capabilities");
	for (j = 0; j < RZ_MAX_CAPS && e->ncaps > 0; j++) {
		const struct cap_entry *c = &t->caps[j];

		if (c->state == CAP_FREE || c->region_id != e->id)
			continue;
		jw_obj(w, NULL);
		jw_hex(w, "slot", j);
		jw_str(w, "mode", mode_name(c->mode));
		jw_int(w, "target_pid", slot_pid(t, c->target));
		jw_str(w, "rights", fmt_perms(c->rights, pb));
		jw_str(w, "state", c->state == CAP_USED ? "used" : "active");
		jw_end(w, '}');
	}
	jw_end(w, ']');
	jw_end(w, '}');
}

static void
text_rdma(FILE *f, uint32_t slot, const struct rdma_pub *p)
{
	char tb[40], rb[4];
	uint32_t j;

	fprintf(f, "rdma of pid %d (slot %u): device %s, %u peer%s, %u live grant%s\n",
			(int)p->pid, slot, p->device, p->npeers, p->npeers == 1 ? "" : "s",
			p->ngrants, p->ngrants == 1 ? "" : "s");
	for (j = 0; j < p->npeers && j < RZ_PUB_PEERS; j++)
		fprintf(f, "  peer %d: remote %#" PRIx64 " (pid %d), %s, %u grant%s\n",
				(int)p->peers[j].local_id, p->peers[j].remote_id,
				(int)p->peers[j].remote_pid,
				p->peers[j].connected ? "connected" : "disconnected",
				p->peers[j].ngrants, p->peers[j].ngrants == 1 ? "" : "s");
	for (j = 0; j < p->ngrants && j < RZ_PUB_GRANTS; j++) {
		const struct pub_grant *g = &p->grants[j];

		fprintf(f, "  grant: region %#" PRIx64 " range %#" PRIx64 "+%#" PRIx64 " rights %s "
				"to peer %d rkey %#x, expires %s\n", g->region, g->offset,
				g->length,
				fmt_rights(g->rights, rb), (int)g->peer, g->rkey,
				g->expiry_ns ? fmt_time(g->expiry_ns, tb, sizeof(tb)) : "never");
	}
	if (p->ngrants > RZ_PUB_GRANTS)
		fprintf(f, "  (%u more grants not listed)\n", p->ngrants - RZ_PUB_GRANTS);
}

static void
json_rdma(struct jw *w, uint32_t slot, const struct rdma_pub *p)
{
	char rb[4];
	uint32_t j;

	jw_obj(w, NULL);
	jw_int(w, "pid", p->pid);
	jw_u64(w, "slot", slot);
	jw_str(w, "device", p->device);
	jw_u64(w, "peers_total", p->npeers);
	jw_u64(w, "grants_total", p->ngrants);
	jw_arr(w, "peers");
	for (j = 0; j < p->npeers && j < RZ_PUB_PEERS; j++) {
		jw_obj(w, NULL);
		jw_int(w, "id", p->peers[j].local_id);
		jw_hex(w, "remote_id", p->peers[j].remote_id);
		jw_int(w, "remote_pid", p->peers[j].remote_pid);
		jw_bool(w, "connected", p->peers[j].connected);
		jw_u64(w, "grants", p->peers[j].ngrants);
		jw_end(w, '}');
	}
	jw_end(w, ']');
	jw_arr(w, "grants");
	for (j = 0; j < p->ngrants && j < RZ_PUB_GRANTS; j++) {
		const struct pub_grant *g = &p->grants[j];

		jw_obj(w, NULL);
		jw_hex(w, "region", g->region);
		jw_u64(w, "offset", g->offset);
		jw_u64(w, "length", g->length);
		jw_str(w, "rights", fmt_rights(g->rights, rb));
		jw_int(w, "peer", g->peer);
		jw_hex(w, "peer_remote_id", g->peer_remote);
		jw_hex(w, "rkey", g->rkey);
		if (g->expiry_ns)
			jw_time(w, "expiry", g->expiry_ns);
		else
			jw_null(w, "expiry");
		jw_end(w, '}');
	}
	jw_end(w, ']');
	jw_end(w, '}');
}

static void
print_text(FILE *f, const struct region_entry *only, const bool alive[RZ_MAX_PROCS])
{
	const struct rz_table *t = obs.copy;
	struct node_sum ns[RTE_MAX_NUMA_NODES];
	struct rdma_pub pub;
	char tb[40];
	unsigned int n, i;

	if (only == NULL) {
		fprintf(f, "rzone %s instance: %u regions, %u capabilities, hugepage %" PRIu64
				" kB; created %" PRIu64 ", destroyed %" PRIu64 ", reaped %" PRIu64
				", repairs %" PRIu64 "%s\n", RZ_VERSION, t->nregions, t->ncaps,
				t->page_sz >> 10, t->stats_created, t->stats_destroyed,
				t->stats_reaped, t->stats_repairs,
				obs.consistent ? "" : " (copy taken while the lock was held)");
		fprintf(f, "processes:\n");
		for (i = 0; i < RZ_MAX_PROCS; i++) {
			const struct proc_entry *p = &t->procs[i];

			if (p->state != PROC_LIVE)
				continue;
			fprintf(f, "  pid %d (slot %u): %s, started %s, %s\n", (int)p->pid, i,
					type_name(p->proc_type),
					fmt_time(start_realtime_ns(p->start_time), tb, sizeof(tb)),
					alive[i] ? "alive" : "DEAD");
		}
		fprintf(f, "hugepages and arenas per node:\n");
		n = nodes_sum(ns, RTE_DIM(ns));
		for (i = 0; i < n; i++)
			fprintf(f, "  node %d: hugepages %" PRIu64 " total, %" PRIu64 " free; %u "
					"arena%s, %" PRIu64 " pages: %" PRIu64 " used, %" PRIu64
					" spare\n", ns[i].node, ns[i].hp_total, ns[i].hp_free,
					ns[i].arenas, ns[i].arenas == 1 ? "" : "s", ns[i].pages,
					ns[i].used, ns[i].pages - ns[i].used);
		for (i = 0; i < RZ_MAX_ARENAS; i++) {
			const struct arena *a = &t->arenas[i];

			if (a->state == ARENA_LIVE)
				fprintf(f, "  arena %u (%s): node %d, %u/%u pages used (mask %#"
						PRIx64 ")%s\n", i, a->name, a->socket, a->nused,
						a->npages, a->used_mask,
						a->npages != RZ_ARENA_PAGES ?
						", a region's own" : "");
		}
	}
	for (i = 0; i < RZ_MAX_REGIONS; i++) {
		const struct region_entry *e = &t->regions[i];

		if (e->state == REGION_LIVE && e->id != 0 && (only == NULL || only == e))
			text_region(f, e, alive);
	}
	if (only == NULL && audit_ring != NULL)
		for (i = 0; i < RZ_MAX_PROCS; i++)
			if (alive[i] && rdma_pub_read(audit_ring, i, &pub) &&
					pub.pid == t->procs[i].pid)
				text_rdma(f, i, &pub);
	if (obs.nproblems == 0)
		fprintf(f, "healthy\n");
	for (i = 0; i < obs.nproblems && i < MAX_PROBLEMS; i++)
		fprintf(f, "PROBLEM: %s\n", obs.problems[i]);
}

static void
print_json(FILE *f, const struct region_entry *only, const bool alive[RZ_MAX_PROCS])
{
	const struct rz_table *t = obs.copy;
	struct node_sum ns[RTE_MAX_NUMA_NODES];
	struct rdma_pub pub;
	struct timespec now;
	unsigned int n, i;
	struct jw w;

	clock_gettime(CLOCK_REALTIME, &now);
	jw_begin(&w, f);
	jw_obj(&w, NULL);
	jw_u64(&w, "rzone_info", 1);
	jw_str(&w, "version", RZ_VERSION);
	jw_time(&w, "time", (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec);
	jw_bool(&w, "consistent", obs.consistent);
	jw_bool(&w, "healthy", obs.nproblems == 0);
	jw_arr(&w, "problems");
	for (i = 0; i < obs.nproblems && i < MAX_PROBLEMS; i++)
		jw_str(&w, NULL, obs.problems[i]);
	jw_end(&w, ']');
	jw_obj(&w, "table");
	jw_u64(&w, "regions", t->nregions);
	jw_u64(&w, "capabilities", t->ncaps);
	jw_u64(&w, "page_size", t->page_sz);
	jw_u64(&w, "max_regions", t->max_regions);
	jw_u64(&w, "max_procs", t->max_procs);
	jw_u64(&w, "max_caps", t->max_caps);
	jw_u64(&w, "created", t->stats_created);
	jw_u64(&w, "destroyed", t->stats_destroyed);
	jw_u64(&w, "reaped", t->stats_reaped);
	jw_u64(&w, "repairs", t->stats_repairs);
	jw_u64(&w, "ipc_rejected", t->stats_ipc_rejected);
	jw_u64(&w, "liveness_unknown", t->stats_liveness_unknown);
	jw_end(&w, '}');
	if (only == NULL) {
		jw_arr(&w, "processes");
		for (i = 0; i < RZ_MAX_PROCS; i++) {
			const struct proc_entry *p = &t->procs[i];

			if (p->state != PROC_LIVE)
				continue;
			jw_obj(&w, NULL);
			jw_u64(&w, "slot", i);
			jw_int(&w, "pid", p->pid);
			jw_str(&w, "type", type_name(p->proc_type));
			jw_time(&w, "start_time", start_realtime_ns(p->start_time));
			jw_u64(&w, "start_ticks", p->start_time);
			jw_bool(&w, "alive", alive[i]);
			jw_end(&w, '}');
		}
		jw_end(&w, ']');
		jw_arr(&w, "nodes");
		n = nodes_sum(ns, RTE_DIM(ns));
		for (i = 0; i < n; i++) {
			jw_obj(&w, NULL);
			jw_int(&w, "node", ns[i].node);
			jw_u64(&w, "hugepages_total", ns[i].hp_total);
			jw_u64(&w, "hugepages_free", ns[i].hp_free);
			jw_u64(&w, "arenas", ns[i].arenas);
			jw_u64(&w, "arena_pages", ns[i].pages);
			jw_u64(&w, "used_pages", ns[i].used);
			jw_u64(&w, "spare_pages", ns[i].pages - ns[i].used);
			jw_end(&w, '}');
		}
		jw_end(&w, ']');
		jw_arr(&w, "arenas");
		for (i = 0; i < RZ_MAX_ARENAS; i++) {
			const struct arena *a = &t->arenas[i];

			if (a->state != ARENA_LIVE)
				continue;
			jw_obj(&w, NULL);
			jw_u64(&w, "index", i);
			jw_str(&w, "name", a->name);
			jw_int(&w, "node", a->socket);
			jw_u64(&w, "pages", a->npages);
			jw_u64(&w, "used", a->nused);
			jw_hex(&w, "used_mask", a->used_mask);
			jw_hex(&w, "addr", (uint64_t)(uintptr_t)a->va);
			jw_bool(&w, "own", a->npages != RZ_ARENA_PAGES);
			jw_end(&w, '}');
		}
		jw_end(&w, ']');
	}
	jw_arr(&w, "regions");
	for (i = 0; i < RZ_MAX_REGIONS; i++) {
		const struct region_entry *e = &t->regions[i];

		if (e->state == REGION_LIVE && e->id != 0 && (only == NULL || only == e))
			json_region(&w, e, alive);
	}
	jw_end(&w, ']');
	if (only == NULL) {
		jw_arr(&w, "rdma");
		for (i = 0; i < RZ_MAX_PROCS && audit_ring != NULL; i++)
			if (alive[i] && rdma_pub_read(audit_ring, i, &pub) &&
					pub.pid == t->procs[i].pid)
				json_rdma(&w, i, &pub);
		jw_end(&w, ']');
	}
	jw_end(&w, '}');
}

int
rz_info_write(FILE *f, uint64_t region_id, uint32_t flags)
{
	const struct region_entry *only = NULL;
	bool alive[RZ_MAX_PROCS];
	uint32_t i;
	int ret;

	if (f == NULL || (flags & ~RZ_INFO_F_JSON)) {
		RZ_LOG(ERR, "%s", f == NULL ? "NULL stream" : "unknown flags");
		return -EINVAL;
	}
	if (!local_proc.observer)
		return -ENODEV;
	obs.nproblems = 0;
	ret = take_copy();
	if (ret < 0)
		return ret;
	if (obs.boot_ns == 0)
		obs.boot_ns = boot_realtime_ns();
	for (i = 0; i < RZ_MAX_ARENAS; i++)	/* shared memory: names end where they must */
		obs.copy->arenas[i].name[sizeof(obs.copy->arenas[i].name) - 1] = '\0';
	local_proc.tbl = obs.copy;	/* the lower layers' readers see the copy */
	if (region_id != 0) {
		only = region_by_id(region_id);
		if (only == NULL) {
			local_proc.tbl = NULL;
			RZ_LOG(ERR, "no region %#" PRIx64, region_id);
			return -ENOENT;
		}
	}
	find_problems(alive);
	if (flags & RZ_INFO_F_JSON)
		print_json(f, only, alive);
	else
		print_text(f, only, alive);
	local_proc.tbl = NULL;
	fflush(f);
	return (int)obs.nproblems;
}

int
rz_audit_write(FILE *f, unsigned int max, uint32_t flags)
{
	const struct audit_ring *r = audit_ring;
	uint64_t head, lost, n, from;
	struct audit_rec rec;
	unsigned int count = 0;
	struct jw w;

	if (f == NULL || (flags & ~RZ_INFO_F_JSON)) {
		RZ_LOG(ERR, "%s", f == NULL ? "NULL stream" : "unknown flags");
		return -EINVAL;
	}
	if (r == NULL)
		return -ENODEV;
	head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	lost = __atomic_load_n(&r->lost, __ATOMIC_RELAXED);
	from = head > RZ_AUDIT_ENTRIES ? head - RZ_AUDIT_ENTRIES : 0;
	if (max != 0 && head - from > max)
		from = head - max;
	if (flags & RZ_INFO_F_JSON) {
		jw_begin(&w, f);
		jw_obj(&w, NULL);
		jw_u64(&w, "capacity", RZ_AUDIT_ENTRIES);
		jw_u64(&w, "written", head);
		jw_u64(&w, "overwritten", head > RZ_AUDIT_ENTRIES ? head - RZ_AUDIT_ENTRIES : 0);
		jw_u64(&w, "lost", lost);
		jw_arr(&w, "records");
	} else {
		fprintf(f, "audit: %" PRIu64 " records written, capacity %u, %" PRIu64
				" overwritten, %" PRIu64 " lost\n", head, RZ_AUDIT_ENTRIES,
				head > RZ_AUDIT_ENTRIES ? head - RZ_AUDIT_ENTRIES : 0, lost);
	}
	for (n = from; n < head; n++) {
		if (!audit_read(r, n, &rec))
			continue;	/* overwritten meanwhile, or being written */
		if (flags & RZ_INFO_F_JSON)
			audit_rec_json(&w, n, &rec);
		else
			audit_rec_text(f, n, &rec);
		count++;
	}
	if (flags & RZ_INFO_F_JSON) {
		jw_end(&w, ']');
		jw_u64(&w, "shown", count);
		jw_end(&w, '}');
	}
	fflush(f);
	return (int)count;
}
