/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * Packet pools in regions across processes (include/rzone_pkt.h): this process is a real DPDK
 * primary; rz-test-agent secondaries attach to its pool and take or hand back packets through
 * rte_rings of mbuf pointers, zero-copy, as DPDK's client/server multi-process example does.
 */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include "harness.h"
#include "pkt_pattern.h"
#include "rz_test.h"
#include "rzone.h"
#include "rzone_pkt.h"

#define PAGE (2u * 1024 * 1024)
#define POOL "rzt_pkt"
#define NMBUF 4096u
#define ROOM (RTE_MBUF_DEFAULT_BUF_SIZE)
#define NPKT 12000u

#define START(a) CU_ASSERT_FATAL(agent_start(&(a)) == 0)
#define OK(rep) do { struct reply r_ = (rep); CU_ASSERT(r_.ok); \
		if (!r_.ok) fprintf(stderr, "  agent said err %d at line %d\n", r_.err, __LINE__); \
	} while (0)
#define ERR(rep, e) do { struct reply r_ = (rep); CU_ASSERT(!r_.ok && r_.err == (e)); \
		if (r_.ok || r_.err != (e)) fprintf(stderr, "  agent said %s %d, want err %d at " \
				"line %d\n", r_.ok ? "ok" : "err", \
				r_.ok ? (int)r_.val : r_.err, (e), __LINE__); \
	} while (0)

static void
count_cb(struct rte_mempool *mp, void *arg)
{
	RTE_SET_USED(mp);
	(*(unsigned int *)arg)++;
}

static unsigned int
mempools(void)
{
	unsigned int n = 0;

	rte_mempool_walk(count_cb, &n);
	return n;
}

/* Every mbuf's buf_iova is the IOVA of its data room in the region's chunk table. */
static unsigned int
iova_mismatches(struct rte_mempool *mp, struct rz_region *r)
{
	struct rz_iova_chunk c[256];
	struct rte_mbuf *m[64];
	const uint8_t *base = rz_region_addr(r);
	unsigned int bad = 0, i, j;
	int nc = rz_region_iova_chunks(r, c, RTE_DIM(c));

	CU_ASSERT_FATAL(nc > 0 && nc <= (int)RTE_DIM(c));
	CU_ASSERT_FATAL(rte_pktmbuf_alloc_bulk(mp, m, RTE_DIM(m)) == 0);
	for (i = 0; i < RTE_DIM(m); i++) {
		size_t off = (size_t)((const uint8_t *)m[i]->buf_addr - base);
		bool found = false;

		for (j = 0; j < (unsigned int)nc; j++)
			if (off >= c[j].offset && off + m[i]->buf_len <= c[j].offset + c[j].len) {
				found = m[i]->buf_iova == c[j].iova + (off - c[j].offset);
				break;
			}
		if (!found || off >= rz_region_size(r))
			bad++;
	}
	rte_pktmbuf_free_bulk(m, RTE_DIM(m));
	return bad;
}

