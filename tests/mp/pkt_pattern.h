/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_TEST_PKT_PATTERN_H
#define RZ_TEST_PKT_PATTERN_H

/* The packets the tests hand between processes: packet k has a length and bytes that only k
 * decides, so the receiver verifies each byte for byte without being told anything. */

#include <stdint.h>
#include <string.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#define PKT_MIN_LEN	64u
#define PKT_MAX_LEN	9000u

/* Mixed sizes: mostly small, every 7th a jumbo one (several segments), every 5th 1500. */
static inline uint32_t
pkt_len_of(uint32_t k)
{
	if (k % 7 == 3)
		return PKT_MAX_LEN - (k % 97);
	if (k % 5 == 1)
		return 1500;
	return PKT_MIN_LEN + (k * 2654435761u) % 1200u;
}

static inline uint8_t
pkt_byte_of(uint32_t k, uint32_t j)
{
	if (j < 4)
		return (uint8_t)(k >> (8 * j));
	return (uint8_t)(k * 131u + j * 7u + (j >> 8));
}

/* Packet k from @mp, chained when it does not fit one data room; NULL if the pool is short
 * (whatever was taken is given back). */
static inline struct rte_mbuf *
pkt_make(struct rte_mempool *mp, uint32_t k)
{
	uint32_t len = pkt_len_of(k), off = 0;
	struct rte_mbuf *head = NULL;

	while (off < len) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
		uint32_t room, n, j;
		uint8_t *p;

		if (m == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		room = rte_pktmbuf_tailroom(m);
		n = len - off < room ? len - off : room;
		p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)n);
		for (j = 0; j < n; j++)
			p[j] = pkt_byte_of(k, off + j);
		off += n;
		if (head == NULL) {
			head = m;
		} else if (rte_pktmbuf_chain(head, m) != 0) {
			rte_pktmbuf_free(m);
			rte_pktmbuf_free(head);
			return NULL;
		}
	}
	return head;
}

/* 0 if @m is packet k of some k, which goes to *@k; -1 otherwise. */
static inline int
pkt_check(const struct rte_mbuf *m, uint32_t *k_out)
{
	const struct rte_mbuf *s;
	uint32_t k, off = 0, j;
	uint8_t buf[4];
	const uint8_t *f;

	if (m == NULL)
		return -1;
	f = rte_pktmbuf_read(m, 0, 4, buf);
	if (f == NULL)
		return -1;
	k = (uint32_t)f[0] | (uint32_t)f[1] << 8 | (uint32_t)f[2] << 16 | (uint32_t)f[3] << 24;
	if (m->pkt_len != pkt_len_of(k))
		return -1;
	for (s = m; s != NULL; s = s->next) {
		const uint8_t *p = rte_pktmbuf_mtod(s, const uint8_t *);

		for (j = 0; j < s->data_len; j++)
			if (p[j] != pkt_byte_of(k, off + j))
				return -1;
		off += s->data_len;
	}
	if (off != m->pkt_len)
		return -1;
	*k_out = k;
	return 0;
}

#endif /* RZ_TEST_PKT_PATTERN_H */
