/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_RDMA_DRIVER_H
#define RZ_RDMA_DRIVER_H

/*
 * The RDMA driver layer: one driver per device family (rxe.c, mlx5.c, ..., generic.c). A driver
 * says which devices are its (by ibv_device_attr vendor id, and name where needed) and what
 * quirks they have, and registers itself at load time from a constructor, as DPDK PMDs do
 * (RDMA_DRIVER_REGISTER). rdma_quirks_lookup() (quirks.h) takes the first registered driver that
 * claims the device; catch-all drivers (no match function: generic.c) are asked after all others,
 * whatever the order of the constructors. Among the others the order is the constructors' (link
 * order): their match functions should claim disjoint sets of devices.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <rte_common.h>

#include "quirks.h"

struct rdma_driver {
	TAILQ_ENTRY(rdma_driver) next;	/* the registry's: set by rdma_driver_register() */
	const char *name;
	/* Is the device of this vendor id and name (NULL: not known) one of this driver's?
	 * NULL: every device that no driver with a match function claims. */
	bool (*match)(uint32_t vendor_id, const char *dev_name);
	struct rdma_quirks quirks;
};

/* Add @drv to the registry (at load time: RDMA_DRIVER_REGISTER). @drv stays in use for ever. */
void rdma_driver_register(struct rdma_driver *drv);

/* The driver that claims the device: the first registered one whose match() says so, else the
 * first catch-all one. NULL if none does (no catch-all driver is registered). */
const struct rdma_driver *rdma_driver_lookup(uint32_t vendor_id, const char *dev_name);

/* Register struct rdma_driver @drv from a constructor of the file that defines it. */
#define RDMA_DRIVER_REGISTER(drv) \
RTE_INIT(rdma_driver_init_ ## drv) \
{ \
	rdma_driver_register(&(drv)); \
}

#endif /* RZ_RDMA_DRIVER_H */
