/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * The sample input of rzone-fwd: a classic pcap file (magic 0xa1b2c3d4 in the writer's byte
 * order, version 2.4, link type 1 = Ethernet, snap length 65535) of Ethernet frames whose
 * lengths and bytes only their index decides: one in 16 a jumbo frame of about 9,000 bytes
 * (several mbufs), one in 8 1,500 bytes, the rest 64 to 1,024 bytes. Frame k: destination
 * 02:00:00:00:00:02, source 02:00:00:00:00:01, EtherType 0x88b5 (local experimental), the
 * index k (64 bits, big-endian), then bytes (k * 31 + i) mod 251.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwd.h"

#define PCAP_MAGIC	0xa1b2c3d4u
#define SAMPLE_MAX	9000u

struct pcap_file_hdr {
	uint32_t magic;
	uint16_t major;
	uint16_t minor;
	int32_t thiszone;
	uint32_t sigfigs;
	uint32_t snaplen;
	uint32_t linktype;
};

struct pcap_rec_hdr {
	uint32_t ts_sec;
	uint32_t ts_usec;
	uint32_t caplen;
	uint32_t len;
};

uint32_t
fwd_sample_len(uint64_t k)
{
	uint64_t h = k * 0x9e3779b97f4a7c15ull;

	if (k % 16 == 5)
		return SAMPLE_MAX - (uint32_t)(h >> 58);	/* 8,937..9,000 */
	if (k % 8 == 3)
		return 1500;
	return 64 + (uint32_t)((h >> 40) % 961);		/* 64..1,024 */
}

int
fwd_gen_pcap(const char *path, uint64_t n)
{
	struct pcap_file_hdr fh = {
		.magic = PCAP_MAGIC, .major = 2, .minor = 4, .snaplen = 65535, .linktype = 1,
	};
	static uint8_t frame[SAMPLE_MAX];
	FILE *f = fopen(path, "wb");
	uint64_t k;
	uint32_t i;

	if (f == NULL)
		return -errno;
	if (fwrite(&fh, sizeof(fh), 1, f) != 1)
		goto fail;
	for (k = 0; k < n; k++) {
		uint32_t len = fwd_sample_len(k);
		struct pcap_rec_hdr rh = {
			.ts_sec = (uint32_t)(k / 1000000), .ts_usec = (uint32_t)(k % 1000000),
			.caplen = len, .len = len,
		};
		static const uint8_t eth[14] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0xb5 };

		memcpy(frame, eth, sizeof(eth));
		for (i = 0; i < 8; i++)
			frame[14 + i] = (uint8_t)(k >> (56 - 8 * i));
		for (i = 22; i < len; i++)
			frame[i] = (uint8_t)((k * 31 + i) % 251);
		if (fwrite(&rh, sizeof(rh), 1, f) != 1 || fwrite(frame, len, 1, f) != 1)
			goto fail;
	}
	if (fclose(f) != 0)
		return -errno;
	return 0;
fail:
	fclose(f);
	return -EIO;
}
