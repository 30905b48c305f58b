/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_MP_MSG_H
#define RZ_MP_MSG_H

/*
 * rzone's local request, the body of a mailbox record in the shared table (struct mp_record,
 * lib/core/core_private.h; doc/wire-format.md, "Local mailbox"). Version 3 and earlier were
 * carried over DPDK IPC (rte_mp_msg.param). Pure logic: no EAL needed, so unit tests and the
 * fuzzer use it directly.
 */

#include <stddef.h>
#include <stdint.h>

#define RZ_MP_ACTION	"rzone_mp"
#define RZ_MP_MAGIC	0x504d5a52u	/* "RZMP" little-endian */
#define RZ_MP_VERSION	4

enum rz_mp_op {
	RZ_MP_OP_MAP = 1,	/* target: map region (vaddr, perms) on behalf of requester */
	RZ_MP_OP_UNMAP = 2,	/* target: unmap region on behalf of requester */
	RZ_MP_OP_REPLY = 3,	/* version 3: an answer; version 4 answers in the record tag */
	RZ_MP_OP_IGNORE = 4,	/* reserved (version 1 used it); accepted and dropped */
	RZ_MP_OP_ARENA = 5,	/* primary: reserve an arena memzone (socket, npages) */
};

#define RZ_MP_F_RELAY	(1u << 0)	/* version 3: relay by the primary; never set now */
#define RZ_MP_F_ALL	(RZ_MP_F_RELAY)

struct rz_mp_msg {
	uint32_t magic;
	uint16_t version;
	uint16_t op;
	uint32_t flags;
	int32_t result;		/* replies: 0 or -errno */
	uint64_t seq;
	uint64_t region_id;
	uint64_t vaddr;		/* MAP: 0 or view address; REPLY: mapped address */
	uint32_t perms;
	uint32_t requester;	/* process slot of the requester */
	uint64_t requester_gen;
	int32_t target_pid;
	uint32_t target;	/* process slot of the target */
	uint64_t target_gen;
	uint64_t deadline_ns;	/* requests: CLOCK_MONOTONIC time after which the target refuses */
	int32_t socket;		/* ARENA: NUMA node; 0 otherwise */
	uint32_t npages;	/* ARENA: hugepages (1..RZ_MP_ARENA_MAX_PAGES); 0 otherwise */
};

#define RZ_MP_ARENA_MAX_PAGES	(UINT32_C(1) << 30)

/* Validate @len bytes at @buf as an rzone message. 0, or -EBADMSG (wrong size, magic, version),
 * -EPROTO (unknown op, flags or values out of range). @why gets a static reason string. */
int mp_msg_parse(const void *buf, size_t len, unsigned int max_procs, struct rz_mp_msg *out,
		const char **why);

#endif /* RZ_MP_MSG_H */
