/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * rzone remote on a real RDMA device (Soft-RoCE rxe0 in the VM lane). Two processes per test:
 * this one, a DPDK primary owning the regions, and a peer: the same binary started with
 * "--peer SCRIPT IP PORT [ARG]", a plain verbs process (no EAL) that connects, receives a
 * descriptor and runs SCRIPT; its exit status is the verdict of its half.
 *
 * Environment: RZ_RDMA_TEST_IP (default 10.0.2.15), RZ_RDMA_DEV (default: first device).
 */

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "rzone.h"
#include "rzone_rdma.h"

#define MB2		(2u << 20)
#define TMO		60000	/* ms: everything is slow under TCG */
#define PEER_BUF	(1u << 20)
#define REVOKE_TRIES	10000

extern char **environ;

static const char *test_ip;
static struct rz_peer_listener *lst;
static char self_exe[4096];

/* ---------------------------------------------------------------------------------------- */
/* Peer side (no EAL). */

#define PFAIL(...) do { fprintf(stderr, "peer: FAIL: " __VA_ARGS__); fprintf(stderr, "\n"); \
	return 1; } while (0)

struct desc_msg {
	uint64_t region_id, generation, addr, length, issuer, target;
	uint32_t rkey;
	uint8_t rights, mode;
};

static int
peer_wait_msg(struct rz_peer *p, const char *want)
{
	char buf[64];
	int n = rz_peer_recv_msg(p, buf, TMO);

	if (n < 0 || (size_t)n != strlen(want) || memcmp(buf, want, (size_t)n) != 0) {
		fprintf(stderr, "peer: expected message '%s', got %d\n", want, n);
		return -1;
	}
	return 0;
}

