/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * rzone-rdma-demo: a hugepage region shared by the processes of one DPDK instance and, over
 * RDMA, with remote peers.
 *
 *   rzone-rdma-demo --no-pci -l 0 [-- owner [IP [PEER_HOST]]]   (--help: options)
 *   rzone-rdma-demo serve-peers [PORT [TIMEOUT_S]]              (on PEER_HOST)
 *
 * IP is the address of the RDMA device's network interface (default 10.0.2.15, the Soft-RoCE
 * VM lane's rxe0). Without PEER_HOST (or RZ_DEMO_PEER_HOST) every process runs on this host;
 * with it, the remote peers run on that host, started there by "serve-peers" (rdma_demo.h),
 * and their RDMA goes over the wire between the two hosts. The owner, a DPDK primary process,
 *   1. attaches to rzone, opens the RDMA device and creates a region;
 *   2. starts a DPDK secondary process, maps the region into it over DPDK IPC, and reads the
 *      greeting the secondary wrote;
 *   3. listens for peers; remote peer 1 connects;
 *   4. gives peer 1 a Share capability (rz_region_create_capability() on its peer id): a
 *      read/write memory window, whose descriptor (address, length, rkey) peer 1 receives;
 *   5. peer 1 RDMA-writes a string into the region; the owner and the secondary read it;
 *   6. peer 2 connects and gets a Copy-on-write capability: it RDMA-reads the string, and its
 *      RDMA write is refused by the device (remote access error);
 *   7. the owner revokes peer 1's capability; peer 1's next RDMA write is refused;
 *   8. ownership moves to a remote peer: peer 2 connects again and gets a Move capability;
 *      while it owns the region nothing else may be granted, and it writes with the owner's
 *      rights; the owner takes the region back by revoking the capability;
 *   9. ownership moves to the secondary (rz_region_transfer_ownership()): a remote peer only
 *      ever owns a region by proxy, the secondary owns it for real;
 *  10. the peers disconnect, the secondary destroys the region, everyone detaches.
 *
 * The secondary and the peers are this same program started with "-- secondary" and
 * "peer <n> <ip> <port>"; the peers are plain verbs processes (no DPDK), as processes on
 * another host would be (and are, with PEER_HOST). The owner drives them with one-line
 * commands over socketpairs (TCP connections for remote peers; see rdma_demo.h), so the steps
 * of all processes happen in this order. Every step checks what it
 * sees, refusals included: the exit status is 0 only if all of them did what they should.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include <rzone.h>
#include <rzone_rdma.h>

#include "app_eal.h"
#include "rdma_demo.h"

/* One 2 MiB hugepage. */
#define REGION_SIZE	(2u << 20)
/* Where the peers write: the middle of the region. */
#define PEER_OFFSET	(1u << 20)

#define DEFAULT_IP	"10.0.2.15"

#define SECONDARY_GREETING	"hello from the secondary, pid %d"

#define NPEERS	2

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

/* ------------------------------------------------------------------------------------------ */
/* The owner                                                                                   */
/* ------------------------------------------------------------------------------------------ */

struct owner {
	const char *argv0;
	const char *ip;			/* where we listen and the peers connect */
	const char *peer_host;		/* the peer server's host, or NULL: peers run here */
	uint16_t peer_port;		/* and its TCP port */
	pid_t self;
	struct rz_region *r;		/* the region */
	uint64_t id;			/* its id */
	char *va;			/* its DPDK address, mapped read/write here */
	struct rz_peer_listener *lst;
	struct child sec;		/* the DPDK secondary */
	struct child peer[NPEERS + 1];	/* peer[1], peer[2]: their processes */
	struct rz_peer *conn[NPEERS + 1];	/* and their connections */
	pid_t peer_id[NPEERS + 1];	/* and peer ids */
	uint64_t tok_share, tok_cow, tok_move;
	char text[DEMO_LINE_MAX];	/* what the region holds at PEER_OFFSET */
};

/* A descriptor as a peer reported it. */
struct seen_desc {
	uint64_t region_id, addr, length;
	uint32_t rkey, rights, mode;
};


/* rz_rdma_dump(), one line each. */
static void
dump_rdma(void)
{
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return;
	rz_rdma_dump(f);
	fclose(f);
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
		say("  | %s", line);
	free(buf);
}

