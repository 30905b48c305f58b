/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/* rzone-rdma-demo plumbing: see rdma_demo.h. Nothing rzone-specific happens here. */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "rdma_demo.h"

extern char **environ;

int
child_answer(const struct child *c, const char *cmd, char *detail, size_t len, int timeout_ms)
{
	char answer[DEMO_LINE_MAX];
	int n;

	n = channel_recv(c->fd, answer, sizeof(answer), timeout_ms);
	if (n == -ETIMEDOUT)
		return fail("no answer from %s to \"%s\" within %d ms", c->name, cmd, timeout_ms);
	if (n < 0)
		return fail("no answer from %s to \"%s\": it exited", c->name, cmd);
	if (strcmp(answer, "OK") != 0 && strncmp(answer, "OK ", 3) != 0)
		return fail("%s answered \"%s\" to \"%s\"", c->name, answer, cmd);
	if (detail != NULL)
		snprintf(detail, len, "%s", answer[2] == ' ' ? answer + 3 : "");
	return 0;
}

int
child_call(const struct child *c, char *detail, size_t len, const char *fmt, ...)
{
	char cmd[DEMO_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return fail("command too long");
	if (channel_send(c->fd, "%s", cmd) < 0)
		return fail("cannot send \"%s\" to %s (did it die?)", cmd, c->name);
	return child_answer(c, cmd, detail, len, DEMO_CMD_TIMEOUT_MS);
}

/* posix_spawn() /proc/self/exe with @argv, @theirs (close-on-exec, above DEMO_CHANNEL_FD) on
 * DEMO_CHANNEL_FD and no other descriptor of ours. The pid, or -1. */
static pid_t
spawn_on(int theirs, char *const argv[])
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int ret;

	ret = posix_spawn_file_actions_init(&fa);
	if (ret == 0)
		ret = posix_spawn_file_actions_adddup2(&fa, theirs, DEMO_CHANNEL_FD);
	if (ret == 0)
		ret = posix_spawn_file_actions_addclosefrom_np(&fa, DEMO_CHANNEL_FD + 1);
	fflush(NULL);
	if (ret == 0)
		ret = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (ret != 0) {
		fail("posix_spawn(%s): %s", argv[0], strerror(ret));
		return -1;
	}
	return pid;
}

int
spawn_child(struct child *c, char *const argv[])
{
	int sv[2], theirs;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return fail("socketpair: %s", strerror(errno));
	/* The child's end above DEMO_CHANNEL_FD, so that dup2() really makes a new descriptor
	 * (without close-on-exec) and closefrom leaves only the channel. */
	theirs = fcntl(sv[1], F_DUPFD_CLOEXEC, DEMO_CHANNEL_FD + 1);
	close(sv[1]);
	if (theirs < 0) {
		close(sv[0]);
		return fail("fcntl(F_DUPFD_CLOEXEC): %s", strerror(errno));
	}
	pid = spawn_on(theirs, argv);
	close(theirs);
	if (pid < 0) {
		close(sv[0]);
		return -1;
	}
	c->pid = pid;
	c->fd = sv[0];
	c->remote = false;
	return 0;
}

/* A TCP connection to @host:@port, tried again (the other host may still be booting) until
 * @timeout_ms. The descriptor, or -1. */
static int
tcp_connect(const char *host, uint16_t port, int timeout_ms)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	long long deadline = demo_now_ms() + timeout_ms;
	int fd, one = 1, err;

	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return fail("%s is not an IPv4 address", host);
	for (;;) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return fail("socket: %s", strerror(errno));
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		err = errno;
		close(fd);
		if (demo_now_ms() >= deadline)
			return fail("no peer server at %s:%u within %d ms (%s): start "
					"\"rzone-rdma-demo serve-peers\" there", host, port,
					timeout_ms, strerror(err));
		usleep(500000);
	}
	/* One line per command, answered before the next: no Nagle delays. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

int
spawn_remote_child(struct child *c, const char *host, uint16_t port, int n,
		const char *owner_ip, uint16_t owner_port)
{
	char line[DEMO_LINE_MAX];
	int fd, pid, ret;

	fd = tcp_connect(host, port, DEMO_READY_TIMEOUT_MS);
	if (fd < 0)
		return -1;
	if (channel_send(fd, CMD_SPAWN " %d %s %u", n, owner_ip, owner_port) < 0) {
		close(fd);
		return fail("cannot ask the peer server at %s:%u for %s", host, port, c->name);
	}
	ret = channel_recv(fd, line, sizeof(line), DEMO_CMD_TIMEOUT_MS);
	if (ret < 0 || sscanf(line, "SPAWNED %d", &pid) != 1 || pid <= 0) {
		close(fd);
		if (ret < 0)
			return fail("no answer from the peer server at %s:%u: %s", host, port,
					strerror(-ret));
		return fail("the peer server at %s:%u answered \"%s\"", host, port, line);
	}
	c->pid = pid;
	c->fd = fd;
	c->remote = true;
	return 0;
}

int
child_gone(const struct child *c)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	char peek[4];
	ssize_t n;

	if (!c->remote)
		return waitpid(c->pid, NULL, WNOHANG) != 0;
	/* Before it is connected, a remote child says something only if it failed (an "ERR"),
	 * and its server reports its exit ("EXITED") or closes the channel. */
	if (poll(&pfd, 1, 0) != 1)
		return 0;
	n = recv(c->fd, peek, sizeof(peek), MSG_PEEK | MSG_DONTWAIT);
	return n == 0 || (n > 0 && (strncmp(peek, "ERR", n < 3 ? (size_t)n : 3) == 0 ||
			strncmp(peek, "EXIT", (size_t)n) == 0));
}