static int
peer_main(int argc, char **argv)
{
	const char *script = argv[2];
	struct rz_rdma_mem mem;
	struct rz_rdma_desc d, forged;
	struct rz_peer *p;
	uint8_t *buf;
	int ret, i;

	if (argc < 5)
		PFAIL("usage: --peer SCRIPT IP PORT [ARG]");
	ret = rz_rdma_init(NULL);
	if (ret != 0)
		PFAIL("rz_rdma_init: %s", strerror(-ret));
	buf = aligned_alloc(4096, PEER_BUF);
	if (buf == NULL)
		PFAIL("no memory");
	memset(buf, 0, PEER_BUF);
	ret = rz_rdma_register_mem(buf, PEER_BUF, &mem);
	if (ret != 0)
		PFAIL("rz_rdma_register_mem: %s", strerror(-ret));
	p = rz_peer_connect(argv[3], (uint16_t)atoi(argv[4]), TMO);
	if (p == NULL)
		PFAIL("rz_peer_connect(%s:%s): %s", argv[3], argv[4], strerror(rte_errno));
	ret = rz_peer_recv_desc(p, &d, TMO);
	if (ret != 0)
		PFAIL("rz_peer_recv_desc: %s", strerror(-ret));
	if (d.issuer != rz_peer_id(p) || d.target != rz_rdma_self_id())
		PFAIL("descriptor identities do not match the connection");

	if (strcmp(script, "desc") == 0) {
		struct desc_msg m = { d.region_id, d.generation, d.addr, d.length, d.issuer,
			d.target, d.rkey, (uint8_t)d.rights, (uint8_t)d.mode };

		ret = rz_peer_send_msg(p, &m, sizeof(m));
		if (ret != 0)
			PFAIL("send: %s", strerror(-ret));
		if (peer_wait_msg(p, "bye") != 0)
			return 1;
	} else if (strcmp(script, "share") == 0) {
		uint64_t olds[2];

		memset(buf, 0xa5, 4096);
		ret = rz_remote_write(p, &mem, 0, &d, 0, 4096);
		if (ret != 0)
			PFAIL("write: %s", strerror(-ret));
		ret = rz_remote_read(p, &mem, 8192, &d, 0, 4096);
		if (ret != 0 || memcmp(buf, buf + 8192, 4096) != 0)
			PFAIL("read back: %s", strerror(-ret));
		ret = rz_remote_fetch_add(p, &mem, 16384, &d, 4096, 5, &olds[0]);
		if (ret != 0)
			PFAIL("fetch_add: %s", strerror(-ret));
		ret = rz_remote_cmp_swap(p, &mem, 16392, &d, 4104, 0, 77, &olds[1]);
		if (ret != 0)
			PFAIL("cmp_swap: %s", strerror(-ret));
		ret = rz_peer_send_msg(p, olds, sizeof(olds));
		if (ret != 0)
			PFAIL("send: %s", strerror(-ret));
		if (peer_wait_msg(p, "bye") != 0)
			return 1;
	} else if (strcmp(script, "cow") == 0) {
		ret = rz_remote_read(p, &mem, 0, &d, 0, 4096);
		if (ret != 0)
			PFAIL("CoW read: %s", strerror(-ret));
		for (i = 0; i < 4096; i++)
			if (buf[i] != 0x5a)
				PFAIL("CoW read: byte %d is 0x%x, not 0x5a", i, buf[i]);
		memset(buf, 0xee, 4096);
		ret = rz_remote_write(p, &mem, 0, &d, 0, 4096);
		if (ret != -EACCES)
			PFAIL("CoW write: got %d (%s), want -EACCES", ret, strerror(-ret));
		fprintf(stderr, "peer: CoW write refused: remote access error, as expected\n");
	} else if (strcmp(script, "past") == 0) {
		memset(buf, 0x11, 4096);
		ret = rz_remote_write(p, &mem, 0, &d, 0, d.length);
		if (ret != 0)
			PFAIL("write of the whole sub-range: %s", strerror(-ret));
		ret = rz_remote_write(p, &mem, 0, &d, d.length, 1);
		if (ret != -ERANGE)
			PFAIL("library let a write past the descriptor through: %d", ret);
		/* A lying peer: claim one byte more than granted. The window must refuse. */
		forged = d;
		forged.length++;
		ret = rz_remote_write(p, &mem, 0, &forged, d.length, 1);
		if (ret != -EACCES)
			PFAIL("one byte past the sub-range: got %d (%s), want -EACCES", ret,
					strerror(-ret));
		fprintf(stderr, "peer: byte past the sub-range refused: remote access error\n");
	} else if (strcmp(script, "revoke") == 0) {
		int n_acc = 0, n_flush = 0, n_other = 0, first = 0;

		ret = rz_remote_write(p, &mem, 0, &d, 0, 8);
		if (ret != 0)
			PFAIL("write before revoke: %s", strerror(-ret));
		ret = rz_peer_send_msg(p, "ready", 5);
		if (ret != 0 || peer_wait_msg(p, "revoked") != 0)
			PFAIL("handshake");
		for (i = 0; i < REVOKE_TRIES; i++) {
			ret = rz_remote_read(p, &mem, 0, &d, 0, 8);
			if (i == 0)
				first = ret;
			if (ret == 0)
				PFAIL("attempt %d after revoke SUCCEEDED", i);
			else if (ret == -EACCES)
				n_acc++;
			else if (ret == -ENOTCONN)
				n_flush++;
			else
				n_other++;
		}
		fprintf(stderr, "peer: %d attempts after revoke: %d remote access error, %d flushed "
				"(QP in error), %d other, 0 succeeded\n", REVOKE_TRIES, n_acc,
				n_flush, n_other);
		if (first != -EACCES)
			PFAIL("first attempt after revoke: %d, want -EACCES", first);
	} else if (strcmp(script, "try") == 0) {
		int want = argc > 5 && strcmp(argv[5], "EACCES") == 0 ? -EACCES : 0;

		if (peer_wait_msg(p, "go") != 0)
			return 1;
		memset(buf, 0x77, 8);
		ret = rz_remote_write(p, &mem, 0, &d, 0, 8);
		if (ret != want)
			PFAIL("write: got %d (%s), want %d", ret, strerror(-ret), want);
		if (ret == 0) {
			rz_peer_send_msg(p, "ok", 2);
			if (peer_wait_msg(p, "bye") != 0)
				return 1;
		}
	} else if (strcmp(script, "die") == 0) {
		_exit(0);	/* no disconnect, no cleanup: the owner must notice */
	} else {
		PFAIL("unknown script %s", script);
	}
	rz_peer_close(p);
	rz_rdma_deregister_mem(&mem);
	rz_rdma_fini();
	free(buf);
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Owner side helpers. */

static pid_t
spawn_peer(const char *script, const char *arg)
{
	char port[16], opt[] = "--peer", scr[32], ip[64], extra[32];
	char *argv[] = { self_exe, opt, scr, ip, port, arg != NULL ? extra : NULL, NULL };
	pid_t pid;

	snprintf(port, sizeof(port), "%u", rz_peer_listener_port(lst));
	snprintf(scr, sizeof(scr), "%s", script);
	snprintf(ip, sizeof(ip), "%s", test_ip);
	snprintf(extra, sizeof(extra), "%s", arg != NULL ? arg : "");
	if (posix_spawn(&pid, self_exe, NULL, NULL, argv, environ) != 0)
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

static struct rz_peer *
accept_peer(void)
{
	struct rz_peer *p = rz_peer_accept(lst, TMO);

	if (p == NULL)
		fprintf(stderr, "accept: %s\n", strerror(rte_errno));
	return p;
}

static struct rz_region *
new_region(size_t size, uint32_t perms, uint8_t fill)
{
	struct rz_region *r = rz_region_create(RZ_PID_SELF, size, perms);
	int ret;

	if (r == NULL)
		return NULL;
	ret = rz_region_map(r, RZ_PID_SELF, NULL, RZ_PERM_RW & perms);
	if (ret != 0 && ret != -EEXIST)
		fprintf(stderr, "map self: %d\n", ret);
	if (perms & RZ_PERM_WRITE)
		memset(rz_region_addr(r), fill, size);
	return r;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------------------------------- */
/* Tests. */

static void
test_register(void)
{
	struct rz_region *a = new_region(MB2, RZ_PERM_RW, 0), *b = new_region(MB2, RZ_PERM_RW, 0);
	struct rz_rdma_mem ma, ma2, mb;
	uint32_t max_mr, max_mw, used_mr, used_mr2, lkey;
	char *dump = NULL;
	size_t dlen = 0;
	FILE *f;

	CU_ASSERT_FATAL(a != NULL && b != NULL);
	CU_ASSERT_EQUAL(rz_rdma_limits(&max_mr, &max_mw, &used_mr, NULL), 0);
	CU_ASSERT(max_mr > 0 && max_mw > 0);
	CU_ASSERT_EQUAL_FATAL(rz_rdma_register(a, &ma), 0);
	CU_ASSERT_PTR_EQUAL(ma.addr, rz_region_addr(a));
	CU_ASSERT_EQUAL(ma.len, MB2);
	CU_ASSERT_NOT_EQUAL(ma.lkey, 0);
	CU_ASSERT_EQUAL(rz_rdma_limits(NULL, NULL, &used_mr2, NULL), 0);
	/* Cached: the same MR again, and for a second region of the same arena. */
	CU_ASSERT_EQUAL(rz_rdma_register(a, &ma2), 0);
	CU_ASSERT_EQUAL(ma2.lkey, ma.lkey);
	CU_ASSERT_EQUAL(rz_rdma_register(b, &mb), 0);
	CU_ASSERT_EQUAL(mb.lkey, ma.lkey);
	CU_ASSERT_EQUAL(rz_rdma_region_lkey(b, &lkey), 0);
	CU_ASSERT_EQUAL(lkey, ma.lkey);
	CU_ASSERT_EQUAL(rz_rdma_limits(NULL, NULL, &used_mr, NULL), 0);
	CU_ASSERT_EQUAL(used_mr, used_mr2);
	CU_ASSERT_EQUAL(rz_rdma_register(NULL, &ma), -EINVAL);
	CU_ASSERT_EQUAL(rz_rdma_register(a, NULL), -EINVAL);
	f = open_memstream(&dump, &dlen);
	CU_ASSERT_EQUAL(rz_rdma_dump(f), 0);
	fclose(f);
	CU_ASSERT(strstr(dump, rz_rdma_device_name()) != NULL);
	CU_ASSERT(strstr(dump, "nearest NUMA node") != NULL);
	printf("\n%s", dump);
	free(dump);
	CU_ASSERT_EQUAL(rz_region_destroy(b), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(a), 0);
	CU_ASSERT_EQUAL(rz_rdma_register(a, &ma), -ENOENT);
}

static void
test_desc_roundtrip(void)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0);
	struct rz_rdma_desc d;
	struct desc_msg m;
	struct rz_peer *p;
	pid_t pid = spawn_peer("desc", NULL);

	CU_ASSERT_FATAL(r != NULL && pid > 0);
	p = accept_peer();
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, 4096, 8192, 0, &d), 0);
	CU_ASSERT_EQUAL(rz_peer_recv_msg(p, &m, TMO), (int)sizeof(m));
	CU_ASSERT_EQUAL(m.region_id, rz_region_id(r));
	CU_ASSERT_EQUAL(m.region_id, d.region_id);
	CU_ASSERT_EQUAL(m.generation, d.generation);
	CU_ASSERT_EQUAL(m.addr, (uintptr_t)rz_region_addr(r) + 4096);
	CU_ASSERT_EQUAL(m.addr, d.addr);
	CU_ASSERT_EQUAL(m.length, 8192);
	CU_ASSERT_EQUAL(m.rkey, d.rkey);
	CU_ASSERT_EQUAL(m.rights, RZ_RDMA_RIGHT_ALL);
	CU_ASSERT_EQUAL(m.mode, RZ_MODE_SHARE);
	CU_ASSERT_EQUAL(m.issuer, rz_rdma_self_id());
	CU_ASSERT_EQUAL(m.target, rz_peer_id(p));
	CU_ASSERT_EQUAL(rz_peer_pid(p), pid);
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "bye", 3), 0);
	CU_ASSERT_EQUAL(wait_peer(pid), 0);
	CU_ASSERT_EQUAL(rz_rdma_revoke(&d), 0);
	CU_ASSERT_EQUAL(rz_rdma_revoke(&d), -ENOENT);
	rz_peer_close(p);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

