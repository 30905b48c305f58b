/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_DESC_PRIVATE_H
#define RZ_DESC_PRIVATE_H

/*
 * Capability descriptor wire format (doc/wire-format.md): 80 bytes, little-endian, versioned,
 * CRC-32C protected. Pure C: no EAL, no verbs, so that the unit tests and the fuzzer link it
 * alone.
 */

#include <stddef.h>
#include <stdint.h>

#include "rzone_rdma.h"

#define RZ_DESC_MAGIC	0x44435a52u	/* "RZCD" as little-endian bytes */
#define RZ_DESC_VERSION	1
/* A receiver takes a descriptor as expired only this long after its expiry by the receiver's own
 * wall clock: the hosts' clocks differ a little (doc/wire-format.md). */
#define RZ_DESC_CLOCK_SKEW_NS	(5ull * 1000000000ull)

/* Byte offsets of the fields. */
#define RZ_DESC_OFF_MAGIC	0
#define RZ_DESC_OFF_VERSION	4
#define RZ_DESC_OFF_SIZE	6
#define RZ_DESC_OFF_ISSUER	8
#define RZ_DESC_OFF_TARGET	16
#define RZ_DESC_OFF_REGION	24
#define RZ_DESC_OFF_GEN		32
#define RZ_DESC_OFF_ADDR	40
#define RZ_DESC_OFF_LENGTH	48
#define RZ_DESC_OFF_RKEY	56
#define RZ_DESC_OFF_RIGHTS	60
#define RZ_DESC_OFF_MODE	61
#define RZ_DESC_OFF_RSVD0	62
#define RZ_DESC_OFF_EXPIRY	64
#define RZ_DESC_OFF_RSVD1	72
#define RZ_DESC_OFF_CRC		76

/* What the receiver expects. A zero field is not checked. */
struct desc_check {
	uint64_t issuer;	/* the peer that sent it */
	uint64_t target;	/* ourselves */
	uint64_t now_ns;	/* CLOCK_REALTIME: expired descriptors are stale */
	uint64_t min_generation; /* older generations are stale */
};

/* The rights a transfer mode carries; 0 for an unknown mode. */
uint32_t desc_mode_rights(uint32_t mode);

/* CRC-32C (Castagnoli) of @len bytes. */
uint32_t desc_crc32c(const void *buf, size_t len);

/* Encode @d into @buf (RZ_RDMA_DESC_SIZE bytes). 0, or -EINVAL if @d itself is not valid (the
 * same rules the parser applies, without the desc_check ones) or a pointer is NULL. */
int desc_encode(const struct rz_rdma_desc *d, void *buf, size_t len);

/* Parse and validate @len bytes. 0, or
 *   -EINVAL  NULL argument;
 *   -EBADMSG truncated / oversized, bad magic, unknown version, size field, bad checksum;
 *   -EPROTO  inconsistent fields (zero id, zero length, wrapping range, unknown rights or mode,
 *            rights that do not match the mode, non-zero reserved bytes) or foreign (issuer or
 *            target differ from @chk);
 *   -ESTALE  expired, or generation below chk->min_generation.
 * @why (if not NULL) gets a static reason string; NULL on success. */
int desc_parse(const void *buf, size_t len, const struct desc_check *chk,
		struct rz_rdma_desc *out, const char **why);

#endif /* RZ_DESC_PRIVATE_H */
