/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_CORE_PRIVATE_H
#define RZ_CORE_PRIVATE_H

/*
 * The shared region table: one memzone ("rz_table") reserved by the primary, at the same address
 * in every process of the instance. Mutations take the table lock (a robust, process-shared
 * mutex: a holder killed with -9 does not wedge the instance). Hot reads (lookup by id,
 * get_mapping) take no lock: they read single words with acquire loads and re-check the id.
 */

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_memzone.h>

#include "rz_config.h"
#include "rzone.h"

extern int rzone_logtype;
/* The log line of every module: "rzone: function(): message". */
#define RZ_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, rzone_logtype, "rzone: %s(): " fmt "\n", __func__, ##__VA_ARGS__)

#define RZ_TABLE_MZ	"rz_table"
#define RZ_TABLE_MAGIC	0x525a4f4e45544231ULL	/* "RZONETB1" */
#define RZ_TABLE_VERSION 5	/* 4: mailboxes (lib/mp), or wseq (lib/info); 5: both */

/* Region ids: (sequence << RZ_SLOT_BITS) | slot. The sequence never repeats. */
#define RZ_SLOT_BITS	16
#define RZ_SLOT_MASK	((UINT64_C(1) << RZ_SLOT_BITS) - 1)

/* Capability tokens: (48 random bits << 16) | capability slot. */
#define RZ_CAP_SLOT_BITS 16
#define RZ_CAP_SLOT_MASK ((UINT64_C(1) << RZ_CAP_SLOT_BITS) - 1)

#define RZ_MAX_ARENAS	1024
#define RZ_NO_SLOT	UINT32_MAX

enum proc_state {
	PROC_FREE = 0,
	PROC_LIVE,
};

struct proc_entry {
	uint32_t state;		/* enum proc_state */
	int32_t pid;
	uint64_t start_time;	/* /proc/<pid>/stat field 22: tells reused pids apart */
	uint64_t gen;		/* bumped each time the slot is taken */
	int32_t proc_type;	/* RTE_PROC_PRIMARY / RTE_PROC_SECONDARY */
	uint32_t pad;
};

/*
 * The local control plane's mailboxes (lib/mp/mp.c, doc/wire-format.md "Local mailbox"): one per
 * process slot, in this table, so every process of the instance reaches every other without
 * DPDK's IPC or the primary. A process writes requests only into its own RZ_MP_RECORDS records
 * (struct mp_record, indexed by its slot), then sets bit <record> of pending[<its slot>] in the
 * target's mailbox and wakes the target's bell (a futex shared by the processes). The target
 * claims a record, acts, and puts its answer in the record's tag. Every word that two processes
 * touch is accessed with atomics; every record read is validated (other processes may be buggy).
 */
#define RZ_MP_RECORDS	64	/* requests of one process in flight (bits of a pending word) */
#define RZ_MP_BODY_WORDS 11	/* sizeof(struct rz_mp_msg) / 8 */

struct mp_record {
	/* seq (bits 63..32) | answer errno (bits 31..16) | state (bits 7..0, enum in mp.c).
	 * The low 32 bits are also the futex the requester sleeps on. */
	uint64_t tag;
	uint64_t body[RZ_MP_BODY_WORDS];	/* struct rz_mp_msg, written by the requester */
	uint64_t pad[4];
};

struct mp_mailbox {
	uint32_t bell;		/* futex: bumped by every sender after it set a pending bit */
	uint32_t sleeping;	/* the owner's control thread waits on @bell */
	uint64_t served;	/* requests answered (telemetry, tests) */
	uint64_t pending[RZ_MAX_PROCS];	/* [sender slot]: bit i = its record i may be for us */
	struct mp_record rec[RZ_MP_RECORDS];	/* this process's own requests */
};

enum arena_state {
	ARENA_FREE = 0,
	ARENA_LIVE,
	ARENA_RESERVING,	/* the primary is reserving its memzone (without the table lock) */
};

/* A memzone carved into hugepage-sized units. Regions of up to RZ_ARENA_PAGES pages share
 * arenas; larger ones get an arena of their own. */
struct arena {
	uint32_t state;
	int32_t socket;
	uint32_t npages;
	uint32_t nused;
	uint64_t used_mask;		/* bit i: page i in use (shared arenas only) */
	const struct rte_memzone *mz;
	uint8_t *va;
	uint64_t seq;
	uint64_t idle_ns;		/* when it was made or last emptied (trim waits 1 s) */
	char name[RTE_MEMZONE_NAMESIZE];
};

