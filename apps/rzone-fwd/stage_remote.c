/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * The "remote" output stage and its receiving end (--remote-rx), over the packet channel of
 * include/rzone_pkt_remote.h.
 *
 *   secondary (stage "remote:peer=IP:PORT"): rz_rdma_init(), the pool registered with the
 *   device (rz_pktmbuf_pool_rdma_register()), rz_peer_connect() to the receiver, the window it
 *   grants, rz_pkt_chan_producer_attach(); tx = rz_pkt_chan_send() straight from the mbufs
 *   (zero-copy; -ENOBUFS: nothing taken, the caller offers the burst again, counted in
 *   chan_full; with --drop-on-full the stage frees the packets the channel did not take at
 *   once, never waiting, counted in full_drops and out_drops: the exit status is 1); flush =
 *   rz_pkt_chan_flush(), then the message "end" and the receiver's answer "rx N"
 *   (remote_rx). A revoked grant (-EACCES, -ENOTCONN) is fatal unless the stage argument
 *   reconnect=1 is given: then it connects again, takes the new grant and goes on where the
 *   consumer's tail is; packets accepted but never published (the cut) are counted as drops
 *   at the end (accepted - remote rx).
 *
 *   receiver (--remote-rx --listen IP:PORT): a primary of its own; an rzone pool, a region
 *   holding the channel's ring (rz_pkt_chan_consumer_create()), the window granted to the
 *   producer that connects (RZ_MODE_SHARE); it drains the ring zero-copy
 *   (rz_pkt_chan_recv_zc(): mbuf headers of its pool attached to the payload in the slots; the
 *   port frees them and the slots' credits go back) or, --rx-copy, into mbufs of its pool
 *   (rz_pkt_chan_recv(), a copy), and writes them on --tx-port (a net_pcap tx_pcap= port),
 *   until the producer says "end" and the ring is empty. --revoke-after N revokes the grant after N
 *   packets, accepts the producer again and grants anew.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_memzone.h>
#include <rte_pause.h>

#include <rzone.h>
#include <rzone_pkt.h>
#include <rzone_pkt_remote.h>
#include <rzone_rdma.h>

#include "fwd.h"

#define TMO_MS		30000		/* connect, descriptor, answer */
#define ACCEPT_MS	120000		/* the receiver waits this long for a producer */

/* Stage counters (fwd_stats.stage[]). */
enum { C_RDMA_TX, C_CREDITS, C_FULL, C_REMOTE_RX, C_FULL_DROPS, C_CREDITS_EMPTY };

struct remote_ctx {
	struct fwd_stats *st;
	struct rz_peer *p;
	struct rz_pkt_chan *c;
	struct rz_rdma_desc d;
	char ip[64];
	uint16_t port;
	bool reconnect;
	bool drop_on_full;
	bool dead;		/* a fatal error: the rest is dropped, counted */
	uint64_t base_tx;	/* packets and head reads of channels closed before this one */
	uint64_t base_reads;
	uint64_t base_reads_empty;
	uint64_t base_doorbells;
	uint64_t doorbells;
	unsigned int regrants;
};

static int
parse_peer(const char *s, char *ip, size_t iplen, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned long v;

	if (colon == NULL || colon == s || (size_t)(colon - s) >= iplen)
		return -EINVAL;
	errno = 0;
	v = strtoul(colon + 1, &end, 10);
	if (errno != 0 || end == colon + 1 || (*end != '\0' && *end != ',') || v == 0 ||
			v > UINT16_MAX)
		return -EINVAL;
	snprintf(ip, iplen, "%.*s", (int)(colon - s), s);
	*port = (uint16_t)v;
	return 0;
}

/* Stage arguments: "peer=IP:PORT[,reconnect=1]". */
static int
parse_args(const char *args, struct remote_ctx *rc)
{
	char buf[128], *tok, *save = NULL;
	bool have_peer = false;

	if (strlen(args) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", args);
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (strncmp(tok, "peer=", 5) == 0) {
			if (parse_peer(tok + 5, rc->ip, sizeof(rc->ip), &rc->port) != 0)
				return -EINVAL;
			have_peer = true;
		} else if (strcmp(tok, "reconnect=1") == 0) {
			rc->reconnect = true;
		} else if (strcmp(tok, "reconnect=0") != 0) {
			return -EINVAL;
		}
	}
	return have_peer ? 0 : -EINVAL;
}

static void
update_counters(struct remote_ctx *rc)
{
	struct rz_pkt_chan_stats cs;

	if (rc->c == NULL || rz_pkt_chan_stats_get(rc->c, &cs) != 0)
		return;
	rc->st->stage[C_RDMA_TX] = rc->base_tx + cs.tx.pkts;
	rc->st->stage[C_CREDITS] = rc->base_reads + cs.head_reads;
	rc->st->stage[C_CREDITS_EMPTY] = rc->base_reads_empty + cs.head_reads_empty;
	rc->doorbells = rc->base_doorbells + cs.tx.doorbells;
}

/* Connect, take the granted window, attach the producer. */
static int
attach(struct remote_ctx *rc)
{
	int ret;

	rc->p = rz_peer_connect(rc->ip, rc->port, TMO_MS);
	if (rc->p == NULL) {
		fprintf(stderr, "rzone-fwd: remote stage: connect to %s:%u: %s\n", rc->ip,
				rc->port, rte_strerror(rte_errno));
		return -rte_errno;
	}
	ret = rz_peer_recv_desc(rc->p, &rc->d, TMO_MS);
	if (ret != 0) {
		fprintf(stderr, "rzone-fwd: remote stage: no window from %s:%u: %s\n", rc->ip,
				rc->port, strerror(-ret));
		return ret;
	}
	rc->c = rz_pkt_chan_producer_attach(rc->p, &rc->d);
	if (rc->c == NULL) {
		fprintf(stderr, "rzone-fwd: remote stage: rz_pkt_chan_producer_attach: %s\n",
				rte_strerror(rte_errno));
		return -rte_errno;
	}
	return 0;
}

/* Close the channel and the connection, keeping their counts. */
static void
detach(struct remote_ctx *rc)
{
	update_counters(rc);
	rc->base_tx = rc->st->stage[C_RDMA_TX];
	rc->base_reads = rc->st->stage[C_CREDITS];
	rc->base_reads_empty = rc->st->stage[C_CREDITS_EMPTY];
	rc->base_doorbells = rc->doorbells;
	if (rc->c != NULL)
		rz_pkt_chan_close(rc->c);
	rc->c = NULL;
	if (rc->p != NULL)
		rz_peer_close(rc->p);
	rc->p = NULL;
}

static int
remote_init(const struct fwd_opts *o, struct fwd_stats *st, void **ctx)
{
	static struct remote_ctx rc;
	struct rte_mempool *mp = rte_mempool_lookup(FWD_POOL);
	int ret;

	memset(&rc, 0, sizeof(rc));
	rc.st = st;
	rc.drop_on_full = o->drop_on_full;
	if (parse_args(o->stage_args, &rc) != 0) {
		fprintf(stderr, "rzone-fwd: remote stage: arguments '%s': want "
				"peer=IP:PORT[,reconnect=1]\n", o->stage_args);
		return -EINVAL;
	}
	snprintf(st->stage_names[C_RDMA_TX], sizeof(st->stage_names[0]), "rdma_tx");
	snprintf(st->stage_names[C_CREDITS], sizeof(st->stage_names[0]), "credit_reads");
	snprintf(st->stage_names[C_FULL], sizeof(st->stage_names[0]), "chan_full");
	snprintf(st->stage_names[C_REMOTE_RX], sizeof(st->stage_names[0]), "remote_rx");
	snprintf(st->stage_names[C_FULL_DROPS], sizeof(st->stage_names[0]), "full_drops");
	snprintf(st->stage_names[C_CREDITS_EMPTY], sizeof(st->stage_names[0]), "credit_empty");
	ret = rz_rdma_init(getenv("RZ_RDMA_DEV"));
	if (ret != 0) {
		fprintf(stderr, "rzone-fwd: remote stage: rz_rdma_init: %s\n", strerror(-ret));
		return ret;
	}
	ret = mp == NULL ? -ENOENT : rz_pktmbuf_pool_rdma_register(mp);
	if (ret != 0) {
		fprintf(stderr, "rzone-fwd: remote stage: rz_pktmbuf_pool_rdma_register: %s\n",
				strerror(-ret));
		goto fail;
	}
	ret = attach(&rc);
	if (ret != 0)
		goto fail;
	printf("rzone-fwd: remote stage: channel to %s:%u, window %#" PRIx64 " bytes\n", rc.ip,
			rc.port, rc.d.length);
	*ctx = &rc;
	return 0;
fail:
	detach(&rc);
	rz_rdma_fini();
	return ret;
}

static uint16_t
drop(struct remote_ctx *rc, struct rte_mbuf **pkts, uint16_t n)
{
	rte_pktmbuf_free_bulk(pkts, n);
	rc->st->out_drops += n;
	return n;
}

static uint16_t
remote_tx(void *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	struct remote_ctx *rc = ctx;
	int ret;

	if (rc->dead)
		return drop(rc, pkts, n);
	ret = rz_pkt_chan_send(rc->c, pkts, n);
	update_counters(rc);
	if (ret > 0)
		return (uint16_t)ret;	/* fewer than @n: the next call says why for the rest */
	switch (ret) {
	case -ENOBUFS:
		/* Ring full or too much in flight: backpressure, nothing lost; or, with
		 * --drop-on-full, the burst is freed and counted at once (no wait). */
		rc->st->stage[C_FULL]++;
		if (!rc->drop_on_full)
			return 0;
		rc->st->stage[C_FULL_DROPS] += n;
		return drop(rc, pkts, n);
	case -EMSGSIZE:
	case -EINVAL:
		/* This one packet cannot go (larger than a slot, too many segments). */
		fprintf(stderr, "rzone-fwd: remote stage: a packet of %u bytes refused: %s\n",
				pkts[0]->pkt_len, strerror(-ret));
		return drop(rc, pkts, 1);
	case -EACCES:
	case -ENOTCONN:
		if (rc->reconnect) {
			uint64_t t0 = rte_get_timer_cycles(), t1;
			double ms = 1e3 / (double)rte_get_timer_hz();

			printf("rzone-fwd: remote stage: %s after %" PRIu64 " packets: "
					"connecting again\n", strerror(-ret),
					rc->st->stage[C_RDMA_TX]);
			detach(rc);
			t1 = rte_get_timer_cycles();
			ret = attach(rc);
			if (ret == 0) {
				rc->regrants++;
				printf("rzone-fwd: remote stage: new grant after %.1f ms (closing "
						"the old connection: %.1f ms)\n",
						(double)(rte_get_timer_cycles() - t0) * ms,
						(double)(t1 - t0) * ms);
				return 0;
			}
		}
		/* fall through */
	default:
		fprintf(stderr, "rzone-fwd: remote stage: rz_pkt_chan_send: %s\n",
				strerror(-ret));
		rc->st->out_status = ret;
		rc->dead = true;
		return drop(rc, pkts, n);
	}
}

static int
remote_flush(void *ctx)
{
	struct remote_ctx *rc = ctx;
	char buf[64];
	uint64_t rx;
	int ret;

	if (rc->dead)
		return rc->st->out_status;
	ret = rz_pkt_chan_flush(rc->c, -1);
	update_counters(rc);
	if (ret != 0) {
		fprintf(stderr, "rzone-fwd: remote stage: rz_pkt_chan_flush: %s\n", strerror(-ret));
		return ret;
	}
	/* Everything written has completed: the message comes after it on the same
	 * connection. The receiver answers with what it took. */
	ret = rz_peer_send_msg(rc->p, "end", 4);
	if (ret == 0) {
		ret = rz_peer_recv_msg(rc->p, buf, TMO_MS);
		ret = ret < 0 ? ret : (sscanf(buf, "rx %" SCNu64, &rx) == 1 ? 0 : -EPROTO);
	}
	if (ret != 0) {
		fprintf(stderr, "rzone-fwd: remote stage: no count from the receiver: %s\n",
				strerror(-ret));
		return ret;
	}
	rc->st->stage[C_REMOTE_RX] = rx;
	printf("rzone-fwd: remote   %" PRIu64 " packets written by RDMA in %" PRIu64
			" doorbells, %" PRIu64 " taken by the receiver, %u new grants\n",
			rc->st->stage[C_RDMA_TX], rc->doorbells, rx, rc->regrants);
	if (rx > rc->st->stage[C_RDMA_TX])
		return -EPROTO;
	if (rx < rc->st->stage[C_RDMA_TX]) {
		/* Accepted, never published: where a revoke cut the stream. */
		printf("rzone-fwd: remote   %" PRIu64 " packets lost where the grant was "
				"revoked\n", rc->st->stage[C_RDMA_TX] - rx);
		rc->st->out_drops += rc->st->stage[C_RDMA_TX] - rx;
	}
	return 0;
}

static void
remote_fini(void *ctx)
{
	struct remote_ctx *rc = ctx;

	detach(rc);
	rz_rdma_fini();
}

static const struct fwd_stage remote_stage = {
	.name = "remote",
	.help = "peer=IP:PORT[,reconnect=1]: RDMA packet channel to a rzone-fwd --remote-rx",
	.init = remote_init,
	.tx = remote_tx,
	.flush = remote_flush,
	.fini = remote_fini,
};

RTE_INIT(remote_stage_register)
{
	fwd_stage_register(&remote_stage);
}

/* ---- the receiving end ---- */

/* Receiver counters (fwd_stats.stage[]). */
enum { R_RX, R_COPIED, R_BAD, R_GRANTS };

/* Write @n packets on the port, waiting while it is busy. */
static void
port_put(uint16_t port, struct fwd_stats *st, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t done = 0;
	bool busy = false;

	while (done < n) {
		done += rte_eth_tx_burst(port, 0, pkts + done, n - done);
		if (done < n) {
			busy = true;
			rte_pause();
		}
	}
	st->out_busy += busy;
	st->out_pkts += n;
}

/* Packets from the ring: zero-copy (default) or copied into mbufs (--rx-copy). */
static int
chan_take(const struct fwd_opts *o, struct rz_pkt_chan *c, struct rte_mempool *mp,
		struct rte_mbuf **pkts)
{
	if (o->rx_copy)
		return rz_pkt_chan_recv(c, mp, pkts, (uint16_t)o->burst);
	return rz_pkt_chan_recv_zc(c, mp, pkts, (uint16_t)o->burst);
}

static int
grant(struct rz_region *r, struct rz_peer *p, size_t wlen, struct rz_rdma_desc *d)
{
	int ret = rz_rdma_grant(r, p, RZ_MODE_SHARE, 0, wlen, 0, d);

	if (ret != 0)
		fprintf(stderr, "rzone-fwd: remote-rx: rz_rdma_grant: %s\n", strerror(-ret));
	return ret;
}

int
fwd_remote_rx(const struct fwd_opts *o)
{
	uint32_t slot_size = RTE_ALIGN_CEIL(9216 + RZ_PKT_CHAN_SLOT_HDR, 64);
	size_t wlen = rz_pkt_chan_window_size(o->chan_slots, slot_size);
	struct rte_mbuf *pkts[FWD_MAX_BURST];
	struct rz_peer_listener *lst = NULL;
	const struct rte_memzone *mz;
	struct rz_pkt_chan_stats cs;
	struct rz_pkt_chan *c = NULL;
	struct rz_region *r = NULL;
	struct rte_mempool *mp;
	struct rz_peer *p = NULL;
	struct fwd_stats *st;
	struct rz_rdma_desc d;
	bool granted = false, revoked = false, ended = false, port_up = false;
	char ip[64], buf[64];
	uint16_t lport;
	uint64_t t0 = 0;
	int ret, result = 1;

	if (parse_peer(o->listen, ip, sizeof(ip), &lport) != 0) {
		fprintf(stderr, "rzone-fwd: --listen '%s': want IP:PORT\n", o->listen);
		return 2;
	}
	mz = rte_memzone_reserve(FWD_STATS, sizeof(*st), rte_socket_id(), 0);
	if (mz == NULL) {
		fprintf(stderr, "rzone-fwd: memzone %s: %s\n", FWD_STATS, rte_strerror(rte_errno));
		return 1;
	}
	st = mz->addr;
	memset(st, 0, sizeof(*st));
	snprintf(st->stage_name, sizeof(st->stage_name), "remote-rx");
	snprintf(st->stage_names[R_RX], sizeof(st->stage_names[0]), "remote_rx");
	snprintf(st->stage_names[R_COPIED], sizeof(st->stage_names[0]), "rx_bytes_copied");
	snprintf(st->stage_names[R_BAD], sizeof(st->stage_names[0]), "rx_bad");
	snprintf(st->stage_names[R_GRANTS], sizeof(st->stage_names[0]), "grants");
	mp = rz_pktmbuf_pool_create(FWD_POOL, o->nb_mbufs, 256, 0, (uint16_t)o->data_room,
			(int)rte_socket_id());
	if (mp == NULL) {
		fprintf(stderr, "rzone-fwd: remote-rx: rz_pktmbuf_pool_create: %s\n",
				rte_strerror(rte_errno));
		goto out_mz;
	}
	if (fwd_port_setup(o->tx_port, mp) != 0)
		goto out_pool;
	port_up = true;
	ret = rz_rdma_init(getenv("RZ_RDMA_DEV"));
	if (ret != 0) {
		fprintf(stderr, "rzone-fwd: remote-rx: rz_rdma_init: %s\n", strerror(-ret));
		goto out_pool;
	}
	r = rz_region_create(RZ_PID_SELF, RTE_ALIGN_CEIL(wlen, 2u << 20), RZ_PERM_RW);
	if (r == NULL || (rz_region_map(r, RZ_PID_SELF, NULL, RZ_PERM_RW) != 0 &&
			rz_region_get_mapping(r, RZ_PID_SELF) == NULL)) {
		fprintf(stderr, "rzone-fwd: remote-rx: region of %zu bytes: %s\n", wlen,
				rte_strerror(rte_errno));
		goto out_rdma;
	}
	c = rz_pkt_chan_consumer_create(r, 0, o->chan_slots, slot_size);
	if (c == NULL) {
		fprintf(stderr, "rzone-fwd: remote-rx: rz_pkt_chan_consumer_create: %s\n",
				rte_strerror(rte_errno));
		goto out_rdma;
	}
	lst = rz_peer_listen(ip, lport);
	if (lst == NULL) {
		fprintf(stderr, "rzone-fwd: remote-rx: listen on %s: %s\n", o->listen,
				rte_strerror(rte_errno));
		goto out_rdma;
	}
	printf("rzone-fwd: remote-rx: channel of %u slots of %u bytes in region %#" PRIx64
			"; listening on %s:%u; receive %s\n", o->chan_slots, slot_size,
			rz_region_id(r), ip, rz_peer_listener_port(lst),
			o->rx_copy ? "copied into mbufs (--rx-copy)" : "zero-copy");
	p = rz_peer_accept(lst, ACCEPT_MS);
	if (p == NULL) {
		fprintf(stderr, "rzone-fwd: remote-rx: no producer within %d s: %s\n",
				ACCEPT_MS / 1000, rte_strerror(rte_errno));
		goto out_rdma;
	}
	if (grant(r, p, wlen, &d) != 0)
		goto out_rdma;
	granted = true;
	st->stage[R_GRANTS] = 1;
	t0 = rte_get_timer_cycles();

	while (!ended) {
		int n = chan_take(o, c, mp, pkts);

		if (n < 0) {
			fprintf(stderr, "rzone-fwd: remote-rx: %s: %s\n", o->rx_copy ?
					"rz_pkt_chan_recv" : "rz_pkt_chan_recv_zc", strerror(-n));
			goto out_rdma;
		}
		if (n > 0) {
			st->rx_bursts++;
			st->rx_pkts += (uint64_t)n;
			st->stage[R_RX] = st->rx_pkts;
			port_put(o->tx_port, st, pkts, (uint16_t)n);
			if (o->revoke_after != 0 && !revoked && st->rx_pkts >= o->revoke_after) {
				struct rz_peer *p2;

				/* Cut the producer off mid-stream, then let it in again. */
				uint64_t tr = rte_get_timer_cycles();

				ret = rz_rdma_revoke(&d);
				printf("rzone-fwd: remote-rx: grant revoked after %" PRIu64
						" packets (%s)\n", st->rx_pkts, strerror(-ret));
				revoked = true;
				granted = false;
				p2 = rz_peer_accept(lst, ACCEPT_MS);
				if (p2 == NULL) {
					fprintf(stderr, "rzone-fwd: remote-rx: the producer did "
							"not come back: %s\n",
							rte_strerror(rte_errno));
					goto out_rdma;
				}
				rz_peer_close(p);
				p = p2;
				if (grant(r, p, wlen, &d) != 0)
					goto out_rdma;
				granted = true;
				st->stage[R_GRANTS]++;
				printf("rzone-fwd: remote-rx: granted anew %.1f ms after the "
						"revoke\n", (double)(rte_get_timer_cycles() - tr) *
						1e3 / (double)rte_get_timer_hz());
			}
			continue;
		}
		/* The ring is empty: has the producer ended? Its "end" comes after its last
		 * writes on the connection, so the ring is complete once it is here. */
		ret = rz_peer_recv_msg(p, buf, 0);
		if (ret > 0 && strncmp(buf, "end", 3) == 0) {
			while ((n = chan_take(o, c, mp, pkts)) > 0) {
				st->rx_pkts += (uint64_t)n;
				st->stage[R_RX] = st->rx_pkts;
				port_put(o->tx_port, st, pkts, (uint16_t)n);
			}
			ended = n == 0;
		} else if (ret != -ETIMEDOUT && ret != -ENOMSG) {
			fprintf(stderr, "rzone-fwd: remote-rx: the producer went away before its "
					"end (%s)\n", strerror(ret < 0 ? -ret : EPROTO));
			goto out_rdma;
		}
	}
	rz_pkt_chan_stats_get(c, &cs);
	st->stage[R_COPIED] = cs.rx_bytes_copied;
	st->stage[R_BAD] = cs.rx_bad + cs.rx_bad_tail;
	st->out_bytes = cs.rx_bytes;
	snprintf(buf, sizeof(buf), "rx %" PRIu64, st->rx_pkts);
	ret = rz_peer_send_msg(p, buf, strlen(buf) + 1);
	if (ret != 0)
		fprintf(stderr, "rzone-fwd: remote-rx: answer: %s\n", strerror(-ret));
	printf("rzone-fwd: remote-rx: %" PRIu64 " packets, %" PRIu64 " bytes in %.3f s\n",
			st->rx_pkts, cs.rx_bytes,
			(double)(rte_get_timer_cycles() - t0) / (double)rte_get_timer_hz());
	result = ret == 0 && st->stage[R_BAD] == 0 && st->out_pkts == st->rx_pkts ? 0 : 1;
	if (!o->rx_copy && (cs.rx_bytes_copied != 0 || cs.rx_held != 0)) {
		/* Zero-copy: nothing copied, and the port freed every mbuf (credits back). */
		fprintf(stderr, "rzone-fwd: remote-rx: zero-copy receive copied %" PRIu64
				" bytes, %" PRIu64 " slots still held\n", cs.rx_bytes_copied,
				cs.rx_held);
		result = 1;
	}
out_rdma:
	if (granted)
		rz_rdma_revoke(&d);
	if (p != NULL) {
		/* Let the producer read the answer before the connection goes. */
		if (result == 0)
			rz_peer_recv_msg(p, buf, 2000);
		rz_peer_close(p);
	}
	if (lst != NULL)
		rz_peer_listener_close(lst);
	if (c != NULL)
		rz_pkt_chan_close(c);
	if (r != NULL)
		rz_region_destroy(r);
	rz_rdma_fini();
out_pool:
	if (port_up) {
		/* Closing the pcap port writes out what it holds. */
		rte_eth_dev_stop(o->tx_port);
		rte_eth_dev_close(o->tx_port);
	}
	fwd_print_stats(st);
	ret = rz_pktmbuf_pool_free(mp);
	if (ret != 0)
		fprintf(stderr, "rzone-fwd: remote-rx: rz_pktmbuf_pool_free: %s\n",
				strerror(-ret));
out_mz:
	rte_memzone_free(mz);
	return result;
}
