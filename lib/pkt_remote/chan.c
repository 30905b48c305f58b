/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * The packet channel (rzone_pkt_remote.h; layout in chan_wire.h and doc/wire-format.md): an
 * SPSC ring in the consumer's region, written by the producer over RDMA. The producer writes
 * each packet into its slot (header from its own registered memory + the mbuf's segments,
 * zero-copy), then the tail, in one chain; it reads the consumer's head with an RDMA READ when
 * half of the ring is used by its count. The consumer keeps its geometry and head privately and
 * checks the tail and every slot header before handing anything out.
 *
 * Zero-copy receive (rz_pkt_chan_recv_zc()): slots [head, zc_next) are handed out as mbufs
 * attached to their payload (external buffers sharing the slot's zc_slot.sh). The free
 * callback, on whatever thread frees the last reference, only raises zc_slot.freed (release);
 * the consumer thread moves the head over the raised flags, in ring order, at its next call
 * (zc_reclaim(), acquire), and only then publishes the head: the producer never writes a slot
 * whose mbufs may still be read. peek/release/recv/close refuse (-EBUSY) while slots are held.
 *
 * Head reads back off: a read that brings no credit (the consumer has released nothing since
 * the last one) makes the next wait READ_BACKOFF_MIN, doubling up to READ_BACKOFF_MAX; a read
 * that brings credit ends the wait. A consumer that keeps up never sees it (each read finds
 * progress); a stalled one is not hammered with a READ per round trip, each of which costs its
 * host's device (Soft-RoCE: its kernel's CPU) while the application spins on -ENOBUFS.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>

#include "core_private.h"
#include "chan_wire.h"
#include "rdma_private.h"
#include "region_private.h"
#include "pkt_remote_private.h"

/* Zero-copy receive, per slot (consumer): the external-buffer descriptor its mbufs share, the
 * slot's payload in IOVA terms (split where it crosses the end of an IOVA-contiguous chunk of
 * the region) and the flag the free callback raises. */
struct zc_slot {
	struct rte_mbuf_ext_shared_info sh;
	rte_iova_t iova0;		/* payload byte 0 */
	rte_iova_t iova1;		/* payload byte split (when split < the payload size) */
	uint32_t split;			/* bytes IOVA-contiguous from payload byte 0 */
	uint32_t freed;			/* 1: every mbuf of the slot is freed (any thread) */
};

struct rz_pkt_chan {
	bool producer;
	uint32_t nslots;
	uint32_t mask;
	uint32_t slot_size;
	struct rz_pkt_chan_stats st;
	/* consumer */
	struct rz_region *region;	/* the ring's region (pinned while the consumer is open) */
	uint8_t *base;			/* the window's first byte */
	uint64_t head;			/* slots released (private: the window's copy is ours) */
	uint64_t counted;		/* slots counted in rx_pkts */
	uint16_t peeked;
	uint64_t zc_next;		/* next slot to hand out zero-copy; [head, zc_next) held */
	struct zc_slot *zc;		/* nslots entries */
	/* producer */
	struct rz_rdma_desc win;
	uint64_t tail;			/* slots published */
	uint64_t head_known;		/* the consumer's head as last read */
	bool head_reading;		/* a head read in flight */
	uint64_t read_wait;		/* TSC cycles: wait after a read without credit */
	uint64_t read_after;		/* no head read before this TSC (while read_wait != 0) */
	int err;			/* -EPIPE / -EPROTO: the channel ended */
	uint8_t *lmem;			/* [control block copy][tails][slot headers], registered */
	struct rz_rdma_mem lreg;
	struct rz_pkt_tx tx;
	/* rz_pkt_chan_send()'s chain, kept from call to call: packet i's work request wr[i] and
	 * scatter list sge[i] hold, from attach on (chan_tpl()), what every packet's shares (its
	 * next, sg_list, opcode, rkey, the header entry's length and lkey); a send writes only
	 * what changes. The tail WRITE and head READ that close a chain take the entries after
	 * its last packet and give them back (chan_tpl()) after the post. */
	struct ibv_send_wr wr[RZ_PKT_BURST_MAX + 2];
	struct ibv_sge sge[RZ_PKT_BURST_MAX][RZ_REMOTE_SGE_MAX];
	struct ibv_sge one[2];
};

#define LMEM_TAILS	CHAN_CTRL_SIZE

/* No pool (rz_pkt_chan_send(): the burst's remembered pool before its first packet): an
 * address no mbuf's pool has, NULL included. */
#define NO_POOL		((const struct rte_mempool *)(uintptr_t)1)

/* Head reads' back-off bounds (microseconds; see the top of the file). */
#define READ_BACKOFF_MIN_US	2
#define READ_BACKOFF_MAX_US	1000