#define MAP_F_VIEW	(1u << 0)	/* extra view at a chosen address */
#define MAP_F_CAP	(1u << 1)	/* made by a capability (cap_slot is valid) */

struct map_entry {
	uint64_t addr;		/* 0: not mapped. Written last on map, first on unmap. */
	uint32_t perms;
	uint32_t flags;
	uint64_t seq;		/* global map order: ownership falls to the oldest mapper */
	uint32_t cap_slot;
	uint32_t pad;
};

enum region_state {
	REGION_FREE = 0,
	REGION_LIVE,
};

/* region_entry.leaving: the owner revokes its remote grants before the region goes or passes
 * to another process; meanwhile maps, unmaps, capability creations and uses, grants, transfers
 * and destroys of it are refused with -EBUSY (region_busy_locked()). */
enum region_leaving {
	REGION_STAYS = 0,
	REGION_LEAVING_DESTROY,		/* rz_region_destroy() by the owner */
	REGION_LEAVING_TRANSFER,	/* rz_region_transfer_ownership() by the owner */
};

struct region_entry {
	uint64_t id;		/* 0 while free; read lock-free with acquire */
	uint32_t state;
	uint32_t perms;		/* ceiling */
	uint64_t size;
	uint8_t *va;		/* DPDK shared address */
	uint32_t arena;
	uint32_t first_page;
	int32_t numa_req;
	int32_t numa_node;
	uint32_t policy;
	uint32_t owner;		/* process slot */
	uint64_t owner_gen;
	uint64_t created_ns;
	uint32_t nmaps;
	uint32_t ncaps;
	/* Remote grants (memory windows, lib/rdma) the owner holds on the region: the windows
	 * are the owner process's own, this count is how the others know of them. Kept by the
	 * owner under the table lock (lib/region/grants.c); reset when ownership changes. */
	uint32_t rgrants;
	uint32_t leaving;	/* enum region_leaving */
	struct map_entry maps[RZ_MAX_PROCS];
};
static_assert(sizeof(struct region_entry) % sizeof(uint64_t) == 0, "zeroed by table_zero()");

enum cap_state {
	CAP_FREE = 0,
	CAP_ACTIVE,		/* created, not used yet */
	CAP_USED,		/* used: its mapping (Share/CoW) is live */
};

struct cap_entry {
	uint64_t token;
	uint64_t region_id;
	uint32_t state;
	uint32_t mode;
	uint32_t rights;
	uint32_t target;	/* process slot */
	uint64_t target_gen;
	uint32_t creator;	/* process slot */
	uint32_t pad;
};

/*
 * Intent record: pages of a region that left the table and that a process is zeroing outside
 * the table lock before it gives them back to their arena. Written under the lock before the
 * lock is dropped, cleared with the release. If the process dies meanwhile, the reaper (or the
 * repair after a lock holder's death) zeroes and releases the pages itself.
 */
#define RZ_MAX_INTENTS	64

struct zero_intent {
	uint32_t active;
	uint32_t proc;		/* process slot doing the zeroing */
	uint64_t gen;		/* and its generation */
	uint32_t arena;
	uint32_t first_page;
	uint32_t npages;
	uint32_t pad;
};

struct rz_table {
	uint64_t magic;
	uint32_t version;
	uint32_t max_regions;
	uint32_t max_procs;
	uint32_t max_caps;
	uint64_t table_size;
	uint64_t page_sz;
	pthread_mutex_t lock;
	/* Odd while a process holds the lock (bumped by table_lock() and table_unlock()): an
	 * observer (rz_observe_open()) copies the table without the lock and keeps the copy only
	 * if the count was even and unchanged across it. */
	uint64_t wseq;
	uint64_t next_seq;	/* region id sequence */
	uint64_t map_seq;
	uint64_t arena_seq;
	uint32_t nregions;
	uint32_t ncaps;
	uint32_t region_hint;	/* every region slot below it is taken */
	uint32_t pad;
	uint64_t stats_created;
	uint64_t stats_destroyed;
	uint64_t stats_reaped;
	uint64_t stats_ipc_rejected;	/* malformed IPC messages dropped, all processes */
	uint64_t stats_liveness_unknown; /* liveness checks that proved nothing (EMFILE...) */
	uint64_t stats_repairs;		/* table repairs after a lock holder died */
	struct zero_intent intents[RZ_MAX_INTENTS];
	struct proc_entry procs[RZ_MAX_PROCS];
	struct arena arenas[RZ_MAX_ARENAS];
	struct region_entry regions[RZ_MAX_REGIONS];
	struct cap_entry caps[RZ_MAX_CAPS];
	struct mp_mailbox mbox[RZ_MAX_PROCS] __rte_cache_aligned;
};

