/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * rz_mbuf_lkey() on a real RDMA device (Soft-RoCE in the VM lane when the host has none):
 * every mbuf of an rzone pool, every segment of a chain and an indirect mbuf give the key of the
 * MR rzone registered for the pool's region (rz_rdma_region_lkey()); a pool freed and another
 * made in the same region slot gets the new region's key, not the stale one; mbufs of other
 * pools are refused; rz_rdma_fini() forgets the recorded keys.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

#include "rz_test.h"
#include "rzone.h"
#include "rzone_pkt.h"
#include "rzone_rdma.h"

#define ROOM RTE_MBUF_DEFAULT_BUF_SIZE

static void
test_lkeys(void)
{
	struct rte_mempool *mp = rz_pktmbuf_pool_create("rzt_lk", 2048, 0, 0, ROOM, SOCKET_ID_ANY);
	struct rte_mempool *plain = rte_pktmbuf_pool_create("rzt_lk_plain", 256, 0, 0, ROOM,
			SOCKET_ID_ANY);
	struct rte_mbuf *m[512], *chain, *seg, *clone;
	uint32_t want = 0, k, bad = 0;
	unsigned int i;

	CU_ASSERT_FATAL(mp != NULL && plain != NULL);
	CU_ASSERT_EQUAL_FATAL(rz_rdma_region_lkey(rz_pktmbuf_pool_region(mp), &want), 0);
	CU_ASSERT_EQUAL(rz_pktmbuf_pool_rdma_register(mp), 0);
	CU_ASSERT_FATAL(rte_pktmbuf_alloc_bulk(mp, m, RTE_DIM(m)) == 0);
	for (i = 0; i < RTE_DIM(m); i++) {
		k = ~want;
		if (rz_mbuf_lkey(m[i], &k) != 0 || k != want)
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	printf("\n  %zu mbufs: lkey 0x%x, the region's MR's\n", RTE_DIM(m), want);
	/* A chain: each segment. */
	chain = m[0];
	for (i = 1; i < 5; i++)
		CU_ASSERT_EQUAL(rte_pktmbuf_chain(chain, m[i]), 0);
	for (seg = chain; seg != NULL; seg = seg->next) {
		k = ~want;
		CU_ASSERT(rz_mbuf_lkey(seg, &k) == 0 && k == want);
	}
	/* An indirect mbuf (from a plain pool) points into the rzone mbuf: the rzone key. */
	clone = rte_pktmbuf_clone(m[10], plain);
	CU_ASSERT_FATAL(clone != NULL);
	CU_ASSERT(RTE_MBUF_CLONED(clone) != 0);
	k = ~want;
	CU_ASSERT(rz_mbuf_lkey(clone, &k) == 0 && k == want);
	rte_pktmbuf_free(clone);
	/* A plain mbuf: refused, key untouched. */
	clone = rte_pktmbuf_alloc(plain);
	k = 7;
	CU_ASSERT_EQUAL(rz_mbuf_lkey(clone, &k), -EINVAL);
	CU_ASSERT_EQUAL(k, 7);
	rte_pktmbuf_free(clone);
	rte_pktmbuf_free(chain);
	rte_pktmbuf_free_bulk(m + 5, RTE_DIM(m) - 5);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(mp), 2048);
	rte_mempool_free(plain);
	CU_ASSERT_EQUAL(rz_pktmbuf_pool_free(mp), 0);
}

