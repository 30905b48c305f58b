/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * Multi-process tests: this process is a real DPDK primary; rz-test-agent processes are real
 * secondaries of the same instance (same --file-prefix), driven over pipes.
 */

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_memzone.h>

#include "core_private.h"
#include "harness.h"
#include "rz_test.h"
#include "mp_msg.h"
#include "rz_config.h"
#include "rzone.h"

#define PAGE (2u * 1024 * 1024)
/* A hugepage-aligned address nothing maps in a fresh agent. */
#define VIEW_VA ((uint64_t)RZ_TEST_VIEW_VA)

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Until rzone has released a dead process (its slot is gone): seconds it took. */
static double
wait_reaped(const struct rz_region *r, pid_t pid)
{
	double t0 = now_s();

	while ((rz_region_get_mapping(r, pid) != NULL || rte_errno != ESRCH) &&
			now_s() - t0 < 3.0)
		usleep(2000);
	CU_ASSERT_EQUAL(rz_process_attached(pid), 0);
	CU_ASSERT_PTR_NULL(rz_region_get_mapping(r, pid));
	CU_ASSERT_EQUAL(rte_errno, ESRCH);
	return now_s() - t0;
}

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
test_map_by_owner(void)
{
	struct rz_region *r = rz_region_create(RZ_PID_SELF, 2 * PAGE, RZ_PERM_RW);
	struct agent a;
	struct reply rep;
	char handle[32];
	uint64_t id;
	char *p;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	id = rz_region_id(r);
	p = rz_region_addr(r);
	START(a);
	/* Same id, same handle, same address in every process. */
	rep = agent_cmd(&a, "lookup %#" PRIx64, id);
	OK(rep);
	snprintf(handle, sizeof(handle), "%p", (void *)r);
	CU_ASSERT_STRING_EQUAL(rep.text, handle);

	CU_ASSERT_EQUAL(rz_region_map(r, a.pid, NULL, RZ_PERM_RW), 0);
	CU_ASSERT_PTR_EQUAL(rz_region_get_mapping(r, a.pid), p);
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(r, a.pid), RZ_PERM_RW);
	rep = agent_cmd(&a, "get %#" PRIx64 " 0", id);
	OK(rep);
	CU_ASSERT_EQUAL(rep.val, (uint64_t)(uintptr_t)p);
	/* Both write, both read. */
	OK(agent_cmd(&a, "write %#" PRIx64 " 0 from-secondary", id));
	CU_ASSERT_EQUAL(rz_region_map(r, RZ_PID_SELF, NULL, RZ_PERM_RW), 0);
	CU_ASSERT_STRING_EQUAL(p, "from-secondary");
	strcpy(p + PAGE, "from-primary");
	rep = agent_cmd(&a, "read %#" PRIx64 " %u 12", id, PAGE);
	OK(rep);
	CU_ASSERT_STRING_EQUAL(rep.text, "from-primary");

	/* Second map of the same process; non-owner requests. Nothing changes. */
	CU_ASSERT_EQUAL(rz_region_map(r, a.pid, NULL, RZ_PERM_READ), -EEXIST);
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(r, a.pid), RZ_PERM_RW);
	ERR(agent_cmd(&a, "unmap %#" PRIx64 " %d", id, (int)getpid()), EPERM);
	ERR(agent_cmd(&a, "destroy %#" PRIx64, id), EPERM);
	CU_ASSERT_PTR_EQUAL(rz_region_get_mapping(r, RZ_PID_SELF), p);
	CU_ASSERT_EQUAL(rz_region_count(), 1);

	CU_ASSERT_EQUAL(rz_region_unmap(r, a.pid), 0);
	CU_ASSERT_PTR_NULL(rz_region_get_mapping(r, a.pid));
	CU_ASSERT_EQUAL(rte_errno, ENOENT);
	ERR(agent_cmd(&a, "get %#" PRIx64 " 0", id), ENOENT);
	CU_ASSERT_EQUAL(rz_region_unmap(r, a.pid), -ENOENT);
	/* A non-owner cannot map itself: that takes a capability. */
	ERR(agent_cmd(&a, "map %#" PRIx64 " 0 0 3", id), EPERM);
	CU_ASSERT_EQUAL(rz_region_map(r, a.pid, NULL, RZ_PERM_RW | RZ_PERM_EXEC), -EPERM);
	CU_ASSERT_EQUAL(rz_region_map(r, a.pid, (void *)(VIEW_VA + 4096), RZ_PERM_RW), -EINVAL);
	CU_ASSERT_PTR_NULL(rz_region_get_mapping(r, a.pid));
	/* The data outlives the mappings. */
	CU_ASSERT_STRING_EQUAL(p, "from-secondary");
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
	ERR(agent_cmd(&a, "lookup %#" PRIx64, id), ENOENT);
	agent_stop(&a);
	CU_ASSERT(WIFEXITED(a.status) && WEXITSTATUS(a.status) == 0);
}

static void
test_view_in_secondary_faults(void)
{
	struct rz_region *r = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	struct agent a;
	struct reply rep;
	uint64_t id;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	id = rz_region_id(r);
	START(a);
	CU_ASSERT_EQUAL(rz_region_map(r, a.pid, (void *)VIEW_VA, RZ_PERM_READ), 0);
	CU_ASSERT_EQUAL((uint64_t)(uintptr_t)rz_region_get_mapping(r, a.pid), VIEW_VA);
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(r, a.pid), RZ_PERM_READ);
	CU_ASSERT_EQUAL(rz_region_map(r, RZ_PID_SELF, NULL, RZ_PERM_RW), 0);
	strcpy(rz_region_addr(r), "seen through the view");
	rep = agent_cmd(&a, "read %#" PRIx64 " 0 21", id);
	OK(rep);
	CU_ASSERT_STRING_EQUAL(rep.text, "seen through the view");
	/* The write kills the agent. */
	rep = agent_cmd(&a, "write %#" PRIx64 " 0 x", id);
	CU_ASSERT(!rep.ok && rep.err == EPIPE);
	agent_wait(&a);
	CU_ASSERT(WIFSIGNALED(a.status) && WTERMSIG(a.status) == SIGSEGV);
	CU_ASSERT_STRING_EQUAL(rz_region_addr(r), "seen through the view");
	/* Reaped within a second; the region and the primary's mapping stay. */
	CU_ASSERT(wait_reaped(r, a.pid) < 1.0);
	CU_ASSERT_PTR_NOT_NULL(rz_region_get_mapping(r, RZ_PID_SELF));
	CU_ASSERT_EQUAL(rz_region_owner(r), getpid());
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

static void
test_transfer(void)
{
	struct rz_region *r = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	struct agent a, b;
	uint64_t id, tok;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	id = rz_region_id(r);
	START(a);
	START(b);
	/* Only to an attached process that maps the region. */
	CU_ASSERT_EQUAL(rz_region_transfer_ownership(r, a.pid), -EINVAL);
	CU_ASSERT_EQUAL(rz_region_owner(r), getpid());
	CU_ASSERT_EQUAL(rz_region_map(r, a.pid, NULL, RZ_PERM_RW), 0);
	CU_ASSERT_EQUAL(rz_region_map(r, RZ_PID_SELF, NULL, RZ_PERM_RW), 0);
	CU_ASSERT_EQUAL(rz_region_transfer_ownership(r, a.pid), 0);
	CU_ASSERT_EQUAL(rz_region_owner(r), a.pid);
	CU_ASSERT_EQUAL(agent_cmd(&a, "owner %#" PRIx64, id).val, (uint64_t)a.pid);
	/* The old owner keeps its mapping, loses owner rights. */
	CU_ASSERT_PTR_NOT_NULL(rz_region_get_mapping(r, RZ_PID_SELF));
	CU_ASSERT_EQUAL(rz_region_destroy(r), -EPERM);
	CU_ASSERT_EQUAL(rz_region_transfer_ownership(r, RZ_PID_SELF), -EPERM);
	CU_ASSERT_EQUAL(rz_region_map(r, b.pid, NULL, RZ_PERM_READ), -EPERM);
	CU_ASSERT_EQUAL(rz_region_unmap(r, a.pid), -EPERM);
	CU_ASSERT_EQUAL(rz_region_create_capability(r, b.pid, RZ_MODE_SHARE, &tok), -EPERM);
	CU_ASSERT_EQUAL(rz_region_owner(r), a.pid);
	/* The new owner (a secondary) unmaps and re-maps the primary over IPC. */
	OK(agent_cmd(&a, "unmap %#" PRIx64 " %d", id, (int)getpid()));
	CU_ASSERT_PTR_NULL(rz_region_get_mapping(r, RZ_PID_SELF));
	OK(agent_cmd(&a, "map %#" PRIx64 " %d 0 1", id, (int)getpid()));
	CU_ASSERT_PTR_EQUAL(rz_region_get_mapping(r, RZ_PID_SELF), rz_region_addr(r));
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(r, RZ_PID_SELF), RZ_PERM_READ);
	/* Bad transfers by the new owner. */
	ERR(agent_cmd(&a, "transfer %#" PRIx64 " %d", id, (int)b.pid), EINVAL);
	ERR(agent_cmd(&a, "transfer %#" PRIx64 " 999999999", id), ESRCH);
	CU_ASSERT_EQUAL(rz_region_owner(r), a.pid);
	/* And back. */
	OK(agent_cmd(&a, "transfer %#" PRIx64 " %d", id, (int)getpid()));
	CU_ASSERT_EQUAL(rz_region_owner(r), getpid());
	/* To a process that died. */
	OK(agent_cmd(&a, "get %#" PRIx64 " 0", id));
	agent_kill9(&a);
	CU_ASSERT_EQUAL(rz_region_transfer_ownership(r, a.pid), -ESRCH);
	CU_ASSERT_EQUAL(rz_region_owner(r), getpid());
	CU_ASSERT_EQUAL(rz_region_map(r, a.pid, NULL, RZ_PERM_READ), -ESRCH);
	agent_stop(&b);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);	/* a is dead: not busy */
}

