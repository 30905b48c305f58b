/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * Peers on another host (the wire suite): the owner's test program asks a peer server on the
 * other host, over a TCP connection of its own, to start each peer process there and to report
 * how it ended. One line per request, one line per answer:
 *
 *   spawn ARG...      ->  pid N         (the server runs SELF --peer ARG...)
 *   wait N            ->  status S      (S as wait_peer(): exit status, or 128 + signal)
 *   orphans           ->  ok 0          (the owner's host is about to be powered off: read no
 *                                        more requests, let the peers end on their own)
 *   quit              ->  bye
 *
 * Arguments hold no spaces (scripts, addresses, ports). The server serves one owner, then
 * exits 0 after "quit"; if the owner goes away without it, the server kills the peers it
 * started and exits 1. After "orphans" (wire suite, fault 4: the owner's host powered off,
 * whose TCP connection then never closes) it waits up to ORPHAN_WAIT_S for every peer it
 * started and exits 0 if each exited 0, else 1 (the peers are the verdict).
 */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wire_ctl.h"

#define WIRE_MAX_ARGS	8
#define WIRE_MAX_PEERS	256
#define ORPHAN_WAIT_S	300

extern char **environ;

static FILE *ctl_in, *ctl_out;

static int
status_of(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* After "orphans": every peer in @started has ended (each waited for at most ORPHAN_WAIT_S in
 * all, then killed); 0 if each exited 0. */
static int
wait_orphans(const pid_t *started, int n)
{
	time_t end = time(NULL) + ORPHAN_WAIT_S;
	int i, st, bad = 0;

	for (i = 0; i < n; i++) {
		pid_t r;

		while ((r = waitpid(started[i], &st, WNOHANG)) == 0 && time(NULL) < end)
			usleep(100000);
		if (r != started[i]) {
			fprintf(stderr, "peer server: FAIL: peer %d still running after %d s\n",
					(int)started[i], ORPHAN_WAIT_S);
			kill(started[i], SIGKILL);
			waitpid(started[i], &st, 0);
			bad++;
			continue;
		}
		printf("peer server: peer %d (its owner gone) ended with status %d\n",
				(int)started[i], status_of(st));
		bad += status_of(st) != 0;
	}
	fflush(stdout);
	return bad == 0 ? 0 : 1;
}

int
wire_server_main(const char *self_exe, unsigned int port, int accept_timeout_s)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	pid_t started[WIRE_MAX_PEERS];
	struct pollfd pfd;
	int ls, fd, one = 1, n_started = 0, i, ret = 1;
	char line[512];
	FILE *in, *out;

	sa.sin_addr.s_addr = htonl(INADDR_ANY);
	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
			bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 1) < 0) {
		fprintf(stderr, "peer server: FAIL: listen on port %u: %s\n", port,
				strerror(errno));
		return 1;
	}
	printf("peer server: listening on port %u\n", port);
	fflush(stdout);
	pfd = (struct pollfd){ .fd = ls, .events = POLLIN };
	if (poll(&pfd, 1, accept_timeout_s * 1000) != 1) {
		fprintf(stderr, "peer server: FAIL: no owner connected within %d s\n",
				accept_timeout_s);
		return 1;
	}
	fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	close(ls);
	if (fd < 0) {
		fprintf(stderr, "peer server: FAIL: accept: %s\n", strerror(errno));
		return 1;
	}
	in = fdopen(fd, "r");
	out = fdopen(dup(fd), "w");
	if (in == NULL || out == NULL)
		return 1;
	while (fgets(line, sizeof(line), in) != NULL) {
		char *args[WIRE_MAX_ARGS + 3], *save = NULL, *tok;
		int n = 0, st;
		pid_t pid;

		line[strcspn(line, "\n")] = '\0';
		tok = strtok_r(line, " ", &save);
		if (tok == NULL)
			continue;
		if (strcmp(tok, "quit") == 0) {
			fprintf(out, "bye\n");
			fflush(out);
			ret = 0;
			break;
		} else if (strcmp(tok, "orphans") == 0) {
			fprintf(out, "ok 0\n");
			fflush(out);
			ret = wait_orphans(started, n_started);
			n_started = 0;
			break;
		} else if (strcmp(tok, "spawn") == 0) {
			args[n++] = (char *)(uintptr_t)self_exe;
			args[n++] = (char *)(uintptr_t)"--peer";
			while (n < WIRE_MAX_ARGS + 2 && (tok = strtok_r(NULL, " ", &save)) != NULL)
				args[n++] = tok;
			args[n] = NULL;
			if (n_started == WIRE_MAX_PEERS ||
					posix_spawn(&pid, self_exe, NULL, NULL, args, environ) != 0)
				pid = -1;
			else
				started[n_started++] = pid;
			fprintf(out, "pid %d\n", (int)pid);
		} else if (strcmp(tok, "wait") == 0 &&
				(tok = strtok_r(NULL, " ", &save)) != NULL) {
			pid = (pid_t)atoi(tok);
			st = 0;
			fprintf(out, "status %d\n",
					waitpid(pid, &st, 0) == pid ? status_of(st) : -1);
		} else {
			fprintf(out, "error\n");
		}
		fflush(out);
	}
	if (ret != 0 && n_started > 0) {
		fprintf(stderr, "peer server: FAIL: the owner went away without \"quit\"\n");
		for (i = 0; i < n_started; i++)
			kill(started[i], SIGKILL);
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	fclose(in);
	fclose(out);
	return ret;
}

