/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * rz-bench-region: the life cycle and the lookup cost of regions in one primary process, each
 * figure next to a plain-DPDK baseline measured in the same run.
 *
 *  1. create+destroy of 2, 4 and 64 MiB regions vs rte_memzone_reserve_aligned() +
 *     rte_memzone_free() of the same size on the same socket (target: rzone/raw <= 1.2);
 *  2. id -> handle -> address (rz_region_lookup(), rz_region_get_mapping()) vs
 *     rte_memzone_lookup() by name, with 2,000 regions and 2,000 memzones present
 *     (target: rzone at least 10x faster);
 *  3. the same rzone lookups with 10, 100, 1000, 2000 and 4096 regions (target: flat), and the
 *     creation and destruction rate of 4096 one-hugepage regions (8 GiB of 2 MiB pages).
 *
 * Usage: rz-bench-region <EAL args> [-- [--quick] [--regions N] [--lifecycle-only]]
 *   --quick           fewer iterations (a smoke run; the figures are noisier)
 *   --regions N       largest region population of part 3 (default 4096)
 *   --lifecycle-only  part 1 only (e.g. to rerun it with --socket-mem, where DPDK keeps the
 *                     preallocated hugepages instead of returning them to the kernel)
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_memory.h>
#include <rte_memzone.h>

#include "rzone.h"

#include "bench_common.h"

#ifndef RZB_ARENA_PAGES
#define RZB_ARENA_PAGES 64	/* meson passes the arena_pages option */
#endif

/* Pages DPDK takes for one arena memzone: its pages, plus one for the malloc element header
 * that precedes a hugepage-aligned memzone. */
#define ARENA_COST	(RZB_ARENA_PAGES + 1)
/* Pages for the 2,000 baseline memzones of 4 KiB and some slack for EAL allocations. */
#define SLACK_PAGES	16

#define MZ_COUNT	2000	/* baseline memzones (Debian's DPDK allows 2560 in all) */
#define MZ_SIZE		4096
#define HOT_SET		10	/* regions of the "hot" access pattern */
#define IDX_LEN		(1u << 16)	/* pre-drawn random indices (power of two) */
#define RZ_BATCH	1024u	/* rzone lookups per timed batch */
#define MZ_BATCH	32u	/* memzone lookups per timed batch */

struct opts {
	bool quick;
	bool lifecycle_only;
	unsigned int regions;
};

static volatile uintptr_t sink;	/* keeps the looked-up values alive */

/* ----------------------------------------------------------------------------------------- */
/* Part 1: create + destroy                                                                   */

struct cd_result {
	uint64_t size;
	unsigned int iters;
	bool ok;
	struct bc_stats raw_c, raw_d, raw_t;
	struct bc_stats rz_c, rz_d, rz_t;
};

static int
raw_once(uint64_t size, int socket, uint64_t page_sz, uint64_t t[3])
{
	const struct rte_memzone *mz;

	t[0] = bc_tsc();
	mz = rte_memzone_reserve_aligned("rzb_raw", size, socket, 0, page_sz);
	t[1] = bc_tsc();
	if (mz == NULL) {
		printf("  rte_memzone_reserve_aligned(%" PRIu64 " MiB, socket %d): %s\n",
				size / BC_MIB, socket, rte_strerror(rte_errno));
		return -1;
	}
	if (rte_memzone_free(mz) < 0) {
		printf("  rte_memzone_free: failed\n");
		return -1;
	}
	t[2] = bc_tsc();
	return 0;
}

static int
rz_once(uint64_t size, int socket, uint64_t t[3])
{
	struct rz_region *r;
	int ret;

	t[0] = bc_tsc();
	r = rz_region_create_numa(RZ_PID_SELF, size, RZ_PERM_RW, socket);
	t[1] = bc_tsc();
	if (r == NULL) {
		printf("  rz_region_create_numa(%" PRIu64 " MiB, socket %d): %s\n",
				size / BC_MIB, socket, rte_strerror(rte_errno));
		return -1;
	}
	ret = rz_region_destroy(r);
	t[2] = bc_tsc();
	if (ret < 0) {
		printf("  rz_region_destroy: %s\n", strerror(-ret));
		return -1;
	}
	return 0;
}

