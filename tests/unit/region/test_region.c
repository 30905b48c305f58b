/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * The region API in one process, on the real EAL and real hugepages: creation, accessors,
 * self-mapping and views, and every bad input with the state checked unchanged afterwards.
 * What needs a second process lives in tests/mp.
 */

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_memory.h>

#include "rz_test.h"
#include "rzone.h"

#define MB (1024u * 1024u)
#define PAGE (2u * MB)

/* A hugepage-aligned hole in the address space, for views. */
static uint8_t *
free_va(size_t len)
{
	void *p = mmap(NULL, len + PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *a;

	CU_ASSERT_FATAL(p != MAP_FAILED);
	munmap(p, len + PAGE);
	a = (uint8_t *)RTE_ALIGN_CEIL((uintptr_t)p, PAGE);
	return a;
}

struct snap {
	int count;
	uint64_t id;
	size_t size;
	pid_t owner;
	uint32_t perms;
	void *mapping;
	int mperms;
};

static void
take(struct snap *s, const struct rz_region *r)
{
	s->count = rz_region_count();
	s->id = rz_region_id(r);
	s->size = rz_region_size(r);
	s->owner = rz_region_owner(r);
	s->perms = rz_region_perms(r);
	s->mapping = rz_region_get_mapping(r, RZ_PID_SELF);
	s->mperms = rz_region_get_mapping_perms(r, RZ_PID_SELF);
}

#define ASSERT_UNCHANGED(before, r) do {				\
		struct snap after_;					\
		take(&after_, (r));					\
		CU_ASSERT_EQUAL(after_.count, (before).count);		\
		CU_ASSERT_EQUAL(after_.id, (before).id);		\
		CU_ASSERT_EQUAL(after_.size, (before).size);		\
		CU_ASSERT_EQUAL(after_.owner, (before).owner);		\
		CU_ASSERT_EQUAL(after_.perms, (before).perms);		\
		CU_ASSERT_PTR_EQUAL(after_.mapping, (before).mapping);	\
		CU_ASSERT_EQUAL(after_.mperms, (before).mperms);	\
	} while (0)

static void
test_create_basic(void)
{
	struct rz_region *r = rz_region_create(RZ_PID_SELF, 1, RZ_PERM_RW);
	struct rz_region *r2 = rz_region_create(getpid(), 3 * MB, RZ_PERM_READ);
	uint8_t *p;
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r2);
	CU_ASSERT_EQUAL(rz_region_size(r), PAGE);
	CU_ASSERT_EQUAL(rz_region_size(r2), 2 * PAGE);
	CU_ASSERT_NOT_EQUAL(rz_region_id(r), 0);
	CU_ASSERT_NOT_EQUAL(rz_region_id(r), rz_region_id(r2));
	CU_ASSERT_EQUAL(rz_region_owner(r), getpid());
	CU_ASSERT_EQUAL(rz_region_perms(r), RZ_PERM_RW);
	CU_ASSERT_EQUAL(rz_region_perms(r2), RZ_PERM_READ);
	CU_ASSERT_EQUAL(rz_region_numa_node(r), 0);
	CU_ASSERT_PTR_EQUAL(rz_region_lookup(rz_region_id(r)), r);
	CU_ASSERT_EQUAL(rz_region_count(), 2);
	/* Fresh regions are zeroed, and not mapped by anyone. */
	p = rz_region_addr(r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	for (i = 0; i < PAGE; i += 4096)
		CU_ASSERT_EQUAL(p[i], 0);
	CU_ASSERT_PTR_NULL(rz_region_get_mapping(r, RZ_PID_SELF));
	CU_ASSERT_EQUAL(rte_errno, ENOENT);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(r2), 0);
	CU_ASSERT_EQUAL(rz_region_count(), 0);
}

static void
test_ids_never_reused(void)
{
	uint64_t ids[64];
	int i, j;

	for (i = 0; i < 64; i++) {
		struct rz_region *r = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);

		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		ids[i] = rz_region_id(r);
		/* Destroyed at once: the slot is reused, the id must not be. */
		CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
		CU_ASSERT_PTR_NULL(rz_region_lookup(ids[i]));
		CU_ASSERT_EQUAL(rte_errno, ENOENT);
	}
	for (i = 0; i < 64; i++)
		for (j = i + 1; j < 64; j++)
			CU_ASSERT_NOT_EQUAL(ids[i], ids[j]);
}

