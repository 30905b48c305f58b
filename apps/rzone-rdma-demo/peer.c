/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * A remote peer of rzone-rdma-demo: a plain verbs process (no DPDK, no rzone instance of its
 * own), as a process on another host would be. It opens the RDMA device, registers a buffer
 * of its own memory, connects to the owner with librdmacm and then serves the owner's
 * commands (rdma_demo.h): receive a capability descriptor, RDMA-read or RDMA-write the
 * region through it, reconnect. Whatever the device says is reported, refusals included:
 * the owner decides whether that was what should happen.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_errno.h>

#include <rzone.h>
#include <rzone_rdma.h>

#include "rdma_demo.h"

#define PEER_BUF_SIZE	4096

struct peer {
	int n;				/* 1, 2: the owner's name for us */
	const char *ip;			/* the owner's address */
	uint16_t port;			/* and port */
	struct rz_peer *conn;		/* the connection (NULL when closed) */
	struct rz_rdma_mem mem;		/* our registered buffer */
	char *buf;			/* its memory */
	struct rz_rdma_desc desc;	/* the last descriptor received */
	bool have_desc;
};

static const char *
rights_name(uint32_t rights)
{
	switch (rights) {
	case RZ_RDMA_RIGHT_READ:
		return "read";
	case RZ_RDMA_RIGHT_ALL:
		return "read+write+atomic";
	default:
		return "other";
	}
}

static const char *
mode_name(uint32_t mode)
{
	switch (mode) {
	case RZ_MODE_MOVE:
		return "Move";
	case RZ_MODE_SHARE:
		return "Share";
	case RZ_MODE_COPY_ON_WRITE:
		return "Copy-on-write";
	default:
		return "unknown";
	}
}

/* A failed work request, for people. */
static const char *
op_error(int ret)
{
	switch (ret) {
	case -EACCES:
		return "-EACCES, remote access error: the window refused it";
	case -ENOTCONN:
		return "-ENOTCONN, flushed: the queue pair is in error";
	case -ERANGE:
		return "-ERANGE, outside the descriptor: not sent";
	case -ETIMEDOUT:
		return "-ETIMEDOUT, transport retries exceeded";
	default:
		return strerror(-ret);
	}
}

static int
peer_connect(struct peer *pr)
{
	pr->conn = rz_peer_connect(pr->ip, pr->port, DEMO_RDMA_TIMEOUT_MS);
	if (pr->conn == NULL)
		return fail("rz_peer_connect(%s:%u): %s", pr->ip, pr->port,
				rte_strerror(rte_errno));
	say("rz_peer_connect(%s:%u): connected (one RC queue pair); my RDMA identity %016"
			PRIx64 ", the owner's 0x%016" PRIx64 " (pid %d)", pr->ip, pr->port,
			rz_rdma_self_id(), rz_peer_identity(pr->conn), rz_peer_pid(pr->conn));
	return 0;
}

static int
peer_setup(struct peer *pr)
{
	int ret;

	ret = rz_rdma_init(NULL);
	if (ret < 0)
		return fail("rz_rdma_init(): %s", strerror(-ret));
	pr->buf = aligned_alloc(4096, PEER_BUF_SIZE);
	if (pr->buf == NULL)
		return fail("out of memory");
	memset(pr->buf, 0, PEER_BUF_SIZE);
	ret = rz_rdma_register_mem(pr->buf, PEER_BUF_SIZE, &pr->mem);
	if (ret < 0)
		return fail("rz_rdma_register_mem(): %s", strerror(-ret));
	say("rz_rdma_init(): device %s; registered %d bytes of my own memory at %p (lkey %#x)",
			rz_rdma_device_name(), PEER_BUF_SIZE, (void *)pr->buf, pr->mem.lkey);
	return peer_connect(pr);
}

