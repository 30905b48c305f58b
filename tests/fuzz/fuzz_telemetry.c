/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/* libFuzzer target: the parameters of the /rzone/ telemetry commands, which any client of the
 * telemetry socket sends: /rzone/region (tel_region_param(), lib/init/param.c) and
 * /rzone/rdma/peer (tel_peer_param(), lib/rdma/wire.c). The input, cut at its first NUL, is the
 * parameter string. An accepted id is in range and prints back to a string that parses to the
 * same id; a plain decimal number in range is always accepted as itself; a string with a byte
 * no number can hold is always refused. */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "init_private.h"
#include "wire_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PARAM_MAX	512

/* The number if @s is plain decimal digits (no sign, no space, no leading 0) that fit in 64
 * bits; else false. */
static bool
plain_decimal(const char *s, uint64_t *v)
{
	uint64_t n = 0;

	if (*s < '1' || *s > '9')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || n > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return false;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	*v = n;
	return true;
}

/* Whether @s holds a byte strtol()/strtoull() never take. */
static bool
foreign_byte(const char *s)
{
	for (; *s != '\0'; s++)
		if (strchr("0123456789abcdefABCDEFxX+- \t\n\v\f\r", *s) == NULL)
			return true;
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[PARAM_MAX + 1], back[32];
	uint64_t rid = 0, rid2 = 0, plain = 0;
	int32_t pid = 0, pid2 = 0;
	bool is_plain, foreign;
	int ret;

	if (size > PARAM_MAX)
		size = PARAM_MAX;
	memcpy(s, data, size);
	s[size] = '\0';
	is_plain = plain_decimal(s, &plain);
	foreign = foreign_byte(s);

	ret = tel_region_param(s, &rid);
	if (ret != 0 && ret != -EINVAL)
		abort();
	if (ret == 0) {
		if (s[0] == '\0' || foreign || (is_plain && rid != plain))
			abort();
		snprintf(back, sizeof(back), "%" PRIu64, rid);
		if (tel_region_param(back, &rid2) != 0 || rid2 != rid)
			abort();
	} else if (is_plain) {
		abort();
	}

	ret = tel_peer_param(s, &pid);
	if (ret != 0 && ret != -EINVAL)
		abort();
	if (ret == 0) {
		if (pid <= 0 || s[0] == '\0' || foreign || (is_plain && (uint64_t)pid != plain))
			abort();
		snprintf(back, sizeof(back), "%" PRId32, pid);
		if (tel_peer_param(back, &pid2) != 0 || pid2 != pid)
			abort();
	} else if (is_plain && plain <= INT32_MAX) {
		abort();
	}
	if (tel_region_param(NULL, &rid) != -EINVAL || tel_peer_param(NULL, &pid) != -EINVAL)
		abort();
	return 0;
}
