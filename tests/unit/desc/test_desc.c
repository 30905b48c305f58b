/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/* Capability descriptor codec: round trip and every malformed / truncated / stale / foreign
 * case. Pure C: no EAL, no device. */

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "rz_test.h"

#include "desc_private.h"

#define ISSUER	UINT64_C(0x1111222233334444)
#define TARGET	UINT64_C(0x5555666677778888)
#define NOW	UINT64_C(1800000000000000000)

static struct rz_rdma_desc
good(void)
{
	struct rz_rdma_desc d = {
		.issuer = ISSUER, .target = TARGET, .region_id = UINT64_C(0x10002),
		.generation = 7, .addr = UINT64_C(0x100200000), .length = 4096,
		.rkey = 0x00012a5c, .rights = RZ_RDMA_RIGHT_ALL, .mode = RZ_MODE_SHARE,
		.expiry_ns = NOW + 1000,
	};

	return d;
}

static const struct desc_check chk = { .issuer = ISSUER, .target = TARGET, .now_ns = NOW };

static void
enc(const struct rz_rdma_desc *d, uint8_t *b)
{
	CU_ASSERT_EQUAL_FATAL(desc_encode(d, b, RZ_RDMA_DESC_SIZE), 0);
}

/* Re-seal after a deliberate corruption so that the check under test is not the CRC's. */
static void
reseal(uint8_t *b)
{
	uint32_t c = desc_crc32c(b, RZ_DESC_OFF_CRC);

	b[76] = (uint8_t)c;
	b[77] = (uint8_t)(c >> 8);
	b[78] = (uint8_t)(c >> 16);
	b[79] = (uint8_t)(c >> 24);
}

static int
parse(const uint8_t *b, size_t len, const char **why)
{
	struct rz_rdma_desc out;

	return desc_parse(b, len, &chk, &out, why);
}

static void
test_roundtrip(void)
{
	struct rz_rdma_desc d = good(), out;
	uint8_t b[RZ_RDMA_DESC_SIZE];
	const char *why = "x";

	enc(&d, b);
	CU_ASSERT_EQUAL(desc_parse(b, sizeof(b), &chk, &out, &why), 0);
	CU_ASSERT_PTR_NULL(why);
	/* Field by field: the struct has padding whose bytes mean nothing. */
	CU_ASSERT_EQUAL(out.issuer, d.issuer);
	CU_ASSERT_EQUAL(out.target, d.target);
	CU_ASSERT_EQUAL(out.region_id, d.region_id);
	CU_ASSERT_EQUAL(out.generation, d.generation);
	CU_ASSERT_EQUAL(out.addr, d.addr);
	CU_ASSERT_EQUAL(out.length, d.length);
	CU_ASSERT_EQUAL(out.rkey, d.rkey);
	CU_ASSERT_EQUAL(out.rights, d.rights);
	CU_ASSERT_EQUAL(out.mode, d.mode);
	CU_ASSERT_EQUAL(out.expiry_ns, d.expiry_ns);
	/* Without checks too. */
	CU_ASSERT_EQUAL(desc_parse(b, sizeof(b), NULL, &out, NULL), 0);
	/* CoW and Move. */
	d.mode = RZ_MODE_COPY_ON_WRITE;
	d.rights = RZ_RDMA_RIGHT_READ;
	enc(&d, b);
	CU_ASSERT_EQUAL(parse(b, sizeof(b), NULL), 0);
	d.mode = RZ_MODE_MOVE;
	d.rights = RZ_RDMA_RIGHT_READ | RZ_RDMA_RIGHT_WRITE;
	d.expiry_ns = 0;
	enc(&d, b);
	CU_ASSERT_EQUAL(parse(b, sizeof(b), NULL), 0);
}

static void
test_wire_layout(void)
{
	struct rz_rdma_desc d = good();
	uint8_t b[RZ_RDMA_DESC_SIZE];

	enc(&d, b);
	/* Little-endian, at the documented offsets (doc/wire-format.md). */
	CU_ASSERT_EQUAL(memcmp(b, "RZCD", 4), 0);
	CU_ASSERT(b[4] == 1 && b[5] == 0);
	CU_ASSERT(b[6] == 80 && b[7] == 0);
	CU_ASSERT(b[8] == 0x44 && b[15] == 0x11);
	CU_ASSERT(b[24] == 0x02 && b[26] == 0x01);
	CU_ASSERT(b[32] == 7);
	CU_ASSERT(b[56] == 0x5c && b[57] == 0x2a && b[58] == 0x01 && b[59] == 0);
	CU_ASSERT(b[60] == RZ_RDMA_RIGHT_ALL && b[61] == RZ_MODE_SHARE);
	CU_ASSERT(b[62] == 0 && b[63] == 0 && b[72] == 0 && b[75] == 0);
	/* Known CRC-32C check value: "123456789" -> 0xe3069283. */
	CU_ASSERT_EQUAL(desc_crc32c("123456789", 9), 0xe3069283u);
}

