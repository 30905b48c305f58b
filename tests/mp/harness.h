/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_TEST_HARNESS_H
#define RZ_TEST_HARNESS_H

/* Test driver side of tests/mp: start rz-test-agent secondaries and talk to them. */

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "rz_test.h"

struct agent {
	pid_t pid;
	FILE *in;	/* commands to the agent */
	FILE *out;	/* answers from the agent */
	int status;	/* wait status once reaped */
	int reaped;
};

struct reply {
	int ok;		/* 1: "ok", 0: "err" or no answer */
	int err;	/* errno of "err", EPIPE if the agent died */
	uint64_t val;	/* first value of "ok" */
	char text[600];	/* the rest of the line after "ok " */
};

/* EAL prefix of this test run, for agents. */
extern char harness_prefix[64];

int agent_start(struct agent *a);
/* With an application argument for the agent (e.g. "--no-rzone": a plain DPDK secondary). */
int agent_start_mode(struct agent *a, const char *mode);
/* In another instance, or as its primary: @proc_type "--proc-type=primary|secondary",
 * @prefix_arg "--file-prefix=...". */
int agent_start_in(struct agent *a, const char *proc_type, const char *prefix_arg,
		const char *mode);
struct reply agent_cmd(struct agent *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Wait for the agent to exit (it was told to quit, or is expected to die). Returns wait status. */
int agent_wait(struct agent *a);
void agent_stop(struct agent *a);
void agent_kill9(struct agent *a);

#endif
