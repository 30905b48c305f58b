/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * Random bytes, from getrandom(): the device's identity, and the keys and picks that keep rkeys
 * unpredictable (mw.c), served from a buffer so that a grant does not pay a system call each.
 */

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "rdma_private.h"

int
rdma_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Random bytes for keys and window picks: getrandom() output, fetched RZ_RND_BUF at a time so
 * that a grant does not pay a system call for each. Lock held. */
int
rdma_random_locked(void *buf, size_t len)
{
	uint8_t *out = buf;

	while (len > 0) {
		size_t n;

		if (rdma_state.rnd_pos == 0 || rdma_state.rnd_pos >= RZ_RND_BUF) {
			int ret = rdma_random(rdma_state.rnd, RZ_RND_BUF);

			if (ret != 0)
				return ret;
			rdma_state.rnd_pos = 0;
		}
		n = RTE_MIN(len, (size_t)(RZ_RND_BUF - rdma_state.rnd_pos));
		memcpy(out, rdma_state.rnd + rdma_state.rnd_pos, n);
		/* Bytes handed out are not kept. */
		memset(rdma_state.rnd + rdma_state.rnd_pos, 0, n);
		rdma_state.rnd_pos += (uint32_t)n;
		out += n;
		len -= n;
	}
	return 0;
}