static void
test_memory_zeroed_after_reuse(void)
{
	struct rz_region *r = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	uint8_t *p, *q;
	size_t i, nonzero = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(rz_region_map(r, RZ_PID_SELF, NULL, RZ_PERM_RW), 0);
	p = rz_region_get_mapping(r, RZ_PID_SELF);
	memset(p, 0xab, PAGE);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
	r = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	q = rz_region_addr(r);
	CU_ASSERT_PTR_EQUAL(q, p);	/* same arena page: the test means something */
	for (i = 0; i < PAGE; i++)
		nonzero += q[i] != 0;
	CU_ASSERT_EQUAL(nonzero, 0);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

/* A region with an arena of its own: rzone leaves the zeroing to rte_memzone_free(). */
static void
test_memory_zeroed_after_own_arena(void)
{
	size_t size = 66 * (size_t)PAGE, i, nonzero = 0;
	struct rz_region *r = rz_region_create(RZ_PID_SELF, size, RZ_PERM_RW);
	uint64_t *p, *q;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(rz_region_map(r, RZ_PID_SELF, NULL, RZ_PERM_RW), 0);
	p = rz_region_get_mapping(r, RZ_PID_SELF);
	memset(p, 0xab, size);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
	r = rz_region_create(RZ_PID_SELF, size, RZ_PERM_RW);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	q = rz_region_addr(r);
	for (i = 0; i < size / sizeof(*q); i++)
		nonzero += q[i] != 0;
	CU_ASSERT_EQUAL(nonzero, 0);
	printf("\n  own arena %s reused\n", q == p ? "at the same address" : "elsewhere");
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

static void
test_create_bad_input(void)
{
	int before = rz_region_count();

	CU_ASSERT_PTR_NULL(rz_region_create(RZ_PID_SELF, 0, RZ_PERM_RW));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_PTR_NULL(rz_region_create(RZ_PID_SELF, PAGE, 0));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_PTR_NULL(rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_WRITE));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_PTR_NULL(rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW | (1u << 7)));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_PTR_NULL(rz_region_create(RZ_PID_SELF, SIZE_MAX, RZ_PERM_RW));
	CU_ASSERT_EQUAL(rte_errno, ENOMEM);
	/* More than the machine has (test.sh reserves a few GiB at most). */
	CU_ASSERT_PTR_NULL(rz_region_create(RZ_PID_SELF, (size_t)512 * 1024 * MB, RZ_PERM_RW));
	CU_ASSERT_EQUAL(rte_errno, ENOMEM);
	/* Owners: unknown pid, and pid 1 (alive, not attached). */
	CU_ASSERT_PTR_NULL(rz_region_create(999999999, PAGE, RZ_PERM_RW));
	CU_ASSERT_EQUAL(rte_errno, ESRCH);
	CU_ASSERT_PTR_NULL(rz_region_create(1, PAGE, RZ_PERM_RW));
	CU_ASSERT_EQUAL(rte_errno, ESRCH);
	CU_ASSERT_PTR_NULL(rz_region_create(-3, PAGE, RZ_PERM_RW));
	CU_ASSERT_EQUAL(rte_errno, ESRCH);
	/* Nodes. */
	CU_ASSERT_PTR_NULL(rz_region_create_numa(RZ_PID_SELF, PAGE, RZ_PERM_RW, 1));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_PTR_NULL(rz_region_create_numa(RZ_PID_SELF, PAGE, RZ_PERM_RW, -1));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_PTR_NULL(rz_region_create_numa(RZ_PID_SELF, PAGE, RZ_PERM_RW, 1 << 20));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_PTR_NULL(rz_region_create_with_policy(RZ_PID_SELF, PAGE, RZ_CACHE_WRITE_BACK,
			7));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	/* Policies userspace cannot honour are refused, never silently accepted. */
	CU_ASSERT_PTR_NULL(rz_region_create_with_policy(RZ_PID_SELF, PAGE, RZ_CACHE_UNCACHED, 0));
	CU_ASSERT_EQUAL(rte_errno, ENOTSUP);
	CU_ASSERT_PTR_NULL(rz_region_create_with_policy(RZ_PID_SELF, PAGE,
			RZ_CACHE_WRITE_THROUGH, 0));
	CU_ASSERT_EQUAL(rte_errno, ENOTSUP);
	CU_ASSERT_PTR_NULL(rz_region_create_with_policy(RZ_PID_SELF, PAGE,
			RZ_CACHE_WRITE_COMBINING, RZ_NUMA_ANY));
	CU_ASSERT_EQUAL(rte_errno, ENOTSUP);
	CU_ASSERT_PTR_NULL(rz_region_create_with_policy(RZ_PID_SELF, PAGE,
			(enum rz_cache_policy)42, 0));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_EQUAL(rz_region_count(), before);
}

static void
test_create_policies_and_nodes(void)
{
	struct rz_region *a = rz_region_create_with_policy(RZ_PID_SELF, PAGE, RZ_CACHE_WRITE_BACK,
			RZ_NUMA_ANY);
	struct rz_region *b = rz_region_create_with_policy(RZ_PID_SELF, PAGE, RZ_CACHE_WRITE_BACK,
			0);
	struct rz_region *c = rz_region_create_numa(RZ_PID_SELF, 5 * MB, RZ_PERM_ALL, 0);

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(rz_region_perms(a), RZ_PERM_RW);
	CU_ASSERT_EQUAL(rz_region_numa_node(b), 0);
	CU_ASSERT_EQUAL(rz_region_numa_node(c), 0);
	CU_ASSERT_EQUAL(rz_region_size(c), 3 * PAGE);
	CU_ASSERT_EQUAL(rz_region_destroy(a), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(b), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(c), 0);
}

