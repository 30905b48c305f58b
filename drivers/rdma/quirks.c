/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core_private.h"
#include "quirks.h"

#define RXE_VENDOR_ID 0xffffffu	/* Soft-RoCE reports this vendor id */

static const struct rdma_quirks quirks_default = {
	.name = "default",
	.mw_range_enforced = true,
};

static const struct rdma_quirks quirks_rxe = {
	.name = "rxe",
	.mw_range_enforced = false,
};

static const struct rdma_quirks quirks_forced = {
	.name = "forced exact MR (RZ_RDMA_EXACT_MR)",
	.mw_range_enforced = false,
};

const struct rdma_quirks *
rdma_quirks_lookup(uint32_t vendor_id, const char *dev_name)
{
	const char *env = getenv("RZ_RDMA_EXACT_MR");

	bool rxe = vendor_id == RXE_VENDOR_ID ||
		(dev_name != NULL && strncmp(dev_name, "rxe", 3) == 0);

	if (env != NULL && strcmp(env, "1") == 0)
		return &quirks_forced;
	if (env != NULL && rxe)
		/* Never off where windows are unbounded: that would reopen what the quirk
		 * closes. */
		RZ_LOG(WARNING, "RZ_RDMA_EXACT_MR=%s ignored: %s does not bound memory windows to "
				"their range, so every grant keeps a registration of exactly its "
				"range", env, dev_name != NULL ? dev_name : "this device");
	return rxe ? &quirks_rxe : &quirks_default;
}