static void
bench_create_destroy(int socket, uint64_t page_sz, struct cd_result *res)
{
	const unsigned int warm = 5, n = res->iters;
	double *v = calloc(6 * (size_t)n, sizeof(*v));
	double *raw_c = v, *raw_d = v + n, *raw_t = v + 2 * n;
	double *rz_c = v + 3 * n, *rz_d = v + 4 * n, *rz_t = v + 5 * n;
	unsigned int i;

	res->ok = false;
	if (v == NULL)
		return;
	for (i = 0; i < warm + n; i++) {
		uint64_t a[3], b[3];
		int ret;

		/* Alternate the order: neither side always runs on the other's cache leftovers. */
		if (i & 1) {
			ret = rz_once(res->size, socket, b);
			if (ret == 0)
				ret = raw_once(res->size, socket, page_sz, a);
		} else {
			ret = raw_once(res->size, socket, page_sz, a);
			if (ret == 0)
				ret = rz_once(res->size, socket, b);
		}
		if (ret < 0)
			goto out;
		if (i < warm)
			continue;
		raw_c[i - warm] = bc_ns(a[1] - a[0]) / 1e3;
		raw_d[i - warm] = bc_ns(a[2] - a[1]) / 1e3;
		raw_t[i - warm] = bc_ns(a[2] - a[0]) / 1e3;
		rz_c[i - warm] = bc_ns(b[1] - b[0]) / 1e3;
		rz_d[i - warm] = bc_ns(b[2] - b[1]) / 1e3;
		rz_t[i - warm] = bc_ns(b[2] - b[0]) / 1e3;
	}
	bc_stats_compute(raw_c, n, &res->raw_c);
	bc_stats_compute(raw_d, n, &res->raw_d);
	bc_stats_compute(raw_t, n, &res->raw_t);
	bc_stats_compute(rz_c, n, &res->rz_c);
	bc_stats_compute(rz_d, n, &res->rz_d);
	bc_stats_compute(rz_t, n, &res->rz_t);
	res->ok = true;
out:
	free(v);
}

static int
count_pinned(const struct rte_memseg_list *msl, const struct rte_memseg *ms, void *arg)
{
	uint64_t *bytes = arg;

	if (ms->flags & RTE_MEMSEG_FLAG_DO_NOT_FREE)
		*bytes += ms->len;
	return 0;
}

