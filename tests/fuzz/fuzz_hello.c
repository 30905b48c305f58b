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

static void
one(const uint8_t *data, size_t size, uint64_t self_id)
{
	static const struct hello zero;
	struct hello h, ref, again;
	const char *why = (const char *)1;
	bool want;
	int ret;

	ret = hello_parse(data, size, self_id, &h, &why);
	want = false;
	if (size >= sizeof(ref)) {
		memcpy(&ref.magic, data + offsetof(struct hello, magic), sizeof(ref.magic));
		memcpy(&ref.version, data + offsetof(struct hello, version), sizeof(ref.version));
		memcpy(&ref.size, data + offsetof(struct hello, size), sizeof(ref.size));
		memcpy(&ref.id, data + offsetof(struct hello, id), sizeof(ref.id));
		want = ref.magic == RZ_HELLO_MAGIC && ref.version == RZ_HELLO_VERSION &&
				ref.size == sizeof(struct hello) && ref.id != 0 &&
				ref.id != self_id;
	}
	if (ret != 0) {
		/* Rejected: -EPROTO with a reason; a short one leaves nothing in *h. */
		if (ret != -EPROTO || why == NULL || want)
			abort();
		if (size < sizeof(h) && memcmp(&h, &zero, sizeof(h)) != 0)
			abort();
		return;
	}
	if (why != NULL || !want || memcmp(&h, data, sizeof(h)) != 0)
		abort();
	/* What hello_make() would send with this identity: the same bytes. */
	memset(&again, 0, sizeof(again));
	again.magic = RZ_HELLO_MAGIC;
	again.version = RZ_HELLO_VERSION;
	again.size = sizeof(again);
	again.id = h.id;
	again.pid = h.pid;
	again.reserved = h.reserved;
	if (memcmp(&again, data, sizeof(again)) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t id;

	one(data, size, SELF_ID);
	/* The remote claiming our own identity must be refused. */
	if (size >= offsetof(struct hello, id) + sizeof(id)) {
		memcpy(&id, data + offsetof(struct hello, id), sizeof(id));
		one(data, size, id);
	}
	return 0;
}
