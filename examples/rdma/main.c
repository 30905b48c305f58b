/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * rzone-rdma-example: a remote peer writes into an rzone region over RDMA, then loses access.
 *
 *   owner (a DPDK primary):  rzone-rdma-example --no-pci --file-prefix=rzrx -l 0 -- owner IP PORT
 *   peer (any process):      rzone-rdma-example peer IP PORT
 *
 * IP is an address of the owner's RDMA device (rdma link show; for Soft-RoCE, the address of
 * the netdev rxe0 sits on), PORT any free port. RZ_RDMA_DEV=<device> picks the device when
 * there are several.
 *
 * The owner opens the RDMA device (rz_rdma_init()), creates a region, listens and accepts the
 * peer, and grants it the first 4 KiB of the region with a Share capability: a memory window
 * bound on the peer's own queue pair, whose descriptor (address, length, rkey) goes to the peer.
 * The peer RDMA-writes a greeting through it and says so; the owner finds the greeting in the
 * region, revokes the grant and says so; the peer's next write is refused by the device (a
 * remote access error) and the peer disconnects; the owner checks that nothing else landed.
 * Each side exits 0 only if everything happened as it should.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include <rzone.h>
#include <rzone_rdma.h>

#define GRANT_LEN	4096
#define TIMEOUT_MS	30000
/* How long the owner waits for the peer to connect. */
#define ACCEPT_TIMEOUT_MS	300000
#define GREETING	"hello from the remote peer"
#define LATE_WRITE	"written after the revoke"

static int
fail(const char *who, const char *what, int err)
{
	fprintf(stderr, "%s: FAIL: %s: %s\n", who, what, rte_strerror(err));
	return 1;
}

/* Wait for the message @want from @p (messages are at most 64 bytes). */
static int
expect_msg(struct rz_peer *p, const char *want)
{
	char msg[64 + 1];
	int n = rz_peer_recv_msg(p, msg, TIMEOUT_MS);

	if (n < 0)
		return n;
	msg[n] = '\0';
	return strcmp(msg, want) == 0 ? 0 : -EPROTO;
}

/* ------------------------------------------------------------------------------------------ */
/* The peer: a plain process, no DPDK instance of its own                                      */
/* ------------------------------------------------------------------------------------------ */

static int
run_peer(const char *ip, uint16_t port)
{
	struct rz_rdma_desc desc;
	struct rz_rdma_mem mem;
	struct rz_peer *p;
	char *buf;
	int ret;

	ret = rz_rdma_init(NULL);
	if (ret < 0)
		return fail("peer", "rz_rdma_init()", -ret);
	/* Local memory the RDMA write is sent from. */
	buf = aligned_alloc(4096, GRANT_LEN);
	if (buf == NULL)
		return fail("peer", "aligned_alloc()", ENOMEM);
	memset(buf, 0, GRANT_LEN);
	ret = rz_rdma_register_mem(buf, GRANT_LEN, &mem);
	if (ret < 0)
		return fail("peer", "rz_rdma_register_mem()", -ret);
	p = rz_peer_connect(ip, port, TIMEOUT_MS);
	if (p == NULL)
		return fail("peer", "rz_peer_connect()", rte_errno);
	ret = rz_peer_recv_desc(p, &desc, TIMEOUT_MS);
	if (ret < 0)
		return fail("peer", "rz_peer_recv_desc()", -ret);
	printf("peer: granted %" PRIu64 " bytes of region %#" PRIx64 " at %#" PRIx64
			", rkey %#x\n", desc.length, desc.region_id, desc.addr, desc.rkey);

	strcpy(buf, GREETING);
	ret = rz_remote_write(p, &mem, 0, &desc, 0, sizeof(GREETING));
	if (ret < 0)
		return fail("peer", "rz_remote_write()", -ret);
	printf("peer: wrote \"%s\" into the region\n", buf);
	ret = rz_peer_send_msg(p, "written", strlen("written"));
	if (ret == 0)
		ret = expect_msg(p, "revoked");
	if (ret < 0)
		return fail("peer", "waiting for the revoke", -ret);

	/* The window is invalidated: the device refuses the write (and the QP goes to error). */
	strcpy(buf, LATE_WRITE);
	ret = rz_remote_write(p, &mem, 0, &desc, 0, sizeof(LATE_WRITE));
	printf("peer: a write after the revoke: %s\n", ret == -EACCES ?
			"refused (remote access error), as it should be" : strerror(-ret));
	rz_peer_close(p);
	rz_rdma_deregister_mem(&mem);
	free(buf);
	rz_rdma_fini();
	return ret == -EACCES ? 0 : 1;
}

/* ------------------------------------------------------------------------------------------ */
/* The owner: a DPDK primary with an rzone region                                              */
/* ------------------------------------------------------------------------------------------ */