static void
test_pool_in_region(void)
{
	unsigned int pools = mempools(), regions = (unsigned int)rz_region_count();
	struct rte_mempool *mp = rz_pktmbuf_pool_create(POOL, NMBUF, 64, 0, ROOM, SOCKET_ID_ANY);
	struct rz_region *r;
	struct agent a;
	char cmd[64];

	CU_ASSERT_FATAL(mp != NULL);
	CU_ASSERT_EQUAL(mempools(), pools + 1);
	CU_ASSERT_EQUAL(rz_region_count(), (int)regions + 1);
	CU_ASSERT_PTR_EQUAL(rte_mempool_lookup(POOL), mp);
	r = rz_pktmbuf_pool_region(mp);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(rz_region_owner(r), getpid());
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(r, RZ_PID_SELF), RZ_PERM_RW);
	CU_ASSERT(rz_region_size(r) >= rz_pktmbuf_pool_region_size(NMBUF, 0, ROOM));
	CU_ASSERT_EQUAL(mp->size, NMBUF);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(mp), NMBUF);
	CU_ASSERT_EQUAL(rte_pktmbuf_data_room_size(mp), ROOM);
	CU_ASSERT_EQUAL(rte_pktmbuf_priv_size(mp), 0);
	CU_ASSERT_STRING_EQUAL(rte_mempool_get_ops(mp->ops_index)->name, "ring_mp_mc");
	/* Every object inside the region. */
	CU_ASSERT_EQUAL(iova_mismatches(mp, r), 0);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(mp), NMBUF);

	/* A secondary finds it but may not use it before the owner shares the region. */
	START(a);
	ERR(agent_cmd(&a, "pktattach %s", POOL), EACCES);
	ERR(agent_cmd(&a, "pktattach no_such_pool"), ENOENT);
	CU_ASSERT_EQUAL(rz_pktmbuf_pool_share(mp, a.pid), 0);
	CU_ASSERT_EQUAL(rz_pktmbuf_pool_share(mp, a.pid), 0);	/* already: fine */
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(r, a.pid), RZ_PERM_RW);
	OK(agent_cmd(&a, "pktattach %s", POOL));
	snprintf(cmd, sizeof(cmd), "pktavail %s", POOL);
	CU_ASSERT_EQUAL(agent_cmd(&a, "%s", cmd).val, NMBUF);
	/* Free refused while it maps the region: nothing changes. */
	CU_ASSERT_EQUAL(rz_pktmbuf_pool_free(mp), -EBUSY);
	CU_ASSERT_PTR_EQUAL(rte_mempool_lookup(POOL), mp);
	CU_ASSERT_EQUAL(rz_region_count(), (int)regions + 1);
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(r, a.pid), RZ_PERM_RW);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(mp), NMBUF);
	/* Only the owner frees; the owner does not detach. */
	ERR(agent_cmd(&a, "pktfree %s", POOL), EPERM);
	CU_ASSERT_EQUAL(rz_pktmbuf_pool_detach(mp), -EPERM);
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(r, RZ_PID_SELF), RZ_PERM_RW);
	OK(agent_cmd(&a, "pktdetach %s", POOL));
	ERR(agent_cmd(&a, "pktattach %s", POOL), EACCES);
	ERR(agent_cmd(&a, "pktdetach %s", POOL), ENOENT);
	agent_stop(&a);
	CU_ASSERT_EQUAL(rz_pktmbuf_pool_free(mp), 0);
	CU_ASSERT_PTR_NULL(rte_mempool_lookup(POOL));
	CU_ASSERT_EQUAL(mempools(), pools);
	CU_ASSERT_EQUAL(rz_region_count(), (int)regions);
}