int
peer_server_done(const char *host, uint16_t port, int status)
{
	char line[DEMO_LINE_MAX];
	int fd, ret;

	fd = tcp_connect(host, port, DEMO_CMD_TIMEOUT_MS);
	if (fd < 0)
		return -1;
	ret = channel_send(fd, CMD_DONE " %d", status);
	if (ret == 0)
		ret = channel_recv(fd, line, sizeof(line), DEMO_CMD_TIMEOUT_MS);
	close(fd);
	if (ret < 0)
		return fail("the peer server at %s:%u did not answer \"" CMD_DONE "\"", host,
				port);
	if (strcmp(line, "OK") != 0)
		return fail("the peer server at %s:%u: %s", host, port, line);
	return 0;
}

/* A remote child: its server sends "EXITED <status>" on the channel once it has exited. */
static int
reap_remote(struct child *c, int timeout_ms)
{
	long long deadline = demo_now_ms() + timeout_ms;
	char line[DEMO_LINE_MAX];
	int status = -1, ret;

	/* End of commands: a peer still waiting for one sees EOF and exits. */
	shutdown(c->fd, SHUT_WR);
	for (;;) {
		long long left = deadline - demo_now_ms();

		ret = left > 0 ? channel_recv(c->fd, line, sizeof(line), (int)left) : -ETIMEDOUT;
		if (ret < 0) {
			fail("%s (pid %d on the other host): no exit status from its server (%s)",
					c->name, (int)c->pid, ret == -ETIMEDOUT ?
					"timeout: the server kills it when it exits" :
					"the channel closed");
			break;
		}
		if (sscanf(line, "EXITED %d", &status) == 1)
			break;
		/* Anything else (an answer nobody waited for) is skipped. */
	}
	close(c->fd);
	c->fd = -1;
	c->pid = -1;
	return status;
}

int
reap_child(struct child *c, int timeout_ms)
{
	long long deadline = demo_now_ms() + timeout_ms;
	int status;

	if (c->remote && c->fd >= 0 && c->pid > 0)
		return reap_remote(c, timeout_ms);
	if (c->fd >= 0) {
		close(c->fd);	/* a child still waiting for a command sees EOF and exits */
		c->fd = -1;
	}
	if (c->pid <= 0 || c->remote) {
		c->pid = -1;
		return -1;
	}
	for (;;) {
		pid_t w = waitpid(c->pid, &status, WNOHANG);

		if (w == c->pid)
			break;
		if (w < 0 && errno != EINTR) {
			c->pid = -1;
			return -1;
		}
		if (demo_now_ms() >= deadline) {
			fail("%s (pid %d) did not exit within %d ms: killing it", c->name,
					(int)c->pid, timeout_ms);
			kill(c->pid, SIGKILL);
			waitpid(c->pid, &status, 0);
			c->pid = -1;
			return -1;
		}
		usleep(10000);
	}
	c->pid = -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return -1;
}

/* ------------------------------------------------------------------------------------------ */
/* The peer server (serve-peers): the remote peers' host                                       */
/* ------------------------------------------------------------------------------------------ */

#define SERVER_MAX_PEERS	16

struct served {
	pid_t pid;	/* -1: free */
	int fd;		/* the owner's connection: the peer's channel */
	int n;
};