static void
test_large_region_own_arena(void)
{
	/* Larger than a shared arena (64 pages by default): an arena of its own. */
	struct rz_region *r = rz_region_create(RZ_PID_SELF, 130 * MB, RZ_PERM_RW);
	uint8_t *p;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(rz_region_size(r), 65 * PAGE);
	CU_ASSERT_EQUAL(rz_region_map(r, RZ_PID_SELF, NULL, RZ_PERM_RW), 0);
	p = rz_region_get_mapping(r, RZ_PID_SELF);
	p[0] = 1;
	p[65 * PAGE - 1] = 2;
	CU_ASSERT_EQUAL(p[65 * PAGE - 1], 2);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

static void
test_iova(void)
{
	struct rz_region *r = rz_region_create(RZ_PID_SELF, 4 * PAGE, RZ_PERM_RW);
	struct rz_iova_chunk ch[8];
	size_t total = 0;
	int n, i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(rz_region_physical_base(r), rte_mem_virt2iova(rz_region_addr(r)));
	CU_ASSERT_NOT_EQUAL(rz_region_physical_base(r), RTE_BAD_IOVA);
	n = rz_region_iova_chunks(r, NULL, 0);
	CU_ASSERT(n >= 1 && n <= 4);
	CU_ASSERT_EQUAL(rz_region_iova_chunks(r, ch, 8), n);
	CU_ASSERT_EQUAL(ch[0].iova, rz_region_physical_base(r));
	CU_ASSERT_EQUAL(ch[0].offset, 0);
	for (i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(ch[i].offset, total);
		CU_ASSERT_EQUAL(ch[i].iova, rte_mem_virt2iova((uint8_t *)rz_region_addr(r) +
				ch[i].offset));
		total += ch[i].len;
	}
	CU_ASSERT_EQUAL(total, 4 * PAGE);
	/* Short array: count still right, only n written. */
	memset(ch, 0xff, sizeof(ch));
	CU_ASSERT_EQUAL(rz_region_iova_chunks(r, ch, 1), n);
	CU_ASSERT_EQUAL(ch[1].offset, SIZE_MAX);
	CU_ASSERT_EQUAL(rz_region_iova_chunks(r, NULL, 3), -EINVAL);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

static void
test_map_self_and_views(void)
{
	struct rz_region *r = rz_region_create(RZ_PID_SELF, 2 * PAGE, RZ_PERM_ALL);
	uint8_t *va = free_va(2 * PAGE), *dpdk;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	dpdk = rz_region_addr(r);
	CU_ASSERT_EQUAL(rz_region_map(r, RZ_PID_SELF, NULL, RZ_PERM_RW), 0);
	CU_ASSERT_PTR_EQUAL(rz_region_get_mapping(r, RZ_PID_SELF), dpdk);
	CU_ASSERT_PTR_EQUAL(rz_region_get_mapping(r, getpid()), dpdk);
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(r, RZ_PID_SELF), RZ_PERM_RW);
	strcpy((char *)dpdk + PAGE + 10, "through the dpdk address");
	CU_ASSERT_EQUAL(rz_region_unmap(r, RZ_PID_SELF), 0);
	CU_ASSERT_PTR_NULL(rz_region_get_mapping(r, RZ_PID_SELF));

	/* A read-only view at a chosen address shows the same bytes. */
	CU_ASSERT_EQUAL(rz_region_map(r, RZ_PID_SELF, va, RZ_PERM_READ), 0);
	CU_ASSERT_PTR_EQUAL(rz_region_get_mapping(r, RZ_PID_SELF), va);
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(r, RZ_PID_SELF), RZ_PERM_READ);
	CU_ASSERT_STRING_EQUAL((char *)va + PAGE + 10, "through the dpdk address");
	dpdk[0] = 'x';
	CU_ASSERT_EQUAL(va[0], 'x');
	CU_ASSERT_EQUAL(rz_region_unmap(r, RZ_PID_SELF), 0);
	/* The view is gone: the address is free again (a fresh mmap there succeeds). */
	CU_ASSERT(mmap(va, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1,
			0) == va);
	munmap(va, PAGE);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

/* A write through a read-only mapping kills the writer: try it in a child. */
static int
child_writes(volatile uint8_t *p)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		/* Let the fault kill us even where a sanitizer catches SIGSEGV. */
		signal(SIGSEGV, SIG_DFL);
		p[0] = 1;
		_exit(0);
	}
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT_FATAL(waitpid(pid, &st, 0) == pid);
	return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

