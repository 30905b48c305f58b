/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * rz-bench-rdma: rzone's RDMA paths measured on a real verbs device, in the shape of perftest's
 * tests so that perf/rdma/driver.sh can print them next to perftest's own figures from the same
 * run (same device, sizes, queue depth, iterations).
 *
 *   rz-bench-rdma bw OP DEPTH SIZE:ITERS...   async rz_remote_post/poll bandwidth (OP write|read),
 *                                             interleaved with raw verbs
 *   rz-bench-rdma lat OP SIZE:ITERS...        sync rz_remote_write/read, time to completion,
 *                                             interleaved with raw verbs
 *   rz-bench-rdma pp SIZE:ITERS...            write ping-pong through two windows (both sides
 *                                             use sync rz_remote_write), half round trip
 *   rz-bench-rdma grant ITERS SIZE...         grant + revoke (window alone, and with the
 *                                             descriptor) vs ibv_reg_mr + ibv_dereg_mr of the
 *                                             same region (alone, and with its rkey sent)
 *   rz-bench-rdma mwfloor ITERS SIZE...       the same window steps in plain verbs
 *   rz-bench-rdma reg ARENAS WARM_ITERS       arena registration: ibv_reg_mr vs rz_rdma_register
 *                                             cold and warm
 *   rz-bench-rdma cg ITERS DEPTH SIZE        rzone and raw-verbs WRITE loops for callgrind
 *                                             (instructions per operation)
 *   rz-bench-rdma mc NCH SIZE ITERS BATCH GRANTS  1, 2, 4 lcores to one peer (a channel each,
 *                                             bursts of one doorbell) vs as many raw QPs;
 *                                             grant + revoke idle vs 2 lcores busy
 *
 * The process running the mode is the owner: a DPDK primary (own --file-prefix) that owns the
 * regions and grants them. The initiator of the transfers is a peer: this binary again, started
 * with "--peer MODE IP PORT ARGS..." (a plain verbs process without EAL, except in pp where it
 * owns a region too). Results are printed as one "key value" line per measurement, starting
 * with the mode's tag (rzbw, rzlat, rzpp, rzgrant, rzmw, rzreg; rawbw, rawlat, rawqp), for the
 * driver to parse.
 *
 * Raw-verbs baseline of bw and lat, in the same process: perftest runs minutes apart in other
 * processes, and on a TCG guest the host drifts by tens of percent in that time. So the peer
 * also opens a raw RC QP of its own on the same device, connected to itself over the RoCE v2
 * IPv4 GID (rzone's connection goes to the host's own address too: both take the device's
 * loopback), shaped like rzone's QP (send queue, inline size, READs in flight, path MTU; the
 * "rawqp" line says what it got), with a 2 MiB target MR (a hugepage when one is free) in place
 * of the owner's region. What remains different: rzone's responder is the owner's QP and
 * region (another process) reached through a memory window, where the raw QP answers itself
 * through its MR's rkey; and rzone's own code on each call. lat alternates one raw and one rzone
 * sample per iteration (which goes first alternates too) and prints a rawlat line next to each
 * rzlat line; bw runs, per size, RZB_BW_INTERLEAVE (3) pairs of a raw and an rzone run,
 * alternating which goes first, and prints each run (rawbw and rzbw lines, with its pair
 * number and which side went first).
 *
 * Across two hosts (perf/rdma/wire.sh): with RZB_REMOTE_PEER=1 the owner of bw and pp starts
 * no peer: it listens on RZB_IP:RZB_PORT, prints "rzlisten IP PORT", and the peer is started
 * on the other host by hand ("--peer MODE OWNER_IP PORT ARGS..."); the peer of bw then tells
 * the owner with a message ("done") that it has finished. RZB_NO_RAW=1 (bw): no raw-verbs
 * loopback runs (they stay on one host; across the wire perftest is the baseline).
 *
 * Environment: RZ_RDMA_DEV (device, e.g. rxe0), RZB_IP (default 10.0.2.15), RZB_OWNER_LCORE and
 * RZB_PEER_LCORE (EAL --lcores of the owner, and of the peer in pp; default "0@(0,1)": the
 * thread floats over CPUs 0 and 1 as perftest's unpinned processes do), RZB_GID_INDEX (the
 * loopback QPs of mwfloor, bw and lat; default 1), RZB_BW_INTERLEAVE (pairs per size in bw,
 * default 3), RZB_BW_SIGNAL (bw: one operation in N signaled, both sides; default 1), RZB_PREP
 * (bw, mc: 1 = rzone posts through a prepared operation, rz_remote_post_prep(); mc's raw side
 * then posts one WR per ibv_post_send() as well; the lines say "post prep").
 *
 * Data path of the measured loops: no allocation, no lock, no copy of our own; the operation
 * structures are built before the clock starts, samples go to preallocated arrays.
 */

#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <infiniband/verbs.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_random.h>

#include "rzone.h"
#include "rzone_rdma.h"
/* Diagnostics only: the layout of struct rz_peer, to post raw verbs on rzone's own QP (lat). */
#include "rdma_private.h"

#define TMO_MS		120000		/* control steps; TCG is slow */
#define MAX_SIZES	32
#define MAX_ITERS	100000
#define MAX_DEPTH	255
#define PEER_BUF	(2u << 20)
#define REGION_SZ	(2u << 20)
#define MB2		(2u << 20)
#define BASE_ACCESS	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ | \
		IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_ATOMIC)

extern char **environ;

static char self_exe[4096];
static double tsc_per_us;

struct size_iters {
	size_t size;
	uint32_t iters;
};

/* Preallocated: the measured loops never allocate. */
static uint64_t samples[MAX_ITERS];
static uint64_t samples2[MAX_ITERS];
static uint64_t samples3[MAX_ITERS];
static uint64_t samples4[MAX_ITERS];
static struct rz_remote_cqe cqes[MAX_DEPTH];

/* ---------------------------------------------------------------------------------------- */
/* Helpers (control path). */

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* TSC ticks per microsecond, against CLOCK_MONOTONIC over 200 ms. */
static void
tsc_calibrate(void)
{
	struct timespec d = { .tv_sec = 0, .tv_nsec = 200000000 };
	uint64_t t0, c0, t1, c1;

	t0 = mono_ns();
	c0 = rte_rdtsc_precise();
	nanosleep(&d, NULL);
	t1 = mono_ns();
	c1 = rte_rdtsc_precise();
	tsc_per_us = (double)(c1 - c0) * 1000.0 / (double)(t1 - t0);
}

static double
cpuinfo_mhz(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];
	double mhz = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "cpu MHz : %lf", &mhz) == 1)
			break;
	fclose(f);
	return mhz;
}

