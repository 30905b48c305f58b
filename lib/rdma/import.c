/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * A secondary's device context. The primary answers, over DPDK IPC (action "rzone_rdma"), with
 * its verbs command fd (passed as SCM_RIGHTS by rte_mp) and its PD handle; the secondary tries
 * ibv_import_device() + ibv_import_pd(). Where that fails (rxe: EOPNOTSUPP) the secondary opens
 * its own context and registers region memory itself; that is also what it does when the import
 * works, because rzone's peers are rdma_cm QPs, which must live in librdmacm's own context
 * (doc/guide.md, "Secondary processes").
 *
 * The command fd is the primary's whole verbs context (its PD, MRs, windows and QPs can be
 * imported and destroyed with it), and nothing in rzone uses an import: so it is handed out
 * only for a real import request, one that both sides asked for. A secondary asks only when
 * RZ_RDMA_IMPORT=1 is set in its environment, and the primary answers with the fd only when
 * RZ_RDMA_IMPORT=1 was set in its own environment when it called rz_rdma_init(); otherwise
 * it answers -EPERM with no fd. By default nobody asks and nobody is given anything. This is
 * not a defence against a malicious local process (those share all hugepages read-write
 * anyway, doc/guide.md "Threat model"), but it keeps the context from leaking by accident.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_string_fns.h>

#include "rdma_private.h"

#define IMPORT_ACTION	"rzone_rdma"
#define IMPORT_TMO_MS	1000

static bool serving;
static bool give_fd;	/* RZ_RDMA_IMPORT=1 in the primary: a real import request is served */

/* RZ_RDMA_IMPORT=1: this process takes part in an import (either side). */
static bool
import_wanted(void)
{
	const char *env = getenv("RZ_RDMA_IMPORT");

	return env != NULL && strcmp(env, "1") == 0;
}

static int
import_handle(const struct rte_mp_msg *msg, const void *peer)
{
	struct rte_mp_msg reply;
	struct import_msg r;
	int ret;

	/* A request carries no file descriptor: close any, whatever the answer. */
	for (ret = 0; ret < msg->num_fds && ret < RTE_MP_MAX_FD_NUM; ret++)
		if (msg->fds[ret] >= 0)
			close(msg->fds[ret]);
	memset(&reply, 0, sizeof(reply));
	memset(&r, 0, sizeof(r));
	rte_strlcpy(reply.name, IMPORT_ACTION, sizeof(reply.name));
	r.magic = IMPORT_MAGIC;
	r.version = IMPORT_VERSION;
	r.op = IMPORT_OP_CTX;
	r.result = import_req_parse(msg->param, msg->len_param, NULL);
	if (r.result != 0)
		goto send;
	/* The IPC thread must not wait on a lock: the caller retries. */
	if (rdma_trylock() != 0) {
		r.result = -EAGAIN;
		goto send;
	}
	if (!rdma_state.initialized) {
		r.result = -ENODEV;
	} else if (!give_fd) {
		/* Not a real import: this primary did not enable it. No fd. */
		r.result = -EPERM;
		RZ_LOG(NOTICE, "a secondary asked for the verbs context: refused (import not "
				"enabled in the primary: RZ_RDMA_IMPORT=1)");
	} else {
		reply.fds[0] = rdma_state.verbs->cmd_fd;
		reply.num_fds = 1;
		r.pd_handle = rdma_state.pd->handle;
		rte_strlcpy(r.dev, rdma_state.name, sizeof(r.dev));
	}
	reply.len_param = sizeof(r);
	memcpy(reply.param, &r, sizeof(r));
	ret = rte_mp_reply(&reply, peer);
	rdma_unlock();
	return ret;
send:
	RZ_LOG(ERR, "bad or untimely context request from a secondary: %s",
			strerror(-r.result));
	reply.len_param = sizeof(r);
	memcpy(reply.param, &r, sizeof(r));
	return rte_mp_reply(&reply, peer);
}