static void
test_protection_enforced(void)
{
	struct rz_region *r = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	uint8_t *va = free_va(PAGE), *dpdk;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	dpdk = rz_region_addr(r);
	CU_ASSERT_EQUAL(rz_region_map(r, RZ_PID_SELF, va, RZ_PERM_READ), 0);
	CU_ASSERT_EQUAL(child_writes(va), SIGSEGV);
	CU_ASSERT_EQUAL(rz_region_unmap(r, RZ_PID_SELF), 0);
	/* Read-only at the DPDK address too, until unmapped. */
	CU_ASSERT_EQUAL(rz_region_map(r, RZ_PID_SELF, NULL, RZ_PERM_READ), 0);
	CU_ASSERT_EQUAL(child_writes(dpdk), SIGSEGV);
	CU_ASSERT_EQUAL(rz_region_unmap(r, RZ_PID_SELF), 0);
	CU_ASSERT_EQUAL(child_writes(dpdk), 0);
	CU_ASSERT_EQUAL(rz_region_map(r, RZ_PID_SELF, va, RZ_PERM_RW), 0);
	CU_ASSERT_EQUAL(child_writes(va), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

static void
test_map_bad_input(void)
{
	struct rz_region *r = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_READ);
	struct rz_region *o = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	uint8_t *va = free_va(2 * PAGE);
	struct snap s;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	take(&s, r);
	CU_ASSERT_EQUAL(rz_region_map(r, RZ_PID_SELF, NULL, RZ_PERM_RW), -EPERM);
	CU_ASSERT_EQUAL(rz_region_map(r, RZ_PID_SELF, NULL, RZ_PERM_READ | RZ_PERM_EXEC), -EPERM);
	CU_ASSERT_EQUAL(rz_region_map(r, RZ_PID_SELF, NULL, 0), -EINVAL);
	CU_ASSERT_EQUAL(rz_region_map(r, RZ_PID_SELF, NULL, 1u << 9), -EINVAL);
	CU_ASSERT_EQUAL(rz_region_map(r, RZ_PID_SELF, va + 4096, RZ_PERM_READ), -EINVAL);
	CU_ASSERT_EQUAL(rz_region_map(r, 999999999, NULL, RZ_PERM_READ), -ESRCH);
	CU_ASSERT_EQUAL(rz_region_map(r, 1, NULL, RZ_PERM_READ), -ESRCH);
	CU_ASSERT_EQUAL(rz_region_map(NULL, RZ_PID_SELF, NULL, RZ_PERM_READ), -EINVAL);
	CU_ASSERT_EQUAL(rz_region_map((struct rz_region *)&s, RZ_PID_SELF, NULL, RZ_PERM_READ),
			-EINVAL);
	/* The id of a slot next to r's, with r's sequence: no region has it. */
	CU_ASSERT_EQUAL(rz_region_map((struct rz_region *)((uint8_t *)r + 8), RZ_PID_SELF, NULL,
			RZ_PERM_READ), -ENOENT);
	ASSERT_UNCHANGED(s, r);

	/* Overlap: the view would land on another region's view. */
	CU_ASSERT_EQUAL(rz_region_map(o, RZ_PID_SELF, va, RZ_PERM_RW), 0);
	CU_ASSERT_EQUAL(rz_region_map(r, RZ_PID_SELF, va, RZ_PERM_READ), -EADDRINUSE);
	ASSERT_UNCHANGED(s, r);
	/* Overlap on its second page only: the first page must not stay mapped. */
	CU_ASSERT_EQUAL(rz_region_unmap(o, RZ_PID_SELF), 0);
	CU_ASSERT_EQUAL(rz_region_map(o, RZ_PID_SELF, va + PAGE, RZ_PERM_RW), 0);
	{
		struct rz_region *two = rz_region_create(RZ_PID_SELF, 2 * PAGE, RZ_PERM_RW);

		CU_ASSERT_PTR_NOT_NULL_FATAL(two);
		CU_ASSERT_EQUAL(rz_region_map(two, RZ_PID_SELF, va, RZ_PERM_RW), -EADDRINUSE);
		CU_ASSERT(mmap(va, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
				MAP_FIXED_NOREPLACE, -1, 0) == va);
		munmap(va, PAGE);
		CU_ASSERT_EQUAL(rz_region_destroy(two), 0);
	}
	CU_ASSERT_EQUAL(rz_region_unmap(o, RZ_PID_SELF), 0);

	/* Second map of the same process. */
	CU_ASSERT_EQUAL(rz_region_map(r, RZ_PID_SELF, NULL, RZ_PERM_READ), 0);
	take(&s, r);
	CU_ASSERT_EQUAL(rz_region_map(r, RZ_PID_SELF, NULL, RZ_PERM_READ), -EEXIST);
	CU_ASSERT_EQUAL(rz_region_map(r, RZ_PID_SELF, va, RZ_PERM_READ), -EEXIST);
	ASSERT_UNCHANGED(s, r);
	CU_ASSERT_EQUAL(rz_region_unmap(r, RZ_PID_SELF), 0);
	/* Unmap what is not mapped. */
	take(&s, r);
	CU_ASSERT_EQUAL(rz_region_unmap(r, RZ_PID_SELF), -ENOENT);
	CU_ASSERT_EQUAL(rz_region_unmap(r, 999999999), -ESRCH);
	CU_ASSERT_EQUAL(rz_region_unmap(NULL, RZ_PID_SELF), -EINVAL);
	ASSERT_UNCHANGED(s, r);
	CU_ASSERT_PTR_NULL(rz_region_get_mapping(r, 999999999));
	CU_ASSERT_EQUAL(rte_errno, ESRCH);
	CU_ASSERT_PTR_NULL(rz_region_get_mapping(NULL, RZ_PID_SELF));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(r, RZ_PID_SELF), -ENOENT);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(o), 0);
}