static double
us(uint64_t ticks)
{
	return (double)ticks / tsc_per_us;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct stats {
	double min, p50, p99, p999, max, mean;
};

/* Nearest-rank order statistics, in microseconds; sorts @v. */
static void
stats_of(uint64_t *v, uint32_t n, struct stats *s)
{
	double sum = 0;
	uint32_t i;

	qsort(v, n, sizeof(*v), cmp_u64);
	for (i = 0; i < n; i++)
		sum += (double)v[i];
	s->min = us(v[0]);
	s->max = us(v[n - 1]);
	s->p50 = us(v[(uint32_t)ceil(0.50 * n) - 1]);
	s->p99 = us(v[(uint32_t)ceil(0.99 * n) - 1]);
	s->p999 = us(v[(uint32_t)ceil(0.999 * n) - 1]);
	s->mean = sum / n / tsc_per_us;
}

static int
parse_sizes(int argc, char **argv, struct size_iters *si)
{
	int i, n = 0;

	for (i = 0; i < argc && n < MAX_SIZES; i++) {
		unsigned long long s;
		unsigned int it;

		if (sscanf(argv[i], "%llu:%u", &s, &it) != 2 || s == 0 || it == 0 ||
				it > MAX_ITERS) {
			fprintf(stderr, "bad SIZE:ITERS '%s' (iterations 1..%u)\n", argv[i],
					MAX_ITERS);
			return -1;
		}
		si[n].size = (size_t)s;
		si[n].iters = it;
		n++;
	}
	return n;
}

static bool
env_on(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && strcmp(v, "1") == 0;
}

static const char *
bench_ip(void)
{
	const char *ip = getenv("RZB_IP");

	return ip != NULL ? ip : "10.0.2.15";
}

/* EAL for a process of its own instance (file prefix @tag-pid), EAL --lcores @lcore. */
static int
eal_up(const char *argv0, const char *tag, const char *lcore)
{
	char prefix[64], lc[32];
	char *eal[] = { (char *)(uintptr_t)argv0, (char *)(uintptr_t)"--no-pci",
		(char *)(uintptr_t)"--lcores", lc, (char *)(uintptr_t)"--log-level=lib.eal:notice",
		(char *)(uintptr_t)"--log-level=lib.rzone:notice", prefix, NULL };

	snprintf(prefix, sizeof(prefix), "--file-prefix=%s-%d", tag, (int)getpid());
	snprintf(lc, sizeof(lc), "%s", lcore);
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	if (rz_init() != 0) {
		fprintf(stderr, "rz_init failed\n");
		return -1;
	}
	return 0;
}

static void
eal_down(void)
{
	rz_fini();
	rte_eal_cleanup();
}

static struct rz_region *
new_region(size_t size)
{
	struct rz_region *r = rz_region_create(RZ_PID_SELF, size, RZ_PERM_RW);
	int ret;

	if (r == NULL) {
		fprintf(stderr, "rz_region_create(%zu): %s\n", size, rte_strerror(rte_errno));
		return NULL;
	}
	ret = rz_region_map(r, RZ_PID_SELF, NULL, RZ_PERM_RW);
	if (ret != 0 && ret != -EEXIST) {
		fprintf(stderr, "rz_region_map: %s\n", strerror(-ret));
		return NULL;
	}
	memset(rz_region_addr(r), 0, size);
	return r;
}

static pid_t
spawn_peer(char **args, int nargs, uint16_t port)
{
	char *argv[MAX_SIZES + 16];
	char portstr[16], ipstr[64];
	pid_t pid;
	int i, n = 0;

	const char *cg_out = getenv("RZB_PEER_CALLGRIND");
	char cg_opt[300];

	snprintf(portstr, sizeof(portstr), "%u", port);
	snprintf(ipstr, sizeof(ipstr), "%s", bench_ip());
	if (cg_out != NULL) {
		/* perf/rdma/callgrind.sh: the peer under callgrind (its flags: the guest's 9p /tmp
		 * cannot hold vgdb's pipe). */
		snprintf(cg_opt, sizeof(cg_opt), "--callgrind-out-file=%s", cg_out);
		argv[n++] = (char *)(uintptr_t)"/usr/bin/valgrind";
		argv[n++] = (char *)(uintptr_t)"--tool=callgrind";
		argv[n++] = (char *)(uintptr_t)"--vgdb=no";
		argv[n++] = cg_opt;
	}
	argv[n++] = self_exe;
	argv[n++] = (char *)(uintptr_t)"--peer";
	argv[n++] = args[0];	/* mode */
	argv[n++] = ipstr;
	argv[n++] = portstr;
	for (i = 1; i < nargs && n < (int)RTE_DIM(argv) - 1; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0)
		return -1;
	return pid;
}

static int
wait_peer(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void
banner(const char *mode)
{
	printf("rzenv mode %s device %s tsc_mhz %.1f cpuinfo_mhz %.1f\n", mode,
			rz_rdma_device_name(), tsc_per_us, cpuinfo_mhz());
	fflush(stdout);
}

/* ---------------------------------------------------------------------------------------- */
/* Raw verbs on the same device: a context, PD and loopback RC QP of our own. The baselines of
 * grant, reg and mwfloor (owner), and the in-process baseline of bw and lat (peer). */

struct raw {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	struct ibv_mr *msg_mr;
	uint8_t *msg;
};

/* Shape of the loopback QP. */
struct raw_shape {
	uint32_t sq_depth;	/* max_send_wr */
	uint32_t rq_depth;	/* max_recv_wr */
	uint32_t max_inline;	/* asked for; 0 again if the device has no inline data */
	uint8_t rd_atomic;	/* max_rd_atomic: READs in flight that we initiate */
	uint8_t dest_rd_atomic;	/* max_dest_rd_atomic: READs in flight that we answer */
	enum ibv_mtu mtu;
};

/* mwfloor's QP: binds, invalidates and one SEND at a time. */
static const struct raw_shape raw_shape_ctrl = {
	.sq_depth = 16, .rq_depth = 16, .max_inline = 0, .rd_atomic = 1, .dest_rd_atomic = 1,
	.mtu = IBV_MTU_1024,
};

/* What rzone asks for its peer QP (lib/rdma/cm.c, peer_setup_qp_locked() and conn_param();
 * RZ_PEER_SQ_DEPTH, RZ_PEER_RECV_SLOTS and RZ_PEER_SLOT_SIZE in lib/rdma/rdma_private.h). The
 * library does not export them: keep these in step with it. */
#define RZ_QP_SQ_DEPTH		256
#define RZ_QP_RQ_DEPTH		16
#define RZ_QP_INLINE		128
#define RZ_QP_RD_ATOMIC_MAX	UINT8_MAX

static int
raw_open(struct raw *rw)
{
	struct ibv_device **list;
	const char *name = rz_rdma_device_name();
	int i, n;

	memset(rw, 0, sizeof(*rw));
	list = ibv_get_device_list(&n);
	if (list == NULL)
		return -ENODEV;
	for (i = 0; i < n; i++)
		if (strcmp(ibv_get_device_name(list[i]), name) == 0)
			rw->ctx = ibv_open_device(list[i]);
	ibv_free_device_list(list);
	if (rw->ctx == NULL)
		return -ENODEV;
	rw->pd = ibv_alloc_pd(rw->ctx);
	return rw->pd == NULL ? -ENOMEM : 0;
}

/* An RC QP of shape @sh connected to itself (loopback on the RoCE v2 IPv4 GID @gid_index: the
 * address rzone's connection uses too, so both go through the device's loopback). */
static int
raw_qp_up(struct raw *rw, int gid_index, const struct raw_shape *sh)
{
	struct ibv_qp_init_attr qia;
	struct ibv_qp_attr a;
	union ibv_gid gid;
	int ret;

	if (ibv_query_gid(rw->ctx, 1, gid_index, &gid) != 0)
		return -EIO;
	rw->cq = ibv_create_cq(rw->ctx, (int)RTE_MAX(64u, sh->sq_depth + sh->rq_depth), NULL,
			NULL, 0);
	if (rw->cq == NULL)
		return -ENOMEM;
	memset(&qia, 0, sizeof(qia));
	qia.send_cq = rw->cq;
	qia.recv_cq = rw->cq;
	qia.qp_type = IBV_QPT_RC;
	qia.cap.max_send_wr = sh->sq_depth;
	qia.cap.max_recv_wr = sh->rq_depth;
	qia.cap.max_send_sge = 1;
	qia.cap.max_recv_sge = 1;
	qia.cap.max_inline_data = sh->max_inline;
	rw->qp = ibv_create_qp(rw->pd, &qia);
	if (rw->qp == NULL && sh->max_inline != 0) {
		/* As rzone does: again without inline data. */
		qia.cap.max_inline_data = 0;
		rw->qp = ibv_create_qp(rw->pd, &qia);
	}
	if (rw->qp == NULL)
		return -ENOMEM;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_INIT;
	a.port_num = 1;
	a.qp_access_flags = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ |
			IBV_ACCESS_REMOTE_WRITE;
	ret = ibv_modify_qp(rw->qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT |
			IBV_QP_ACCESS_FLAGS);
	if (ret != 0)
		return -ret;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = sh->mtu;
	a.dest_qp_num = rw->qp->qp_num;
	a.rq_psn = 0;
	a.max_dest_rd_atomic = sh->dest_rd_atomic;
	a.min_rnr_timer = 12;
	a.ah_attr.is_global = 1;
	a.ah_attr.grh.dgid = gid;
	a.ah_attr.grh.sgid_index = (uint8_t)gid_index;
	a.ah_attr.grh.hop_limit = 64;
	a.ah_attr.port_num = 1;
	ret = ibv_modify_qp(rw->qp, &a, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU |
			IBV_QP_DEST_QPN | IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC |
			IBV_QP_MIN_RNR_TIMER);
	if (ret != 0)
		return -ret;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.timeout = 14;
	a.retry_cnt = 7;
	a.rnr_retry = 7;
	a.sq_psn = 0;
	a.max_rd_atomic = sh->rd_atomic;
	ret = ibv_modify_qp(rw->qp, &a, IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
			IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC);
	if (ret != 0)
		return -ret;
	rw->msg = aligned_alloc(4096, 4096);
	if (rw->msg == NULL)
		return -ENOMEM;
	memset(rw->msg, 0, 4096);
	rw->msg_mr = ibv_reg_mr(rw->pd, rw->msg, 4096, IBV_ACCESS_LOCAL_WRITE);
	return rw->msg_mr == NULL ? -ENOMEM : 0;
}

static void
raw_close(struct raw *rw)
{
	if (rw->qp != NULL)
		ibv_destroy_qp(rw->qp);
	if (rw->cq != NULL)
		ibv_destroy_cq(rw->cq);
	if (rw->msg_mr != NULL)
		ibv_dereg_mr(rw->msg_mr);
	free(rw->msg);
	if (rw->pd != NULL)
		ibv_dealloc_pd(rw->pd);
	if (rw->ctx != NULL)
		ibv_close_device(rw->ctx);
}

/* The peer's raw-verbs side of bw and lat, in the same process as its rzone connection: a
 * loopback QP shaped like rzone's, a 2 MiB target that stands in for the owner's region (an
 * MR: its rkey, where rzone goes through a window) and a source/sink buffer like the rzone
 * side's `mem`. */
struct raw_data {
	struct raw rw;
	uint8_t *src;
	uint8_t *dst;
	bool dst_huge;		/* dst is a 2 MiB hugepage (MAP_HUGETLB), else aligned_alloc */
	struct ibv_mr *src_mr;
	struct ibv_mr *dst_mr;
	struct ibv_mw *mw;	/* a type-2 window over dst, bound on the raw QP: "raw + MW" */
	uint32_t mw_rkey;
	uint32_t max_inline;	/* what the QP got: writes up to this go inline, as rzone's */
};

/* The same access through a memory window: a type-2 window over the whole target, bound on
 * the raw QP (what rzone's grant does on its peer's QP), so that the cost of the window lookup
 * at the responder is measured apart from rzone's own code. */
static int
raw_mw_up(struct raw_data *rd)
{
	struct ibv_send_wr wr, *bad;
	struct ibv_wc wc;
	int n;

	rd->mw = ibv_alloc_mw(rd->rw.pd, IBV_MW_TYPE_2);
	if (rd->mw == NULL)
		return -ENOMEM;
	rd->mw_rkey = ibv_inc_rkey(rd->mw->rkey);
	memset(&wr, 0, sizeof(wr));
	wr.opcode = IBV_WR_BIND_MW;
	wr.send_flags = IBV_SEND_SIGNALED;
	wr.bind_mw.mw = rd->mw;
	wr.bind_mw.rkey = rd->mw_rkey;
	wr.bind_mw.bind_info.mr = rd->dst_mr;
	wr.bind_mw.bind_info.addr = (uintptr_t)rd->dst;
	wr.bind_mw.bind_info.length = REGION_SZ;
	wr.bind_mw.bind_info.mw_access_flags = IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE |
			IBV_ACCESS_REMOTE_ATOMIC;
	if (ibv_post_send(rd->rw.qp, &wr, &bad) != 0)
		return -EIO;
	do
		n = ibv_poll_cq(rd->rw.cq, 1, &wc);
	while (n == 0);
	if (n < 0 || wc.status != IBV_WC_SUCCESS) {
		fprintf(stderr, "peer: raw window bind: %s\n",
				n < 0 ? "poll failed" : ibv_wc_status_str(wc.status));
		return -EIO;
	}
	rd->mw->rkey = rd->mw_rkey;
	return 0;
}

static int
raw_data_up(struct raw_data *rd)
{
	const char *gi = getenv("RZB_GID_INDEX");
	const int gid_index = gi != NULL ? atoi(gi) : 1;
	struct ibv_qp_init_attr qia;
	struct ibv_device_attr da;
	struct ibv_port_attr pa;
	struct ibv_qp_attr qa;
	struct raw_shape sh;
	void *m;
	int ret;

	memset(rd, 0, sizeof(*rd));
	ret = raw_open(&rd->rw);
	if (ret != 0)
		return ret;
	if (ibv_query_device(rd->rw.ctx, &da) != 0 || ibv_query_port(rd->rw.ctx, 1, &pa) != 0)
		return -EIO;
	/* rdma_cm takes the port's active MTU on RoCE; rzone's conn_param asks for
	 * min(device, 16) READs in flight each way. */
	sh.sq_depth = RZ_QP_SQ_DEPTH;
	sh.rq_depth = RZ_QP_RQ_DEPTH;
	sh.max_inline = RZ_QP_INLINE;
	sh.rd_atomic = (uint8_t)RTE_MIN(da.max_qp_init_rd_atom, RZ_QP_RD_ATOMIC_MAX);
	sh.dest_rd_atomic = (uint8_t)RTE_MIN(da.max_qp_rd_atom, RZ_QP_RD_ATOMIC_MAX);
	sh.mtu = pa.active_mtu;
	ret = raw_qp_up(&rd->rw, gid_index, &sh);
	if (ret != 0)
		return ret;
	if (ibv_query_qp(rd->rw.qp, &qa, IBV_QP_CAP | IBV_QP_PATH_MTU | IBV_QP_MAX_QP_RD_ATOMIC |
			IBV_QP_MAX_DEST_RD_ATOMIC, &qia) != 0)
		return -EIO;
	rd->max_inline = qia.cap.max_inline_data;
	rd->src = aligned_alloc(MB2, PEER_BUF);
	if (rd->src == NULL)
		return -ENOMEM;
	memset(rd->src, 0x5a, PEER_BUF);
	m = mmap(NULL, REGION_SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
			MAP_HUGETLB, -1, 0);
	if (m != MAP_FAILED) {
		rd->dst = m;
		rd->dst_huge = true;
	} else {
		rd->dst = aligned_alloc(MB2, REGION_SZ);
		if (rd->dst == NULL)
			return -ENOMEM;
	}
	memset(rd->dst, 0, REGION_SZ);
	rd->src_mr = ibv_reg_mr(rd->rw.pd, rd->src, PEER_BUF, IBV_ACCESS_LOCAL_WRITE);
	rd->dst_mr = ibv_reg_mr(rd->rw.pd, rd->dst, REGION_SZ, BASE_ACCESS | IBV_ACCESS_MW_BIND);
	if (rd->src_mr == NULL || rd->dst_mr == NULL)
		return -ENOMEM;
	ret = raw_mw_up(rd);
	if (ret != 0)
		return ret;
	printf("rawqp device %s gid %d sq %u inline_asked %u inline %u rd_atomic %u "
			"dest_rd_atomic %u mtu %d target %s\n", rz_rdma_device_name(), gid_index,
			qia.cap.max_send_wr, sh.max_inline, rd->max_inline, qa.max_rd_atomic,
			qa.max_dest_rd_atomic, 128 << qa.path_mtu,
			rd->dst_huge ? "hugepage" : "aligned_alloc");
	fflush(stdout);
	return 0;
}

static void
raw_data_close(struct raw_data *rd)
{
	if (rd->mw != NULL)
		ibv_dealloc_mw(rd->mw);
	if (rd->src_mr != NULL)
		ibv_dereg_mr(rd->src_mr);
	if (rd->dst_mr != NULL)
		ibv_dereg_mr(rd->dst_mr);
	raw_close(&rd->rw);
	free(rd->src);
	if (rd->dst_huge)
		munmap(rd->dst, REGION_SZ);
	else
		free(rd->dst);
}

/* One work request of @len bytes at offset 0 of both buffers, as rzone builds it: signaled,
 * writes up to the inline size inline. */
static void
raw_wr(const struct raw_data *rd, bool read, size_t len, struct ibv_send_wr *wr,
		struct ibv_sge *sge)
{
	sge->addr = (uintptr_t)rd->src;
	sge->length = (uint32_t)len;
	sge->lkey = rd->src_mr->lkey;
	memset(wr, 0, sizeof(*wr));
	wr->sg_list = sge;
	wr->num_sge = 1;
	wr->opcode = read ? IBV_WR_RDMA_READ : IBV_WR_RDMA_WRITE;
	wr->send_flags = IBV_SEND_SIGNALED;
	if (!read && len <= rd->max_inline)
		wr->send_flags |= IBV_SEND_INLINE;
	wr->wr.rdma.remote_addr = (uintptr_t)rd->dst;
	wr->wr.rdma.rkey = rd->dst_mr->rkey;
}

/* Post @wr and busy-poll its completion; @ticks from before the post to the completion. */
static int
raw_sync(const struct raw_data *rd, struct ibv_send_wr *wr, uint64_t *ticks)
{
	struct ibv_send_wr *bad;
	struct ibv_wc wc;
	uint64_t t0;
	int n;

	t0 = rte_rdtsc_precise();
	if (ibv_post_send(rd->rw.qp, wr, &bad) != 0)
		return -EIO;
	do
		n = ibv_poll_cq(rd->rw.cq, 1, &wc);
	while (n == 0);
	*ticks = rte_rdtsc_precise() - t0;
	if (n < 0)
		return -EIO;
	return wc.status == IBV_WC_SUCCESS ? 0 : -EIO;
}

/* ---------------------------------------------------------------------------------------- */
/* Peer: bandwidth, rzone and raw verbs interleaved. */

static struct ibv_wc raw_wcs[MAX_DEPTH];

/* Completion moderation of the bandwidth loops (RZB_BW_SIGNAL, default 1: every operation
 * signaled): one operation in bw_signal_every is signaled, and the last one. Both sides alike;
 * rzone through RZ_REMOTE_F_UNSIGNALED. */
static uint32_t bw_signal_every = 1;

/* RZB_PREP=1: rzone's bw and mc loops post through a prepared operation (rz_remote_prepare()
 * once per run, rz_remote_post_prep() per operation), as a user of the prepared path would;
 * in mc, every operation of a burst is then its own post, and the raw baseline posts each WR
 * with its own ibv_post_send() likewise (the same batching: one doorbell per operation). */
static bool use_prep;

static bool
signaled(uint32_t k, uint32_t iters)
{
	return k % bw_signal_every == bw_signal_every - 1 || k == iters - 1;
}

/* @iters operations of @op->len bytes, at most @depth outstanding; ticks from the first post to
 * the last completion. */
static int
bw_loop(struct rz_peer *p, struct rz_remote_op *op, uint32_t iters, uint32_t depth,
		uint64_t *ticks)
{
	struct rz_remote_prep *prep = NULL;
	uint32_t posted = 0, done = 0;
	uint64_t t0;
	int n, i, ret;

	if (use_prep) {
		prep = rz_remote_prepare(p, op);
		if (prep == NULL)
			return -rte_errno;
	}
	t0 = rte_rdtsc_precise();
	while (done < iters) {
		while (posted - done < depth && posted < iters) {
			op->wr_id = posted;
			op->flags = signaled(posted, iters) ? 0 : RZ_REMOTE_F_UNSIGNALED;
			if (prep != NULL)
				ret = rz_remote_post_prep(prep, posted, 0, 0, op->len, op->flags);
			else
				ret = rz_remote_post(p, op);
			if (ret == -ENOBUFS)
				break;
			if (ret != 0)
				goto out;
			posted++;
		}
		n = rz_remote_poll(p, cqes, depth);
		ret = n;
		if (n < 0)
			goto out;
		for (i = 0; i < n; i++)
			if ((ret = cqes[i].status) != 0)
				goto out;
		/* A signaled completion retires every operation up to it. */
		if (n > 0)
			done = (uint32_t)cqes[n - 1].wr_id + 1;
	}
	*ticks = rte_rdtsc_precise() - t0;
	ret = 0;
out:
	op->wr_id = 0;
	op->flags = 0;
	rz_remote_prep_free(prep);
	return ret;
}

/* The same loop on the raw QP: @wr is built beforehand, only its wr_id and signaling change;
 * one WR per ibv_post_send, signaled as rz_remote_post is asked to. */
static int
raw_bw_loop(const struct raw_data *rd, struct ibv_send_wr *wr, uint32_t iters, uint32_t depth,
		uint64_t *ticks)
{
	const unsigned int base = wr->send_flags & ~(unsigned int)IBV_SEND_SIGNALED;
	uint32_t posted = 0, done = 0;
	struct ibv_send_wr *bad;
	uint64_t t0;
	int n, i;

	t0 = rte_rdtsc_precise();
	while (done < iters) {
		while (posted - done < depth && posted < iters) {
			wr->wr_id = posted;
			wr->send_flags = base | (signaled(posted, iters) ? IBV_SEND_SIGNALED : 0);
			if (ibv_post_send(rd->rw.qp, wr, &bad) != 0)
				return -EIO;
			posted++;
		}
		n = ibv_poll_cq(rd->rw.cq, (int)depth, raw_wcs);
		if (n < 0)
			return -EIO;
		for (i = 0; i < n; i++)
			if (raw_wcs[i].status != IBV_WC_SUCCESS)
				return -EIO;
		if (n > 0)
			done = (uint32_t)raw_wcs[n - 1].wr_id + 1;
	}
	wr->send_flags = base | IBV_SEND_SIGNALED;
	*ticks = rte_rdtsc_precise() - t0;
	return 0;
}

static void
print_bw(const char *tag, const char *op, const struct size_iters *si, uint32_t depth,
		uint64_t ticks, uint32_t pair, bool raw_first)
{
	const double sec = us(ticks) / 1e6;

	printf("%s op %s size %zu iters %u depth %u mib_s %.4f mpps %.6f sec %.3f pair %u "
			"first %s post %s\n", tag, op, si->size, si->iters, depth,
			(double)si->size * si->iters / sec / (1 << 20), si->iters / sec / 1e6,
			sec, pair, raw_first ? "raw" : "rz",
			tag[1] == 'a' ? "verbs" : use_prep ? "prep" : "op");
	fflush(stdout);
}

/* For each size, RZB_BW_INTERLEAVE (3) pairs of runs, a raw-verbs run and an rzone run each,
 * the order alternating from pair to pair (and size to size). */
static int
peer_bw(struct rz_peer *p, const struct rz_rdma_mem *mem, const struct rz_rdma_desc *d,
		struct raw_data *rd, int argc, char **argv)
{
	const char *il = getenv("RZB_BW_INTERLEAVE"), *sig = getenv("RZB_BW_SIGNAL");
	const uint32_t pairs = il != NULL ? (uint32_t)atoi(il) : 3;
	struct size_iters si[MAX_SIZES];
	struct rz_remote_op op;
	struct ibv_send_wr wr;
	struct ibv_sge sge;
	uint32_t depth, j;
	uint64_t ticks;
	bool rdop;
	int n, i, ret;

	if (argc < 3 || pairs == 0 || pairs > 100)
		return -EINVAL;
	depth = (uint32_t)atoi(argv[1]);
	if (depth == 0 || depth > MAX_DEPTH)
		return -EINVAL;
	if (sig != NULL) {
		bw_signal_every = (uint32_t)atoi(sig);
		if (bw_signal_every == 0 || bw_signal_every > RZ_REMOTE_UNSIGNALED_MAX)
			return -EINVAL;
	}
	n = parse_sizes(argc - 2, argv + 2, si);
	if (n <= 0)
		return -EINVAL;
	rdop = strcmp(argv[0], "read") == 0;
	memset(&op, 0, sizeof(op));
	op.opcode = rdop ? RZ_REMOTE_READ : RZ_REMOTE_WRITE;
	op.local = mem;
	op.remote = d;
	/* Warm-up: one queue's worth at the first size, each side. */
	op.len = si[0].size;
	if (rd != NULL)
		raw_wr(rd, rdop, si[0].size, &wr, &sge);
	ret = bw_loop(p, &op, depth, depth, &ticks);
	if (ret == 0 && rd != NULL)
		ret = raw_bw_loop(rd, &wr, depth, depth, &ticks);
	if (ret != 0)
		return ret;
	for (i = 0; i < n; i++) {
		if (si[i].size > mem->len || si[i].size > d->length || si[i].size > REGION_SZ)
			return -ERANGE;
		op.len = si[i].size;
		if (rd != NULL)
			raw_wr(rd, rdop, si[i].size, &wr, &sge);
		for (j = 0; j < pairs; j++) {
			const bool raw_first = ((i + j) & 1) == 0;
			int h;

			for (h = 0; h < 2; h++) {
				const bool raw = (h == 0) == raw_first;

				/* Without the raw baseline (RZB_NO_RAW): the rzone run only. */
				if (raw && rd == NULL)
					continue;
				ret = raw ? raw_bw_loop(rd, &wr, si[i].iters, depth, &ticks) :
						bw_loop(p, &op, si[i].iters, depth, &ticks);
				if (ret != 0) {
					fprintf(stderr, "peer: %s %s %zu: %s\n",
							raw ? "raw" : "rzone", argv[0],
							si[i].size, strerror(-ret));
					return ret;
				}
				print_bw(raw ? "rawbw" : "rzbw", argv[0], &si[i], depth, ticks,
						j + 1, raw_first);
			}
		}
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Peer: latency of the synchronous calls, sample by sample against raw verbs. */

static void
print_lat(const char *tag, const char *op, size_t len, uint64_t *v, uint32_t n)
{
	struct stats s;

	stats_of(v, n, &s);
	printf("%s op %s size %zu iters %u min %.3f p50 %.3f p99 %.3f p999 %.3f mean %.3f "
			"max %.3f\n", tag, op, len, n, s.min, s.p50, s.p99, s.p999, s.mean, s.max);
	fflush(stdout);
}

/* Each iteration takes one rzone sample (the sync call), one raw sample (a prebuilt WR: post,
 * busy-poll its completion) through the MR's rkey, one raw sample through a window's rkey (both
 * on the raw loopback QP), and one raw sample posted on rzone's own QP with the descriptor's
 * rkey (a diagnostic: rzone's code vs the connection), into samples[], samples2[], samples3[]
 * and samples4[]; the order rotates from one iteration to the next. A sync WRITE is a full
 * round trip on every side. */
static int
peer_lat(struct rz_peer *p, const struct rz_rdma_mem *mem, const struct rz_rdma_desc *d,
		struct raw_data *rd, int argc, char **argv)
{
	struct size_iters si[MAX_SIZES];
	struct ibv_send_wr wr, wmw, wq;
	struct ibv_sge sge, smw, sq;
	struct raw_data qd = { 0 };
	uint64_t ticks;
	bool rdop;
	int n, i, ret;
	uint32_t k;

	if (argc < 2)
		return -EINVAL;
	rdop = strcmp(argv[0], "read") == 0;
	n = parse_sizes(argc - 1, argv + 1, si);
	if (n <= 0)
		return -EINVAL;
	raw_wr(rd, rdop, si[0].size, &wr, &sge);
	for (k = 0; k < 100; k++) {	/* warm-up */
		ret = rdop ? rz_remote_read(p, mem, 0, d, 0, si[0].size) :
				rz_remote_write(p, mem, 0, d, 0, si[0].size);
		if (ret == 0)
			ret = raw_sync(rd, &wr, &ticks);
		if (ret != 0)
			return ret;
	}
	for (i = 0; i < n; i++) {
		const size_t len = si[i].size;

		if (len > mem->len || len > d->length || len > REGION_SZ)
			return -ERANGE;
		raw_wr(rd, rdop, len, &wr, &sge);
		raw_wr(rd, rdop, len, &wmw, &smw);
		wmw.sg_list = &smw;
		wmw.wr.rdma.rkey = rd->mw_rkey;
		/* Raw verbs on rzone's own QP, through the descriptor's window. */
		raw_wr(rd, rdop, len, &wq, &sq);
		wq.sg_list = &sq;
		sq.addr = (uintptr_t)mem->addr;
		sq.lkey = mem->lkey;
		wq.send_flags = IBV_SEND_SIGNALED |
				(!rdop && len <= p->max_inline ? IBV_SEND_INLINE : 0);
		wq.wr.rdma.remote_addr = d->addr;
		wq.wr.rdma.rkey = d->rkey;
		qd.rw.qp = p->qp;
		qd.rw.cq = p->scq;
		for (k = 0; k < si[i].iters; k++) {
			uint32_t j;

			for (j = 0; j < 4; j++) {
				uint64_t t0;

				switch ((k + j) % 4) {
				case 3:
					ret = raw_sync(&qd, &wq, &samples4[k]);
					break;
				case 0:
					t0 = rte_rdtsc_precise();
					ret = rdop ? rz_remote_read(p, mem, 0, d, 0, len) :
							rz_remote_write(p, mem, 0, d, 0, len);
					samples[k] = rte_rdtsc_precise() - t0;
					break;
				case 1:
					ret = raw_sync(rd, &wr, &samples2[k]);
					break;
				default:
					ret = raw_sync(rd, &wmw, &samples3[k]);
					break;
				}
				if (ret != 0)
					return ret;
			}
		}
		print_lat("rzlat", argv[0], len, samples, si[i].iters);
		print_lat("rawlat", argv[0], len, samples2, si[i].iters);
		print_lat("rawmwlat", argv[0], len, samples3, si[i].iters);
		print_lat("rawrzqplat", argv[0], len, samples4, si[i].iters);
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Write ping-pong: each side owns a region and grants it to the other. The last byte of each
 * message carries a sequence byte; the receiver spins on its own region until it changes.
 * Messages are written from the second half of the writer's own region. */

#define PP_SRC_OFF (1u << 20)

static int
pingpong(struct rz_peer *p, struct rz_region *own, const struct rz_rdma_mem *mem,
		const struct rz_rdma_desc *d, const struct size_iters *si, int n, bool initiator)
{
	volatile uint8_t *in = rz_region_addr(own);
	uint8_t *out = (uint8_t *)rz_region_addr(own) + PP_SRC_OFF;
	uint32_t k, warm = 100;
	int i, ret;

	for (i = 0; i < n; i++) {
		const size_t len = si[i].size;
		const uint32_t total = warm + si[i].iters;
		uint8_t seq = 0;

		for (k = 0; k < total; k++) {
			uint64_t t0 = rte_rdtsc_precise();

			seq = (uint8_t)(seq % 255 + 1);
			if (initiator) {
				out[len - 1] = seq;
				ret = rz_remote_write(p, mem, PP_SRC_OFF, d, 0, len);
				if (ret != 0)
					return ret;
				while (in[len - 1] != seq)
					;
				if (k >= warm)
					samples[k - warm] = rte_rdtsc_precise() - t0;
			} else {
				while (in[len - 1] != seq)
					;
				out[len - 1] = seq;
				ret = rz_remote_write(p, mem, PP_SRC_OFF, d, 0, len);
				if (ret != 0)
					return ret;
			}
		}
		/* Next size starts from a clean slate on both sides (outside the clock). */
		for (k = 0; k < len; k++)
			in[k] = 0;
		memset(out, 0, len);
		if (initiator) {
			struct stats s;

			for (k = 0; k < si[i].iters; k++)
				samples[k] /= 2;
			stats_of(samples, si[i].iters, &s);
			printf("rzpp op write size %zu iters %u min %.3f p50 %.3f p99 %.3f "
					"p999 %.3f mean %.3f max %.3f\n", len, si[i].iters, s.min,
					s.p50, s.p99, s.p999, s.mean, s.max);
			fflush(stdout);
		}
		/* Rendezvous: the initiator's next first write must not land before the
		 * responder reset its byte. */
		if (initiator) {
			char b[64];

			if (rz_peer_recv_msg(p, b, TMO_MS) < 0)
				return -EIO;
		} else if (rz_peer_send_msg(p, "next", 4) != 0) {
			return -EIO;
		}
	}
	return 0;
}

/* Both sides: own a region, grant it to the other, receive the other's. */
static int
pp_setup(struct rz_peer *p, bool owner_first, struct rz_region **own, struct rz_rdma_mem *mem,
		struct rz_rdma_desc *theirs)
{
	struct rz_rdma_desc mine;
	int ret;

	*own = new_region(REGION_SZ);
	if (*own == NULL)
		return -ENOMEM;
	ret = rz_rdma_register(*own, mem);
	if (ret != 0)
		return ret;
	if (owner_first) {
		ret = rz_rdma_grant(*own, p, RZ_MODE_SHARE, 0, PP_SRC_OFF, 0, &mine);
		if (ret == 0)
			ret = rz_peer_recv_desc(p, theirs, TMO_MS);
	} else {
		ret = rz_peer_recv_desc(p, theirs, TMO_MS);
		if (ret == 0)
			ret = rz_rdma_grant(*own, p, RZ_MODE_SHARE, 0, PP_SRC_OFF, 0, &mine);
	}
	return ret;
}

/* ---------------------------------------------------------------------------------------- */
/* Peer process. */

/* ---------------------------------------------------------------------------------------- */
/* cg (issue 11): user-space instructions per posted + completed operation, rzone vs raw verbs,
 * for valgrind --tool=callgrind (perf/rdma/callgrind.sh runs the peer under it). Each side's
 * loop is a function of its own (cg_rz_loop, cg_rzp_loop through a prepared operation,
 * cg_rzr_loop: prepared, completions reaped by count with rz_remote_reap(),
 * cg_raw_loop: the same shape, ITERS signaled
 * WRITEs of SIZE bytes, at most DEPTH outstanding, polled DEPTH at a time), so its inclusive
 * cost is read per function; the polls that found nothing are counted and their cost is taken
 * out with the cost of an empty poll, measured by cg_rz_empty / cg_rzr_empty / cg_raw_empty
 * (CG_EMPTY polls
 * with nothing outstanding). Then bursts: cg_rzb_loop (rz_remote_post_burst() of DEPTH),
 * cg_rzpb_loop (rz_remote_post_prep_burst() of DEPTH) and cg_rawb_loop (DEPTH chained in one
 * ibv_post_send()), the last of each signaled, one burst at a time. "cg" lines print the
 * counts.
 *
 *   rz-bench-rdma cg ITERS DEPTH SIZE
 */

#define CG_EMPTY	1000

static __attribute__((noinline)) int
cg_rz_loop(struct rz_peer *p, struct rz_remote_op *op, uint32_t iters, uint32_t depth,
		uint64_t *empty)
{
	uint32_t posted = 0, done = 0;
	int n, i, ret;

	while (done < iters) {
		while (posted - done < depth && posted < iters) {
			op->wr_id = posted;
			ret = rz_remote_post(p, op);
			if (ret != 0)
				return ret;
			posted++;
		}
		n = rz_remote_poll(p, cqes, depth);
		if (n < 0)
			return n;
		if (n == 0)
			(*empty)++;
		for (i = 0; i < n; i++)
			if (cqes[i].status != 0)
				return cqes[i].status;
		done += (uint32_t)n;
	}
	return 0;
}

/* The same loop through a prepared operation (rz_remote_prepare() once, rz_remote_post_prep()
 * per operation: only wr_id, offsets, length and flags per post). */
static __attribute__((noinline)) int
cg_rzp_loop(struct rz_peer *p, struct rz_remote_prep *prep, size_t size, uint32_t iters,
		uint32_t depth, uint64_t *empty)
{
	uint32_t posted = 0, done = 0;
	int n, i, ret;

	while (done < iters) {
		while (posted - done < depth && posted < iters) {
			ret = rz_remote_post_prep(prep, posted, 0, 0, size, 0);
			if (ret != 0)
				return ret;
			posted++;
		}
		n = rz_remote_poll(p, cqes, depth);
		if (n < 0)
			return n;
		if (n == 0)
			(*empty)++;
		for (i = 0; i < n; i++)
			if (cqes[i].status != 0)
				return cqes[i].status;
		done += (uint32_t)n;
	}
	return 0;
}

/* The prepared loop with rz_remote_reap() for the completions: only how many completed, all
 * successfully (as the raw loop checks them). A failed operation would stop the reap for good:
 * after CG_STALL empty reaps in a row the loop gives up (rz_remote_poll() says why). */
#define CG_STALL	100000000u

static __attribute__((noinline)) int
cg_rzr_loop(struct rz_peer *p, struct rz_remote_prep *prep, size_t size, uint32_t iters,
		uint32_t depth, uint64_t *empty)
{
	uint32_t posted = 0, done = 0, stall = 0;
	int n, ret;

	while (done < iters) {
		while (posted - done < depth && posted < iters) {
			ret = rz_remote_post_prep(prep, posted, 0, 0, size, 0);
			if (ret != 0)
				return ret;
			posted++;
		}
		n = rz_remote_reap(p, depth);
		if (n < 0)
			return n;
		if (n == 0) {
			(*empty)++;
			if (++stall == CG_STALL)
				return rz_remote_poll(p, cqes, 1) == 1 ? cqes[0].status : -EIO;
			continue;
		}
		stall = 0;
		done += (uint32_t)n;
	}
	return 0;
}

static __attribute__((noinline)) int
cg_raw_loop(const struct raw_data *rd, struct ibv_send_wr *wr, uint32_t iters, uint32_t depth,
		uint64_t *empty)
{
	uint32_t posted = 0, done = 0;
	struct ibv_send_wr *bad;
	int n, i;

	while (done < iters) {
		while (posted - done < depth && posted < iters) {
			wr->wr_id = posted;
			if (ibv_post_send(rd->rw.qp, wr, &bad) != 0)
				return -EIO;
			posted++;
		}
		n = ibv_poll_cq(rd->rw.cq, (int)depth, raw_wcs);
		if (n < 0)
			return -EIO;
		if (n == 0)
			(*empty)++;
		for (i = 0; i < n; i++)
			if (raw_wcs[i].status != IBV_WC_SUCCESS)
				return -EIO;
		done += (uint32_t)n;
	}
	return 0;
}

/* Bursts (the mc benchmark's and lib/pkt_remote's shape): DEPTH operations per post, the last
 * signaled, the rest unsignaled, one doorbell; the burst's one completion polled before the
 * next. rzone: rz_remote_post_burst() of @ops (flags set by the caller); raw verbs: @wr chained
 * in one ibv_post_send(). */
static __attribute__((noinline)) int
cg_rzb_loop(struct rz_peer *p, struct rz_remote_op *ops, uint32_t iters, uint32_t depth,
		uint64_t *empty)
{
	uint32_t done = 0;
	int n, ret;

	while (done < iters) {
		ret = rz_remote_post_burst(p, ops, depth);
		if (ret != (int)depth)
			return ret < 0 ? ret : -EIO;
		while ((n = rz_remote_poll(p, cqes, 1)) == 0)
			(*empty)++;
		if (n < 0)
			return n;
		if (cqes[0].status != 0)
			return cqes[0].status;
		done += depth;
	}
	return 0;
}

/* The same bursts from a prepared operation (rz_remote_post_prep_burst(): per operation only
 * wr_id, offsets, length and flags, checked against the prepared ranges). */
static __attribute__((noinline)) int
cg_rzpb_loop(struct rz_peer *p, struct rz_remote_prep *prep, struct rz_remote_prep_op *ops,
		uint32_t iters, uint32_t depth, uint64_t *empty)
{
	uint32_t done = 0;
	int n, ret;

	while (done < iters) {
		ret = rz_remote_post_prep_burst(prep, ops, depth);
		if (ret != (int)depth)
			return ret < 0 ? ret : -EIO;
		while ((n = rz_remote_poll(p, cqes, 1)) == 0)
			(*empty)++;
		if (n < 0)
			return n;
		if (cqes[0].status != 0)
			return cqes[0].status;
		done += depth;
	}
	return 0;
}

static __attribute__((noinline)) int
cg_rawb_loop(const struct raw_data *rd, struct ibv_send_wr *wr, uint32_t iters, uint32_t depth,
		uint64_t *empty)
{
	uint32_t done = 0;
	struct ibv_send_wr *bad;
	int n;

	while (done < iters) {
		if (ibv_post_send(rd->rw.qp, wr, &bad) != 0)
			return -EIO;
		while ((n = ibv_poll_cq(rd->rw.cq, 1, raw_wcs)) == 0)
			(*empty)++;
		if (n < 0 || raw_wcs[0].status != IBV_WC_SUCCESS)
			return -EIO;
		done += depth;
	}
	return 0;
}

static __attribute__((noinline)) int
cg_rz_empty(struct rz_peer *p, uint32_t depth)
{
	int i, n = 0;

	for (i = 0; i < CG_EMPTY; i++)
		n += rz_remote_poll(p, cqes, depth);
	return n;
}

static __attribute__((noinline)) int
cg_rzr_empty(struct rz_peer *p, uint32_t depth)
{
	int i, n = 0;

	for (i = 0; i < CG_EMPTY; i++)
		n += rz_remote_reap(p, depth);
	return n;
}

static __attribute__((noinline)) int
cg_raw_empty(const struct raw_data *rd, uint32_t depth)
{
	int i, n = 0;

	for (i = 0; i < CG_EMPTY; i++)
		n += ibv_poll_cq(rd->rw.cq, (int)depth, raw_wcs);
	return n;
}

static int
peer_cg(struct rz_peer *p, const struct rz_rdma_mem *mem, const struct rz_rdma_desc *d,
		struct raw_data *rd, int argc, char **argv)
{
	uint32_t iters, depth;
	size_t size;
	struct rz_remote_op op;
	struct ibv_send_wr wr;
	struct ibv_sge sge;
	struct rz_remote_prep *prep;
	static struct rz_remote_op bops[MAX_DEPTH];
	static struct rz_remote_prep_op pops[MAX_DEPTH];
	static struct ibv_send_wr bwr[MAX_DEPTH];
	static struct ibv_sge bsge[MAX_DEPTH];
	uint64_t e_rz = 0, e_raw = 0, e_rzp = 0, e_rzr = 0, e_rzb = 0, e_rawb = 0, e_rzpb = 0;
	uint32_t i;
	int ret, n1, n2, n3;

	if (argc < 3)
		return -EINVAL;
	iters = (uint32_t)atoi(argv[0]);
	depth = (uint32_t)atoi(argv[1]);
	size = (size_t)atol(argv[2]);
	if (depth == 0 || depth > MAX_DEPTH || iters == 0 || size == 0 || size > PEER_BUF)
		return -EINVAL;
	memset(&op, 0, sizeof(op));
	op.opcode = RZ_REMOTE_WRITE;
	op.local = mem;
	op.remote = d;
	op.len = size;
	raw_wr(rd, false, size, &wr, &sge);
	wr.wr.rdma.rkey = rd->mw_rkey;	/* through a window, as rzone */
	/* Bursts of DEPTH: the last signaled; ITERS rounded down to whole bursts. */
	if (depth > RZ_REMOTE_UNSIGNALED_MAX + 1)
		return -EINVAL;
	for (i = 0; i < depth; i++) {
		bops[i] = op;
		bops[i].wr_id = i;
		bops[i].flags = i + 1 < depth ? RZ_REMOTE_F_UNSIGNALED : 0;
		pops[i] = (struct rz_remote_prep_op){ .wr_id = i, .len = (uint32_t)size,
			.flags = bops[i].flags };
		bsge[i] = sge;
		bwr[i] = wr;
		bwr[i].wr_id = i;
		bwr[i].sg_list = &bsge[i];
		if (i + 1 < depth)
			bwr[i].send_flags &= ~(unsigned int)IBV_SEND_SIGNALED;
		bwr[i].next = i + 1 < depth ? &bwr[i + 1] : NULL;
	}
	prep = rz_remote_prepare(p, &op);
	if (prep == NULL)
		return -rte_errno;
	ret = cg_raw_loop(rd, &wr, iters, depth, &e_raw);
	if (ret == 0)
		ret = cg_rz_loop(p, &op, iters, depth, &e_rz);
	if (ret == 0)
		ret = cg_rzp_loop(p, prep, size, iters, depth, &e_rzp);
	if (ret == 0)
		ret = cg_rzr_loop(p, prep, size, iters, depth, &e_rzr);
	if (ret == 0)
		ret = cg_rawb_loop(rd, bwr, iters / depth * depth, depth, &e_rawb);
	if (ret == 0)
		ret = cg_rzb_loop(p, bops, iters / depth * depth, depth, &e_rzb);
	if (ret == 0)
		ret = cg_rzpb_loop(p, prep, pops, iters / depth * depth, depth, &e_rzpb);
	rz_remote_prep_free(prep);
	if (ret != 0)
		return ret;
	n1 = cg_rz_empty(p, depth);
	n2 = cg_raw_empty(rd, depth);
	n3 = cg_rzr_empty(p, depth);
	printf("cg iters %u depth %u size %zu rz_empty_polls %" PRIu64 " raw_empty_polls %" PRIu64
			" rzp_empty_polls %" PRIu64 " rzr_empty_polls %" PRIu64 " rzb_empty_polls %"
			PRIu64 " rawb_empty_polls %" PRIu64 " rzpb_empty_polls %" PRIu64
			" burst_iters %u calib_polls %d calib_found %d\n", iters, depth, size, e_rz,
			e_raw, e_rzp, e_rzr, e_rzb, e_rawb, e_rzpb, iters / depth * depth, CG_EMPTY,
			n1 + n2 + n3);
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* mc (issue 11): N lcores to one peer. The peer opens MC_MAX channels (rz_peer_connect() each:
 * its own RC QP and CQs) to the owner, which grants its region on each. For N = 1, 2, 4 (up to
 * NCH) threads, each drives its own channel: bursts of BATCH WRITEs of SIZE bytes posted with
 * rz_remote_post_burst() (one doorbell; the last of each burst signaled, the rest unsignaled),
 * at most MC_DEPTH outstanding, ITERS operations per thread; aggregate MiB/s and Mops/s from the
 * common start to the last thread's last completion. Baseline in the same run: N raw-verbs
 * loopback QPs (one context each, shaped like rzone's), N threads, the same bursts chained in
 * one ibv_post_send() with the same signaling. RZB_BW_INTERLEAVE pairs, alternating first.
 * Then grant + revoke (RZ_GRANT_F_NO_SEND: bind + invalidate on channel 0's QP) p50/p99 on the
 * owner while the peer is idle, and while 2 of its lcores keep writing on channels 0 and 1.
 *
 *   rz-bench-rdma cg ITERS DEPTH SIZE        rzone and raw-verbs WRITE loops for callgrind
 *                                             (instructions per operation)
 *   rz-bench-rdma mc NCH SIZE ITERS BATCH GRANTS
 */

#define MC_MAX		4
#define MC_DEPTH	128

struct mc_thread {
	pthread_t t;
	struct rz_peer *p;		/* rzone channel, or NULL: raw */
	struct raw_data *rd;
	const struct rz_rdma_mem *mem;
	const struct rz_rdma_desc *d;
	size_t size;
	uint32_t iters, batch;
	volatile bool *stop;		/* loop until set (busy phase), else @iters */
	uint64_t t_end;
	int ret;
	struct rz_remote_cqe cqe[MC_DEPTH];
	struct ibv_wc wc[MC_DEPTH];
	struct rz_remote_op ops[RZ_REMOTE_BURST_MAX];
	struct ibv_send_wr wr[RZ_REMOTE_BURST_MAX];
	struct ibv_sge sge[RZ_REMOTE_BURST_MAX];
};

static volatile uint32_t mc_go;

static void *
mc_rz_main(void *arg)
{
	struct mc_thread *m = arg;
	struct rz_remote_prep *prep = NULL;
	uint64_t posted = 0, done = 0;
	uint32_t i;
	int n, k;

	for (i = 0; i < m->batch; i++)
		m->ops[i] = (struct rz_remote_op){ .opcode = RZ_REMOTE_WRITE, .local = m->mem,
			.remote = m->d, .len = m->size,
			.flags = i + 1 < m->batch ? RZ_REMOTE_F_UNSIGNALED : 0 };
	if (use_prep) {
		struct rz_remote_op op = { .opcode = RZ_REMOTE_WRITE, .local = m->mem,
			.remote = m->d, .len = m->size };

		prep = rz_remote_prepare(m->p, &op);
		if (prep == NULL) {
			m->ret = -rte_errno;
			return NULL;
		}
	}
	while (!__atomic_load_n(&mc_go, __ATOMIC_ACQUIRE))
		;
	while (m->stop != NULL ? !*m->stop : done < m->iters) {
		if (posted - done + m->batch <= MC_DEPTH &&
				(m->stop != NULL || posted < m->iters)) {
			if (prep != NULL) {
				/* The burst one post at a time, the last one signaled. */
				for (i = 0, n = 0; i < m->batch; i++, n++)
					if ((k = rz_remote_post_prep(prep, posted + i, 0, 0,
							m->size, m->ops[i].flags)) != 0)
						break;
				if (i < m->batch && (k != -ENOBUFS || i > 0)) {
					m->ret = k;
					goto out;
				}
			} else {
				m->ops[m->batch - 1].wr_id = posted + m->batch - 1;
				n = rz_remote_post_burst(m->p, m->ops, m->batch);
				if (n == -ENOBUFS)
					n = 0;
				else if (n != (int)m->batch) {
					m->ret = n < 0 ? n : -EIO;
					goto out;
				}
			}
			posted += (uint64_t)n;
		}
		n = rz_remote_poll(m->p, m->cqe, MC_DEPTH);
		if (n < 0) {
			m->ret = n;
			goto out;
		}
		for (k = 0; k < n; k++) {
			if (m->cqe[k].status != 0) {
				m->ret = m->cqe[k].status;
				goto out;
			}
			done = m->cqe[k].wr_id + 1;
		}
	}
	m->t_end = rte_rdtsc_precise();
out:
	rz_remote_prep_free(prep);
	return NULL;
}

static void *
mc_raw_main(void *arg)
{
	struct mc_thread *m = arg;
	uint64_t posted = 0, done = 0;
	struct ibv_send_wr *bad;
	uint32_t i;
	int n, k;

	for (i = 0; i < m->batch; i++) {
		raw_wr(m->rd, false, m->size, &m->wr[i], &m->sge[i]);
		m->wr[i].wr.rdma.rkey = m->rd->mw_rkey;	/* through a window, as rzone */
		if (i + 1 < m->batch) {
			m->wr[i].send_flags &= ~(unsigned int)IBV_SEND_SIGNALED;
			m->wr[i].next = use_prep ? NULL : &m->wr[i + 1];
		}
	}
	while (!__atomic_load_n(&mc_go, __ATOMIC_ACQUIRE))
		;
	while (done < m->iters) {
		if (posted - done + m->batch <= MC_DEPTH && posted < m->iters) {
			m->wr[m->batch - 1].wr_id = posted + m->batch - 1;
			/* One chained post, or (RZB_PREP) one post per WR, as rzone's side. */
			for (i = 0; i < (use_prep ? m->batch : 1); i++) {
				if (ibv_post_send(m->rd->rw.qp, &m->wr[i], &bad) != 0) {
					m->ret = -EIO;
					return NULL;
				}
			}
			posted += m->batch;
		}
		n = ibv_poll_cq(m->rd->rw.cq, MC_DEPTH, m->wc);
		if (n < 0) {
			m->ret = -EIO;
			return NULL;
		}
		for (k = 0; k < n; k++) {
			if (m->wc[k].status != IBV_WC_SUCCESS) {
				m->ret = -EIO;
				return NULL;
			}
			done = m->wc[k].wr_id + 1;
		}
	}
	m->t_end = rte_rdtsc_precise();
	return NULL;
}

/* One run of @n threads; 0 and the aggregate printed, or -errno. */
static int
mc_run(bool raw, int n, struct mc_thread *m, uint32_t pair, bool raw_first)
{
	uint64_t t0, t_end = 0;
	double sec;
	int i, ret = 0;

	__atomic_store_n(&mc_go, 0, __ATOMIC_RELEASE);
	for (i = 0; i < n; i++) {
		m[i].ret = 0;
		if (pthread_create(&m[i].t, NULL, raw ? mc_raw_main : mc_rz_main, &m[i]) != 0)
			return -EAGAIN;
	}
	usleep(10000);
	t0 = rte_rdtsc_precise();
	__atomic_store_n(&mc_go, 1, __ATOMIC_RELEASE);
	for (i = 0; i < n; i++) {
		pthread_join(m[i].t, NULL);
		if (m[i].ret != 0)
			ret = m[i].ret;
		t_end = RTE_MAX(t_end, m[i].t_end);
	}
	if (ret != 0)
		return ret;
	sec = us(t_end - t0) / 1e6;
	printf("%s lcores %d size %zu iters %u batch %u depth %u mib_s %.4f mops %.6f sec %.3f "
			"pair %u first %s post %s\n", raw ? "mcraw" : "mcrz", n, m[0].size,
			m[0].iters, m[0].batch, MC_DEPTH,
			(double)m[0].size * m[0].iters * n / sec / (1 << 20),
			(double)m[0].iters * n / sec / 1e6, sec, pair, raw_first ? "raw" : "rz",
			use_prep ? (raw ? "each" : "prep") : (raw ? "chain" : "burst"));
	return 0;
}

static struct mc_thread mc_threads[MC_MAX];
static struct raw_data mc_raw[MC_MAX];

static int
peer_mc(struct rz_peer **ch, int nch, const struct rz_rdma_mem *mem,
		const struct rz_rdma_desc *d, int argc, char **argv)
{
	const char *il = getenv("RZB_BW_INTERLEAVE");
	uint32_t pairs = il != NULL && atoi(il) > 0 ? (uint32_t)atoi(il) : 3, pr;
	size_t size = (size_t)atol(argv[0]);
	uint32_t iters = (uint32_t)atoi(argv[1]), batch = (uint32_t)atoi(argv[2]);
	volatile bool stop = false;
	char msg[64];
	int i, n, ret;

	if (batch == 0 || batch > RZ_REMOTE_BURST_MAX || batch > MC_DEPTH || iters % batch)
		return -EINVAL;
	for (i = 0; i < nch; i++) {
		ret = raw_data_up(&mc_raw[i]);
		if (ret != 0)
			return ret;
	}
	for (n = 1; n <= nch; n *= 2) {
		for (pr = 0; pr < pairs; pr++) {
			bool raw_first = (pr + (uint32_t)n) % 2 == 0;
			int side;

			for (side = 0; side < 2; side++) {
				bool raw = (side == 0) == raw_first;

				for (i = 0; i < n; i++)
					mc_threads[i] = (struct mc_thread){ .p = ch[i],
						.rd = &mc_raw[i], .mem = mem, .d = &d[i],
						.size = size, .iters = iters, .batch = batch };
				ret = mc_run(raw, n, mc_threads, pr, raw_first);
				if (ret != 0)
					return ret;
			}
		}
	}
	/* Grant + revoke on the owner: idle, then with 2 lcores writing on channels 0 and 1. */
	ret = rz_peer_send_msg(ch[0], "idle", 4);
	if (ret == 0)
		ret = rz_peer_recv_msg(ch[0], msg, TMO_MS) == 2 ? 0 : -EPROTO;	/* "go" */
	if (ret != 0)
		return ret;
	n = RTE_MIN(nch, 2);
	__atomic_store_n(&mc_go, 0, __ATOMIC_RELEASE);
	for (i = 0; i < n; i++) {
		mc_threads[i] = (struct mc_thread){ .p = ch[i], .mem = mem, .d = &d[i],
			.size = size, .iters = iters, .batch = batch, .stop = &stop };
		if (pthread_create(&mc_threads[i].t, NULL, mc_rz_main, &mc_threads[i]) != 0)
			return -EAGAIN;
	}
	__atomic_store_n(&mc_go, 1, __ATOMIC_RELEASE);
	usleep(100000);
	ret = rz_peer_send_msg(ch[0], "busy", 4);
	if (ret == 0 && rz_peer_recv_msg(ch[0], msg, TMO_MS) != 4)	/* "done" */
		ret = -EPROTO;
	stop = true;
	for (i = 0; i < n; i++) {
		pthread_join(mc_threads[i].t, NULL);
		if (mc_threads[i].ret != 0 && ret == 0)
			ret = mc_threads[i].ret;
	}
	for (i = 0; i < nch; i++)
		raw_data_close(&mc_raw[i]);
	return ret;
}

static int
owner_mc_grants(struct rz_region *r, struct rz_peer *p, uint32_t grants, const char *tag)
{
	struct rz_rdma_desc d;
	struct stats s;
	uint32_t i;
	int ret;

	for (i = 0; i < grants && i < MAX_ITERS; i++) {
		uint64_t t0 = rte_rdtsc_precise();

		ret = rz_rdma_grant_ext(r, p, RZ_MODE_SHARE, 0, 4096, 0, RZ_GRANT_F_NO_SEND, &d);
		if (ret == 0)
			ret = rz_rdma_revoke(&d);
		samples[i] = rte_rdtsc_precise() - t0;
		if (ret != 0)
			return ret;
	}
	stats_of(samples, i, &s);
	printf("mcgrant %s n %u p50_us %.1f p99_us %.1f\n", tag, i, s.p50, s.p99);
	return 0;
}

static int
owner_mc(struct rz_peer_listener *lst, struct rz_peer *p0, int argc, char **argv)
{
	int nch = atoi(argv[0]), i, ret;
	uint32_t grants = (uint32_t)atoi(argv[4]);
	struct rz_peer *ch[MC_MAX] = { p0 };
	struct rz_rdma_desc d;
	struct rz_region *r;
	char msg[64];

	if (nch < 1 || nch > MC_MAX || argc < 5)
		return -EINVAL;
	for (i = 1; i < nch; i++) {
		ch[i] = rz_peer_accept(lst, TMO_MS);
		if (ch[i] == NULL)
			return -rte_errno;
	}
	r = new_region(REGION_SZ);
	if (r == NULL)
		return -ENOMEM;
	for (i = 0; i < nch; i++) {
		ret = rz_rdma_grant(r, ch[i], RZ_MODE_SHARE, 0, 0, 0, &d);
		if (ret != 0)
			return ret;
	}
	ret = rz_peer_recv_msg(ch[0], msg, 20 * TMO_MS) == 4 ? 0 : -EPROTO;	/* "idle" */
	if (ret == 0)
		ret = owner_mc_grants(r, ch[0], grants, "idle");
	if (ret == 0)
		ret = rz_peer_send_msg(ch[0], "go", 2);
	if (ret == 0 && rz_peer_recv_msg(ch[0], msg, TMO_MS) != 4)	/* "busy" */
		ret = -EPROTO;
	if (ret == 0)
		ret = owner_mc_grants(r, ch[0], grants, "busy2");
	if (ret == 0)
		ret = rz_peer_send_msg(ch[0], "done", 4);
	for (i = 1; i < nch; i++)
		rz_peer_close(ch[i]);
	/* The region goes with the owner's exit path (rz_rdma_fini() revokes). */
	return ret;
}

static int
peer_main(int argc, char **argv)
{
	const char *mode = argv[2];
	struct rz_rdma_mem mem;
	struct rz_rdma_desc d;
	struct rz_peer *p;
	uint8_t *buf = NULL;
	int ret;

	if (argc < 5) {
		fprintf(stderr, "peer: usage: --peer MODE IP PORT ARGS...\n");
		return 1;
	}
	tsc_calibrate();
	use_prep = env_on("RZB_PREP");
	if (strcmp(mode, "pp") == 0) {
		const char *lc = getenv("RZB_PEER_LCORE");

		if (eal_up(argv[0], "rzbr-peer", lc != NULL ? lc : "0@(0,1)") != 0)
			return 1;
	}
	ret = rz_rdma_init(NULL);
	if (ret != 0) {
		fprintf(stderr, "peer: rz_rdma_init: %s\n", strerror(-ret));
		return 1;
	}
	if (strcmp(mode, "pp") != 0) {
		buf = aligned_alloc(MB2, PEER_BUF);
		if (buf == NULL)
			return 1;
		memset(buf, 0x5a, PEER_BUF);
		ret = rz_rdma_register_mem(buf, PEER_BUF, &mem);
		if (ret != 0) {
			fprintf(stderr, "peer: rz_rdma_register_mem: %s\n", strerror(-ret));
			return 1;
		}
	}
	p = rz_peer_connect(argv[3], (uint16_t)atoi(argv[4]), TMO_MS);
	if (p == NULL) {
		fprintf(stderr, "peer: rz_peer_connect(%s:%s): %s\n", argv[3], argv[4],
				strerror(rte_errno));
		return 1;
	}
	if (strcmp(mode, "sink") == 0) {
		/* Take descriptors and messages until the owner says stop. */
		unsigned long n = 0;

		for (;;) {
			char msg[64];

			ret = rz_peer_recv_desc(p, &d, TMO_MS);
			if (ret == 0) {
				n++;
				continue;
			}
			if (ret != -ENOMSG)
				break;
			/* A message: an rkey of the baseline's per-peer MR, or "stop". */
			ret = rz_peer_recv_msg(p, msg, TMO_MS);
			if (ret == 4 && memcmp(msg, "stop", 4) == 0) {
				ret = 0;
				break;
			}
			if (ret < 0)
				break;
		}
		if (ret != 0)
			fprintf(stderr, "peer: after %lu descriptors: %s\n", n, strerror(-ret));
	} else if (strcmp(mode, "pp") == 0) {
		struct size_iters si[MAX_SIZES];
		struct rz_region *own;
		int n = parse_sizes(argc - 5, argv + 5, si);

		ret = n > 0 ? pp_setup(p, false, &own, &mem, &d) : -EINVAL;
		if (ret == 0)
			ret = pingpong(p, own, &mem, &d, si, n, true);
		if (ret != 0)
			fprintf(stderr, "peer: ping-pong: %s\n", strerror(-ret));
	} else if (strcmp(mode, "mc") == 0) {
		static struct rz_rdma_desc dm[MC_MAX];
		struct rz_peer *ch[MC_MAX] = { p };
		int nch = argc > 9 ? atoi(argv[5]) : 0, i;

		ret = nch >= 1 && nch <= MC_MAX ? 0 : -EINVAL;
		for (i = 1; ret == 0 && i < nch; i++) {
			ch[i] = rz_peer_connect(argv[3], (uint16_t)atoi(argv[4]), TMO_MS);
			if (ch[i] == NULL)
				ret = -rte_errno;
		}
		for (i = 0; ret == 0 && i < nch; i++)
			ret = rz_peer_recv_desc(ch[i], &dm[i], TMO_MS);
		if (ret == 0)
			ret = peer_mc(ch, nch, &mem, dm, argc - 6, argv + 6);
		for (i = 1; i < nch; i++)
			if (ch[i] != NULL)
				rz_peer_close(ch[i]);
		if (ret != 0)
			fprintf(stderr, "peer: mc: %s\n", strerror(-ret));
	} else if (strcmp(mode, "cg") == 0) {
		struct raw_data rd;

		ret = rz_peer_recv_desc(p, &d, TMO_MS);
		if (ret == 0)
			ret = raw_data_up(&rd);
		if (ret == 0) {
			ret = peer_cg(p, &mem, &d, &rd, argc - 5, argv + 5);
			raw_data_close(&rd);
		}
		if (ret != 0)
			fprintf(stderr, "peer: cg: %s\n", strerror(-ret));
	} else if (strcmp(mode, "bw") == 0 && env_on("RZB_NO_RAW")) {
		ret = rz_peer_recv_desc(p, &d, TMO_MS);
		if (ret != 0)
			fprintf(stderr, "peer: rz_peer_recv_desc: %s\n", strerror(-ret));
		else
			ret = peer_bw(p, &mem, &d, NULL, argc - 5, argv + 5);
		if (ret != 0)
			fprintf(stderr, "peer: %s: %s\n", mode, strerror(-ret));
	} else if (strcmp(mode, "bw") == 0 || strcmp(mode, "lat") == 0) {
		/* The in-process raw-verbs baseline, next to the rzone connection. */
		struct raw_data rd;

		ret = rz_peer_recv_desc(p, &d, TMO_MS);
		if (ret != 0) {
			fprintf(stderr, "peer: rz_peer_recv_desc: %s\n", strerror(-ret));
		} else {
			ret = raw_data_up(&rd);
			if (ret != 0)
				fprintf(stderr, "peer: raw loopback QP: %s\n", strerror(-ret));
			else if (strcmp(mode, "bw") == 0)
				ret = peer_bw(p, &mem, &d, &rd, argc - 5, argv + 5);
			else
				ret = peer_lat(p, &mem, &d, &rd, argc - 5, argv + 5);
			raw_data_close(&rd);
		}
		if (ret != 0)
			fprintf(stderr, "peer: %s: %s\n", mode, strerror(-ret));
	} else {
		ret = -EINVAL;
		fprintf(stderr, "peer: unknown mode %s\n", mode);
	}
	/* An owner on another host waits for this (it cannot wait for our exit). */
	if (env_on("RZB_REMOTE_OWNER") && strcmp(mode, "pp") != 0)
		rz_peer_send_msg(p, ret == 0 ? "done" : "fail", 4);
	rz_peer_close(p);
	if (buf != NULL)
		rz_rdma_deregister_mem(&mem);
	rz_rdma_fini();
	free(buf);
	if (strcmp(mode, "pp") == 0)
		eal_down();
	return ret == 0 ? 0 : 1;
}

/* ---------------------------------------------------------------------------------------- */
/* Owner: the raw memory-window floor (mwfloor). */

/* Post one signaled WR and wait for @want completions (a SEND to ourselves also completes its
 * receive). */
static int
raw_post_wait(struct raw *rw, struct ibv_send_wr *wr, int want)
{
	struct ibv_send_wr *bad;
	struct ibv_wc wc[4];
	int got = 0;

	wr->send_flags |= IBV_SEND_SIGNALED;
	if (ibv_post_send(rw->qp, wr, &bad) != 0)
		return -EIO;
	while (got < want) {
		int i, n = ibv_poll_cq(rw->cq, 4, wc);

		if (n < 0)
			return -EIO;
		for (i = 0; i < n; i++)
			if (wc[i].status != IBV_WC_SUCCESS) {
				fprintf(stderr, "raw: wc %s\n", ibv_wc_status_str(wc[i].status));
				return -EIO;
			}
		got += n;
	}
	return 0;
}

/* The pure memory-window path with plain verbs: alloc, bind (type 2, on the QP), optionally a
 * descriptor-sized SEND, local invalidate, dealloc. */
static int
raw_mw_cycle(struct raw *rw, struct ibv_mr *mr, void *addr, size_t len, bool send)
{
	struct ibv_send_wr wr;
	struct ibv_mw *mw = ibv_alloc_mw(rw->pd, IBV_MW_TYPE_2);
	uint32_t rkey;
	int ret;

	if (mw == NULL)
		return -ENOMEM;
	rkey = ibv_inc_rkey(mw->rkey);
	memset(&wr, 0, sizeof(wr));
	wr.opcode = IBV_WR_BIND_MW;
	wr.bind_mw.mw = mw;
	wr.bind_mw.rkey = rkey;
	wr.bind_mw.bind_info.mr = mr;
	wr.bind_mw.bind_info.addr = (uintptr_t)addr;
	wr.bind_mw.bind_info.length = len;
	wr.bind_mw.bind_info.mw_access_flags = IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE |
			IBV_ACCESS_REMOTE_ATOMIC;
	ret = raw_post_wait(rw, &wr, 1);
	if (ret == 0 && send) {
		struct ibv_sge rsge = { (uintptr_t)rw->msg + 2048, 128, rw->msg_mr->lkey };
		struct ibv_sge ssge = { (uintptr_t)rw->msg, RZ_RDMA_DESC_SIZE, rw->msg_mr->lkey };
		struct ibv_recv_wr rwr = { .sg_list = &rsge, .num_sge = 1 }, *rbad;

		if (ibv_post_recv(rw->qp, &rwr, &rbad) != 0)
			ret = -EIO;
		memset(&wr, 0, sizeof(wr));
		wr.opcode = IBV_WR_SEND;
		wr.sg_list = &ssge;
		wr.num_sge = 1;
		if (ret == 0)
			ret = raw_post_wait(rw, &wr, 2);
	}
	if (ret == 0) {
		memset(&wr, 0, sizeof(wr));
		wr.opcode = IBV_WR_LOCAL_INV;
		wr.invalidate_rkey = rkey;
		ret = raw_post_wait(rw, &wr, 1);
	}
	ibv_dealloc_mw(mw);
	return ret;
}

/* ---------------------------------------------------------------------------------------- */
/* Owner modes. */

/* The four ways of giving a peer access to a region and taking it back, timed in one run:
 *   REG      ibv_reg_mr + ibv_dereg_mr of a per-peer MR (the rkey is not sent anywhere);
 *   WIN      rz_rdma_grant_ext(RZ_GRANT_F_NO_SEND) + rz_rdma_revoke: bind + invalidate, the
 *            comparison the issue names (the application sends the descriptor, not timed);
 *   REGSEND  ibv_reg_mr + a 4-byte rz_peer_send_msg (the rkey, to the same peer over the same
 *            QP, completion waited) + ibv_dereg_mr: a per-peer MR whose peer learns its rkey;
 *   GRANT    rz_rdma_grant + rz_rdma_revoke: bind, the 80-byte descriptor SEND, invalidate.
 * REG vs WIN is the window against the MR, REGSEND vs GRANT the same with the delivery on both
 * sides, REG vs GRANT (the strictest) rzone's full call against a baseline that sends nothing. */
enum { G_REG, G_WIN, G_REGSEND, G_GRANT, G_NOPS };
#define GRANT_BLOCK	10
#define GRANT_MAX_IT	10000

/* [op][0]: whole operation, [1] its first half (reg or grant), [2] its second (dereg, revoke) */
static uint64_t gsamples[G_NOPS][3][GRANT_MAX_IT];

static int
grant_op(int op, uint32_t k, struct rz_region *r, struct rz_peer *p, struct raw *rw, void *addr,
		size_t size)
{
	struct rz_rdma_desc d;
	uint64_t t0, t1, t2;
	struct ibv_mr *mr;
	int ret = 0;

	t0 = rte_rdtsc_precise();
	switch (op) {
	case G_REG:
	case G_REGSEND:
		mr = ibv_reg_mr(rw->pd, addr, size, BASE_ACCESS);
		if (mr == NULL)
			return -EIO;
		if (op == G_REGSEND) {
			uint32_t msg[2] = { mr->rkey, 0 };	/* 8 bytes: never "stop" */

			ret = rz_peer_send_msg(p, msg, sizeof(msg));
		}
		t1 = rte_rdtsc_precise();
		if (ibv_dereg_mr(mr) != 0 && ret == 0)
			ret = -EIO;
		break;
	default:
		ret = rz_rdma_grant_ext(r, p, RZ_MODE_SHARE, 0, 0, 0,
				op == G_WIN ? RZ_GRANT_F_NO_SEND : 0, &d);
		t1 = rte_rdtsc_precise();
		if (ret == 0)
			ret = rz_rdma_revoke(&d);
		break;
	}
	t2 = rte_rdtsc_precise();
	gsamples[op][0][k] = t2 - t0;
	gsamples[op][1][k] = t1 - t0;
	gsamples[op][2][k] = t2 - t1;
	return ret;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of the GRANT_BLOCK samples at @v (a copy is sorted). */
static double
block_median(const uint64_t *v)
{
	uint64_t c[GRANT_BLOCK];

	memcpy(c, v, sizeof(c));
	qsort(c, GRANT_BLOCK, sizeof(c[0]), cmp_u64);
	return ((double)c[GRANT_BLOCK / 2 - 1] + (double)c[GRANT_BLOCK / 2]) / 2;
}

static const char *const gop_name[G_NOPS] = { "reg", "win", "regsend", "gr" };

/* One design: "inter" (each iteration runs the four once, in a random order, so that each
 * follows each of the others equally often) or "block" (runs of GRANT_BLOCK of one, the order
 * of the runs rotated by one each block: each operation timed after its own kind, the way an
 * application runs it, and the slow drift of a TCG guest spread over all four). */
static int
grant_design(bool blocked, struct rz_region *r, struct rz_peer *p, struct raw *rw, void *addr,
		size_t size, uint32_t iters)
{
	static double win_ratio[GRANT_MAX_IT / GRANT_BLOCK], gr_ratio[GRANT_MAX_IT / GRANT_BLOCK];
	struct stats st[G_NOPS][3];
	uint32_t k, j, i, nb;
	int op, ret = 0;

	if (!blocked) {
		for (k = 0; k < iters && ret == 0; k++) {
			int order[G_NOPS] = { G_REG, G_WIN, G_REGSEND, G_GRANT };

			for (j = G_NOPS - 1; j > 0; j--) {	/* Fisher-Yates */
				uint32_t x = (uint32_t)rte_rand_max(j + 1);
				int t = order[j];

				order[j] = order[x];
				order[x] = t;
			}
			for (j = 0; j < G_NOPS && ret == 0; j++) {
				op = order[j];
				ret = grant_op(op, k, r, p, rw, addr, size);
				if (ret != 0)
					fprintf(stderr, "inter %s %u: %s\n", gop_name[op], k,
							strerror(-ret));
			}
		}
	} else {
		for (k = 0; k < iters && ret == 0; k += GRANT_BLOCK)
			for (j = 0; j < G_NOPS && ret == 0; j++) {
				op = (int)((j + k / GRANT_BLOCK) % G_NOPS);
				for (i = k; i < RTE_MIN(k + GRANT_BLOCK, iters) && ret == 0; i++)
					ret = grant_op(op, i, r, p, rw, addr, size);
				if (ret != 0)
					fprintf(stderr, "block %s %u: %s\n", gop_name[op], i - 1,
							strerror(-ret));
			}
	}
	if (ret != 0)
		return ret;
	/* Per block (a blocked run: each op's median over its run of GRANT_BLOCK, the runs
	 * next to each other in time), the two speedups: how far the worst block falls. */
	nb = 0;
	for (k = 0; blocked && k + GRANT_BLOCK <= iters; k += GRANT_BLOCK, nb++) {
		double reg = block_median(gsamples[G_REG][0] + k);

		win_ratio[nb] = reg / block_median(gsamples[G_WIN][0] + k);
		gr_ratio[nb] = block_median(gsamples[G_REGSEND][0] + k) /
			block_median(gsamples[G_GRANT][0] + k);
	}
	for (op = 0; op < G_NOPS; op++)
		for (j = 0; j < 3; j++)
			stats_of(gsamples[op][j], iters, &st[op][j]);
	printf("rzgrant size %zu iters %u design %s", size, iters, blocked ? "block" : "inter");
	for (op = 0; op < G_NOPS; op++)
		printf(" %s_p50 %.3f %s_mean %.3f %s_p99 %.3f %s_a_p50 %.3f %s_b_p50 %.3f",
				gop_name[op], st[op][0].p50, gop_name[op], st[op][0].mean,
				gop_name[op], st[op][0].p99, gop_name[op], st[op][1].p50,
				gop_name[op], st[op][2].p50);
	if (nb > 0) {
		qsort(win_ratio, nb, sizeof(double), cmp_double);
		qsort(gr_ratio, nb, sizeof(double), cmp_double);
		printf(" blocks %u win_blk_min %.2f win_blk_med %.2f gr_blk_min %.2f "
				"gr_blk_med %.2f", nb, win_ratio[0], win_ratio[nb / 2], gr_ratio[0],
				gr_ratio[nb / 2]);
	}
	printf("\n");
	fflush(stdout);
	return 0;
}

static int
owner_grant(struct rz_peer *p, int argc, char **argv)
{
	uint32_t iters = (uint32_t)atoi(argv[0]);
	struct raw rw;
	int i, ret = 0;

	if (argc < 2 || iters == 0 || iters > GRANT_MAX_IT)
		return -EINVAL;
	ret = raw_open(&rw);
	if (ret != 0)
		return ret;
	for (i = 1; i < argc && ret == 0; i++) {
		size_t size = (size_t)strtoull(argv[i], NULL, 0);
		struct rz_region *r = new_region(size);
		struct rz_rdma_mem m;

		if (r == NULL) {
			ret = -ENOMEM;
			break;
		}
		/* The arena MR exists before the first grant. */
		ret = rz_rdma_register(r, &m);
		if (ret == 0)
			ret = grant_design(false, r, p, &rw, m.addr, size, iters);
		if (ret == 0)
			ret = grant_design(true, r, p, &rw, m.addr, size, iters);
		if (ret != 0)
			fprintf(stderr, "grant %zu: %s\n", size, strerror(-ret));
		rz_region_destroy(r);
	}
	rz_peer_send_msg(p, "stop", 4);
	raw_close(&rw);
	return ret;
}

/* The pure-MW floor, with plain verbs on a loopback QP of our own (not through rzone). */
static int
owner_mw_floor(int argc, char **argv)
{
	uint32_t iters = (uint32_t)atoi(argv[0]), k;
	const char *gi = getenv("RZB_GID_INDEX");
	struct raw rw;
	int i, ret;

	ret = raw_open(&rw);
	if (ret == 0)
		ret = raw_qp_up(&rw, gi != NULL ? atoi(gi) : 1, &raw_shape_ctrl);
	if (ret != 0) {
		fprintf(stderr, "raw loopback QP: %s\n", strerror(-ret));
		raw_close(&rw);
		return ret;
	}
	for (i = 1; i < argc && ret == 0; i++) {
		size_t size = (size_t)strtoull(argv[i], NULL, 0);
		struct rz_region *r = new_region(size);
		struct stats smw, smws;
		struct ibv_mr *mr;

		if (r == NULL)
			return -ENOMEM;
		mr = ibv_reg_mr(rw.pd, rz_region_addr(r), size, IBV_ACCESS_LOCAL_WRITE |
				IBV_ACCESS_MW_BIND);
		if (mr == NULL)
			return -EIO;
		for (k = 0; k < iters && ret == 0; k++) {
			uint64_t t0, t1, t2;

			t0 = rte_rdtsc_precise();
			ret = raw_mw_cycle(&rw, mr, rz_region_addr(r), size, false);
			t1 = rte_rdtsc_precise();
			if (ret == 0)
				ret = raw_mw_cycle(&rw, mr, rz_region_addr(r), size, true);
			t2 = rte_rdtsc_precise();
			samples[k] = t1 - t0;
			samples2[k] = t2 - t1;
		}
		ibv_dereg_mr(mr);
		rz_region_destroy(r);
		if (ret != 0) {
			fprintf(stderr, "raw MW cycle: %s\n", strerror(-ret));
			break;
		}
		stats_of(samples, iters, &smw);
		stats_of(samples2, iters, &smws);
		printf("rzmw size %zu iters %u mw_p50 %.3f mw_mean %.3f mwsend_p50 %.3f "
				"mwsend_mean %.3f\n", size, iters, smw.p50, smw.mean, smws.p50,
				smws.mean);
		fflush(stdout);
	}
	raw_close(&rw);
	return ret;
}

static int
owner_reg(int argc, char **argv)
{
	uint32_t arenas, warm, a, k;
	const size_t len = (size_t)RZB_ARENA_PAGES * MB2;
	struct rz_region *r[64];
	double raw_reg = 0, raw_dereg = 0, cold = 0, warm_us = 0;
	struct raw rw;
	int ret;

	if (argc < 2)
		return -EINVAL;
	arenas = (uint32_t)atoi(argv[0]);
	warm = (uint32_t)atoi(argv[1]);
	if (arenas == 0 || arenas > RTE_DIM(r) || warm == 0)
		return -EINVAL;
	ret = raw_open(&rw);
	if (ret != 0)
		return ret;
	/* Regions of a whole shared arena each: every one gets an arena (and an MR) of its own.
	 * They stay alive until the end, so that no arena is reused. */
	for (a = 0; a < arenas && ret == 0; a++) {
		struct rz_rdma_mem m;
		struct ibv_mr *mr;
		uint64_t t0, t1, t2, t3, t4, t5;
		bool raw_first = (a & 1) == 0;

		r[a] = new_region(len);
		if (r[a] == NULL) {
			fprintf(stderr, "reg: only %u arenas of %zu MiB fit\n", a, len >> 20);
			arenas = a;
			break;
		}
		t0 = t1 = t2 = t3 = 0;
		if (!raw_first) {
			t2 = rte_rdtsc_precise();
			ret = rz_rdma_register(r[a], &m);
			t3 = rte_rdtsc_precise();
		}
		t0 = rte_rdtsc_precise();
		mr = ibv_reg_mr(rw.pd, rz_region_addr(r[a]), len, IBV_ACCESS_LOCAL_WRITE |
				IBV_ACCESS_MW_BIND);
		t1 = rte_rdtsc_precise();
		if (mr == NULL) {
			ret = -EIO;
			break;
		}
		ibv_dereg_mr(mr);
		t4 = rte_rdtsc_precise();
		if (raw_first) {
			t2 = rte_rdtsc_precise();
			ret = rz_rdma_register(r[a], &m);
			t3 = rte_rdtsc_precise();
		}
		if (ret != 0)
			break;
		raw_reg += us(t1 - t0);
		raw_dereg += us(t4 - t1);
		cold += us(t3 - t2);
		t5 = rte_rdtsc_precise();
		for (k = 0; k < warm && ret == 0; k++)
			ret = rz_rdma_register(r[a], &m);
		warm_us += us(rte_rdtsc_precise() - t5) / warm;
		printf("rzreg arena %u bytes %zu raw_reg_us %.1f raw_dereg_us %.1f cold_us %.1f "
				"warm_us %.3f order %s\n", a, len, us(t1 - t0), us(t4 - t1),
				us(t3 - t2), us(rte_rdtsc_precise() - t5) / warm,
				raw_first ? "raw-first" : "rzone-first");
		fflush(stdout);
	}
	if (arenas > 0) {
		double gib = (double)arenas * (double)len / (double)(1ull << 30);

		printf("rzregsum arenas %u bytes_each %zu raw_reg_ms_per_gib %.2f "
				"raw_dereg_ms_per_gib %.2f cold_ms_per_gib %.2f "
				"warm_us_per_call %.3f\n",
				arenas, len, raw_reg / 1000 / gib, raw_dereg / 1000 / gib,
				cold / 1000 / gib, warm_us / arenas);
	}
	for (k = 0; k < arenas; k++)
		rz_region_destroy(r[k]);
	raw_close(&rw);
	return ret;
}

static int
owner_main(int argc, char **argv)
{
	const char *mode = argv[1];
	const char *lc = getenv("RZB_OWNER_LCORE");
	struct rz_peer_listener *lst = NULL;
	struct rz_region *r = NULL;
	struct rz_peer *p = NULL;
	struct rz_rdma_desc d;
	struct rz_rdma_mem mem;
	pid_t pid = -1;
	bool remote = false;
	int ret, st = 0;

	tsc_calibrate();
	if (eal_up(argv[0], "rzbr", lc != NULL ? lc : "0@(0,1)") != 0)
		return 1;
	ret = rz_rdma_init(NULL);
	if (ret != 0) {
		fprintf(stderr, "rz_rdma_init: %s\n", strerror(-ret));
		return 1;
	}
	banner(mode);
	if (strcmp(mode, "reg") == 0) {
		ret = owner_reg(argc - 2, argv + 2);
		goto out;
	}
	if (strcmp(mode, "mwfloor") == 0) {
		ret = owner_mw_floor(argc - 2, argv + 2);
		goto out;
	}
	remote = env_on("RZB_REMOTE_PEER");
	lst = rz_peer_listen(bench_ip(), getenv("RZB_PORT") != NULL ?
			(uint16_t)atoi(getenv("RZB_PORT")) : 0);
	if (lst == NULL) {
		fprintf(stderr, "rz_peer_listen(%s): %s\n", bench_ip(), strerror(rte_errno));
		ret = -rte_errno;
		goto out;
	}
	if (remote) {
		/* The peer is started on the other host (perf/rdma/wire.sh). */
		printf("rzlisten %s %u\n", bench_ip(), rz_peer_listener_port(lst));
		fflush(stdout);
	} else if (strcmp(mode, "grant") == 0) {
		char *pargs[] = { (char *)(uintptr_t)"sink" };

		pid = spawn_peer(pargs, 1, rz_peer_listener_port(lst));
	} else {
		pid = spawn_peer(argv + 1, argc - 1, rz_peer_listener_port(lst));
	}
	if (pid < 0 && !remote) {
		ret = -ECHILD;
		goto out;
	}
	p = rz_peer_accept(lst, remote ? 10 * TMO_MS : TMO_MS);
	if (p == NULL) {
		fprintf(stderr, "rz_peer_accept: %s\n", strerror(rte_errno));
		ret = -rte_errno;
		goto out;
	}
	if (strcmp(mode, "grant") == 0) {
		ret = owner_grant(p, argc - 2, argv + 2);
	} else if (strcmp(mode, "mc") == 0) {
		ret = owner_mc(lst, p, argc - 2, argv + 2);
	} else if (strcmp(mode, "pp") == 0) {
		struct size_iters si[MAX_SIZES];
		int n = parse_sizes(argc - 2, argv + 2, si);

		ret = n > 0 ? pp_setup(p, true, &r, &mem, &d) : -EINVAL;
		if (ret == 0)
			ret = pingpong(p, r, &mem, &d, si, n, false);
	} else if (strcmp(mode, "bw") == 0 || strcmp(mode, "lat") == 0 ||
			strcmp(mode, "cg") == 0) {
		r = new_region(REGION_SZ);
		ret = r == NULL ? -ENOMEM : rz_rdma_grant(r, p, RZ_MODE_SHARE, 0, 0, 0, &d);
		/* The owner is passive while the peer works (as perftest's server is). A peer
		 * on another host says when it is done (a loss-ridden run takes minutes). */
		if (ret == 0 && remote) {
			char msg[64];
			int n = rz_peer_recv_msg(p, msg, 30 * 60 * 1000);

			if (n != 4 || memcmp(msg, "done", 4) != 0)
				ret = n < 0 ? n : -EIO;
		}
	} else {
		ret = -EINVAL;
	}
out:
	if (pid > 0) {
		st = wait_peer(pid);
		if (st != 0)
			fprintf(stderr, "peer exited with status %d\n", st);
	}
	if (ret != 0)
		fprintf(stderr, "%s: %s\n", mode, strerror(-ret));
	rz_peer_close(p);
	if (r != NULL)
		rz_region_destroy(r);
	rz_peer_listener_close(lst);
	rz_rdma_fini();
	eal_down();
	return ret != 0 || st != 0 ? 1 : 0;
}

int
main(int argc, char **argv)
{
	ssize_t n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);

	if (n <= 0)
		return 1;
	self_exe[n] = '\0';
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && strcmp(argv[1], "--peer") == 0)
		return peer_main(argc, argv);
	if (argc < 3) {
		fprintf(stderr, "usage: %s bw|lat|pp|grant|mwfloor|reg ARGS... (see the source)\n",
				argv[0]);
		return 2;
	}
	return owner_main(argc, argv);
}
