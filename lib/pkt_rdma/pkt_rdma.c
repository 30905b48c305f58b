/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * The RDMA half of packet pools: how lib/pkt finds the lkey of a region the first time a
 * process asks for one of its mbufs (rz_mbuf_lkey()). Above lib/rdma, it registers its
 * resolver with lib/pkt from a constructor (callbacks go down), and has lib/rdma's
 * rz_rdma_fini() clear lib/pkt's recorded keys (its MRs are gone: after a new rz_rdma_init()
 * the keys are resolved again; in between rz_mbuf_lkey() fails with -ENODEV). Without RDMA this
 * module is not built and rz_mbuf_lkey() answers -ENOTSUP.
 */

#include <errno.h>

#include <rte_common.h>
#include <rte_errno.h>

#include "pkt_private.h"
#include "rdma_hooks.h"
#include "rzone.h"
#include "rzone_rdma.h"

static int
region_lkey(uint64_t region_id, uint32_t *lkey)
{
	struct rz_region *r = rz_region_lookup(region_id);

	if (r == NULL)
		return -rte_errno;
	return rz_rdma_region_lkey(r, lkey);
}

RTE_INIT(pkt_rdma_init)
{
	pkt_set_lkey_resolver(region_lkey);
	rdma_set_fini_hook(pkt_lkeys_clear);
}