static void
test_destroyed_handle(void)
{
	struct rz_region *r = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	struct rz_iova_chunk ch;
	uint64_t id, tok;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	id = rz_region_id(r);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(r), -ENOENT);
	CU_ASSERT_EQUAL(rz_region_id(r), 0);
	CU_ASSERT_EQUAL(rte_errno, ENOENT);
	CU_ASSERT_EQUAL(rz_region_size(r), 0);
	CU_ASSERT_EQUAL(rz_region_perms(r), 0);
	CU_ASSERT_PTR_NULL(rz_region_addr(r));
	CU_ASSERT_EQUAL(rz_region_numa_node(r), -ENOENT);
	CU_ASSERT_EQUAL(rz_region_owner(r), -ENOENT);
	CU_ASSERT_EQUAL(rz_region_physical_base(r), RTE_BAD_IOVA);
	CU_ASSERT_EQUAL(rz_region_iova_chunks(r, &ch, 1), -ENOENT);
	CU_ASSERT_EQUAL(rz_region_map(r, RZ_PID_SELF, NULL, RZ_PERM_RW), -ENOENT);
	CU_ASSERT_EQUAL(rz_region_unmap(r, RZ_PID_SELF), -ENOENT);
	CU_ASSERT_EQUAL(rz_region_transfer_ownership(r, RZ_PID_SELF), -ENOENT);
	CU_ASSERT_EQUAL(rz_region_create_capability(r, 1, RZ_MODE_SHARE, &tok), -ENOENT);
	CU_ASSERT_EQUAL(rz_region_dump(stdout, r), -ENOENT);
	CU_ASSERT_PTR_NULL(rz_region_lookup(id));
	CU_ASSERT_PTR_NULL(rz_region_lookup(0));
	CU_ASSERT_PTR_NULL(rz_region_lookup(UINT64_MAX));
	CU_ASSERT_EQUAL(rte_errno, ENOENT);
}

/* Every call that takes a handle, with the handle of a destroyed region whose table slot a new
 * region took: -ENOENT (or its getter's equivalent) each time, and the new region untouched. */
