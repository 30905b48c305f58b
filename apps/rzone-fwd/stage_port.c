/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/* The "port" output stage: rte_eth_tx_burst() on a DPDK port the primary configured and
 * started (--tx-port), queue 0. The PMD frees what it sent. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>

#include "fwd.h"

struct port_ctx {
	uint16_t port;
	struct fwd_stats *st;
};

static int
port_init(const struct fwd_opts *o, struct fwd_stats *st, void **ctx)
{
	static struct port_ctx pc;

	if (!rte_eth_dev_is_valid_port(o->tx_port)) {
		fprintf(stderr, "rzone-fwd: port stage: no port %u in this process\n", o->tx_port);
		return -ENODEV;
	}
	pc.port = o->tx_port;
	pc.st = st;
	*ctx = &pc;
	return 0;
}

static uint16_t
port_tx(void *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	struct port_ctx *pc = ctx;

	return rte_eth_tx_burst(pc->port, 0, pkts, n);
}

static int
port_flush(void *ctx)
{
	struct port_ctx *pc = ctx;

	/* A pcap port writes as it goes; others may hold packets until told. */
	rte_eth_tx_done_cleanup(pc->port, 0, 0);
	return 0;
}

static void
port_fini(void *ctx)
{
	RTE_SET_USED(ctx);
}

static const struct fwd_stage port_stage = {
	.name = "port",
	.help = "rte_eth_tx_burst() on --tx-port (default), e.g. a net_pcap tx_pcap= port",
	.init = port_init,
	.tx = port_tx,
	.flush = port_flush,
	.fini = port_fini,
};

#define MAX_STAGES 8
static const struct fwd_stage *stages[MAX_STAGES];
static unsigned int nstages;

void
fwd_stage_register(const struct fwd_stage *s)
{
	if (nstages < MAX_STAGES)
		stages[nstages++] = s;
}

const struct fwd_stage *
fwd_stage_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < nstages; i++)
		if (strcmp(stages[i]->name, name) == 0)
			return stages[i];
	return NULL;
}

void
fwd_stage_list(void)
{
	unsigned int i;

	for (i = 0; i < nstages; i++)
		printf("    %-8s %s\n", stages[i]->name, stages[i]->help);
}

RTE_INIT(port_stage_register)
{
	fwd_stage_register(&port_stage);
}
