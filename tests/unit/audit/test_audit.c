/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * The audit ring (lib/core/audit.c) on a ring in this process's memory (audit_ring pointed at
 * it): what is written is read back in order; past the capacity the oldest are gone and counted;
 * two writers and a reader at once: every record the reader accepts is whole (its fields are
 * derived from one another, so a torn copy shows); a writer killed in its slot (its sequence
 * left "being written") costs the later laps' records of that slot (counted lost), never taken
 * over by another writer, until the reaper releases it; garbage in the ring is refused by the
 * reader and printed as nothing.
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "audit_private.h"
#include "rz_test.h"
#include "rzone_observe.h"

#define N (RZ_AUDIT_ENTRIES + 0ull)

static struct audit_ring *ring;

static void
fresh(void)
{
	memset(ring, 0, sizeof(*ring));
	ring->magic = RZ_AUDIT_MAGIC;
	ring->version = RZ_AUDIT_VERSION;
	ring->nrecs = RZ_AUDIT_ENTRIES;
	ring->size = sizeof(*ring);
	audit_ring = ring;
}

/* Record @i: every field follows from i (a torn copy breaks the relation). */
static void
put(uint64_t i)
{
	audit_record(AUDIT_GRANT, AUDIT_CAUSE_EXPIRY, i, (int32_t)(i & 0x7fffffff),
			(int32_t)~(i & 0x7fffffff), (uint32_t)(i * 7), -(int32_t)(i & 0xff), i * 3,
			~i, (uint32_t)(i >> 3));
}

static bool
whole(const struct audit_rec *r)
{
	uint64_t i = r->region;

	return r->event == AUDIT_GRANT && r->cause == AUDIT_CAUSE_EXPIRY &&
		r->actor == (int32_t)(i & 0x7fffffff) && r->target == (int32_t)~(i & 0x7fffffff) &&
		r->rights == (uint32_t)(i * 7) && r->result == -(int32_t)(i & 0xff) &&
		r->a == i * 3 && r->b == ~i && r->aux == (uint32_t)(i >> 3) && r->time_ns != 0;
}

static void
test_in_order(void)
{
	struct audit_rec r;
	uint64_t i;

	fresh();
	for (i = 0; i < 100; i++)
		put(i + 1000);
	CU_ASSERT_EQUAL(ring->head, 100);
	for (i = 0; i < 100; i++) {
		CU_ASSERT_FATAL(audit_read(ring, i, &r));
		CU_ASSERT_EQUAL(r.region, i + 1000);
		CU_ASSERT(whole(&r));
		CU_ASSERT_EQUAL(r.seq, i + 1);
	}
	CU_ASSERT_FALSE(audit_read(ring, 100, &r));	/* not written yet */
	CU_ASSERT_EQUAL(ring->lost, 0);
}

static void
test_overflow(void)
{
	struct audit_rec r;
	uint64_t i, ok = 0;

	fresh();
	for (i = 0; i < N + 10; i++)
		put(i);
	CU_ASSERT_EQUAL(ring->head, N + 10);
	for (i = 0; i < 10; i++)
		CU_ASSERT_FALSE(audit_read(ring, i, &r));	/* overwritten */
	for (i = 10; i < N + 10; i++)
		ok += audit_read(ring, i, &r) && r.region == i && whole(&r);
	CU_ASSERT_EQUAL(ok, N);
	CU_ASSERT_EQUAL(ring->lost, 0);
}

struct writer {
	uint64_t base;
	uint64_t n;
};

static volatile int writing;

static void *
writer_main(void *arg)
{
	const struct writer *w = arg;
	uint64_t i;

	for (i = 0; i < w->n; i++)
		put(w->base + i);
	return NULL;
}

static void *
reader_main(void *arg)
{
	uint64_t *counts = arg, n;
	struct audit_rec r;

	while (writing) {
		uint64_t head = __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE);

		for (n = head > N ? head - N : 0; n < head; n++) {
			if (!audit_read(ring, n, &r))
				continue;
			counts[0]++;
			counts[1] += !whole(&r);
		}
	}
	return NULL;
}

static void
test_concurrent(void)
{
	struct writer w[2] = { { 1u << 30, 300000 }, { 1u << 31, 300000 } };
	uint64_t counts[2] = { 0, 0 }, i, ok = 0;
	pthread_t t[3];
	struct audit_rec r;

	fresh();
	writing = 1;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t[2], NULL, reader_main, counts), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t[0], NULL, writer_main, &w[0]), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t[1], NULL, writer_main, &w[1]), 0);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	writing = 0;
	pthread_join(t[2], NULL);
	CU_ASSERT_EQUAL(ring->head, 600000);
	/* Lost records (a writer descheduled for a whole lap) are counted, never torn. */
	for (i = ring->head - N; i < ring->head; i++)
		ok += audit_read(ring, i, &r) && whole(&r);
	CU_ASSERT(ok + ring->lost >= N);
	CU_ASSERT_EQUAL(counts[1], 0);
	printf("\n  2 writers x 300000 records, a reader at once: %lu records read whole, %lu torn "
			"accepted, %lu lost\n", (unsigned long)counts[0], (unsigned long)counts[1],
			(unsigned long)ring->lost);
}

