/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/* libFuzzer target: the secondary's context request and the primary's answer over DPDK IPC
 * (import_req_parse(), import_reply_parse(), lib/rdma/wire.c). Accepted exactly when the fields
 * say so; every answer parses to 0 or a negative errno (a status of 1 reads as "imported"). */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
reply(const uint8_t *data, int len, int num_fds)
{
	struct import_msg ref, m;
	const char *why = NULL;
	int ret;

	ret = import_reply_parse(data, len, num_fds, &m, &why);
	if (ret > 0 || ret < -4095)
		abort();
	if (len != (int)sizeof(ref)) {
		if (ret != -EBADMSG || why == NULL)
			abort();
		return;
	}
	memcpy(&ref, data, sizeof(ref));
	if (memcmp(&m, &ref, sizeof(m)) != 0)
		abort();
	if (ref.magic != IMPORT_MAGIC || ref.version != IMPORT_VERSION ||
			ref.result > 0 || ref.result < -4095) {
		if (ret != -EBADMSG || why == NULL)
			abort();
		return;
	}
	if (ref.result != 0) {
		if (ret != ref.result || why == NULL)
			abort();
		return;
	}
	if ((num_fds == 1) != (ret == 0) || (ret != 0 && ret != -EBADMSG) ||
			(ret == 0) != (why == NULL))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = (const char *)1;
	struct import_msg ref;
	bool want = false;
	int ret, len = size > 1024 ? 1024 : (int)size;

	if (size == sizeof(ref)) {
		memcpy(&ref, data, sizeof(ref));
		want = ref.magic == IMPORT_MAGIC && ref.version == IMPORT_VERSION &&
				ref.op == IMPORT_OP_CTX;
	}
	ret = import_req_parse(data, len, &why);
	if (ret == 0 ? (!want || why != NULL) : (ret != -EBADMSG || why == NULL || want))
		abort();
	/* rte_mp's len_param is an int: a negative one is refused too. */
	if (import_req_parse(data, -len - 1, NULL) != -EBADMSG)
		abort();

	/* The same bytes as an answer; past a message, one byte says how many fds came with it. */
	if (size > sizeof(ref))
		reply(data, (int)sizeof(ref), data[sizeof(ref)] % (8 + 1));
	else
		reply(data, len, 1);
	return 0;
}