static inline uint64_t
lmem_hdr_off(const struct rz_pkt_chan *c, uint32_t slot)
{
	return LMEM_TAILS + (uint64_t)c->nslots * 8 + (uint64_t)slot * CHAN_SLOT_HDR;
}

size_t
rz_pkt_chan_window_size(uint32_t nslots, uint32_t slot_size)
{
	uint64_t wlen;

	return chan_geometry_ok(nslots, slot_size, &wlen) ? (size_t)wlen : 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Consumer. */

static inline void
st32(uint8_t *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)(void *)p, v, __ATOMIC_RELEASE);
}

static inline void
st64(uint8_t *p, uint64_t v)
{
	__atomic_store_n((uint64_t *)(void *)p, v, __ATOMIC_RELEASE);
}

/* The free callback of a zero-copy slot's mbufs (the last of them freed): may run on any
 * thread, at any time while the channel is open; one atomic store, nothing else. The consumer
 * thread advances the head over freed slots in its next rz_pkt_chan_recv_zc(). */
static void
zc_free_cb(void *addr __rte_unused, void *opaque)
{
	struct zc_slot *z = opaque;

	__atomic_store_n(&z->freed, 1, __ATOMIC_RELEASE);
}

/* Each slot's payload in IOVA terms, once at creation (control), from the region's IOVA-contiguous
 * chunks (rz_region_iova_chunks(): region offsets, wherever it is mapped): the data path does
 * no lookup. A payload crossing the end of a chunk is split there (the second part's IOVA is
 * the next chunk's, or RTE_BAD_IOVA if it runs past that one too); unknown IOVAs are
 * RTE_BAD_IOVA (a PMD that needs them cannot send those mbufs; net_pcap and the like can). */
static int
zc_init(struct rz_pkt_chan *c, const struct rz_region *r, size_t offset)
{
	uint32_t max_pay = c->slot_size - CHAN_SLOT_HDR, i;
	struct rz_iova_chunk *ch = NULL;
	int nch, k = 0;

	nch = rz_region_iova_chunks(r, NULL, 0);
	if (nch > 0) {
		ch = calloc((size_t)nch, sizeof(*ch));
		if (ch == NULL)
			return -ENOMEM;
		if (rz_region_iova_chunks(r, ch, (unsigned int)nch) != nch)
			nch = 0;
	}
	for (i = 0; i < c->nslots; i++) {
		struct zc_slot *z = &c->zc[i];
		uint64_t po = offset + CHAN_CTRL_SIZE + (uint64_t)i * c->slot_size + CHAN_SLOT_HDR;
		uint64_t pe = po + max_pay, cend;

		z->sh.free_cb = zc_free_cb;
		z->sh.fcb_opaque = z;
		z->split = max_pay;
		z->iova0 = RTE_BAD_IOVA;
		z->iova1 = RTE_BAD_IOVA;
		while (k < nch && ch[k].offset + ch[k].len <= po)
			k++;
		if (k >= nch || ch[k].offset > po || ch[k].iova == RTE_BAD_IOVA)
			continue;
		z->iova0 = ch[k].iova + (po - ch[k].offset);
		cend = ch[k].offset + ch[k].len;
		if (pe <= cend)
			continue;
		z->split = (uint32_t)(cend - po);
		if (k + 1 < nch && ch[k + 1].iova != RTE_BAD_IOVA &&
				pe <= ch[k + 1].offset + ch[k + 1].len)
			z->iova1 = ch[k + 1].iova;
	}
	free(ch);
	return 0;
}