static void
part_create_destroy(int socket, uint64_t page_sz, const struct opts *o)
{
	static const uint64_t sizes_mib[] = { 2, 4, 64 };
	struct cd_result res[RTE_DIM(sizes_mib)];
	uint64_t pinned = 0;
	unsigned int i;

	/* Pages DPDK will never give back (preallocated with -m/--socket-mem). */
	rte_memseg_walk(count_pinned, &pinned);

	printf("-- 1. create + destroy, same size, same socket (%d), order alternated --\n",
			socket);
	printf("[raw]   rte_memzone_reserve_aligned(name, size, socket, 0, %" PRIu64 " kB) + "
			"rte_memzone_free().\n", page_sz >> 10);
	if (pinned == 0)
		printf("        DPDK grows its heap on demand (maps hugepages, the kernel "
				"zeroes them), rte_free()\n"
				"        zeroes the freed element, then whole free hugepages go "
				"back to the kernel\n"
				"        (dynamic memory: no -m/--socket-mem).\n");
	else
		printf("        %" PRIu64 " MiB were preallocated at start-up "
				"(-m/--socket-mem): DPDK never returns\n"
				"        those pages, so reserve/free run the heap and "
				"rte_free()'s zeroing only.\n", pinned / BC_MIB);
	printf("[rzone] rz_region_create_numa() + rz_region_destroy(). Create takes the table "
			"lock, finds a\n"
			"        slot, carves pages from an arena memzone already mapped (one "
			"empty arena per socket\n"
			"        is kept as a spare) and reads the pages' node with "
			"move_pages(); destroy zeroes the\n"
			"        region (memset) and returns its pages to the arena.\n");
	printf("Medians (p99 of the total in brackets), microseconds:\n");
	printf("%8s %6s | %10s %10s %20s | %10s %10s %20s | %7s\n", "size", "iters",
			"raw create", "raw free", "raw total (p99)", "rz create", "rz destroy",
			"rz total (p99)", "rz/raw");
	for (i = 0; i < RTE_DIM(sizes_mib); i++) {
		struct cd_result *r = &res[i];
		char rawt[32], rzt[32];

		r->size = sizes_mib[i] * BC_MIB;
		if (sizes_mib[i] >= 64)
			r->iters = o->quick ? 20 : 100;
		else
			r->iters = o->quick ? 100 : 1000;
		bench_create_destroy(socket, page_sz, r);
		if (!r->ok) {
			printf("%5" PRIu64 " MiB: could not run (see above)\n", sizes_mib[i]);
			bc_target(BC_SKIP, "create+destroy", "%" PRIu64 " MiB: could not run",
					sizes_mib[i]);
			continue;
		}
		snprintf(rawt, sizeof(rawt), "%.1f (%.1f)", r->raw_t.p50, r->raw_t.p99);
		snprintf(rzt, sizeof(rzt), "%.1f (%.1f)", r->rz_t.p50, r->rz_t.p99);
		printf("%4" PRIu64 " MiB %6u | %10.1f %10.1f %20s | %10.1f %10.1f %20s | %7.3f\n",
				sizes_mib[i], r->iters, r->raw_c.p50, r->raw_d.p50, rawt,
				r->rz_c.p50, r->rz_d.p50, rzt, r->rz_t.p50 / r->raw_t.p50);
		fflush(stdout);
	}
	for (i = 0; i < RTE_DIM(sizes_mib); i++) {
		char name[64];
		double ratio;

		if (!res[i].ok)
			continue;
		ratio = res[i].rz_t.p50 / res[i].raw_t.p50;
		snprintf(name, sizeof(name), "create+destroy %" PRIu64 " MiB", sizes_mib[i]);
		bc_target(ratio <= 1.2 ? BC_PASS : BC_FAIL, name,
				"rzone/raw = %.3f on medians (%.1f us vs %.1f us), target <= 1.2",
				ratio, res[i].rz_t.p50, res[i].raw_t.p50);
	}
	printf("\n");
}

/* ----------------------------------------------------------------------------------------- */
/* Parts 2 and 3: lookups, scaling, 4096 regions                                              */

struct lk_point {
	unsigned int n;
	bool measured;
	struct bc_stats lookup;		/* rz_region_lookup(id), random over all n */
	struct bc_stats getmap;		/* rz_region_get_mapping(r, self), random */
	struct bc_stats id2addr;	/* both, random over all n */
	struct bc_stats hot;		/* both, random over the first HOT_SET regions */
	struct bc_stats ratio;		/* id2addr / hot, batch by batch (same moment) */
	bool baseline;
	struct bc_stats mz;		/* rte_memzone_lookup(name), random over MZ_COUNT */
	struct bc_stats create;		/* us per create since the previous point */
};

/* Time one batch of @bs operations, the indices read from @idx at cursor @k (advanced);
 * @out = nanoseconds per operation. */
#define TIME_BATCH(out, bs, idx, k, BODY) do {				\
		uint64_t t0_ = bc_tsc();				\
		unsigned int j_;					\
		for (j_ = 0; j_ < (bs); j_++) {				\
			uint32_t i_ = (idx)[(k)];			\
			(k) = ((k) + 1) & (IDX_LEN - 1);		\
			BODY;						\
		}							\
		(out) = bc_ns(bc_tsc() - t0_) / (double)(bs);		\
	} while (0)

static void
draw_indices(uint32_t *idx, uint32_t range, uint64_t seed)
{
	uint64_t s = seed;
	uint32_t k;

	for (k = 0; k < IDX_LEN; k++)
		idx[k] = (uint32_t)(bc_rand(&s) % range);
}

static int
verify(struct rz_region *const *regs, const uint64_t *ids, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		void *a = rz_region_get_mapping(regs[i], RZ_PID_SELF);

		if (rz_region_lookup(ids[i]) != regs[i] || a == NULL ||
				a != rz_region_addr(regs[i])) {
			printf("  region %u (id %#" PRIx64 "): lookup or mapping is wrong\n", i,
					ids[i]);
			return -1;
		}
	}
	if (rz_region_count() != (int)n) {
		printf("  rz_region_count() = %d, expected %u\n", rz_region_count(), n);
		return -1;
	}
	return 0;
}

