/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * rzone-demo: two processes of one DPDK instance share a hugepage region.
 *
 *   rzone-demo --no-pci -l 0 [-- primary]     (--help: its options)
 *
 * The primary process
 *   1. attaches to rzone and creates a region on its own NUMA node;
 *   2. maps the region and starts a secondary process of the same DPDK instance;
 *   3. maps the region into the secondary (rzone asks the secondary over DPDK IPC);
 *   4. reads the greeting the secondary wrote, and writes one that the secondary reads;
 *   5. hands the region over to the secondary (transfer of ownership);
 *   6. gives up its read/write mapping and asks the new owner for a Copy-on-write capability,
 *      with which it maps a read-only view of the region at an address of its choice;
 *   7. reads through the view, and shows that a write through it faults;
 *   8. unmaps the view; the secondary destroys the region; both detach from rzone.
 *
 * The secondary is this same program started with "-- secondary". The primary drives it with
 * one-line commands over a socketpair (see demo.h and util.c), so the steps of both processes
 * happen in this order. Every step checks what it sees: the exit status is 0 only if all of
 * them did what they should.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_memory.h>

#include <rzone.h>

#include "app_eal.h"
#include "demo.h"

/* Two 2 MiB hugepages: the primary writes in the second one. */
#define REGION_SIZE	(4u << 20)

#define SECONDARY_GREETING	"hello from the secondary, pid %d"
#define PRIMARY_GREETING	"hello from the primary, pid %d"

/* ------------------------------------------------------------------------------------------ */
/* The primary                                                                                 */
/* ------------------------------------------------------------------------------------------ */

struct demo {
	struct rz_region *r;	/* the region (the handle is valid in every process) */
	uint64_t id;		/* its id: what the secondary is told */
	size_t size;		/* its size: a whole number of hugepages */
	size_t page_sz;		/* the hugepage size */
	pid_t self;		/* the primary's pid */
	pid_t secondary;	/* the secondary's pid (-1 before it starts) */
	int channel;		/* command channel to the secondary (-1 before it starts) */
};

static int
create_region(struct demo *d)
{
	const struct rte_memseg_list *msl;
	int ret;

	step("Step 1: the primary attaches to rzone and creates a region on its NUMA node");
	ret = rz_init();
	if (ret < 0)
		return fail("rz_init(): %s", strerror(-ret));
	say("rz_init(): attached to rzone (DPDK file prefix \"%s\")",
			strrchr(rte_eal_get_runtime_dir(), '/') + 1);

	d->r = rz_region_create_numa(RZ_PID_SELF, REGION_SIZE, RZ_PERM_RW, (int)rte_socket_id());
	if (d->r == NULL)
		return fail("rz_region_create_numa(): %s", rte_strerror(rte_errno));
	d->id = rz_region_id(d->r);
	d->size = rz_region_size(d->r);
	msl = rte_mem_virt2memseg_list(rz_region_addr(d->r));
	if (msl == NULL)
		return fail("no DPDK memory behind the region");
	d->page_sz = msl->page_sz;
	say("created region %#" PRIx64 ": %zu bytes on NUMA node %d (this lcore's node: %u), "
			"owner pid %d, at DPDK address %p", d->id, d->size,
			rz_region_numa_node(d->r), rte_socket_id(), (int)rz_region_owner(d->r),
			rz_region_addr(d->r));
	if (rz_region_owner(d->r) != d->self || rz_region_numa_node(d->r) != (int)rte_socket_id())
		return fail("unexpected owner or NUMA node");
	return rz_region_dump(stdout, d->r) == 0 ? 0 : fail("rz_region_dump()");
}

static int
start_secondary(struct demo *d, const char *argv0)
{
	/* The secondary runs on the next lcore if there is one, else on the same. */
	unsigned int lcore = rte_get_main_lcore() == 0 && sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 1 : 0;
	const char *prefix = strrchr(rte_eal_get_runtime_dir(), '/') + 1;
	char answer[DEMO_LINE_MAX];
	int ret;

	step("Step 2: the primary maps the region and starts a secondary process");
	ret = rz_region_map(d->r, RZ_PID_SELF, NULL, RZ_PERM_RW);
	if (ret < 0)
		return fail("rz_region_map(self): %s", strerror(-ret));
	say("rz_region_map(self, read/write): mapped at %p",
			rz_region_get_mapping(d->r, RZ_PID_SELF));

	d->secondary = spawn_secondary(argv0, prefix, lcore, &d->channel);
	if (d->secondary < 0)
		return -1;
	say("started the secondary: pid %d (--proc-type=secondary --file-prefix=%s -l %u)",
			(int)d->secondary, prefix, lcore);
	/* Its first line comes once it has called rte_eal_init() and rz_init(). */
	if (channel_recv(d->channel, answer, sizeof(answer), DEMO_READY_TIMEOUT_MS) < 0 ||
			strcmp(answer, "OK ready") != 0)
		return fail("the secondary did not start");
	if (rz_process_attached(d->secondary) != 1)
		return fail("rz_process_attached(%d) is not 1", (int)d->secondary);
	say("the secondary is attached to rzone");
	return 0;
}