static void
test_truncated_and_sizes(void)
{
	struct rz_rdma_desc d = good(), out;
	uint8_t b[RZ_RDMA_DESC_SIZE + 8];
	const char *why;
	size_t n;

	memset(b, 0, sizeof(b));
	enc(&d, b);
	for (n = 0; n < RZ_RDMA_DESC_SIZE; n++)
		CU_ASSERT_EQUAL(parse(b, n, NULL), -EBADMSG);
	CU_ASSERT_EQUAL(parse(b, 79, &why), -EBADMSG);
	CU_ASSERT_STRING_EQUAL(why, "truncated descriptor");
	CU_ASSERT_EQUAL(parse(b, 81, &why), -EBADMSG);
	CU_ASSERT_STRING_EQUAL(why, "oversized descriptor");
	CU_ASSERT_EQUAL(desc_parse(NULL, 80, &chk, &out, &why), -EINVAL);
	CU_ASSERT_EQUAL(desc_parse(b, 80, &chk, NULL, &why), -EINVAL);
	CU_ASSERT_EQUAL(desc_encode(NULL, b, 80), -EINVAL);
	CU_ASSERT_EQUAL(desc_encode(&d, NULL, 80), -EINVAL);
	CU_ASSERT_EQUAL(desc_encode(&d, b, 79), -EINVAL);
}

static void
test_malformed_header(void)
{
	struct rz_rdma_desc d = good();
	uint8_t b[RZ_RDMA_DESC_SIZE];
	const char *why;

	enc(&d, b);
	b[0] ^= 1;
	reseal(b);
	CU_ASSERT_EQUAL(parse(b, 80, &why), -EBADMSG);
	CU_ASSERT_STRING_EQUAL(why, "bad magic");

	enc(&d, b);
	b[4] = 2;
	reseal(b);
	CU_ASSERT_EQUAL(parse(b, 80, &why), -EBADMSG);
	CU_ASSERT_STRING_EQUAL(why, "unsupported version");

	enc(&d, b);
	b[6] = 64;
	reseal(b);
	CU_ASSERT_EQUAL(parse(b, 80, &why), -EBADMSG);
	CU_ASSERT_STRING_EQUAL(why, "size field mismatch");
}

static void
test_checksum(void)
{
	struct rz_rdma_desc d = good();
	uint8_t b[RZ_RDMA_DESC_SIZE];
	const char *why;
	int i, bit;

	/* Every single-bit flip anywhere is caught. */
	for (i = 0; i < RZ_RDMA_DESC_SIZE; i++) {
		for (bit = 0; bit < 8; bit++) {
			enc(&d, b);
			b[i] ^= (uint8_t)(1u << bit);
			CU_ASSERT_EQUAL(parse(b, 80, NULL), -EBADMSG);
		}
	}
	enc(&d, b);
	b[40] ^= 0x80;	/* address changed in flight */
	CU_ASSERT_EQUAL(parse(b, 80, &why), -EBADMSG);
	CU_ASSERT_STRING_EQUAL(why, "checksum mismatch");
}

/* Corrupt a field and re-seal: the field rule must fire. */
static void
expect_field(void (*mut)(struct rz_rdma_desc *), const char *reason)
{
	struct rz_rdma_desc d = good(), out;
	uint8_t b[RZ_RDMA_DESC_SIZE];
	const char *why = NULL;

	mut(&d);
	/* The encoder refuses it... */
	CU_ASSERT_EQUAL(desc_encode(&d, b, sizeof(b)), -EINVAL);
	/* ...and the parser too, if someone hand-crafts it. */
	d = good();
	enc(&d, b);
	mut(&d);
	memcpy(b + 8, &d.issuer, 8);
	memcpy(b + 16, &d.target, 8);
	memcpy(b + 24, &d.region_id, 8);
	memcpy(b + 32, &d.generation, 8);
	memcpy(b + 40, &d.addr, 8);
	memcpy(b + 48, &d.length, 8);
	b[60] = (uint8_t)d.rights;
	b[61] = (uint8_t)d.mode;
	reseal(b);
	CU_ASSERT_EQUAL(desc_parse(b, 80, NULL, &out, &why), -EPROTO);
	CU_ASSERT_PTR_NOT_NULL_FATAL(why);
	CU_ASSERT_STRING_EQUAL(why, reason);
}