static void
test_share_write_lands(void)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0);
	struct rz_rdma_desc d;
	struct rz_peer *p;
	uint64_t olds[2];
	uint8_t *va;
	pid_t pid = spawn_peer("share", NULL);
	int i, bad = 0;

	CU_ASSERT_FATAL(r != NULL && pid > 0);
	va = rz_region_addr(r);
	*(uint64_t *)(va + 4096) = 1000;
	p = accept_peer();
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, 0, 0, 0, &d), 0);
	CU_ASSERT_EQUAL(d.length, MB2);
	CU_ASSERT_EQUAL(rz_peer_recv_msg(p, olds, TMO), (int)sizeof(olds));
	for (i = 0; i < 4096; i++)
		bad += va[i] != 0xa5;
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(olds[0], 1000);
	CU_ASSERT_EQUAL(*(uint64_t *)(va + 4096), 1005);
	CU_ASSERT_EQUAL(olds[1], 0);
	CU_ASSERT_EQUAL(*(uint64_t *)(va + 4104), 77);
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "bye", 3), 0);
	CU_ASSERT_EQUAL(wait_peer(pid), 0);
	rz_peer_close(p);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), 0);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

static void
test_cow_write_refused(void)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0x5a);
	struct rz_rdma_desc d;
	struct rz_peer *p;
	uint8_t *va;
	pid_t pid = spawn_peer("cow", NULL);
	int i, bad = 0;

	CU_ASSERT_FATAL(r != NULL && pid > 0);
	va = rz_region_addr(r);
	p = accept_peer();
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL(rz_rdma_grant(r, p, RZ_MODE_COPY_ON_WRITE, 0, 0, 0, &d), 0);
	CU_ASSERT_EQUAL(d.rights, RZ_RDMA_RIGHT_READ);
	CU_ASSERT_EQUAL(wait_peer(pid), 0);
	for (i = 0; i < 4096; i++)
		bad += va[i] != 0x5a;
	CU_ASSERT_EQUAL(bad, 0);
	rz_peer_close(p);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

