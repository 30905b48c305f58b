/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/* Parsers of the packet channel's control block and slot headers (chan_wire.h). */

#include <endian.h>
#include <errno.h>
#include <string.h>

#include "chan_wire.h"

static uint64_t
ld64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static uint32_t
ld32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static uint16_t
ld16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

int
chan_geometry_ok(uint32_t nslots, uint32_t slot_size, uint64_t *wlen)
{
	if (nslots < CHAN_SLOTS_MIN || nslots > CHAN_SLOTS_MAX || (nslots & (nslots - 1)) != 0)
		return 0;
	if (slot_size < CHAN_SLOT_MIN || slot_size > CHAN_SLOT_MAX || (slot_size % 64) != 0)
		return 0;
	if (wlen != NULL)
		*wlen = CHAN_CTRL_SIZE + (uint64_t)nslots * slot_size;
	return 1;
}

int
chan_ctrl_parse(const uint8_t *ctrl, uint64_t window_len, uint32_t *nslots,
		uint32_t *slot_size, uint64_t *tail, uint64_t *head, uint32_t *state)
{
	uint32_t ns = ld32(ctrl + CHAN_OFF_NSLOTS), ss = ld32(ctrl + CHAN_OFF_SLOT_SIZE);
	uint64_t t = ld64(ctrl + CHAN_OFF_TAIL), h = ld64(ctrl + CHAN_OFF_HEAD), wlen;
	uint32_t st = ld32(ctrl + CHAN_OFF_STATE);

	if (ld32(ctrl + CHAN_OFF_MAGIC) != CHAN_MAGIC || ld16(ctrl + CHAN_OFF_VERSION) !=
			CHAN_VERSION || ld16(ctrl + CHAN_OFF_CTRL_SIZE) != CHAN_CTRL_SIZE)
		return -EPROTO;
	if (!chan_geometry_ok(ns, ss, &wlen) || wlen > window_len)
		return -EPROTO;
	/* head <= tail <= head + nslots, in modular arithmetic */
	if (t - h > ns)
		return -EPROTO;
	if (st != CHAN_STATE_OPEN && st != CHAN_STATE_CLOSED)
		return -EPROTO;
	*nslots = ns;
	*slot_size = ss;
	*tail = t;
	*head = h;
	*state = st;
	return 0;
}

int
chan_slot_parse(const uint8_t *slot, uint32_t slot_size, uint64_t seq, uint32_t *len)
{
	uint8_t h[CHAN_SLOT_HDR];
	uint32_t l;

	/* One copy of the header: the producer may rewrite the slot while we look at it. */
	memcpy(h, slot, sizeof(h));
	if (ld64(h) != seq)
		return -EAGAIN;
	l = ld32(h + 8);
	if (l == 0 || slot_size < CHAN_SLOT_HDR || l > slot_size - CHAN_SLOT_HDR ||
			ld32(h + 12) != 0)
		return -EBADMSG;
	*len = l;
	return 0;
}
