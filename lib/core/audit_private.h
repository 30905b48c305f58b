/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_AUDIT_PRIVATE_H
#define RZ_AUDIT_PRIVATE_H

/*
 * The audit trail: a ring of RZ_AUDIT_ENTRIES records in a memzone of its own ("rz_audit",
 * reserved by the primary with the table), written by every process of the instance without a
 * lock: a writer claims record number n with an atomic fetch-add on the head, takes the slot
 * n % RZ_AUDIT_ENTRIES by a compare-and-swap of its sequence word to "n, being written by
 * process slot s", fills
 * it, and stores the sequence n + 1 with release. A reader keeps a slot only if its sequence is
 * n + 1 before and after the copy (anything else: overwritten, or torn, and counted as lost).
 * The oldest records are overwritten; the head says how many were ever written.
 *
 * The same memzone holds what each process publishes of its RDMA state (lib/rdma: device,
 * peers, live grants), so that an observer sees the grants that live in the granting process's
 * memory; each process's page under a sequence count of its own (odd while it writes).
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "rz_config.h"

#define RZ_AUDIT_MZ	"rz_audit"
#define RZ_AUDIT_MAGIC	0x525a415544495431ULL	/* "RZAUDIT1" */
#define RZ_AUDIT_VERSION 1
/* A record's sequence word: n + 1 when complete; while being written, RZ_AUDIT_BUSY | the
 * writer's process slot << RZ_AUDIT_SLOT_SHIFT | n + 1. A slot being written is never taken
 * over by another writer (a writer can be slow, not only dead): the next writers of that slot
 * give their records up (counted lost) until the writer completes it or, if it died there,
 * the reaper releases it (audit_release_proc()). */
#define RZ_AUDIT_BUSY		(UINT64_C(1) << 63)
#define RZ_AUDIT_SLOT_SHIFT	48
#define RZ_AUDIT_SEQ_MASK	((UINT64_C(1) << RZ_AUDIT_SLOT_SHIFT) - 1)

enum audit_event {
	AUDIT_NONE = 0,
	AUDIT_REGION_CREATE,	/* actor: creator; a: size */
	AUDIT_REGION_DESTROY,	/* actor: the owner; rz_region_destroy() */
	AUDIT_REGION_FREE,	/* its owner left or died and nobody mapped it; actor: who freed */
	AUDIT_TRANSFER,		/* ownership: actor the old owner, target the new; cause */
	AUDIT_CAP_CREATE,	/* actor: owner, target: pid; a: token, aux: mode */
	AUDIT_CAP_USE,		/* actor: the target using it; a: token, aux: mode */
	AUDIT_CAP_REVOKE,	/* actor: owner; a: token; cause */
	AUDIT_GRANT,		/* RDMA: actor granting pid, target peer id; a: offset, b: length,
				 * aux: lifetime in ms (0: none, UINT32_MAX: longer) */
	AUDIT_REVOKE,		/* RDMA grant gone: a: offset, b: length; cause */
	AUDIT_REAP,		/* actor: the reaper, target: the dead pid */
	AUDIT_EVENT_MAX
};

enum audit_cause {
	AUDIT_CAUSE_NONE = 0,
	AUDIT_CAUSE_EXPLICIT,		/* the API call of the actor */
	AUDIT_CAUSE_EXPIRY,		/* its lifetime ended */
	AUDIT_CAUSE_PEER_GONE,		/* the peer disconnected or was closed */
	AUDIT_CAUSE_DESTROY,		/* its region was destroyed */
	AUDIT_CAUSE_TRANSFER,		/* its region changed owner */
	AUDIT_CAUSE_OWNER_LEFT,		/* the owner left or died */
	AUDIT_CAUSE_CAPABILITY,		/* a Move capability was used */
	AUDIT_CAUSE_PEER_DEAD,		/* the peer stopped answering (keepalive) */
	AUDIT_CAUSE_MAX
};

