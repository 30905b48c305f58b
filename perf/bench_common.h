/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_BENCH_COMMON_H
#define RZ_BENCH_COMMON_H

/*
 * Helpers shared by the rzone benchmarks: timing, order statistics, the platform banner and
 * the PASS/FAIL lines printed for the targets. A benchmark prints; it does not fail on a missed
 * target.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_cycles.h>

#define BC_MIB (UINT64_C(1) << 20)

/* Order statistics of a sample, in the sample's unit. */
struct bc_stats {
	size_t n;
	double min;
	double p50;
	double p99;
	double max;
	double mean;
};

enum bc_verdict {
	BC_PASS,
	BC_FAIL,
	BC_SKIP,
};

/* Start or end of a timed interval (serialising TSC read). */
static inline uint64_t
bc_tsc(void)
{
	return rte_rdtsc_precise();
}

/* TSC cycles to nanoseconds. */
static inline double
bc_ns(uint64_t cycles)
{
	return (double)cycles * 1e9 / (double)rte_get_tsc_hz();
}

/* Nearest-rank percentiles of @v (left unchanged). Returns -1 on allocation failure. */
int bc_stats_compute(const double *v, size_t n, struct bc_stats *s);

/* CPU model, CPUs, kernel, DPDK version, TSC, hugepages, load: the context of the figures.
 * @page_sz is the hugepage size the benchmark really uses (0 if not known yet). */
void bc_print_platform(const char *bench, uint64_t page_sz);

/* Free hugepages of @page_sz on NUMA node @socket (sysfs), or system-wide from /proc/meminfo
 * when the node file is missing; -1 if neither can be read. */
long bc_hugepages_free(int socket, uint64_t page_sz);

/* "model name" of the first CPU in /proc/cpuinfo. */
const char *bc_cpu_model(void);

/* Record a target's verdict, with a printf-style detail line. */
void bc_target(enum bc_verdict v, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Print every recorded target, one PASS/FAIL/SKIP line each. */
void bc_targets_print(void);

/* A fixed-seed xorshift64* generator: the same access sequence on every run. */
static inline uint64_t
bc_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * UINT64_C(2685821657736338717);
}

#endif /* RZ_BENCH_COMMON_H */
