/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * Mellanox / NVIDIA ConnectX-4 and later, BlueField (mlx5): vendor id 0x02c9, whatever the name
 * (udev may rename mlx5_N). Memory windows are bounded to their range by the device. The older
 * mlx4 devices (ConnectX-3) report the same vendor id; by their name they are left to the
 * generic driver, as before there was a driver of this family.
 */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "driver.h"

#define MLX_VENDOR_ID 0x02c9u	/* Mellanox Technologies (NVIDIA) */

static bool
mlx5_match(uint32_t vendor_id, const char *dev_name)
{
	return vendor_id == MLX_VENDOR_ID &&
		(dev_name == NULL || strncmp(dev_name, "mlx4", 4) != 0);
}

static struct rdma_driver mlx5_driver = {
	.name = "mlx5",
	.match = mlx5_match,
	.quirks = {
		.name = "mlx5",
		.mw_range_enforced = true,
	},
};

RDMA_DRIVER_REGISTER(mlx5_driver);
