/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * rz-bench-audit: what one audit record costs (audit_record(), lib/core/audit.c), beside two
 * baselines measured in the same run on the same core: a plain 64-byte store to process-local
 * memory, and rte_ring_mp_enqueue() of one pointer onto a multi-producer ring (DPDK's own
 * lock-free multi-writer structure). Single writer, then two writer threads at once (each on
 * its own CPU when there are two). The data path has no record at all (grants, maps and
 * capabilities record on the control path only). Target: a few hundred ns per record.
 */

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ring.h>

#include "audit_private.h"
#include "bench_common.h"
#include "core_private.h"
#include "rzone.h"
#include "rzone_observe.h"

#define N_ITER	(1u << 20)
#define BATCH	1024

struct rec64 {
	uint64_t w[8];
};

static volatile struct rec64 sink[64];
static struct rte_ring *ring;

enum what { PLAIN, RING, AUDIT };

static const char *const names[] = { "plain 64-byte store", "rte_ring_mp_enqueue",
	"audit_record" };

/* ns per operation of @BATCH operations, sampled N_ITER / BATCH times. */
static void
run(enum what w, double *samples, size_t nsamples)
{
	size_t s;
	unsigned int i;
	void *obj;

	for (s = 0; s < nsamples; s++) {
		uint64_t t0 = bc_tsc();

		for (i = 0; i < BATCH; i++) {
			switch (w) {
			case PLAIN:
				sink[i & 63].w[0] = i;
				sink[i & 63].w[1] = s;
				sink[i & 63].w[2] = t0;
				sink[i & 63].w[3] = i;
				sink[i & 63].w[4] = i;
				sink[i & 63].w[5] = s;
				sink[i & 63].w[6] = i;
				sink[i & 63].w[7] = i;
				break;
			case RING:
				if (rte_ring_mp_enqueue(ring, (void *)(uintptr_t)(i + 1)) != 0)
					while (rte_ring_mc_dequeue(ring, &obj) == 0)
						;
				break;
			case AUDIT:
				audit_record(AUDIT_GRANT, AUDIT_CAUSE_EXPLICIT, 0x10000 + i,
						local_proc.pid, 0x40000000, 3, 0, i, 4096, 0);
				break;
			}
		}
		samples[s] = bc_ns(bc_tsc() - t0) / BATCH;
		if (w == RING)	/* keep the ring from filling: drain outside the timing */
			while (rte_ring_mc_dequeue(ring, &obj) == 0)
				;
	}
}

struct thr {
	enum what w;
	double *samples;
	size_t n;
	int cpu;
};

static void *
thr_main(void *arg)
{
	struct thr *t = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(t->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	run(t->w, t->samples, t->n);
	return NULL;
}

static void
report(const char *label, enum what w, double *v, size_t n, double base)
{
	struct bc_stats st;

	if (bc_stats_compute(v, n, &st) < 0)
		return;
	printf("  %-24s %-8s p50 %7.1f ns  p99 %7.1f ns  mean %7.1f ns  (x%.1f the plain "
			"store)\n", names[w], label, st.p50, st.p99, st.mean,
			base > 0 ? st.p50 / base : 0);
}

int
main(int argc, char **argv)
{
	size_t n = N_ITER / BATCH;
	double *v[3], *v2[2], plain50 = 0, audit50 = 0;
	struct bc_stats st;
	pthread_t th[2];
	struct thr t[2];
	int ret, w, ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	if (rz_init() < 0 || audit_ring == NULL) {
		fprintf(stderr, "rz_init failed\n");
		return 1;
	}
	rz_audit_log(0);
	bc_print_platform("rz-bench-audit", 0);
	printf("audit ring: %u records of %zu bytes\n", RZ_AUDIT_ENTRIES,
			sizeof(struct audit_rec));
	ring = rte_ring_create("rzb_audit", 4096, SOCKET_ID_ANY, 0);
	for (w = 0; w < 3; w++)
		v[w] = calloc(n, sizeof(double));
	v2[0] = calloc(n, sizeof(double));
	v2[1] = calloc(n, sizeof(double));
	if (ring == NULL || v[0] == NULL || v[1] == NULL || v[2] == NULL || v2[0] == NULL ||
			v2[1] == NULL) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	printf("one writer, %u operations each, in batches of %u (ns per operation):\n",
			N_ITER, BATCH);
	for (w = 0; w < 3; w++)
		run((enum what)w, v[w], n);	/* warm-up */
	for (w = 0; w < 3; w++) {
		run((enum what)w, v[w], n);
		if (bc_stats_compute(v[w], n, &st) == 0 && w == PLAIN)
			plain50 = st.p50;
		if (w == AUDIT && bc_stats_compute(v[w], n, &st) == 0)
			audit50 = st.p50;
		report("1 thread", (enum what)w, v[w], n, plain50);
	}
	printf("two writers at once (CPUs %d and %d):\n", 0, ncpu > 1 ? 1 : 0);
	for (w = RING; w <= AUDIT; w++) {
		int i;

		for (i = 0; i < 2; i++) {
			t[i] = (struct thr){ .w = (enum what)w, .samples = v2[i], .n = n,
				.cpu = ncpu > 1 ? i : 0 };
			pthread_create(&th[i], NULL, thr_main, &t[i]);
		}
		for (i = 0; i < 2; i++)
			pthread_join(th[i], NULL);
		report("thread 1", (enum what)w, v2[0], n, plain50);
		report("thread 2", (enum what)w, v2[1], n, plain50);
	}
	printf("ring after the run: %" PRIu64 " records written, %" PRIu64 " lost\n",
			audit_ring->head, audit_ring->lost);
	bc_target(audit50 > 0 && audit50 < 300 ? BC_PASS : BC_FAIL, "audit record < 300 ns",
			"p50 %.1f ns per record, one writer", audit50);
	bc_targets_print();
	rte_ring_free(ring);
	rz_fini();
	rte_eal_cleanup();
	return 0;
}
