/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * rzone-fwd: forward packets from a DPDK port through two processes, zero-copy.
 *
 *   primary:   rx port --rte_eth_rx_burst()--> rzone packet pool (include/rzone_pkt.h)
 *              --rte_ring of mbuf pointers-->
 *   secondary: output stage (stage "port": rte_eth_tx_burst() on the tx port; with RDMA,
 *              stage "remote": the packet channel to a rzone-fwd --remote-rx, which writes
 *              them on its own port; stage_remote.c)
 *
 * The primary creates the pool in a region of its own, starts the secondary (this program
 * with --proc-type=secondary and "-- --secondary"), maps the pool's region into it
 * (rz_pktmbuf_pool_share()) and receives until its input is idle (a pcap file read to its
 * end) or --count packets came. Backpressure instead of loss: a full ring, a pool running
 * short or a busy stage makes the stage before it wait (counted); --drop-on-full drops on a
 * full ring (and the remote stage on a full channel) instead. Counters of every stage are in
 * telemetry (/rzone/fwd/stats) and printed at exit. rzone-fwd --gen-pcap FILE N writes the
 * deterministic sample input.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>
#include <rte_pause.h>
#include <rte_ring.h>
#include <rte_telemetry.h>

#include <rzone.h>
#include <rzone_pkt.h>

#include "app_eal.h"
#include "fwd.h"

#define PROG "rzone-fwd"
/* How long the primary waits for the secondary it started to attach. */
#define ATTACH_MS 60000
/* ms the primary waits for the secondary's output stage to be set up (the remote stage's
 * connection and grant included: its own connect bound is shorter). */
#define READY_MS 120000

static volatile sig_atomic_t stop_requested;
static struct fwd_stats *stats;		/* the shared counters (memzone FWD_STATS) */