/* One record: 64 bytes. */
struct audit_rec {
	uint64_t seq;		/* n + 1 when complete; n + 1 | RZ_AUDIT_BUSY while written */
	uint64_t time_ns;	/* CLOCK_REALTIME */
	uint64_t region;	/* region id (0: none) */
	uint64_t a;		/* per event (token, offset, size) */
	uint64_t b;		/* per event (length) */
	int32_t actor;		/* pid */
	int32_t target;		/* pid, peer id, or 0 */
	uint16_t event;		/* enum audit_event */
	uint16_t cause;		/* enum audit_cause */
	uint32_t rights;	/* RZ_PERM_* (local) or RZ_RDMA_RIGHT_* (remote) */
	int32_t result;		/* 0 or -errno */
	uint32_t aux;
};

#define RZ_PUB_GRANTS	32	/* grants published per process (the count is complete) */
#define RZ_PUB_PEERS	16

struct pub_grant {
	uint64_t region;
	uint64_t offset;
	uint64_t length;
	uint64_t expiry_ns;	/* CLOCK_REALTIME, 0: none */
	uint64_t peer_remote;	/* the peer's id */
	int32_t peer;		/* its local id (RZ_PEER_ID_BASE + n) */
	uint32_t rights;
	uint32_t rkey;
	uint32_t pad;
};

struct pub_peer {
	uint64_t remote_id;
	int32_t local_id;
	int32_t remote_pid;
	uint32_t ngrants;
	uint32_t connected;
};

/* What a process publishes of its RDMA state (its own slot's; pid 0: nothing). */
struct rdma_pub {
	uint64_t seq;		/* odd while its process writes */
	int32_t pid;
	uint32_t npeers;	/* all of them; the first RZ_PUB_PEERS listed */
	uint32_t ngrants;	/* all of them; the first RZ_PUB_GRANTS listed */
	uint32_t pad;
	char device[64];
	struct pub_peer peers[RZ_PUB_PEERS];
	struct pub_grant grants[RZ_PUB_GRANTS];
};

struct audit_ring {
	uint64_t magic;
	uint32_t version;
	uint32_t nrecs;		/* RZ_AUDIT_ENTRIES */
	uint64_t size;		/* sizeof(struct audit_ring) */
	uint64_t lost;		/* records a writer gave up (slot held by a writer a lap behind) */
	uint64_t head __rte_aligned(64);	/* records ever claimed */
	struct rdma_pub pub[RZ_MAX_PROCS] __rte_aligned(64);
	struct audit_rec recs[RZ_AUDIT_ENTRIES] __rte_aligned(64);
};

/* The instance's ring (NULL: none). */
extern struct audit_ring *audit_ring;

/* core.c: with the table. Primary: reserve (or take the left-over one); secondary and
 * observer: look it up and check it. 0 or -ENOMEM / -ENOENT / -EPROTO. */
int audit_create(void);
int audit_attach(void);
void audit_destroy(void);
void audit_forget(void);
/* The reaper: records that process slot @slot was writing when it died are released (left
 * empty: readers skip them), so that the next writers of those ring slots can use them. */
void audit_release_proc(uint32_t slot);

/* Record one event. Lock-free, any thread, with or without the table lock. */
void audit_record(uint16_t event, uint16_t cause, uint64_t region, int32_t actor,
		int32_t target, uint32_t rights, int32_t result, uint64_t a, uint64_t b,
		uint32_t aux);

/* Copy record number @n (0-based, < head) into @out: true if it is there, whole. */
bool audit_read(const struct audit_ring *ring, uint64_t n, struct audit_rec *out);

const char *audit_event_name(uint32_t event);
const char *audit_cause_name(uint32_t cause);

/* This process's RDMA page: begin (odd), write, end (even). NULL without a ring or a slot. */
struct rdma_pub *rdma_pub_begin(void);
void rdma_pub_end(struct rdma_pub *p);
/* Process slot @slot is released: its page says nothing any more. */
void rdma_pub_clear(uint32_t slot);
/* Read process slot @slot's page consistently into @out: true if there is one. */
bool rdma_pub_read(const struct audit_ring *ring, uint32_t slot, struct rdma_pub *out);

#endif /* RZ_AUDIT_PRIVATE_H */