struct feeder {
	struct rte_ring *ring;
	struct rte_mempool *mp;
	uint32_t n;
	uint32_t done;
	/* receiver side */
	uint32_t good, bad, order, multi;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
feed(void *arg)
{
	struct feeder *f = arg;
	double t0 = now_s();

	while (f->done < f->n && now_s() - t0 < 30) {
		struct rte_mbuf *m = pkt_make(f->mp, f->done);

		if (m == NULL) {
			rte_pause();
			continue;
		}
		while (rte_ring_enqueue(f->ring, m) != 0 && now_s() - t0 < 30)
			rte_pause();
		f->done++;
	}
	return NULL;
}

static void *
drain(void *arg)
{
	struct feeder *f = arg;
	double t0 = now_s();
	uint32_t next = 0;

	while (f->done < f->n && now_s() - t0 < 30) {
		void *burst[32];
		unsigned int i, k = rte_ring_dequeue_burst(f->ring, burst, 32, NULL);

		for (i = 0; i < k; i++) {
			struct rte_mbuf *m = burst[i];
			uint32_t seq;

			if (pkt_check(m, &seq) == 0) {
				f->good++;
				f->order += seq != next;
				next = seq + 1;
			} else {
				f->bad++;
			}
			f->multi += m->nb_segs > 1;
			rte_pktmbuf_free(m);
		}
		f->done += k;
		if (k == 0)
			rte_pause();
	}
	return NULL;
}

/* Primary -> secondary and back, 12,000 packets each way (every 7th a 9,000-byte chain of
 * five mbufs), checked byte for byte and in order, freed by the other process. */
static void
test_handoff(void)
{
	struct rte_mempool *mp = rz_pktmbuf_pool_create(POOL, NMBUF, 64, 0, ROOM, SOCKET_ID_ANY);
	struct rte_ring *p2s = rte_ring_create("rzt_p2s", 1024, SOCKET_ID_ANY,
			RING_F_SP_ENQ | RING_F_SC_DEQ);
	struct rte_ring *s2p = rte_ring_create("rzt_s2p", 1024, SOCKET_ID_ANY,
			RING_F_SP_ENQ | RING_F_SC_DEQ);
	struct feeder f = { .ring = p2s, .mp = mp, .n = NPKT };
	struct reply rep;
	unsigned int good, bad, order, multi, segs;
	struct agent a;
	pthread_t th;

	CU_ASSERT_FATAL(mp != NULL && p2s != NULL && s2p != NULL);
	START(a);
	CU_ASSERT_FATAL(rz_pktmbuf_pool_share(mp, a.pid) == 0);
	OK(agent_cmd(&a, "pktattach %s", POOL));

	CU_ASSERT_FATAL(pthread_create(&th, NULL, feed, &f) == 0);
	rep = agent_cmd(&a, "pktrecv rzt_p2s %u 30000", NPKT);
	pthread_join(th, NULL);
	CU_ASSERT(rep.ok);
	CU_ASSERT_EQUAL(sscanf(rep.text, "%u %u %u %u %u", &good, &bad, &order, &multi, &segs),
			5);
	printf("\n  primary -> secondary: %u sent, %u good, %u bad, %u out of order, %u "
			"multi-segment (%u segments)\n", f.done, good, bad, order, multi, segs);
	CU_ASSERT_EQUAL(f.done, NPKT);
	CU_ASSERT_EQUAL(good, NPKT);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(order, 0);
	CU_ASSERT(multi >= NPKT / 8);
	CU_ASSERT(segs > NPKT + 3 * multi);
	/* The secondary freed them all back into the pool. */
	CU_ASSERT_EQUAL(rte_mempool_avail_count(mp), NMBUF);

	memset(&f, 0, sizeof(f));
	f.ring = s2p;
	f.mp = mp;
	f.n = NPKT;
	CU_ASSERT_FATAL(pthread_create(&th, NULL, drain, &f) == 0);
	rep = agent_cmd(&a, "pktsend rzt_s2p %s %u 0", POOL, NPKT);
	pthread_join(th, NULL);
	CU_ASSERT(rep.ok && rep.val == NPKT);
	printf("  secondary -> primary: %u received, %u good, %u bad, %u out of order, %u "
			"multi-segment\n", f.done, f.good, f.bad, f.order, f.multi);
	CU_ASSERT_EQUAL(f.good, NPKT);
	CU_ASSERT_EQUAL(f.bad, 0);
	CU_ASSERT_EQUAL(f.order, 0);
	CU_ASSERT(f.multi >= NPKT / 8);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(mp), NMBUF);
	rep = agent_cmd(&a, "pktavail %s", POOL);
	CU_ASSERT(rep.ok && rep.val == NMBUF);

	OK(agent_cmd(&a, "pktdetach %s", POOL));
	agent_stop(&a);
	rte_ring_free(p2s);
	rte_ring_free(s2p);
	CU_ASSERT_EQUAL(rz_pktmbuf_pool_free(mp), 0);
}

/* Bad input: every refused call leaves the regions, the mappings and the mempools as they
 * were. */