static void
on_signal(int sig)
{
	RTE_SET_USED(sig);
	stop_requested = 1;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
usage(const char *prog)
{
	printf("\nUsage: %s [EAL options] -- [options]\n"
		"       %s --gen-pcap FILE N\n"
		"Forward packets from a DPDK port (the primary) through an rzone packet pool\n"
		"and a ring to a secondary process, zero-copy, which sends them on with an\n"
		"output stage.\n"
		"  --rx-port N       port to receive from (default 0)\n"
		"  --tx-port N       port the \"port\" stage sends on (default 1)\n"
		"  --stage NAME[:ARGS]  output stage of the secondary (default port):\n", prog,
		prog);
	fwd_stage_list();
	printf("  --burst N         packets per burst (default 32, at most %d)\n"
		"  --ring-size N     slots of the ring (a power of two, default 2048)\n"
		"  --mbufs N         mbufs of the pool (default 16384)\n"
		"  --data-room N     data room of each mbuf (default %u; longer frames are\n"
		"                    chained)\n"
		"  --idle-ms N       end of input after N ms without a packet (default 1000)\n"
		"  --count N         stop after N packets (default: until the input is idle)\n"
		"  --rx-pps N        receive at most N packets/s (a paced input: a pcap file\n"
		"                    is otherwise read as fast as the pool takes it)\n"
		"  --drop-on-full    drop on a full ring, and in the remote stage on a full\n"
		"                    channel, instead of waiting (backpressure); counted\n"
		"  --secondary       be the secondary (what the primary starts)\n"
		"  --remote-rx       be the receiving end of the \"remote\" stage instead (a\n"
		"                    primary of its own, built with RDMA): lay a packet channel\n"
		"                    out in a region, grant its window to the rzone-fwd that\n"
		"                    connects, write what comes on --tx-port (default 0 here)\n"
		"  --listen IP:PORT  remote-rx: where to listen (IP of the RDMA device)\n"
		"  --chan-slots N    remote-rx: slots of the channel (power of two, default 1024;\n"
		"                    a slot is 9,280 bytes: one frame of up to 9,216 bytes)\n"
		"  --revoke-after N  remote-rx: revoke the grant after N packets, then accept the\n"
		"                    producer again and grant anew (a test of the cut)\n"
		"  --rx-copy         remote-rx: copy each packet into an mbuf of the pool\n"
		"                    (rz_pkt_chan_recv()) instead of the default zero-copy\n"
		"                    receive (rz_pkt_chan_recv_zc(): mbufs attached to the\n"
		"                    payload in the ring, credits back when they are freed)\n"
		"  --gen-pcap FILE N write a deterministic pcap of N Ethernet frames of 64 to\n"
		"                    9,000 bytes (1 in 16 a jumbo frame) and exit; no EAL\n"
		"Example: %s --no-pci --vdev net_pcap0,rx_pcap=in.pcap \\\n"
		"             --vdev net_pcap1,tx_pcap=out.pcap -l 0-1\n"
		"Remote (RDMA): %s --no-pci -l 1 --vdev net_pcap0,tx_pcap=out.pcap -- \\\n"
		"             --remote-rx --listen 10.0.2.15:7471 &\n"
		"        %s --no-pci -l 0-1 --vdev net_pcap0,rx_pcap=in.pcap -- \\\n"
		"             --stage remote:peer=10.0.2.15:7471\n"
		"Without --file-prefix the instance gets one of its own, %s-<pid>.\n"
		"Telemetry: /rzone/fwd/stats. Exit status: 0 if every packet received was sent on\n"
		"(no drops), 1 otherwise, 2 for bad usage.\n", FWD_MAX_BURST,
		(unsigned int)RTE_MBUF_DEFAULT_BUF_SIZE, prog, prog, prog, PROG);
}

/* Telemetry /rzone/fwd/stats: the counters of every stage (read-only). */
static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct fwd_stats *s = stats;
	unsigned int i;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	if (s == NULL) {
		const struct rte_memzone *mz = rte_memzone_lookup(FWD_STATS);

		if (mz == NULL)
			return -ENOENT;
		s = mz->addr;
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "rx_pkts", s->rx_pkts);
	rte_tel_data_add_dict_u64(d, "rx_bursts", s->rx_bursts);
	rte_tel_data_add_dict_u64(d, "rx_segs", s->rx_segs);
	rte_tel_data_add_dict_u64(d, "rx_pool_waits", s->rx_pool_waits);
	rte_tel_data_add_dict_u64(d, "rx_port_drops", s->rx_port_drops);
	rte_tel_data_add_dict_u64(d, "ring_enq", s->ring_enq);
	rte_tel_data_add_dict_u64(d, "ring_full", s->ring_full);
	rte_tel_data_add_dict_u64(d, "ring_drops", s->ring_drops);
	rte_tel_data_add_dict_u64(d, "ring_deq", s->ring_deq);
	rte_tel_data_add_dict_u64(d, "out_pkts", s->out_pkts);
	rte_tel_data_add_dict_u64(d, "out_bytes", s->out_bytes);
	rte_tel_data_add_dict_u64(d, "out_busy", s->out_busy);
	rte_tel_data_add_dict_u64(d, "out_drops", s->out_drops);
	rte_tel_data_add_dict_string(d, "stage", s->stage_name);
	for (i = 0; i < RTE_DIM(s->stage); i++)
		if (s->stage_names[i][0] != '\0')
			rte_tel_data_add_dict_u64(d, s->stage_names[i], s->stage[i]);
	return 0;
}

RTE_INIT(fwd_telemetry)
{
	rte_telemetry_register_cmd("/rzone/fwd/stats", tel_stats,
			"rzone-fwd counters of every stage (rx, ring, output stage). "
			"No parameters");
}

