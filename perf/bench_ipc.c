/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * rz-bench-ipc: the cost of mapping a region into ANOTHER process, which rzone does over DPDK
 * multi-process IPC (rte_mp) to that process's control thread.
 *
 * The benchmark (the primary) forks and execs itself as a secondary of the same instance (same
 * binary, same EAL arguments plus --proc-type=secondary, a role flag after "--"). The secondary
 * attaches (rte_eal_init + rz_init), registers two trivial echo actions and waits on a pipe.
 * The primary then times, interleaved, for each of N iterations:
 *   raw:   rte_mp_request_sync() of an echo action to the secondary, whose EAL IPC thread
 *          answers on the spot: the DPDK IPC floor;
 *   hop:   the same, but the IPC thread hands the request to a worker thread that answers, as
 *          rzone must (its handler may not block the EAL IPC thread): the floor of rzone's
 *          design;
 *   rzone: rz_region_map(r, child, NULL, RZ_PERM_RW) and rz_region_unmap(r, child).
 * Then the secondary does the same in the other direction (it owns a region and maps it into
 * the primary) and sends its figures back through a pipe.
 *
 * Last, N more secondaries attach and stay idle, and the primary -> secondary run is repeated:
 * a primary's rte_mp_request_sync() asks every secondary in turn.
 *
 * Usage: rz-bench-ipc <EAL args> [-- [--iters N] [--warmup N] [--no-reverse]
 *                                    [--extra-secondaries N (default 3)]]
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
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
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

#define MAX_EXTRA	16	/* idle secondaries of the scaling run */

struct opts {
	unsigned int iters;
	unsigned int warmup;
	unsigned int extra;	/* idle rzone secondaries added for the last run */
	bool reverse;
	bool secondary;
};

/* What one direction measured, in microseconds. */
struct dir_result {
	int32_t status;		/* 0, or -errno of the first failure */
	uint32_t iters;
	char what[96];		/* the failing call */
	struct bc_stats raw, hop, map, unmap, pair, alive;
};

struct ready_msg {
	int32_t status;
	int32_t pid;
};

struct cmd_msg {
	uint32_t cmd;		/* 'R': run the secondary -> primary direction */
	uint32_t iters;
	uint32_t warmup;
};

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
 * The measurement loop of one direction: this process owns a region and maps it into @peer.
 * Each iteration runs a raw echo, a worker-thread echo and a map+unmap, in an order that
 * rotates so that none of them always follows the same one.
 */