static int
setup(struct owner *o)
{
	int ret, node;

	step("Step 1: the owner (DPDK primary) attaches to rzone, opens the RDMA device and "
			"creates a region");
	ret = rz_init();
	if (ret < 0)
		return fail("rz_init(): %s", strerror(-ret));
	ret = rz_rdma_init(NULL);
	if (ret < 0)
		return fail("rz_rdma_init(): %s (no usable RDMA device)", strerror(-ret));
	node = rz_rdma_numa_node();
	say("rz_init(), rz_rdma_init(): device %s, nearest NUMA node %d%s; my RDMA identity "
			"0x%016" PRIx64, rz_rdma_device_name(), node,
			node < 0 ? " (none reported: a software device)" : "", rz_rdma_self_id());

	o->r = rz_region_create(RZ_PID_SELF, REGION_SIZE, RZ_PERM_RW);
	if (o->r == NULL)
		return fail("rz_region_create(): %s", rte_strerror(rte_errno));
	o->id = rz_region_id(o->r);
	o->va = rz_region_addr(o->r);
	say("created region %#" PRIx64 ": %zu bytes on NUMA node %d, owner pid %d, at DPDK "
			"address %p", o->id, rz_region_size(o->r), rz_region_numa_node(o->r),
			(int)rz_region_owner(o->r), (void *)o->va);
	if (rz_region_owner(o->r) != o->self)
		return fail("unexpected owner");
	ret = rz_region_map(o->r, RZ_PID_SELF, NULL, RZ_PERM_RW);
	if (ret < 0)
		return fail("rz_region_map(self): %s", strerror(-ret));
	if (rz_region_get_mapping(o->r, RZ_PID_SELF) != o->va)
		return fail("the owner's mapping is not at the DPDK address");
	say("rz_region_map(self, read/write): mapped at %p", (void *)o->va);
	return 0;
}

static int
start_secondary(struct owner *o)
{
	/* The secondary runs on the next lcore if there is one, else on the same. */
	unsigned int lcore = rte_get_main_lcore() == 0 && sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 1 : 0;
	const char *prefix = strrchr(rte_eal_get_runtime_dir(), '/') + 1;
	char prefix_arg[256], lcore_arg[16], expect[DEMO_LINE_MAX], seen[DEMO_LINE_MAX];
	char *const argv[] = {
		(char *)(uintptr_t)o->argv0,
		(char *)(uintptr_t)"--proc-type=secondary",
		prefix_arg,
		(char *)(uintptr_t)"--no-pci",
		(char *)(uintptr_t)"-l",
		lcore_arg,
		(char *)(uintptr_t)"--",
		(char *)(uintptr_t)"secondary",
		NULL,
	};
	int ret;

	step("Step 2: the owner starts a DPDK secondary process and maps the region into it");
	snprintf(prefix_arg, sizeof(prefix_arg), "--file-prefix=%s", prefix);
	snprintf(lcore_arg, sizeof(lcore_arg), "%u", lcore);
	if (spawn_child(&o->sec, argv) < 0)
		return -1;
	say("started the secondary: pid %d (--proc-type=secondary --file-prefix=%s -l %u)",
			(int)o->sec.pid, prefix, lcore);
	/* Its first line comes once it has called rte_eal_init() and rz_init(). */
	if (child_answer(&o->sec, "start", seen, sizeof(seen), DEMO_READY_TIMEOUT_MS) < 0 ||
			strcmp(seen, "ready") != 0)
		return fail("the secondary did not start");
	if (rz_process_attached(o->sec.pid) != 1)
		return fail("rz_process_attached(%d) is not 1", (int)o->sec.pid);

	ret = rz_region_map(o->r, o->sec.pid, NULL, RZ_PERM_RW);
	if (ret < 0)
		return fail("rz_region_map(pid %d): %s", (int)o->sec.pid, strerror(-ret));
	say("rz_region_map(pid %d, read/write): done over DPDK IPC; the secondary maps it at %p, "
			"%s", (int)o->sec.pid, rz_region_get_mapping(o->r, o->sec.pid),
			demo_perms_name(rz_region_get_mapping_perms(o->r, o->sec.pid)));
	if (rz_region_get_mapping(o->r, o->sec.pid) != o->va)
		return fail("the two processes see the region at different addresses");
	/* The secondary only learns the region id: it finds the region itself. */
	if (child_call(&o->sec, NULL, 0, CMD_REGION " %#" PRIx64, o->id) < 0)
		return -1;
	snprintf(expect, sizeof(expect), SECONDARY_GREETING, (int)o->sec.pid);
	say("read at offset 0 of %p: \"%.*s\"", (void *)o->va, 64, o->va);
	if (strcmp(o->va, expect) != 0)
		return fail("expected \"%s\"", expect);
	return 0;
}

