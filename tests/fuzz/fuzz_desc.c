/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/* libFuzzer target: the capability descriptor parser. Whatever it accepts must re-encode to the
 * same bytes, and must satisfy every field rule. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "desc_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int one(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t sealed[RZ_RDMA_DESC_SIZE + 16];
	uint32_t crc;

	one(data, size);
	/* Random bytes almost never carry a valid CRC: also try the input re-sealed, so that
	 * the field checks behind the checksum get fuzzed too. */
	if (size >= RZ_RDMA_DESC_SIZE) {
		size_t n = size < sizeof(sealed) ? size : sizeof(sealed);

		memcpy(sealed, data, n);
		crc = desc_crc32c(sealed, RZ_DESC_OFF_CRC);
		sealed[76] = (uint8_t)crc;
		sealed[77] = (uint8_t)(crc >> 8);
		sealed[78] = (uint8_t)(crc >> 16);
		sealed[79] = (uint8_t)(crc >> 24);
		one(sealed, n);
	}
	return 0;
}

static int
one(const uint8_t *data, size_t size)
{
	struct desc_check chk = { 0 };
	struct rz_rdma_desc d;
	uint8_t again[RZ_RDMA_DESC_SIZE];
	const char *why = NULL;
	int ret;

	/* The first 16 bytes past a descriptor, if any, choose the checks. */
	if (size >= RZ_RDMA_DESC_SIZE + 16) {
		memcpy(&chk.issuer, data + RZ_RDMA_DESC_SIZE, 8);
		memcpy(&chk.now_ns, data + RZ_RDMA_DESC_SIZE + 8, 8);
		ret = desc_parse(data, RZ_RDMA_DESC_SIZE, &chk, &d, &why);
	} else {
		ret = desc_parse(data, size, NULL, &d, &why);
	}
	if (ret != 0) {
		if (why == NULL)
			abort();	/* every rejection names its reason */
		return 0;
	}
	if (why != NULL)
		abort();
	if (d.length == 0 || d.addr + d.length < d.addr || d.issuer == 0 || d.target == 0 ||
			!(d.rights & RZ_RDMA_RIGHT_READ) ||
			(d.rights & ~desc_mode_rights(d.mode)))
		abort();
	if (desc_encode(&d, again, sizeof(again)) != 0 ||
			memcmp(again, data, RZ_RDMA_DESC_SIZE) != 0)
		abort();
	return 0;
}
