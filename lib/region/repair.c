/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * Crash consistency of the region table. A process may be killed at any instruction, also with
 * the table lock held (the lock is robust: the next holder gets EOWNERDEAD) or while it zeroes
 * the pages of a region it destroyed (outside the lock). This file restores the invariants:
 *   - every live region slot has an id, and every free one none;
 *   - the pages an arena marks in use are exactly those of its live regions plus those that a
 *     live process is zeroing (intent records); others are zeroed and given back;
 *   - a region's own arena (larger than a shared one) is used only by its region (empty, it
 *     waits for its creator or for the primary's trim, arena_trim());
 *   - the region, mapping and capability counts match the entries;
 *   - an arena memzone whose reservation was cut short is freed (after the lock).
 * The same scan, without fixing, is rz_check().
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core_private.h"
#include "proc_private.h"
#include "region_private.h"

struct zero_intent *
zero_intent_add_locked(uint32_t arena, uint32_t first_page, uint32_t npages)
{
	struct rz_table *t = tbl();
	uint32_t i;

	for (i = 0; i < RZ_MAX_INTENTS; i++) {
		struct zero_intent *zi = &t->intents[i];

		if (zi->active)
			continue;
		zi->proc = local_proc.self;
		zi->gen = local_proc.self_gen;
		zi->arena = arena;
		zi->first_page = first_page;
		zi->npages = npages;
		zi->active = 1;
		return zi;
	}
	return NULL;
}

void
zero_intent_clear_locked(struct zero_intent *zi)
{
	memset(zi, 0, sizeof(*zi));
}

static void
intent_finish_locked(struct zero_intent *zi)
{
	struct rz_table *t = tbl();
	struct arena *a = &t->arenas[zi->arena];
	struct arena_gone gone;

	if (zi->arena < RZ_MAX_ARENAS && a->state == ARENA_LIVE &&
			zi->first_page + zi->npages <= a->npages) {
		memset(a->va + (uint64_t)zi->first_page * t->page_sz, 0,
				(uint64_t)zi->npages * t->page_sz);
		if (arena_release_locked(zi->arena, zi->first_page, zi->npages, &gone))
			arena_defer_free_locked(&gone);
	}
	RZ_LOG(NOTICE, "pages %u..%u of arena %u: the process zeroing them died; zeroed and "
			"released", zi->first_page, zi->first_page + zi->npages - 1, zi->arena);
	zero_intent_clear_locked(zi);
}

void
zero_intents_finish_locked(uint32_t slot)
{
	struct rz_table *t = tbl();
	uint32_t i;

	for (i = 0; i < RZ_MAX_INTENTS; i++)
		if (t->intents[i].active && t->intents[i].proc == slot)
			intent_finish_locked(&t->intents[i]);
}

static uint64_t
pages_mask(uint32_t first, uint32_t n)
{
	uint64_t m = n >= 64 ? UINT64_MAX : ((UINT64_C(1) << n) - 1);

	return first >= 64 ? 0 : m << first;
}

/* Expected use of each arena, from the regions and intent records. */
struct expect {
	uint64_t mask[RZ_MAX_ARENAS];
	uint32_t npages[RZ_MAX_ARENAS];
};

static struct expect scan_expect;	/* only used with the table lock held */

/* Log and print one finding. */
static void
found(FILE *f, bool fix, unsigned int *n, const char *what, uint64_t a, uint64_t b)
{
	(*n)++;
	if (f != NULL)
		fprintf(f, "rzone check: %s (%#" PRIx64 ", %" PRIu64 ")\n", what, a, b);
	RZ_LOG(WARNING, "%s%s (%#" PRIx64 ", %" PRIu64 ")%s", fix ? "repair: " : "check: ",
			what, a, b, fix ? ": fixed" : "");
}

static bool
arena_ok(const struct rz_table *t, const struct region_entry *e)
{
	const struct arena *a;

	if (e->arena >= RZ_MAX_ARENAS)
		return false;
	a = &t->arenas[e->arena];
	return a->state == ARENA_LIVE && e->size % t->page_sz == 0 &&
		e->first_page + e->size / t->page_sz <= a->npages &&
		e->va == a->va + (uint64_t)e->first_page * t->page_sz;
}

