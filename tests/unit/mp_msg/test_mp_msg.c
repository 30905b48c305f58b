/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/* The IPC message parser: pure logic, every field's bounds. */

#include <errno.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "rz_test.h"

#include "mp_msg.h"
#include "rzone.h"

#define MAX_PROCS 32

static struct rz_mp_msg
valid_map(void)
{
	struct rz_mp_msg m;

	memset(&m, 0, sizeof(m));
	m.magic = RZ_MP_MAGIC;
	m.version = RZ_MP_VERSION;
	m.op = RZ_MP_OP_MAP;
	m.seq = 7;
	m.region_id = 0x10001;
	m.perms = RZ_PERM_RW;
	m.requester = 0;
	m.target = 3;
	m.target_pid = 1234;
	m.deadline_ns = 123456789;
	return m;
}

static int
parse(const struct rz_mp_msg *m, const char **why)
{
	struct rz_mp_msg out;

	memset(&out, 0xa5, sizeof(out));
	return mp_msg_parse(m, sizeof(*m), MAX_PROCS, &out, why);
}

static void
test_valid(void)
{
	struct rz_mp_msg m = valid_map(), out;
	const char *why = "unset";

	CU_ASSERT_EQUAL(mp_msg_parse(&m, sizeof(m), MAX_PROCS, &out, &why), 0);
	CU_ASSERT_PTR_NULL(why);
	CU_ASSERT_EQUAL(memcmp(&m, &out, sizeof(m)), 0);
	m.op = RZ_MP_OP_UNMAP;
	m.perms = 0;
	CU_ASSERT_EQUAL(parse(&m, NULL), 0);
	memset(&m, 0, sizeof(m));
	m.magic = RZ_MP_MAGIC;
	m.version = RZ_MP_VERSION;
	m.op = RZ_MP_OP_REPLY;
	m.result = -EPERM;
	CU_ASSERT_EQUAL(parse(&m, NULL), 0);
	m.op = RZ_MP_OP_IGNORE;
	m.result = 0;
	CU_ASSERT_EQUAL(parse(&m, NULL), 0);
}

static void
test_length(void)
{
	uint8_t buf[sizeof(struct rz_mp_msg) + 1];
	struct rz_mp_msg m = valid_map(), out;
	const char *why = NULL;
	size_t len;

	memcpy(buf, &m, sizeof(m));
	buf[sizeof(m)] = 0;
	for (len = 0; len <= sizeof(buf); len++) {
		if (len == sizeof(m))
			continue;
		CU_ASSERT_EQUAL(mp_msg_parse(buf, len, MAX_PROCS, &out, &why), -EBADMSG);
		CU_ASSERT_STRING_EQUAL(why, "wrong length");
	}
	CU_ASSERT_EQUAL(mp_msg_parse(NULL, sizeof(m), MAX_PROCS, &out, &why), -EINVAL);
	CU_ASSERT_EQUAL(mp_msg_parse(&m, sizeof(m), MAX_PROCS, NULL, &why), -EINVAL);
}

static void
test_header(void)
{
	struct rz_mp_msg m = valid_map();
	const char *why;

	m.magic ^= 1;
	CU_ASSERT_EQUAL(parse(&m, &why), -EBADMSG);
	CU_ASSERT_STRING_EQUAL(why, "bad magic");
	m = valid_map();
	m.version = RZ_MP_VERSION + 1;
	CU_ASSERT_EQUAL(parse(&m, &why), -EBADMSG);
	CU_ASSERT_STRING_EQUAL(why, "unsupported version");
	m = valid_map();
	m.op = 0;
	CU_ASSERT_EQUAL(parse(&m, &why), -EPROTO);
	m.op = RZ_MP_OP_ARENA + 1;
	CU_ASSERT_EQUAL(parse(&m, &why), -EPROTO);
	CU_ASSERT_STRING_EQUAL(why, "unknown op");
	m = valid_map();
	m.flags = 1u << 5;
	CU_ASSERT_EQUAL(parse(&m, &why), -EPROTO);
	CU_ASSERT_STRING_EQUAL(why, "unknown flags");
}

