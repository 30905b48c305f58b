/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/* libFuzzer target: the rdma_cm hello (hello_parse(), lib/rdma/wire.c), the private data a
 * remote sends with its connect or accept. Checked against a reading of the bytes made here,
 * field by field: accepted exactly when it should be, and what it accepts re-encodes to the
 * same bytes. */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SELF_ID	UINT64_C(0x5a5a00c0ffee0001)

/* Little-endian field of @n bytes at @p, read here independently of wire.c. */
static uint64_t
le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = v << 8 | p[n];
	return v;
}

static void
one(const uint8_t *data, size_t size, uint64_t self_id)
{
	static const struct hello zero;
	uint8_t again[RZ_HELLO_SIZE];
	const char *why = (const char *)1;
	struct hello h;
	bool want;
	int ret;

	ret = hello_parse(data, size, self_id, &h, &why);
	want = false;
	if (size >= RZ_HELLO_SIZE)
		want = le(data, 4) == RZ_HELLO_MAGIC && le(data + 4, 2) == RZ_HELLO_VERSION &&
				le(data + 6, 2) == RZ_HELLO_SIZE && le(data + 8, 8) != 0 &&
				le(data + 8, 8) != self_id;
	if (ret != 0) {
		/* Rejected: -EPROTO with a reason; a short one leaves nothing in *h. */
		if (ret != -EPROTO || why == NULL || want)
			abort();
		if (size < RZ_HELLO_SIZE && memcmp(&h, &zero, sizeof(h)) != 0)
			abort();
		return;
	}
	if (why != NULL || !want || h.magic != le(data, 4) || h.version != le(data + 4, 2) ||
			h.size != le(data + 6, 2) || h.id != le(data + 8, 8) ||
			h.pid != le(data + 16, 4) || h.reserved != le(data + 20, 4))
		abort();
	/* What hello_make() would send with this identity and pid: the same bytes (the
	 * reserved field, ignored on receipt, is sent as 0). */
	hello_encode(again, h.id, h.pid);
	if (memcmp(again, data, 20) != 0 || le(again + 20, 4) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t id;

	one(data, size, SELF_ID);
	/* The remote claiming our own identity must be refused. */
	if (size >= 16) {
		id = le(data + 8, 8);
		one(data, size, id);
	}
	return 0;
}