static unsigned int
scan_locked(FILE *f, bool fix)
{
	struct rz_table *t = tbl();
	struct expect *x = &scan_expect;
	uint32_t i, j, nregions = 0, ncaps = 0;
	unsigned int n = 0;

	memset(x, 0, sizeof(*x));
	for (i = 0; i < RZ_MAX_REGIONS; i++) {
		struct region_entry *e = &t->regions[i];
		uint32_t np, nmaps = 0, rcaps = 0;
		uint64_t m;

		if (e->state == REGION_FREE) {
			if (e->id != 0) {
				found(f, fix, &n, "free region slot with an id", e->id, i);
				if (fix)
					__atomic_store_n(&e->id, 0, __ATOMIC_RELEASE);
			}
			continue;
		}
		if (e->id == 0 || (e->id & RZ_SLOT_MASK) != i || !arena_ok(t, e)) {
			/* A create cut short (its pages, if marked, are reclaimed below). */
			found(f, fix, &n, "live region slot without a valid id or pages", e->id, i);
			if (fix) {
				__atomic_store_n(&e->id, 0, __ATOMIC_RELEASE);
				table_zero(e, sizeof(*e));
			}
			continue;
		}
		if (e->owner >= RZ_MAX_PROCS || t->procs[e->owner].state != PROC_LIVE) {
			found(f, fix, &n, "region owned by no live process", e->id, e->owner);
			if (fix && e->owner < RZ_MAX_PROCS) {
				region_owner_leaves_locked(e, e->owner);
				if (e->state == REGION_FREE)
					continue;	/* freed: nobody maps it */
			}
		} else if (e->owner_gen != t->procs[e->owner].gen) {
			/* Ownership changed hands half-way (slot written, generation not). */
			found(f, fix, &n, "region owner generation", e->id, e->owner);
			if (fix)
				e->owner_gen = t->procs[e->owner].gen;
		}
		nregions++;
		np = (uint32_t)(e->size / t->page_sz);
		m = pages_mask(e->first_page, np);
		if (x->mask[e->arena] & m)
			found(f, false, &n, "regions overlap in an arena", e->id, e->arena);
		x->mask[e->arena] |= m;
		x->npages[e->arena] += np;
		for (j = 0; j < RZ_MAX_PROCS; j++)
			nmaps += e->maps[j].addr != 0;
		for (j = 0; j < RZ_MAX_CAPS && e->ncaps > 0; j++)
			rcaps += t->caps[j].state != CAP_FREE && t->caps[j].region_id == e->id;
		if (nmaps != e->nmaps) {
			found(f, fix, &n, "region mapping count", e->id, e->nmaps);
			if (fix)
				e->nmaps = nmaps;
		}
		if (e->ncaps > 0 && rcaps != e->ncaps) {
			found(f, fix, &n, "region capability count", e->id, e->ncaps);
			if (fix)
				e->ncaps = rcaps;
		}
	}
	for (i = 0; i < RZ_MAX_INTENTS; i++) {
		struct zero_intent *zi = &t->intents[i];
		const struct proc_entry *p;

		if (!zi->active)
			continue;
		p = zi->proc < RZ_MAX_PROCS ? &t->procs[zi->proc] : NULL;
		if (zi->arena >= RZ_MAX_ARENAS || p == NULL) {
			found(f, fix, &n, "bad intent record", zi->arena, i);
			if (fix)
				zero_intent_clear_locked(zi);
		} else if (p->state != PROC_LIVE || p->gen != zi->gen) {
			found(f, fix, &n, "pages left half-zeroed by a process that is gone",
					zi->arena, zi->first_page);
			if (fix)
				zero_intent_clear_locked(zi);	/* reclaimed below */
		} else {
			x->mask[zi->arena] |= pages_mask(zi->first_page, zi->npages);
			x->npages[zi->arena] += zi->npages;
		}
	}
	for (i = 0; i < RZ_MAX_ARENAS; i++) {
		struct arena *a = &t->arenas[i];

		if (a->state == ARENA_RESERVING)
			continue;	/* the primary is reserving it, without the lock */
		if (a->state != ARENA_LIVE) {
			if (a->name[0] != '\0') {
				/* Named, never recorded: a reservation cut short. */
				found(f, fix, &n, "arena memzone reserved but not recorded",
						a->seq, i);
				if (fix) {
					arena_orphan_locked(a->name);
					memset(a, 0, sizeof(*a));
				}
			}
			continue;
		}
		if (a->npages != RZ_ARENA_PAGES) {
			/* A region's own arena. */
			/* Empty is fine: its creator takes it, or the primary's trim frees it. */
			if (x->npages[i] == 0 && a->nused != 0) {
				found(f, fix, &n, "own arena of no region", a->seq, a->npages);
				if (fix) {
					a->nused = 0;
					a->used_mask = 0;
					a->idle_ns = mono_time_ns();
				}
			} else if (a->nused != x->npages[i]) {
				found(f, fix, &n, "own arena page count", a->seq, a->nused);
				if (fix)
					a->nused = x->npages[i];
			}
			continue;
		}
		if (a->used_mask != x->mask[i] || a->nused != x->npages[i]) {
			uint64_t lost = a->used_mask & ~x->mask[i];

			found(f, fix, &n, "arena pages in use that no region holds (mask)",
					lost, a->nused);
			if (fix) {
				for (j = 0; j < a->npages; j++)
					if (lost & (UINT64_C(1) << j))
						memset(a->va + (uint64_t)j * t->page_sz, 0,
								t->page_sz);
				a->used_mask = x->mask[i];
				a->nused = x->npages[i];
			}
		}
	}
	for (i = 0; i < RZ_MAX_CAPS; i++) {
		struct cap_entry *c = &t->caps[i];

		if (c->state == CAP_FREE)
			continue;
		if (region_by_id(c->region_id) == NULL) {
			found(f, fix, &n, "capability of a region that is gone", c->token, i);
			if (fix)
				memset(c, 0, sizeof(*c));
			continue;
		}
		ncaps++;
	}
	if (t->nregions != nregions) {
		found(f, fix, &n, "region count", t->nregions, nregions);
		if (fix)
			__atomic_store_n(&t->nregions, nregions, __ATOMIC_RELAXED);
	}
	if (t->ncaps != ncaps) {
		found(f, fix, &n, "capability count", t->ncaps, ncaps);
		if (fix)
			__atomic_store_n(&t->ncaps, ncaps, __ATOMIC_RELAXED);
	}
	return n;
}

void
region_repair_locked(void)
{
	unsigned int n = scan_locked(NULL, true);

	RZ_LOG(WARNING, "table repaired after its lock holder died: %u finding%s fixed", n,
			n == 1 ? "" : "s");
}

void
region_repair_init(void)
{
	table_set_repair(region_repair_locked);
}

unsigned int
region_check_copy(FILE *f)
{
	return scan_locked(f, false);
}

int
rz_check(FILE *f)
{
	unsigned int n;
	int ret;

	if (tbl() == NULL)
		return -ENODEV;
	if (local_proc.observer)
		return (int)region_check_copy(f);	/* the observer's own copy, no lock */
	ret = table_lock();
	if (ret < 0)
		return ret;
	n = scan_locked(f, false);
	table_unlock();
	return (int)n;
}
