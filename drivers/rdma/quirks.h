/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_RDMA_QUIRKS_H
#define RZ_RDMA_QUIRKS_H

/*
 * Device quirks of rzone remote, behind a small ops table: what lib/rdma asks of the driver
 * layer. Each device family's driver describes its quirks (driver.h); a device no driver of its
 * own claims gets the generic driver's defaults: memory windows enforce their own bounds.
 */

#include <stdbool.h>
#include <stdint.h>

struct rdma_quirks {
	const char *name;
	/* false: remote access through a memory window is only checked against the MR under
	 * it, not against the window's range (rxe, kernel 6.1: measured). Each grant then gets
	 * an MR of exactly its range, so the window cannot reach past it. */
	bool mw_range_enforced;
};

/* Quirks of a device, by its ibv_device_attr vendor id and name. Never NULL. The environment
 * variable RZ_RDMA_EXACT_MR=1 forces exact per-grant MRs on any device; no value turns them off
 * on a device that needs them (logged). */
const struct rdma_quirks *rdma_quirks_lookup(uint32_t vendor_id, const char *dev_name);

#endif /* RZ_RDMA_QUIRKS_H */
