/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/* libFuzzer target: what a packet channel's producer writes into the consumer's window (the
 * control block's tail, the slot headers) and what the consumer writes that the producer reads
 * (the control block: geometry, head, state), lib/pkt_remote/chan_wire.c. The input is a
 * window; the consumer's scan of it (as rz_pkt_chan_peek() does it, with the consumer's own
 * geometry) must stay inside the window, hand out only lengths inside their slot, and agree
 * with a reading of the bytes made here. */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chan_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t
le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = v << 8 | p[n];
	return v;
}

/* The consumer side, geometry of its own (never the window's): nslots 8, slots of 128. */
static void
consumer_scan(const uint8_t *w, size_t size)
{
	const uint32_t nslots = 8, slot_size = 128;
	uint64_t wlen, tail, head = le(w + CHAN_OFF_HEAD, 8) & 0xffff, s;
	uint32_t len;
	int ret;

	if (!chan_geometry_ok(nslots, slot_size, &wlen) || wlen > size)
		return;
	tail = le(w + CHAN_OFF_TAIL, 8);
	if (tail - head > nslots)
		return;		/* refused: rx_bad_tail */
	for (s = head; s != tail; s++) {
		const uint8_t *slot = w + CHAN_CTRL_SIZE + (s & (nslots - 1)) * slot_size;

		ret = chan_slot_parse(slot, slot_size, s, &len);
		if (ret == -EAGAIN) {
			if (le(slot, 8) == s)
				abort();
			break;
		}
		if (ret == -EBADMSG) {
			uint32_t l = (uint32_t)le(slot + 8, 4);

			if (le(slot, 8) != s || (l != 0 && l <= slot_size - CHAN_SLOT_HDR &&
					le(slot + 12, 4) == 0))
				abort();
			continue;
		}
		if (ret != 0 || len == 0 || len > slot_size - CHAN_SLOT_HDR ||
				len != le(slot + 8, 4) || le(slot + 12, 4) != 0)
			abort();
		/* Touch the payload it hands out: inside the window (ASan). */
		if (slot[CHAN_SLOT_HDR + len - 1] == 0x5a && slot[CHAN_SLOT_HDR] == 0xa5)
			(void)0;
	}
}

/* The producer side: the control block it read, checked against the window it was granted. */
static void
producer_ctrl(const uint8_t *w, size_t size)
{
	uint32_t nslots, slot_size, state;
	uint64_t tail, head, wlen = size >= 8 ? le(w, 8) % (1u << 28) : 0;
	int ret;

	ret = chan_ctrl_parse(w, wlen, &nslots, &slot_size, &tail, &head, &state);
	if (ret != 0) {
		if (ret != -EPROTO)
			abort();
		return;
	}
	if (le(w, 4) != CHAN_MAGIC || le(w + 4, 2) != CHAN_VERSION || le(w + 6, 2) !=
			CHAN_CTRL_SIZE || nslots != le(w + 8, 4) || slot_size != le(w + 12, 4))
		abort();
	if (nslots < CHAN_SLOTS_MIN || nslots > CHAN_SLOTS_MAX || (nslots & (nslots - 1)) ||
			slot_size % 64 || slot_size < CHAN_SLOT_MIN || slot_size > CHAN_SLOT_MAX)
		abort();
	if (CHAN_CTRL_SIZE + (uint64_t)nslots * slot_size > wlen || tail - head > nslots)
		abort();
	if (state != CHAN_STATE_OPEN && state != CHAN_STATE_CLOSED)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *w;

	if (size < CHAN_CTRL_SIZE)
		return 0;
	/* An exact-size copy: a read past the window is a heap overflow for ASan. */
	w = malloc(size);
	if (w == NULL)
		return 0;
	memcpy(w, data, size);
	consumer_scan(w, size);
	producer_ctrl(w, size);
	free(w);
	return 0;
}