static void
test_stale_handle_slot_reused(void)
{
	struct rz_region *r = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW), *r2;
	struct rz_iova_chunk ch;
	struct snap s;
	uint64_t id, tok = 0;
	int round;
	uint8_t *p;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	id = rz_region_id(r);
	CU_ASSERT_EQUAL_FATAL(rz_region_destroy(r), 0);
	r2 = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r2);
	/* The new region is in the old one's slot (and on its pages), with another id. */
	CU_ASSERT_EQUAL(rz_region_id(r2) & 0xffff, id & 0xffff);
	CU_ASSERT_NOT_EQUAL(rz_region_id(r2), id);
	CU_ASSERT_PTR_NOT_EQUAL(r2, r);
	CU_ASSERT_EQUAL(rz_region_map(r2, RZ_PID_SELF, NULL, RZ_PERM_RW), 0);
	p = rz_region_get_mapping(r2, RZ_PID_SELF);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	memset(p, 0x5a, 4096);
	take(&s, r2);
	for (round = 0; round < 2; round++) {
		CU_ASSERT_EQUAL(rz_region_destroy(r), -ENOENT);
		CU_ASSERT_EQUAL(rz_region_map(r, RZ_PID_SELF, NULL, RZ_PERM_RW), -ENOENT);
		CU_ASSERT_EQUAL(rz_region_unmap(r, RZ_PID_SELF), -ENOENT);
		CU_ASSERT_EQUAL(rz_region_transfer_ownership(r, RZ_PID_SELF), -ENOENT);
		CU_ASSERT_EQUAL(rz_region_create_capability(r, getppid(), RZ_MODE_SHARE, &tok),
				-ENOENT);
		CU_ASSERT_EQUAL(tok, 0);
		CU_ASSERT_PTR_NULL(rz_region_get_mapping(r, RZ_PID_SELF));
		CU_ASSERT_EQUAL(rte_errno, ENOENT);
		CU_ASSERT_EQUAL(rz_region_get_mapping_perms(r, RZ_PID_SELF), -ENOENT);
		CU_ASSERT_EQUAL(rz_region_id(r), 0);
		CU_ASSERT_EQUAL(rte_errno, ENOENT);
		CU_ASSERT_EQUAL(rz_region_size(r), 0);
		CU_ASSERT_EQUAL(rz_region_perms(r), 0);
		CU_ASSERT_PTR_NULL(rz_region_addr(r));
		CU_ASSERT_EQUAL(rz_region_numa_node(r), -ENOENT);
		CU_ASSERT_EQUAL(rz_region_owner(r), -ENOENT);
		CU_ASSERT_EQUAL(rz_region_physical_base(r), RTE_BAD_IOVA);
		CU_ASSERT_EQUAL(rz_region_iova_chunks(r, &ch, 1), -ENOENT);
		CU_ASSERT_EQUAL(rz_region_dump(stdout, r), -ENOENT);
		CU_ASSERT_PTR_NULL(rz_region_lookup(id));
		ASSERT_UNCHANGED(s, r2);
		CU_ASSERT_EQUAL(p[0], 0x5a);
		CU_ASSERT_EQUAL(p[4095], 0x5a);
		/* And again after the slot changed hands once more. */
		CU_ASSERT_EQUAL(rz_region_destroy(r2), 0);
		r2 = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r2);
		CU_ASSERT_EQUAL(rz_region_id(r2) & 0xffff, id & 0xffff);
		CU_ASSERT_EQUAL(rz_region_map(r2, RZ_PID_SELF, NULL, RZ_PERM_RW), 0);
		p = rz_region_get_mapping(r2, RZ_PID_SELF);
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		memset(p, 0x5a, 4096);
		take(&s, r2);
	}
	/* Handles are the same in every lookup, and name one region for ever. */
	CU_ASSERT_PTR_EQUAL(rz_region_lookup(rz_region_id(r2)), r2);
	CU_ASSERT_EQUAL(rz_region_destroy(r2), 0);
	CU_ASSERT_EQUAL(rz_region_count(), 0);
}

/* A failed create leaves no table slot skipped: the next create takes the lowest free one. */
static void
test_failed_create_keeps_slot(void)
{
	struct rz_region *a = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW), *b;
	uint64_t slot;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	slot = rz_region_id(a) & 0xffff;
	CU_ASSERT_EQUAL_FATAL(rz_region_destroy(a), 0);
	/* Passes every argument check, then finds no memory. */
	CU_ASSERT_PTR_NULL(rz_region_create(RZ_PID_SELF, (size_t)1 << 40, RZ_PERM_RW));
	CU_ASSERT_EQUAL(rte_errno, ENOMEM);
	b = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(rz_region_id(b) & 0xffff, slot);
	CU_ASSERT_EQUAL(rz_region_destroy(b), 0);
}