struct rz_pkt_chan *
rz_pkt_chan_consumer_create(struct rz_region *r, size_t offset, uint32_t nslots,
		uint32_t slot_size)
{
	struct rz_pkt_chan *c;
	uint64_t wlen;
	uint8_t *addr;
	uint32_t i;
	int perms, ret;

	if (r == NULL || !chan_geometry_ok(nslots, slot_size, &wlen) || (offset % 64) != 0) {
		RZ_LOG(ERR, "rz_pkt_chan_consumer_create: invalid argument (%u slots of %u bytes "
				"at offset %zu)", nslots, slot_size, offset);
		rte_errno = EINVAL;
		return NULL;
	}
	addr = rz_region_get_mapping(r, RZ_PID_SELF);
	if (addr == NULL)
		return NULL;
	perms = rz_region_get_mapping_perms(r, RZ_PID_SELF);
	if (perms < 0 || (perms & RZ_PERM_RW) != RZ_PERM_RW) {
		RZ_LOG(ERR, "rz_pkt_chan_consumer_create: region %#" PRIx64 " not mapped "
				"read/write here", rz_region_id(r));
		rte_errno = EACCES;
		return NULL;
	}
	if (offset > rz_region_size(r) || wlen > rz_region_size(r) - offset) {
		RZ_LOG(ERR, "rz_pkt_chan_consumer_create: %" PRIu64 " bytes at offset %zu do not "
				"fit region %#" PRIx64, wlen, offset, rz_region_id(r));
		rte_errno = ERANGE;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	c->zc = calloc(nslots, sizeof(*c->zc));
	if (c->zc == NULL) {
		free(c);
		rte_errno = ENOMEM;
		return NULL;
	}
	c->nslots = nslots;
	c->mask = nslots - 1;
	c->slot_size = slot_size;
	c->base = addr + offset;
	if (zc_init(c, r, offset) != 0) {
		free(c->zc);
		free(c);
		rte_errno = ENOMEM;
		return NULL;
	}
	/* The ring and the zero-copy mbufs point into the region: its owner (this process, if
	 * it is) may not destroy or transfer it until the consumer is closed. */
	ret = region_pin(r, "a packet channel's ring");
	if (ret < 0) {
		free(c->zc);
		free(c);
		rte_errno = -ret;
		return NULL;
	}
	c->region = r;
	memset(c->base, 0, CHAN_CTRL_SIZE);
	/* No slot holds a sequence it could be read for before its packet lands. */
	for (i = 0; i < nslots; i++)
		memset(c->base + CHAN_CTRL_SIZE + (uint64_t)i * slot_size, 0xff, CHAN_SLOT_HDR);
	*(uint32_t *)(void *)(c->base + CHAN_OFF_MAGIC) = CHAN_MAGIC;
	*(uint16_t *)(void *)(c->base + CHAN_OFF_VERSION) = CHAN_VERSION;
	*(uint16_t *)(void *)(c->base + CHAN_OFF_CTRL_SIZE) = CHAN_CTRL_SIZE;
	*(uint32_t *)(void *)(c->base + CHAN_OFF_NSLOTS) = nslots;
	*(uint32_t *)(void *)(c->base + CHAN_OFF_SLOT_SIZE) = slot_size;
	st32(c->base + CHAN_OFF_STATE, CHAN_STATE_OPEN);
	return c;
}

/* Give back the credits of the zero-copy slots whose mbufs are all freed, in ring order: the
 * first slot still held stops the head (consumer thread). */
static inline void
zc_reclaim(struct rz_pkt_chan *c)
{
	uint64_t h = c->head;

	while (h != c->zc_next) {
		struct zc_slot *z = &c->zc[h & c->mask];

		if (__atomic_load_n(&z->freed, __ATOMIC_ACQUIRE) == 0)
			break;
		__atomic_store_n(&z->freed, 0, __ATOMIC_RELAXED);
		h++;
	}
	if (h != c->head) {
		c->head = h;
		/* The mbufs of those slots are freed (the callbacks' release stores, read
		 * with acquire): then the producer may write there again. */
		st64(c->base + CHAN_OFF_HEAD, h);
	}
}

/* Zero-copy mbufs still out (after taking back what was freed)? */
static inline bool
zc_busy(struct rz_pkt_chan *c)
{
	if (likely(c->zc_next == c->head))
		return false;
	zc_reclaim(c);
	return c->zc_next != c->head;
}

int
rz_pkt_chan_peek(struct rz_pkt_chan *c, struct rz_pkt_chan_slot *slots, uint16_t n)
{
	uint64_t tail, s, end;
	bool dropped = false;
	uint16_t k = 0;
	uint32_t len;
	int ret;

	if (c == NULL || c->producer || (slots == NULL && n > 0))
		return -EINVAL;
	if (unlikely(zc_busy(c)))
		return -EBUSY;
	tail = __atomic_load_n((uint64_t *)(void *)(c->base + CHAN_OFF_TAIL), __ATOMIC_ACQUIRE);
	if (unlikely(tail - c->head > c->nslots)) {
		if (c->st.rx_bad_tail++ == 0)
			RZ_LOG(ERR, "packet channel: tail %" PRIu64 " refused (head %" PRIu64
					", %u slots)", tail, c->head, c->nslots);
		c->peeked = 0;
		return -EPROTO;
	}
	end = tail;
	for (s = c->head; s != end && k < n; s++) {
		const uint8_t *slot = c->base + CHAN_CTRL_SIZE +
				(uint64_t)(s & c->mask) * c->slot_size;

		ret = chan_slot_parse(slot, c->slot_size, s, &len);
		if (ret == -EAGAIN)
			break;
		if (ret == -EBADMSG) {
			if (k != 0)
				break;
			/* At the head: drop it, the stream goes on. */
			c->st.rx_bad++;
			c->head = s + 1;
			c->zc_next = c->head;
			dropped = true;
			continue;
		}
		slots[k].data = slot + CHAN_SLOT_HDR;
		slots[k].len = len;
		slots[k].seq = s;
		if (s >= c->counted) {
			c->st.rx_pkts++;
			c->st.rx_bytes += len;
			c->counted = s + 1;
		}
		k++;
	}
	if (dropped) {
		if (c->counted < c->head)
			c->counted = c->head;
		st64(c->base + CHAN_OFF_HEAD, c->head);
	}
	c->peeked = k;
	return k;
}

int
rz_pkt_chan_release(struct rz_pkt_chan *c, uint16_t n)
{
	if (c == NULL || c->producer)
		return -EINVAL;
	if (unlikely(zc_busy(c)))
		return -EBUSY;
	if (n > c->peeked)
		return -EINVAL;
	if (n == 0)
		return 0;
	c->head += n;
	c->zc_next = c->head;
	c->peeked = 0;
	/* Everything read from those slots is read: then the credits go back. */
	st64(c->base + CHAN_OFF_HEAD, c->head);
	return 0;
}

int
rz_pkt_chan_recv(struct rz_pkt_chan *c, struct rte_mempool *mp, struct rte_mbuf **pkts,
		uint16_t n)
{
	struct rz_pkt_chan_slot sl[RZ_PKT_BURST_MAX + 1];
	uint16_t got = 0;
	int k, i;

	if (c == NULL || c->producer || mp == NULL || (pkts == NULL && n > 0))
		return -EINVAL;
	if (unlikely(zc_busy(c)))
		return -EBUSY;
	while (got < n) {
		k = rz_pkt_chan_peek(c, sl, (uint16_t)RTE_MIN((int)(n - got), (int)RTE_DIM(sl)));
		if (k < 0)
			return got > 0 ? got : k;
		for (i = 0; i < k; i++) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(mp), *seg = m;
			uint32_t off = 0;

			while (seg != NULL) {
				uint32_t room = rte_pktmbuf_tailroom(seg);
				uint32_t cp = RTE_MIN(room, sl[i].len - off);

				memcpy(rte_pktmbuf_mtod(seg, uint8_t *), sl[i].data + off, cp);
				seg->data_len = (uint16_t)cp;
				off += cp;
				if (off == sl[i].len)
					break;
				seg->next = rte_pktmbuf_alloc(mp);
				seg = seg->next;
				if (seg != NULL)
					m->nb_segs++;
			}
			if (m == NULL || seg == NULL) {
				rte_pktmbuf_free(m);
				c->st.rx_nombuf++;
				break;
			}
			m->pkt_len = sl[i].len;
			c->st.rx_bytes_copied += sl[i].len;
			pkts[got + i] = m;
		}
		rz_pkt_chan_release(c, (uint16_t)i);
		got = (uint16_t)(got + i);
		if (i < k || k < (int)RTE_DIM(sl))
			break;
	}
	return got;
}