/* Start peer @n and accept its connection. */
static int
start_peer(struct owner *o, int n)
{
	char n_arg[16], port_arg[16], ready[DEMO_LINE_MAX];
	char *const argv[] = {
		(char *)(uintptr_t)o->argv0,
		(char *)(uintptr_t)"peer",
		n_arg,
		(char *)(uintptr_t)o->ip,
		port_arg,
		NULL,
	};
	struct child *c = &o->peer[n];
	long long deadline = demo_now_ms() + DEMO_READY_TIMEOUT_MS;
	struct rz_peer *p = NULL;

	snprintf(n_arg, sizeof(n_arg), "%d", n);
	snprintf(port_arg, sizeof(port_arg), "%u", rz_peer_listener_port(o->lst));
	if (o->peer_host != NULL) {
		if (spawn_remote_child(c, o->peer_host, o->peer_port, n, o->ip,
				rz_peer_listener_port(o->lst)) < 0)
			return -1;
		say("the peer server on host %s started peer %d there: pid %d on that host, a "
				"plain verbs process (no DPDK); it connects to %s:%u over the wire",
				o->peer_host, n, (int)c->pid, o->ip,
				rz_peer_listener_port(o->lst));
	} else {
		if (spawn_child(c, argv) < 0)
			return -1;
		say("started peer %d: pid %d, a plain verbs process (no DPDK): it connects to "
				"%s:%u", n, (int)c->pid, o->ip, rz_peer_listener_port(o->lst));
	}
	/* Accept in slices, so that a peer that could not start is noticed at once. */
	while (p == NULL) {
		p = rz_peer_accept(o->lst, 2000);
		if (p != NULL)
			break;
		if (rte_errno != ETIMEDOUT)
			return fail("rz_peer_accept(): %s", rte_strerror(rte_errno));
		if (demo_now_ms() > deadline)
			return fail("peer %d did not connect", n);
		if (child_gone(c))
			return fail("peer %d exited before it connected", n);
	}
	o->conn[n] = p;
	o->peer_id[n] = rz_peer_id(p);
	if (child_answer(c, "start", ready, sizeof(ready), DEMO_READY_TIMEOUT_MS) < 0 ||
			strcmp(ready, "ready") != 0)
		return fail("peer %d did not start", n);
	say("rz_peer_accept(): peer %d connected: peer id %d (%#x), OS pid %d%s, RDMA identity "
			"0x%016" PRIx64, n, (int)o->peer_id[n], (unsigned int)o->peer_id[n],
			rz_peer_pid(p), c->remote ? " (on the other host)" : "",
			rz_peer_identity(p));
	if (o->peer_id[n] < RZ_PEER_ID_BASE || rz_peer_pid(p) != c->pid ||
			rz_peer_lookup(o->peer_id[n]) != p)
		return fail("unexpected peer id or pid");
	return 0;
}

/* Tell peer @n to receive the descriptor just sent and check it against the region. */
static int
peer_desc(struct owner *o, int n, uint32_t mode, uint32_t rights)
{
	char answer[DEMO_LINE_MAX];
	struct seen_desc d;

	if (child_call(&o->peer[n], answer, sizeof(answer), CMD_DESC) < 0)
		return -1;
	if (sscanf(answer, "%" SCNx64 " %" SCNx64 " %" SCNu64 " %x %u %u", &d.region_id,
			&d.addr, &d.length, &d.rkey, &d.rights, &d.mode) != 6)
		return fail("peer %d answered \"%s\"", n, answer);
	if (d.region_id != o->id || d.addr != (uintptr_t)o->va || d.length != REGION_SIZE ||
			d.mode != mode || d.rights != rights)
		return fail("peer %d received a descriptor for something else: \"%s\"", n,
				answer);
	say("peer %d holds rkey %#010x on the whole region (%#" PRIx64 "+%" PRIu64 "), %s: "
			"rz_region_get_mapping(peer id %d) = %p, %s", n, d.rkey, d.addr, d.length,
			mode_name(d.mode), (int)o->peer_id[n],
			rz_region_get_mapping(o->r, o->peer_id[n]),
			demo_perms_name(rz_region_get_mapping_perms(o->r, o->peer_id[n])));
	return 0;
}

/* Tell peer @n to RDMA-write "remote peer <n> (pid <pid>): <words>" at PEER_OFFSET. The result
 * (0 or -errno) in @ret, the text in @text. */
static int
peer_write(struct owner *o, int n, const char *words, int *ret, char *text, size_t len)
{
	char answer[DEMO_LINE_MAX], *rest;

	if (child_call(&o->peer[n], answer, sizeof(answer), CMD_RWRITE " %u %s", PEER_OFFSET,
			words) < 0)
		return -1;
	*ret = (int)strtol(answer, &rest, 10);
	if (rest == answer || *rest != ' ')
		return fail("peer %d answered \"%s\"", n, answer);
	snprintf(text, len, "%s", rest + 1);
	return 0;
}