/* Run one command: 0 and the detail of an "OK" answer, or -1 and the reason of an "ERR". */
static int
peer_serve(struct peer *pr, const char *cmd, char *answer, size_t len)
{
	const struct rz_rdma_desc *d = &pr->desc;
	char words[128];
	uint64_t off;
	size_t n;
	int ret;

	answer[0] = '\0';
	if (strcmp(cmd, CMD_DESC) == 0) {
		ret = rz_peer_recv_desc(pr->conn, &pr->desc, DEMO_RDMA_TIMEOUT_MS);
		if (ret < 0) {
			snprintf(answer, len, "rz_peer_recv_desc: %s", strerror(-ret));
			return -1;
		}
		pr->have_desc = true;
		say("rz_peer_recv_desc(): a %s capability for region %#" PRIx64 ": window "
				"%#" PRIx64 "+%" PRIu64 ", rkey %#010x, rights %s (issuer %016"
				PRIx64 ", target 0x%016" PRIx64 ": me)", mode_name(d->mode),
				d->region_id, d->addr, d->length, d->rkey, rights_name(d->rights),
				d->issuer, d->target);
		snprintf(answer, len, "%#" PRIx64 " %#" PRIx64 " %" PRIu64 " %#x %u %u",
				d->region_id, d->addr, d->length, d->rkey, d->rights, d->mode);
		return 0;
	}
	if (sscanf(cmd, CMD_RWRITE " %" SCNu64 " %127[^\n]", &off, words) == 2) {
		if (!pr->have_desc) {
			snprintf(answer, len, "no descriptor yet");
			return -1;
		}
		snprintf(pr->buf, PEER_BUF_SIZE, PEER_TEXT, pr->n, (int)getpid(), words);
		n = strlen(pr->buf) + 1;
		ret = rz_remote_write(pr->conn, &pr->mem, 0, d, off, n);
		if (ret == 0)
			say("rz_remote_write(rkey %#010x, offset %" PRIu64 ", %zu bytes): wrote "
					"\"%s\"", d->rkey, off, n, pr->buf);
		else
			say("rz_remote_write(rkey %#010x, offset %" PRIu64 ", %zu bytes): "
					"failed with %s", d->rkey, off, n, op_error(ret));
		snprintf(answer, len, "%d %s", ret, pr->buf);
		return 0;
	}
	if (sscanf(cmd, CMD_RREAD " %" SCNu64 " %zu", &off, &n) == 2) {
		if (!pr->have_desc || n == 0 || n >= PEER_BUF_SIZE) {
			snprintf(answer, len, "no descriptor yet, or a bad length");
			return -1;
		}
		memset(pr->buf, 0, PEER_BUF_SIZE);
		ret = rz_remote_read(pr->conn, &pr->mem, 0, d, off, n);
		if (ret == 0)
			say("rz_remote_read(rkey %#010x, offset %" PRIu64 ", %zu bytes): read "
					"\"%.*s\"", d->rkey, off, n, 200, pr->buf);
		else
			say("rz_remote_read(rkey %#010x, offset %" PRIu64 ", %zu bytes): "
					"failed with %s", d->rkey, off, n, op_error(ret));
		snprintf(answer, len, "%d %.*s", ret, 200, ret == 0 ? pr->buf : "");
		return 0;
	}
	if (strcmp(cmd, CMD_RECONNECT) == 0) {
		/* After a refused access the queue pair is in error for good: only a new
		 * connection (a new QP) can carry anything again. */
		rz_peer_close(pr->conn);
		pr->conn = NULL;
		pr->have_desc = false;
		say("rz_peer_close(): disconnected; connecting again");
		if (peer_connect(pr) < 0) {
			snprintf(answer, len, "cannot connect again");
			return -1;
		}
		return 0;
	}
	snprintf(answer, len, "unknown command \"%.64s\"", cmd);
	return -1;
}

int
run_peer(int argc, char **argv)
{
	char cmd[DEMO_LINE_MAX], answer[DEMO_LINE_MAX], role[16];
	const int fd = DEMO_CHANNEL_FD;
	struct peer pr = { .conn = NULL };
	int failed = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: rzone-rdma-demo peer <n> <ip> <port> (started by the "
				"owner)\n");
		return 2;
	}
	pr.n = atoi(argv[0]);
	pr.ip = argv[1];
	pr.port = (uint16_t)atoi(argv[2]);
	snprintf(role, sizeof(role), "peer %d", pr.n);
	demo_set_role(role);

	if (peer_setup(&pr) < 0) {
		channel_send(fd, "ERR setup failed");
		failed = 1;
		goto out;
	}
	if (channel_send(fd, "OK ready") < 0) {
		failed = fail("no command channel on fd %d: start me through the owner",
				DEMO_CHANNEL_FD);
		goto out;
	}
	/* An owner that dies closes the channel: then this process disconnects and exits. */
	while (channel_recv(fd, cmd, sizeof(cmd), DEMO_READY_TIMEOUT_MS) == 0) {
		if (strcmp(cmd, CMD_EXIT) == 0) {
			say("exiting: rz_peer_close(), rz_rdma_fini()");
			channel_send(fd, "OK");
			goto out;
		}
		if (peer_serve(&pr, cmd, answer, sizeof(answer)) == 0) {
			channel_send(fd, "OK %s", answer);
		} else {
			failed = fail("%s: %s", cmd, answer);
			channel_send(fd, "ERR %s", answer);
		}
	}
	failed = fail("no more commands: the owner went away (or stalled)");
out:
	rz_peer_close(pr.conn);
	if (pr.buf != NULL && pr.mem.priv != NULL)
		rz_rdma_deregister_mem(&pr.mem);
	rz_rdma_fini();
	free(pr.buf);
	return failed ? 1 : 0;
}