static void
test_subrange_one_byte_past(void)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0);
	struct rz_rdma_desc d;
	struct rz_peer *p;
	uint8_t *va;
	pid_t pid = spawn_peer("past", NULL);

	CU_ASSERT_FATAL(r != NULL && pid > 0);
	va = rz_region_addr(r);
	p = accept_peer();
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, 8192, 4096, 0, &d), 0);
	CU_ASSERT_EQUAL(wait_peer(pid), 0);
	CU_ASSERT_EQUAL(va[8191], 0);
	CU_ASSERT_EQUAL(va[8192], 0x11);
	CU_ASSERT_EQUAL(va[8192 + 4095], 0x11);
	CU_ASSERT_EQUAL(va[8192 + 4096], 0);
	rz_peer_close(p);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

static void
test_revoke_then_attempts_fail(void)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0);
	struct rz_rdma_desc d;
	struct rz_peer *p;
	char buf[64];
	uint64_t t0;
	pid_t pid = spawn_peer("revoke", NULL);

	CU_ASSERT_FATAL(r != NULL && pid > 0);
	p = accept_peer();
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, 0, 0, 0, &d), 0);
	CU_ASSERT_EQUAL(rz_peer_recv_msg(p, buf, TMO), 5);
	t0 = now_ms();
	CU_ASSERT_EQUAL(rz_rdma_revoke(&d), 0);
	printf("\n  revoke (local invalidate, completion waited) took %" PRIu64 " ms\n",
			now_ms() - t0);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), 0);
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "revoked", 7), 0);
	CU_ASSERT_EQUAL(wait_peer(pid), 0);
	rz_peer_close(p);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