/* Largest external-buffer segment (buf_len is 16 bits), a multiple of 64. */
#define ZC_SEG_MAX	(UINT16_MAX & ~63u)
/* Segments of the largest payload: ZC_SEG_MAX pieces, one more for an IOVA split. */
#define ZC_SEGS_MAX	((CHAN_SLOT_MAX + ZC_SEG_MAX - 1) / ZC_SEG_MAX + 1)

/* The end of the segment of a @len-byte payload starting at payload byte @off. */
static inline uint32_t
zc_seg_end(const struct zc_slot *z, uint32_t off, uint32_t len)
{
	uint32_t end = off < z->split ? RTE_MIN(z->split, len) : len;

	return RTE_MIN(end, off + ZC_SEG_MAX);
}

static inline uint32_t
zc_nseg(const struct zc_slot *z, uint32_t len)
{
	uint32_t off = 0, k = 0;

	while (off < len) {
		off = zc_seg_end(z, off, len);
		k++;
	}
	return k;
}

/* Can @mp's mbufs take an external buffer? A pktmbuf pool, not one of pinned external
 * buffers (their detach never calls the free callback). */
static bool
zc_pool_ok(struct rte_mempool *mp)
{
	if (mp->private_data_size < sizeof(struct rte_pktmbuf_pool_private))
		return false;
	return (rte_pktmbuf_priv_flags(mp) & RTE_PKTMBUF_POOL_F_PINNED_EXT_BUF) == 0;
}

