/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * The registry of RDMA drivers (driver.h) and rdma_quirks_lookup(): the quirks of a device are
 * those of the driver that claims it, unless RZ_RDMA_EXACT_MR=1 forces exact per-grant MRs.
 */

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <rte_debug.h>

#include "core_private.h"
#include "driver.h"

/* Drivers with a match function first, in registration order, then the catch-all ones. */
static TAILQ_HEAD(, rdma_driver) drivers = TAILQ_HEAD_INITIALIZER(drivers);

static const struct rdma_quirks quirks_forced = {
	.name = "forced exact MR (RZ_RDMA_EXACT_MR)",
	.mw_range_enforced = false,
};

/* No driver claims the device (none is registered: a static link that dropped the driver
 * objects?). Exact MRs are right on every device. */
static const struct rdma_quirks quirks_unclaimed = {
	.name = "no driver: exact MR",
	.mw_range_enforced = false,
};

void
rdma_driver_register(struct rdma_driver *drv)
{
	struct rdma_driver *d;

	RTE_VERIFY(drv != NULL && drv->name != NULL && drv->quirks.name != NULL);
	if (drv->match != NULL) {
		TAILQ_FOREACH(d, &drivers, next) {
			if (d->match == NULL) {
				TAILQ_INSERT_BEFORE(d, drv, next);
				return;
			}
		}
	}
	TAILQ_INSERT_TAIL(&drivers, drv, next);
}

const struct rdma_driver *
rdma_driver_lookup(uint32_t vendor_id, const char *dev_name)
{
	const struct rdma_driver *d;

	TAILQ_FOREACH(d, &drivers, next)
		if (d->match == NULL || d->match(vendor_id, dev_name))
			return d;
	return NULL;
}

const struct rdma_quirks *
rdma_quirks_lookup(uint32_t vendor_id, const char *dev_name)
{
	const char *env = getenv("RZ_RDMA_EXACT_MR");
	const struct rdma_driver *drv;

	if (env != NULL && strcmp(env, "1") == 0)
		return &quirks_forced;
	drv = rdma_driver_lookup(vendor_id, dev_name);
	if (drv == NULL) {
		RZ_LOG(WARNING, "no RDMA driver claims %s (vendor id 0x%x): every grant gets an MR "
				"of exactly its range", dev_name != NULL ? dev_name : "this device",
				vendor_id);
		return &quirks_unclaimed;
	}
	if (env != NULL && !drv->quirks.mw_range_enforced)
		/* Never off where windows are unbounded: that would reopen what the quirk
		 * closes. */
		RZ_LOG(WARNING, "RZ_RDMA_EXACT_MR=%s ignored: %s does not bound memory windows to "
				"their range, so every grant keeps a registration of exactly its "
				"range", env, dev_name != NULL ? dev_name : "this device");
	return &drv->quirks;
}