/* The handle of a region destroyed in another process, whose slot a new region took: every call
 * fails with -ENOENT in both processes, and the new region is untouched. */
static void
test_stale_handle_across_processes(void)
{
	struct rz_region *old, *r2;
	struct agent a;
	uint64_t id, id2, tok = 0;
	char h[32], h2[32];
	struct reply rep;

	START(a);
	/* a creates a region and destroys it; then a new region takes its slot. */
	rep = agent_cmd(&a, "create %u 3", PAGE);
	OK(rep);
	id = rep.val;
	old = rz_region_lookup(id);
	CU_ASSERT_PTR_NOT_NULL_FATAL(old);
	snprintf(h, sizeof(h), "h%p", (void *)old);
	OK(agent_cmd(&a, "destroy %s", h));
	rep = agent_cmd(&a, "create %u 3", PAGE);
	OK(rep);
	id2 = rep.val;
	CU_ASSERT_EQUAL(id2 & 0xffff, id & 0xffff);
	CU_ASSERT_NOT_EQUAL(id2, id);
	r2 = rz_region_lookup(id2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r2);
	snprintf(h2, sizeof(h2), "h%p", (void *)r2);
	OK(agent_cmd(&a, "map %s 0 0 3", h2));
	OK(agent_cmd(&a, "write %s 0 still-here", h2));
	OK(agent_cmd(&a, "map %s %d 0 3", h2, (int)getpid()));

	/* In the process that destroyed it... */
	ERR(agent_cmd(&a, "destroy %s", h), ENOENT);
	ERR(agent_cmd(&a, "map %s 0 0 3", h), ENOENT);
	ERR(agent_cmd(&a, "map %s %d 0 1", h, (int)getpid()), ENOENT);
	ERR(agent_cmd(&a, "unmap %s %d", h, (int)getpid()), ENOENT);
	ERR(agent_cmd(&a, "unmap %s 0", h), ENOENT);
	ERR(agent_cmd(&a, "get %s 0", h), ENOENT);
	ERR(agent_cmd(&a, "perms %s 0", h), ENOENT);
	ERR(agent_cmd(&a, "owner %s", h), ENOENT);
	ERR(agent_cmd(&a, "transfer %s %d", h, (int)getpid()), ENOENT);
	ERR(agent_cmd(&a, "cap %s %d 1", h, (int)getpid()), ENOENT);
	ERR(agent_cmd(&a, "lookup %#" PRIx64, id), ENOENT);
	/* ... and in another. */
	CU_ASSERT_EQUAL(rz_region_destroy(old), -ENOENT);
	CU_ASSERT_EQUAL(rz_region_map(old, RZ_PID_SELF, NULL, RZ_PERM_READ), -ENOENT);
	CU_ASSERT_EQUAL(rz_region_map(old, a.pid, NULL, RZ_PERM_READ), -ENOENT);
	CU_ASSERT_EQUAL(rz_region_unmap(old, RZ_PID_SELF), -ENOENT);
	CU_ASSERT_EQUAL(rz_region_unmap(old, a.pid), -ENOENT);
	CU_ASSERT_PTR_NULL(rz_region_get_mapping(old, RZ_PID_SELF));
	CU_ASSERT_EQUAL(rte_errno, ENOENT);
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(old, a.pid), -ENOENT);
	CU_ASSERT_EQUAL(rz_region_transfer_ownership(old, a.pid), -ENOENT);
	CU_ASSERT_EQUAL(rz_region_create_capability(old, a.pid, RZ_MODE_SHARE, &tok), -ENOENT);
	CU_ASSERT_EQUAL(tok, 0);
	CU_ASSERT_EQUAL(rz_region_owner(old), -ENOENT);
	CU_ASSERT_EQUAL(rz_region_size(old), 0);
	CU_ASSERT_PTR_NULL(rz_region_addr(old));
	CU_ASSERT_EQUAL(rz_region_id(old), 0);
	CU_ASSERT_EQUAL(rz_region_dump(stdout, old), -ENOENT);

	/* The region in the slot is untouched: owner, mappings, contents. */
	CU_ASSERT_EQUAL(rz_region_owner(r2), a.pid);
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(r2, a.pid), RZ_PERM_RW);
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(r2, RZ_PID_SELF), RZ_PERM_RW);
	CU_ASSERT_EQUAL(memcmp(rz_region_get_mapping(r2, RZ_PID_SELF), "still-here", 10), 0);
	CU_ASSERT_EQUAL(rz_region_count(), 1);
	OK(agent_cmd(&a, "unmap %s %d", h2, (int)getpid()));
	OK(agent_cmd(&a, "destroy %s", h2));
	agent_stop(&a);
	CU_ASSERT_EQUAL(rz_region_count(), 0);
}

static void
test_secondary_to_secondary(void)
{
	struct agent a, b;
	struct rz_region *r;
	struct reply rep;
	uint64_t id;

	START(a);
	START(b);
	rep = agent_cmd(&a, "create %u 3", PAGE);
	OK(rep);
	id = rep.val;
	r = rz_region_lookup(id);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(rz_region_owner(r), a.pid);
	/* Owner a maps b: a secondary reaches a secondary directly (its mailbox). */
	OK(agent_cmd(&a, "map %#" PRIx64 " %d 0 3", id, (int)b.pid));
	rep = agent_cmd(&b, "get %#" PRIx64 " 0", id);
	OK(rep);
	CU_ASSERT_EQUAL(rep.val, (uint64_t)(uintptr_t)rz_region_addr(r));
	OK(agent_cmd(&b, "write %#" PRIx64 " 100 relayed", id));
	OK(agent_cmd(&a, "map %#" PRIx64 " 0 0 1", id));
	rep = agent_cmd(&a, "read %#" PRIx64 " 100 7", id);
	OK(rep);
	CU_ASSERT_STRING_EQUAL(rep.text, "relayed");
	/* And a view in b, placed by a. */
	OK(agent_cmd(&a, "unmap %#" PRIx64 " %d", id, (int)b.pid));
	ERR(agent_cmd(&b, "get %#" PRIx64 " 0", id), ENOENT);
	OK(agent_cmd(&a, "map %#" PRIx64 " %d %#" PRIx64 " 1", id, (int)b.pid, VIEW_VA));
	rep = agent_cmd(&b, "read %#" PRIx64 " 100 7", id);
	OK(rep);
	CU_ASSERT_STRING_EQUAL(rep.text, "relayed");
	CU_ASSERT_EQUAL((uint64_t)(uintptr_t)rz_region_get_mapping(r, b.pid), VIEW_VA);
	/* b is not the owner. */
	ERR(agent_cmd(&b, "unmap %#" PRIx64 " %d", id, (int)a.pid), EPERM);
	ERR(agent_cmd(&b, "destroy %#" PRIx64, id), EPERM);
	ERR(agent_cmd(&a, "destroy %#" PRIx64, id), EBUSY);
	CU_ASSERT_PTR_NOT_NULL(rz_region_lookup(id));
	OK(agent_cmd(&a, "unmap %#" PRIx64 " %d", id, (int)b.pid));
	OK(agent_cmd(&a, "destroy %#" PRIx64, id));
	CU_ASSERT_PTR_NULL(rz_region_lookup(id));
	agent_stop(&a);
	agent_stop(&b);
}