static void
test_revoke_one_peer_other_works(void)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0);
	struct rz_rdma_desc da, db;
	struct rz_peer *pa, *pb;
	char buf[64];
	uint8_t *va;
	pid_t a = spawn_peer("try", "EACCES"), b;

	CU_ASSERT_FATAL(r != NULL && a > 0);
	va = rz_region_addr(r);
	pa = accept_peer();
	CU_ASSERT_FATAL(pa != NULL);
	b = spawn_peer("try", "0");
	CU_ASSERT_FATAL(b > 0);
	pb = accept_peer();
	CU_ASSERT_FATAL(pb != NULL);
	CU_ASSERT_EQUAL(rz_rdma_grant(r, pa, RZ_MODE_SHARE, 0, 4096, 0, &da), 0);
	CU_ASSERT_EQUAL(rz_rdma_grant(r, pb, RZ_MODE_SHARE, 4096, 4096, 0, &db), 0);
	CU_ASSERT_NOT_EQUAL(da.rkey, db.rkey);
	CU_ASSERT_EQUAL(rz_rdma_revoke(&da), 0);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), 1);
	CU_ASSERT_EQUAL(rz_peer_send_msg(pa, "go", 2), 0);
	CU_ASSERT_EQUAL(rz_peer_send_msg(pb, "go", 2), 0);
	CU_ASSERT_EQUAL(rz_peer_recv_msg(pb, buf, TMO), 2);
	CU_ASSERT_EQUAL(va[4096], 0x77);
	CU_ASSERT_EQUAL(va[0], 0);
	CU_ASSERT_EQUAL(rz_peer_send_msg(pb, "bye", 3), 0);
	CU_ASSERT_EQUAL(wait_peer(a), 0);
	CU_ASSERT_EQUAL(wait_peer(b), 0);
	rz_peer_close(pa);
	rz_peer_close(pb);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

static void
test_expiry(void)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0);
	struct rz_rdma_desc d;
	struct rz_peer *p;
	pid_t pid = spawn_peer("try", "EACCES");
	uint64_t t0;
	int n = 0;

	CU_ASSERT_FATAL(r != NULL && pid > 0);
	p = accept_peer();
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, 0, 0, 300000000ull, &d), 0);
	CU_ASSERT_NOT_EQUAL(d.expiry_ns, 0);
	t0 = now_ms();
	while (rz_rdma_grant_count() > 0 && now_ms() - t0 < 10000) {
		n += rz_rdma_progress();
		usleep(10000);
	}
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT(now_ms() - t0 >= 290);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), 0);
	CU_ASSERT_EQUAL(rz_peer_send_msg(p, "go", 2), 0);
	CU_ASSERT_EQUAL(wait_peer(pid), 0);
	rz_peer_close(p);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

