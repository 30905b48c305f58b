/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * Soft-RoCE (rxe), the kernel's software RoCE device: vendor id 0xffffff, devices named rxe*.
 * Its memory windows are only checked against the MR under them, not against their own range
 * (kernel 6.1: measured), so every grant gets an MR of exactly its range.
 */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "driver.h"

#define RXE_VENDOR_ID 0xffffffu	/* Soft-RoCE reports this vendor id */

static bool
rxe_match(uint32_t vendor_id, const char *dev_name)
{
	return vendor_id == RXE_VENDOR_ID ||
		(dev_name != NULL && strncmp(dev_name, "rxe", 3) == 0);
}

static struct rdma_driver rxe_driver = {
	.name = "rxe",
	.match = rxe_match,
	.quirks = {
		.name = "rxe",
		.mw_range_enforced = false,
	},
};

RDMA_DRIVER_REGISTER(rxe_driver);