static int
serve_peer(struct rz_region *r, const char *ip, uint16_t port)
{
	struct rz_peer_listener *l;
	struct rz_rdma_desc desc;
	const char *bytes = rz_region_get_mapping(r, RZ_PID_SELF);
	struct rz_peer *p;
	int ret, i;

	l = rz_peer_listen(ip, port);
	if (l == NULL)
		return fail("owner", "rz_peer_listen()", rte_errno);
	printf("owner: listening on %s port %u; start the peer: rzone-rdma-example peer %s %u\n",
			ip, rz_peer_listener_port(l), ip, rz_peer_listener_port(l));
	p = rz_peer_accept(l, ACCEPT_TIMEOUT_MS);
	rz_peer_listener_close(l);
	if (p == NULL)
		return fail("owner", "rz_peer_accept()", rte_errno);
	printf("owner: peer %d connected (pid %d)\n", (int)rz_peer_id(p), rz_peer_pid(p));

	/* A memory window on the peer's own QP, its descriptor sent to the peer. */
	ret = rz_rdma_grant(r, p, RZ_MODE_SHARE, 0, GRANT_LEN, 0, &desc);
	if (ret < 0) {
		rz_peer_close(p);
		return fail("owner", "rz_rdma_grant()", -ret);
	}
	printf("owner: granted %" PRIu64 " bytes, rkey %#x\n", desc.length, desc.rkey);
	ret = expect_msg(p, "written");
	if (ret < 0 || strcmp(bytes, GREETING) != 0) {
		rz_peer_close(p);
		return fail("owner", "the peer's greeting is not in the region", ret < 0 ? -ret :
				EPROTO);
	}
	printf("owner: the region holds \"%s\"\n", bytes);

	/* When this returns, the device has invalidated the window: the rkey opens nothing. */
	ret = rz_rdma_revoke(&desc);
	if (ret < 0) {
		rz_peer_close(p);
		return fail("owner", "rz_rdma_revoke()", -ret);
	}
	ret = rz_peer_send_msg(p, "revoked", strlen("revoked"));
	printf("owner: grant revoked (%d live)\n", rz_rdma_grant_count());
	/* The peer tries once more, is refused, and disconnects. */
	for (i = 0; ret == 0 && i < TIMEOUT_MS / 10 && rz_peer_connected(p) == 1; i++)
		usleep(10000);
	rz_peer_close(p);
	if (ret < 0)
		return fail("owner", "rz_peer_send_msg()", -ret);
	if (strcmp(bytes, GREETING) != 0)
		return fail("owner", "a write after the revoke landed", EPROTO);
	printf("owner: the region still holds \"%s\" only\n", bytes);
	return 0;
}

static int
run_owner(const char *ip, uint16_t port)
{
	struct rz_region *r;
	int ret, status;

	ret = rz_init();
	if (ret < 0)
		return fail("owner", "rz_init()", -ret);
	/* Before the region: it is then created on the NUMA node nearest to the device. */
	ret = rz_rdma_init(NULL);
	if (ret < 0) {
		rz_fini();
		return fail("owner", "rz_rdma_init() (no usable RDMA device?)", -ret);
	}
	printf("owner: RDMA device %s, NUMA node %d\n", rz_rdma_device_name(),
			rz_rdma_numa_node());
	r = rz_region_create(RZ_PID_SELF, GRANT_LEN, RZ_PERM_RW);
	if (r == NULL) {
		rz_fini();
		return fail("owner", "rz_region_create()", rte_errno);
	}
	ret = rz_region_map(r, RZ_PID_SELF, NULL, RZ_PERM_RW);
	status = ret < 0 ? fail("owner", "rz_region_map()", -ret) : serve_peer(r, ip, port);
	rz_region_unmap(r, RZ_PID_SELF);
	ret = rz_region_destroy(r);
	if (ret < 0)
		status = fail("owner", "rz_region_destroy()", -ret);
	rz_rdma_fini();
	rz_fini();
	return status;
}

int
main(int argc, char **argv)
{
	int ret, status;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && strcmp(argv[1], "peer") == 0) {
		status = run_peer(argv[2], (uint16_t)atoi(argv[3]));
		printf("rzone-rdma-example peer: %s\n", status == 0 ? "PASS" : "FAIL");
		return status;
	}
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "FAIL: rte_eal_init(): %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= ret;
	argv += ret;
	if (argc == 4 && strcmp(argv[1], "owner") == 0) {
		status = run_owner(argv[2], (uint16_t)atoi(argv[3]));
	} else {
		fprintf(stderr, "usage: %s [EAL options] -- owner IP PORT\n"
				"       %s peer IP PORT\n", argv[0], argv[0]);
		status = 2;
	}
	rte_eal_cleanup();
	printf("rzone-rdma-example owner: %s\n", status == 0 ? "PASS" : "FAIL");
	return status;
}
