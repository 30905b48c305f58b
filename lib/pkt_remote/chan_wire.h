/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_CHAN_WIRE_H
#define RZ_CHAN_WIRE_H

/*
 * The packet channel's layout in its window (doc/wire-format.md, "Packet channel"), and the
 * parsers of what the other side wrote: no EAL, no verbs (the fuzzer compiles chan_wire.c
 * alone). Every field little-endian.
 *
 *   control block, RZ_PKT_CHAN_CTRL_SIZE (256) bytes at window offset 0:
 *     0   u32 magic "RZCH" (0x48435a52)     written by the consumer at creation
 *     4   u16 version (1)
 *     6   u16 ctrl_size (256): offset of slot 0
 *     8   u32 nslots (power of two)
 *     12  u32 slot_size (multiple of 64)
 *     16..63  zero
 *     64  u64 tail: slots published       written by the producer (8-byte RDMA WRITE)
 *     72..127 zero
 *     128 u64 head: slots consumed        written by the consumer, read by the producer
 *     136 u32 state: 1 open, 2 closed     written by the consumer
 *     140..255 zero
 *   slot of sequence s at 256 + (s mod nslots) x slot_size:
 *     0   u64 seq = s
 *     8   u32 len: payload bytes, 1..slot_size - 16
 *     12  u32 flags: 0
 *     16  payload
 */

#include <stdint.h>

#define CHAN_MAGIC		UINT32_C(0x48435a52)	/* "RZCH" */
#define CHAN_VERSION		1
#define CHAN_CTRL_SIZE		256
#define CHAN_OFF_MAGIC		0
#define CHAN_OFF_VERSION	4
#define CHAN_OFF_CTRL_SIZE	6
#define CHAN_OFF_NSLOTS		8
#define CHAN_OFF_SLOT_SIZE	12
#define CHAN_OFF_TAIL		64
#define CHAN_OFF_HEAD		128
#define CHAN_OFF_STATE		136
#define CHAN_STATE_OPEN		1
#define CHAN_STATE_CLOSED	2
#define CHAN_SLOT_HDR		16
#define CHAN_SLOTS_MIN		2
#define CHAN_SLOTS_MAX		65536
#define CHAN_SLOT_MIN		64
#define CHAN_SLOT_MAX		(1u << 20)

/* A slot header as the producer builds it (little-endian hosts: the wire bytes). */
struct chan_slot_hdr {
	uint64_t seq;
	uint32_t len;
	uint32_t flags;
};

/* Is the geometry valid? The window's length in *@wlen (may be NULL). */
int chan_geometry_ok(uint32_t nslots, uint32_t slot_size, uint64_t *wlen);

/* The control block @ctrl (CHAN_CTRL_SIZE bytes, as read from a window of @window_len bytes),
 * checked: 0 with the geometry, tail, head and state; -EPROTO (bad magic, version, geometry,
 * window too short, head after tail or tail more than nslots ahead, unknown state). */
int chan_ctrl_parse(const uint8_t *ctrl, uint64_t window_len, uint32_t *nslots,
		uint32_t *slot_size, uint64_t *tail, uint64_t *head, uint32_t *state);

/* The header of the slot that should hold sequence @seq, in a ring of @slot_size slots:
 * 0 with its payload length in *@len (1..slot_size - 16); -EAGAIN (another sequence: not
 * written yet); -EBADMSG (the sequence matches but the length or the flags are invalid).
 * Reads the 16 header bytes once. */
int chan_slot_parse(const uint8_t *slot, uint32_t slot_size, uint64_t seq, uint32_t *len);

#endif /* RZ_CHAN_WIRE_H */