static void
test_capabilities(void)
{
	struct rz_region *r = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	uint64_t id, tok, tok2, tokc, tokm, tok4;
	struct agent a, b;
	struct reply rep;
	char *p;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	id = rz_region_id(r);
	p = rz_region_addr(r);
	START(a);
	START(b);
	CU_ASSERT_EQUAL(rz_region_map(r, RZ_PID_SELF, NULL, RZ_PERM_RW), 0);

	/* Share: read/write for its target, once. */
	CU_ASSERT_EQUAL(rz_region_create_capability(r, a.pid, RZ_MODE_SHARE, &tok), 0);
	CU_ASSERT_NOT_EQUAL(tok, 0);
	rep = agent_cmd(&a, "capmap %#" PRIx64 " 0", tok);
	OK(rep);
	CU_ASSERT_EQUAL(rep.val, id);
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(r, a.pid), RZ_PERM_RW);
	OK(agent_cmd(&a, "write %#" PRIx64 " 0 by-capability", id));
	CU_ASSERT_STRING_EQUAL(p, "by-capability");
	ERR(agent_cmd(&a, "capmap %#" PRIx64 " 0", tok), ENOENT);	/* reused */
	ERR(agent_cmd(&b, "capmap %#" PRIx64 " 0", tok ^ (UINT64_C(1) << 40)), ENOENT);	/* forged */
	ERR(agent_cmd(&b, "capmap %#" PRIx64 " 0", tok), ENOENT);

	/* A token is for its target only; a failed use leaves it as it was. */
	CU_ASSERT_EQUAL(rz_region_create_capability(r, a.pid, RZ_MODE_SHARE, &tok2), 0);
	ERR(agent_cmd(&b, "capmap %#" PRIx64 " 0", tok2), EPERM);
	ERR(agent_cmd(&a, "capmap %#" PRIx64 " 0", tok2), EEXIST);
	CU_ASSERT_EQUAL(rz_capability_revoke(tok2), 0);
	CU_ASSERT_EQUAL(rz_capability_revoke(tok2), -ENOENT);
	ERR(agent_cmd(&a, "capmap %#" PRIx64 " 0", tok2), ENOENT);
	/* Only the owner revokes. */
	ERR(agent_cmd(&a, "revoke %#" PRIx64, tok), EPERM);
	/* Revoking a used token takes its mapping away. */
	CU_ASSERT_EQUAL(rz_capability_revoke(tok), 0);
	CU_ASSERT_PTR_NULL(rz_region_get_mapping(r, a.pid));
	ERR(agent_cmd(&a, "get %#" PRIx64 " 0", id), ENOENT);
	CU_ASSERT_STRING_EQUAL(p, "by-capability");

	/* Copy-on-write: read-only, as a view too. */
	CU_ASSERT_EQUAL(rz_region_create_capability(r, b.pid, RZ_MODE_COPY_ON_WRITE, &tokc), 0);
	rep = agent_cmd(&b, "capmap %#" PRIx64 " %#" PRIx64, tokc, VIEW_VA);
	OK(rep);
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(r, b.pid), RZ_PERM_READ);
	rep = agent_cmd(&b, "read %#" PRIx64 " 0 13", id);
	OK(rep);
	CU_ASSERT_STRING_EQUAL(rep.text, "by-capability");
	rep = agent_cmd(&b, "write %#" PRIx64 " 0 no", id);
	CU_ASSERT(!rep.ok);
	agent_wait(&b);
	CU_ASSERT(WIFSIGNALED(b.status) && WTERMSIG(b.status) == SIGSEGV);
	CU_ASSERT_STRING_EQUAL(p, "by-capability");

	/* Move: the target becomes the owner. */
	CU_ASSERT_EQUAL(rz_region_create_capability(r, a.pid, RZ_MODE_MOVE, &tokm), 0);
	OK(agent_cmd(&a, "capmap %#" PRIx64 " 0", tokm));
	CU_ASSERT_EQUAL(rz_region_owner(r), a.pid);
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(r, a.pid), RZ_PERM_RW);
	CU_ASSERT_EQUAL(rz_capability_revoke(tokm), -ENOENT);
	CU_ASSERT_EQUAL(rz_region_create_capability(r, a.pid, RZ_MODE_SHARE, &tok4), -EPERM);
	/* The new owner grants the old one. */
	rep = agent_cmd(&a, "cap %#" PRIx64 " %d 1", id, (int)getpid());
	OK(rep);
	tok4 = strtoull(rep.text, NULL, 0);
	CU_ASSERT_EQUAL(rz_capability_map(tok4, NULL, NULL), -EEXIST);
	CU_ASSERT_EQUAL(rz_region_unmap(r, RZ_PID_SELF), 0);
	CU_ASSERT_EQUAL(rz_capability_map(tok4, NULL, NULL), 0);
	CU_ASSERT_PTR_EQUAL(rz_region_get_mapping(r, RZ_PID_SELF), p);
	/* A capability for a dead or unknown process. */
	ERR(agent_cmd(&a, "cap %#" PRIx64 " %d 1", id, (int)b.pid), ESRCH);
	ERR(agent_cmd(&a, "cap %#" PRIx64 " 999999999 1", id), ESRCH);
	ERR(agent_cmd(&a, "cap %#" PRIx64 " %d 7", id, (int)getpid()), EINVAL);
	/* The owner revokes ours over IPC (secondary -> primary). */
	OK(agent_cmd(&a, "revoke %#" PRIx64, tok4));
	CU_ASSERT_PTR_NULL(rz_region_get_mapping(r, RZ_PID_SELF));
	OK(agent_cmd(&a, "destroy %#" PRIx64, id));
	CU_ASSERT_PTR_NULL(rz_region_lookup(id));
	agent_stop(&a);
}

static void
test_capability_table_full(void)
{
	struct rz_region *r = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	uint64_t tok, first = 0;
	struct agent a;
	int n = 0, ret;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	START(a);
	while ((ret = rz_region_create_capability(r, a.pid, RZ_MODE_SHARE, &tok)) == 0) {
		if (first == 0)
			first = tok;
		n++;
	}
	CU_ASSERT_EQUAL(ret, -ENOSPC);
	CU_ASSERT(n > 1000);
	/* Full table, old tokens still good. */
	OK(agent_cmd(&a, "capmap %#" PRIx64 " 0", first));
	/* Destroying the region drops them all: room again. */
	CU_ASSERT_EQUAL(rz_region_unmap(r, a.pid), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
	r = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(rz_region_create_capability(r, a.pid, RZ_MODE_SHARE, &tok), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
	ERR(agent_cmd(&a, "capmap %#" PRIx64 " 0", tok), ENOENT);
	agent_stop(&a);
}

static void
test_kill9_recovery(void)
{
	struct rz_region *r1 = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW), *r3;
	uint64_t id1, id2, id3, tok;
	struct agent a;
	struct reply rep;
	int count;
	double t0, dt;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r1);
	id1 = rz_region_id(r1);
	START(a);
	CU_ASSERT_EQUAL(rz_region_map(r1, a.pid, NULL, RZ_PERM_RW), 0);
	OK(agent_cmd(&a, "write %#" PRIx64 " 0 written-before-death", id1));
	rep = agent_cmd(&a, "create %u 3", PAGE);	/* owned by a, mapped by nobody */
	OK(rep);
	id2 = rep.val;
	rep = agent_cmd(&a, "create %u 3", PAGE);	/* owned by a, mapped by us */
	OK(rep);
	id3 = rep.val;
	OK(agent_cmd(&a, "map %#" PRIx64 " %d 0 3", id3, (int)getpid()));
	r3 = rz_region_lookup(id3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r3);
	CU_ASSERT_EQUAL(rz_region_create_capability(r1, a.pid, RZ_MODE_SHARE, &tok), 0);
	count = rz_region_count();

	t0 = now_s();
	agent_kill9(&a);
	while ((rz_region_get_mapping(r1, a.pid) != NULL || rte_errno != ESRCH ||
			rz_region_lookup(id2) != NULL ||
			rz_region_owner(r3) != getpid()) && now_s() - t0 < 3.0)
		usleep(5000);
	dt = now_s() - t0;
	printf("\n  kill -9 noticed and released in %.0f ms\n", dt * 1000);
	CU_ASSERT(dt < 1.0);
	/* Its mapping and references are gone... */
	CU_ASSERT_EQUAL(rz_process_attached(a.pid), 0);
	CU_ASSERT_PTR_NULL(rz_region_get_mapping(r1, a.pid));
	CU_ASSERT_EQUAL(rte_errno, ESRCH);
	CU_ASSERT_EQUAL(rz_capability_revoke(tok), -ENOENT);
	/* ...its unmapped region is freed, the mapped one passed to its mapper... */
	CU_ASSERT_PTR_NULL(rz_region_lookup(id2));
	CU_ASSERT_EQUAL(rz_region_owner(r3), getpid());
	CU_ASSERT_EQUAL(rz_region_count(), count - 1);
	/* ...and ours is intact. */
	CU_ASSERT_PTR_EQUAL(rz_region_lookup(id1), r1);
	CU_ASSERT_EQUAL(rz_region_owner(r1), getpid());
	CU_ASSERT_STRING_EQUAL(rz_region_addr(r1), "written-before-death");
	CU_ASSERT_EQUAL(rz_region_destroy(r3), 0);
	CU_ASSERT_PTR_NULL(rz_region_lookup(id3));
	CU_ASSERT_EQUAL(rz_region_destroy(r1), 0);
}

