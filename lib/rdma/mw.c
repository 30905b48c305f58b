/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * Memory windows (type 2): the device pool they are drawn from at random, the windows each peer
 * keeps for its next grants (re-bound on the same QP), and their keys, never the same twice.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "rdma_private.h"

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

void
mw_pool_free_locked(void)
{
	uint32_t i;

	for (i = 0; i < rdma_state.pool_n; i++)
		ibv_dealloc_mw(rdma_state.pool[i].mw);
	free(rdma_state.pool);
	rdma_state.pool = NULL;
	rdma_state.pool_n = rdma_state.pool_cap = 0;
}
