/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/* The RDMA module's table of remote operations, as the local layers see it (remote_ops.h). */

#include <errno.h>

#include "core_private.h"
#include "remote_ops.h"

static const struct remote_ops *registered;

void
remote_ops_register(const struct remote_ops *ops)
{
	__atomic_store_n(&registered, ops, __ATOMIC_RELEASE);
}

const struct remote_ops *
remote_active(void)
{
	const struct remote_ops *ops = __atomic_load_n(&registered, __ATOMIC_ACQUIRE);

	return ops != NULL && ops->active() ? ops : NULL;
}

const struct remote_ops *
remote_for_peer(pid_t peer, int *err)
{
	const struct remote_ops *ops = __atomic_load_n(&registered, __ATOMIC_ACQUIRE);

	if (ops == NULL) {
		RZ_LOG(ERR, "id %d names a remote peer, but rzone was built without RDMA "
				"(-Drdma=disabled)", (int)peer);
		*err = -ENOTSUP;
		return NULL;
	}
	/* Not initialised: the seed functions themselves say there is no such peer. */
	*err = 0;
	return ops;
}