static void
test_dead_and_unknown(void)
{
	struct rz_region *r = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	uint64_t tok = 7;
	struct agent a;
	pid_t dead;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	START(a);
	CU_ASSERT_EQUAL(rz_region_map(r, a.pid, NULL, RZ_PERM_RW), 0);
	/* Busy: destroy refused, nothing changes. */
	CU_ASSERT_EQUAL(rz_region_destroy(r), -EBUSY);
	CU_ASSERT_PTR_NOT_NULL(rz_region_get_mapping(r, a.pid));
	CU_ASSERT_EQUAL(rz_region_count(), 1);
	dead = a.pid;
	agent_stop(&a);	/* rz_fini() in the agent unmaps */
	CU_ASSERT_PTR_NULL(rz_region_get_mapping(r, dead));
	CU_ASSERT_EQUAL(rz_region_map(r, dead, NULL, RZ_PERM_RW), -ESRCH);
	CU_ASSERT_EQUAL(rz_region_unmap(r, dead), -ESRCH);
	CU_ASSERT_EQUAL(rz_region_transfer_ownership(r, dead), -ESRCH);
	CU_ASSERT_EQUAL(rz_region_create_capability(r, dead, RZ_MODE_SHARE, &tok), -ESRCH);
	CU_ASSERT_EQUAL(tok, 7);
	CU_ASSERT_EQUAL(rz_region_map(r, 1, NULL, RZ_PERM_RW), -ESRCH);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

static void
hex(char *out, const void *buf, size_t len)
{
	const uint8_t *b = buf;
	size_t i;

	for (i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	out[2 * len] = '\0';
}

/*
 * Malformed and hostile DPDK IPC messages, sent one way (rte_mp_sendmsg) by a real secondary to
 * the live primary's "rzone_mp" action: rzone's requests go through its mailboxes now, so every
 * one of them, well-formed or not, is counted and dropped, and nothing changes.
 */
static void
test_ipc_fuzz(void)
{
	struct rz_region *r = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	unsigned int seed = (unsigned int)time(NULL), i, malformed = 0;
	char line[2 * 256 + 1];
	struct rz_stats before, after;
	struct rz_mp_msg base;
	struct agent a;
	double t0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	printf("\n  fuzz seed %u\n", seed);
	START(a);
	CU_ASSERT_EQUAL(rz_region_map(r, a.pid, NULL, RZ_PERM_RW), 0);
	memset(&base, 0, sizeof(base));
	base.magic = RZ_MP_MAGIC;
	base.version = RZ_MP_VERSION;
	base.op = RZ_MP_OP_UNMAP;
	base.region_id = rz_region_id(r);
	base.target = 0;
	base.target_pid = getpid();
	base.requester = 1;
	base.deadline_ns = UINT64_MAX;
	CU_ASSERT_EQUAL_FATAL(rz_stats_get(&before), 0);
	for (i = 0; i < 2000; i++) {
		uint8_t buf[256];
		size_t len, k;
		struct rz_mp_msg parsed;

		switch (i % 4) {
		case 0:	/* noise of any length */
			len = (size_t)rand_r(&seed) % sizeof(buf);
			for (k = 0; k < len; k++)
				buf[k] = (uint8_t)rand_r(&seed);
			break;
		case 1:	/* valid header, noise after */
			len = sizeof(base);
			for (k = 0; k < len; k++)
				buf[k] = (uint8_t)rand_r(&seed);
			memcpy(buf, &base, 8);
			break;
		case 2:	/* a plausible request with a byte changed */
			len = sizeof(base);
			memcpy(buf, &base, len);
			buf[(size_t)rand_r(&seed) % len] = (uint8_t)rand_r(&seed);
			break;
		default:	/* truncated or extended */
			len = sizeof(base) + (size_t)(rand_r(&seed) % 17) - 8;
			memcpy(buf, &base, RTE_MIN(len, sizeof(base)));
			if (len > sizeof(base))
				memset(buf + sizeof(base), 0, len - sizeof(base));
			break;
		}
		/* What the handler must count as malformed: the same parser decides. */
		if (mp_msg_parse(buf, len, RZ_MAX_PROCS, &parsed, NULL) < 0)
			malformed++;
		hex(line, buf, len);
		OK(agent_cmd(&a, "rawmp %s", line));
	}
	/* One-way messages: wait until the handler has seen them all. */
	t0 = now_s();
	do {
		usleep(10000);
		CU_ASSERT_EQUAL_FATAL(rz_stats_get(&after), 0);
	} while (after.ipc_rejected - before.ipc_rejected < i && now_s() - t0 < 10.0);
	printf("  %u messages, %u malformed, %" PRIu64 " rejected by the primary\n", i, malformed,
			after.ipc_rejected - before.ipc_rejected);
	CU_ASSERT(malformed > 1000);
	CU_ASSERT_EQUAL(after.ipc_rejected - before.ipc_rejected, i);
	/* None took the mapping away or changed the region. */
	CU_ASSERT_PTR_NOT_NULL(rz_region_get_mapping(r, a.pid));
	CU_ASSERT_EQUAL(rz_region_count(), 1);
	CU_ASSERT_EQUAL(rz_region_owner(r), getpid());
	/* And the primary still serves real requests. */
	CU_ASSERT_EQUAL(rz_region_unmap(r, a.pid), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
	agent_stop(&a);
}

/* A plain DPDK secondary that never attaches to rzone must not stall anyone's requests. */
static void
test_bystander_secondary(void)
{
	struct rz_region *r = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	struct agent a, bystander;
	double t0, dt;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	START(a);
	CU_ASSERT_FATAL(agent_start_mode(&bystander, "--no-rzone") == 0);
	/* And one that left rzone. */
	OK(agent_cmd(&a, "fini"));
	agent_stop(&a);
	START(a);
	t0 = now_s();
	CU_ASSERT_EQUAL(rz_region_map(r, a.pid, NULL, RZ_PERM_RW), 0);
	CU_ASSERT_EQUAL(rz_region_unmap(r, a.pid), 0);
	dt = now_s() - t0;
	printf("\n  map + unmap with a bystander attached: %.2f ms\n", dt * 1000);
	CU_ASSERT(dt < 0.5);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
	agent_stop(&a);
	agent_stop(&bystander);
}

/*
 * A target that cannot answer in time (stopped): the request times out, and when the target
 * wakes up and finds the request, it refuses it. After -ETIMEDOUT nothing is mapped, ever.
 */
static void
test_timeout_changes_nothing(void)
{
	struct rz_region *r = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	struct agent a;
	double t0;
	int st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	START(a);
	kill(a.pid, SIGSTOP);
	/* Until every thread of it has stopped. */
	CU_ASSERT_FATAL(waitpid(a.pid, &st, WUNTRACED) == a.pid && WIFSTOPPED(st));
	t0 = now_s();
	CU_ASSERT_EQUAL(rz_region_map(r, a.pid, NULL, RZ_PERM_RW), -ETIMEDOUT);
	printf("\n  stopped target: -ETIMEDOUT after %.2f s\n", now_s() - t0);
	CU_ASSERT_PTR_NULL(rz_region_get_mapping(r, a.pid));
	kill(a.pid, SIGCONT);
	/* The late request reaches the target now: it must refuse it. */
	OK(agent_cmd(&a, "pid"));
	usleep(300 * 1000);
	CU_ASSERT_PTR_NULL(rz_region_get_mapping(r, a.pid));
	ERR(agent_cmd(&a, "get %#" PRIx64 " 0", rz_region_id(r)), ENOENT);
	/* And it serves the next request normally. */
	CU_ASSERT_EQUAL(rz_region_map(r, a.pid, NULL, RZ_PERM_READ), 0);
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(r, a.pid), RZ_PERM_READ);
	CU_ASSERT_EQUAL(rz_region_unmap(r, a.pid), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
	agent_stop(&a);
}

/* Revoking a used capability whose target does not answer: -ETIMEDOUT, and the capability and
 * its mapping stay as they were (before, the token was freed and the mapping left in place,
 * silently). Revoking again once the target answers takes the mapping away. */
static void
test_revoke_unanswered(void)
{
	struct rz_region *r = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	struct rz_stats before, after;
	struct reply rep;
	struct agent a;
	uint64_t tok;
	int st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	START(a);
	CU_ASSERT_EQUAL_FATAL(rz_region_create_capability(r, a.pid, RZ_MODE_SHARE, &tok), 0);
	rep = agent_cmd(&a, "capmap %#" PRIx64 " 0", tok);
	OK(rep);
	CU_ASSERT_EQUAL(rep.val, rz_region_id(r));
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(r, a.pid), RZ_PERM_RW);
	CU_ASSERT_EQUAL(rz_stats_get(&before), 0);
	kill(a.pid, SIGSTOP);
	CU_ASSERT_FATAL(waitpid(a.pid, &st, WUNTRACED) == a.pid && WIFSTOPPED(st));
	CU_ASSERT_EQUAL(rz_capability_revoke(tok), -ETIMEDOUT);
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(r, a.pid), RZ_PERM_RW);
	CU_ASSERT_EQUAL(rz_stats_get(&after), 0);
	CU_ASSERT_EQUAL(after.capabilities, before.capabilities);
	kill(a.pid, SIGCONT);
	OK(agent_cmd(&a, "pid"));
	/* The late request is refused by the target (past its deadline): still mapped. */
	usleep(300 * 1000);
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(r, a.pid), RZ_PERM_RW);
	OK(agent_cmd(&a, "write %#" PRIx64 " 0 mapped", rz_region_id(r)));
	/* The capability is still revocable, and now it goes with its mapping. */
	CU_ASSERT_EQUAL(rz_capability_revoke(tok), 0);
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(r, a.pid), -ENOENT);
	ERR(agent_cmd(&a, "get %#" PRIx64 " 0", rz_region_id(r)), ENOENT);
	CU_ASSERT_EQUAL(rz_capability_revoke(tok), -ENOENT);
	CU_ASSERT_EQUAL(rz_stats_get(&after), 0);
	CU_ASSERT_EQUAL(after.capabilities, before.capabilities - 1);
	agent_stop(&a);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

/* The owner dies and only a Copy-on-write mapper is left: it inherits the region with the
 * ceiling lowered to read, so ownership gives it no write power. */