static int
map_into_secondary(struct demo *d)
{
	void *theirs;
	int ret;

	step("Step 3: the primary (the owner) maps the region into the secondary");
	ret = rz_region_map(d->r, d->secondary, NULL, RZ_PERM_RW);
	if (ret < 0)
		return fail("rz_region_map(pid %d): %s", (int)d->secondary, strerror(-ret));
	theirs = rz_region_get_mapping(d->r, d->secondary);
	say("rz_region_map(pid %d, read/write): done over DPDK IPC; the secondary maps it at %p, "
			"%s", (int)d->secondary, theirs,
			demo_perms_name(rz_region_get_mapping_perms(d->r, d->secondary)));
	if (theirs != rz_region_get_mapping(d->r, RZ_PID_SELF))
		return fail("the two processes see the region at different addresses");
	say("same address in both processes: pointers into the region can be shared");
	return 0;
}

static int
exchange_bytes(struct demo *d)
{
	char *mine = rz_region_get_mapping(d->r, RZ_PID_SELF);
	char expect[DEMO_LINE_MAX], seen[DEMO_LINE_MAX];
	size_t half = d->size / 2;

	step("Step 4: both processes write and read the region");
	/* The secondary only learns the region id: it finds the region itself. */
	if (channel_call(d->channel, NULL, 0, CMD_REGION " %#" PRIx64, d->id) < 0)
		return -1;
	snprintf(expect, sizeof(expect), SECONDARY_GREETING, (int)d->secondary);
	say("read at offset 0 of %p: \"%.*s\"", (void *)mine, 64, mine);
	if (strcmp(mine, expect) != 0)
		return fail("expected \"%s\"", expect);

	snprintf(mine + half, d->size - half, PRIMARY_GREETING, (int)d->self);
	say("wrote \"%s\" at offset %zu (%p)", mine + half, half, (void *)(mine + half));
	if (channel_call(d->channel, seen, sizeof(seen), CMD_READ " %zu", half) < 0)
		return -1;
	if (strcmp(seen, mine + half) != 0)
		return fail("the secondary read \"%s\"", seen);
	say("the secondary read the same bytes");
	return 0;
}

static int
transfer_ownership(struct demo *d)
{
	int ret;

	step("Step 5: the primary transfers ownership of the region to the secondary");
	ret = rz_region_transfer_ownership(d->r, d->secondary);
	if (ret < 0)
		return fail("rz_region_transfer_ownership(): %s", strerror(-ret));
	say("rz_region_transfer_ownership(pid %d): the owner is now pid %d", (int)d->secondary,
			(int)rz_region_owner(d->r));
	if (rz_region_owner(d->r) != d->secondary)
		return fail("wrong owner");
	return channel_call(d->channel, NULL, 0, CMD_OWNER);
}