static void m_issuer0(struct rz_rdma_desc *d) { d->issuer = 0; }
static void m_target0(struct rz_rdma_desc *d) { d->target = 0; }
static void m_same(struct rz_rdma_desc *d) { d->target = d->issuer; }
static void m_region0(struct rz_rdma_desc *d) { d->region_id = 0; }
static void m_gen0(struct rz_rdma_desc *d) { d->generation = 0; }
static void m_len0(struct rz_rdma_desc *d) { d->length = 0; }
static void m_wrap(struct rz_rdma_desc *d) { d->addr = UINT64_MAX - 10; d->length = 100; }
static void m_mode(struct rz_rdma_desc *d) { d->mode = 3; }
static void m_rights_unknown(struct rz_rdma_desc *d) { d->rights |= 0x10; }
static void m_rights_noread(struct rz_rdma_desc *d) { d->rights = RZ_RDMA_RIGHT_WRITE; }
static void m_cow_write(struct rz_rdma_desc *d)
{
	d->mode = RZ_MODE_COPY_ON_WRITE;
	d->rights = RZ_RDMA_RIGHT_READ | RZ_RDMA_RIGHT_WRITE;
}

static void
test_inconsistent_fields(void)
{
	struct rz_rdma_desc d = good();
	uint8_t b[RZ_RDMA_DESC_SIZE];
	const char *why;

	expect_field(m_issuer0, "issuer identity 0");
	expect_field(m_target0, "target identity 0");
	expect_field(m_same, "issuer and target are the same identity");
	expect_field(m_region0, "region id 0");
	expect_field(m_gen0, "generation 0");
	expect_field(m_len0, "zero length");
	expect_field(m_wrap, "address range wraps");
	expect_field(m_mode, "unknown transfer mode");
	expect_field(m_rights_unknown, "unknown rights bits");
	expect_field(m_rights_noread, "rights without read");
	expect_field(m_cow_write, "rights exceed the transfer mode");
	/* Reserved bytes. */
	enc(&d, b);
	b[62] = 1;
	reseal(b);
	CU_ASSERT_EQUAL(parse(b, 80, &why), -EPROTO);
	CU_ASSERT_STRING_EQUAL(why, "reserved bytes not zero");
	enc(&d, b);
	b[74] = 1;
	reseal(b);
	CU_ASSERT_EQUAL(parse(b, 80, &why), -EPROTO);
	CU_ASSERT_STRING_EQUAL(why, "reserved bytes not zero");
}

static void
test_foreign(void)
{
	struct rz_rdma_desc d = good(), out;
	struct desc_check c = chk;
	uint8_t b[RZ_RDMA_DESC_SIZE];
	const char *why;

	enc(&d, b);
	c.issuer = ISSUER + 1;
	CU_ASSERT_EQUAL(desc_parse(b, 80, &c, &out, &why), -EPROTO);
	CU_ASSERT_STRING_EQUAL(why, "foreign descriptor: issued by another process");
	c = chk;
	c.target = TARGET + 1;
	CU_ASSERT_EQUAL(desc_parse(b, 80, &c, &out, &why), -EPROTO);
	CU_ASSERT_STRING_EQUAL(why, "foreign descriptor: granted to another peer");
}

static void
test_stale(void)
{
	struct rz_rdma_desc d = good(), out;
	struct desc_check c = chk;
	uint8_t b[RZ_RDMA_DESC_SIZE];
	const char *why;

	enc(&d, b);
	c.now_ns = d.expiry_ns;
	CU_ASSERT_EQUAL(desc_parse(b, 80, &c, &out, &why), -ESTALE);
	CU_ASSERT_STRING_EQUAL(why, "stale descriptor: expired");
	c.now_ns = d.expiry_ns - 1;
	CU_ASSERT_EQUAL(desc_parse(b, 80, &c, &out, &why), 0);
	c = chk;
	c.min_generation = d.generation + 1;
	CU_ASSERT_EQUAL(desc_parse(b, 80, &c, &out, &why), -ESTALE);
	CU_ASSERT_STRING_EQUAL(why, "stale descriptor: generation revoked");
	/* No expiry: never stale by time. */
	d.expiry_ns = 0;
	enc(&d, b);
	c = chk;
	c.now_ns = UINT64_MAX;
	CU_ASSERT_EQUAL(desc_parse(b, 80, &c, &out, &why), 0);
}

static void
test_mode_rights(void)
{
	CU_ASSERT_EQUAL(desc_mode_rights(RZ_MODE_SHARE), RZ_RDMA_RIGHT_ALL);
	CU_ASSERT_EQUAL(desc_mode_rights(RZ_MODE_MOVE), RZ_RDMA_RIGHT_ALL);
	CU_ASSERT_EQUAL(desc_mode_rights(RZ_MODE_COPY_ON_WRITE), RZ_RDMA_RIGHT_READ);
	CU_ASSERT_EQUAL(desc_mode_rights(99), 0);
}

static const struct rz_test_case cases[] = {
	{ "round trip", test_roundtrip },
	{ "wire layout", test_wire_layout },
	{ "truncated and sizes", test_truncated_and_sizes },
	{ "malformed header", test_malformed_header },
	{ "checksum", test_checksum },
	{ "inconsistent fields", test_inconsistent_fields },
	{ "foreign", test_foreign },
	{ "stale", test_stale },
	{ "mode rights", test_mode_rights },
	{ NULL, NULL },
};

int
main(void)
{
	return rz_test_run("desc", cases) != 0;
}
