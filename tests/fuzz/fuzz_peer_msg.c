/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/* libFuzzer target: the message header of the RDMA message channel (msg_parse(), msg_encode(),
 * lib/rdma/wire.c): a received buffer is accepted exactly when its header says what follows,
 * and an accepted one re-encodes to the same bytes. */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t again[RZ_MSG_HDR_SIZE + RZ_PEER_MSG_MAX];
	const void *payload = data;
	const char *why = (const char *)1;
	uint32_t magic = 0, len = 0;
	bool want;
	int ret, n;

	if (size >= RZ_MSG_HDR_SIZE) {
		memcpy(&magic, data, 4);
		memcpy(&len, data + 4, 4);
	}
	want = size >= RZ_MSG_HDR_SIZE && magic == RZ_MSG_MAGIC && len <= RZ_PEER_MSG_MAX &&
			len == size - RZ_MSG_HDR_SIZE;
	ret = msg_parse(data, size, &payload, &why);
	if (ret < 0) {
		if (ret != -EBADMSG || why == NULL || payload != NULL || want)
			abort();
	} else {
		if (why != NULL || !want || (uint32_t)ret != len || payload != data + 8)
			abort();
		n = msg_encode(again, payload, (size_t)ret);
		if (n != ret + RZ_MSG_HDR_SIZE || memcmp(again, data, (size_t)n) != 0)
			abort();
	}
	/* The other way: the input as a payload encodes iff it fits, and parses back to itself. */
	n = msg_encode(again, data, size);
	if (size > RZ_PEER_MSG_MAX) {
		if (n != -EINVAL)
			abort();
		return 0;
	}
	if (n != (int)(size + RZ_MSG_HDR_SIZE))
		abort();
	ret = msg_parse(again, (size_t)n, &payload, NULL);
	if (ret != (int)size || payload != again + RZ_MSG_HDR_SIZE ||
			(size > 0 && memcmp(payload, data, size) != 0))
		abort();
	return 0;
}