static void
test_cow_heir_keeps_its_rights(void)
{
	struct rz_region *r;
	struct agent a, b;
	struct reply rep;
	uint64_t id, tok;
	double t0;

	START(a);
	START(b);
	rep = agent_cmd(&b, "create %u 3", PAGE);
	OK(rep);
	id = rep.val;
	r = rz_region_lookup(id);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	ERR(agent_cmd(&b, "write h%p 0 x", (void *)r), ENOENT);	/* b does not map it */
	rep = agent_cmd(&b, "cap %#" PRIx64 " %d 2", id, (int)a.pid);	/* Copy-on-write */
	OK(rep);
	tok = rep.val;
	OK(agent_cmd(&a, "capmap %#" PRIx64 " 0", tok));
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(r, a.pid), RZ_PERM_READ);
	CU_ASSERT_EQUAL(rz_region_perms(r), RZ_PERM_RW);
	agent_kill9(&b);
	t0 = now_s();
	while (rz_region_owner(r) != a.pid && now_s() - t0 < 3.0)
		usleep(2000);
	CU_ASSERT_EQUAL_FATAL(rz_region_owner(r), a.pid);
	CU_ASSERT_EQUAL(rz_region_perms(r), RZ_PERM_READ);
	/* The heir cannot hand out (or take) write rights. */
	ERR(agent_cmd(&a, "map %#" PRIx64 " %d 0 3", id, (int)getpid()), EPERM);
	CU_ASSERT_PTR_NULL(rz_region_get_mapping(r, RZ_PID_SELF));
	OK(agent_cmd(&a, "map %#" PRIx64 " %d 0 1", id, (int)getpid()));
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(r, RZ_PID_SELF), RZ_PERM_READ);
	OK(agent_cmd(&a, "unmap %#" PRIx64 " %d", id, (int)getpid()));
	OK(agent_cmd(&a, "destroy %#" PRIx64, id));
	agent_stop(&a);
}

#ifdef RZ_FAULT_INJECTION
static void
count_arena_mz(const struct rte_memzone *mz, void *arg)
{
	if (strncmp(mz->name, "rz_arena_", 9) == 0)
		(*(unsigned int *)arg)++;
}

static unsigned int
arena_memzones(void)
{
	unsigned int n = 0;

	rte_memzone_walk(count_arena_mz, &n);
	return n;
}

/* After a kill: the dead agent is released, the table checks consistent, the arena memzones
 * are back to @mz0, and the instance works (create, map, write, destroy, here and in a new
 * secondary). */
static void
after_kill(struct agent *a, const char *point, unsigned int mz0, int regions0)
{
	struct rz_region *r;
	struct agent b;
	double t0 = now_s();
	int found, st;
	uint8_t *p;

	st = agent_wait(a);
	CU_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);	/* killed at its point */
	while ((rz_process_attached(a->pid) != 0 || arena_memzones() > mz0 ||
			rz_region_count() != regions0) && now_s() - t0 < 3.0) {
		rz_check(NULL);	/* takes the lock: repairs if the holder died */
		usleep(5000);
	}
	found = rz_check(stderr);
	printf("\n  %-18s released in %4.0f ms, check: %d finding(s)", point,
			(now_s() - t0) * 1000, found);
	CU_ASSERT_EQUAL(found, 0);
	CU_ASSERT_EQUAL(rz_process_attached(a->pid), 0);
	CU_ASSERT(arena_memzones() <= mz0);	/* none lost (the primary trims empty ones) */
	CU_ASSERT_EQUAL(rz_region_count(), regions0);
	r = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(rz_region_map(r, RZ_PID_SELF, NULL, RZ_PERM_RW), 0);
	p = rz_region_get_mapping(r, RZ_PID_SELF);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(p[0], 0);
	CU_ASSERT_EQUAL(p[PAGE - 1], 0);
	START(b);
	CU_ASSERT_EQUAL(rz_region_map(r, b.pid, NULL, RZ_PERM_RW), 0);
	OK(agent_cmd(&b, "write %#" PRIx64 " 0 alive", rz_region_id(r)));
	CU_ASSERT_EQUAL(memcmp(p, "alive", 5), 0);
	agent_stop(&b);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
	CU_ASSERT_EQUAL(rz_check(stderr), 0);
}

/*
 * The reaper killed while it releases a dead process: secondary B creates a region it alone
 * maps (freed when B is reaped) and one this process maps too (handed to us), then dies;
 * secondary A, with the fault point set, is the only reaper (this process holds its own back
 * with RZ_FAULT_SKIP) and is killed at @point with the table lock held. Then this process
 * reaps both: B's regions end as they should, and the table checks consistent.
 */
static void
kill_reaper(const char *point, unsigned int mz0, int regions0)
{
	struct reply own, shared;
	struct agent a, b;
	double t0;
	int st;

	START(b);
	own = agent_cmd(&b, "create %u 3", PAGE);
	OK(own);
	OK(agent_cmd(&b, "map %#" PRIx64 " 0 0 3", own.val));
	shared = agent_cmd(&b, "create %u 3", PAGE);
	OK(shared);
	OK(agent_cmd(&b, "map %#" PRIx64 " 0 0 3", shared.val));
	OK(agent_cmd(&b, "map %#" PRIx64 " %d 0 3", shared.val, (int)getpid()));
	START(a);
	OK(agent_cmd(&a, "fault %s", point));
	CU_ASSERT_EQUAL_FATAL(setenv("RZ_FAULT_SKIP", "reap", 1), 0);
	kill(b.pid, SIGKILL);
	st = agent_wait(&b);
	CU_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	/* A's control thread finds B dead within a reaper period or two and dies at @point. */
	t0 = now_s();
	while (!a.reaped && now_s() - t0 < 5.0) {
		if (waitpid(a.pid, &a.status, WNOHANG) == a.pid)
			a.reaped = 1;
		else
			usleep(5000);
	}
	unsetenv("RZ_FAULT_SKIP");
	if (!a.reaped)
		kill(a.pid, SIGKILL);
	st = agent_wait(&a);
	CU_ASSERT_FATAL(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);	/* A died at @point */
	t0 = now_s();
	while ((rz_region_lookup(own.val) != NULL || rz_region_count() != regions0 + 1 ||
			rz_process_attached(b.pid) != 0 || rz_process_attached(a.pid) != 0 ||
			rz_region_owner(rz_region_lookup(shared.val)) != getpid()) &&
			now_s() - t0 < 3.0) {
		rz_check(NULL);
		usleep(5000);
	}
	printf("\n  %-18s released in %4.0f ms, check: %d finding(s)", point,
			(now_s() - t0) * 1000, rz_check(stderr));
	CU_ASSERT_EQUAL(rz_check(stderr), 0);
	CU_ASSERT_PTR_NULL(rz_region_lookup(own.val));	/* B alone mapped it: freed */
	CU_ASSERT_EQUAL(rz_region_owner(rz_region_lookup(shared.val)), getpid());
	CU_ASSERT_EQUAL(rz_region_count(), regions0 + 1);
	CU_ASSERT_EQUAL(rz_process_attached(a.pid), 0);
	CU_ASSERT_EQUAL(rz_process_attached(b.pid), 0);
	CU_ASSERT(arena_memzones() <= mz0);
	CU_ASSERT_EQUAL(rz_region_destroy(rz_region_lookup(shared.val)), 0);
	CU_ASSERT_EQUAL(rz_check(stderr), 0);
}

/*
 * A secondary is SIGKILLed at each step of create, destroy, transfer and capability use (the
 * fault points of a -Dfault_injection build), with the table lock held or, for the zeroing of
 * a destroyed region, without it. After each: the invariants hold (rz_check), no page or
 * memzone is lost, and the instance works.
 */