static void
test_dead_peer_revoked(void)
{
	struct rz_region *r = new_region(MB2, RZ_PERM_RW, 0);
	struct rz_rdma_desc d;
	struct rz_peer *p;
	pid_t pid = spawn_peer("die", NULL);
	uint64_t t0;

	CU_ASSERT_FATAL(r != NULL && pid > 0);
	p = accept_peer();
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL(rz_rdma_grant(r, p, RZ_MODE_SHARE, 0, 0, 0, &d), 0);
	CU_ASSERT_EQUAL(wait_peer(pid), 0);
	t0 = now_ms();
	while (rz_rdma_grant_count() > 0 && now_ms() - t0 < 20000) {
		rz_rdma_progress();
		usleep(10000);
	}
	printf("\n  dead peer noticed and its grant revoked after %" PRIu64 " ms\n",
			now_ms() - t0);
	CU_ASSERT_EQUAL(rz_rdma_grant_count(), 0);
	CU_ASSERT_EQUAL(rz_peer_connected(p), 0);
	rz_peer_close(p);
	CU_ASSERT_EQUAL(rz_region_destroy(r), 0);
}

static void
test_bad_input(void)
{
	struct rz_region *ro = new_region(MB2, RZ_PERM_READ, 0);
	struct rz_rdma_desc d;

	CU_ASSERT_FATAL(ro != NULL);
	CU_ASSERT_EQUAL(rz_rdma_grant(NULL, NULL, RZ_MODE_SHARE, 0, 0, 0, &d), -EINVAL);
	CU_ASSERT_EQUAL(rz_rdma_revoke(NULL), -EINVAL);
	memset(&d, 0, sizeof(d));
	CU_ASSERT_EQUAL(rz_rdma_revoke(&d), -ENOENT);
	CU_ASSERT_EQUAL(rz_rdma_init(NULL), -EALREADY);
	CU_ASSERT_EQUAL(rz_region_destroy(ro), 0);
}

int
main(int argc, char **argv)
{
	char prefix[64];
	char *eal[] = { argv[0], "--no-pci", "-l", "0", "--log-level=lib.rzone:notice", prefix,
		NULL };
	unsigned int failed;
	ssize_t n;
	CU_pSuite s;
	int ret;

	if (argc >= 2 && strcmp(argv[1], "--peer") == 0)
		return peer_main(argc, argv);
	test_ip = getenv("RZ_RDMA_TEST_IP");
	if (test_ip == NULL)
		test_ip = "10.0.2.15";
	n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	if (n <= 0) {
		fprintf(stderr, "FAIL: readlink /proc/self/exe\n");
		return 1;
	}
	self_exe[n] = '\0';
	snprintf(prefix, sizeof(prefix), "--file-prefix=rzt-rdma-%d", (int)getpid());
	if (rte_eal_init(RTE_DIM(eal) - 1, eal) < 0) {
		fprintf(stderr, "FAIL: rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	if (rz_init() != 0) {
		fprintf(stderr, "FAIL: rz_init\n");
		return 1;
	}
	/* No device is a FAILURE, never a skip. */
	ret = rz_rdma_init(NULL);
	if (ret != 0) {
		fprintf(stderr, "FAIL: rz_rdma_init: %s (no usable RDMA device)\n", strerror(-ret));
		return 1;
	}
	lst = rz_peer_listen(test_ip, 0);
	if (lst == NULL) {
		fprintf(stderr, "FAIL: rz_peer_listen(%s): %s\n", test_ip, strerror(rte_errno));
		return 1;
	}
	printf("rdma device %s, listening on %s:%u\n", rz_rdma_device_name(), test_ip,
			rz_peer_listener_port(lst));
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("rdma", NULL, NULL);
	CU_add_test(s, "registration (one MR per arena)", test_register);
	CU_add_test(s, "descriptor round trip", test_desc_roundtrip);
	CU_add_test(s, "Share: write, read, atomics land", test_share_write_lands);
	CU_add_test(s, "CoW: remote write refused", test_cow_write_refused);
	CU_add_test(s, "sub-range: one byte past fails", test_subrange_one_byte_past);
	CU_add_test(s, "revoke: 10000 attempts fail", test_revoke_then_attempts_fail);
	CU_add_test(s, "revoke one peer, other works", test_revoke_one_peer_other_works);
	CU_add_test(s, "expiry revokes", test_expiry);
	CU_add_test(s, "dead peer's grants revoked", test_dead_peer_revoked);
	CU_add_test(s, "bad input", test_bad_input);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	if (CU_get_number_of_tests_run() != 10)
		failed++;
	CU_cleanup_registry();
	rz_peer_listener_close(lst);
	rz_rdma_fini();
	rz_fini();
	rte_eal_cleanup();
	return failed ? 1 : 0;
}