/* One connection from the owner: its first line. */
static int
server_request(int fd, struct served *sv, int *done_status)
{
	char line[DEMO_LINE_MAX], n_arg[16], port_arg[16], ip_arg[64];
	char *argv[] = {
		(char *)(uintptr_t)"rzone-rdma-demo",
		(char *)(uintptr_t)"peer",
		n_arg,
		ip_arg,
		port_arg,
		NULL,
	};
	unsigned int port;
	int i, n, theirs;
	pid_t pid;

	if (channel_recv(fd, line, sizeof(line), DEMO_CMD_TIMEOUT_MS) < 0) {
		close(fd);
		return fail("a connection without a request");
	}
	if (sscanf(line, CMD_DONE " %d", done_status) == 1) {
		say("the owner is done (its status %d)", *done_status);
		channel_send(fd, "OK");
		close(fd);
		return 1;
	}
	if (sscanf(line, CMD_SPAWN " %d %63s %u", &n, ip_arg, &port) != 3 || port > 65535) {
		channel_send(fd, "ERR bad request \"%.64s\"", line);
		close(fd);
		return fail("bad request \"%s\"", line);
	}
	for (i = 0; i < SERVER_MAX_PEERS && sv[i].pid > 0; i++)
		;
	theirs = i < SERVER_MAX_PEERS ? fcntl(fd, F_DUPFD_CLOEXEC, DEMO_CHANNEL_FD + 1) : -1;
	if (theirs < 0) {
		channel_send(fd, "ERR cannot start more peers");
		close(fd);
		return fail("cannot start peer %d", n);
	}
	snprintf(n_arg, sizeof(n_arg), "%d", n);
	snprintf(port_arg, sizeof(port_arg), "%u", port);
	pid = spawn_on(theirs, argv);
	close(theirs);
	if (pid < 0) {
		channel_send(fd, "ERR cannot start a peer here");
		close(fd);
		return -1;
	}
	say("started peer %d: pid %d, for the owner at %s:%u (its command channel: this TCP "
			"connection)", n, (int)pid, ip_arg, port);
	channel_send(fd, "SPAWNED %d", (int)pid);
	sv[i] = (struct served){ .pid = pid, .fd = fd, .n = n };
	return 0;
}

/* Reap the peers that exited; tell their owner. The number still running. */
static int
server_reap(struct served *sv, int *failed)
{
	int i, st, running = 0;

	for (i = 0; i < SERVER_MAX_PEERS; i++) {
		int status;

		if (sv[i].pid <= 0)
			continue;
		if (waitpid(sv[i].pid, &st, WNOHANG) != sv[i].pid) {
			running++;
			continue;
		}
		status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		say("peer %d (pid %d) exited with status %d", sv[i].n, (int)sv[i].pid, status);
		if (status != 0)
			*failed = 1;
		channel_send(sv[i].fd, "EXITED %d", status);
		close(sv[i].fd);
		sv[i].pid = -1;
		sv[i].fd = -1;
	}
	return running;
}

int
run_peer_server(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct served sv[SERVER_MAX_PEERS];
	const char *env = getenv("RZ_DEMO_PEER_PORT");
	unsigned int port = env != NULL ? (unsigned int)atoi(env) : DEMO_PEER_PORT;
	int timeout_s = DEMO_SERVER_TIMEOUT_S, ls, one = 1, failed = 0, done = -1, i;
	long long deadline;

	demo_set_role("peer srv");
	if (argc >= 1)
		port = (unsigned int)atoi(argv[0]);
	if (argc >= 2)
		timeout_s = atoi(argv[1]);
	if (port == 0 || port > 65535 || timeout_s <= 0 || argc > 2) {
		fprintf(stderr, "usage: rzone-rdma-demo serve-peers [PORT [TIMEOUT_S]]\n");
		return 2;
	}
	for (i = 0; i < SERVER_MAX_PEERS; i++)
		sv[i] = (struct served){ .pid = -1, .fd = -1 };
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_ANY);
	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
			bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 4) < 0) {
		fail("listen on TCP port %u: %s", port, strerror(errno));
		return 1;
	}
	say("serving remote peers: the owner asks on TCP port %u; each peer is this program "
			"(\"peer N IP PORT\"), a plain verbs process; for at most %d s", port,
			timeout_s);
	deadline = demo_now_ms() + (long long)timeout_s * 1000;
	while (done < 0) {
		struct pollfd pfd = { .fd = ls, .events = POLLIN };
		int fd;

		server_reap(sv, &failed);
		if (demo_now_ms() >= deadline) {
			fail("the owner did not say it was done within %d s", timeout_s);
			failed = 1;
			break;
		}
		if (poll(&pfd, 1, 100) != 1)
			continue;
		fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (server_request(fd, sv, &done) < 0)
			failed = 1;
	}
	close(ls);
	/* The peers exit once their owner closed their channel: wait a little, then kill. */
	deadline = demo_now_ms() + DEMO_CMD_TIMEOUT_MS;
	while (server_reap(sv, &failed) > 0 && demo_now_ms() < deadline)
		usleep(10000);
	for (i = 0; i < SERVER_MAX_PEERS; i++) {
		if (sv[i].pid <= 0)
			continue;
		fail("peer %d (pid %d) still runs: killing it", sv[i].n, (int)sv[i].pid);
		kill(sv[i].pid, SIGKILL);
		waitpid(sv[i].pid, NULL, 0);
		close(sv[i].fd);
		failed = 1;
	}
	if (done != 0)
		failed = 1;
	say(failed ? "FAILED: a peer or the owner failed" :
			"done: every peer exited with status 0 and the owner passed");
	return failed ? 1 : 0;
}