static void
test_bad_input(void)
{
	unsigned int pools = mempools(), regions = (unsigned int)rz_region_count();
	struct rz_region *small = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	struct rz_region *ro = rz_region_create(RZ_PID_SELF, 4 * PAGE, RZ_PERM_READ);
	struct rz_region *rw = rz_region_create(RZ_PID_SELF, 4 * PAGE, RZ_PERM_RW);
	struct rte_mempool *plain, *mp, *mp2;
	struct rz_region *exact;
	struct rte_mbuf *m;
	uint32_t lkey = 7;
	struct agent a;

	CU_ASSERT_FATAL(small != NULL && ro != NULL && rw != NULL);
	regions += 3;

	/* Too small: 4096 mbufs of 2 KiB do not fit in one hugepage. */
	CU_ASSERT_PTR_NULL(rz_pktmbuf_pool_create_in(POOL, small, NMBUF, 0, 0, ROOM));
	CU_ASSERT_EQUAL(rte_errno, ENOSPC);
	CU_ASSERT_PTR_NULL(rte_mempool_lookup(POOL));
	CU_ASSERT_EQUAL(mempools(), pools);
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(small, RZ_PID_SELF), -ENOENT);
	/* A ceiling without write. */
	CU_ASSERT_PTR_NULL(rz_pktmbuf_pool_create_in(POOL, ro, 256, 0, 0, ROOM));
	CU_ASSERT_EQUAL(rte_errno, EACCES);
	CU_ASSERT_EQUAL(rz_region_perms(ro), RZ_PERM_READ);
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(ro, RZ_PID_SELF), -ENOENT);
	CU_ASSERT_EQUAL(mempools(), pools);
	/* Mapped read-only by the caller. */
	CU_ASSERT_EQUAL_FATAL(rz_region_map(rw, RZ_PID_SELF, NULL, RZ_PERM_READ), 0);
	CU_ASSERT_PTR_NULL(rz_pktmbuf_pool_create_in(POOL, rw, 256, 0, 0, ROOM));
	CU_ASSERT_EQUAL(rte_errno, EACCES);
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(rw, RZ_PID_SELF), RZ_PERM_READ);
	CU_ASSERT_EQUAL(rz_region_unmap(rw, RZ_PID_SELF), 0);
	/* Arguments. */
	CU_ASSERT_PTR_NULL(rz_pktmbuf_pool_create_in(NULL, rw, 256, 0, 0, ROOM));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_PTR_NULL(rz_pktmbuf_pool_create_in(POOL, rw, 0, 0, 0, ROOM));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_PTR_NULL(rz_pktmbuf_pool_create_in(POOL, rw, 256, 0, 3, ROOM));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_PTR_NULL(rz_pktmbuf_pool_create_in(POOL, NULL, 256, 0, 0, ROOM));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_PTR_NULL(rz_pktmbuf_pool_create_in("a_name_longer_than_mempools_allow", rw,
			256, 0, 0, ROOM));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_EQUAL(mempools(), pools);
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(rw, RZ_PID_SELF), -ENOENT);
	CU_ASSERT_EQUAL(rz_region_count(), (int)regions);

	/* A pool that fits: the region's owner gets it mapped read/write by the pool. */
	mp = rz_pktmbuf_pool_create_in(POOL, rw, 1024, 32, 0, ROOM);
	CU_ASSERT_FATAL(mp != NULL);
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(rw, RZ_PID_SELF), RZ_PERM_RW);
	CU_ASSERT_PTR_EQUAL(rz_pktmbuf_pool_region(mp), rw);
	/* Name taken; region taken. */
	CU_ASSERT_PTR_NULL(rz_pktmbuf_pool_create(POOL, 64, 0, 0, ROOM, SOCKET_ID_ANY));
	CU_ASSERT_EQUAL(rte_errno, EEXIST);
	CU_ASSERT_PTR_NULL(rz_pktmbuf_pool_create_in("rzt_pkt2", rw, 64, 0, 0, ROOM));
	CU_ASSERT_EQUAL(rte_errno, EBUSY);
	CU_ASSERT_EQUAL(mempools(), pools + 1);
	CU_ASSERT_EQUAL(rz_region_count(), (int)regions);
	/* Nobody else maps the region, but the pool's mbufs are in it: its owner may neither
	 * destroy nor hand it on while the pool lives; nothing changes, the pool still works. */
	CU_ASSERT_EQUAL(rz_region_destroy(rw), -EBUSY);
	CU_ASSERT_EQUAL(rz_region_owner(rw), getpid());
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(rw, RZ_PID_SELF), RZ_PERM_RW);
	CU_ASSERT_EQUAL(rz_region_count(), (int)regions);
	m = rte_pktmbuf_alloc(mp);
	CU_ASSERT(m != NULL);
	rte_pktmbuf_free(m);

	/* Not an rzone pool. */
	plain = rte_pktmbuf_pool_create("rzt_plain", 256, 0, 0, ROOM, SOCKET_ID_ANY);
	CU_ASSERT_FATAL(plain != NULL);
	CU_ASSERT_PTR_NULL(rz_pktmbuf_pool_region(plain));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_EQUAL(rz_pktmbuf_pool_free(plain), -EINVAL);
	CU_ASSERT_PTR_EQUAL(rte_mempool_lookup("rzt_plain"), plain);
	CU_ASSERT_PTR_NULL(rz_pktmbuf_pool_attach("rzt_plain"));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_PTR_NULL(rz_pktmbuf_pool_attach("rzt_nothing"));
	CU_ASSERT_EQUAL(rte_errno, ENOENT);
	CU_ASSERT_PTR_NULL(rz_pktmbuf_pool_attach(NULL));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_EQUAL(rz_pktmbuf_pool_share(plain, 1), -EINVAL);
	CU_ASSERT_EQUAL(rz_pktmbuf_pool_share(mp, RZ_PID_SELF), -EINVAL);
	m = rte_pktmbuf_alloc(plain);
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT_EQUAL(rz_mbuf_lkey(m, &lkey), -EINVAL);
	CU_ASSERT_EQUAL(lkey, 7);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(rz_mbuf_lkey(NULL, &lkey), -EINVAL);
	/* An rzone mbuf: no RDMA device opened in this process (or no RDMA in the build). */
	m = rte_pktmbuf_alloc(mp);
	CU_ASSERT_FATAL(m != NULL);
