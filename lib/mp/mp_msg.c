/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#include <errno.h>
#include <string.h>

#include "mp_msg.h"
#include "rzone.h"

int
mp_msg_parse(const void *buf, size_t len, unsigned int max_procs, struct rz_mp_msg *out,
		const char **why)
{
	struct rz_mp_msg m;
	const char *reason = NULL;
	int ret = -EPROTO;

	if (buf == NULL || out == NULL) {
		reason = "null buffer";
		ret = -EINVAL;
		goto bad;
	}
	if (len != sizeof(m)) {
		reason = "wrong length";
		ret = -EBADMSG;
		goto bad;
	}
	memcpy(&m, buf, sizeof(m));
	if (m.magic != RZ_MP_MAGIC) {
		reason = "bad magic";
		ret = -EBADMSG;
		goto bad;
	}
	if (m.version != RZ_MP_VERSION) {
		reason = "unsupported version";
		ret = -EBADMSG;
		goto bad;
	}
	if (m.op < RZ_MP_OP_MAP || m.op > RZ_MP_OP_ARENA) {
		reason = "unknown op";
		goto bad;
	}
	if (m.flags & ~RZ_MP_F_ALL) {
		reason = "unknown flags";
		goto bad;
	}
	if (m.op == RZ_MP_OP_REPLY && m.requester >= max_procs) {
		reason = "process slot out of range";
		goto bad;
	}
	if (m.op == RZ_MP_OP_ARENA) {
		if (m.region_id != 0 || m.vaddr != 0) {
			reason = "arena request names a region";
			goto bad;
		}
		if (m.npages == 0 || m.npages > RZ_MP_ARENA_MAX_PAGES || m.socket < 0 ||
				m.socket >= 1024) {
			reason = "arena size or node out of range";
			goto bad;
		}
	} else if (m.socket != 0 || m.npages != 0) {
		reason = "arena fields on another message";
		goto bad;
	}
	if (m.op == RZ_MP_OP_MAP || m.op == RZ_MP_OP_UNMAP || m.op == RZ_MP_OP_ARENA) {
		if (m.deadline_ns == 0) {
			reason = "request without a deadline";
			goto bad;
		}
		if (m.region_id == 0 && m.op != RZ_MP_OP_ARENA) {
			reason = "region id 0";
			goto bad;
		}
		if (m.requester >= max_procs || m.target >= max_procs) {
			reason = "process slot out of range";
			goto bad;
		}
		if (m.target_pid <= 0) {
			reason = "bad target pid";
			goto bad;
		}
		if (m.result != 0) {
			reason = "request carries a result";
			goto bad;
		}
	}
	if (m.op == RZ_MP_OP_MAP && (m.perms == 0 || (m.perms & ~RZ_PERM_ALL))) {
		reason = "bad permissions";
		goto bad;
	}
	if (m.op != RZ_MP_OP_MAP && m.perms != 0) {
		reason = "permissions on a non-map message";
		goto bad;
	}
	if (m.op == RZ_MP_OP_REPLY && (m.result > 0 || m.result < -4095)) {
		reason = "result out of range";
		goto bad;
	}
	*out = m;
	if (why != NULL)
		*why = NULL;
	return 0;
bad:
	if (why != NULL)
		*why = reason;
	return ret;
}
