/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

char harness_prefix[64];

int
agent_start(struct agent *a)
{
	return agent_start_mode(a, NULL);
}

int
agent_start_mode(struct agent *a, const char *mode)
{
	return agent_start_in(a, "--proc-type=secondary", harness_prefix, mode);
}

int
agent_start_in(struct agent *a, const char *proc_type, const char *prefix_arg, const char *mode)
{
	const char *path = getenv("RZ_AGENT");
	int to[2], from[2];
	char line[128];
	pid_t pid;

	memset(a, 0, sizeof(*a));
	if (path == NULL) {
		fprintf(stderr, "RZ_AGENT is not set (run through meson test)\n");
		return -1;
	}
	if (pipe2(to, O_CLOEXEC) < 0 || pipe2(from, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char *argv[] = { (char *)(uintptr_t)path, (char *)(uintptr_t)proc_type,
			"--no-pci", RZ_TEST_BASE_VA, "-l", "1", "--log-level=lib.rzone:notice",
			(char *)(uintptr_t)prefix_arg, "--", (char *)(uintptr_t)mode, NULL };

		dup2(to[0], STDIN_FILENO);
		dup2(from[1], STDOUT_FILENO);
		/* Nothing else of ours goes with it: DPDK opens its files without close-on-exec,
		 * and a descriptor inherited while another thread of ours held a lock through
		 * it (the hugepage directory's flock, taken while DPDK allocates or frees pages)
		 * would keep that lock for the agent's whole life: DPDK's next allocation here
		 * would wait for it for ever while the agent waits for DPDK's memory lock. */
		close_range(3, ~0u, 0);
		execv(path, argv);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	a->pid = pid;
	a->in = fdopen(to[1], "w");
	a->out = fdopen(from[0], "r");
	if (fgets(line, sizeof(line), a->out) == NULL || strncmp(line, "ready ", 6) != 0) {
		fprintf(stderr, "agent %d did not start: %s\n", (int)pid, line);
		agent_kill9(a);
		return -1;
	}
	return 0;
}

struct reply
agent_cmd(struct agent *a, const char *fmt, ...)
{
	struct reply r = { .ok = 0, .err = EPIPE };
	char line[600];
	va_list ap;

	va_start(ap, fmt);
	vfprintf(a->in, fmt, ap);
	va_end(ap);
	fputc('\n', a->in);
	if (fflush(a->in) != 0 || fgets(line, sizeof(line), a->out) == NULL)
		return r;
	line[strcspn(line, "\n")] = '\0';
	if (strncmp(line, "ok ", 3) == 0) {
		r.ok = 1;
		r.err = 0;
		r.val = strtoull(line + 3, NULL, 0);
		snprintf(r.text, sizeof(r.text), "%s", line + 3);
	} else if (strncmp(line, "err ", 4) == 0) {
		r.err = atoi(line + 4);
	}
	return r;
}

int
agent_wait(struct agent *a)
{
	if (!a->reaped) {
		if (waitpid(a->pid, &a->status, 0) == a->pid)
			a->reaped = 1;
		if (a->in != NULL)
			fclose(a->in);
		if (a->out != NULL)
			fclose(a->out);
		a->in = a->out = NULL;
	}
	return a->status;
}

void
agent_stop(struct agent *a)
{
	if (a->reaped || a->pid <= 0)
		return;
	agent_cmd(a, "quit");
	agent_wait(a);
}

void
agent_kill9(struct agent *a)
{
	if (a->reaped || a->pid <= 0)
		return;
	kill(a->pid, SIGKILL);
	agent_wait(a);
}