#ifdef RZ_TEST_WITH_RDMA
	CU_ASSERT_EQUAL(rz_mbuf_lkey(m, &lkey), -ENODEV);
#else
	CU_ASSERT_EQUAL(rz_mbuf_lkey(m, &lkey), -ENOTSUP);
#endif
	CU_ASSERT_EQUAL(lkey, 7);
	CU_ASSERT_EQUAL(rz_mbuf_lkey(m, NULL), -EINVAL);
	rte_pktmbuf_free(m);
	rte_mempool_free(plain);

	/* Free refused while a secondary maps the region; the pool still works. */
	START(a);
	CU_ASSERT_EQUAL(rz_pktmbuf_pool_share(mp, a.pid), 0);
	OK(agent_cmd(&a, "pktattach %s", POOL));
	CU_ASSERT_EQUAL(rz_pktmbuf_pool_free(mp), -EBUSY);
	CU_ASSERT_PTR_EQUAL(rte_mempool_lookup(POOL), mp);
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(rw, a.pid), RZ_PERM_RW);
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(rw, RZ_PID_SELF), RZ_PERM_RW);
	m = rte_pktmbuf_alloc(mp);
	CU_ASSERT(m != NULL);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(mp), 1024);
	/* The region itself cannot go either, nor pass to the process that maps it while the
	 * pool lives here. */
	CU_ASSERT_EQUAL(rz_region_destroy(rw), -EBUSY);
	CU_ASSERT_EQUAL(rz_region_transfer_ownership(rw, a.pid), -EBUSY);
	CU_ASSERT_EQUAL(rz_region_owner(rw), getpid());
	OK(agent_cmd(&a, "pktdetach %s", POOL));
	/* Free: the region stays (it is not the pool's), unmapped from the caller again. */
	CU_ASSERT_EQUAL(rz_pktmbuf_pool_free(mp), 0);
	CU_ASSERT_PTR_NULL(rte_mempool_lookup(POOL));
	ERR(agent_cmd(&a, "pktattach %s", POOL), ENOENT);
	agent_stop(&a);
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(rw, RZ_PID_SELF), -ENOENT);
	CU_ASSERT_EQUAL(rz_region_count(), (int)regions);
	CU_ASSERT_EQUAL(mempools(), pools);

	/* A region of exactly rz_pktmbuf_pool_region_size() (rounded to pages) is enough. */
	CU_ASSERT_EQUAL(rz_pktmbuf_pool_region_size(0, 0, ROOM), 0);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT(rz_pktmbuf_pool_region_size(NMBUF, 0, ROOM) > (size_t)NMBUF * ROOM);
	exact = rz_region_create(RZ_PID_SELF, rz_pktmbuf_pool_region_size(3000, 64, ROOM),
			RZ_PERM_RW);
	CU_ASSERT_FATAL(exact != NULL);
	mp2 = rz_pktmbuf_pool_create_in("rzt_pkt2", exact, 3000, 0, 64, ROOM);
	CU_ASSERT(mp2 != NULL);
	CU_ASSERT(mp2 != NULL && rte_pktmbuf_priv_size(mp2) == 64 && mp2->size == 3000);
	CU_ASSERT_EQUAL(rz_pktmbuf_pool_free(mp2), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(exact), 0);

	CU_ASSERT_EQUAL(rz_region_destroy(small), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(ro), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(rw), 0);
}