static void
test_null_handles(void)
{
	uint64_t tok = 0;

	CU_ASSERT_EQUAL(rz_region_destroy(NULL), -EINVAL);
	CU_ASSERT_EQUAL(rz_region_id(NULL), 0);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_EQUAL(rz_region_size(NULL), 0);
	CU_ASSERT_EQUAL(rz_region_numa_node(NULL), -EINVAL);
	CU_ASSERT_EQUAL(rz_region_owner(NULL), -EINVAL);
	CU_ASSERT_EQUAL(rz_region_perms(NULL), 0);
	CU_ASSERT_PTR_NULL(rz_region_addr(NULL));
	CU_ASSERT_EQUAL(rz_region_physical_base(NULL), RTE_BAD_IOVA);
	CU_ASSERT_EQUAL(rz_region_iova_chunks(NULL, NULL, 0), -EINVAL);
	CU_ASSERT_EQUAL(rz_region_transfer_ownership(NULL, RZ_PID_SELF), -EINVAL);
	CU_ASSERT_EQUAL(rz_region_create_capability(NULL, 1, RZ_MODE_SHARE, &tok), -EINVAL);
	CU_ASSERT_EQUAL(tok, 0);
	CU_ASSERT_EQUAL(rz_region_dump(stdout, NULL), -EINVAL);
	CU_ASSERT_EQUAL(rz_region_dump(NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(rz_region_walk(NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(rz_dump(NULL), -EINVAL);
	CU_ASSERT_EQUAL(rz_process_dump(NULL), -EINVAL);
}

static void
test_transfer_and_caps_single(void)
{
	struct rz_region *r = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	uint64_t tok = 0x1234;
	struct snap s;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	take(&s, r);
	/* To self while self does not map it: only to a process that maps it. */
	CU_ASSERT_EQUAL(rz_region_transfer_ownership(r, RZ_PID_SELF), -EINVAL);
	CU_ASSERT_EQUAL(rz_region_transfer_ownership(r, 999999999), -ESRCH);
	CU_ASSERT_EQUAL(rz_region_transfer_ownership(r, 1), -ESRCH);
	ASSERT_UNCHANGED(s, r);
	CU_ASSERT_EQUAL(rz_region_create_capability(r, RZ_PID_SELF, RZ_MODE_SHARE, &tok), -EINVAL);
	CU_ASSERT_EQUAL(rz_region_create_capability(r, 999999999, RZ_MODE_SHARE, &tok), -ESRCH);
	CU_ASSERT_EQUAL(rz_region_create_capability(r, 1, RZ_MODE_SHARE, &tok), -ESRCH);
	CU_ASSERT_EQUAL(rz_region_create_capability(r, 1, (enum rz_transfer_mode)9, &tok),
			-EINVAL);
	CU_ASSERT_EQUAL(rz_region_create_capability(r, 1, RZ_MODE_SHARE, NULL), -EINVAL);
	CU_ASSERT_EQUAL(tok, 0x1234);
	/* Forged tokens. */
	CU_ASSERT_EQUAL(rz_capability_map(0, NULL, NULL), -ENOENT);
	CU_ASSERT_EQUAL(rz_capability_map(0xdeadbeefcafe0001ull, NULL, NULL), -ENOENT);
	CU_ASSERT_EQUAL(rz_capability_map(UINT64_MAX, NULL, NULL), -ENOENT);
	CU_ASSERT_EQUAL(rz_capability_revoke(0xdeadbeefcafe0001ull), -ENOENT);
	CU_ASSERT_EQUAL(rz_capability_revoke(0), -ENOENT);
	ASSERT_UNCHANGED(s, r);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

/*
 * A seed call that names a remote peer id: without the RDMA module (-Drdma=disabled) every one
 * says -ENOTSUP; with it, before rz_rdma_init() no peer is open: -ESRCH. Nothing changes.
 */
static void
test_peer_ids(void)
{
	const int want = RZ_TEST_WITH_RDMA ? -ESRCH : -ENOTSUP;
	struct rz_region *r = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	const pid_t peer = RZ_PEER_ID_BASE + 1;
	uint64_t tok = 0x1234;
	struct snap s;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	take(&s, r);
	CU_ASSERT_EQUAL(rz_region_map(r, peer, NULL, RZ_PERM_READ), want);
	CU_ASSERT_EQUAL(rz_region_unmap(r, peer), want);
	rte_errno = 0;
	CU_ASSERT_PTR_NULL(rz_region_get_mapping(r, peer));
	CU_ASSERT_EQUAL(rte_errno, -want);
	CU_ASSERT_EQUAL(rz_region_get_mapping_perms(r, peer), want);
	CU_ASSERT_EQUAL(rz_region_transfer_ownership(r, peer), want);
	CU_ASSERT_EQUAL(rz_region_create_capability(r, peer, RZ_MODE_SHARE, &tok), want);
	CU_ASSERT_EQUAL(tok, 0x1234);
	ASSERT_UNCHANGED(s, r);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

static int
count_cb(struct rz_region *r, void *arg)
{
	CU_ASSERT_NOT_EQUAL(rz_region_id(r), 0);
	(*(int *)arg)++;
	return 0;
}

static int
stop_cb(struct rz_region *r, void *arg)
{
	RTE_SET_USED(r);
	(*(int *)arg)++;
	return 42;
}

static void
test_walk_and_dump(void)
{
	struct rz_region *r[5];
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int i, n = 0;

	for (i = 0; i < 5; i++) {
		r[i] = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r[i]);
	}
	CU_ASSERT_EQUAL(rz_region_walk(count_cb, &n), 0);
	CU_ASSERT_EQUAL(n, 5);
	n = 0;
	CU_ASSERT_EQUAL(rz_region_walk(stop_cb, &n), 42);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(rz_region_map(r[0], RZ_PID_SELF, NULL, RZ_PERM_READ), 0);
	f = open_memstream(&buf, &len);
	CU_ASSERT_EQUAL(rz_region_dump(f, r[0]), 0);
	CU_ASSERT_EQUAL(rz_dump(f), 0);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "ceiling:      rw-"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "numa node:    0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "cache policy: write-back"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "mappings:     1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "r--"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "5 regions"));
	free(buf);
	for (i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(rz_region_destroy(r[i]), 0);
}

static void
test_destroy_unmaps_owner(void)
{
	struct rz_region *r = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	uint8_t *va = free_va(PAGE);

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(rz_region_map(r, RZ_PID_SELF, va, RZ_PERM_RW), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
	/* The owner's own view went with it. */
	CU_ASSERT(mmap(va, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1,
			0) == va);
	munmap(va, PAGE);
}

static void
test_init_twice(void)
{
	CU_ASSERT_EQUAL(rz_init(), -EALREADY);
	CU_ASSERT_EQUAL(rz_process_attached(RZ_PID_SELF), 1);
	CU_ASSERT_EQUAL(rz_process_attached(1), 0);
}

static void
test_telemetry(void)
{
	struct rz_region *r = rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW);
	char buf[4096], want[64], cmd[64];

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL_FATAL(rz_test_telemetry("/rzone/info", buf, sizeof(buf)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"regions\":1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"page_size\":2097152"));
	CU_ASSERT_EQUAL_FATAL(rz_test_telemetry("/rzone/regions", buf, sizeof(buf)), 0);
	/* Ids are 0x-hex strings, as in the logs and dumps. */
	snprintf(want, sizeof(want), "\"%#" PRIx64 "\"", rz_region_id(r));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, want));
	snprintf(cmd, sizeof(cmd), "/rzone/region,%#" PRIx64, rz_region_id(r));
	CU_ASSERT_EQUAL_FATAL(rz_test_telemetry(cmd, buf, sizeof(buf)), 0);
	snprintf(want, sizeof(want), "\"id\":\"%#" PRIx64 "\"", rz_region_id(r));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, want));
	snprintf(want, sizeof(want), "\"addr\":\"%p\"", rz_region_addr(r));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, want));
	snprintf(want, sizeof(want), "\"owner_pid\":%d", (int)getpid());
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, want));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"size\":2097152"));
	/* The newest audit record is this region's creation. */
	CU_ASSERT_EQUAL_FATAL(rz_test_telemetry("/rzone/audit,1", buf, sizeof(buf)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"event\":\"create\""));
	snprintf(want, sizeof(want), "\"region\":\"%#" PRIx64 "\"", rz_region_id(r));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, want));
	CU_ASSERT_EQUAL_FATAL(rz_test_telemetry("/rzone/audit,99", buf, sizeof(buf)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "null"));
	/* Bad parameters answer null, not a crash. */
	CU_ASSERT_EQUAL_FATAL(rz_test_telemetry("/rzone/region,12x", buf, sizeof(buf)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "null"));
	CU_ASSERT_EQUAL_FATAL(rz_test_telemetry("/rzone/region,999", buf, sizeof(buf)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "null"));
	CU_ASSERT_EQUAL_FATAL(rz_test_telemetry("/rzone/procs", buf, sizeof(buf)), 0);
	snprintf(want, sizeof(want), "%d", (int)getpid());
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, want));
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

