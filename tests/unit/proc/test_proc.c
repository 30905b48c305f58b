/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * Process identity, white-box: a pid names a process only together with its start time, so a
 * reused pid never inherits what a dead process held. Real EAL; the table is edited directly
 * to stage a process slot whose pid now belongs to someone else.
 */

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <rte_eal.h>
#include <rte_errno.h>

#include "core_private.h"
#include "proc_private.h"
#include "rz_test.h"
#include "rzone.h"

#define PAGE (2u * 1024 * 1024)

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
test_start_time(void)
{
	pid_t child;
	uint64_t st;
	int status;

	CU_ASSERT_NOT_EQUAL(proc_start_time(getpid()), 0);
	CU_ASSERT_EQUAL(proc_start_time(getpid()), proc_start_time(getpid()));
	CU_ASSERT_EQUAL(proc_start_time(999999999), 0);
	CU_ASSERT_EQUAL(proc_start_time(-1), 0);
	child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	st = proc_start_time(child);
	CU_ASSERT(st >= proc_start_time(getpid()));
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	CU_ASSERT_EQUAL(proc_start_time(child), 0);
}

/*
 * Stage what a dead process whose pid was reused looks like: a LIVE slot whose pid is a running
 * process (a child of ours that never attached) with another start time. It maps a region and
 * owns another; rzone must release both within a second, and a region it owned that we map
 * must pass to us.
 */
static void
test_pid_reuse(void)
{
	struct rz_table *t = tbl();
	struct rz_region *mapped = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	struct rz_region *owned = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	struct rz_region *shared = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	struct region_entry *em, *eo, *es;
	uint32_t slot = RZ_MAX_PROCS - 1;
	uint64_t owned_id;
	pid_t impostor;
	double t0;
	int status;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mapped);
	CU_ASSERT_PTR_NOT_NULL_FATAL(owned);
	CU_ASSERT_PTR_NOT_NULL_FATAL(shared);
	owned_id = rz_region_id(owned);
	CU_ASSERT_EQUAL(rz_region_map(shared, RZ_PID_SELF, NULL, RZ_PERM_RW), 0);
	impostor = fork();
	if (impostor == 0) {
		pause();
		_exit(0);
	}
	CU_ASSERT_FATAL(impostor > 0);
	em = region_by_id(rz_region_id(mapped));
	eo = region_by_id(rz_region_id(owned));
	es = region_by_id(rz_region_id(shared));
	CU_ASSERT_FATAL(em != NULL && eo != NULL && es != NULL);

	CU_ASSERT_FATAL(table_lock() == 0);
	CU_ASSERT_EQUAL_FATAL(t->procs[slot].state, PROC_FREE);
	t->procs[slot].pid = impostor;
	t->procs[slot].start_time = proc_start_time(impostor) - 1;	/* an earlier life */
	t->procs[slot].gen++;
	t->procs[slot].proc_type = RTE_PROC_SECONDARY;
	em->maps[slot].addr = (uint64_t)(uintptr_t)em->va;
	em->maps[slot].perms = RZ_PERM_RW;
	em->maps[slot].seq = ++t->map_seq;
	em->nmaps++;
	eo->owner = slot;
	es->owner = slot;
	__atomic_store_n(&t->procs[slot].state, PROC_LIVE, __ATOMIC_RELEASE);
	table_unlock();

	/* The pid is alive, but it is not the process that attached. */
	CU_ASSERT_EQUAL(kill(impostor, 0), 0);
	CU_ASSERT_EQUAL(rz_process_attached(impostor), 0);
	CU_ASSERT_EQUAL(rz_region_map(mapped, impostor, NULL, RZ_PERM_READ), -ESRCH);
	t0 = now_s();
	while ((rz_region_get_mapping(mapped, impostor) != NULL || rte_errno != ESRCH) &&
			now_s() - t0 < 3.0)
		usleep(2000);
	printf("\n  stale slot of pid %d released in %.0f ms\n", (int)impostor,
			(now_s() - t0) * 1000);
	CU_ASSERT(now_s() - t0 < 1.0);
	CU_ASSERT_EQUAL(t->procs[slot].state, PROC_FREE);
	CU_ASSERT_EQUAL(em->nmaps, 0);
	CU_ASSERT_PTR_NULL(rz_region_lookup(owned_id));	/* nobody mapped it: freed */
	CU_ASSERT_EQUAL(rz_region_owner(shared), getpid());	/* we map it: ours now */
	kill(impostor, SIGKILL);
	waitpid(impostor, &status, 0);
	CU_ASSERT_EQUAL(rz_region_destroy(mapped), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(shared), 0);
}

/* Many threads, one process: create/map/unmap/destroy while readers run lock-free. */
#define THREADS 4
#define ROUNDS 300

static volatile int stop_readers;
static struct rz_region *volatile shared_region;

static void *
worker(void *arg)
{
	long bad = 0;
	int i;

	RTE_SET_USED(arg);
	for (i = 0; i < ROUNDS; i++) {
		struct rz_region *r = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
		uint64_t id;

		if (r == NULL) {
			bad++;
			continue;
		}
		id = rz_region_id(r);
		bad += rz_region_lookup(id) != r;
		bad += rz_region_map(r, RZ_PID_SELF, NULL, RZ_PERM_RW) != 0;
		bad += rz_region_get_mapping(r, RZ_PID_SELF) != rz_region_addr(r);
		((volatile uint8_t *)rz_region_addr(r))[i] = 1;
		bad += rz_region_unmap(r, RZ_PID_SELF) != 0;
		bad += rz_region_destroy(r) != 0;
		bad += rz_region_lookup(id) != NULL;
	}
	return (void *)bad;
}

static void *
reader(void *arg)
{
	long reads = 0;

	RTE_SET_USED(arg);
	while (!stop_readers) {
		if (rz_region_get_mapping(shared_region, RZ_PID_SELF) == NULL)
			return (void *)-1L;
		reads++;
	}
	return (void *)reads;
}

static void
test_threads(void)
{
	pthread_t w[THREADS], rd;
	void *ret;
	long bad = 0;
	int i, before = rz_region_count();

	shared_region = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	CU_ASSERT_PTR_NOT_NULL_FATAL(shared_region);
	CU_ASSERT_EQUAL(rz_region_map(shared_region, RZ_PID_SELF, NULL, RZ_PERM_RW), 0);
	stop_readers = 0;
	pthread_create(&rd, NULL, reader, NULL);
	for (i = 0; i < THREADS; i++)
		pthread_create(&w[i], NULL, worker, NULL);
	for (i = 0; i < THREADS; i++) {
		pthread_join(w[i], &ret);
		bad += (long)ret;
	}
	stop_readers = 1;
	pthread_join(rd, &ret);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT((long)ret > 0);	/* the reader ran and never missed */
	CU_ASSERT_EQUAL(rz_region_destroy(shared_region), 0);
	CU_ASSERT_EQUAL(rz_region_count(), before);
}

static const struct rz_test_case cases[] = {
	{ "start time", test_start_time },
	{ "reused pid", test_pid_reuse },
	{ "threads", test_threads },
	{ NULL, NULL },
};

int
main(int argc, char **argv)
{
	char prefix[64];

	RTE_SET_USED(argc);
	if (rz_test_start(argv[0], "proc", prefix, sizeof(prefix)) < 0)
		return 1;
	return rz_test_finish("proc", cases);
}
