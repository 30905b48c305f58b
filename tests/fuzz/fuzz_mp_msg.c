/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/* libFuzzer target: rzone's local IPC message parser (lib/mp/mp_msg.c, compiled in). */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mp_msg.h"
#include "rzone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rz_mp_msg m;
	const char *why = NULL;
	unsigned int max_procs = 32;

	if (mp_msg_parse(data, size, max_procs, &m, &why) != 0) {
		if (why == NULL)
			abort();
		return 0;
	}
	/* Accepted: the invariants the handlers rely on. */
	if (why != NULL || size != sizeof(m) || memcmp(&m, data, sizeof(m)) != 0)
		abort();
	if (m.magic != RZ_MP_MAGIC || m.version != RZ_MP_VERSION)
		abort();
	if (m.op < RZ_MP_OP_MAP || m.op > RZ_MP_OP_ARENA || (m.flags & ~RZ_MP_F_ALL))
		abort();
	if ((m.op == RZ_MP_OP_MAP || m.op == RZ_MP_OP_UNMAP) &&
			(m.requester >= max_procs || m.target >= max_procs || m.region_id == 0))
		abort();
	/* ARENA: a size and a node, no region; the two fields are 0 on every other op. */
	if (m.op == RZ_MP_OP_ARENA && (m.requester >= max_procs || m.target >= max_procs ||
			m.region_id != 0 || m.vaddr != 0 || m.npages == 0 ||
			m.npages > RZ_MP_ARENA_MAX_PAGES || m.socket < 0 || m.deadline_ns == 0))
		abort();
	if (m.op != RZ_MP_OP_ARENA && (m.socket != 0 || m.npages != 0))
		abort();
	if (m.op == RZ_MP_OP_MAP && (m.perms == 0 || (m.perms & ~RZ_PERM_ALL)))
		abort();
	return 0;
}
