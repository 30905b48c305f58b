/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_lcore.h>
#include <rte_version.h>

#include "bench_common.h"

#define BC_MAX_TARGETS 32

static struct {
	enum bc_verdict v;
	char name[96];
	char detail[224];
} targets[BC_MAX_TARGETS];
static unsigned int ntargets;

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest value with at least q of the sample at or below it. */
static double
rank(const double *sorted, size_t n, double q)
{
	size_t k = (size_t)ceil(q * (double)n);

	if (k == 0)
		k = 1;
	if (k > n)
		k = n;
	return sorted[k - 1];
}

int
bc_stats_compute(const double *v, size_t n, struct bc_stats *s)
{
	double *c, sum = 0;
	size_t i;

	memset(s, 0, sizeof(*s));
	if (n == 0)
		return 0;
	c = malloc(n * sizeof(*c));
	if (c == NULL)
		return -1;
	memcpy(c, v, n * sizeof(*c));
	qsort(c, n, sizeof(*c), cmp_double);
	for (i = 0; i < n; i++)
		sum += c[i];
	s->n = n;
	s->min = c[0];
	s->p50 = rank(c, n, 0.50);
	s->p99 = rank(c, n, 0.99);
	s->max = c[n - 1];
	s->mean = sum / (double)n;
	free(c);
	return 0;
}

static bool
read_line_value(const char *path, const char *key, char *out, size_t len)
{
	char line[512];
	size_t klen = strlen(key);
	bool found = false;
	FILE *f;

	f = fopen(path, "r");
	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p;

		if (strncmp(line, key, klen) != 0)
			continue;
		p = strchr(line + klen, ':');
		if (p == NULL)
			continue;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		p[strcspn(p, "\n")] = '\0';
		snprintf(out, len, "%s", p);
		found = true;
		break;
	}
	fclose(f);
	return found;
}

const char *
bc_cpu_model(void)
{
	static char model[256];

	if (model[0] == '\0' &&
			!read_line_value("/proc/cpuinfo", "model name", model, sizeof(model)))
		snprintf(model, sizeof(model), "unknown CPU");
	return model;
}

long
bc_hugepages_free(int socket, uint64_t page_sz)
{
	char path[160], buf[64];
	long n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/hugepages/"
			"hugepages-%" PRIu64 "kB/free_hugepages", socket, page_sz >> 10);
	f = fopen(path, "r");
	if (f != NULL) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
		if (n >= 0)
			return n;
	}
	if (read_line_value("/proc/meminfo", "HugePages_Free", buf, sizeof(buf)))
		n = strtol(buf, NULL, 10);
	return n;
}

void
bc_print_platform(const char *bench, uint64_t page_sz)
{
	char hp_size[64] = "?", hp_total[64] = "?", hp_free[64] = "?", load[128] = "?";
	struct utsname u;
	FILE *f;

	read_line_value("/proc/meminfo", "Hugepagesize", hp_size, sizeof(hp_size));
	read_line_value("/proc/meminfo", "HugePages_Total", hp_total, sizeof(hp_total));
	read_line_value("/proc/meminfo", "HugePages_Free", hp_free, sizeof(hp_free));
	f = fopen("/proc/loadavg", "r");
	if (f != NULL) {
		if (fgets(load, sizeof(load), f) == NULL)
			snprintf(load, sizeof(load), "?");
		load[strcspn(load, "\n")] = '\0';
		fclose(f);
	}
	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));

	printf("== %s ==\n", bench);
	printf("platform:   %s, %ld CPUs online, %u NUMA node(s) known to the EAL\n",
			bc_cpu_model(), sysconf(_SC_NPROCESSORS_ONLN), rte_socket_count());
	printf("kernel:     %s %s; %s; TSC %.3f GHz\n", u.sysname, u.release, rte_version(),
			(double)rte_get_tsc_hz() / 1e9);
	if (page_sz != 0)
		printf("hugepages:  %" PRIu64 " kB pages used by rzone (system default %s); "
				"total %s, free %s\n", page_sz >> 10, hp_size, hp_total, hp_free);
	else
		printf("hugepages:  default size %s; total %s, free %s\n", hp_size, hp_total,
				hp_free);
	printf("load:       /proc/loadavg %s (other work on the machine adds noise)\n", load);
	printf("lcore:      main lcore %u on socket %u\n\n", rte_lcore_id(), rte_socket_id());
	fflush(stdout);
}

void
bc_target(enum bc_verdict v, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ntargets == BC_MAX_TARGETS)
		return;
	targets[ntargets].v = v;
	snprintf(targets[ntargets].name, sizeof(targets[ntargets].name), "%s", name);
	va_start(ap, fmt);
	vsnprintf(targets[ntargets].detail, sizeof(targets[ntargets].detail), fmt, ap);
	va_end(ap);
	ntargets++;
}

void
bc_targets_print(void)
{
	static const char *const word[] = { [BC_PASS] = "PASS", [BC_FAIL] = "FAIL",
		[BC_SKIP] = "SKIP" };
	unsigned int i;

	printf("\n== targets ==\n");
	for (i = 0; i < ntargets; i++)
		printf("%s  %s: %s\n", word[targets[i].v], targets[i].name, targets[i].detail);
	fflush(stdout);
}