int
rz_pkt_chan_recv_zc(struct rz_pkt_chan *c, struct rte_mempool *mp, struct rte_mbuf **pkts,
		uint16_t n)
{
	struct rte_mbuf *segs[ZC_SEGS_MAX];
	bool dropped = false;
	uint64_t tail, s;
	uint16_t k = 0;
	uint32_t len, nseg, j, off;
	int ret;

	if (c == NULL || c->producer || mp == NULL || (pkts == NULL && n > 0)) {
		RZ_LOG(ERR, "rz_pkt_chan_recv_zc: invalid argument (%s)", c == NULL ? "NULL end" :
				c->producer ? "a producer end" : "NULL pool or array");
		return -EINVAL;
	}
	if (unlikely(!zc_pool_ok(mp))) {
		RZ_LOG(ERR, "rz_pkt_chan_recv_zc: pool %s cannot take external buffers (not a "
				"pktmbuf pool, or pinned external buffers)", mp->name);
		return -EINVAL;
	}
	zc_reclaim(c);
	c->peeked = 0;		/* a peek before this call is void */
	tail = __atomic_load_n((uint64_t *)(void *)(c->base + CHAN_OFF_TAIL), __ATOMIC_ACQUIRE);
	if (unlikely(tail - c->head > c->nslots || tail - c->head < c->zc_next - c->head)) {
		if (c->st.rx_bad_tail++ == 0)
			RZ_LOG(ERR, "packet channel: tail %" PRIu64 " refused (head %" PRIu64
					", %" PRIu64 " handed out, %u slots)", tail, c->head,
					c->zc_next, c->nslots);
		return -EPROTO;
	}
	for (s = c->zc_next; s != tail && k < n; s++) {
		uint32_t idx = (uint32_t)(s & c->mask);
		struct zc_slot *z = &c->zc[idx];
		uint8_t *pay = c->base + CHAN_CTRL_SIZE + (uint64_t)idx * c->slot_size;

		ret = chan_slot_parse(pay, c->slot_size, s, &len);
		if (ret == -EAGAIN)
			break;
		if (ret == -EBADMSG) {
			if (k != 0)
				break;
			/* First in line: dropped, its credit goes back in ring order. */
			c->st.rx_bad++;
			__atomic_store_n(&z->freed, 1, __ATOMIC_RELAXED);
			c->zc_next = s + 1;
			dropped = true;
			continue;
		}
		pay += CHAN_SLOT_HDR;
		nseg = zc_nseg(z, len);
		if (unlikely(rte_pktmbuf_alloc_bulk(mp, segs, nseg) != 0)) {
			c->st.rx_nombuf++;
			break;
		}
		/* Every segment shares the slot's descriptor: the callback runs when the last
		 * of them (or of their clones) is freed. */
		rte_mbuf_ext_refcnt_set(&z->sh, (uint16_t)nseg);
		off = 0;
		for (j = 0; j < nseg; j++) {
			uint32_t end = zc_seg_end(z, off, len);
			rte_iova_t io = off < z->split ? z->iova0 : z->iova1;

			if (io != RTE_BAD_IOVA)
				io += off < z->split ? off : off - z->split;
			rte_pktmbuf_attach_extbuf(segs[j], pay + off, io, (uint16_t)(end - off),
					&z->sh);
			segs[j]->data_len = (uint16_t)(end - off);
			segs[j]->next = j + 1 < nseg ? segs[j + 1] : NULL;
			off = end;
		}
		segs[0]->nb_segs = (uint16_t)nseg;
		segs[0]->pkt_len = len;
		pkts[k++] = segs[0];
		if (s >= c->counted) {
			c->st.rx_pkts++;
			c->st.rx_bytes += len;
			c->counted = s + 1;
		}
		c->zc_next = s + 1;
	}
	if (dropped) {
		if (c->counted < c->zc_next)
			c->counted = c->zc_next;
		zc_reclaim(c);
	}
	return k;
}

/* ---------------------------------------------------------------------------------------- */
/* Producer. */

/* Work request @i of the producer's chain as a packet's (see struct rz_pkt_chan). */
static inline void
chan_tpl(struct rz_pkt_chan *c, uint32_t i)
{
	struct ibv_send_wr *wr = &c->wr[i];

	wr->next = wr + 1;
	wr->opcode = IBV_WR_RDMA_WRITE;
	wr->imm_data = 0;
	wr->wr.rdma.rkey = c->win.rkey;
	if (i < RTE_DIM(c->sge)) {
		wr->sg_list = c->sge[i];
		c->sge[i][0].length = CHAN_SLOT_HDR;
		c->sge[i][0].lkey = c->lreg.lkey;
	}
}