int
wire_connect(const char *host, unsigned int port, int timeout_s)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	time_t end = time(NULL) + timeout_s;
	int fd;

	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "FAIL: wire: bad address %s\n", host);
		return -EINVAL;
	}
	/* The other host may still be booting: try again until the deadline. */
	for (;;) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		close(fd);
		if (time(NULL) >= end) {
			fprintf(stderr, "FAIL: wire: no peer server at %s:%u within %d s\n", host,
					port, timeout_s);
			return -ETIMEDOUT;
		}
		usleep(500000);
	}
	ctl_in = fdopen(fd, "r");
	ctl_out = fdopen(dup(fd), "w");
	return ctl_in != NULL && ctl_out != NULL ? 0 : -ENOMEM;
}

bool
wire_active(void)
{
	return ctl_out != NULL;
}

/* The answer "@word N": N, or -1. */
static int
ask(const char *word)
{
	char line[128], got[32];
	int v;

	fflush(ctl_out);
	if (fgets(line, (int)sizeof(line), ctl_in) == NULL) {
		fprintf(stderr, "wire: the peer server went away\n");
		return -1;
	}
	if (sscanf(line, "%31s %d", got, &v) != 2 || strcmp(got, word) != 0) {
		fprintf(stderr, "wire: unexpected answer: %s", line);
		return -1;
	}
	return v;
}

pid_t
wire_spawn(char *const args[])
{
	int i;

	fprintf(ctl_out, "spawn");
	for (i = 0; args[i] != NULL; i++)
		fprintf(ctl_out, " %s", args[i]);
	fprintf(ctl_out, "\n");
	return (pid_t)ask("pid");
}

int
wire_wait(pid_t pid)
{
	fprintf(ctl_out, "wait %d\n", (int)pid);
	return ask("status");
}

int
wire_orphans(void)
{
	fprintf(ctl_out, "orphans\n");
	return ask("ok");
}

void
wire_lost(void)
{
	if (ctl_out == NULL)
		return;
	fclose(ctl_in);
	fclose(ctl_out);
	ctl_in = ctl_out = NULL;
}

void
wire_quit(void)
{
	char line[32];

	if (ctl_out == NULL)
		return;
	fprintf(ctl_out, "quit\n");
	fflush(ctl_out);
	if (fgets(line, sizeof(line), ctl_in) == NULL || strcmp(line, "bye\n") != 0)
		fprintf(stderr, "wire: the peer server did not say bye\n");
	fclose(ctl_in);
	fclose(ctl_out);
	ctl_in = ctl_out = NULL;
}