/* Tell peer @n to RDMA-read @len bytes at PEER_OFFSET. */
static int
peer_read(struct owner *o, int n, size_t len, int *ret, char *text, size_t tlen)
{
	char answer[DEMO_LINE_MAX], *rest;

	if (child_call(&o->peer[n], answer, sizeof(answer), CMD_RREAD " %u %zu", PEER_OFFSET,
			len) < 0)
		return -1;
	*ret = (int)strtol(answer, &rest, 10);
	if (rest == answer || (*rest != ' ' && *rest != '\0'))
		return fail("peer %d answered \"%s\"", n, answer);
	snprintf(text, tlen, "%s", *rest == ' ' ? rest + 1 : "");
	return 0;
}

/* The owner (and with @secondary_too the secondary) read PEER_OFFSET: is it o->text? */
static int
check_region(struct owner *o, bool secondary_too)
{
	char *at = o->va + PEER_OFFSET;
	char seen[DEMO_LINE_MAX];

	say("read at offset %u (%p): \"%.*s\"", PEER_OFFSET, (void *)at, 200, at);
	if (strcmp(at, o->text) != 0)
		return fail("expected \"%s\"", o->text);
	if (!secondary_too)
		return 0;
	if (child_call(&o->sec, seen, sizeof(seen), CMD_READ " %u", PEER_OFFSET) < 0)
		return -1;
	if (strcmp(seen, o->text) != 0)
		return fail("the secondary read \"%s\"", seen);
	say("the secondary read the same bytes");
	return 0;
}

static int
share_with_peer1(struct owner *o)
{
	char text[DEMO_LINE_MAX];
	int ret, wret;

	if (o->peer_host != NULL)
		step("Step 3: the owner listens for remote peers; peer 1, on host %s, connects "
				"over the wire", o->peer_host);
	else
		step("Step 3: the owner listens for remote peers; peer 1 connects");
	o->lst = rz_peer_listen(o->ip, 0);
	if (o->lst == NULL)
		return fail("rz_peer_listen(%s): %s", o->ip, rte_strerror(rte_errno));
	say("rz_peer_listen(%s): listening on port %u", o->ip, rz_peer_listener_port(o->lst));
	if (start_peer(o, 1) < 0)
		return -1;

	step("Step 4: the owner gives peer 1 a Share capability (a read/write memory window)");
	ret = rz_region_create_capability(o->r, o->peer_id[1], RZ_MODE_SHARE, &o->tok_share);
	if (ret < 0)
		return fail("rz_region_create_capability(peer id %d, Share): %s",
				(int)o->peer_id[1], strerror(-ret));
	say("rz_region_create_capability(peer id %d, Share): token %#" PRIx64 "; a memory "
			"window is bound on peer 1's queue pair and its descriptor sent",
			(int)o->peer_id[1], o->tok_share);
	if (peer_desc(o, 1, RZ_MODE_SHARE, RZ_RDMA_RIGHT_ALL) < 0)
		return -1;
	say("rz_rdma_dump():");
	dump_rdma();

	step("Step 5: peer 1 RDMA-writes into the region; the owner and the secondary read it");
	if (peer_write(o, 1, "hello over RDMA", &wret, text, sizeof(text)) < 0)
		return -1;
	if (wret != 0)
		return fail("peer 1's write through its Share window: %s", strerror(-wret));
	snprintf(o->text, sizeof(o->text), PEER_TEXT, 1, rz_peer_pid(o->conn[1]),
			"hello over RDMA");
	if (strcmp(text, o->text) != 0)
		return fail("peer 1 wrote \"%s\", expected \"%s\"", text, o->text);
	return check_region(o, true);
}