/* Pools come and go: a region slot used again by another region never gives the old key. */
static void
test_slot_reuse(void)
{
	uint64_t first_id = 0;
	unsigned int round, reused = 0;

	for (round = 0; round < 4; round++) {
		struct rz_region *r = rz_region_create(RZ_PID_SELF, (round + 1) * (8u << 20),
				RZ_PERM_RW);
		struct rte_mempool *mp;
		struct rte_mbuf *m;
		uint32_t want = 0, k = 0;

		CU_ASSERT_FATAL(r != NULL);
		if (round == 0)
			first_id = rz_region_id(r);
		else
			reused += (rz_region_id(r) & 0xffff) == (first_id & 0xffff);
		mp = rz_pktmbuf_pool_create_in("rzt_lk_re", r, 1024, 0, 0, ROOM);
		CU_ASSERT_FATAL(mp != NULL);
		m = rte_pktmbuf_alloc(mp);
		CU_ASSERT_FATAL(m != NULL);
		CU_ASSERT_EQUAL(rz_rdma_region_lkey(r, &want), 0);
		CU_ASSERT(rz_mbuf_lkey(m, &k) == 0 && k == want);
		rte_pktmbuf_free(m);
		CU_ASSERT_EQUAL(rz_pktmbuf_pool_free(mp), 0);
		CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
	}
	printf("\n  region slot 0x%x used again %u times\n", (unsigned int)(first_id & 0xffff),
			reused);
	CU_ASSERT(reused > 0);
}

/* rz_rdma_fini() deregisters every MR: the keys recorded for rz_mbuf_lkey() go with them
 * (-ENODEV until RDMA is up again, never the stale key); after rz_rdma_init() the pool's mbufs
 * give the key of the new registration. */
static void
test_fini_forgets(void)
{
	struct rte_mempool *mp = rz_pktmbuf_pool_create("rzt_lk_fini", 1024, 0, 0, ROOM,
			SOCKET_ID_ANY);
	uint32_t before = 0, after = 0, k;
	struct rte_mbuf *m;

	CU_ASSERT_FATAL(mp != NULL);
	m = rte_pktmbuf_alloc(mp);
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT_EQUAL(rz_pktmbuf_pool_rdma_register(mp), 0);
	CU_ASSERT_EQUAL(rz_rdma_region_lkey(rz_pktmbuf_pool_region(mp), &before), 0);
	CU_ASSERT(rz_mbuf_lkey(m, &k) == 0 && k == before);
	CU_ASSERT_EQUAL_FATAL(rz_rdma_fini(), 0);
	k = 7;
	CU_ASSERT_EQUAL(rz_mbuf_lkey(m, &k), -ENODEV);
	CU_ASSERT_EQUAL(k, 7);
	CU_ASSERT_EQUAL_FATAL(rz_rdma_init(NULL), 0);
	CU_ASSERT_EQUAL(rz_rdma_region_lkey(rz_pktmbuf_pool_region(mp), &after), 0);
	k = ~after;
	CU_ASSERT(rz_mbuf_lkey(m, &k) == 0 && k == after);
	printf("\n  lkey 0x%x before rz_rdma_fini(), -ENODEV after it, 0x%x after a new "
			"rz_rdma_init()\n", before, after);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(rz_pktmbuf_pool_free(mp), 0);
}

static const struct rz_test_case cases[] = {
	{ "lkeys of mbufs, segments, indirect mbufs", test_lkeys },
	{ "a reused region slot gives the new key", test_slot_reuse },
	{ "rz_rdma_fini() forgets the recorded keys", test_fini_forgets },
	{ NULL, NULL },
};

int
main(int argc, char **argv)
{
	char prefix[96];
	char *eal[] = { argv[0], "--no-pci", "-l", "0", "--log-level=lib.rzone:notice",
		RZ_TEST_BASE_VA, prefix, NULL };
	unsigned int failed;
	int ret;

	RTE_SET_USED(argc);
	setvbuf(stdout, NULL, _IONBF, 0);
	snprintf(prefix, sizeof(prefix), "--file-prefix=rzt-pktlk-%d", (int)getpid());
	if (rte_eal_init(RTE_DIM(eal) - 1, eal) < 0) {
		fprintf(stderr, "FAIL: rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	if (rz_init() != 0) {
		fprintf(stderr, "FAIL: rz_init\n");
		return 1;
	}
	ret = rz_rdma_init(NULL);
	if (ret != 0) {
		fprintf(stderr, "FAIL: rz_rdma_init: %s (no RDMA device?)\n", strerror(-ret));
		return 1;
	}
	failed = rz_test_run("pkt-lkey", cases);
	failed += rz_test_no_leaks();
	rz_rdma_fini();
	rz_fini();
	rte_eal_cleanup();
	return failed != 0;
}