/* Process-local state. */
struct local_proc {
	struct rz_table *tbl;
	const struct rte_memzone *mz;
	uint32_t self;		/* own process slot */
	uint64_t self_gen;
	pid_t pid;
	bool primary;
	bool observer;		/* rz_observe_open(): tbl is a private copy, no slot */
};

extern struct local_proc local_proc;

/* core.c */
/* Primary: reserve and initialise the table (or take the one an earlier rz_init() left).
 * Secondary: attach to the primary's, checking it was made by a compatible build. */
int table_create(void);
int table_attach(void);
/* Last process out: free the table's memzone. */
void table_destroy(void);
/* Forget the table (this process leaves; the table stays for the others). */
void table_forget(void);
int table_lock(void);
void table_unlock(void);
/* What the next holder runs, with the lock held, when the previous one died holding it
 * (EOWNERDEAD): the region layer registers its repair (lib/region/repair.c). */
typedef void table_repair_fn(void);
void table_set_repair(table_repair_fn *fn);

/*
 * Fault injection (meson -Dfault_injection=true, testing only): fault_point("create.arena")
 * kills the process with SIGKILL when RZ_FAULT_KILL names that point; nothing otherwise. The
 * points are listed in doc/guide.md ("Crash consistency").
 */
#ifdef RZ_FAULT_INJECTION
void fault_point(const char *point);
/* True while RZ_FAULT_SKIP names @what in this process: a test holds back one of its own
 * periodic jobs ("reap"), so that another process is the one that meets a fault point. */
bool fault_skip(const char *what);
#else
static inline void
fault_point(const char *point)
{
	RTE_SET_USED(point);
}
static inline bool
fault_skip(const char *what)
{
	RTE_SET_USED(what);
	return false;
}
#endif
uint64_t mono_time_ns(void);
static inline struct rz_table *
tbl(void)
{
	return local_proc.tbl;
}

/*
 * A region handle is the region's id ((sequence << RZ_SLOT_BITS) | slot) cast to a pointer, not
 * the address of its slot: it names one region for ever. Once that region is gone, every call
 * with the handle fails with -ENOENT, whatever region took the slot since (the sequence never
 * repeats). Every check is one acquire load of the slot's id: lock-free reads stay lock-free.
 */
static_assert(sizeof(uintptr_t) >= sizeof(uint64_t), "region handles carry a 64-bit id");
static inline struct rz_region *
region_handle(uint64_t id)
{
	return (struct rz_region *)(uintptr_t)id;
}

static inline uint64_t
handle_id(const struct rz_region *r)
{
	return (uint64_t)(uintptr_t)r;
}

/* Zero a table entry with relaxed atomic 8-byte stores: some of its words (ids, mapping
 * addresses) are loaded lock-free by other threads, which a plain memset would race with. */
static inline void
table_zero(void *p, size_t len)
{
	uint64_t *w = p;
	size_t i;

	for (i = 0; i < len / sizeof(*w); i++)
		__atomic_store_n(&w[i], 0, __ATOMIC_RELAXED);
}

/* Is entry @e still the region @id? (Under the table lock, or lock-free.) */
static inline bool
region_is(const struct region_entry *e, uint64_t id)
{
	return __atomic_load_n(&e->id, __ATOMIC_ACQUIRE) == id;
}

/* Does this process own @e? The slot's generation is checked too: a process that was reaped
 * (declared dead) cannot act as the holder of a slot it once had. Table lock held. */
static inline bool
owned_by_self_locked(const struct region_entry *e)
{
	return e->owner == local_proc.self && e->owner_gen == local_proc.self_gen &&
		local_proc.tbl->procs[local_proc.self].gen == local_proc.self_gen;
}

/* Handle -> live entry: NULL with *@err = -EINVAL (not a handle), -ENOENT (region gone) or
 * -ENODEV (no table). Callers that go on under the table lock check region_is(e, handle_id(r))
 * there again. */
struct region_entry *region_from_handle(const struct rz_region *r, int *err);
/* Live entry by id, lock-free. */
struct region_entry *region_by_id(uint64_t id);
static inline uint32_t
region_slot(const struct region_entry *e)
{
	return (uint32_t)(e - local_proc.tbl->regions);
}

#endif /* RZ_CORE_PRIVATE_H */
