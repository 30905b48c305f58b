/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * Packet commands of rz-test-agent (include/rzone_pkt.h), one answer line each:
 *
 *   pktattach NAME | pktdetach NAME | pktfree NAME | pktavail NAME (free mbufs)
 *   pktlkey NAME (rz_mbuf_lkey() of one mbuf of the pool)
 *   pktrecv RING N MS: take N packets from the ring within MS ms, check each byte for byte
 *     (tests/mp/pkt_pattern.h) and in order, free them back to their pool: "ok <good> <bad>
 *     <out of order> <multi-segment> <segments>"
 *   pktsend RING POOL N BASE: packets BASE..BASE+N-1 from the pool into the ring: "ok <sent>"
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include "agent_pkt.h"
#include "pkt_pattern.h"
#include "rzone_pkt.h"

static uint64_t
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
pkt_recv(const char *ring, unsigned int n, unsigned int ms)
{
	struct rte_ring *rg = rte_ring_lookup(ring);
	unsigned int got = 0, good = 0, bad = 0, order = 0, multi = 0, segs = 0;
	uint32_t next = UINT32_MAX;
	uint64_t t0 = ms_now();
	void *burst[32];

	if (rg == NULL) {
		printf("err %d\n", ENOENT);
		return;
	}
	while (got < n && ms_now() - t0 < ms) {
		unsigned int i, k = rte_ring_dequeue_burst(rg, burst,
				RTE_MIN(32u, n - got), NULL);

		if (k == 0) {
			rte_pause();
			continue;
		}
		for (i = 0; i < k; i++) {
			struct rte_mbuf *m = burst[i];
			uint32_t seq;

			if (pkt_check(m, &seq) == 0) {
				good++;
				if (next != UINT32_MAX && seq != next)
					order++;
				next = seq + 1;
			} else {
				bad++;
			}
			segs += m->nb_segs;
			multi += m->nb_segs > 1;
			rte_pktmbuf_free(m);
		}
		got += k;
	}
	printf("ok %u %u %u %u %u\n", good, bad, order, multi, segs);
}

static void
pkt_send(const char *ring, const char *pool, unsigned int n, uint32_t base)
{
	struct rte_ring *rg = rte_ring_lookup(ring);
	struct rte_mempool *mp = rz_pktmbuf_pool_attach(pool);
	uint64_t t0 = ms_now();
	unsigned int sent = 0;

	if (rg == NULL || mp == NULL) {
		printf("err %d\n", rg == NULL ? ENOENT : rte_errno);
		return;
	}
	while (sent < n && ms_now() - t0 < 20000) {
		struct rte_mbuf *m = pkt_make(mp, base + sent);

		if (m == NULL) {
			rte_pause();
			continue;
		}
		while (rte_ring_enqueue(rg, m) != 0 && ms_now() - t0 < 20000)
			rte_pause();
		sent++;
	}
	printf("ok %u\n", sent);
}

int
agent_pkt_command(int argc, char **argv)
{
	struct rte_mempool *mp;

	if (!strcmp(argv[0], "pktattach") && argc >= 2) {
		mp = rz_pktmbuf_pool_attach(argv[1]);
		printf(mp == NULL ? "err %d\n" : "ok %d\n", mp == NULL ? rte_errno : 0);
	} else if (!strcmp(argv[0], "pktdetach") && argc >= 2) {
		int ret = rz_pktmbuf_pool_detach(rte_mempool_lookup(argv[1]));

		printf(ret < 0 ? "err %d\n" : "ok %d\n", ret < 0 ? -ret : ret);
	} else if (!strcmp(argv[0], "pktfree") && argc >= 2) {
		int ret = rz_pktmbuf_pool_free(rte_mempool_lookup(argv[1]));

		printf(ret < 0 ? "err %d\n" : "ok %d\n", ret < 0 ? -ret : ret);
	} else if (!strcmp(argv[0], "pktavail") && argc >= 2) {
		mp = rte_mempool_lookup(argv[1]);
		if (mp == NULL)
			printf("err %d\n", ENOENT);
		else
			printf("ok %u\n", rte_mempool_avail_count(mp));
	} else if (!strcmp(argv[0], "pktlkey") && argc >= 2) {
		struct rte_mbuf *m;
		uint32_t lkey = 0;
		int ret;

		mp = rte_mempool_lookup(argv[1]);
		m = mp == NULL ? NULL : rte_pktmbuf_alloc(mp);
		ret = m == NULL ? -ENOENT : rz_mbuf_lkey(m, &lkey);
		rte_pktmbuf_free(m);
		printf(ret < 0 ? "err %d\n" : "ok %u\n", ret < 0 ? -ret : (int)lkey);
	} else if (!strcmp(argv[0], "pktrecv") && argc >= 4) {
		pkt_recv(argv[1], (unsigned int)strtoul(argv[2], NULL, 0),
				(unsigned int)strtoul(argv[3], NULL, 0));
	} else if (!strcmp(argv[0], "pktsend") && argc >= 5) {
		pkt_send(argv[1], argv[2], (unsigned int)strtoul(argv[3], NULL, 0),
				(uint32_t)strtoul(argv[4], NULL, 0));
	} else {
		return 0;
	}
	return 1;
}
