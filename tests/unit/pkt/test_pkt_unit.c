/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * The sizing of packet pools (rz_pktmbuf_pool_region_size() and the capacity check of
 * rz_pktmbuf_pool_create_in()) against what DPDK's populate really lays out: a region of one
 * hugepage holds exactly floor(page / object) mbufs (one more is refused up front with
 * -ENOSPC, the exact count is built by DPDK without a shortfall), and a region of
 * rz_pktmbuf_pool_region_size() always holds the pool, for several shapes.
 */

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "rz_test.h"
#include "rzone.h"
#include "rzone_pkt.h"

#define PAGE (2u * 1024 * 1024)

static uint32_t
obj_total(uint16_t priv, uint16_t room)
{
	struct rte_mempool_objsz sz;

	return rte_mempool_calc_obj_size((uint32_t)sizeof(struct rte_mbuf) + priv + room, 0,
			&sz);
}

static void
test_one_page_exact(void)
{
	static const uint16_t rooms[] = { 256, RTE_MBUF_DEFAULT_BUF_SIZE, 9216 + 128, 16384 };
	unsigned int i;

	for (i = 0; i < RTE_DIM(rooms); i++) {
		struct rz_region *r = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
		struct rz_iova_chunk c[4];
		unsigned int cap = PAGE / obj_total(0, rooms[i]);
		struct rte_mempool *mp;

		CU_ASSERT_FATAL(r != NULL);
		/* One IOVA chunk (a 2 MiB page is contiguous): the capacity is exact. */
		CU_ASSERT_EQUAL_FATAL(rz_region_iova_chunks(r, c, RTE_DIM(c)), 1);
		mp = rz_pktmbuf_pool_create_in("rzt_u", r, cap + 1, 0, 0, rooms[i]);
		CU_ASSERT_PTR_NULL(mp);
		CU_ASSERT_EQUAL(rte_errno, ENOSPC);
		CU_ASSERT_PTR_NULL(rte_mempool_lookup("rzt_u"));
		mp = rz_pktmbuf_pool_create_in("rzt_u", r, cap, 0, 0, rooms[i]);
		CU_ASSERT_FATAL(mp != NULL);
		CU_ASSERT_EQUAL(mp->populated_size, cap);
		CU_ASSERT_EQUAL(rte_mempool_avail_count(mp), cap);
		CU_ASSERT_EQUAL(rte_pktmbuf_data_room_size(mp), rooms[i]);
		printf("\n  data room %5u: %u mbufs of %u bytes in one page", rooms[i], cap,
				obj_total(0, rooms[i]));
		CU_ASSERT_EQUAL(rz_pktmbuf_pool_free(mp), 0);
		CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
	}
	printf("\n");
}

static void
test_region_size_is_enough(void)
{
	static const struct { unsigned int n; uint16_t priv, room; } shapes[] = {
		{ 1, 0, RTE_MBUF_DEFAULT_BUF_SIZE },
		{ 885, 0, RTE_MBUF_DEFAULT_BUF_SIZE },	/* one page, full */
		{ 886, 0, RTE_MBUF_DEFAULT_BUF_SIZE },	/* one object into the next page */
		{ 5000, 64, RTE_MBUF_DEFAULT_BUF_SIZE },
		{ 3000, 0, 9216 + 128 },
		{ 20000, 0, 512 },
	};
	unsigned int i;

	for (i = 0; i < RTE_DIM(shapes); i++) {
		size_t size = rz_pktmbuf_pool_region_size(shapes[i].n, shapes[i].priv,
				shapes[i].room);
		struct rz_region *r;
		struct rte_mempool *mp;

		CU_ASSERT_FATAL(size >= (size_t)shapes[i].n * obj_total(shapes[i].priv,
				shapes[i].room));
		r = rz_region_create(RZ_PID_SELF, size, RZ_PERM_RW);
		CU_ASSERT_FATAL(r != NULL);
		mp = rz_pktmbuf_pool_create_in("rzt_u", r, shapes[i].n, 0, shapes[i].priv,
				shapes[i].room);
		CU_ASSERT(mp != NULL);
		if (mp != NULL) {
			CU_ASSERT_EQUAL(mp->populated_size, shapes[i].n);
			CU_ASSERT_EQUAL(rte_pktmbuf_priv_size(mp), shapes[i].priv);
			CU_ASSERT_EQUAL(rz_pktmbuf_pool_free(mp), 0);
		}
		CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
	}
	/* Arguments rz_pktmbuf_pool_region_size() refuses. */
	CU_ASSERT_EQUAL(rz_pktmbuf_pool_region_size(0, 0, 2048), 0);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
}

static const struct rz_test_case cases[] = {
	{ "one page holds exactly floor(page / object)", test_one_page_exact },
	{ "rz_pktmbuf_pool_region_size() is enough", test_region_size_is_enough },
	{ NULL, NULL },
};

int
main(int argc, char **argv)
{
	char prefix[96];

	RTE_SET_USED(argc);
	if (rz_test_start(argv[0], "pktunit", prefix, sizeof(prefix)) < 0)
		return 1;
	return rz_test_finish("pkt", cases);
}