void
fwd_print_stats(const struct fwd_stats *s)
{
	uint64_t drops = s->ring_drops + s->out_drops + s->rx_port_drops;
	unsigned int i;

	printf("rzone-fwd: rx       %" PRIu64 " packets (%" PRIu64 " bursts, %" PRIu64
			" mbufs; %" PRIu64 " bursts waited for the pool), %" PRIu64
			" lost by the port\n", s->rx_pkts, s->rx_bursts, s->rx_segs,
			s->rx_pool_waits, s->rx_port_drops);
	printf("rzone-fwd: ring     %" PRIu64 " enqueued, %" PRIu64 " dequeued, %" PRIu64
			" full (backpressure), %" PRIu64 " dropped\n", s->ring_enq, s->ring_deq,
			s->ring_full, s->ring_drops);
	printf("rzone-fwd: tx (%s) %" PRIu64 " packets, %" PRIu64 " bytes, %" PRIu64
			" busy (backpressure), %" PRIu64 " dropped\n", s->stage_name, s->out_pkts,
			s->out_bytes, s->out_busy, s->out_drops);
	for (i = 0; i < RTE_DIM(s->stage); i++)
		if (s->stage_names[i][0] != '\0')
			printf("rzone-fwd: %-8s %" PRIu64 "\n", s->stage_names[i], s->stage[i]);
	printf("rzone-fwd: drops    %" PRIu64 "\n", drops);
}

static int
parse_uint(const char *s, uint64_t max, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno != 0 || end == s || *end != '\0' || *v > max ? -1 : 0;
}

enum {
	OPT_RX_PORT = 256, OPT_TX_PORT, OPT_STAGE, OPT_BURST, OPT_RING, OPT_MBUFS, OPT_ROOM,
	OPT_IDLE, OPT_COUNT, OPT_DROP, OPT_SECONDARY, OPT_HELP, OPT_REMOTE_RX, OPT_LISTEN,
	OPT_CHAN_SLOTS, OPT_REVOKE_AFTER, OPT_RX_COPY, OPT_RX_PPS,
};

static int
parse_opts(int argc, char **argv, struct fwd_opts *o)
{
	static const struct option lopts[] = {
		{ "rx-port", required_argument, NULL, OPT_RX_PORT },
		{ "tx-port", required_argument, NULL, OPT_TX_PORT },
		{ "stage", required_argument, NULL, OPT_STAGE },
		{ "burst", required_argument, NULL, OPT_BURST },
		{ "ring-size", required_argument, NULL, OPT_RING },
		{ "mbufs", required_argument, NULL, OPT_MBUFS },
		{ "data-room", required_argument, NULL, OPT_ROOM },
		{ "idle-ms", required_argument, NULL, OPT_IDLE },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "drop-on-full", no_argument, NULL, OPT_DROP },
		{ "secondary", no_argument, NULL, OPT_SECONDARY },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "remote-rx", no_argument, NULL, OPT_REMOTE_RX },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "chan-slots", required_argument, NULL, OPT_CHAN_SLOTS },
		{ "revoke-after", required_argument, NULL, OPT_REVOKE_AFTER },
		{ "rx-copy", no_argument, NULL, OPT_RX_COPY },
		{ "rx-pps", required_argument, NULL, OPT_RX_PPS },
		{ NULL, 0, NULL, 0 },
	};
	static char stage_name[32];
	uint64_t v;
	char *colon;
	int c;

	*o = (struct fwd_opts){
		.rx_port = 0, .tx_port = 1, .burst = 32, .ring_size = 2048, .nb_mbufs = 16384,
		.data_room = RTE_MBUF_DEFAULT_BUF_SIZE, .idle_ms = 1000, .stage = "port",
		.stage_args = "", .chan_slots = 1024,
	};
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case OPT_RX_PORT:
		case OPT_TX_PORT:
			if (parse_uint(optarg, RTE_MAX_ETHPORTS - 1, &v) < 0)
				goto bad;
			if (c == OPT_RX_PORT) {
				o->rx_port = (uint16_t)v;
			} else {
				o->tx_port = (uint16_t)v;
				o->tx_port_set = true;
			}
			break;
		case OPT_STAGE:
			/* optarg stays as it is: the secondary gets the same arguments. */
			colon = strchr(optarg, ':');
			snprintf(stage_name, sizeof(stage_name), "%.*s", colon == NULL ?
					(int)strlen(optarg) : (int)(colon - optarg), optarg);
			o->stage = stage_name;
			o->stage_args = colon == NULL ? "" : colon + 1;
			break;
		case OPT_BURST:
			if (parse_uint(optarg, FWD_MAX_BURST, &v) < 0 || v == 0)
				goto bad;
			o->burst = (unsigned int)v;
			break;
		case OPT_RING:
			if (parse_uint(optarg, 1u << 20, &v) < 0 || v < 2 || !rte_is_power_of_2(v))
				goto bad;
			o->ring_size = (unsigned int)v;
			break;
		case OPT_MBUFS:
			if (parse_uint(optarg, 1u << 22, &v) < 0 || v < 1024)
				goto bad;
			o->nb_mbufs = (unsigned int)v;
			break;
		case OPT_ROOM:
			if (parse_uint(optarg, UINT16_MAX, &v) < 0 ||
					v <= RTE_PKTMBUF_HEADROOM + 64)
				goto bad;
			o->data_room = (unsigned int)v;
			break;
		case OPT_IDLE:
			if (parse_uint(optarg, 3600000, &v) < 0 || v == 0)
				goto bad;
			o->idle_ms = (unsigned int)v;
			break;
		case OPT_COUNT:
			if (parse_uint(optarg, UINT64_MAX, &v) < 0)
				goto bad;
			o->count = v;
			break;
		case OPT_DROP:
			o->drop_on_full = true;
			break;
		case OPT_SECONDARY:
			o->secondary = true;
			break;
		case OPT_HELP:
			usage(PROG);
			return 1;
		case OPT_REMOTE_RX:
			o->remote_rx = true;
			break;
		case OPT_LISTEN:
			if (strchr(optarg, ':') == NULL)
				goto bad;
			o->listen = optarg;
			break;
		case OPT_CHAN_SLOTS:
			if (parse_uint(optarg, 65536, &v) < 0 || v < 2 || !rte_is_power_of_2(v))
				goto bad;
			o->chan_slots = (unsigned int)v;
			break;
		case OPT_REVOKE_AFTER:
			if (parse_uint(optarg, UINT64_MAX, &v) < 0 || v == 0)
				goto bad;
			o->revoke_after = v;
			break;
		case OPT_RX_COPY:
			o->rx_copy = true;
			break;
		case OPT_RX_PPS:
			if (parse_uint(optarg, 1000000000, &v) < 0 || v == 0)
				goto bad;
			o->rx_pps = v;
			break;
		default:
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (o->remote_rx && o->listen == NULL) {
		fprintf(stderr, PROG ": --remote-rx needs --listen IP:PORT\n");
		return -1;
	}
	if (o->remote_rx && !o->tx_port_set)
		o->tx_port = 0;
	if (fwd_stage_find(o->stage) == NULL) {
		fprintf(stderr, PROG ": no output stage '%s'; the stages:\n", o->stage);
		fwd_stage_list();
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, PROG ": bad value '%s' for an option (see --help)\n", optarg);
	return -1;
}