static void
test_kill_points(void)
{
	static const char *const create_points[] = {
		"create.arena", "create.fields", "create.id",
	};
	static const char *const destroy_points[] = {
		"destroy.unlinked", "destroy.zeroing", "destroy.released",
	};
	static const char *const transfer_points[] = { "transfer.locked", "transfer.owner" };
	static const char *const grow_points[] = { "arena.ask", "arena.asked" };
	static const char *const reap_points[] = { "reap.release", "reap.region" };
	/* Keeps the shared arena alive, so that a destroy zeroes outside the lock. */
	struct rz_region *keep = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	unsigned int i, mz0;
	struct reply rep;
	struct agent a;
	int regions0;
	uint64_t id, tok;

	CU_ASSERT_PTR_NOT_NULL_FATAL(keep);
	CU_ASSERT_EQUAL(rz_check(stderr), 0);
	mz0 = arena_memzones();
	regions0 = rz_region_count();
	for (i = 0; i < RTE_DIM(create_points); i++) {
		START(a);
		OK(agent_cmd(&a, "fault %s", create_points[i]));
		CU_ASSERT_EQUAL(agent_cmd(&a, "create %u 3", PAGE).err, EPIPE);
		after_kill(&a, create_points[i], mz0, regions0);
	}
	/* A region of its own arena: the secondary asks the primary for it (only the primary
	 * calls DPDK's allocator) and dies before asking, or once the primary reserved it. */
	for (i = 0; i < RTE_DIM(grow_points); i++) {
		START(a);
		OK(agent_cmd(&a, "fault %s", grow_points[i]));
		CU_ASSERT_EQUAL(agent_cmd(&a, "create %u 3", (RZ_ARENA_PAGES + 1) * PAGE).err,
				EPIPE);
		after_kill(&a, grow_points[i], mz0, regions0);
	}
	/* And the same growth, and shrink, by a secondary that lives: it works. */
	START(a);
	rep = agent_cmd(&a, "create %u 3", (RZ_ARENA_PAGES + 1) * PAGE);
	OK(rep);
	OK(agent_cmd(&a, "destroy %#" PRIx64, rep.val));
	agent_stop(&a);
	CU_ASSERT_EQUAL(rz_check(stderr), 0);
	for (i = 0; i < RTE_DIM(destroy_points); i++) {
		START(a);
		rep = agent_cmd(&a, "create %u 3", PAGE);
		OK(rep);
		OK(agent_cmd(&a, "map %#" PRIx64 " 0 0 3", rep.val));
		OK(agent_cmd(&a, "write %#" PRIx64 " 0 secret", rep.val));
		OK(agent_cmd(&a, "fault %s", destroy_points[i]));
		CU_ASSERT_EQUAL(agent_cmd(&a, "destroy %#" PRIx64, rep.val).err, EPIPE);
		after_kill(&a, destroy_points[i], mz0, regions0);
	}
	/* A secondary mapping and unmapping a region it owns (nobody else maps it: the reaper
	 * frees it after the kill). */
	START(a);
	rep = agent_cmd(&a, "create %u 3", PAGE);
	OK(rep);
	OK(agent_cmd(&a, "fault map.counted"));
	CU_ASSERT_EQUAL(agent_cmd(&a, "map %#" PRIx64 " 0 0 3", rep.val).err, EPIPE);
	after_kill(&a, "map.counted", mz0, regions0);
	START(a);
	rep = agent_cmd(&a, "create %u 3", PAGE);
	OK(rep);
	OK(agent_cmd(&a, "map %#" PRIx64 " 0 0 3", rep.val));
	OK(agent_cmd(&a, "fault unmap.cleared"));
	CU_ASSERT_EQUAL(agent_cmd(&a, "unmap %#" PRIx64 " 0", rep.val).err, EPIPE);
	after_kill(&a, "unmap.cleared", mz0, regions0);
	for (i = 0; i < RTE_DIM(transfer_points); i++) {
		START(a);
		rep = agent_cmd(&a, "create %u 3", PAGE);
		OK(rep);
		id = rep.val;
		OK(agent_cmd(&a, "map %#" PRIx64 " %d 0 3", id, (int)getpid()));
		OK(agent_cmd(&a, "fault %s", transfer_points[i]));
		CU_ASSERT_EQUAL(agent_cmd(&a, "transfer %#" PRIx64 " %d", id, (int)getpid()).err,
				EPIPE);
		/* Either way the region ends with us, its only mapper, as a full owner. */
		after_kill(&a, transfer_points[i], mz0, regions0 + 1);
		CU_ASSERT_EQUAL(rz_region_owner(rz_region_lookup(id)), getpid());
		CU_ASSERT_EQUAL(rz_region_destroy(rz_region_lookup(id)), 0);
	}
	START(a);
	CU_ASSERT_EQUAL_FATAL(rz_region_create_capability(keep, a.pid, RZ_MODE_SHARE, &tok), 0);
	OK(agent_cmd(&a, "fault capmap.locked"));
	CU_ASSERT_EQUAL(agent_cmd(&a, "capmap %#" PRIx64 " 0", tok).err, EPIPE);
	after_kill(&a, "capmap.locked", mz0, regions0);
	CU_ASSERT_EQUAL(rz_capability_revoke(tok), -ENOENT);	/* went with its target */
	for (i = 0; i < RTE_DIM(reap_points); i++)
		kill_reaper(reap_points[i], mz0, regions0);
	printf("\n");
	CU_ASSERT_EQUAL(rz_region_destroy(keep), 0);
}
#endif

struct hammer {
	struct rz_region *r;
	pid_t target;
	int stop;	/* atomic */
	unsigned int calls, ok;
};

static void *
hammer_run(void *arg)
{
	struct hammer *h = arg;

	while (!__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE)) {
		int ret = rz_region_map(h->r, h->target, NULL, RZ_PERM_RW);

		h->calls++;
		if (ret == 0) {
			h->ok++;
			rz_region_unmap(h->r, h->target);
		} else if (ret == -ESRCH) {
			break;	/* the target left */
		}
	}
	return NULL;
}

/* rz_fini() while MAP/UNMAP requests keep arriving on the IPC thread: the process leaves
 * cleanly (exit status 0, no crash or sanitizer report), 10 times over. */
static void
test_fini_under_ipc(void)
{
	struct rz_region *r = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	unsigned int round, total = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	for (round = 0; round < 10; round++) {
		struct hammer h = { .r = r };
		struct agent a;
		pthread_t th;
		int st;

		START(a);
		h.target = a.pid;
		CU_ASSERT_FATAL(pthread_create(&th, NULL, hammer_run, &h) == 0);
		usleep(20 * 1000 + round * 3000);
		OK(agent_cmd(&a, "quit"));	/* rz_fini(), rte_eal_cleanup(), exit(0) */
		st = agent_wait(&a);
		CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		__atomic_store_n(&h.stop, 1, __ATOMIC_RELEASE);
		pthread_join(th, NULL);
		total += h.calls;
		CU_ASSERT_PTR_NULL(rz_region_get_mapping(r, a.pid));
	}
	printf("\n  %u map/unmap requests raced 10 rz_fini()s\n", total);
	CU_ASSERT(total > 10);
	CU_ASSERT_EQUAL(rz_check(stderr), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

/* Open file descriptors of this process. */
static unsigned int
open_fds(void)
{
	unsigned int n = 0;
	struct dirent *d;
	DIR *dir = opendir("/proc/self/fd");

	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	while ((d = readdir(dir)) != NULL)
		n += d->d_name[0] != '.';
	closedir(dir);
	return n - 1;	/* the directory's own */
}

/* A local process sends the primary 2,000 rzone messages with 8 descriptors each: every one is
 * rejected, and every descriptor closed (before, the primary reached EMFILE and its IPC
 * stopped for good). */
static void
test_fd_flood(void)
{
	const unsigned int n = 2000, nfds = 8;
	struct rz_stats before, after;
	unsigned int base, fds;
	struct reply rep;
	struct agent a;
	double t0;

	START(a);
	/* This process keeps a pidfd per live process slot, opened at the first liveness check
	 * of it (lib/proc): have it now, so that the count before includes it. */
	CU_ASSERT_EQUAL_FATAL(rz_process_attached(a.pid), 1);
	base = open_fds();
	CU_ASSERT_EQUAL_FATAL(rz_stats_get(&before), 0);
	rep = agent_cmd(&a, "fdflood %u %u", n, nfds);
	OK(rep);
	CU_ASSERT_EQUAL(rep.val, n);
	t0 = now_s();
	do {
		usleep(10000);
		CU_ASSERT_EQUAL_FATAL(rz_stats_get(&after), 0);
	} while (after.ipc_rejected - before.ipc_rejected < n && now_s() - t0 < 30.0);
	/* Another thread of this process (DPDK's, rzone's reaper) may hold a descriptor for a
	 * moment: a leak stays, a passing one does not. */
	t0 = now_s();
	while ((fds = open_fds()) != base && now_s() - t0 < 2.0)
		usleep(10000);
	printf("\n  %u messages x %u fds sent, %" PRIu64 " rejected; primary fds %u before, %u "
			"after\n", n, nfds, after.ipc_rejected - before.ipc_rejected, base, fds);
	CU_ASSERT_EQUAL(after.ipc_rejected - before.ipc_rejected, n);
	CU_ASSERT_EQUAL(fds, base);
	/* The primary still serves requests, and a new secondary still attaches. */
	{
		struct rz_region *r = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
		struct agent b;

		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		START(b);
		CU_ASSERT_EQUAL(rz_region_map(r, b.pid, NULL, RZ_PERM_READ), 0);
		CU_ASSERT_EQUAL(rz_region_unmap(r, b.pid), 0);
		CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
		agent_stop(&b);
	}
	agent_stop(&a);
}

/* "liveness_unknown" of /rzone/info. */
static uint64_t
liveness_unknown(void)
{
	char out[2048];
	const char *p;

	CU_ASSERT_EQUAL_FATAL(rz_test_telemetry("/rzone/info", out, sizeof(out)), 0);
	p = strstr(out, "\"liveness_unknown\":");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	return strtoull(p + strlen("\"liveness_unknown\":"), NULL, 10);
}

/* A secondary held at its file descriptor limit cannot open a pidfd: that proves nothing, and
 * it must not reap the live secondary that attaches and uses a region meanwhile. */
static void
test_emfile_reaps_nobody(void)
{
	struct rz_stats before, after;
	uint64_t unknown0, id, held;
	struct agent a, b;
	struct reply rep;

	START(a);
	rep = agent_cmd(&a, "fillfds");
	OK(rep);
	held = rep.val;
	CU_ASSERT(held > 0);
	CU_ASSERT_EQUAL_FATAL(rz_stats_get(&before), 0);
	unknown0 = liveness_unknown();
	START(b);
	rep = agent_cmd(&b, "create %u 3", PAGE);
	OK(rep);
	id = rep.val;
	OK(agent_cmd(&b, "map %#" PRIx64 " 0 0 3", id));
	OK(agent_cmd(&b, "write %#" PRIx64 " 0 still-here", id));
	/* A's control thread checks B's liveness every 200 ms, at EMFILE each time. */
	sleep(2);
	rep = agent_cmd(&b, "read %#" PRIx64 " 0 10", id);
	OK(rep);
	CU_ASSERT_STRING_EQUAL(rep.text, "still-here");
	CU_ASSERT_EQUAL(rz_process_attached(b.pid), 1);
	CU_ASSERT_EQUAL(rz_process_attached(a.pid), 1);
	CU_ASSERT_PTR_NOT_NULL(rz_region_lookup(id));
	CU_ASSERT_EQUAL_FATAL(rz_stats_get(&after), 0);
	CU_ASSERT_EQUAL(after.reaped, before.reaped);
	printf("\n  secondary at EMFILE (%" PRIu64 " fds held): %" PRIu64 " liveness checks proved "
			"nothing, %" PRIu64 " processes reaped\n", held,
			liveness_unknown() - unknown0, after.reaped - before.reaped);
	/* The EMFILE path was taken (A could not tell), and nothing was reaped for it. */
	CU_ASSERT(liveness_unknown() > unknown0);
	OK(agent_cmd(&a, "freefds"));
	OK(agent_cmd(&b, "unmap %#" PRIx64 " 0", id));
	OK(agent_cmd(&b, "destroy %#" PRIx64, id));
	agent_stop(&b);
	agent_stop(&a);
}

/* Process slot of @pid in the shared table (the test links the library, not its internals). */
static uint32_t
slot_of(pid_t pid)
{
	const struct rte_memzone *mz = rte_memzone_lookup(RZ_TABLE_MZ);
	const struct rz_table *t;
	uint32_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mz);
	t = mz->addr;
	for (i = 0; i < RZ_MAX_PROCS; i++)
		if (__atomic_load_n(&t->procs[i].state, __ATOMIC_ACQUIRE) == PROC_LIVE &&
				t->procs[i].pid == pid)
			return i;
	CU_FAIL("pid not in the table");
	return 0;
}

/*
 * Malformed and hostile requests through the shared mailboxes: a real secondary writes noise,
 * or a plausible UNMAP with a byte or a word changed, into its own records and posts them to the
 * live primary. Every malformed one is answered -EPROTO and counted; the others are refused or
 * ignored; none changes anything, and the primary keeps serving.
 */
static void
test_mailbox_fuzz(void)
{
	struct rz_region *r = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	unsigned int seed = (unsigned int)time(NULL), n = 1500, answered, ignored, other, done;
	struct rz_stats before, after;
	struct reply rep;
	struct agent a;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	START(a);
	CU_ASSERT_EQUAL(rz_region_map(r, a.pid, NULL, RZ_PERM_RW), 0);
	CU_ASSERT_EQUAL(rz_region_map(r, RZ_PID_SELF, NULL, RZ_PERM_RW), 0);
	CU_ASSERT_EQUAL_FATAL(rz_stats_get(&before), 0);
	rep = agent_cmd(&a, "mbfuzz %u %u %u %#" PRIx64, slot_of(getpid()), n, seed,
			rz_region_id(r));
	OK(rep);
	CU_ASSERT_EQUAL(sscanf(rep.text, "%u %u %u %u", &answered, &ignored, &other, &done), 4);
	CU_ASSERT_EQUAL_FATAL(rz_stats_get(&after), 0);
	printf("\n  mailbox fuzz seed %u: %u requests, %u rejected (-EPROTO), %u ignored (not for "
			"us), %u refused, %u done; primary counted %" PRIu64 "\n", seed, n,
			answered, ignored, other, done, after.ipc_rejected - before.ipc_rejected);
	CU_ASSERT_EQUAL(answered + ignored + other + done, n);
	CU_ASSERT(answered > n / 2);
	CU_ASSERT_EQUAL(done, 0);
	CU_ASSERT_EQUAL(after.ipc_rejected - before.ipc_rejected, answered);
	/* Nothing changed, and real requests are served. */
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(r, a.pid), RZ_PERM_RW);
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(r, RZ_PID_SELF), RZ_PERM_RW);
	CU_ASSERT_EQUAL(rz_region_owner(r), getpid());
	CU_ASSERT_EQUAL(rz_region_count(), 1);
	CU_ASSERT_EQUAL(rz_region_unmap(r, a.pid), 0);
	OK(agent_cmd(&a, "count"));
	CU_ASSERT_EQUAL(rz_region_unmap(r, RZ_PID_SELF), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
	agent_stop(&a);
}