static int
read_only_view(struct demo *d)
{
	char answer[DEMO_LINE_MAX], expect[DEMO_LINE_MAX];
	struct rz_region *granted = NULL;
	size_t half = d->size / 2;
	const char *how;
	uint64_t token;
	char *view;
	int ret;

	step("Step 6: the primary swaps its mapping for a read-only view, by capability");
	ret = rz_region_unmap(d->r, RZ_PID_SELF);
	if (ret < 0)
		return fail("rz_region_unmap(self): %s", strerror(-ret));
	say("rz_region_unmap(self): the primary no longer maps the region");
	/* Only the owner, now the secondary, can let the primary back in. A Copy-on-write
	 * capability carries read-only rights (see doc/guide.md, "Capabilities"). */
	if (channel_call(d->channel, answer, sizeof(answer), CMD_GRANT " %d", (int)d->self) < 0)
		return -1;
	token = strtoull(answer, NULL, 0);
	say("got a Copy-on-write capability from the owner: token %#" PRIx64, token);

	/* Any hugepage-aligned address with nothing mapped there will do. */
	view = free_address_space(d->size, d->page_sz);
	if (view == NULL)
		return fail("no free address space");
	ret = rz_capability_map(token, view, &granted);
	if (ret < 0)
		return fail("rz_capability_map(%p): %s", (void *)view, strerror(-ret));
	say("rz_capability_map(token, %p): the primary maps region %#" PRIx64 " there, %s",
			(void *)view, rz_region_id(granted),
			demo_perms_name(rz_region_get_mapping_perms(d->r, RZ_PID_SELF)));
	if (granted != d->r || rz_region_get_mapping(d->r, RZ_PID_SELF) != view ||
			rz_region_get_mapping_perms(d->r, RZ_PID_SELF) != RZ_PERM_READ)
		return fail("the view is not the read-only mapping of the region");
	rz_region_dump(stdout, d->r);

	step("Step 7: the primary reads through the view; a write through it faults");
	snprintf(expect, sizeof(expect), SECONDARY_GREETING, (int)d->secondary);
	say("read at offset 0 of the view %p: \"%.*s\"", (void *)view, 64, view);
	if (strcmp(view, expect) != 0)
		return fail("expected \"%s\"", expect);
	snprintf(expect, sizeof(expect), PRIMARY_GREETING, (int)d->self);
	say("read at offset %zu of the view %p: \"%.*s\"", half, (void *)(view + half), 64,
			view + half);
	if (strcmp(view + half, expect) != 0)
		return fail("expected \"%s\"", expect);
	if (!write_faults(view, &how))
		return fail("a write through the read-only view: %s", how);
	say("a write through the view at %p (in a forked child): %s, as expected",
			(void *)view, how);
	if (view[0] != 'h')
		return fail("the region changed");
	say("the region is unchanged");

	ret = rz_region_unmap(d->r, RZ_PID_SELF);
	if (ret < 0)
		return fail("rz_region_unmap(self): %s", strerror(-ret));
	say("rz_region_unmap(self): the view is gone (munmap)");
	return 0;
}

static int
finish(struct demo *d)
{
	int status;

	step("Step 8: the owner destroys the region; both processes detach");
	if (channel_call(d->channel, NULL, 0, CMD_DESTROY) < 0)
		return -1;
	if (rz_region_lookup(d->id) != NULL || rte_errno != ENOENT)
		return fail("region %#" PRIx64 " still exists", d->id);
	say("rz_region_lookup(%#" PRIx64 "): no such region any more; %d regions left", d->id,
			rz_region_count());
	if (channel_call(d->channel, NULL, 0, CMD_EXIT) < 0)
		return -1;
	status = reap_child(d->secondary, DEMO_CMD_TIMEOUT_MS);
	d->secondary = -1;
	if (status != 0)
		return fail("the secondary exited with status %d", status);
	say("the secondary exited with status 0");
	return 0;
}

static int
run_primary(const char *argv0)
{
	struct demo d = { .self = getpid(), .secondary = -1, .channel = -1 };
	int ret;

	ret = create_region(&d);
	if (ret == 0)
		ret = start_secondary(&d, argv0);
	if (ret == 0)
		ret = map_into_secondary(&d);
	if (ret == 0)
		ret = exchange_bytes(&d);
	if (ret == 0)
		ret = transfer_ownership(&d);
	if (ret == 0)
		ret = read_only_view(&d);
	if (ret == 0)
		ret = finish(&d);

	if (d.channel >= 0)
		close(d.channel);	/* a secondary still running sees EOF and exits */
	if (d.secondary > 0)
		reap_child(d.secondary, DEMO_CMD_TIMEOUT_MS);
	if (rz_fini() == 0)
		say("rz_fini(): detached from rzone");
	else if (ret == 0)
		ret = fail("rz_fini()");
	return ret;
}

/* ------------------------------------------------------------------------------------------ */
/* The secondary: serves the primary's commands                                                */
/* ------------------------------------------------------------------------------------------ */