/* The primary configures both ports (a secondary may not): one rx and one tx queue each, rx
 * into the rzone pool. */
int
fwd_port_setup(uint16_t port, struct rte_mempool *mp)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	int ret;

	if (!rte_eth_dev_is_valid_port(port)) {
		fprintf(stderr, PROG ": no port %u (give one with --vdev, e.g. "
				"net_pcap0,rx_pcap=in.pcap)\n", port);
		return -ENODEV;
	}
	ret = rte_eth_dev_info_get(port, &info);
	if (ret != 0)
		return ret;
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
	ret = rte_eth_dev_configure(port, 1, 1, &conf);
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(port, 0, 1024, rte_eth_dev_socket_id(port), NULL, mp);
	if (ret == 0)
		ret = rte_eth_tx_queue_setup(port, 0, 1024, rte_eth_dev_socket_id(port), NULL);
	if (ret == 0)
		ret = rte_eth_dev_start(port);
	if (ret != 0)
		fprintf(stderr, PROG ": port %u: setup failed: %s\n", port, rte_strerror(-ret));
	return ret;
}

static pid_t
spawn_secondary(char **app_argv, int app_argc)
{
	char prefix_arg[300], lcore_arg[48];
	const char *dir = rte_eal_get_runtime_dir();
	const char *prefix = strrchr(dir, '/');
	unsigned int next = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
	unsigned int id = 0, cpu;
	char *argv[64];
	int i, n = 0;
	pid_t pid;

	/* The secondary's lcore id must be one the primary does not have: a mempool's
	 * per-lcore caches are shared by every process, indexed by lcore id. It runs on the
	 * CPU of the primary's second lcore if there is one (-l 0-1), else on the main's (no
	 * wrap: with one lcore, a wrapping rte_get_next_lcore() never returns). */
	while (id < RTE_MAX_LCORE - 1 && rte_lcore_is_enabled(id))
		id++;
	cpu = rte_lcore_to_cpu_id((int)(next < RTE_MAX_LCORE ? next : rte_get_main_lcore()));
	snprintf(prefix_arg, sizeof(prefix_arg), "--file-prefix=%s",
			prefix != NULL ? prefix + 1 : dir);
	snprintf(lcore_arg, sizeof(lcore_arg), "--lcores=%u@%u", id, cpu);
	argv[n++] = (char *)(uintptr_t)PROG;
	argv[n++] = (char *)(uintptr_t)"--proc-type=secondary";
	argv[n++] = prefix_arg;
	argv[n++] = (char *)(uintptr_t)"--no-pci";
	argv[n++] = lcore_arg;
	argv[n++] = (char *)(uintptr_t)"--log-level=lib.rzone:notice";
	argv[n++] = (char *)(uintptr_t)"--";
	for (i = 1; i < app_argc && n < 60; i++)
		argv[n++] = app_argv[i];
	argv[n++] = (char *)(uintptr_t)"--secondary";
	argv[n] = NULL;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		/* Nothing of the primary's EAL goes with it (hugepage files and their locks). */
		close_range(3, ~0u, 0);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	return pid;
}