void
import_serve_start(void)
{
	if (tbl() == NULL || !local_proc.primary || serving)
		return;
	if (rte_mp_action_register(IMPORT_ACTION, import_handle) < 0 && rte_errno != EEXIST) {
		RZ_LOG(WARNING, "cannot serve secondaries' context requests: %s",
				rte_strerror(rte_errno));
		return;
	}
	give_fd = import_wanted();
	serving = true;
}

void
import_serve_stop(void)
{
	if (!serving)
		return;
	rte_mp_action_unregister(IMPORT_ACTION);
	serving = false;
	give_fd = false;
}

/* One request to the primary: its command fd in *@fd, PD handle, device name. */
static int
import_ask(int *fd, uint32_t *pd_handle, char *dev, size_t dev_len)
{
	struct timespec ts = { .tv_sec = IMPORT_TMO_MS / 1000,
		.tv_nsec = (IMPORT_TMO_MS % 1000) * 1000000L };
	struct rte_mp_reply rep;
	struct rte_mp_msg req;
	struct import_msg m;
	int ret, i;

	memset(&req, 0, sizeof(req));
	memset(&m, 0, sizeof(m));
	rte_strlcpy(req.name, IMPORT_ACTION, sizeof(req.name));
	m.magic = IMPORT_MAGIC;
	m.version = IMPORT_VERSION;
	m.op = IMPORT_OP_CTX;
	req.len_param = sizeof(m);
	memcpy(req.param, &m, sizeof(m));
	if (rte_mp_request_sync(&req, &rep, &ts) < 0)
		return -rte_errno;
	if (rep.nb_received != 1) {
		free(rep.msgs);
		return -ETIMEDOUT;	/* the primary did not call rz_rdma_init() */
	}
	ret = import_reply_parse(rep.msgs[0].param, rep.msgs[0].len_param, rep.msgs[0].num_fds,
			&m, NULL);
	if (ret == 0) {
		*fd = rep.msgs[0].fds[0];
		*pd_handle = m.pd_handle;
		rte_strlcpy(dev, m.dev, dev_len);
	} else {
		for (i = 0; i < rep.msgs[0].num_fds; i++)
			close(rep.msgs[0].fds[i]);
	}
	free(rep.msgs);
	return ret;
}

int
import_try(void)
{
	char dev[IBV_SYSFS_NAME_MAX] = "";
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	uint32_t handle = 0;
	uint64_t t0 = mono_time_ns(), t1;
	int fd = -1, ret = 0, tries;

	/* Only a real import request: the fd is asked for only when import is enabled. */
	if (tbl() == NULL || local_proc.primary || !import_wanted())
		return 0;
	for (tries = 0; tries < 10; tries++) {
		ret = import_ask(&fd, &handle, dev, sizeof(dev));
		if (ret != -EAGAIN)
			break;
		usleep(1000);
	}
	if (ret != 0) {
		RZ_LOG(INFO, "the primary's device context is not available (%s): own context",
				strerror(-ret));
		return ret;
	}
	t1 = mono_time_ns();
	ctx = ibv_import_device(fd);
	if (ctx == NULL) {
		ret = rdma_errno(-1);
		close(fd);
		RZ_LOG(INFO, "ibv_import_device(%s, primary's fd): %s (IPC %" PRIu64 " us, import "
				"%" PRIu64 " us): own context, own registrations", dev,
				strerror(-ret), (t1 - t0) / 1000, (mono_time_ns() - t1) / 1000);
		return ret;
	}
	pd = ibv_import_pd(ctx, handle);
	if (pd == NULL) {
		ret = rdma_errno(-1);
		ibv_close_device(ctx);
		RZ_LOG(INFO, "ibv_import_pd(%s): %s: own context", dev, strerror(-ret));
		return ret;
	}
	ibv_unimport_pd(pd);
	ibv_close_device(ctx);
	RZ_LOG(NOTICE, "%s: the primary's context and PD import, but rzone's peers are rdma_cm "
			"QPs, which must use librdmacm's own context: own context, own "
			"registrations", dev);
	return -ENOTSUP;
}