static const struct rz_test_case cases[] = {
	{ "create basics", test_create_basic },
	{ "ids never reused", test_ids_never_reused },
	{ "memory zeroed on reuse", test_memory_zeroed_after_reuse },
	{ "memory zeroed after an own arena", test_memory_zeroed_after_own_arena },
	{ "create: bad input", test_create_bad_input },
	{ "create: policies and nodes", test_create_policies_and_nodes },
	{ "large region", test_large_region_own_arena },
	{ "iova chunks", test_iova },
	{ "self map and views", test_map_self_and_views },
	{ "protections enforced", test_protection_enforced },
	{ "map: bad input", test_map_bad_input },
	{ "destroyed handle", test_destroyed_handle },
	{ "stale handle, slot reused", test_stale_handle_slot_reused },
	{ "failed create keeps its slot", test_failed_create_keeps_slot },
	{ "null handles", test_null_handles },
	{ "transfer and capabilities: bad input", test_transfer_and_caps_single },
	{ "remote peer ids", test_peer_ids },
	{ "walk and dump", test_walk_and_dump },
	{ "destroy unmaps the owner", test_destroy_unmaps_owner },
	{ "init twice", test_init_twice },
	{ "telemetry", test_telemetry },
	{ NULL, NULL },
};

int
main(int argc, char **argv)
{
	char prefix[64];

	RTE_SET_USED(argc);
	setvbuf(stdout, NULL, _IONBF, 0);
	if (rz_test_eal_primary(argv[0], "region", prefix, sizeof(prefix)) < 0)
		return 1;
	/* Before rz_init: everything says -ENODEV. */
	if (rz_region_create(RZ_PID_SELF, PAGE, RZ_PERM_RW) != NULL || rte_errno != ENODEV ||
			rz_fini() != -ENODEV || rz_region_count() != -ENODEV) {
		fprintf(stderr, "FAIL: calls before rz_init() must fail with ENODEV\n");
		return 1;
	}
	if (rz_init() != 0) {
		fprintf(stderr, "FAIL: rz_init\n");
		return 1;
	}
	return rz_test_finish("region", cases);
}