static void
head_read_done(void *arg, int status)
{
	struct rz_pkt_chan *c = arg;
	uint64_t head;
	uint32_t state;

	c->head_reading = false;
	if (status != 0)
		return;		/* the sender's error says it */
	memcpy(&head, c->lmem + CHAN_OFF_HEAD, sizeof(head));
	memcpy(&state, c->lmem + CHAN_OFF_STATE, sizeof(state));
	if (head - c->head_known > c->tail - c->head_known) {
		if (c->err == 0)
			RZ_LOG(ERR, "packet channel: consumer head %" PRIu64 " out of order (had %"
					PRIu64 ", tail %" PRIu64 ")", head, c->head_known, c->tail);
		c->err = -EPROTO;
		return;
	}
	if (head == c->head_known) {
		/* Nothing released since the last read: wait longer before the next. */
		uint64_t hz = rte_get_tsc_hz();
		uint64_t lo = hz / (1000000 / READ_BACKOFF_MIN_US);
		uint64_t hi = hz / (1000000 / READ_BACKOFF_MAX_US);

		c->read_wait = c->read_wait == 0 ? lo : RTE_MIN(c->read_wait * 2, hi);
		c->read_after = rte_get_tsc_cycles() + c->read_wait;
		c->st.head_reads_empty++;
	} else {
		c->read_wait = 0;
	}
	c->head_known = head;
	if (state == CHAN_STATE_CLOSED && c->err == 0) {
		RZ_LOG(INFO, "packet channel: the consumer closed it");
		c->err = -EPIPE;
	}
}

