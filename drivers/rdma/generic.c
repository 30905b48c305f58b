/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * The generic RDMA driver: every device that no driver of its own family claims. Its memory
 * windows are taken to enforce their own bounds (the verbs semantics), so a grant's window is
 * bound over its region's arena MR.
 */

#include <stddef.h>

#include "driver.h"

static struct rdma_driver generic_driver = {
	.name = "generic",
	.match = NULL,	/* catch-all: asked after every driver with a match function */
	.quirks = {
		.name = "default",	/* as logs and rz_rdma_dump() have always called it */
		.mw_range_enforced = true,
	},
};

RDMA_DRIVER_REGISTER(generic_driver);
