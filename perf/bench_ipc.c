/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * rz-bench-ipc: the cost of mapping a region into ANOTHER process, which rzone asks of that
 * process's control thread through the mailboxes of the shared table (lib/mp/mp.c).
 *
 * The benchmark (the primary) forks and execs itself as secondaries of the same instance (same
 * binary, same EAL arguments plus --proc-type=secondary, a role flag after "--"). Each secondary
 * attaches (rte_eal_init + rz_init), registers two trivial rte_mp echo actions, starts a futex
 * echo thread and waits on a pipe. For each of N iterations, interleaved, one process times:
 *   fx:    a round trip through a shared futex pair to a thread of the other process, which
 *          wakes, answers and wakes the caller: the floor of rzone's mailbox (a request is one
 *          cross-process futex wake to the target's control thread, the answer one back);
 *   raw:   rte_mp_request_sync() of an echo action, answered in the EAL IPC thread: DPDK's IPC
 *          floor (primary <-> secondary only: a secondary's rte_mp reaches only the primary);
 *   hop:   the same, answered by a worker thread (rzone's former design);
 *   rzone: rz_region_map(r, peer, NULL, RZ_PERM_RW) and rz_region_unmap(r, peer).
 * Directions: primary -> secondary, secondary -> primary, secondary -> secondary, each with 1, 4
 * and 8 secondaries attached (the others idle).
 *
 * Usage: rz-bench-ipc <EAL args> [-- [--iters N] [--warmup N] [--secondaries LIST (1,4,8)]]
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_memzone.h>
#include <rte_string_fns.h>

#include "rzone.h"

#include "bench_common.h"

#define PING_ACTION	"rzb_ping"
#define HOP_ACTION	"rzb_hop"
#define PING_LEN	72	/* the size of rzone's own IPC message body */
#define ROLE_FLAG	"--secondary"
#define CHILD_CTL_FD	3	/* the secondary reads commands here */
#define CHILD_RES_FD	4	/* and writes its answers here */
#define IPC_TIMEOUT_S	2	/* as rzone's own requests */
#define READY_TIMEOUT_MS 60000
#define RESULT_TIMEOUT_MS 300000

#define MAX_KIDS	16	/* secondaries */
#define MAX_COUNTS	4	/* entries of --secondaries */
#define FX_MZ		"rzb_fx"

struct opts {
	unsigned int iters;
	unsigned int warmup;
	unsigned int counts[MAX_COUNTS];	/* secondaries attached for each run */
	unsigned int ncounts;
	unsigned int index;	/* secondary: its futex echo slot (1..) */
	bool secondary;
};

/* What one direction measured, in microseconds. */
struct dir_result {
	int32_t status;		/* 0, or -errno of the first failure */
	uint32_t iters;
	char what[96];		/* the failing call */
	uint32_t has_mp;	/* raw and hop were measured */
	struct bc_stats fx, raw, hop, map, unmap, pair, alive;
};

struct ready_msg {
	int32_t status;
	int32_t pid;
};

struct cmd_msg {
	uint32_t cmd;		/* 'R': run towards @peer (pid), futex echo slot @peer_index */
	uint32_t iters;
	uint32_t warmup;
	int32_t peer;
	uint32_t peer_index;
	uint32_t with_mp;	/* also time raw and hop (the peer is the primary) */
};

/* ----------------------------------------------------------------------------------------- */
/* The futex echo: one pair of words per process (slot 0: the primary), in a memzone of the  */
/* instance. A caller bumps @req and wakes; the echo thread copies it to @ack and wakes.     */

struct fx_slot {
	uint32_t req;
	uint32_t ack;
	uint32_t stop;
	uint8_t pad[RTE_CACHE_LINE_SIZE - 12];
};

static struct fx_slot *fx_slots;
static struct {
	pthread_t thread;
	bool running;
	uint32_t index;
} fx;

static void
fx_wait(uint32_t *w, uint32_t v)
{
	struct timespec ts = { .tv_sec = IPC_TIMEOUT_S, .tv_nsec = 0 };

	syscall(SYS_futex, w, FUTEX_WAIT, v, &ts, NULL, 0);
}

static void
fx_wake(uint32_t *w)
{
	syscall(SYS_futex, w, FUTEX_WAKE, 1, NULL, NULL, 0);
}

static void *
fx_thread(void *arg)
{
	struct fx_slot *me = &fx_slots[fx.index];
	uint32_t seen = __atomic_load_n(&me->req, __ATOMIC_ACQUIRE);

	RTE_SET_USED(arg);
	while (!__atomic_load_n(&me->stop, __ATOMIC_ACQUIRE)) {
		uint32_t v = __atomic_load_n(&me->req, __ATOMIC_ACQUIRE);

		if (v == seen) {
			fx_wait(&me->req, v);
			continue;
		}
		seen = v;
		__atomic_store_n(&me->ack, v, __ATOMIC_RELEASE);
		fx_wake(&me->ack);
	}
	return NULL;
}

static int
fx_start(uint32_t index)
{
	const struct rte_memzone *mz;
	int ret;

	if (rte_eal_process_type() == RTE_PROC_PRIMARY)
		mz = rte_memzone_reserve(FX_MZ, sizeof(struct fx_slot) * (MAX_KIDS + 1),
				SOCKET_ID_ANY, 0);
	else
		mz = rte_memzone_lookup(FX_MZ);
	if (mz == NULL || index > MAX_KIDS)
		return -ENOMEM;
	fx_slots = mz->addr;
	if (index == 0)
		memset(fx_slots, 0, mz->len);
	fx.index = index;
	ret = rte_ctrl_thread_create(&fx.thread, "rzb-fx", NULL, fx_thread, NULL);
	if (ret != 0)
		return -ret;
	fx.running = true;
	return 0;
}

static void
fx_stop(void)
{
	if (!fx.running)
		return;
	__atomic_store_n(&fx_slots[fx.index].stop, 1, __ATOMIC_RELEASE);
	__atomic_add_fetch(&fx_slots[fx.index].req, 1, __ATOMIC_RELEASE);
	fx_wake(&fx_slots[fx.index].req);
	pthread_join(fx.thread, NULL);
	fx.running = false;
}

/* One futex round trip to the echo thread of slot @index. */
static int
fx_once(uint32_t index, uint64_t *cycles)
{
	struct fx_slot *s = &fx_slots[index];
	uint64_t t0 = bc_tsc(), deadline = t0 + rte_get_tsc_hz() * IPC_TIMEOUT_S;
	uint32_t v = __atomic_add_fetch(&s->req, 1, __ATOMIC_ACQ_REL), a;

	fx_wake(&s->req);
	while ((a = __atomic_load_n(&s->ack, __ATOMIC_ACQUIRE)) != v) {
		if (bc_tsc() > deadline)
			return -1;
		fx_wait(&s->ack, a);
	}
	*cycles = bc_tsc() - t0;
	return 0;
}

/* ----------------------------------------------------------------------------------------- */

/* Both processes: echo the request straight from the EAL IPC thread. */
static int
ping_handler(const struct rte_mp_msg *msg, const void *peer)
{
	struct rte_mp_msg rep;

	memset(&rep, 0, sizeof(rep));
	strlcpy(rep.name, msg->name, sizeof(rep.name));
	rep.len_param = msg->len_param;
	memcpy(rep.param, msg->param, (size_t)msg->len_param);
	return rte_mp_reply(&rep, peer);
}

/*
 * The echo through a worker thread. The requester is synchronous and alone, so one request is
 * outstanding at most: a single slot, handed over by a semaphore.
 */
static struct {
	sem_t wake;
	pthread_t thread;
	bool running;
	volatile bool stop;
	struct rte_mp_msg msg;
	char peer[PATH_MAX];
} hop;

static int
hop_handler(const struct rte_mp_msg *msg, const void *peer)
{
	hop.msg = *msg;
	strlcpy(hop.peer, peer, sizeof(hop.peer));
	sem_post(&hop.wake);
	return 0;
}

static void *
hop_thread(void *arg)
{
	RTE_SET_USED(arg);
	for (;;) {
		if (sem_wait(&hop.wake) < 0)
			continue;
		if (hop.stop)
			break;
		ping_handler(&hop.msg, hop.peer);
	}
	return NULL;
}

/* Both processes: register the two echo actions (and start the worker of the second). */
static int
echo_start(void)
{
	int ret;

	if (sem_init(&hop.wake, 0, 0) < 0)
		return -errno;
	/* A control thread, as rzone's own "rz-ctl": same CPU affinity. */
	ret = rte_ctrl_thread_create(&hop.thread, "rzb-hop", NULL, hop_thread, NULL);
	if (ret != 0) {
		sem_destroy(&hop.wake);
		return -ret;
	}
	hop.running = true;
	if (rte_mp_action_register(PING_ACTION, ping_handler) < 0 ||
			rte_mp_action_register(HOP_ACTION, hop_handler) < 0)
		return -rte_errno;
	return 0;
}

static void
echo_stop(void)
{
	rte_mp_action_unregister(PING_ACTION);
	rte_mp_action_unregister(HOP_ACTION);
	if (!hop.running)
		return;
	hop.stop = true;
	sem_post(&hop.wake);
	pthread_join(hop.thread, NULL);
	sem_destroy(&hop.wake);
	hop.running = false;
}

/* One raw round trip: request, wait for the single answer, release it (as rzone does). */
static int
ping_once(const char *action, uint64_t *cycles)
{
	struct timespec ts = { .tv_sec = IPC_TIMEOUT_S, .tv_nsec = 0 };
	struct rte_mp_reply rep;
	struct rte_mp_msg m;
	uint64_t t0;
	int ret;

	t0 = bc_tsc();
	memset(&m, 0, sizeof(m));
	strlcpy(m.name, action, sizeof(m.name));
	m.len_param = PING_LEN;
	memset(&rep, 0, sizeof(rep));
	ret = rte_mp_request_sync(&m, &rep, &ts);
	/* Every peer asked must have answered (a primary asks every secondary). */
	if (ret == 0 && (rep.nb_received < 1 || rep.nb_received != rep.nb_sent))
		ret = -1;
	free(rep.msgs);
	*cycles = bc_tsc() - t0;
	return ret;
}

static int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read exactly @len bytes within @timeout_ms; 1 on EOF before any byte, -1 on error/timeout. */
static int
read_all(int fd, void *buf, size_t len, int timeout_ms)
{
	char *p = buf;
	size_t got = 0;

	while (got < len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;
		int ret = poll(&pfd, 1, timeout_ms);

		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0)
			return -1;
		n = read(fd, p + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			return got == 0 ? 1 : -1;
		if (n < 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

/* One rzone round: map into @peer, check the mapping, unmap; t[0..3] around map and unmap. */
static int
rz_round(struct rz_region *r, pid_t peer, uint64_t t[4], char *what, size_t len)
{
	int ret;

	t[0] = bc_tsc();
	ret = rz_region_map(r, peer, NULL, RZ_PERM_RW);
	t[1] = bc_tsc();
	if (ret < 0) {
		snprintf(what, len, "rz_region_map(pid %d)", (int)peer);
		return ret;
	}
	if (rz_region_get_mapping(r, peer) == NULL) {
		snprintf(what, len, "rz_region_get_mapping(pid %d)", (int)peer);
		return -ENOENT;
	}
	t[2] = bc_tsc();
	ret = rz_region_unmap(r, peer);
	t[3] = bc_tsc();
	if (ret < 0)
		snprintf(what, len, "rz_region_unmap(pid %d)", (int)peer);
	return ret;
}

/*
 * The measurement loop of one direction: this process owns a region and maps it into @peer
 * (futex echo slot @peer_index). Each iteration runs a futex echo, (@with_mp) a raw and a
 * worker-thread rte_mp echo, and a map+unmap, in an order that rotates so that none of them
 * always follows the same one.
 */
static void
run_direction(pid_t peer, uint32_t peer_index, bool with_mp, unsigned int warmup,
		unsigned int iters, struct dir_result *res)
{
	double *v = calloc(7 * (size_t)iters, sizeof(*v));
	double *raw = v, *hopv = v + iters, *map = v + 2 * (size_t)iters;
	double *unmap = v + 3 * (size_t)iters, *pair = v + 4 * (size_t)iters;
	double *alive = v + 5 * (size_t)iters, *fxv = v + 6 * (size_t)iters;
	unsigned int i, k, nops = with_mp ? 4 : 2;
	struct rz_region *r;
	int ret = 0;

	memset(res, 0, sizeof(*res));
	res->iters = iters;
	res->has_mp = with_mp;
	if (v == NULL) {
		res->status = -ENOMEM;
		snprintf(res->what, sizeof(res->what), "calloc");
		return;
	}
	r = rz_region_create(RZ_PID_SELF, 1, RZ_PERM_RW);
	if (r == NULL) {
		res->status = -rte_errno;
		snprintf(res->what, sizeof(res->what), "rz_region_create");
		free(v);
		return;
	}
	for (i = 0; i < warmup + iters && ret == 0; i++) {
		uint64_t c_raw = 0, c_hop = 0, c_fx = 0, t[4] = { 0 };

		for (k = 0; k < nops && ret == 0; k++) {
			switch ((i + k) % nops) {
			case 0:
				ret = rz_round(r, peer, t, res->what, sizeof(res->what));
				break;
			case 1:
				ret = fx_once(peer_index, &c_fx) < 0 ? -ETIMEDOUT : 0;
				if (ret < 0)
					snprintf(res->what, sizeof(res->what), "futex echo");
				break;
			case 2:
				ret = ping_once(PING_ACTION, &c_raw) < 0 ? -ETIMEDOUT : 0;
				if (ret < 0)
					snprintf(res->what, sizeof(res->what),
							"rte_mp_request_sync(%s)", PING_ACTION);
				break;
			default:
				ret = ping_once(HOP_ACTION, &c_hop) < 0 ? -ETIMEDOUT : 0;
				if (ret < 0)
					snprintf(res->what, sizeof(res->what),
							"rte_mp_request_sync(%s)", HOP_ACTION);
				break;
			}
		}
		if (ret < 0 || i < warmup)
			continue;
		fxv[i - warmup] = bc_ns(c_fx) / 1e3;
		raw[i - warmup] = bc_ns(c_raw) / 1e3;
		hopv[i - warmup] = bc_ns(c_hop) / 1e3;
		map[i - warmup] = bc_ns(t[1] - t[0]) / 1e3;
		unmap[i - warmup] = bc_ns(t[3] - t[2]) / 1e3;
		pair[i - warmup] = map[i - warmup] + unmap[i - warmup];
	}
	res->status = ret;
	if (ret == 0) {
		/* What every remote map/unmap checks first: is @peer attached and alive? */
		for (i = 0; i < iters; i++) {
			uint64_t t0 = bc_tsc();
			int a = rz_process_attached(peer);

			alive[i] = bc_ns(bc_tsc() - t0) / 1e3;
			if (a != 1) {
				res->status = -ESRCH;
				snprintf(res->what, sizeof(res->what), "rz_process_attached");
				break;
			}
		}
		bc_stats_compute(fxv, iters, &res->fx);
		bc_stats_compute(raw, iters, &res->raw);
		bc_stats_compute(hopv, iters, &res->hop);
		bc_stats_compute(map, iters, &res->map);
		bc_stats_compute(unmap, iters, &res->unmap);
		bc_stats_compute(pair, iters, &res->pair);
		bc_stats_compute(alive, iters, &res->alive);
	}
	ret = rz_region_destroy(r);
	if (ret < 0 && res->status == 0) {
		res->status = ret;
		snprintf(res->what, sizeof(res->what), "rz_region_destroy");
	}
	free(v);
}

/* ----------------------------------------------------------------------------------------- */
/* The secondary                                                                             */

static uint32_t o_index;	/* this secondary's futex echo slot */

static int
secondary_main(void)
{
	struct ready_msg ready = { .status = 0, .pid = (int32_t)getpid() };
	struct cmd_msg cmd;
	int ret;

	ret = rz_init();
	if (ret == 0)
		ret = echo_start();
	if (ret == 0)
		ret = fx_start(o_index);
	ready.status = ret;
	if (write_all(CHILD_RES_FD, &ready, sizeof(ready)) < 0 || ret < 0)
		goto out;
	/* Serve until the primary closes the pipe. */
	while (read_all(CHILD_CTL_FD, &cmd, sizeof(cmd), -1) == 0) {
		struct dir_result res;

		if (cmd.cmd != 'R')
			break;
		run_direction((pid_t)cmd.peer, cmd.peer_index, cmd.with_mp != 0, cmd.warmup,
				cmd.iters, &res);
		if (write_all(CHILD_RES_FD, &res, sizeof(res)) < 0)
			break;
	}
out:
	fx_stop();
	echo_stop();
	if (ret == 0)
		rz_fini();
	rte_eal_cleanup();
	return ret == 0 ? 0 : 1;
}

/* ----------------------------------------------------------------------------------------- */
/* The primary                                                                               */

/* The EAL arguments as given (before rte_eal_init() reorders them), for the secondary. */
static char **eal_args;
static int n_eal_args;
/* The CPUs this process could use before the EAL pinned its main thread: the secondary gets
 * them back, or it would inherit the main lcore's single CPU for all its threads. */
static unsigned long initial_cpus[64];
static long initial_cpus_len;

static int
save_eal_args(int argc, char **argv)
{
	int i;

	eal_args = calloc((size_t)argc + 1, sizeof(*eal_args));
	if (eal_args == NULL)
		return -1;
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		eal_args[n_eal_args] = strdup(argv[i]);
		if (eal_args[n_eal_args] == NULL)
			return -1;
		n_eal_args++;
	}
	return 0;
}

static pid_t
spawn_secondary(unsigned int index, int *ctl_w, int *res_r)
{
	int ctl[2], res[2], i, n = 0;
	char **args, idx[16];
	pid_t pid;

	snprintf(idx, sizeof(idx), "%u", index);
	args = calloc((size_t)n_eal_args + 10, sizeof(*args));
	if (args == NULL)
		return -1;
	args[n++] = (char *)(uintptr_t)"rz-bench-ipc";
	for (i = 0; i < n_eal_args; i++) {
		if (strncmp(eal_args[i], "--proc-type", 11) == 0) {
			if (strcmp(eal_args[i], "--proc-type") == 0)
				i++;	/* "--proc-type TYPE" */
			continue;
		}
		args[n++] = eal_args[i];
	}
	args[n++] = (char *)(uintptr_t)"--proc-type=secondary";
	args[n++] = (char *)(uintptr_t)"--";
	args[n++] = (char *)(uintptr_t)ROLE_FLAG;
	args[n++] = (char *)(uintptr_t)"--index";
	args[n++] = idx;
	args[n] = NULL;

	if (pipe(ctl) < 0)
		goto fail;
	if (pipe(res) < 0) {
		close(ctl[0]);
		close(ctl[1]);
		goto fail;
	}
	/* Nothing else forks meanwhile: close-on-exec keeps the primary's ends out of the
	 * secondary, which would otherwise never see the end of the command pipe. */
	for (i = 0; i < 2; i++) {
		fcntl(ctl[i], F_SETFD, FD_CLOEXEC);
		fcntl(res[i], F_SETFD, FD_CLOEXEC);
	}
	pid = fork();
	if (pid == 0) {
		/* Only async-signal-safe calls until exec. Fixed fds 3 and 4 for the pipes;
		 * everything else of the primary's (hugepage files, the IPC socket) closes. */
		int a = fcntl(ctl[0], F_DUPFD, 1000), b = fcntl(res[1], F_DUPFD, 1000);

		if (a < 0 || b < 0 || dup2(a, CHILD_CTL_FD) < 0 || dup2(b, CHILD_RES_FD) < 0)
			_exit(127);
		if (initial_cpus_len > 0)
			syscall(SYS_sched_setaffinity, 0, (size_t)initial_cpus_len, initial_cpus);
		if (syscall(SYS_close_range, CHILD_RES_FD + 1, ~0u, 0) < 0) {
			int fd;

			for (fd = CHILD_RES_FD + 1; fd < 65536; fd++)
				close(fd);
		}
		execv("/proc/self/exe", args);
		_exit(127);
	}
	close(ctl[0]);
	close(res[1]);
	if (pid < 0) {
		close(ctl[1]);
		close(res[0]);
		goto fail;
	}
	free(args);
	*ctl_w = ctl[1];
	*res_r = res[0];
	return pid;
fail:
	free(args);
	return -1;
}

static void
print_row(const char *name, const struct bc_stats *x, const struct dir_result *d)
{
	printf("%-46s %8.1f %8.1f %9.1f |", name, x->p50, x->p99, x->max);
	if (x != &d->fx)
		printf(" %6.2f %6.2f |", x->p50 / d->fx.p50, x->p99 / d->fx.p99);
	else
		printf(" %13s |", "");
	if (d->has_mp && x != &d->fx && x != &d->raw)
		printf(" %5.2f %5.2f", x->p50 / d->raw.p50, x->p99 / d->raw.p99);
	printf("\n");
}

static void
print_dir(const char *title, const struct dir_result *d)
{
	printf("%s\n", title);
	printf("%-46s %8s %8s %9s | %13s | %11s\n", "", "", "", "", "/ fx (floor)",
			d->has_mp ? "/ raw" : "");
	printf("%-46s %8s %8s %9s | %6s %6s | %5s %5s\n", "op (microseconds)", "p50", "p99",
			"max", "p50", "p99", d->has_mp ? "p50" : "", d->has_mp ? "p99" : "");
	print_row("fx: futex round trip to a thread (floor)", &d->fx, d);
	if (d->has_mp) {
		print_row("raw: rte_mp echo from the EAL IPC thread", &d->raw, d);
		print_row("hop: rte_mp echo from a worker thread", &d->hop, d);
	}
	print_row("rz_region_map(r, peer, NULL, RZ_PERM_RW)", &d->map, d);
	print_row("rz_region_unmap(r, peer)", &d->unmap, d);
	print_row("map + unmap (two round trips)", &d->pair, d);
	printf("%-46s %8.2f %8.2f %9.2f |\n", "  each includes: rz_process_attached(peer)",
			d->alive.p50, d->alive.p99, d->alive.max);
	printf("rzone per round trip ((map+unmap)/2): %.2fx the futex floor at p50, %.2fx at "
			"p99\n\n", d->pair.p50 / 2 / d->fx.p50, d->pair.p99 / 2 / d->fx.p99);
	fflush(stdout);
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	int i;

	o->iters = 2000;
	o->warmup = 200;
	o->counts[0] = 1;
	o->counts[1] = 4;
	o->counts[2] = 8;
	o->ncounts = 3;
	o->index = 0;
	o->secondary = false;
	for (i = 1; i < argc; i++) {
		char *end;

		if (strcmp(argv[i], ROLE_FLAG) == 0) {
			o->secondary = true;
		} else if (strcmp(argv[i], "--index") == 0 && i + 1 < argc) {
			o->index = (unsigned int)strtoul(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--secondaries") == 0 && i + 1 < argc) {
			char *p = argv[++i];

			o->ncounts = 0;
			while (*p != '\0' && o->ncounts < MAX_COUNTS) {
				unsigned long v = strtoul(p, &end, 10);

				bool bad = end == p || v < 1 || v > MAX_KIDS ||
					(o->ncounts > 0 && v <= o->counts[o->ncounts - 1]);

				if (bad) {
					printf("--secondaries: increasing numbers 1 .. %d, comma "
							"separated\n", MAX_KIDS);
					return -1;
				}
				o->counts[o->ncounts++] = (unsigned int)v;
				p = *end == ',' ? end + 1 : end;
			}
		} else if ((strcmp(argv[i], "--iters") == 0 || strcmp(argv[i], "--warmup") == 0)
				&& i + 1 < argc) {
			unsigned long v = strtoul(argv[i + 1], &end, 0);

			if (*end != '\0' || v > 1000000 || (argv[i][2] == 'i' && v < 100)) {
				printf("%s: %s out of range\n", argv[i], argv[i + 1]);
				return -1;
			}
			if (argv[i][2] == 'i')
				o->iters = (unsigned int)v;
			else
				o->warmup = (unsigned int)v;
			i++;
		} else {
			printf("unknown option %s\nusage: %s <EAL args> -- [--iters N] "
					"[--warmup N] [--secondaries 1,4,8]\n", argv[i], argv[0]);
			return -1;
		}
	}
	return 0;
}

struct child {
	pid_t pid;
	int ctl_w;	/* closing it tells the secondary to detach and exit */
	int res_r;
};

/* Start secondary number @index (1..) and wait until it has attached to rzone. */
static int
start_child(struct child *c, unsigned int index)
{
	struct ready_msg ready;
	int ret;

	c->ctl_w = -1;
	c->res_r = -1;
	c->pid = spawn_secondary(index, &c->ctl_w, &c->res_r);
	if (c->pid < 0) {
		printf("could not run: cannot start a secondary: %s\n", strerror(errno));
		return -1;
	}
	ret = read_all(c->res_r, &ready, sizeof(ready), READY_TIMEOUT_MS);
	if (ret != 0 || ready.status != 0 || ready.pid != c->pid) {
		printf("could not run: the secondary (pid %d) did not attach: %s\n", (int)c->pid,
				ret != 0 ? "no answer" : strerror(-ready.status));
		return -1;
	}
	return 0;
}

static void
stop_children(struct child *c, unsigned int n)
{
	unsigned int i;
	int status;

	for (i = 0; i < n; i++) {
		if (c[i].ctl_w >= 0)
			close(c[i].ctl_w);
		if (c[i].res_r >= 0)
			close(c[i].res_r);
	}
	for (i = 0; i < n; i++)
		if (c[i].pid > 0 && waitpid(c[i].pid, &status, 0) == c[i].pid &&
				(!WIFEXITED(status) || WEXITSTATUS(status) != 0))
			printf("secondary pid %d ended with status %#x\n", (int)c[i].pid, status);
}

/* Have secondary @c run a direction towards @peer (futex slot @peer_index). 0 or -1. */
static int
remote_direction(struct child *c, pid_t peer, uint32_t peer_index, bool with_mp,
		const struct opts *o, struct dir_result *res)
{
	struct cmd_msg cmd = {
		.cmd = 'R', .iters = o->iters, .warmup = o->warmup, .peer = (int32_t)peer,
		.peer_index = peer_index, .with_mp = with_mp,
	};

	if (write_all(c->ctl_w, &cmd, sizeof(cmd)) < 0 ||
			read_all(c->res_r, res, sizeof(*res), RESULT_TIMEOUT_MS) != 0) {
		memset(res, 0, sizeof(*res));
		res->status = -EPIPE;
		snprintf(res->what, sizeof(res->what), "no answer from the secondary");
		return -1;
	}
	return 0;
}

/* One direction's figures and its target line. */
static void
report(const char *dir, unsigned int nsec, const struct dir_result *d)
{
	char title[160], name[96];

	snprintf(name, sizeof(name), "%s, %u secondar%s: map+unmap p99 < 200 us", dir, nsec,
			nsec == 1 ? "y" : "ies");
	if (d->status != 0) {
		printf("-- %s, %u secondaries: %s: %s --\n\n", dir, nsec, d->what,
				strerror(-d->status));
		bc_target(BC_SKIP, name, "could not run: %s", d->what);
		return;
	}
	snprintf(title, sizeof(title), "-- %s, %u secondar%s attached --", dir, nsec,
			nsec == 1 ? "y" : "ies");
	print_dir(title, d);
	bc_target(d->pair.p99 < 200 ? BC_PASS : BC_FAIL, name,
			"p99 %.1f us, p50 %.1f us (futex floor p99 %.1f: %.2fx per round trip)",
			d->pair.p99, d->pair.p50, d->fx.p99, d->pair.p99 / 2 / d->fx.p99);
}

static int
primary_main(const struct opts *o)
{
	struct child kids[MAX_KIDS];
	struct dir_result d;
	unsigned int nkids = 0, c;
	uint64_t page_sz = 0;
	struct rz_region *probe;
	int ret, rc = 1;

	ret = rz_init();
	if (ret < 0) {
		printf("could not run: rz_init: %s\n", strerror(-ret));
		return 1;
	}
	ret = echo_start();
	if (ret == 0)
		ret = fx_start(0);
	if (ret < 0) {
		printf("could not run: cannot set up the echo actions: %s\n", strerror(-ret));
		goto fini;
	}
	probe = rz_region_create(RZ_PID_SELF, 1, RZ_PERM_RW);
	if (probe == NULL) {
		printf("could not run: cannot create a region: %s (needs about %d free "
				"hugepages)\n", rte_strerror(rte_errno), 70);
		goto fini;
	}
	page_sz = rz_region_size(probe);
	rz_region_destroy(probe);
	bc_print_platform("rz-bench-ipc: map/unmap of another process (rzone mailboxes)",
			page_sz);
	printf("%u iterations after %u of warm-up, ops interleaved; one-page (%" PRIu64 " kB) "
			"region mapped at its DPDK address\n\n", o->iters, o->warmup,
			page_sz >> 10);

	signal(SIGPIPE, SIG_IGN);
	for (c = 0; c < o->ncounts; c++) {
		unsigned int n = o->counts[c];

		while (nkids < n) {
			if (start_child(&kids[nkids], nkids + 1) < 0)
				goto reap;
			nkids++;
		}
		run_direction(kids[0].pid, 1, true, o->warmup, o->iters, &d);
		report("primary -> secondary", n, &d);
		remote_direction(&kids[0], getpid(), 0, true, o, &d);
		report("secondary -> primary", n, &d);
		if (n >= 2) {
			remote_direction(&kids[0], kids[1].pid, 2, false, o, &d);
			report("secondary -> secondary", n, &d);
		}
	}
	bc_targets_print();
	rc = 0;
reap:
	stop_children(kids, nkids);
fini:
	fx_stop();
	echo_stop();
	ret = rz_fini();
	if (ret < 0)
		printf("rz_fini: %s\n", strerror(-ret));
	return rc;
}

int
main(int argc, char **argv)
{
	struct opts o;
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	initial_cpus_len = syscall(SYS_sched_getaffinity, 0, sizeof(initial_cpus), initial_cpus);
	if (save_eal_args(argc, argv) < 0) {
		printf("could not run: out of memory\n");
		return 1;
	}
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		printf("could not run: rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= ret;
	argv += ret;
	if (parse_opts(argc, argv, &o) < 0) {
		rte_eal_cleanup();
		return 1;
	}
	if (o.secondary != (rte_eal_process_type() == RTE_PROC_SECONDARY)) {
		printf("could not run: %s is for the secondary this benchmark starts itself\n",
				ROLE_FLAG);
		rte_eal_cleanup();
		return 1;
	}
	if (o.secondary) {
		o_index = o.index;
		return secondary_main();
	}
	ret = primary_main(&o);
	rte_eal_cleanup();
	return ret;
}
