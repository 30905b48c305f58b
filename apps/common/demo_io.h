/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_DEMO_IO_H
#define RZ_DEMO_IO_H

/* Shared by rzone-demo and rzone-rdma-demo: one-line output per process, and a line-based
 * command channel (a socketpair) between a demo's processes. Nothing rzone-specific. */

#include <stddef.h>

#include "rzone.h"

/* The command channel's descriptor in a child process. */
#define DEMO_CHANNEL_FD	3
/* The command that ends a child: detach from rzone and exit. */
#define CMD_EXIT	"EXIT"

#define DEMO_LINE_MAX	256

/* Who is talking: set once by main(). */
void demo_set_role(const char *role);

/* Print one line, prefixed with the role and pid: "[primary   pid 1234] ...". */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print a step header (primary only). */
void step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print a failure ("FAILED: ..."); returns -1 so that callers can "return fail(...)". */
int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Send one line (no '\n' in it) on @fd. 0 or -1. */
int channel_send(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Receive one line into @buf, without its '\n'. 0, or -ETIMEDOUT, or -EPIPE if the other end
 * closed the channel (its process exited), or another -errno. */
int channel_recv(int fd, char *buf, size_t len, int timeout_ms);

/* CLOCK_MONOTONIC in milliseconds. */
long long demo_now_ms(void);

/*
 * A secondary's life in a demo: rz_init(), "OK ready" on the channel, then each command goes to
 * @serve until CMD_EXIT (rz_fini()) or until @parent (for messages: "primary", "owner") closes
 * the channel or is silent for @timeout_ms. @serve returns 0 and fills @answer (sent after
 * "OK "), or -1 with the reason in @answer (sent after "ERR "). Returns 0 only if every command
 * succeeded and rz_fini() did.
 */
int demo_secondary_run(const char *parent, int timeout_ms,
		int (*serve)(const char *cmd, struct rz_region **r, char *answer, size_t len));

/* A mapping's permissions (rz_region_get_mapping_perms()) in words. */
const char *demo_perms_name(int perms);

#endif /* RZ_DEMO_IO_H */