/*
 * All the lookups of one population, measured in rounds: each round times one batch of every
 * kind in turn, so that they all see the same machine (a busy or shared machine changes speed
 * over seconds; the rounds spread that over every kind alike).
 */
static int
measure_point(struct lk_point *p, struct rz_region *const *regs, const uint64_t *ids,
		const char (*names)[RTE_MEMZONE_NAMESIZE], unsigned int nmz, bool quick,
		uint32_t *idx, uint32_t *idx_hot, uint32_t *idx_mz)
{
	const unsigned int nb = quick ? 100 : 500, nb_mz = quick ? 30 : 200;
	double *v = calloc(6 * (size_t)nb, sizeof(*v));
	double *lk = v, *gm = v + nb, *both = v + 2 * nb, *hot = v + 3 * nb;
	double *ratio = v + 4 * nb, *mz = v + 5 * nb;
	size_t k_lk = 0, k_gm = 0, k_both = 0, k_hot = 0, k_mz = 0;
	const struct rte_memzone *z;
	uintptr_t acc = 0;
	unsigned int b;

	if (v == NULL)
		return -1;
	draw_indices(idx, p->n, 0x9e3779b97f4a7c15ull + p->n);
	draw_indices(idx_hot, RTE_MIN(p->n, (unsigned int)HOT_SET), 0x51ed2701ull);
	if (nmz > 0)
		draw_indices(idx_mz, nmz, 0x2545f4914f6cdd1dull);
	/* The four rzone streams start at different places of the same random sequence. */
	k_gm = IDX_LEN / 4;
	k_both = IDX_LEN / 2;

	for (b = 0; b < nb; b++) {
		TIME_BATCH(lk[b], RZ_BATCH, idx, k_lk,
				acc ^= (uintptr_t)rz_region_lookup(ids[i_]));
		TIME_BATCH(gm[b], RZ_BATCH, idx, k_gm,
				acc ^= (uintptr_t)rz_region_get_mapping(regs[i_], RZ_PID_SELF));
		TIME_BATCH(both[b], RZ_BATCH, idx, k_both,
				acc ^= (uintptr_t)rz_region_get_mapping(
						rz_region_lookup(ids[i_]), RZ_PID_SELF));
		TIME_BATCH(hot[b], RZ_BATCH, idx_hot, k_hot,
				acc ^= (uintptr_t)rz_region_get_mapping(
						rz_region_lookup(ids[i_]), RZ_PID_SELF));
		ratio[b] = both[b] / hot[b];
		if (nmz > 0 && b < nb_mz)
			TIME_BATCH(mz[b], MZ_BATCH, idx_mz, k_mz,
					z = rte_memzone_lookup(names[i_]);
					acc ^= (uintptr_t)(z == NULL ? NULL : z->addr));
	}
	bc_stats_compute(lk, nb, &p->lookup);
	bc_stats_compute(gm, nb, &p->getmap);
	bc_stats_compute(both, nb, &p->id2addr);
	bc_stats_compute(hot, nb, &p->hot);
	bc_stats_compute(ratio, nb, &p->ratio);
	if (nmz > 0) {
		bc_stats_compute(mz, nb_mz, &p->mz);
		p->baseline = true;
	}
	sink = acc;
	p->measured = true;
	free(v);
	return 0;
}

static unsigned int
reserve_memzones(char (*names)[RTE_MEMZONE_NAMESIZE], const struct rte_memzone **mzs,
		int socket)
{
	unsigned int i;

	for (i = 0; i < MZ_COUNT; i++) {
		snprintf(names[i], RTE_MEMZONE_NAMESIZE, "rzb_mz_%04u", i);
		mzs[i] = rte_memzone_reserve(names[i], MZ_SIZE, socket, 0);
		if (mzs[i] == NULL) {
			printf("  baseline memzone %u of %u: %s\n", i, MZ_COUNT,
					rte_strerror(rte_errno));
			break;
		}
	}
	return i;
}

static void
free_memzones(const struct rte_memzone **mzs, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		rte_memzone_free(mzs[i]);
}