/* Wait for @pid to exit, at most @ms; its wait status, or -1. */
static int
reap(pid_t pid, unsigned int ms)
{
	uint64_t t0 = now_ms();
	int status;

	do {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			return status;
		if (w < 0 && errno != EINTR)
			return -1;
		usleep(1000);
	} while (now_ms() - t0 < ms);
	return -1;
}

/* Enqueue all of @pkts (waiting while the ring is full: backpressure) or, with
 * --drop-on-full, what fits (the rest freed and counted). */
static void
ring_put(struct rte_ring *ring, struct rte_mbuf **pkts, unsigned int n, const struct fwd_opts *o)
{
	unsigned int done = 0;
	bool full = false;

	while (done < n) {
		done += rte_ring_enqueue_burst(ring, (void **)pkts + done, n - done, NULL);
		if (done == n)
			break;
		full = true;
		if (o->drop_on_full) {
			stats->ring_drops += n - done;
			rte_pktmbuf_free_bulk(pkts + done, n - done);
			n = done;
			break;
		}
		rte_pause();
	}
	stats->ring_full += full;
	stats->ring_enq += n;
}

static int
run_primary(const struct fwd_opts *o, char **app_argv, int app_argc)
{
	const struct rte_memzone *mz;
	struct rte_mbuf *pkts[FWD_MAX_BURST];
	struct rte_eth_stats est;
	struct rte_mempool *mp;
	struct rte_ring *ring;
	unsigned int max_segs = (9216 + o->data_room - RTE_PKTMBUF_HEADROOM - 1) /
		(o->data_room - RTE_PKTMBUF_HEADROOM);
	uint64_t last_rx, pace_t0 = 0;
	pid_t child = -1;
	int ret, status = 0, result = 1;

	mz = rte_memzone_reserve(FWD_STATS, sizeof(struct fwd_stats), rte_socket_id(), 0);
	if (mz == NULL) {
		fprintf(stderr, PROG ": memzone %s: %s\n", FWD_STATS, rte_strerror(rte_errno));
		return 1;
	}
	stats = mz->addr;
	memset(stats, 0, sizeof(*stats));
	snprintf(stats->stage_name, sizeof(stats->stage_name), "%s", o->stage);
	mp = rz_pktmbuf_pool_create(FWD_POOL, o->nb_mbufs, 256, 0, (uint16_t)o->data_room,
			(int)rte_socket_id());
	if (mp == NULL) {
		fprintf(stderr, PROG ": rz_pktmbuf_pool_create(%u mbufs of %u bytes): %s\n",
				o->nb_mbufs, o->data_room, rte_strerror(rte_errno));
		goto out_mz;
	}
	ring = rte_ring_create(FWD_RING, o->ring_size, (int)rte_socket_id(),
			RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (ring == NULL) {
		fprintf(stderr, PROG ": rte_ring_create: %s\n", rte_strerror(rte_errno));
		goto out_pool;
	}
	if (fwd_port_setup(o->rx_port, mp) != 0)
		goto out_ring;
	if (o->tx_port != o->rx_port && strcmp(o->stage, "port") == 0 &&
			fwd_port_setup(o->tx_port, mp) != 0)
		goto out_ports;
	printf("rzone-fwd: pool %s: %u mbufs of %u bytes in region %#" PRIx64 " (%zu bytes, "
			"node %d); ring %s: %u slots\n", FWD_POOL, o->nb_mbufs, o->data_room,
			rz_region_id(rz_pktmbuf_pool_region(mp)),
			rz_region_size(rz_pktmbuf_pool_region(mp)),
			rz_region_numa_node(rz_pktmbuf_pool_region(mp)), FWD_RING, o->ring_size);

	{
		uint64_t t0 = now_ms();
		pid_t exited = 0;

		child = spawn_secondary(app_argv, app_argc);
		if (child < 0) {
			fprintf(stderr, PROG ": fork: %s\n", strerror(errno));
			goto out_ports;
		}
		/* A secondary's EAL start takes a while on a slow or busy host (seen: more
		 * than 10 s under TCG at load 8): wait up to ATTACH_MS for it. */
		while (rz_process_attached(child) != 1 && now_ms() - t0 < ATTACH_MS &&
				(exited = waitpid(child, &status, WNOHANG)) == 0)
			usleep(1000);
		ret = rz_pktmbuf_pool_share(mp, child);
		if (ret != 0) {
			if (exited == child)
				fprintf(stderr, PROG ": the secondary (pid %d) exited (%s %d) "
						"before it attached\n", (int)child,
						WIFEXITED(status) ? "status" : "signal",
						WIFEXITED(status) ? WEXITSTATUS(status) :
						WTERMSIG(status));
			else
				fprintf(stderr, PROG ": the secondary (pid %d) did not attach "
						"within %d s: %s\n", (int)child, ATTACH_MS / 1000,
						strerror(-ret));
			kill(child, SIGKILL);
			reap(child, 5000);
			goto out_ports;
		}
		printf("rzone-fwd: secondary pid %d started; pool shared with it\n",
				(int)child);
	}
	{
		/* The output stage sets itself up (the remote stage connects and takes its
		 * grant) before the first packet is read, as a DPDK application starts its rx
		 * once every port is up: nothing waits on the ring meanwhile, nothing is dropped
		 * there (--drop-on-full) because the output is not there yet. */
		uint64_t t0 = now_ms();
		pid_t exited = 0;

		while (!__atomic_load_n(&stats->out_ready, __ATOMIC_ACQUIRE) &&
				stats->out_status == 0 && !stop_requested &&
				now_ms() - t0 < READY_MS &&
				(exited = waitpid(child, &status, WNOHANG)) == 0)
			usleep(1000);
		if (!__atomic_load_n(&stats->out_ready, __ATOMIC_ACQUIRE)) {
			if (exited == child)
				fprintf(stderr, PROG ": the secondary exited before its output "
						"stage was up\n");
			else if (stats->out_status != 0)
				fprintf(stderr, PROG ": the output stage '%s' did not start: %s\n",
						o->stage, strerror(-stats->out_status));
			else
				fprintf(stderr, PROG ": the output stage '%s' was not up within "
						"%d s%s\n", o->stage, READY_MS / 1000,
						stop_requested ? " (stopped by a signal)" : "");
			if (exited != child) {
				if (stats->out_status == 0)
					kill(child, SIGTERM);
				if (reap(child, 10000) < 0) {
					kill(child, SIGKILL);
					reap(child, 5000);
				}
			}
			goto out_ports;
		}
		printf("rzone-fwd: output stage '%s' up %" PRIu64 " ms after the secondary "
				"attached\n", o->stage, now_ms() - t0);
	}

	/* rx stage. */
	last_rx = now_ms();
	while (!stop_requested && (o->count == 0 || stats->rx_pkts < o->count)) {
		unsigned int want = o->burst, i;
		uint16_t n;

		if (o->count != 0 && o->count - stats->rx_pkts < want)
			want = (unsigned int)(o->count - stats->rx_pkts);
		if (o->rx_pps != 0) {
			/* Paced: no more than the rate allows since the first packet. */
			uint64_t t = now_ms(), allowed;

			if (stats->rx_pkts == 0)
				pace_t0 = t;
			allowed = 1 + (t - pace_t0) * o->rx_pps / 1000;
			if (allowed <= stats->rx_pkts) {
				rte_pause();
				continue;
			}
			if (allowed - stats->rx_pkts < want)
				want = (unsigned int)(allowed - stats->rx_pkts);
		}
		/* A PMD that finds the pool empty loses the packet it read: wait instead. */
		if (rte_mempool_avail_count(mp) < want * max_segs + 2 * 256) {
			stats->rx_pool_waits++;
			while (rte_mempool_avail_count(mp) < want * max_segs + 2 * 256 &&
					!stop_requested && stats->out_status == 0)
				rte_pause();
			if (stats->out_status != 0)
				break;
		}
		n = rte_eth_rx_burst(o->rx_port, 0, pkts, (uint16_t)want);
		if (n == 0) {
			if (now_ms() - last_rx >= o->idle_ms)
				break;
			continue;
		}
		last_rx = now_ms();
		stats->rx_bursts++;
		stats->rx_pkts += n;
		for (i = 0; i < n; i++)
			stats->rx_segs += pkts[i]->nb_segs;
		ring_put(ring, pkts, n, o);
	}
	__atomic_store_n(&stats->rx_done, 1, __ATOMIC_RELEASE);

	status = reap(child, 60000);
	if (status < 0) {
		fprintf(stderr, PROG ": the secondary did not finish within 60 s\n");
		kill(child, SIGKILL);
		reap(child, 5000);
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, PROG ": the secondary failed (wait status %#x)\n", status);
	}
	if (rte_eth_stats_get(o->rx_port, &est) == 0)
		stats->rx_port_drops = est.imissed + est.ierrors + est.rx_nombuf;
	fwd_print_stats(stats);
	result = (stats->out_done && stats->out_status == 0 && status >= 0 &&
			WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
			stats->ring_drops + stats->out_drops + stats->rx_port_drops == 0 &&
			stats->out_pkts == stats->rx_pkts) ? 0 : 1;
out_ports:
	rte_eth_dev_stop(o->rx_port);
	rte_eth_dev_close(o->rx_port);
	if (o->tx_port != o->rx_port && rte_eth_dev_is_valid_port(o->tx_port)) {
		rte_eth_dev_stop(o->tx_port);
		rte_eth_dev_close(o->tx_port);
	}
out_ring:
	rte_ring_free(ring);
out_pool:
	ret = rz_pktmbuf_pool_free(mp);
	if (ret != 0)
		fprintf(stderr, PROG ": rz_pktmbuf_pool_free: %s\n", strerror(-ret));
out_mz:
	stats = NULL;
	rte_memzone_free(mz);
	return result;
}

