/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/* Capability descriptor encoding and validation. See doc/wire-format.md. */

#include <errno.h>
#include <string.h>

#include "desc_private.h"

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)get16(p) | ((uint32_t)get16(p + 2) << 16);
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | ((uint64_t)get32(p + 4) << 32);
}

uint32_t
desc_crc32c(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t crc = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < len; i++) {
		crc ^= p[i];
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
	}
	return ~crc;
}

uint32_t
desc_mode_rights(uint32_t mode)
{
	switch (mode) {
	case RZ_MODE_MOVE:
	case RZ_MODE_SHARE:
		return RZ_RDMA_RIGHT_ALL;
	case RZ_MODE_COPY_ON_WRITE:
		return RZ_RDMA_RIGHT_READ;
	default:
		return 0;
	}
}

/* Field rules shared by the encoder and the parser. */
static int
desc_check_fields(const struct rz_rdma_desc *d, const char **why)
{
	uint32_t allowed = desc_mode_rights(d->mode);

	if (d->issuer == 0) {
		*why = "issuer identity 0";
		return -EPROTO;
	}
	if (d->target == 0) {
		*why = "target identity 0";
		return -EPROTO;
	}
	if (d->issuer == d->target) {
		*why = "issuer and target are the same identity";
		return -EPROTO;
	}
	if (d->region_id == 0) {
		*why = "region id 0";
		return -EPROTO;
	}
	if (d->generation == 0) {
		*why = "generation 0";
		return -EPROTO;
	}
	if (d->length == 0) {
		*why = "zero length";
		return -EPROTO;
	}
	if (d->addr + d->length < d->addr) {
		*why = "address range wraps";
		return -EPROTO;
	}
	if (allowed == 0) {
		*why = "unknown transfer mode";
		return -EPROTO;
	}
	if (d->rights & ~RZ_RDMA_RIGHT_ALL) {
		*why = "unknown rights bits";
		return -EPROTO;
	}
	if (!(d->rights & RZ_RDMA_RIGHT_READ)) {
		*why = "rights without read";
		return -EPROTO;
	}
	if (d->rights & ~allowed) {
		*why = "rights exceed the transfer mode";
		return -EPROTO;
	}
	return 0;
}

int
desc_encode(const struct rz_rdma_desc *d, void *buf, size_t len)
{
	const char *why;
	uint8_t *p = buf;

	if (d == NULL || buf == NULL || len < RZ_RDMA_DESC_SIZE)
		return -EINVAL;
	if (desc_check_fields(d, &why) != 0)
		return -EINVAL;
	memset(p, 0, RZ_RDMA_DESC_SIZE);
	put32(p + RZ_DESC_OFF_MAGIC, RZ_DESC_MAGIC);
	put16(p + RZ_DESC_OFF_VERSION, RZ_DESC_VERSION);
	put16(p + RZ_DESC_OFF_SIZE, RZ_RDMA_DESC_SIZE);
	put64(p + RZ_DESC_OFF_ISSUER, d->issuer);
	put64(p + RZ_DESC_OFF_TARGET, d->target);
	put64(p + RZ_DESC_OFF_REGION, d->region_id);
	put64(p + RZ_DESC_OFF_GEN, d->generation);
	put64(p + RZ_DESC_OFF_ADDR, d->addr);
	put64(p + RZ_DESC_OFF_LENGTH, d->length);
	put32(p + RZ_DESC_OFF_RKEY, d->rkey);
	p[RZ_DESC_OFF_RIGHTS] = (uint8_t)d->rights;
	p[RZ_DESC_OFF_MODE] = (uint8_t)d->mode;
	put64(p + RZ_DESC_OFF_EXPIRY, d->expiry_ns);
	put32(p + RZ_DESC_OFF_CRC, desc_crc32c(p, RZ_DESC_OFF_CRC));
	return 0;
}

int
desc_parse(const void *buf, size_t len, const struct desc_check *chk,
		struct rz_rdma_desc *out, const char **why)
{
	const uint8_t *p = buf;
	struct rz_rdma_desc d;
	const char *reason = NULL;
	int ret;

	if (buf == NULL || out == NULL) {
		reason = "null buffer";
		ret = -EINVAL;
		goto bad;
	}
	ret = -EBADMSG;
	if (len < RZ_RDMA_DESC_SIZE) {
		reason = "truncated descriptor";
		goto bad;
	}
	if (len > RZ_RDMA_DESC_SIZE) {
		reason = "oversized descriptor";
		goto bad;
	}
	if (get32(p + RZ_DESC_OFF_MAGIC) != RZ_DESC_MAGIC) {
		reason = "bad magic";
		goto bad;
	}
	if (get16(p + RZ_DESC_OFF_VERSION) != RZ_DESC_VERSION) {
		reason = "unsupported version";
		goto bad;
	}
	if (get16(p + RZ_DESC_OFF_SIZE) != RZ_RDMA_DESC_SIZE) {
		reason = "size field mismatch";
		goto bad;
	}
	if (get32(p + RZ_DESC_OFF_CRC) != desc_crc32c(p, RZ_DESC_OFF_CRC)) {
		reason = "checksum mismatch";
		goto bad;
	}
	ret = -EPROTO;
	if (get16(p + RZ_DESC_OFF_RSVD0) != 0 || get32(p + RZ_DESC_OFF_RSVD1) != 0) {
		reason = "reserved bytes not zero";
		goto bad;
	}
	memset(&d, 0, sizeof(d));
	d.issuer = get64(p + RZ_DESC_OFF_ISSUER);
	d.target = get64(p + RZ_DESC_OFF_TARGET);
	d.region_id = get64(p + RZ_DESC_OFF_REGION);
	d.generation = get64(p + RZ_DESC_OFF_GEN);
	d.addr = get64(p + RZ_DESC_OFF_ADDR);
	d.length = get64(p + RZ_DESC_OFF_LENGTH);
	d.rkey = get32(p + RZ_DESC_OFF_RKEY);
	d.rights = p[RZ_DESC_OFF_RIGHTS];
	d.mode = p[RZ_DESC_OFF_MODE];
	d.expiry_ns = get64(p + RZ_DESC_OFF_EXPIRY);
	ret = desc_check_fields(&d, &reason);
	if (ret != 0)
		goto bad;
	if (chk != NULL) {
		ret = -EPROTO;
		if (chk->issuer != 0 && d.issuer != chk->issuer) {
			reason = "foreign descriptor: issued by another process";
			goto bad;
		}
		if (chk->target != 0 && d.target != chk->target) {
			reason = "foreign descriptor: granted to another peer";
			goto bad;
		}
		ret = -ESTALE;
		if (chk->now_ns != 0 && d.expiry_ns != 0 && d.expiry_ns <= chk->now_ns) {
			reason = "stale descriptor: expired";
			goto bad;
		}
		if (d.generation < chk->min_generation) {
			reason = "stale descriptor: generation revoked";
			goto bad;
		}
	}
	*out = d;
	if (why != NULL)
		*why = NULL;
	return 0;
bad:
	if (why != NULL)
		*why = reason;
	return ret;
}