static void
print_point(const struct lk_point *p)
{
	printf("%6u | %7.1f %7.1f | %7.1f %7.1f | %7.1f %7.1f | %7.1f %7.1f | %5.2f || %7.1f\n",
			p->n, p->lookup.p50, p->lookup.p99, p->getmap.p50, p->getmap.p99,
			p->id2addr.p50, p->id2addr.p99, p->hot.p50, p->hot.p99, p->ratio.p50,
			p->create.p50);
	fflush(stdout);
}

static void
report_baseline(const struct lk_point *p)
{
	double r_lk = p->mz.p50 / p->lookup.p50, r_gm = p->mz.p50 / p->getmap.p50;
	double r_both = p->mz.p50 / p->id2addr.p50;
	char detail[200];

	printf("\n-- 2. lookup with %u regions and %u memzones present (ns per op, median of "
			"batches [p99]) --\n", p->n, MZ_COUNT);
	printf("[raw]   rte_memzone_lookup(name) -> mz->addr, random names: "
			"%.1f ns [%.1f]\n", p->mz.p50, p->mz.p99);
	printf("[rzone] rz_region_lookup(id):                           %.1f ns [%.1f]  "
			"-> %.0fx faster\n", p->lookup.p50, p->lookup.p99, r_lk);
	printf("[rzone] rz_region_get_mapping(r, RZ_PID_SELF):          %.1f ns [%.1f]  "
			"-> %.0fx faster\n", p->getmap.p50, p->getmap.p99, r_gm);
	printf("[rzone] id -> address (lookup + get_mapping):           %.1f ns [%.1f]  "
			"-> %.0fx faster\n\n", p->id2addr.p50, p->id2addr.p99, r_both);
	snprintf(detail, sizeof(detail), "raw/rzone = %.0fx (%.1f ns vs %.1f ns), target >= 10x",
			r_lk, p->mz.p50, p->lookup.p50);
	bc_target(r_lk >= 10 ? BC_PASS : BC_FAIL, "rz_region_lookup vs rte_memzone_lookup",
			"%s", detail);
	snprintf(detail, sizeof(detail), "raw/rzone = %.0fx (%.1f ns vs %.1f ns), target >= 10x",
			r_gm, p->mz.p50, p->getmap.p50);
	bc_target(r_gm >= 10 ? BC_PASS : BC_FAIL, "rz_region_get_mapping vs rte_memzone_lookup",
			"%s", detail);
	snprintf(detail, sizeof(detail), "raw/rzone = %.0fx (%.1f ns vs %.1f ns), target >= 10x",
			r_both, p->mz.p50, p->id2addr.p50);
	bc_target(r_both >= 10 ? BC_PASS : BC_FAIL, "id->address vs rte_memzone_lookup",
			"%s", detail);
}

static void
report_flat(const struct lk_point *pts, unsigned int npts, unsigned int want)
{
	const struct lk_point *lo = &pts[0], *hi = &pts[npts - 1];
	double r_lk = hi->lookup.p50 / lo->lookup.p50, r_gm = hi->getmap.p50 / lo->getmap.p50;
	double r_both = hi->id2addr.p50 / lo->id2addr.p50, r_hot = hi->hot.p50 / lo->hot.p50;
	double r_same = hi->ratio.p50;
	char name[64];

	printf("flatness (per-op medians):\n");
	printf("  A. same moment: ids drawn from all %u regions / ids drawn from %u of them, "
			"batches\n     alternated: id->address %.2fx (median of the per-round "
			"ratios; %.2fx at %u regions)\n", hi->n, HOT_SET, r_same, lo->ratio.p50,
			lo->n);
	printf("  B. time apart: at %u regions / at %u regions: lookup %.2fx, get_mapping "
			"%.2fx,\n     id->address %.2fx (same %u regions at both: %.2fx, which is "
			"the machine's drift\n     between the two moments, seconds apart)\n",
			hi->n, lo->n, r_lk, r_gm, r_both, HOT_SET, r_hot);
	printf("  criterion: flat if A <= 1.5x. A is the per-op cost of a lookup among %u "
			"regions against\n  one among %u, on the same machine state; B says the "
			"same when the machine is quiet.\n\n", hi->n, HOT_SET);
	snprintf(name, sizeof(name), "lookups flat, %u vs %u regions", hi->n, HOT_SET);
	if (hi->n < want) {
		bc_target(BC_SKIP, name, "only %u of the %u regions fit in the free hugepages "
				"(A = %.2fx at %u)", hi->n, want, r_same, hi->n);
		return;
	}
	bc_target(r_same <= 1.5 ? BC_PASS : BC_FAIL, name,
			"A (same moment) id->address %.2fx, target <= 1.5x; B (time apart) "
			"lookup %.2fx, get_mapping %.2fx, id->address %.2fx", r_same, r_lk, r_gm,
			r_both);
}