struct rz_pkt_chan *
rz_pkt_chan_producer_attach(struct rz_peer *p, const struct rz_rdma_desc *window)
{
	uint32_t nslots, slot_size, state;
	struct rz_pkt_chan *c = NULL;
	uint64_t tail, head;
	size_t lsize;
	uint32_t i;
	int ret;

	if (p == NULL || window == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	if ((window->rights & (RZ_RDMA_RIGHT_READ | RZ_RDMA_RIGHT_WRITE)) !=
			(RZ_RDMA_RIGHT_READ | RZ_RDMA_RIGHT_WRITE) ||
			window->length < CHAN_CTRL_SIZE) {
		RZ_LOG(ERR, "rz_pkt_chan_producer_attach: the window (rights %#x, %" PRIu64
				" bytes) is not a channel's", window->rights, window->length);
		rte_errno = window->length < CHAN_CTRL_SIZE ? EPROTO : EACCES;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	c->producer = true;
	c->win = *window;
	/* Largest geometry first: the control block says the real one. */
	lsize = CHAN_CTRL_SIZE;
	if (posix_memalign((void **)&c->lmem, 64, lsize) != 0) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = rz_rdma_register_mem(c->lmem, lsize, &c->lreg);
	if (ret != 0)
		goto fail_mem;
	ret = rz_remote_read(p, &c->lreg, 0, window, 0, CHAN_CTRL_SIZE);
	if (ret == 0)
		ret = chan_ctrl_parse(c->lmem, window->length, &nslots, &slot_size, &tail, &head,
				&state);
	if (ret == 0 && state == CHAN_STATE_CLOSED)
		ret = -EPIPE;
	rz_rdma_deregister_mem(&c->lreg);
	free(c->lmem);
	c->lmem = NULL;
	if (ret != 0) {
		RZ_LOG(ERR, "rz_pkt_chan_producer_attach: control block: %s", strerror(-ret));
		goto fail;
	}
	c->nslots = nslots;
	c->mask = nslots - 1;
	c->slot_size = slot_size;
	c->tail = tail;
	c->head_known = head;
	lsize = LMEM_TAILS + (size_t)nslots * (8 + CHAN_SLOT_HDR);
	if (posix_memalign((void **)&c->lmem, 64, lsize) != 0) {
		ret = -ENOMEM;
		goto fail;
	}
	memset(c->lmem, 0, lsize);
	ret = rz_rdma_register_mem(c->lmem, lsize, &c->lreg);
	if (ret != 0)
		goto fail_mem;
	ret = tx_init(&c->tx, p);
	if (ret != 0) {
		rz_rdma_deregister_mem(&c->lreg);
		goto fail_mem;
	}
	c->tx.on_head_read = head_read_done;
	c->tx.arg = c;
	for (i = 0; i < RTE_DIM(c->wr); i++)
		chan_tpl(c, i);
	return c;
fail_mem:
	free(c->lmem);
fail:
	free(c);
	rte_errno = -ret;
	return NULL;
}

/* The work request of a WRITE or READ of @len bytes at window offset @off, from @sge, number
 * @w. Every offset the channel uses is inside its window (checked at attach), so nothing is
 * checked again on the way to the device. */
static inline void
chan_wr(const struct rz_pkt_chan *c, struct ibv_send_wr *wr, struct ibv_sge *sge, int nsge,
		enum ibv_wr_opcode op, uint64_t off, uint32_t len, uint64_t w)
{
	wr->wr_id = w;
	wr->next = wr + 1;
	wr->sg_list = sge;
	wr->num_sge = nsge;
	wr->opcode = op;
	wr->send_flags = op == IBV_WR_RDMA_WRITE && len <= c->tx.max_inline ?
			IBV_SEND_INLINE : 0;
	wr->imm_data = 0;
	wr->wr.rdma.remote_addr = c->win.addr + off;
	wr->wr.rdma.rkey = c->win.rkey;
}

/*
 * The data path. Per burst (at most RZ_PKT_BURST_MAX packets, as credits and the sender's
 * room allow): one pass over the packets writes what changes in each one's slot header (in
 * lmem), scatter list (header + the mbuf's segments) and work request (the rest is in place
 * from attach: struct rz_pkt_chan's wr and sge), numbers it, notes its retirement
 * entry and keeps its mbuf in the sender's ring (tx_wr_note(), tx_pkt_keep(): entries nobody
 * owns until the post counts them); then the tail WRITE and, when credits run short, the head
 * READ close the chain, one doorbell (tx_post_chain()). The counters are summed in locals and
 * written once per burst, after the post.
 *
 * A packet's segment list: a one-segment direct mbuf (its data_len its pkt_len) of the pool
 * of the burst's last packet that tx_mbuf_sgl() took (same pool, so the same lkey) is
 * written here in place; any other
 * packet goes through tx_mbuf_sgl() (the lkey cache, its checks, clones and external buffers,
 * refusing an mbuf of a pool that is not rzone's). The pool remembered is per burst: what
 * tx_mbuf_sgl() validated (pkt_pool_gen included) is reused only within the burst being built.
 */
int
rz_pkt_chan_send(struct rz_pkt_chan *c, struct rte_mbuf **pkts, uint16_t n)
{
	struct ibv_send_wr *wr;
	struct ibv_sge *one;
	struct rz_pkt_tx *tx;
	uint8_t *hdrs;
	uint64_t raddr;
	uint32_t max_pay, mask, slot_size, max_inline, lkey;
	uint16_t done = 0;
	int ret = 0;

	if (c == NULL || !c->producer || pkts == NULL || n == 0)
		return -EINVAL;
	tx = &c->tx;
	ret = tx_reap(tx);
	if (ret < 0)
		return ret;
	if (tx->err != 0)
		return tx->err;
	if (c->err != 0)
		return c->err;
	max_pay = c->slot_size - CHAN_SLOT_HDR;
	mask = c->mask;
	slot_size = c->slot_size;
	max_inline = tx->max_inline;
	lkey = c->lreg.lkey;
	wr = c->wr;
	one = c->one;
	raddr = c->win.addr + CHAN_CTRL_SIZE;
	hdrs = c->lmem + lmem_hdr_off(c, 0);
	while (done < n) {
		uint32_t credits = c->nslots - (uint32_t)(c->tail - c->head_known);
		uint32_t room = tx_wr_room(tx), k, i, nwr, plkey = 0;
		const struct rte_mempool *pool = NO_POOL;
		uint64_t tail = c->tail, w0 = tx->wr_posted + 1, p0 = tx->pkt_posted, bytes = 0;
		struct rte_mbuf **pk = pkts + done;
		bool read;
		int bad;

		/* RZ_PKT_BURST_MAX packets + the tail + the read: one chain, one doorbell
		 * (remote_post_run() has no limit of its own; the sender's room is below). */
		k = RTE_MIN((uint32_t)(n - done), (uint32_t)RZ_PKT_BURST_MAX);
		k = RTE_MIN(k, credits);
		k = RTE_MIN(k, tx_pkt_room(tx));
		k = room >= 2 ? RTE_MIN(k, room - 2) : 0;
		/* Credits run short: ask for the head with this chain (one read at a time). */
		read = !c->head_reading && room >= 1 &&
				(tail + k - c->head_known) * 2 > c->nslots &&
				(c->read_wait == 0 || rte_get_tsc_cycles() >= c->read_after);
		ret = 0;
		for (i = 0; i < k; i++) {
			struct rte_mbuf *m = pk[i];
			uint32_t slot = (uint32_t)(tail + i) & mask;
			struct chan_slot_hdr *h = (struct chan_slot_hdr *)(void *)
					(hdrs + (uint64_t)slot * CHAN_SLOT_HDR);
			struct ibv_sge *s = c->sge[i];
			uint32_t len = m->pkt_len;
			int nsge;

			/* 1..max_pay: one comparison (0 wraps around). */
			if (unlikely(len - 1 >= max_pay)) {
				ret = len == 0 ? -EINVAL : -EMSGSIZE;
				break;
			}
			if (likely(m->pool == pool && m->nb_segs == 1 && RTE_MBUF_DIRECT(m) &&
					m->data_len == len)) {
				s[1].addr = rte_pktmbuf_mtod(m, uintptr_t);
				s[1].length = len;
				s[1].lkey = plkey;
				nsge = 2;
			} else {
				/* struct rz_remote_sge is laid out as struct ibv_sge (remote.c). */
				ret = tx_mbuf_sgl(m, (struct rz_remote_sge *)(void *)&s[1],
						tx->max_sge - 1);
				if (unlikely(ret < 0))
					break;
				if (ret == 1 && RTE_MBUF_DIRECT(m)) {
					pool = m->pool;
					plkey = s[1].lkey;
				}
				nsge = ret + 1;
				ret = 0;
			}
			/* The header's flags stay 0: lmem is zeroed at attach and nothing
			 * writes a header's flags. */
			h->seq = tail + i;
			h->len = len;
			s[0].addr = (uintptr_t)h;
			wr[i].wr_id = w0 + i;
			wr[i].num_sge = nsge;
			wr[i].send_flags = CHAN_SLOT_HDR + len <= max_inline ? IBV_SEND_INLINE : 0;
			wr[i].wr.rdma.remote_addr = raddr + (uint64_t)slot * slot_size;
			tx_wr_note(tx, w0 + i, p0 + i + 1, 0);
			tx_pkt_keep(tx, p0 + i, m);
			bytes += len;
		}
		if (i == 0 && !read) {
			if (ret == 0) {
				tx->st.backpressure++;
				ret = -ENOBUFS;
			} else {
				RZ_LOG(ERR, "rz_pkt_chan_send: packet %u refused: %s", done,
						strerror(-ret));
			}
			return done > 0 ? done : ret;
		}
		nwr = i;
		if (i > 0) {
			uint64_t nt = tail + i;
			uint64_t to = LMEM_TAILS + ((nt - 1) & mask) * 8;

			memcpy(c->lmem + to, &nt, sizeof(nt));
			one[0].addr = (uintptr_t)c->lmem + to;
			one[0].length = sizeof(nt);
			one[0].lkey = lkey;
			chan_wr(c, &wr[nwr], &one[0], 1, IBV_WR_RDMA_WRITE, CHAN_OFF_TAIL,
					sizeof(nt), w0 + nwr);
			tx_wr_note(tx, w0 + nwr, p0 + i, 0);
			nwr++;
		}
		if (read) {
			one[1].addr = (uintptr_t)c->lmem + CHAN_OFF_HEAD;
			one[1].length = 16;
			one[1].lkey = lkey;
			chan_wr(c, &wr[nwr], &one[1], 1, IBV_WR_RDMA_READ, CHAN_OFF_HEAD, 16,
					w0 + nwr);
			tx_wr_note(tx, w0 + nwr, p0 + i, TX_WR_HEAD_READ);
			nwr++;
		}
		bad = ret;
		ret = tx_post_chain(tx, wr, nwr, (uint16_t)i);
		/* The tail's and the read's entries back to packets' (and the last's next). */
		for (k = i; k < nwr; k++)
			chan_tpl(c, k);
		if (ret <= 0) {
			if (ret == -ENOBUFS)
				tx->st.backpressure++;
			return done > 0 ? done : ret;
		}
		if (read) {
			c->head_reading = true;
			c->st.head_reads++;
		}
		if ((uint32_t)ret < nwr) {
			/* Cut (tx->err set): the packets taken are lost with the stream. */
			done = (uint16_t)(done + RTE_MIN((uint32_t)ret, i));
			break;
		}
		c->tail = tail + i;
		tx->st.pkts += i;
		tx->st.bytes += bytes;
		done = (uint16_t)(done + i);
		if (i == 0) {
			/* Only the head read went: no credit now. */
			tx->st.backpressure++;
			return done > 0 ? done : -ENOBUFS;
		}
		if (bad != 0)
			break;	/* the next packet is refused: the count says where */
	}
	return done;
}

int
rz_pkt_chan_flush(struct rz_pkt_chan *c, int timeout_ms)
{
	if (c == NULL || !c->producer)
		return -EINVAL;
	return rz_pkt_tx_flush(&c->tx, timeout_ms);
}

int
rz_pkt_chan_stats_get(const struct rz_pkt_chan *c, struct rz_pkt_chan_stats *st)
{
	if (c == NULL || st == NULL)
		return -EINVAL;
	*st = c->st;
	if (!c->producer)
		st->rx_held = c->zc_next - c->head;
	if (c->producer) {
		st->tx = c->tx.st;
		st->tx.inflight = c->tx.pkt_posted - c->tx.pkt_freed;
	}
	return 0;
}

int
rz_pkt_chan_close(struct rz_pkt_chan *c)
{
	int ret = 0;

	if (c == NULL)
		return 0;
	if (c->producer) {
		ret = tx_fini(&c->tx);
		rz_rdma_deregister_mem(&c->lreg);
		free(c->lmem);
	} else {
		if (zc_busy(c)) {
			RZ_LOG(ERR, "rz_pkt_chan_close: %" PRIu64 " slots still held by zero-copy "
					"mbufs: not closed", c->zc_next - c->head);
			return -EBUSY;
		}
		st32(c->base + CHAN_OFF_STATE, CHAN_STATE_CLOSED);
		region_unpin(c->region);
		free(c->zc);
	}
	free(c);
	return ret;
}