static int
copy_on_write_peer2(struct owner *o)
{
	char text[DEMO_LINE_MAX];
	int ret, rret;

	step("Step 6: peer 2 connects and gets a Copy-on-write capability: it reads, its write "
			"is refused");
	if (start_peer(o, 2) < 0)
		return -1;
	ret = rz_region_create_capability(o->r, o->peer_id[2], RZ_MODE_COPY_ON_WRITE,
			&o->tok_cow);
	if (ret < 0)
		return fail("rz_region_create_capability(peer id %d, Copy-on-write): %s",
				(int)o->peer_id[2], strerror(-ret));
	say("rz_region_create_capability(peer id %d, Copy-on-write): token %#" PRIx64 "; a "
			"read-only window", (int)o->peer_id[2], o->tok_cow);
	if (peer_desc(o, 2, RZ_MODE_COPY_ON_WRITE, RZ_RDMA_RIGHT_READ) < 0)
		return -1;
	if (peer_read(o, 2, strlen(o->text) + 1, &rret, text, sizeof(text)) < 0)
		return -1;
	if (rret != 0)
		return fail("peer 2's read through its Copy-on-write window: %s", strerror(-rret));
	if (strcmp(text, o->text) != 0)
		return fail("peer 2 read \"%s\", expected \"%s\"", text, o->text);
	say("peer 2 read what peer 1 wrote");
	if (peer_write(o, 2, "overwriting a read-only window", &rret, text, sizeof(text)) < 0)
		return -1;
	if (rret != -EACCES)
		return fail("peer 2's write through a read-only window: %s, expected a remote "
				"access error", rret == 0 ? "it went through" : strerror(-rret));
	say("peer 2's RDMA write was refused by the device: remote access error, as expected");
	if (check_region(o, false) < 0)
		return -1;
	say("the region is unchanged");
	return 0;
}

static int
revoke_peer1(struct owner *o)
{
	char text[DEMO_LINE_MAX];
	uint64_t t0;
	int ret, wret;

	step("Step 7: the owner revokes peer 1's capability; peer 1's next write fails");
	t0 = (uint64_t)demo_now_ms();
	ret = rz_capability_revoke(o->tok_share);
	if (ret < 0)
		return fail("rz_capability_revoke(%#" PRIx64 "): %s", o->tok_share,
				strerror(-ret));
	say("rz_capability_revoke(%#" PRIx64 "): peer 1's window is invalidated, and the "
			"invalidation has completed (%" PRIu64 " ms)", o->tok_share,
			(uint64_t)demo_now_ms() - t0);
	if (rz_region_get_mapping(o->r, o->peer_id[1]) != NULL || rte_errno != ENOENT ||
			rz_rdma_grant_count() != 1)
		return fail("peer 1 still maps the region, or peer 2 no longer does");
	say("rz_region_get_mapping(peer id %d): NULL, ENOENT (peer 1 holds nothing of the "
			"region any more); live grants: %d (peer 2's)",
			(int)o->peer_id[1], rz_rdma_grant_count());
	if (peer_write(o, 1, "hello again, after the revocation", &wret, text, sizeof(text)) < 0)
		return -1;
	if (wret != -EACCES)
		return fail("peer 1's write through a revoked window: %s, expected a remote "
				"access error", wret == 0 ? "it went through" : strerror(-wret));
	say("peer 1's RDMA write with its revoked rkey was refused: remote access error, as "
			"expected");
	if (check_region(o, true) < 0)
		return -1;
	say("the region is unchanged");
	return 0;
}