static void
test_request_fields(void)
{
	struct rz_mp_msg m = valid_map();
	const char *why;

	m.region_id = 0;
	CU_ASSERT_EQUAL(parse(&m, &why), -EPROTO);
	CU_ASSERT_STRING_EQUAL(why, "region id 0");
	m = valid_map();
	m.target = MAX_PROCS;
	CU_ASSERT_EQUAL(parse(&m, &why), -EPROTO);
	CU_ASSERT_STRING_EQUAL(why, "process slot out of range");
	m = valid_map();
	m.requester = UINT32_MAX;
	CU_ASSERT_EQUAL(parse(&m, &why), -EPROTO);
	m = valid_map();
	m.target_pid = 0;
	CU_ASSERT_EQUAL(parse(&m, &why), -EPROTO);
	m.target_pid = -5;
	CU_ASSERT_EQUAL(parse(&m, &why), -EPROTO);
	CU_ASSERT_STRING_EQUAL(why, "bad target pid");
	m = valid_map();
	m.result = -1;
	CU_ASSERT_EQUAL(parse(&m, &why), -EPROTO);
	CU_ASSERT_STRING_EQUAL(why, "request carries a result");
	m = valid_map();
	m.perms = 0;
	CU_ASSERT_EQUAL(parse(&m, &why), -EPROTO);
	m.perms = 1u << 3;
	CU_ASSERT_EQUAL(parse(&m, &why), -EPROTO);
	CU_ASSERT_STRING_EQUAL(why, "bad permissions");
	m = valid_map();
	m.op = RZ_MP_OP_UNMAP;
	CU_ASSERT_EQUAL(parse(&m, &why), -EPROTO);
	CU_ASSERT_STRING_EQUAL(why, "permissions on a non-map message");
	m = valid_map();
	m.deadline_ns = 0;
	CU_ASSERT_EQUAL(parse(&m, &why), -EPROTO);
	CU_ASSERT_STRING_EQUAL(why, "request without a deadline");
}

/* ARENA: a secondary asks the primary for an arena memzone (socket, npages); no region. */
static void
test_arena_fields(void)
{
	struct rz_mp_msg m = valid_map(), a;
	const char *why;

	m.op = RZ_MP_OP_ARENA;
	m.perms = 0;
	m.region_id = 0;
	m.socket = 0;
	m.npages = 64;
	a = m;
	CU_ASSERT_EQUAL(parse(&m, &why), 0);
	m.npages = 0;
	CU_ASSERT_EQUAL(parse(&m, &why), -EPROTO);
	CU_ASSERT_STRING_EQUAL(why, "arena size or node out of range");
	m.npages = RZ_MP_ARENA_MAX_PAGES + 1;
	CU_ASSERT_EQUAL(parse(&m, &why), -EPROTO);
	m = a;
	m.socket = -1;
	CU_ASSERT_EQUAL(parse(&m, &why), -EPROTO);
	m = a;
	m.region_id = 7;
	CU_ASSERT_EQUAL(parse(&m, &why), -EPROTO);
	CU_ASSERT_STRING_EQUAL(why, "arena request names a region");
	m = a;
	m.deadline_ns = 0;
	CU_ASSERT_EQUAL(parse(&m, &why), -EPROTO);
	CU_ASSERT_STRING_EQUAL(why, "request without a deadline");
	/* The arena fields on any other message. */
	m = valid_map();
	m.npages = 1;
	CU_ASSERT_EQUAL(parse(&m, &why), -EPROTO);
	CU_ASSERT_STRING_EQUAL(why, "arena fields on another message");
	m = valid_map();
	m.socket = 1;
	CU_ASSERT_EQUAL(parse(&m, &why), -EPROTO);
}

static void
test_reply_fields(void)
{
	struct rz_mp_msg m;
	const char *why;

	memset(&m, 0, sizeof(m));
	m.magic = RZ_MP_MAGIC;
	m.version = RZ_MP_VERSION;
	m.op = RZ_MP_OP_REPLY;
	m.result = 1;
	CU_ASSERT_EQUAL(parse(&m, &why), -EPROTO);
	CU_ASSERT_STRING_EQUAL(why, "result out of range");
	m.result = -4096;
	CU_ASSERT_EQUAL(parse(&m, &why), -EPROTO);
	m.result = -4095;
	CU_ASSERT_EQUAL(parse(&m, &why), 0);
	/* A reply names the requester it goes back to. */
	m.requester = MAX_PROCS;
	CU_ASSERT_EQUAL(parse(&m, &why), -EPROTO);
	CU_ASSERT_STRING_EQUAL(why, "process slot out of range");
}

/* Every single-bit flip of a valid message either parses to exactly the flipped message or is
 * refused: the parser never accepts something it then changes. */
static void
test_bit_flips(void)
{
	struct rz_mp_msg base = valid_map();
	size_t bit;
	unsigned int accepted = 0, refused = 0;

	for (bit = 0; bit < sizeof(base) * 8; bit++) {
		struct rz_mp_msg m = base, out;
		int ret;

		((uint8_t *)&m)[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		ret = mp_msg_parse(&m, sizeof(m), MAX_PROCS, &out, NULL);
		if (ret == 0) {
			CU_ASSERT_EQUAL(memcmp(&m, &out, sizeof(m)), 0);
			accepted++;
		} else {
			CU_ASSERT(ret == -EBADMSG || ret == -EPROTO);
			refused++;
		}
	}
	/* Magic and version bits alone are 48 bits that must be refused. */
	CU_ASSERT(refused >= 48);
	CU_ASSERT(accepted > 0);
}

static const struct rz_test_case cases[] = {
	{ "valid messages", test_valid },
	{ "arena requests", test_arena_fields },
	{ "lengths", test_length },
	{ "header", test_header },
	{ "request fields", test_request_fields },
	{ "reply fields", test_reply_fields },
	{ "bit flips", test_bit_flips },
	{ NULL, NULL },
};

int
main(void)
{
	return rz_test_run("mp_msg", cases) != 0;
}