static int
cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

/* p99 (and max in *@max) of @n map+unmap pairs of @r into @pid from this process, seconds. */
static double
pair_p99(struct rz_region *r, pid_t pid, unsigned int n, double *max)
{
	double v[200];
	unsigned int i;

	CU_ASSERT_FATAL(n <= RTE_DIM(v));
	for (i = 0; i < n; i++) {
		double t0 = now_s();

		CU_ASSERT_EQUAL(rz_region_map(r, pid, NULL, RZ_PERM_RW), 0);
		CU_ASSERT_EQUAL(rz_region_unmap(r, pid), 0);
		v[i] = now_s() - t0;
	}
	qsort(v, n, sizeof(v[0]), cmp_double);
	*max = v[n - 1];
	return v[n * 99 / 100];
}

struct bg_map {
	struct rz_region *r;
	pid_t pid;
	int ret;
	double dt;
};

static void *
bg_map_run(void *arg)
{
	struct bg_map *b = arg;
	double t0 = now_s();

	b->ret = rz_region_map(b->r, b->pid, NULL, RZ_PERM_RW);
	b->dt = now_s() - t0;
	return NULL;
}

/*
 * A SIGSTOPped secondary stops nobody else: while a map into it waits (in another thread), maps
 * into a live bystander keep their latency, a secondary maps into another secondary, and a new
 * secondary attaches (DPDK's IPC thread is free); the map into the stopped one fails with
 * -ETIMEDOUT within its 2 s (+ 100 ms), and changes nothing.
 */
static void
test_stopped_stops_nobody(void)
{
	struct rz_region *r = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	struct rz_region *r2 = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	double p99_before, p99_during, max_before, max_during, t0, dt;
	struct agent a, b, c;
	struct bg_map bg;
	struct reply rep;
	pthread_t th;
	uint64_t id;
	int st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r2);
	START(a);
	START(b);
	p99_before = pair_p99(r, b.pid, 200, &max_before);
	kill(a.pid, SIGSTOP);
	CU_ASSERT_FATAL(waitpid(a.pid, &st, WUNTRACED) == a.pid && WIFSTOPPED(st));
	bg.r = r2;
	bg.pid = a.pid;
	CU_ASSERT_FATAL(pthread_create(&th, NULL, bg_map_run, &bg) == 0);
	usleep(10000);
	t0 = now_s();
	p99_during = pair_p99(r, b.pid, 200, &max_during);
	/* A new secondary attaches meanwhile, and is mapped into by another secondary. */
	START(c);
	rep = agent_cmd(&b, "create %u 3", PAGE);
	OK(rep);
	id = rep.val;
	OK(agent_cmd(&b, "map %#" PRIx64 " %d 0 3", id, (int)c.pid));
	OK(agent_cmd(&c, "write %#" PRIx64 " 0 during-the-stop", id));
	OK(agent_cmd(&b, "unmap %#" PRIx64 " %d", id, (int)c.pid));
	dt = now_s() - t0;
	pthread_join(th, NULL);
	printf("\n  map+unmap into a live secondary: p99 %.0f us (max %.0f) before, p99 %.0f us "
			"(max %.0f) while another is stopped; a new secondary attached and was "
			"mapped into in %.0f ms; map into the stopped one: %d after %.3f s\n",
			p99_before * 1e6, max_before * 1e6, p99_during * 1e6, max_during * 1e6,
			dt * 1e3, bg.ret, bg.dt);
	CU_ASSERT(max_during < 0.1);	/* 20x under the stopped target's timeout */
	CU_ASSERT_EQUAL(bg.ret, -ETIMEDOUT);
	CU_ASSERT(bg.dt >= 1.95 && bg.dt < 2.1);
	CU_ASSERT_PTR_NULL(rz_region_get_mapping(r2, a.pid));
	kill(a.pid, SIGCONT);
	OK(agent_cmd(&a, "pid"));
	usleep(300 * 1000);
	CU_ASSERT_PTR_NULL(rz_region_get_mapping(r2, a.pid));
	CU_ASSERT_EQUAL(rz_region_map(r2, a.pid, NULL, RZ_PERM_READ), 0);
	CU_ASSERT_EQUAL(rz_region_unmap(r2, a.pid), 0);
	OK(agent_cmd(&b, "destroy %#" PRIx64, id));
	agent_stop(&c);
	agent_stop(&b);
	agent_stop(&a);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(r2), 0);
}

#define FLOOD_THREADS 40

/*
 * A flood of requests to a stopped target, from 40 threads at once: at most 16 wait (each until
 * its deadline, then -ETIMEDOUT), the others fail at once with -EBUSY; memory stays bounded
 * (fixed mailbox records), the live bystander is served meanwhile, and nothing is mapped.
 */