static int
move_to_peer2(struct owner *o)
{
	struct rz_peer *old_conn = o->conn[2];
	char text[DEMO_LINE_MAX];
	pid_t old_id = o->peer_id[2];
	uint64_t token;
	int ret, wret;

	step("Step 8: ownership moves to a remote peer: peer 2 (connected again) gets a Move "
			"capability");
	say("a remote peer owns a region by proxy (doc/guide.md, \"Peers\"): it gets the "
			"owner's rights and exclusivity; this process keeps the memory");
	/* A queue pair that saw a refused access is in error for good: peer 2 needs a new
	 * connection, which gets a new peer id (ids are never reused). */
	if (channel_send(o->peer[2].fd, CMD_RECONNECT) < 0)
		return fail("cannot send \"" CMD_RECONNECT "\" to peer 2");
	o->conn[2] = rz_peer_accept(o->lst, DEMO_RDMA_TIMEOUT_MS);
	if (o->conn[2] == NULL)
		return fail("rz_peer_accept(): %s", rte_strerror(rte_errno));
	if (child_answer(&o->peer[2], CMD_RECONNECT, NULL, 0, DEMO_CMD_TIMEOUT_MS) < 0)
		return -1;
	o->peer_id[2] = rz_peer_id(o->conn[2]);
	rz_peer_close(old_conn);
	say("peer 2 reconnected: new peer id %d (%#x); its old connection (peer id %d) is "
			"closed, and its Copy-on-write window went with it; live grants: %d",
			(int)o->peer_id[2], (unsigned int)o->peer_id[2], (int)old_id,
			rz_rdma_grant_count());
	if (o->peer_id[2] == old_id || rz_peer_pid(o->conn[2]) != o->peer[2].pid ||
			rz_rdma_grant_count() != 0)
		return fail("unexpected peer id, pid or grants");

	ret = rz_region_create_capability(o->r, o->peer_id[2], RZ_MODE_MOVE, &o->tok_move);
	if (ret < 0)
		return fail("rz_region_create_capability(peer id %d, Move): %s",
				(int)o->peer_id[2], strerror(-ret));
	say("rz_region_create_capability(peer id %d, Move): token %#" PRIx64,
			(int)o->peer_id[2], o->tok_move);
	if (peer_desc(o, 2, RZ_MODE_MOVE, RZ_RDMA_RIGHT_ALL) < 0)
		return -1;
	say("rz_rdma_region_owner(): peer id %d; rz_region_owner(): pid %d (this process, the "
			"proxy owner that keeps the memory)", (int)rz_rdma_region_owner(o->r),
			(int)rz_region_owner(o->r));
	if (rz_rdma_region_owner(o->r) != o->peer_id[2] || rz_region_owner(o->r) != o->self)
		return fail("peer 2 does not own the region");
	ret = rz_region_create_capability(o->r, o->sec.pid, RZ_MODE_COPY_ON_WRITE, &token);
	if (ret != -EPERM)
		return fail("a capability for the secondary while peer 2 owns the region: %s, "
				"expected %s", ret == 0 ? "granted" : strerror(-ret),
				strerror(EPERM));
	say("rz_region_create_capability(pid %d, Copy-on-write) while peer 2 owns the region: "
			"-EPERM, as expected (nothing may be granted to anyone else)",
			(int)o->sec.pid);
	if (peer_write(o, 2, "written with the owner's rights", &wret, text, sizeof(text)) < 0)
		return -1;
	if (wret != 0)
		return fail("peer 2's write with the owner's rights: %s", strerror(-wret));
	snprintf(o->text, sizeof(o->text), PEER_TEXT, 2, rz_peer_pid(o->conn[2]),
			"written with the owner's rights");
	if (check_region(o, true) < 0)
		return -1;

	ret = rz_capability_revoke(o->tok_move);
	if (ret < 0)
		return fail("rz_capability_revoke(%#" PRIx64 "): %s", o->tok_move,
				strerror(-ret));
	say("rz_capability_revoke(%#" PRIx64 "): peer 2's window is gone and ownership comes "
			"back: rz_rdma_region_owner() = pid %d", o->tok_move,
			(int)rz_rdma_region_owner(o->r));
	if (rz_rdma_region_owner(o->r) != o->self || rz_rdma_grant_count() != 0)
		return fail("the region did not come back");
	return 0;
}

static int
move_to_secondary(struct owner *o)
{
	uint64_t token;
	int ret;

	step("Step 9: ownership moves to the secondary (a real owner: it may destroy the "
			"region)");
	ret = rz_region_transfer_ownership(o->r, o->sec.pid);
	if (ret < 0)
		return fail("rz_region_transfer_ownership(pid %d): %s", (int)o->sec.pid,
				strerror(-ret));
	say("rz_region_transfer_ownership(pid %d): the owner is now pid %d", (int)o->sec.pid,
			(int)rz_region_owner(o->r));
	if (rz_region_owner(o->r) != o->sec.pid)
		return fail("wrong owner");
	if (child_call(&o->sec, NULL, 0, CMD_OWNER) < 0)
		return -1;
	ret = rz_region_create_capability(o->r, o->sec.pid, RZ_MODE_SHARE, &token);
	if (ret != -EPERM)
		return fail("a capability from the old owner: %s, expected %s",
				ret == 0 ? "granted" : strerror(-ret), strerror(EPERM));
	say("rz_region_create_capability() from this process, the old owner: -EPERM, as "
			"expected");
	return 0;
}

static int
finish(struct owner *o)
{
	int n, status;

	step("Step 10: the peers disconnect, the secondary destroys the region, everyone "
			"detaches");
	for (n = 1; n <= NPEERS; n++) {
		if (child_call(&o->peer[n], NULL, 0, CMD_EXIT) < 0)
			return -1;
		status = reap_child(&o->peer[n], DEMO_CMD_TIMEOUT_MS);
		if (status != 0)
			return fail("peer %d exited with status %d", n, status);
		rz_peer_close(o->conn[n]);
		o->conn[n] = NULL;
		say("peer %d exited with status 0; rz_peer_close(peer id %d)", n,
				(int)o->peer_id[n]);
	}
	rz_peer_listener_close(o->lst);
	o->lst = NULL;
	n = rz_region_unmap(o->r, RZ_PID_SELF);
	if (n < 0)
		return fail("rz_region_unmap(self): %s", strerror(-n));
	say("rz_region_unmap(self): the owner no longer maps the region");
	if (child_call(&o->sec, NULL, 0, CMD_DESTROY) < 0)
		return -1;
	if (rz_region_lookup(o->id) != NULL || rte_errno != ENOENT)
		return fail("region %#" PRIx64 " still exists", o->id);
	say("rz_region_lookup(%#" PRIx64 "): no such region any more; %d regions left", o->id,
			rz_region_count());
	if (child_call(&o->sec, NULL, 0, CMD_EXIT) < 0)
		return -1;
	status = reap_child(&o->sec, DEMO_CMD_TIMEOUT_MS);
	if (status != 0)
		return fail("the secondary exited with status %d", status);
	say("the secondary exited with status 0");
	return 0;
}