/* Two creators race for one region (rz_pktmbuf_pool_create_in(), two threads released
 * together, 20 rounds): one pool each round, the other gets -EBUSY; never two pools over the
 * same memory. Freeing the pool releases the region for the next round. */
struct racer {
	struct rz_region *r;
	const char *name;
	volatile uint32_t *go;
	struct rte_mempool *mp;
	int err;
};

static void *
race_create(void *arg)
{
	struct racer *rc = arg;

	while (__atomic_load_n(rc->go, __ATOMIC_ACQUIRE) == 0)
		rte_pause();
	rc->mp = rz_pktmbuf_pool_create_in(rc->name, rc->r, 512, 0, 0, ROOM);
	rc->err = rc->mp == NULL ? rte_errno : 0;
	return NULL;
}

static void
test_create_in_race(void)
{
	struct rz_region *r = rz_region_create(RZ_PID_SELF, rz_pktmbuf_pool_region_size(512, 0,
			ROOM), RZ_PERM_RW);
	unsigned int pools = mempools(), round, one = 0, busy = 0, other = 0;

	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL_FATAL(rz_region_map(r, RZ_PID_SELF, NULL, RZ_PERM_RW), 0);
	for (round = 0; round < 20; round++) {
		volatile uint32_t go = 0;
		struct racer rc[2] = {
			{ .r = r, .name = "rzt_race_a", .go = &go },
			{ .r = r, .name = "rzt_race_b", .go = &go },
		};
		pthread_t th[2];
		int i, made = 0;

		for (i = 0; i < 2; i++)
			CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, race_create, &rc[i]), 0);
		__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
		for (i = 0; i < 2; i++)
			pthread_join(th[i], NULL);
		for (i = 0; i < 2; i++) {
			made += rc[i].mp != NULL;
			busy += rc[i].mp == NULL && rc[i].err == EBUSY;
			other += rc[i].mp == NULL && rc[i].err != EBUSY;
		}
		one += made == 1;
		CU_ASSERT_EQUAL(mempools(), pools + (unsigned int)made);
		for (i = 0; i < 2; i++)
			if (rc[i].mp != NULL)
				CU_ASSERT_EQUAL(rz_pktmbuf_pool_free(rc[i].mp), 0);
	}
	printf("\n  20 rounds: one pool in %u, the other creator -EBUSY %u times, another error "
			"%u times\n", one, busy, other);
	CU_ASSERT_EQUAL(one, 20);
	CU_ASSERT_EQUAL(busy, 20);
	CU_ASSERT_EQUAL(other, 0);
	CU_ASSERT_EQUAL(mempools(), pools);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

static const struct rz_test_case cases[] = {
	{ "pool in a region, shared with a secondary", test_pool_in_region },
	{ "two creators race for one region", test_create_in_race },
	{ "primary <-> secondary handoff, multi-segment", test_handoff },
	{ "bad input changes nothing", test_bad_input },
	{ NULL, NULL },
};

int
main(int argc, char **argv)
{
	RTE_SET_USED(argc);
	if (rz_test_start(argv[0], "pkt", harness_prefix, sizeof(harness_prefix)) < 0)
		return 1;
	return rz_test_finish("pkt", cases);
}