static void
run_direction(pid_t peer, unsigned int warmup, unsigned int iters, struct dir_result *res)
{
	double *v = calloc(6 * (size_t)iters, sizeof(*v));
	double *raw = v, *hopv = v + iters, *map = v + 2 * (size_t)iters;
	double *unmap = v + 3 * (size_t)iters, *pair = v + 4 * (size_t)iters;
	double *alive = v + 5 * (size_t)iters;
	struct rz_region *r;
	unsigned int i, k;
	int ret = 0;

	memset(res, 0, sizeof(*res));
	res->iters = iters;
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
		uint64_t c_raw = 0, c_hop = 0, t[4] = { 0 };

		for (k = 0; k < 3 && ret == 0; k++) {
			switch ((i + k) % 3) {
			case 0:
				ret = ping_once(PING_ACTION, &c_raw) < 0 ? -ETIMEDOUT : 0;
				if (ret < 0)
					snprintf(res->what, sizeof(res->what),
							"rte_mp_request_sync(%s)", PING_ACTION);
				break;
			case 1:
				ret = ping_once(HOP_ACTION, &c_hop) < 0 ? -ETIMEDOUT : 0;
				if (ret < 0)
					snprintf(res->what, sizeof(res->what),
							"rte_mp_request_sync(%s)", HOP_ACTION);
				break;
			default:
				ret = rz_round(r, peer, t, res->what, sizeof(res->what));
				break;
			}
		}
		if (ret < 0 || i < warmup)
			continue;
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

static int
secondary_main(void)
{
	struct ready_msg ready = { .status = 0, .pid = (int32_t)getpid() };
	struct cmd_msg cmd;
	int ret;

	ret = rz_init();
	if (ret == 0)
		ret = echo_start();
	ready.status = ret;
	if (write_all(CHILD_RES_FD, &ready, sizeof(ready)) < 0 || ret < 0)
		goto out;
	/* Serve until the primary closes the pipe. */
	while (read_all(CHILD_CTL_FD, &cmd, sizeof(cmd), -1) == 0) {
		struct dir_result res;

		if (cmd.cmd != 'R')
			break;
		run_direction(getppid(), cmd.warmup, cmd.iters, &res);
		if (write_all(CHILD_RES_FD, &res, sizeof(res)) < 0)
			break;
	}
out:
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
spawn_secondary(int *ctl_w, int *res_r)
{
	int ctl[2], res[2], i, n = 0;
	char **args;
	pid_t pid;

	args = calloc((size_t)n_eal_args + 8, sizeof(*args));
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
	printf("%-44s %8.1f %8.1f %9.1f |", name, x->p50, x->p99, x->max);
	if (x != &d->raw)
		printf(" %5.2f %5.2f |", x->p50 / d->raw.p50, x->p99 / d->raw.p99);
	else
		printf(" %11s |", "");
	if (x != &d->raw && x != &d->hop)
		printf(" %5.2f %5.2f", x->p50 / d->hop.p50, x->p99 / d->hop.p99);
	printf("\n");
}

static void
print_dir(const char *title, const struct dir_result *d)
{
	printf("%s\n", title);
	printf("%-44s %8s %8s %9s | %11s | %11s\n", "", "", "", "", "/ raw", "/ hop");
	printf("%-44s %8s %8s %9s | %5s %5s | %5s %5s\n", "op (microseconds)", "p50", "p99",
			"max", "p50", "p99", "p50", "p99");
	print_row("raw: echo from the EAL IPC thread (floor)", &d->raw, d);
	print_row("hop: echo from a worker thread", &d->hop, d);
	print_row("rz_region_map(r, peer, NULL, RZ_PERM_RW)", &d->map, d);
	print_row("rz_region_unmap(r, peer)", &d->unmap, d);
	print_row("map + unmap (two IPC round trips)", &d->pair, d);
	printf("%-44s %8.2f %8.2f %9.2f |\n", "  each includes: rz_process_attached(peer)",
			d->alive.p50, d->alive.p99, d->alive.max);
	printf("rzone per IPC round trip ((map+unmap)/2): %.2fx raw, %.2fx hop at p50; "
			"%.2fx raw, %.2fx hop at p99\n\n",
			d->pair.p50 / 2 / d->raw.p50, d->pair.p50 / 2 / d->hop.p50,
			d->pair.p99 / 2 / d->raw.p99, d->pair.p99 / 2 / d->hop.p99);
	fflush(stdout);
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	int i;

	o->iters = 2000;
	o->warmup = 200;
	o->extra = 3;
	o->reverse = true;
	o->secondary = false;
	for (i = 1; i < argc; i++) {
		char *end;

		if (strcmp(argv[i], ROLE_FLAG) == 0) {
			o->secondary = true;
		} else if (strcmp(argv[i], "--no-reverse") == 0) {
			o->reverse = false;
		} else if (strcmp(argv[i], "--extra-secondaries") == 0 && i + 1 < argc) {
			unsigned long v = strtoul(argv[i + 1], &end, 0);

			if (*end != '\0' || v > MAX_EXTRA) {
				printf("--extra-secondaries: 0 .. %d\n", MAX_EXTRA);
				return -1;
			}
			o->extra = (unsigned int)v;
			i++;
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
					"[--warmup N] [--no-reverse] [--extra-secondaries N]\n",
					argv[i], argv[0]);
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

/* Start a secondary and wait until it has attached to rzone. */
static int
start_child(struct child *c)
{
	struct ready_msg ready;
	int ret;

	c->ctl_w = -1;
	c->res_r = -1;
	c->pid = spawn_secondary(&c->ctl_w, &c->res_r);
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

static int
primary_main(const struct opts *o)
{
	struct child kids[1 + MAX_EXTRA];
	struct dir_result fwd, rev, many;
	unsigned int nkids = 0, i;
	uint64_t page_sz = 0;
	struct rz_region *probe;
	bool rev_ok = false, many_ok = false;
	struct cmd_msg cmd;
	int ret, rc = 1;

	ret = rz_init();
	if (ret < 0) {
		printf("could not run: rz_init: %s\n", strerror(-ret));
		return 1;
	}
	ret = echo_start();
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
	bc_print_platform("rz-bench-ipc: map/unmap of another process over DPDK IPC", page_sz);

	signal(SIGPIPE, SIG_IGN);
	if (start_child(&kids[nkids++]) < 0)
		goto reap;
	printf("secondary: pid %d attached (rz_process_attached = %d); %u iterations after "
			"%u of warm-up,\nraw, hop and rzone interleaved; one-page (%" PRIu64 " kB) "
			"region mapped at its DPDK address\n\n", (int)kids[0].pid,
			rz_process_attached(kids[0].pid), o->iters, o->warmup, page_sz >> 10);

	run_direction(kids[0].pid, o->warmup, o->iters, &fwd);
	if (fwd.status != 0) {
		printf("could not run: %s: %s\n", fwd.what, strerror(-fwd.status));
		goto reap;
	}
	print_dir("-- primary -> secondary: the primary owns the region, maps it into the "
			"secondary --", &fwd);

	if (o->reverse) {
		cmd.cmd = 'R';
		cmd.iters = o->iters;
		cmd.warmup = o->warmup;
		ret = write_all(kids[0].ctl_w, &cmd, sizeof(cmd));
		if (ret == 0)
			ret = read_all(kids[0].res_r, &rev, sizeof(rev), RESULT_TIMEOUT_MS);
		if (ret == 0) {
			if (rev.status == 0) {
				rev_ok = true;
				print_dir("-- secondary -> primary: the secondary owns the region, "
						"maps it into the primary --", &rev);
			} else {
				printf("secondary -> primary: %s: %s\n\n", rev.what,
						strerror(-rev.status));
			}
		} else {
			printf("secondary -> primary: no answer from the secondary\n\n");
		}
	}

	if (o->extra > 0) {
		for (i = 0; i < o->extra; i++)
			if (start_child(&kids[nkids++]) < 0)
				break;
		if (i == o->extra) {
			run_direction(kids[0].pid, o->warmup, o->iters, &many);
			if (many.status == 0) {
				char title[160];

				many_ok = true;
				snprintf(title, sizeof(title), "-- primary -> secondary again, "
						"with %u more rzone secondaries attached (idle) --",
						o->extra);
				printf("A primary's rte_mp_request_sync() goes to every "
						"secondary, one after the other, and\nwaits for "
						"each answer: rzone's requests to one process and "
						"the raw echo pay them all.\n");
				print_dir(title, &many);
			} else {
				printf("with %u more secondaries: %s: %s\n\n", o->extra, many.what,
						strerror(-many.status));
			}
		}
	}

	bc_target(fwd.pair.p99 < 1000 ? BC_PASS : BC_FAIL,
			"map+unmap of another process, p99 < 1 ms",
			"primary->secondary: map+unmap p99 %.1f us, p50 %.1f us (map p99 %.1f, "
			"unmap p99 %.1f; raw IPC floor p99 %.1f)", fwd.pair.p99, fwd.pair.p50,
			fwd.map.p99, fwd.unmap.p99, fwd.raw.p99);
	if (o->reverse) {
		if (rev_ok)
			bc_target(rev.pair.p99 < 1000 ? BC_PASS : BC_FAIL,
					"same, secondary->primary (optional)",
					"map+unmap p99 %.1f us, p50 %.1f us (map p99 %.1f, unmap "
					"p99 %.1f; raw IPC floor p99 %.1f)", rev.pair.p99,
					rev.pair.p50, rev.map.p99, rev.unmap.p99, rev.raw.p99);
		else
			bc_target(BC_SKIP, "same, secondary->primary (optional)",
					"could not run");
	}
	if (o->extra > 0) {
		char name[96];

		snprintf(name, sizeof(name), "same, %u secondaries attached (extra)",
				o->extra + 1);
		if (many_ok)
			bc_target(many.pair.p99 < 1000 ? BC_PASS : BC_FAIL, name,
					"map+unmap p99 %.1f us, p50 %.1f us (raw IPC floor p99 "
					"%.1f, p50 %.1f)", many.pair.p99, many.pair.p50,
					many.raw.p99, many.raw.p50);
		else
			bc_target(BC_SKIP, name, "could not run");
	}
	printf("summary, primary->secondary, p50: map %.2fx raw, unmap %.2fx raw; "
			"map+unmap %.2fx one raw round trip\n", fwd.map.p50 / fwd.raw.p50,
			fwd.unmap.p50 / fwd.raw.p50, fwd.pair.p50 / fwd.raw.p50);
	if (fwd.raw.p99 >= 1000)
		printf("note: the raw DPDK IPC floor alone has a p99 of %.1f us in this run: "
				"the tail comes from\nscheduling on this machine (see the load "
				"line above), not from rzone\n", fwd.raw.p99);
	bc_targets_print();
	rc = 0;
reap:
	stop_children(kids, nkids);
fini:
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
	if (o.secondary)
		return secondary_main();
	ret = primary_main(&o);
	rte_eal_cleanup();
	return ret;
}