static void
part_scaling(int socket, uint64_t page_sz, long free_start, const struct opts *o)
{
	static const unsigned int wanted[] = { 10, 100, 1000, MZ_COUNT };
	unsigned int cps[RTE_DIM(wanted) + 1], ncps = 0, npts = 0, want = o->regions;
	unsigned int max_n = want, fit, n = 0, nmz = 0, i, c;
	char (*names)[RTE_MEMZONE_NAMESIZE] = NULL;
	const struct rte_memzone **mzs = NULL;
	struct lk_point pts[RTE_DIM(cps)];
	struct rz_region **regs = NULL;
	uint32_t *idx = NULL, *idx_hot = NULL, *idx_mz = NULL;
	double *create_us = NULL, *destroy_us = NULL;
	uint64_t *ids = NULL, t_all0, t_all1;
	long need, free_full = -1;
	double create_rate;
	char label[48];
	struct bc_stats cs, ds;

	need = (long)((want + RZB_ARENA_PAGES - 1) / RZB_ARENA_PAGES) * ARENA_COST + SLACK_PAGES;
	printf("-- 3. %u regions of one %" PRIu64 " kB page, lookups at 10 .. %u regions --\n",
			want, page_sz >> 10, want);
	printf("hugepages: needs %ld free pages of %" PRIu64 " kB (%.1f GiB: %u arenas of %d "
			"pages, +1 page of\n           DPDK malloc header each, +%d slack); "
			"HugePages_Free was %ld at start\n", need, page_sz >> 10,
			(double)need * (double)page_sz / (double)(1ull << 30),
			(want + RZB_ARENA_PAGES - 1) / RZB_ARENA_PAGES, RZB_ARENA_PAGES,
			SLACK_PAGES, free_start);
	if (free_start >= 0 && free_start < need) {
		fit = free_start <= SLACK_PAGES ? 0 : RZB_ARENA_PAGES *
			(unsigned int)((free_start - SLACK_PAGES) / ARENA_COST);
		max_n = RTE_MIN(want, fit);
		printf("NOT ENOUGH HUGEPAGES for %u regions: %ld free, %ld needed. Run "
				"perf/run.sh, or\n  echo %ld > /proc/sys/vm/nr_hugepages (as "
				"root). Going up to %u regions only.\n", want, free_start, need,
				need + 64, max_n);
	}
	for (i = 0; i < RTE_DIM(wanted); i++)
		if (wanted[i] < max_n)
			cps[ncps++] = wanted[i];
	cps[ncps++] = max_n;
	if (max_n < HOT_SET) {
		printf("could not run: fewer than %u regions fit\n\n", HOT_SET);
		bc_target(BC_SKIP, "lookups", "not enough hugepages");
		return;
	}

	regs = calloc(max_n, sizeof(*regs));
	ids = calloc(max_n, sizeof(*ids));
	create_us = calloc(max_n, sizeof(*create_us));
	destroy_us = calloc(max_n, sizeof(*destroy_us));
	idx = calloc(IDX_LEN, sizeof(*idx));
	idx_hot = calloc(IDX_LEN, sizeof(*idx_hot));
	idx_mz = calloc(IDX_LEN, sizeof(*idx_mz));
	names = calloc(MZ_COUNT, sizeof(*names));
	mzs = calloc(MZ_COUNT, sizeof(*mzs));
	if (regs == NULL || ids == NULL || create_us == NULL || destroy_us == NULL ||
			idx == NULL || idx_hot == NULL || idx_mz == NULL || names == NULL ||
			mzs == NULL) {
		printf("could not run: out of memory\n");
		goto out;
	}

	printf("Per-op nanoseconds, median of %u-op batches [p99 of batches]; ids and handles "
			"drawn at random\n", RZ_BATCH);
	printf("%6s | %15s | %15s | %15s | %15s | %5s || %7s\n", "", "lookup(id)",
			"get_mapping", "id->address", "id->addr, hot", "A", "create");
	printf("%6s | %7s %7s | %7s %7s | %7s %7s | %7s %7s | %5s || %7s\n", "n", "p50", "p99",
			"p50", "p99", "p50", "p99", "p50", "p99", "", "p50 us");
	t_all0 = bc_tsc();
	t_all1 = t_all0;
	for (c = 0; c < ncps; c++) {
		struct lk_point *p = &pts[npts];
		unsigned int seg = n;

		while (n < cps[c]) {
			uint64_t t0, t1;
			struct rz_region *r;
			int ret;

			t0 = bc_tsc();
			r = rz_region_create_numa(RZ_PID_SELF, page_sz, RZ_PERM_RW, socket);
			t1 = bc_tsc();
			if (r == NULL) {
				printf("  rz_region_create_numa #%u: %s\n", n + 1,
						rte_strerror(rte_errno));
				goto destroy;
			}
			t_all1 += t1 - t0;
			create_us[n] = bc_ns(t1 - t0) / 1e3;
			regs[n] = r;
			ids[n] = rz_region_id(r);
			n++;
			ret = rz_region_map(r, RZ_PID_SELF, NULL, RZ_PERM_RW);
			if (ret < 0) {
				printf("  rz_region_map(self) #%u: %s\n", n, strerror(-ret));
				goto destroy;
			}
		}
		if (verify(regs, ids, n) < 0)
			goto destroy;
		memset(p, 0, sizeof(*p));
		p->n = n;
		bc_stats_compute(create_us + seg, n - seg, &p->create);
		nmz = 0;
		if (n == MZ_COUNT) {
			nmz = reserve_memzones(names, mzs, socket);
			if (nmz < MZ_COUNT) {
				free_memzones(mzs, nmz);
				nmz = 0;
			}
		}
		if (measure_point(p, regs, ids, (const char (*)[RTE_MEMZONE_NAMESIZE])names,
				nmz, o->quick, idx, idx_hot, idx_mz) < 0)
			goto destroy;
		free_memzones(mzs, nmz);
		print_point(p);
		npts++;
		if (n == max_n)
			free_full = bc_hugepages_free(socket, page_sz);
	}
	printf("(get_mapping: the handle is already known; id->addr, hot: ids drawn from the "
			"same %u regions\n whatever n; A = id->address / id->addr, hot, batch by "
			"batch; create = rz_region_create()\n of the regions added since the row "
			"above)\n", HOT_SET);
	c = 0;
	for (i = 0; i < npts; i++) {
		if (pts[i].baseline) {
			report_baseline(&pts[i]);
			c++;
		}
	}
	if (c == 0)
		bc_target(BC_SKIP, "lookup vs rte_memzone_lookup", max_n < MZ_COUNT ?
				"fewer than 2000 regions fit in the free hugepages" :
				"the 2000 baseline memzones could not be reserved");
	if (npts < 2 || pts[npts - 1].n < 1000)
		bc_target(BC_SKIP, "lookups flat", "fewer than 1000 regions could be created");
	else
		report_flat(pts, npts, want);

destroy:
	if (n > 0) {
		bc_stats_compute(create_us, n, &cs);
		create_rate = (double)n / (bc_ns(t_all1 - t_all0) / 1e9);
		printf("creation: %u regions of %" PRIu64 " kB in %.1f ms of rz_region_create "
				"calls: %.0f regions/s\n", n, page_sz >> 10,
				bc_ns(t_all1 - t_all0) / 1e6, create_rate);
		printf("  per create: p50 %.1f us, p99 %.1f us, max %.1f us (the slow ones "
				"reserve a new %d-page arena\n  memzone: DPDK maps and faults in "
				"its pages)\n", cs.p50, cs.p99, cs.max, RZB_ARENA_PAGES);
		if (free_full >= 0 && free_start >= 0)
			printf("  HugePages_Free went from %ld to %ld with %u regions live "
					"(%u arenas; a system-wide\n  counter: other processes' "
					"hugepages count too)\n", free_start, free_full, n,
					(n + RZB_ARENA_PAGES - 1) / RZB_ARENA_PAGES);
		t_all0 = bc_tsc();
		for (i = 0; i < n; i++) {
			uint64_t t0 = bc_tsc();
			int ret = rz_region_destroy(regs[i]);

			destroy_us[i] = bc_ns(bc_tsc() - t0) / 1e3;
			if (ret < 0)
				printf("  rz_region_destroy #%u: %s\n", i, strerror(-ret));
		}
		t_all1 = bc_tsc();
		bc_stats_compute(destroy_us, n, &ds);
		printf("destruction: %u regions in %.1f ms: %.0f regions/s; per destroy: p50 "
				"%.1f us, p99 %.1f us,\n  max %.1f us (each zeroes its %" PRIu64
				" kB; an arena emptied for good also goes back to DPDK,\n  "
				"whose rte_free() zeroes the whole arena again)\n", n,
				bc_ns(t_all1 - t_all0) / 1e6,
				(double)n / (bc_ns(t_all1 - t_all0) / 1e9), ds.p50, ds.p99, ds.max,
				page_sz >> 10);
		printf("  regions left: %d\n", rz_region_count());
		snprintf(label, sizeof(label), "%u regions at once", want);
		if (n == want)
			bc_target(BC_PASS, label,
					"%u created (%.0f regions/s), looked up, destroyed", n,
					create_rate);
		else if (n == max_n)
			bc_target(BC_SKIP, label,
					"only %u regions fit in the free hugepages (%ld free, %ld "
					"needed)", n, free_start, need);
		else
			bc_target(BC_FAIL, label,
					"creation stopped at %u regions (see the error above)", n);
	}
	printf("\n");
out:
	free(regs);
	free(ids);
	free(create_us);
	free(destroy_us);
	free(idx);
	free(idx_hot);
	free(idx_mz);
	free(names);
	free(mzs);
}

