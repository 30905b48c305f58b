/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * Process slots of the shared table: claiming one, finding a pid's, liveness (pidfds and start
 * times). What a process holds when it goes is released by the layers that own it
 * (lib/init/reap.c); this layer only frees the slot.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include <rte_eal.h>

#include "core_private.h"
#include "proc_private.h"

/* Start time of @pid (field 22 of /proc/<pid>/stat) in *@st. 0, -ENOENT (no such process), or
 * another -errno (EMFILE, ENOMEM...: cannot tell). */
static int
start_time_of(pid_t pid, uint64_t *st)
{
	char path[64], buf[1024];
	unsigned long long v = 0;
	const char *p;
	ssize_t n;
	int fd, field;

	if (pid <= 0)
		return -ENOENT;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ESRCH ? -ENOENT : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n == -ESRCH ? -ENOENT : (int)n;
	}
	close(fd);
	if (n == 0)
		return -ENOENT;	/* the process went while we read */
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: fields restart after the last ')'. */
	p = strrchr(buf, ')');
	if (p == NULL)
		return -EIO;
	/* p + 2 is field 3 (state); start time is field 22. */
	p += 2;
	for (field = 3; field < 22 && *p != '\0'; p++)
		if (*p == ' ')
			field++;
	if (field != 22 || sscanf(p, "%llu", &v) != 1)
		return -EIO;
	*st = v;
	return 0;
}

uint64_t
proc_start_time(pid_t pid)
{
	uint64_t st = 0;

	return start_time_of(pid, &st) == 0 ? st : 0;
}

pid_t
proc_pid(uint32_t slot)
{
	if (slot >= RZ_MAX_PROCS)
		return -1;
	return __atomic_load_n(&tbl()->procs[slot].pid, __ATOMIC_RELAXED);
}

/*
 * Liveness through pidfds, one per process slot, cached per process: a pidfd pins the process
 * it was opened for (a later process with the same pid is another pidfd) and polls readable
 * once that process has exited, zombies included. The start time is checked once, when the
 * pidfd is opened. Control path only.
 *
 * Only positive evidence makes a process dead: its pidfd polled readable, or its pid does not
 * exist, or belongs to a process with another start time. Anything else that fails (EMFILE at
 * the file descriptor limit, ENOMEM) proves nothing: the process is taken as alive, and the
 * failure is counted (stats_liveness_unknown) and logged once per process.
 */
static struct {
	pthread_mutex_t lock;
	int fd[RZ_MAX_PROCS];
	uint64_t gen[RZ_MAX_PROCS];
	uint64_t warned_gen[RZ_MAX_PROCS];
} pidfds = { .lock = PTHREAD_MUTEX_INITIALIZER };

enum liveness {
	LIVE_YES,
	LIVE_NO,
	LIVE_UNKNOWN,
};

/* Without a pidfd: does @pid still name the process that started at @start_time? */
static enum liveness
evidence_without_pidfd(pid_t pid, uint64_t start_time)
{
	uint64_t st;
	int ret;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return LIVE_NO;
	ret = start_time_of(pid, &st);
	if (ret == 0)
		return st == start_time ? LIVE_YES : LIVE_NO;
	return ret == -ENOENT ? LIVE_NO : LIVE_UNKNOWN;
}

/* The pidfd of @slot's process in *@fd (LIVE_YES), or what is known without one. */
static enum liveness
pidfd_for_locked(uint32_t slot, pid_t pid, uint64_t gen, uint64_t start_time, int *fd)
{
	uint64_t st;
	int ret;

	/* A live slot's generation is never 0: 0 marks an empty cache entry. */
	if (pidfds.gen[slot] == gen) {
		*fd = pidfds.fd[slot];
		return LIVE_YES;
	}
	if (pidfds.gen[slot] != 0)
		close(pidfds.fd[slot]);
	pidfds.gen[slot] = 0;
	*fd = pidfd_open(pid, 0);
	if (*fd < 0)
		return errno == ESRCH ? LIVE_NO : evidence_without_pidfd(pid, start_time);
	/* Opened first, checked second: the pidfd now names this very process. */
	ret = start_time_of(pid, &st);
	if (ret != 0 || st != start_time) {
		close(*fd);
		*fd = -1;
		if (ret == 0 || ret == -ENOENT)
			return LIVE_NO;	/* gone, or the pid belongs to another process now */
		return LIVE_UNKNOWN;
	}
	pidfds.fd[slot] = *fd;
	pidfds.gen[slot] = gen;
	return LIVE_YES;
}

void
proc_forget_pidfds(void)
{
	uint32_t i;

	pthread_mutex_lock(&pidfds.lock);
	for (i = 0; i < RZ_MAX_PROCS; i++) {
		if (pidfds.gen[i] != 0)
			close(pidfds.fd[i]);
		pidfds.gen[i] = 0;
	}
	pthread_mutex_unlock(&pidfds.lock);
}