static void
test_flood_stopped(void)
{
	struct bg_map bg[FLOOD_THREADS];
	pthread_t th[FLOOD_THREADS];
	struct rz_region *r[FLOOD_THREADS], *rb = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	unsigned int i, busy = 0, timedout = 0;
	double busy_max = 0, to_max = 0, p99, max;
	struct agent a, b;
	int st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rb);
	START(a);
	START(b);
	for (i = 0; i < FLOOD_THREADS; i++) {
		r[i] = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r[i]);
	}
	kill(a.pid, SIGSTOP);
	CU_ASSERT_FATAL(waitpid(a.pid, &st, WUNTRACED) == a.pid && WIFSTOPPED(st));
	for (i = 0; i < FLOOD_THREADS; i++) {
		bg[i].r = r[i];
		bg[i].pid = a.pid;
		CU_ASSERT_FATAL(pthread_create(&th[i], NULL, bg_map_run, &bg[i]) == 0);
	}
	p99 = pair_p99(rb, b.pid, 100, &max);
	for (i = 0; i < FLOOD_THREADS; i++) {
		pthread_join(th[i], NULL);
		if (bg[i].ret == -EBUSY) {
			busy++;
			busy_max = RTE_MAX(busy_max, bg[i].dt);
		} else if (bg[i].ret == -ETIMEDOUT) {
			timedout++;
			to_max = RTE_MAX(to_max, bg[i].dt);
		} else {
			CU_FAIL("a map into a stopped process neither timed out nor was refused");
			fprintf(stderr, "  thread %u: %d\n", i, bg[i].ret);
		}
	}
	printf("\n  %u maps into a stopped process at once: %u -EBUSY (slowest %.1f ms), %u "
			"-ETIMEDOUT (slowest %.3f s); meanwhile map+unmap into a live one p99 %.0f "
			"us, max %.0f us\n", FLOOD_THREADS, busy, busy_max * 1e3, timedout, to_max,
			p99 * 1e6, max * 1e6);
	CU_ASSERT_EQUAL(timedout, 16);
	CU_ASSERT_EQUAL(busy, FLOOD_THREADS - 16);
	CU_ASSERT(busy_max < 0.1);
	CU_ASSERT(to_max < 2.1);
	CU_ASSERT(max < 0.1);
	kill(a.pid, SIGCONT);
	OK(agent_cmd(&a, "pid"));
	usleep(300 * 1000);
	for (i = 0; i < FLOOD_THREADS; i++) {
		CU_ASSERT_PTR_NULL(rz_region_get_mapping(r[i], a.pid));
		CU_ASSERT_EQUAL(rz_region_destroy(r[i]), 0);
	}
	/* The target serves again, with all its records free. */
	CU_ASSERT_EQUAL(rz_region_map(rb, a.pid, NULL, RZ_PERM_RW), 0);
	CU_ASSERT_EQUAL(rz_region_unmap(rb, a.pid), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(rb), 0);
	agent_stop(&b);
	agent_stop(&a);
}

/* Remove the runtime files of DPDK instance @prefix (all its processes are gone). */
static void
remove_instance(const char *prefix)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf /var/run/dpdk/%s /dev/hugepages/%smap_*", prefix,
			prefix);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

/*
 * Life after the primary: in an instance of their own, a primary (an agent) is killed with -9
 * under two live secondaries. They keep mapping and unmapping into each other (no relay), keep
 * creating regions in the arenas that exist, and a create that needs a new arena fails at once
 * with EHOSTDOWN, changing nothing.
 */
static void
test_primary_killed(void)
{
	char prefix[64], prefix_arg[80];
	struct agent p, a, b;
	uint64_t id, id2;
	struct reply rep;
	unsigned int i;
	int count;
	double t0, dt;

	snprintf(prefix, sizeof(prefix), "rzt-mp-orphan-%d", (int)getpid());
	snprintf(prefix_arg, sizeof(prefix_arg), "--file-prefix=%s", prefix);
	CU_ASSERT_FATAL(agent_start_in(&p, "--proc-type=primary", prefix_arg, NULL) == 0);
	CU_ASSERT_FATAL(agent_start_in(&a, "--proc-type=secondary", prefix_arg, NULL) == 0);
	CU_ASSERT_FATAL(agent_start_in(&b, "--proc-type=secondary", prefix_arg, NULL) == 0);
	rep = agent_cmd(&a, "create %u 3", PAGE);	/* the primary reserves a shared arena */
	OK(rep);
	id = rep.val;
	OK(agent_cmd(&a, "map %#" PRIx64 " %d 0 3", id, (int)b.pid));
	OK(agent_cmd(&a, "unmap %#" PRIx64 " %d", id, (int)b.pid));
	agent_kill9(&p);
	/* At once, before and after the secondaries notice the death (reaped within 200 ms). */
	for (i = 0; i < 2; i++) {
		t0 = now_s();
		OK(agent_cmd(&a, "map %#" PRIx64 " %d 0 3", id, (int)b.pid));
		OK(agent_cmd(&b, "write %#" PRIx64 " 0 no-primary", id));
		OK(agent_cmd(&a, "map %#" PRIx64 " 0 0 1", id));
		rep = agent_cmd(&a, "read %#" PRIx64 " 0 10", id);
		OK(rep);
		CU_ASSERT_STRING_EQUAL(rep.text, "no-primary");
		OK(agent_cmd(&a, "unmap %#" PRIx64 " %d", id, (int)b.pid));
		ERR(agent_cmd(&b, "get %#" PRIx64 " 0", id), ENOENT);
		OK(agent_cmd(&a, "unmap %#" PRIx64 " 0", id));
		dt = now_s() - t0;
		printf("\n  primary killed (%s): secondary->secondary map, write, read, unmap in "
				"%.1f ms", i == 0 ? "just now" : "reaped", dt * 1e3);
		CU_ASSERT(dt < 1.5);	/* one request waiting for its 2 s deadline would not */
		/* A region in the shared arena that exists: no primary needed. */
		rep = agent_cmd(&b, "create %u 3", PAGE);
		OK(rep);
		id2 = rep.val;
		OK(agent_cmd(&b, "map %#" PRIx64 " %d 0 3", id2, (int)a.pid));
		OK(agent_cmd(&b, "unmap %#" PRIx64 " %d", id2, (int)a.pid));
		OK(agent_cmd(&b, "destroy %#" PRIx64, id2));
		/* One that needs a new arena: only a primary reserves memory. */
		rep = agent_cmd(&a, "count");
		OK(rep);
		count = (int)rep.val;
		t0 = now_s();
		ERR(agent_cmd(&a, "create %u 3", (RZ_ARENA_PAGES + 1) * PAGE), EHOSTDOWN);
		dt = now_s() - t0;
		printf("; a create needing a new arena: EHOSTDOWN in %.1f ms", dt * 1e3);
		CU_ASSERT(dt < 0.1);
		CU_ASSERT_EQUAL(agent_cmd(&a, "count").val, (uint64_t)count);
		usleep(400 * 1000);	/* let the secondaries reap the primary */
	}
	printf("\n");
	OK(agent_cmd(&a, "destroy %#" PRIx64, id));
	agent_stop(&b);
	CU_ASSERT(WIFEXITED(b.status) && WEXITSTATUS(b.status) == 0);
	agent_stop(&a);
	CU_ASSERT(WIFEXITED(a.status) && WEXITSTATUS(a.status) == 0);
	remove_instance(prefix);
}

static const struct rz_test_case cases[] = {
	{ "map by owner over IPC", test_map_by_owner },
	{ "read-only view in a secondary faults", test_view_in_secondary_faults },
	{ "transfer ownership", test_transfer },
	{ "stale handle in another process", test_stale_handle_across_processes },
	{ "secondary maps secondary (mailbox)", test_secondary_to_secondary },
	{ "capabilities", test_capabilities },
	{ "capability table full", test_capability_table_full },
	{ "kill -9 recovery", test_kill9_recovery },
	{ "dead and unknown processes", test_dead_and_unknown },
	{ "IPC fuzz against the live handler", test_ipc_fuzz },
	{ "mailbox fuzz against the live primary", test_mailbox_fuzz },
	{ "a stopped secondary stops nobody else", test_stopped_stops_nobody },
	{ "a flood of requests to a stopped secondary", test_flood_stopped },
	{ "primary killed -9: the secondaries go on", test_primary_killed },
	{ "bystander secondaries", test_bystander_secondary },
	{ "a timed-out request changes nothing", test_timeout_changes_nothing },
	{ "revoke of a used capability, target stopped", test_revoke_unanswered },
	{ "a Copy-on-write heir keeps its rights", test_cow_heir_keeps_its_rights },
	{ "rz_fini() while requests arrive", test_fini_under_ipc },
#ifdef RZ_FAULT_INJECTION
	{ "killed at every step: the table stays consistent", test_kill_points },
#endif
	{ "descriptors of rejected messages are closed", test_fd_flood },
	{ "a process at EMFILE reaps nobody", test_emfile_reaps_nobody },
	{ NULL, NULL },
};

int
main(int argc, char **argv)
{
	RTE_SET_USED(argc);
	if (rz_test_start(argv[0], "mp", harness_prefix, sizeof(harness_prefix)) < 0)
		return 1;
	return rz_test_finish("mp", cases);
}
