/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * An application that defines functions and variables with the names of rzone's internals
 * (linked with --export-dynamic, so that they would interpose any same-named symbol librzone
 * exported) still gets a working rzone: librzone exports only its rz_* API and binds its
 * internal calls to itself. Before the version script, an application's own mp_start() took
 * over rzone's: rz_init() returned 0 and the IPC control thread never started.
 */

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <rte_eal.h>

#include "rz_test.h"
#include "rzone.h"

#define PAGE (2u * 1024u * 1024u)

/* The application's own symbols, named like rzone's internals. Each counts its calls. */
static unsigned int app_calls;

int mp_start(void);
int table_lock(void);
void table_unlock(void);
int map_local(unsigned long a, unsigned int b, void *c, unsigned int d, unsigned long e);
int unmap_local(unsigned long a, unsigned int b, unsigned long e);
void *region_by_id(unsigned long id);
int proc_register(void);
void proc_reap_dead(void);
void arena_flush(void);
int mapping_init(void);

int
mp_start(void)
{
	app_calls++;
	return 0;
}

int
table_lock(void)
{
	app_calls++;
	return 0;
}

void
table_unlock(void)
{
	app_calls++;
}

int
map_local(unsigned long a, unsigned int b, void *c, unsigned int d, unsigned long e)
{
	RTE_SET_USED(a);
	RTE_SET_USED(b);
	RTE_SET_USED(c);
	RTE_SET_USED(d);
	RTE_SET_USED(e);
	app_calls++;
	return -EPERM;
}

int
unmap_local(unsigned long a, unsigned int b, unsigned long e)
{
	RTE_SET_USED(a);
	RTE_SET_USED(b);
	RTE_SET_USED(e);
	app_calls++;
	return -EPERM;
}

void *
region_by_id(unsigned long id)
{
	RTE_SET_USED(id);
	app_calls++;
	return NULL;
}

int
proc_register(void)
{
	app_calls++;
	return -EPERM;
}

void
proc_reap_dead(void)
{
	app_calls++;
}

void
arena_flush(void)
{
	app_calls++;
}

int
mapping_init(void)
{
	app_calls++;
	return -EPERM;
}

/* Same names as rzone's process-local state and log type, another type. */
char local_proc[8] = "app";
int rzone_logtype = -1;
int rdma_state = 7;

/* Is a thread named @name running in this process? */
static bool
thread_running(const char *name)
{
	struct dirent *d;
	bool found = false;
	DIR *dir = opendir("/proc/self/task");

	if (dir == NULL)
		return false;
	while (!found && (d = readdir(dir)) != NULL) {
		char path[300], comm[64] = "";
		FILE *f;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", d->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fgets(comm, sizeof(comm), f) != NULL && strncmp(comm, name, strlen(name)) == 0)
			found = true;
		fclose(f);
	}
	closedir(dir);
	return found;
}

static void
test_rzone_works(void)
{
	struct rz_region *r;
	char *p;

	CU_ASSERT_EQUAL_FATAL(rz_init(), 0);
	/* rzone's own mp_start() ran: its control thread is there. */
	CU_ASSERT_TRUE(thread_running("rz-ctl"));
	r = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_PTR_EQUAL(rz_region_lookup(rz_region_id(r)), r);
	CU_ASSERT_EQUAL(rz_region_map(r, RZ_PID_SELF, NULL, RZ_PERM_RW), 0);
	p = rz_region_get_mapping(r, RZ_PID_SELF);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	strcpy(p, "interposed?");
	CU_ASSERT_STRING_EQUAL(p, "interposed?");
	CU_ASSERT_EQUAL(rz_region_unmap(r, RZ_PID_SELF), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
	CU_ASSERT_EQUAL(rz_region_count(), 0);
	/* None of the application's functions was called by rzone, and its variables are its
	 * own. */
	CU_ASSERT_EQUAL(app_calls, 0);
	CU_ASSERT_STRING_EQUAL(local_proc, "app");
	CU_ASSERT_EQUAL(rzone_logtype, -1);
	CU_ASSERT_EQUAL(rdma_state, 7);
	CU_ASSERT_EQUAL(rz_fini(), 0);
	/* The application's own functions are real and callable (not optimised away). */
	CU_ASSERT_EQUAL(mp_start(), 0);
	CU_ASSERT_EQUAL(app_calls, 1);
}

static const struct rz_test_case cases[] = {
	{ "rzone keeps its internals to itself", test_rzone_works },
	{ NULL, NULL },
};

int
main(int argc, char **argv)
{
	char prefix[64];
	unsigned int failed;

	RTE_SET_USED(argc);
	setvbuf(stdout, NULL, _IONBF, 0);
	if (rz_test_eal_primary(argv[0], "interpose", prefix, sizeof(prefix)) < 0)
		return 1;
	failed = rz_test_run("interpose", cases);
	rte_eal_cleanup();
	return failed != 0;
}