bool
proc_alive(uint32_t slot)
{
	const struct proc_entry *p = &tbl()->procs[slot];
	/* Lock-free: the words are written under the table lock, read here with atomics. */
	uint64_t gen = __atomic_load_n(&p->gen, __ATOMIC_RELAXED);
	uint64_t start_time = __atomic_load_n(&p->start_time, __ATOMIC_RELAXED);
	pid_t pid = __atomic_load_n(&p->pid, __ATOMIC_RELAXED);
	enum liveness v;
	struct pollfd pfd;
	int err = 0;

	if (__atomic_load_n(&p->state, __ATOMIC_ACQUIRE) != PROC_LIVE)
		return false;
	if (pid == local_proc.pid && slot == local_proc.self)
		return true;
	pthread_mutex_lock(&pidfds.lock);
	v = pidfd_for_locked(slot, pid, gen, start_time, &pfd.fd);
	if (v == LIVE_UNKNOWN)
		err = errno;
	if (v == LIVE_YES) {
		pfd.events = POLLIN;
		pfd.revents = 0;
		switch (poll(&pfd, 1, 0)) {
		case 0:
			break;
		case 1:
			/* Readable: the process has exited. Anything else proves nothing. */
			if (pfd.revents & POLLIN)
				v = LIVE_NO;
			else
				v = LIVE_UNKNOWN;
			break;
		default:
			err = errno;
			v = LIVE_UNKNOWN;
		}
	}
	if (v == LIVE_UNKNOWN) {
		__atomic_add_fetch(&tbl()->stats_liveness_unknown, 1, __ATOMIC_RELAXED);
		if (pidfds.warned_gen[slot] != gen) {
			pidfds.warned_gen[slot] = gen;
			RZ_LOG(WARNING, "cannot tell whether pid %d (slot %u) is alive (%s): taken "
					"as alive", (int)pid, slot, strerror(err));
		}
	}
	pthread_mutex_unlock(&pidfds.lock);
	return v != LIVE_NO;
}

int
proc_slot_of(pid_t pid)
{
	struct rz_table *t = tbl();
	uint32_t i;

	if (pid == RZ_PID_SELF || pid == local_proc.pid)
		return local_proc.self == RZ_NO_SLOT ? -ESRCH : (int)local_proc.self;
	if (pid < 0)
		return -ESRCH;
	for (i = 0; i < RZ_MAX_PROCS; i++)
		if (__atomic_load_n(&t->procs[i].state, __ATOMIC_ACQUIRE) == PROC_LIVE &&
				__atomic_load_n(&t->procs[i].pid, __ATOMIC_RELAXED) == pid)
			return (int)i;
	return -ESRCH;
}

int
rz_process_attached(pid_t pid)
{
	int slot;

	if (tbl() == NULL)
		return -ENODEV;
	slot = proc_slot_of(pid);
	return slot >= 0 && proc_alive((uint32_t)slot);
}

int
proc_stale_slot_locked(pid_t pid)
{
	struct rz_table *t = tbl();
	uint32_t i;

	for (i = 0; i < RZ_MAX_PROCS; i++)
		if (t->procs[i].state == PROC_LIVE && t->procs[i].pid == pid)
			return (int)i;
	return -1;
}

int
proc_claim_locked(uint64_t start_time)
{
	struct rz_table *t = tbl();
	uint32_t i;

	for (i = 0; i < RZ_MAX_PROCS; i++) {
		struct proc_entry *p = &t->procs[i];

		if (p->state != PROC_FREE)
			continue;
		__atomic_store_n(&p->pid, local_proc.pid, __ATOMIC_RELAXED);
		__atomic_store_n(&p->start_time, start_time, __ATOMIC_RELAXED);
		__atomic_store_n(&p->gen, p->gen + 1, __ATOMIC_RELAXED);
		__atomic_store_n(&p->proc_type, rte_eal_process_type(), __ATOMIC_RELAXED);
		__atomic_store_n(&p->state, PROC_LIVE, __ATOMIC_RELEASE);
		local_proc.self = i;
		local_proc.self_gen = p->gen;
		return 0;
	}
	RZ_LOG(ERR, "all %u process slots are taken", RZ_MAX_PROCS);
	return -ENOSPC;
}

void
proc_free_locked(uint32_t slot)
{
	struct rz_table *t = tbl();

	__atomic_store_n(&t->procs[slot].state, PROC_FREE, __ATOMIC_RELEASE);
	__atomic_store_n(&t->procs[slot].pid, 0, __ATOMIC_RELAXED);
}

int
rz_process_dump(FILE *f)
{
	struct rz_table *t = tbl();
	uint32_t i;

	if (f == NULL)
		return -EINVAL;
	if (t == NULL)
		return -ENODEV;
	fprintf(f, "processes (this: pid %d, slot %u):\n", (int)local_proc.pid, local_proc.self);
	for (i = 0; i < RZ_MAX_PROCS; i++) {
		const struct proc_entry *p = &t->procs[i];

		if (p->state != PROC_LIVE)
			continue;
		fprintf(f, "  slot %u: pid %d %s start_time %" PRIu64 " gen %" PRIu64 "%s\n", i,
				(int)p->pid,
				p->proc_type == RTE_PROC_PRIMARY ? "primary" : "secondary",
				p->start_time, p->gen,
				proc_alive(i) ? "" : " (dead, not reaped yet)");
	}
	return 0;
}