static void
test_dead_writer(void)
{
	struct audit_rec r;
	uint64_t i;

	fresh();
	/* Record 5's writer (process slot 3) was killed after it took its slot. */
	for (i = 0; i < 5; i++)
		put(i);
	ring->head = 6;
	ring->recs[5].seq = RZ_AUDIT_BUSY | (UINT64_C(3) << RZ_AUDIT_SLOT_SHIFT) | 6;
	for (i = 6; i < 5 + N; i++)
		put(i);
	CU_ASSERT_FALSE(audit_read(ring, 5, &r));
	/* A lap later, and two: the slot is still held (a writer may be slow, not dead): given
	 * up, counted, never taken over. */
	put(5 + N);
	CU_ASSERT_EQUAL(ring->lost, 1);
	CU_ASSERT_FALSE(audit_read(ring, 5 + N, &r));
	for (i = 6 + N; i < 5 + 2 * N; i++)
		put(i);
	put(5 + 2 * N);
	CU_ASSERT_EQUAL(ring->lost, 2);
	CU_ASSERT_FALSE(audit_read(ring, 5 + 2 * N, &r));
	CU_ASSERT_EQUAL(ring->recs[5].seq,
			RZ_AUDIT_BUSY | (UINT64_C(3) << RZ_AUDIT_SLOT_SHIFT) | 6);
	/* The reaper releases what slot 3 died writing (another slot's would stay); the next lap's
	 * writer has the slot again. */
	audit_release_proc(2);
	CU_ASSERT((ring->recs[5].seq & RZ_AUDIT_BUSY) != 0);
	audit_release_proc(3);
	CU_ASSERT_EQUAL(ring->lost, 3);
	CU_ASSERT_EQUAL(ring->recs[5].seq, 6);
	CU_ASSERT_FALSE(audit_read(ring, 5, &r));	/* empty, not a torn record */
	for (i = 6 + 2 * N; i < 5 + 3 * N; i++)
		put(i);
	put(5 + 3 * N);
	CU_ASSERT_EQUAL(ring->lost, 3);
	CU_ASSERT_FATAL(audit_read(ring, 5 + 3 * N, &r));
	CU_ASSERT(whole(&r) && r.region == 5 + 3 * N);
}

static void
test_garbage(void)
{
	struct audit_rec r;
	uint64_t i, accepted = 0, state = 0x9e3779b97f4a7c15ull;
	uint8_t *p;
	FILE *f;
	int n;

	fresh();
	p = (uint8_t *)ring->recs;
	for (i = 0; i < sizeof(ring->recs); i++) {
		state ^= state << 13;
		state ^= state >> 7;
		state ^= state << 17;
		p[i] = (uint8_t)state;
	}
	/* Half the slots claim to be complete (their sequence matches), half of those with a
	 * known event and cause; every other field is noise. */
	for (i = 0; i < N; i += 2)
		ring->recs[i].seq = i + 1;
	for (i = 0; i < N; i += 4) {
		ring->recs[i].event = (uint16_t)(1 + i % (AUDIT_EVENT_MAX - 1));
		ring->recs[i].cause = (uint16_t)(i % AUDIT_CAUSE_MAX);
	}
	ring->head = N;
	for (i = 0; i < N; i++)
		if (audit_read(ring, i, &r)) {
			accepted++;
			CU_ASSERT(r.event > AUDIT_NONE && r.event < AUDIT_EVENT_MAX &&
					r.cause < AUDIT_CAUSE_MAX);
		}
	CU_ASSERT(accepted >= N / 4 && accepted <= N / 2);
	/* The printers take what the reader accepted, whatever its numbers. */
	f = fopen("/dev/null", "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	n = rz_audit_write(f, 0, 0);
	CU_ASSERT_EQUAL(n, (int)accepted);
	CU_ASSERT_EQUAL(rz_audit_write(f, 0, RZ_INFO_F_JSON), (int)accepted);
	CU_ASSERT_EQUAL(rz_audit_write(f, 0, 0x80), -EINVAL);
	CU_ASSERT_EQUAL(rz_audit_write(NULL, 0, 0), -EINVAL);
	fclose(f);
	printf("\n  random ring: %lu of %lu slots with a matching sequence accepted (%lu with a "
			"known event and cause)\n", (unsigned long)accepted, (unsigned long)(N / 2),
			(unsigned long)(N / 4));
}

static const struct rz_test_case cases[] = {
	{ "records read back in order", test_in_order },
	{ "overflow: the oldest are overwritten", test_overflow },
	{ "two writers and a reader: nothing torn accepted", test_concurrent },
	{ "a writer killed in its slot", test_dead_writer },
	{ "garbage in the ring is refused", test_garbage },
	{ NULL, NULL },
};

int
main(void)
{
	unsigned int failed;

	setvbuf(stdout, NULL, _IONBF, 0);
	ring = aligned_alloc(64, sizeof(*ring));
	if (ring == NULL) {
		fprintf(stderr, "FAIL: no memory for a ring\n");
		return 1;
	}
	rz_audit_log(0);
	failed = rz_test_run("audit", cases);
	audit_ring = NULL;
	free(ring);
	return failed != 0;
}