static int
run_owner(const char *argv0, const char *ip, const char *peer_host)
{
	const char *port_env = getenv("RZ_DEMO_PEER_PORT");
	struct owner o = {
		.argv0 = argv0, .ip = ip, .self = getpid(), .peer_host = peer_host,
		.peer_port = port_env != NULL ? (uint16_t)atoi(port_env) : DEMO_PEER_PORT,
		.sec = { .name = "the secondary", .pid = -1, .fd = -1 },
		.peer = {
			{ .name = "nobody", .pid = -1, .fd = -1 },
			{ .name = "peer 1", .pid = -1, .fd = -1 },
			{ .name = "peer 2", .pid = -1, .fd = -1 },
		},
	};
	int n, ret;

	ret = setup(&o);
	if (ret == 0)
		ret = start_secondary(&o);
	if (ret == 0)
		ret = share_with_peer1(&o);
	if (ret == 0)
		ret = copy_on_write_peer2(&o);
	if (ret == 0)
		ret = revoke_peer1(&o);
	if (ret == 0)
		ret = move_to_peer2(&o);
	if (ret == 0)
		ret = move_to_secondary(&o);
	if (ret == 0)
		ret = finish(&o);

	/* After a failure: whatever still runs sees its channel close and exits. */
	for (n = 1; n <= NPEERS; n++)
		reap_child(&o.peer[n], DEMO_CMD_TIMEOUT_MS);
	reap_child(&o.sec, DEMO_CMD_TIMEOUT_MS);
	/* The peer server on the other host exits with our verdict. */
	if (peer_host != NULL && peer_server_done(peer_host, o.peer_port, ret == 0 ? 0 : 1) == 0)
		say("told the peer server on host %s that the story is over", peer_host);
	else if (peer_host != NULL && ret == 0)
		ret = -1;
	if (rz_rdma_fini() == 0)
		say("rz_rdma_fini(): connections closed, memory deregistered, device closed");
	else if (ret == 0)
		ret = fail("rz_rdma_fini()");
	if (rz_fini() == 0)
		say("rz_fini(): detached from rzone");
	else if (ret == 0)
		ret = fail("rz_fini()");
	return ret;
}

/* ------------------------------------------------------------------------------------------ */
/* The secondary: serves the owner's commands                                                  */
/* ------------------------------------------------------------------------------------------ */

/* Run one command. 0 and the detail of an "OK" answer, or -1 and the reason of an "ERR". */
static int
serve(const char *cmd, struct rz_region **r, char *answer, size_t len)
{
	char *addr = NULL;
	size_t offset;
	uint64_t id;
	int ret;

	answer[0] = '\0';
	if (*r != NULL)
		addr = rz_region_get_mapping(*r, RZ_PID_SELF);

	if (sscanf(cmd, CMD_REGION " %" SCNx64, &id) == 1) {
		*r = rz_region_lookup(id);
		if (*r == NULL) {
			snprintf(answer, len, "rz_region_lookup: %s", rte_strerror(rte_errno));
			return -1;
		}
		addr = rz_region_get_mapping(*r, RZ_PID_SELF);
		if (addr == NULL) {
			snprintf(answer, len, "the region is not mapped here");
			return -1;
		}
		say("region %#" PRIx64 " found by id; the owner mapped it here at %p, %s", id,
				(void *)addr,
				demo_perms_name(rz_region_get_mapping_perms(*r, RZ_PID_SELF)));
		snprintf(addr, rz_region_size(*r), SECONDARY_GREETING, (int)getpid());
		say("wrote \"%s\" at offset 0", addr);
		return 0;
	}
	if (sscanf(cmd, CMD_READ " %zu", &offset) == 1) {
		if (addr == NULL || offset >= rz_region_size(*r)) {
			snprintf(answer, len, "nothing to read there");
			return -1;
		}
		snprintf(answer, len, "%.*s", 200, addr + offset);
		say("read at offset %zu (%p): \"%s\"", offset, (void *)(addr + offset), answer);
		return 0;
	}
	if (strcmp(cmd, CMD_OWNER) == 0) {
		if (*r == NULL || rz_region_owner(*r) != getpid()) {
			snprintf(answer, len, "this process is not the owner");
			return -1;
		}
		say("rz_region_owner(): pid %d, this process: the region is mine now",
				(int)rz_region_owner(*r));
		return 0;
	}
	if (strcmp(cmd, CMD_DESTROY) == 0) {
		id = rz_region_id(*r);
		ret = rz_region_destroy(*r);
		if (ret < 0) {
			snprintf(answer, len, "rz_region_destroy: %s", strerror(-ret));
			return -1;
		}
		*r = NULL;
		say("rz_region_destroy(): region %#" PRIx64 " unmapped here, zeroed and freed", id);
		return 0;
	}
	snprintf(answer, len, "unknown command \"%.64s\"", cmd);
	return -1;
}

