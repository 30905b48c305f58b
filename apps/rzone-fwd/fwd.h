/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_FWD_H
#define RZ_FWD_H

/*
 * rzone-fwd: a primary receives from a DPDK port into an rzone packet pool and hands bursts
 * through an rte_ring to a secondary, whose output stage sends them on (a DPDK port here; the
 * remote RDMA channel plugs in as another stage).
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#define FWD_POOL	"rzfwd_pool"
#define FWD_RING	"rzfwd_ring"
#define FWD_STATS	"rzfwd_stats"
#define FWD_MAX_BURST	256

/* Counters of every stage, in a memzone both processes write (each its own fields). */
struct fwd_stats {
	/* primary: rx stage */
	uint64_t rx_pkts;
	uint64_t rx_bursts;
	uint64_t rx_segs;		/* mbufs of received packets (chains count each) */
	uint64_t rx_pool_waits;		/* bursts held back: the pool was short (backpressure) */
	uint64_t rx_port_drops;		/* the rx port's own losses (imissed, ierrors, nombuf) */
	/* primary -> secondary: local ring */
	uint64_t ring_enq;
	uint64_t ring_full;		/* bursts the ring did not take whole (backpressure) */
	uint64_t ring_drops;		/* packets dropped on a full ring (--drop-on-full only) */
	uint64_t ring_deq;
	/* secondary: output stage */
	uint64_t out_pkts;
	uint64_t out_bytes;
	uint64_t out_busy;		/* bursts the stage did not take whole (backpressure) */
	uint64_t out_drops;		/* packets the stage failed for good */
	/* the stage's own counters (remote: RDMA writes, remote rx, ...), named by the stage */
	uint64_t stage[6];
	char stage_names[6][16];
	char stage_name[16];
	/* state */
	volatile uint32_t rx_done;	/* primary: no more packets will come */
	volatile uint32_t out_done;	/* secondary: everything dequeued was handed on */
	volatile int32_t out_status;	/* secondary's result, 0 = fine */
	volatile uint32_t out_ready;	/* secondary: its output stage is set up (rx may start) */
};

/* What the application options say (both processes parse the same). */
struct fwd_opts {
	uint16_t rx_port;
	uint16_t tx_port;
	unsigned int burst;
	unsigned int ring_size;
	unsigned int nb_mbufs;
	unsigned int data_room;
	unsigned int idle_ms;		/* rx: end of input after this long without a packet */
	uint64_t count;			/* rx: stop after this many packets (0: until idle) */
	uint64_t rx_pps;		/* rx: receive at most this many packets/s (0: no limit) */
	bool drop_on_full;
	bool secondary;
	const char *stage;		/* output stage name */
	const char *stage_args;		/* its arguments ("key=value,...") */
	/* --remote-rx: the receiving end of the "remote" stage (stage_remote.c) */
	bool remote_rx;
	bool tx_port_set;		/* --tx-port given (remote-rx: default 0, else 1) */
	const char *listen;		/* IP:PORT it listens on */
	unsigned int chan_slots;	/* slots of the channel's ring (a power of two) */
	uint64_t revoke_after;		/* revoke the grant after this many packets, grant anew */
	bool rx_copy;			/* remote-rx: copy into mbufs (rz_pkt_chan_recv()) */
};

/*
 * An output stage of the secondary: where the packets it takes from the ring go. The stage
 * owns each mbuf tx() accepted (it frees it to its pool when done, in whatever process); the
 * ones it did not accept stay the caller's, who offers them again (backpressure) or counts
 * them dropped.
 *
 * The remote stage (stage_remote.c: the packet channel of include/rzone_pkt_remote.h) is:
 * init = rz_rdma_init() + rz_pktmbuf_pool_rdma_register() of the pool + rz_peer_connect() to
 * the remote rzone-fwd --remote-rx (stage_args: "peer=IP:PORT[,reconnect=1]") +
 * rz_pkt_chan_producer_attach() with the window the consumer grants; tx = rz_pkt_chan_send()
 * (a count, or -ENOBUFS: took 0, the caller waits, counted as out_busy; with --drop-on-full
 * the stage frees and counts them instead (full_drops, in out_drops too) and never waits;
 * -EACCES/-ENOTCONN: connect again with reconnect=1, else fatal, out_status); flush =
 * rz_pkt_chan_flush() then an "end" message answered by the receiver's count; fini =
 * rz_pkt_chan_close(); its counters (RDMA writes, credits read, channel full, remote rx,
 * dropped on a full channel) go to st->stage[] under names of its own in st->stage_names[].
 * It registers with fwd_stage_register() from a constructor, like stage_port.c.
 */
struct fwd_stage {
	const char *name;
	const char *help;	/* one line for --help */
	/* Set up in the secondary; 0 or -errno. */
	int (*init)(const struct fwd_opts *o, struct fwd_stats *st, void **ctx);
	/* Take up to @n packets; returns how many it took. */
	uint16_t (*tx)(void *ctx, struct rte_mbuf **pkts, uint16_t n);
	/* Everything taken is out (the last completions polled); 0 or -errno. */
	int (*flush)(void *ctx);
	void (*fini)(void *ctx);
};

/* The stages: "port" (stage_port.c) and those registered with fwd_stage_register(). */
void fwd_stage_register(const struct fwd_stage *s);
const struct fwd_stage *fwd_stage_find(const char *name);
void fwd_stage_list(void);

/* main.c: configure and start @port (one rx and one tx queue, rx into @mp); 0 or -errno. */
int fwd_port_setup(uint16_t port, struct rte_mempool *mp);
/* main.c: print the counters (the lines the tests read). */
void fwd_print_stats(const struct fwd_stats *s);

/* stage_remote.c (built with RDMA): run the receiving end (--remote-rx); the exit status. */
int fwd_remote_rx(const struct fwd_opts *o);

/* pcap_gen.c: write the deterministic sample (classic pcap, Ethernet) of @n packets. */
int fwd_gen_pcap(const char *path, uint64_t n);
/* The length of sample packet @k (64..9000 bytes). */
uint32_t fwd_sample_len(uint64_t k);

#endif /* RZ_FWD_H */
