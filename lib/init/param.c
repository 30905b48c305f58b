/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/* Parameters of the /rzone/ telemetry commands (telemetry.c): they come from any client of the
 * telemetry socket. Pure C: the fuzzers (tests/fuzz/) compile this file alone. */

#include <errno.h>
#include <stdlib.h>

#include "init_private.h"

int
tel_region_param(const char *params, uint64_t *id)
{
	unsigned long long v;
	char *end;

	if (params == NULL || *params == '\0')
		return -EINVAL;
	v = strtoull(params, &end, 0);
	if (*end != '\0')
		return -EINVAL;
	*id = (uint64_t)v;
	return 0;
}