/* Fill @answer with the reason of an "ERR" answer; returns -1. */
static int __attribute__((format(printf, 3, 4)))
refuse(char *answer, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(answer, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* Run one command. 0 and the detail of an "OK" answer, or -1 and the reason of an "ERR". */
static int
serve(const char *cmd, struct rz_region **r, char *answer, size_t len)
{
	uint64_t id, token;
	char *addr = NULL;
	size_t offset;
	pid_t pid;
	int ret;

	answer[0] = '\0';
	if (*r != NULL)
		addr = rz_region_get_mapping(*r, RZ_PID_SELF);

	if (sscanf(cmd, CMD_REGION " %" SCNx64, &id) == 1) {
		*r = rz_region_lookup(id);
		if (*r == NULL)
			return refuse(answer, len, "rz_region_lookup: %s",
					rte_strerror(rte_errno));
		addr = rz_region_get_mapping(*r, RZ_PID_SELF);
		if (addr == NULL)
			return refuse(answer, len, "the region is not mapped here");
		say("region %#" PRIx64 " found by id; the primary mapped it here at %p, %s", id,
				(void *)addr,
				demo_perms_name(rz_region_get_mapping_perms(*r, RZ_PID_SELF)));
		snprintf(addr, rz_region_size(*r), SECONDARY_GREETING, (int)getpid());
		say("wrote \"%s\" at offset 0", addr);
		return 0;
	}
	if (sscanf(cmd, CMD_READ " %zu", &offset) == 1) {
		if (addr == NULL || offset >= rz_region_size(*r))
			return refuse(answer, len, "nothing to read there");
		snprintf(answer, len, "%.*s", 200, addr + offset);
		say("read at offset %zu (%p): \"%s\"", offset, (void *)(addr + offset), answer);
		return 0;
	}
	if (strcmp(cmd, CMD_OWNER) == 0) {
		if (*r == NULL || rz_region_owner(*r) != getpid())
			return refuse(answer, len, "this process is not the owner");
		say("rz_region_owner(): pid %d, this process: the region is mine now",
				(int)rz_region_owner(*r));
		return 0;
	}
	if (sscanf(cmd, CMD_GRANT " %d", &pid) == 1) {
		ret = rz_region_create_capability(*r, pid, RZ_MODE_COPY_ON_WRITE, &token);
		if (ret < 0)
			return refuse(answer, len, "rz_region_create_capability: %s",
					strerror(-ret));
		say("rz_region_create_capability(pid %d, Copy-on-write): token %#" PRIx64,
				(int)pid, token);
		snprintf(answer, len, "%#" PRIx64, token);
		return 0;
	}
	if (strcmp(cmd, CMD_DESTROY) == 0) {
		id = rz_region_id(*r);
		ret = rz_region_destroy(*r);
		if (ret < 0)
			return refuse(answer, len, "rz_region_destroy: %s", strerror(-ret));
		*r = NULL;
		say("rz_region_destroy(): region %#" PRIx64 " unmapped here, zeroed and freed", id);
		return 0;
	}
	return refuse(answer, len, "unknown command \"%s\"", cmd);
}

static int
run_secondary(void)
{
	return demo_secondary_run("primary", 60000, serve);
}

static void
usage(const char *prog)
{
	printf("\nUsage: %s [EAL options] [-- primary|secondary]\n"
		"The local demo: a primary creates a region, starts a secondary of the same\n"
		"instance and the two share it, hand it over and protect it.\n"
		"  primary     run the demo (the default); it starts the secondary itself\n"
		"  secondary   what the primary starts (with --proc-type=secondary)\n"
		"Without --file-prefix the instance gets one of its own, rzone-demo-<pid>.\n"
		"Exit status: 0 if every step did what it should.\n", prog);
}

int
main(int argc, char **argv)
{
	bool primary;
	int n, ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	argv = app_eal_args(&argc, argv, "rzone-demo", usage);
	if (argv == NULL)
		return 1;
	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "rzone-demo: rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= n;
	argv += n;
	primary = argc < 2 || strcmp(argv[1], "primary") == 0;
	if (!primary && strcmp(argv[1], "secondary") != 0) {
		usage("rzone-demo");
		rte_eal_cleanup();
		return 2;
	}
	demo_set_role(primary ? "primary" : "secondary");
	if ((rte_eal_process_type() == RTE_PROC_PRIMARY) != primary) {
		fail("run the primary with --proc-type=primary (the default), the secondary with "
				"--proc-type=secondary");
		rte_eal_cleanup();
		return 2;
	}

	ret = primary ? run_primary(argv[0]) : run_secondary();

	app_eal_cleanup();
	if (primary)
		say(ret == 0 ? "demo complete: every step did what it should" : "demo FAILED");
	return ret == 0 ? 0 : 1;
}