/* ----------------------------------------------------------------------------------------- */

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	int i;

	o->quick = false;
	o->lifecycle_only = false;
	o->regions = 4096;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			o->quick = true;
		} else if (strcmp(argv[i], "--lifecycle-only") == 0) {
			o->lifecycle_only = true;
		} else if (strcmp(argv[i], "--regions") == 0 && i + 1 < argc) {
			char *end;
			unsigned long v = strtoul(argv[++i], &end, 0);

			if (*end != '\0' || v < 100 || v > 8000) {
				printf("--regions: 100 .. 8000\n");
				return -1;
			}
			o->regions = (unsigned int)v;
		} else {
			printf("unknown option %s\nusage: %s <EAL args> -- [--quick] "
					"[--regions N] [--lifecycle-only]\n", argv[i], argv[0]);
			return -1;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct rz_region *probe;
	struct opts o;
	uint64_t page_sz;
	long free_start;
	int ret, socket;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		printf("could not run: rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= ret;
	argv += ret;
	if (parse_opts(argc, argv, &o) < 0) {
		rte_eal_cleanup();
		return 1;
	}
	ret = rz_init();
	if (ret < 0) {
		printf("could not run: rz_init: %s\n", strerror(-ret));
		rte_eal_cleanup();
		return 1;
	}
	socket = (int)rte_socket_id();
	if (socket == SOCKET_ID_ANY)
		socket = rte_socket_id_by_idx(0);
	/* The hugepage size rzone really uses: a one-byte region is one page. */
	free_start = bc_hugepages_free(socket, 2 * BC_MIB);
	probe = rz_region_create_numa(RZ_PID_SELF, 1, RZ_PERM_RW, socket);
	if (probe == NULL) {
		printf("could not run: cannot create a region: %s (free hugepages: %ld)\n",
				rte_strerror(rte_errno), free_start);
		rz_fini();
		rte_eal_cleanup();
		return 1;
	}
	page_sz = rz_region_size(probe);
	rz_region_destroy(probe);
	if (page_sz != 2 * BC_MIB)
		free_start = -1;	/* counted the wrong pool: do not guess */

	bc_print_platform("rz-bench-region: region create/destroy and lookup", page_sz);
	part_create_destroy(socket, page_sz, &o);
	if (!o.lifecycle_only)
		part_scaling(socket, page_sz, free_start, &o);
	bc_targets_print();

	ret = rz_fini();
	if (ret < 0)
		printf("rz_fini: %s\n", strerror(-ret));
	rte_eal_cleanup();
	return 0;
}