static int
run_secondary(const struct fwd_opts *o)
{
	const struct fwd_stage *stage = fwd_stage_find(o->stage);
	const struct rte_memzone *mz = rte_memzone_lookup(FWD_STATS);
	struct rte_ring *ring = rte_ring_lookup(FWD_RING);
	struct rte_mbuf *pkts[FWD_MAX_BURST];
	struct rte_mempool *mp = NULL;
	uint64_t t0 = now_ms();
	void *ctx = NULL;
	int ret;

	if (mz == NULL || ring == NULL) {
		fprintf(stderr, PROG ": secondary: no %s from the primary\n",
				mz == NULL ? FWD_STATS : FWD_RING);
		return 1;
	}
	stats = mz->addr;
	/* The primary maps the pool's region into this process once it sees it attached. */
	mp = rte_mempool_lookup(FWD_POOL);
	while (mp != NULL && rz_region_get_mapping_perms(rz_pktmbuf_pool_region(mp),
			RZ_PID_SELF) <= 0 && now_ms() - t0 < ATTACH_MS)
		usleep(1000);
	mp = rz_pktmbuf_pool_attach(FWD_POOL);
	if (mp == NULL) {
		fprintf(stderr, PROG ": secondary: rz_pktmbuf_pool_attach(%s): %s\n", FWD_POOL,
				rte_strerror(rte_errno));
		stats->out_status = -rte_errno;
		return 1;
	}
	ret = stage->init(o, stats, &ctx);
	if (ret < 0) {
		stats->out_status = ret;
		goto out;
	}
	__atomic_store_n(&stats->out_ready, 1, __ATOMIC_RELEASE);
	for (;;) {
		unsigned int n = rte_ring_dequeue_burst(ring, (void **)pkts, o->burst, NULL);
		unsigned int done = 0, i;
		uint64_t drops0 = stats->out_drops;
		bool busy = false;

		if (n == 0) {
			if (__atomic_load_n(&stats->rx_done, __ATOMIC_ACQUIRE) &&
					rte_ring_empty(ring))
				break;
			rte_pause();
			continue;
		}
		stats->ring_deq += n;
		for (i = 0; i < n; i++)
			stats->out_bytes += pkts[i]->pkt_len;
		while (done < n) {
			done += stage->tx(ctx, pkts + done, (uint16_t)(n - done));
			if (done < n) {
				busy = true;
				rte_pause();
			}
		}
		stats->out_busy += busy;
		/* What the stage took and dropped (--drop-on-full, a fatal error) is not out. */
		stats->out_pkts += n - (stats->out_drops - drops0);
	}
	ret = stage->flush(ctx);
	if (ret < 0)
		stats->out_status = ret;
	stage->fini(ctx);
out:
	ret = rz_pktmbuf_pool_detach(mp);
	if (ret < 0)
		fprintf(stderr, PROG ": secondary: rz_pktmbuf_pool_detach: %s\n", strerror(-ret));
	__atomic_store_n(&stats->out_done, 1, __ATOMIC_RELEASE);
	return stats->out_status == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct fwd_opts o;
	int n, ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && strcmp(argv[1], "--gen-pcap") == 0) {
		uint64_t count;

		if (argc != 4 || parse_uint(argv[3], UINT64_MAX, &count) < 0) {
			fprintf(stderr, "usage: " PROG " --gen-pcap FILE N\n");
			return 2;
		}
		ret = fwd_gen_pcap(argv[2], count);
		if (ret < 0) {
			fprintf(stderr, PROG ": %s: %s\n", argv[2], strerror(-ret));
			return 1;
		}
		printf("rzone-fwd: wrote %" PRIu64 " packets to %s\n", count, argv[2]);
		return 0;
	}
	argv = app_eal_args(&argc, argv, PROG, usage);
	if (argv == NULL)
		return 2;
	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, PROG ": rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= n;
	argv += n;
	ret = parse_opts(argc, argv, &o);
	if (ret != 0) {
		app_eal_cleanup();
		return ret > 0 ? 0 : 2;
	}
	if ((rte_eal_process_type() == RTE_PROC_PRIMARY) == o.secondary) {
		fprintf(stderr, PROG ": --secondary goes with --proc-type=secondary, and only\n");
		app_eal_cleanup();
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	ret = rz_init();
	if (ret != 0) {
		fprintf(stderr, PROG ": rz_init: %s\n", strerror(-ret));
		app_eal_cleanup();
		return 1;
	}
	if (o.remote_rx) {
		if (o.secondary) {
			fprintf(stderr, PROG ": --remote-rx is a primary of its own\n");
			ret = 2;
		} else {
#ifdef RZ_FWD_RDMA
			ret = fwd_remote_rx(&o);
#else
			fprintf(stderr, PROG ": --remote-rx: rzone was built without RDMA\n");
			ret = 2;
#endif
		}
	} else {
		ret = o.secondary ? run_secondary(&o) : run_primary(&o, argv, argc);
	}
	rz_fini();
	app_eal_cleanup();
	return ret;
}