static int
run_secondary(void)
{
	return demo_secondary_run("owner", DEMO_READY_TIMEOUT_MS, serve);
}

static void
usage(const char *prog)
{
	printf("\nUsage: %s [EAL options] [-- owner [IP [PEER_HOST]]]\n"
		"       %s serve-peers [PORT [TIMEOUT_S]]\n"
		"The RDMA demo: an owner (DPDK primary) shares a region with a secondary and\n"
		"with remote peers over RDMA (Share, Copy-on-write, Move grants, refusals,\n"
		"revokes).\n"
		"  owner [IP [PEER_HOST]]\n"
		"        run the demo (the default), listening on IP (default %s); with\n"
		"        PEER_HOST (or RZ_DEMO_PEER_HOST) the remote peers run on that host,\n"
		"        started by its peer server, and RDMA crosses the wire\n"
		"  serve-peers [PORT [TIMEOUT_S]]\n"
		"        on the peers' host, before the owner starts: start each remote peer\n"
		"        the owner asks for (TCP PORT, default %d or RZ_DEMO_PEER_PORT);\n"
		"        exit when the owner is done (0 if it passed and every peer exited 0),\n"
		"        or with 1 after TIMEOUT_S (default %d)\n"
		"  secondary\n"
		"        what the owner starts (with --proc-type=secondary)\n"
		"  %s peer N IP PORT\n"
		"        a remote peer (a plain verbs process, no EAL), started by the owner\n"
		"        or by the peer server\n"
		"Without --file-prefix the instance gets one of its own, rzone-rdma-demo-<pid>.\n"
		"Environment: RZ_RDMA_DEV (the RDMA device, default: the first),\n"
		"RZ_DEMO_PEER_HOST, RZ_DEMO_PEER_PORT (both sides).\n"
		"Exit status: 0 if every step did what it should.\n", prog, prog, DEFAULT_IP,
		DEMO_PEER_PORT, DEMO_SERVER_TIMEOUT_S, prog);
}

int
main(int argc, char **argv)
{
	const char *ip = DEFAULT_IP, *peer_host = getenv("RZ_DEMO_PEER_HOST");
	bool owner;
	int n, ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* A peer is a plain verbs process: no EAL. */
	if (argc >= 2 && strcmp(argv[1], "peer") == 0)
		return run_peer(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "serve-peers") == 0)
		return run_peer_server(argc - 2, argv + 2);

	argv = app_eal_args(&argc, argv, "rzone-rdma-demo", usage);
	if (argv == NULL)
		return 1;
	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "rzone-rdma-demo: rte_eal_init failed: %s\n",
				rte_strerror(rte_errno));
		return 1;
	}
	argc -= n;
	argv += n;
	owner = argc < 2 || strcmp(argv[1], "owner") == 0;
	if ((!owner && strcmp(argv[1], "secondary") != 0) || argc > 4 || (!owner && argc > 2)) {
		usage("rzone-rdma-demo");
		rte_eal_cleanup();
		return 2;
	}
	if (owner && argc >= 3)
		ip = argv[2];
	if (owner && argc == 4)
		peer_host = argv[3];
	if (peer_host != NULL && peer_host[0] == '\0')
		peer_host = NULL;
	demo_set_role(owner ? "owner" : "secondary");
	if ((rte_eal_process_type() == RTE_PROC_PRIMARY) != owner) {
		fail("run the owner with --proc-type=primary (the default); the secondary is "
				"started by the owner");
		rte_eal_cleanup();
		return 2;
	}

	ret = owner ? run_owner(argv[0], ip, peer_host) : run_secondary();

	app_eal_cleanup();
	if (owner)
		say(ret == 0 ? "RDMA demo complete: every step did what it should" :
				"RDMA demo FAILED");
	return ret == 0 ? 0 : 1;
}
