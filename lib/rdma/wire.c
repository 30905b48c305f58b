/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/* Parsers of the small byte strings of lib/rdma that come from another process or peer
 * (wire_private.h). Pure C: the fuzzers (tests/fuzz/) compile this file alone. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wire_private.h"

/* The largest errno value a result may carry (Linux's MAX_ERRNO). */
#define WIRE_MAX_ERRNO	4095

static int
reject(const char **why, const char *reason, int ret)
{
	if (why != NULL)
		*why = reason;
	return ret;
}

static int
ok(const char **why, int ret)
{
	if (why != NULL)
		*why = NULL;
	return ret;
}

static uint16_t
get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
get_le32(const uint8_t *p)
{
	return (uint32_t)get_le16(p) | (uint32_t)get_le16(p + 2) << 16;
}

static uint64_t
get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static void
put_le(uint8_t *p, uint64_t v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void
hello_encode(uint8_t out[RZ_HELLO_SIZE], uint64_t id, uint32_t pid)
{
	memset(out, 0, RZ_HELLO_SIZE);
	put_le(out + 0, RZ_HELLO_MAGIC, 4);
	put_le(out + 4, RZ_HELLO_VERSION, 2);
	put_le(out + 6, RZ_HELLO_SIZE, 2);
	put_le(out + 8, id, 8);
	put_le(out + 16, pid, 4);
}

int
hello_parse(const void *data, size_t len, uint64_t self_id, struct hello *h, const char **why)
{
	const uint8_t *b = data;

	memset(h, 0, sizeof(*h));
	if (data == NULL || len < RZ_HELLO_SIZE)
		return reject(why, "connection without rzone hello", -EPROTO);
	h->magic = get_le32(b + 0);
	h->version = get_le16(b + 4);
	h->size = get_le16(b + 6);
	h->id = get_le64(b + 8);
	h->pid = get_le32(b + 16);
	h->reserved = get_le32(b + 20);
	if (h->magic != RZ_HELLO_MAGIC || h->size != RZ_HELLO_SIZE)
		return reject(why, "remote is not an rzone peer", -EPROTO);
	if (h->version == 1)
		return reject(why, "remote speaks rzone peer version 1 (host byte order hello), "
				"no longer spoken", -EPROTO);
	if (h->version != RZ_HELLO_VERSION)
		return reject(why, "remote speaks another rzone peer version", -EPROTO);
	if (h->id == 0 || h->id == self_id)
		return reject(why, "remote identity is invalid", -EPROTO);
	return ok(why, 0);
}

int
msg_parse(const void *buf, size_t len, const void **payload, const char **why)
{
	uint32_t hdr[2];

	*payload = NULL;
	if (buf == NULL || len < sizeof(hdr))
		return reject(why, "shorter than a message header", -EBADMSG);
	memcpy(hdr, buf, sizeof(hdr));
	if (hdr[0] != RZ_MSG_MAGIC)
		return reject(why, "not a message (magic)", -EBADMSG);
	if (hdr[1] > RZ_PEER_MSG_MAX)
		return reject(why, "message longer than RZ_PEER_MSG_MAX", -EBADMSG);
	if (hdr[1] != len - sizeof(hdr))
		return reject(why, "length field is not the bytes received", -EBADMSG);
	*payload = (const uint8_t *)buf + sizeof(hdr);
	return ok(why, (int)hdr[1]);
}

int
msg_encode(void *buf, const void *payload, size_t len)
{
	uint32_t hdr[2];

	if (buf == NULL || len > RZ_PEER_MSG_MAX || (payload == NULL && len > 0))
		return -EINVAL;
	hdr[0] = RZ_MSG_MAGIC;
	hdr[1] = (uint32_t)len;
	memcpy(buf, hdr, sizeof(hdr));
	if (len > 0)
		memcpy((uint8_t *)buf + sizeof(hdr), payload, len);
	return (int)(sizeof(hdr) + len);
}

int
import_req_parse(const void *param, int len, const char **why)
{
	struct import_msg m;

	if (param == NULL || len != (int)sizeof(m))
		return reject(why, "request of the wrong size", -EBADMSG);
	memcpy(&m, param, sizeof(m));
	if (m.magic != IMPORT_MAGIC || m.version != IMPORT_VERSION || m.op != IMPORT_OP_CTX)
		return reject(why, "bad magic, version or op", -EBADMSG);
	return ok(why, 0);
}

int
import_reply_parse(const void *param, int len, int num_fds, struct import_msg *m,
		const char **why)
{
	memset(m, 0, sizeof(*m));
	if (param == NULL || len != (int)sizeof(*m))
		return reject(why, "answer of the wrong size", -EBADMSG);
	memcpy(m, param, sizeof(*m));
	if (m->magic != IMPORT_MAGIC || m->version != IMPORT_VERSION)
		return reject(why, "bad magic or version", -EBADMSG);
	/* Anything else than 0 or an errno would read as a status (1: "imported") or overflow
	 * the negation of the caller's strerror(-ret). */
	if (m->result > 0 || m->result < -WIRE_MAX_ERRNO)
		return reject(why, "result is neither 0 nor a negative errno", -EBADMSG);
	if (m->result != 0)
		return reject(why, "the primary refused", m->result);
	if (num_fds != 1)
		return reject(why, "a context without exactly one fd", -EBADMSG);
	return ok(why, 0);
}

int
tel_peer_param(const char *params, int32_t *id)
{
	char *end;
	long v;

	if (params == NULL || *params == '\0')
		return -EINVAL;
	v = strtol(params, &end, 0);
	if (*end != '\0' || v <= 0 || v > INT32_MAX)
		return -EINVAL;
	*id = (int32_t)v;
	return 0;
}
