/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_DEMO_IO_H
#define RZ_DEMO_IO_H

/* Shared by rzone-demo and rzone-rdma-demo: one-line output per process, and a line-based
 * command channel (a socketpair) between a demo's processes. Nothing rzone-specific. */

#include <stddef.h>

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

#endif /* RZ_DEMO_IO_H */
