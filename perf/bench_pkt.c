/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * rz-bench-pkt: packets/s of a primary -> secondary handoff, three ways, in the same run:
 *
 *   rzone  mbufs of an rzone pool (rz_pktmbuf_pool_create()), their pointers through an
 *          rte_ring (single producer, single consumer), freed by the secondary;
 *   plain  the same with a plain DPDK pool (rte_pktmbuf_pool_create()): the baseline;
 *   memif  net_memif between the same two processes: the primary sends on a zero-copy client
 *          port (its mbufs are the shared memory), the secondary receives on the server port
 *          (which copies into its own mbufs: memif's zero-copy is one-sided), and frees.
 *
 * The producer allocates a burst, writes each packet's sequence number into its first bytes
 * and sets its length (64, 512, 1500 bytes); the consumer reads the sequence number back (a
 * wrong one is counted and reported) and frees the burst. Rounds of N packets alternate the
 * three ways; each way's figure is the median of its rounds; the ratio rzone / plain is the
 * median of the per-round ratios (both sides see the same machine). The benchmark starts its
 * secondary itself (this program with --proc-type=secondary and "-- --secondary").
 */

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>
#include <rte_pause.h>
#include <rte_ring.h>
#include <sched.h>

#include <rzone.h>
#include <rzone_pkt.h>

#include "bench_common.h"

#define NMBUF		16384u
#define BURST		32u
#define RING_SLOTS	1024u
#define ROUNDS		11u
#define NPKT		2000000u
#define CTL_MZ		"rzb_pkt_ctl"
#define MEMIF_SOCK	"/tmp/rz-bench-pkt-%d.sock"

enum way { WAY_RZONE, WAY_PLAIN, WAY_MEMIF, NWAYS };
static const char *const way_name[NWAYS] = { "rzone", "plain", "memif" };

/* Shared between the two processes (a memzone). */
struct ctl {
	volatile uint32_t cmd;		/* round number the secondary should run; 0: none */
	volatile uint32_t quit;
	uint32_t way;
	uint32_t n;
	struct rte_ring *ring;		/* same address in both processes */
	uint16_t memif_rx_port;
	volatile uint32_t done;		/* round number the secondary finished */
	volatile uint64_t consumed;
	uint64_t bad;
	volatile uint32_t ready;
};

static struct ctl *ctl;
static bool memif_zc = true;	/* the client port got zero-copy=yes */

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int
secondary_main(void)
{
	const struct rte_memzone *mz = rte_memzone_lookup(CTL_MZ);
	uint32_t seen = 0;

	if (mz == NULL || rz_init() != 0)
		return 1;
	ctl = mz->addr;
	__atomic_store_n(&ctl->ready, 1, __ATOMIC_RELEASE);
	while (!ctl->quit) {
		uint32_t cmd = __atomic_load_n(&ctl->cmd, __ATOMIC_ACQUIRE);
		struct rte_mbuf *m[BURST];
		uint64_t got = 0, bad = 0, next = 0, idle = 0;

		if (cmd == seen) {
			rte_pause();
			continue;
		}
		seen = cmd;
		while (got < ctl->n) {
			unsigned int k, i;

			if (ctl->way == WAY_MEMIF)
				k = rte_eth_rx_burst(ctl->memif_rx_port, 0, m, BURST);
			else
				k = rte_ring_dequeue_burst(ctl->ring, (void **)m, BURST, NULL);
			for (i = 0; i < k; i++) {
				bad += *rte_pktmbuf_mtod(m[i], const uint64_t *) != next;
				next++;
			}
			if (k > 0)
				rte_pktmbuf_free_bulk(m, k);
			else if (++idle % 256 == 0)
				sched_yield();	/* the producer may share our CPU */
			got += k;
			/* Quit, or the primary gave up on this round and started another. */
			if (ctl->quit || __atomic_load_n(&ctl->cmd, __ATOMIC_ACQUIRE) != cmd)
				break;
		}
		ctl->bad += bad;
		__atomic_store_n(&ctl->consumed, got, __ATOMIC_RELEASE);
		__atomic_store_n(&ctl->done, cmd, __ATOMIC_RELEASE);
	}
	rz_fini();
	rte_eal_cleanup();
	return 0;
}

/* One round: N packets of @len from @mp, through the ring or memif tx port. ns, or 0. */
static uint64_t
round_run(enum way w, struct rte_mempool *mp, struct rte_ring *ring, uint16_t tx_port,
		uint32_t len, uint32_t round)
{
	struct rte_mbuf *m[BURST];
	uint64_t t0, sent = 0, deadline, full = 0;

	ctl->way = w;
	ctl->n = NPKT;
	ctl->ring = ring;
	__atomic_store_n(&ctl->cmd, round, __ATOMIC_RELEASE);
	t0 = now_ns();
	deadline = t0 + 60000000000ull;
	while (sent < NPKT) {
		unsigned int i, k = 0;

		if (rte_pktmbuf_alloc_bulk(mp, m, BURST) != 0) {
			/* A zero-copy memif client frees what the server took on its next
			 * transmit only: let it. */
			if (w == WAY_MEMIF)
				rte_eth_tx_burst(tx_port, 0, m, 0);
			if (now_ns() > deadline)
				return 0;
			continue;
		}
		for (i = 0; i < BURST; i++) {
			m[i]->data_len = (uint16_t)len;
			m[i]->pkt_len = len;
			*rte_pktmbuf_mtod(m[i], uint64_t *) = sent + i;
		}
		while (k < BURST) {
			if (w == WAY_MEMIF)
				k += rte_eth_tx_burst(tx_port, 0, m + k, (uint16_t)(BURST - k));
			else
				k += rte_ring_enqueue_burst(ring, (void **)m + k, BURST - k, NULL);
			if (k < BURST && ++full % 256 == 0) {
				if (now_ns() > deadline)
					return 0;
				sched_yield();	/* the consumer may share our CPU */
			}
		}
		sent += BURST;
	}
	while (__atomic_load_n(&ctl->done, __ATOMIC_ACQUIRE) != round)
		if (now_ns() > deadline)
			return 0;
	return now_ns() - t0;
}

/* "--lcores=ID@CPU" for the secondary: an lcore id the primary does not use (a mempool's
 * per-lcore caches are shared by the processes, indexed by lcore id), on the CPU after the
 * main lcore's if there is one. */
static void
secondary_lcores(char *buf, size_t len)
{
	unsigned int id = 0, cpu = rte_lcore_to_cpu_id((int)rte_get_main_lcore());
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	while (id < RTE_MAX_LCORE - 1 && rte_lcore_is_enabled(id))
		id++;
	if (ncpu > 1)
		cpu = (cpu + 1) % (unsigned int)ncpu;
	snprintf(buf, len, "--lcores=%u@%u", id, cpu);
}

static pid_t
spawn_secondary(void)
{
	const char *dir = rte_eal_get_runtime_dir();
	const char *prefix = strrchr(dir, '/');
	char prefix_arg[300], lcore_arg[48];
	char *argv[12];
	int n = 0;
	pid_t pid;

	snprintf(prefix_arg, sizeof(prefix_arg), "--file-prefix=%s",
			prefix != NULL ? prefix + 1 : dir);
	secondary_lcores(lcore_arg, sizeof(lcore_arg));
	argv[n++] = (char *)(uintptr_t)"rz-bench-pkt";
	argv[n++] = (char *)(uintptr_t)"--proc-type=secondary";
	argv[n++] = prefix_arg;
	argv[n++] = (char *)(uintptr_t)"--no-pci";
	argv[n++] = lcore_arg;
	argv[n++] = (char *)(uintptr_t)"--log-level=lib.eal:notice";
	argv[n++] = (char *)(uintptr_t)"--";
	argv[n++] = (char *)(uintptr_t)"--secondary";
	argv[n] = NULL;
	printf("secondary: %s\n", lcore_arg);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close_range(3, ~0u, 0);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	return pid;
}

/* Two memif ports of this primary on one socket: a zero-copy client (tx, its mbufs from
 * @zc_pool) and a server (rx into @rx_pool, used by the secondary). 0 once the link is up. */
static int
memif_setup(struct rte_mempool *zc_pool, struct rte_mempool *rx_pool, uint16_t *tx,
		uint16_t *rx, char *why, size_t len)
{
	char sock[64], args[160];
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_link link;
	uint64_t t0;
	int ret;

	snprintf(sock, sizeof(sock), MEMIF_SOCK, (int)getpid());
	snprintf(args, sizeof(args), "role=server,id=0,socket=%s", sock);
	ret = rte_eal_hotplug_add("vdev", "net_memif0", args);
	if (ret == 0) {
		snprintf(args, sizeof(args), "role=client,id=0,socket=%s,zero-copy=yes", sock);
		ret = rte_eal_hotplug_add("vdev", "net_memif1", args);
		if (ret != 0) {
			/* memif's zero-copy needs the EAL's --single-file-segments. */
			snprintf(args, sizeof(args), "role=client,id=0,socket=%s", sock);
			ret = rte_eal_hotplug_add("vdev", "net_memif1", args);
			memif_zc = false;
		}
	}
	if (ret == 0)
		ret = rte_eth_dev_get_port_by_name("net_memif0", rx);
	if (ret == 0)
		ret = rte_eth_dev_get_port_by_name("net_memif1", tx);
	if (ret != 0) {
		snprintf(why, len, "net_memif vdevs: %s", rte_strerror(-ret));
		return -1;
	}
	ret = rte_eth_dev_configure(*rx, 1, 1, &conf);
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(*rx, 0, RING_SLOTS, SOCKET_ID_ANY, NULL, rx_pool);
	if (ret == 0)
		ret = rte_eth_tx_queue_setup(*rx, 0, RING_SLOTS, SOCKET_ID_ANY, NULL);
	if (ret == 0)
		ret = rte_eth_dev_configure(*tx, 1, 1, &conf);
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(*tx, 0, RING_SLOTS, SOCKET_ID_ANY, NULL, zc_pool);
	if (ret == 0)
		ret = rte_eth_tx_queue_setup(*tx, 0, RING_SLOTS, SOCKET_ID_ANY, NULL);
	if (ret == 0)
		ret = rte_eth_dev_start(*rx);
	if (ret == 0)
		ret = rte_eth_dev_start(*tx);
	if (ret != 0) {
		snprintf(why, len, "memif port setup: %s", rte_strerror(-ret));
		return -1;
	}
	t0 = now_ns();
	do {
		memset(&link, 0, sizeof(link));
		rte_eth_link_get_nowait(*tx, &link);
		if (link.link_status == RTE_ETH_LINK_UP)
			return 0;
		usleep(10000);
	} while (now_ns() - t0 < 5000000000ull);
	snprintf(why, len, "memif link did not come up within 5 s");
	return -1;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n == 0 ? NAN : (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
}

static int
primary_main(void)
{
	static const uint32_t sizes[] = { 64, 512, 1500 };
	const struct rte_memzone *mz;
	struct rte_mempool *pool[NWAYS] = { NULL }, *memif_rx_pool;
	struct rte_ring *ring;
	uint16_t memif_tx = 0, memif_rx = 0;
	bool memif_ok;
	char why[160] = "";
	uint32_t round = 0;
	unsigned int s, i, w;
	int status, rc = 0;
	pid_t child;

	bc_print_platform("rz-bench-pkt: primary -> secondary packet handoff", 0);
	mz = rte_memzone_reserve(CTL_MZ, sizeof(struct ctl), SOCKET_ID_ANY, 0);
	if (mz == NULL) {
		printf("could not run: memzone: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	ctl = mz->addr;
	memset(ctl, 0, sizeof(*ctl));
	pool[WAY_RZONE] = rz_pktmbuf_pool_create("rzb_rz", NMBUF, 256, 0,
			RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	pool[WAY_PLAIN] = rte_pktmbuf_pool_create("rzb_plain", NMBUF, 256, 0,
			RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	pool[WAY_MEMIF] = rte_pktmbuf_pool_create("rzb_memif_zc", NMBUF, 256, 0,
			RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	memif_rx_pool = rte_pktmbuf_pool_create("rzb_memif_rx", NMBUF, 256, 0,
			RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	ring = rte_ring_create("rzb_ring", RING_SLOTS, (int)rte_socket_id(),
			RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (pool[WAY_RZONE] == NULL || pool[WAY_PLAIN] == NULL || pool[WAY_MEMIF] == NULL ||
			memif_rx_pool == NULL || ring == NULL) {
		printf("could not run: pools or ring: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	memif_ok = memif_setup(pool[WAY_MEMIF], memif_rx_pool, &memif_tx, &memif_rx, why,
			sizeof(why)) == 0;
	ctl->memif_rx_port = memif_rx;
	child = spawn_secondary();
	{
		uint64_t t0 = now_ns();

		while ((!ctl->ready || rz_process_attached(child) != 1) &&
				now_ns() - t0 < 10000000000ull)
			usleep(1000);
	}
	if (!ctl->ready || rz_pktmbuf_pool_share(pool[WAY_RZONE], child) != 0) {
		printf("could not run: the secondary did not attach\n");
		kill(child, SIGKILL);
		waitpid(child, &status, 0);
		return 1;
	}
	printf("pools: %u mbufs of %u bytes each; rzone's in region %#" PRIx64 " (node %d); "
			"ring %u slots, SP/SC; bursts of %u; %u rounds of %u packets a way and "
			"size\n",
			NMBUF, (unsigned int)RTE_MBUF_DEFAULT_BUF_SIZE,
			rz_region_id(rz_pktmbuf_pool_region(pool[WAY_RZONE])),
			rz_region_numa_node(rz_pktmbuf_pool_region(pool[WAY_RZONE])),
			RING_SLOTS, BURST, ROUNDS, NPKT);
	printf("processes: primary lcore %u, secondary pid %d; memif: %s%s\n",
			rte_get_main_lcore(), (int)child, memif_ok ? "net_memif0 (server, rx in "
			"the secondary) <- net_memif1 (client, tx in the primary), " : why,
			!memif_ok ? "" : memif_zc ? "zero-copy=yes" : "copy mode (zero-copy=yes "
			"needs --single-file-segments)");
	printf("\nmedian: of the rounds (ratios: median of the per-round ratios); best round: the\n"
			"fastest round of each way (the one the machine disturbed least)\n");
	printf("%6s  %12s  %12s  %12s  %14s  %14s\n", "bytes", "rzone Mpps", "plain Mpps",
			"memif Mpps", "rzone/plain", "rzone/memif");
	for (s = 0; s < RTE_DIM(sizes); s++) {
		double mpps[NWAYS][ROUNDS], ratio[ROUNDS], ratio_m[ROUNDS], med[NWAYS];
		double best[NWAYS];
		unsigned int nm = 0;

		for (i = 0; i < ROUNDS; i++) {
			for (w = 0; w < NWAYS; w++) {
				/* Rotate the order, round by round. */
				enum way way = (enum way)((w + i) % NWAYS);
				uint64_t ns;

				if (way == WAY_MEMIF && !memif_ok) {
					mpps[way][i] = NAN;
					continue;
				}
				ns = round_run(way, pool[way], ring, memif_tx, sizes[s], ++round);
				mpps[way][i] = ns == 0 ? NAN : NPKT * 1e3 / (double)ns;
				if (ns == 0) {
					printf("%s round timed out\n", way_name[way]);
					if (way == WAY_MEMIF) {
						memif_ok = false;
						snprintf(why, sizeof(why), "a memif round "
								"timed out");
					} else {
						rc = 1;
						goto out;
					}
				}
			}
			ratio[i] = mpps[WAY_RZONE][i] / mpps[WAY_PLAIN][i];
			if (memif_ok && !isnan(mpps[WAY_MEMIF][i]))
				ratio_m[nm++] = mpps[WAY_RZONE][i] / mpps[WAY_MEMIF][i];
		}
		for (w = 0; w < NWAYS; w++) {
			unsigned int k = 0;
			double v[ROUNDS];

			for (i = 0; i < ROUNDS; i++)
				if (!isnan(mpps[w][i]))
					v[k++] = mpps[w][i];
			med[w] = median(v, k);
			best[w] = k == 0 ? NAN : v[k - 1];	/* sorted by median() */
		}
		{
			double r = median(ratio, ROUNDS), rm = median(ratio_m, nm);
			char name[64];

			printf("%6u  %12.2f  %12.2f  %12.2f  %13.3fx  %13.3fx   median\n",
					sizes[s], med[WAY_RZONE], med[WAY_PLAIN], med[WAY_MEMIF], r,
					rm);
			printf("%6s  %12.2f  %12.2f  %12.2f  %13.3fx  %13.3fx   best round\n",
					"", best[WAY_RZONE], best[WAY_PLAIN], best[WAY_MEMIF],
					best[WAY_RZONE] / best[WAY_PLAIN],
					best[WAY_RZONE] / best[WAY_MEMIF]);
			snprintf(name, sizeof(name), "rzone >= 0.95x plain ring, %u bytes",
					sizes[s]);
			bc_target(r >= 0.95 ? BC_PASS : BC_FAIL, name,
					"%.3fx (median of %u per-round ratios)", r, ROUNDS);
		}
	}
	printf("\nsequence numbers wrong at the consumer: %" PRIu64 "\n", ctl->bad);
	if (ctl->bad != 0)
		rc = 1;
out:
	ctl->quit = 1;
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
			WEXITSTATUS(status) != 0)
		printf("secondary ended with status %#x\n", status);
	bc_targets_print();
	if (memif_ok || memif_tx != memif_rx) {
		rte_eth_dev_stop(memif_tx);
		rte_eth_dev_stop(memif_rx);
		rte_eth_dev_close(memif_tx);
		rte_eth_dev_close(memif_rx);
	}
	rte_ring_free(ring);
	rz_pktmbuf_pool_free(pool[WAY_RZONE]);
	rte_mempool_free(pool[WAY_PLAIN]);
	rte_mempool_free(pool[WAY_MEMIF]);
	rte_mempool_free(memif_rx_pool);
	rte_memzone_free(mz);
	return rc;
}

int
main(int argc, char **argv)
{
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		printf("could not run: rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= ret;
	argv += ret;
	if (argc >= 2 && strcmp(argv[1], "--secondary") == 0)
		return secondary_main();
	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		printf("could not run: --secondary is for the secondary this benchmark starts\n");
		return 1;
	}
	ret = rz_init();
	if (ret != 0) {
		printf("could not run: rz_init: %s\n", strerror(-ret));
		rte_eal_cleanup();
		return 1;
	}
	ret = primary_main();
	rz_fini();
	rte_eal_cleanup();
	return ret;
}
