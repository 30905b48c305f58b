/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#include <stdlib.h>
#include <string.h>

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

	if (env != NULL && strcmp(env, "1") == 0)
		return &quirks_forced;
	if (vendor_id == RXE_VENDOR_ID || (dev_name != NULL && strncmp(dev_name, "rxe", 3) == 0))
		return &quirks_rxe;
	return &quirks_default;
}
