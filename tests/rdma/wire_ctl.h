/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_TEST_WIRE_CTL_H
#define RZ_TEST_WIRE_CTL_H

#include <stdbool.h>
#include <sys/types.h>

/* The TCP port of the peer server (the wire suite's control connection, not RDMA). */
#define WIRE_CTL_PORT	7470

/* The other host: serve one owner's spawn / wait requests (wire_ctl.c); the exit status. */
int wire_server_main(const char *self_exe, unsigned int port, int accept_timeout_s);

/* The owner: connect to the peer server at @host (retrying for @timeout_s); 0 or -errno. */
int wire_connect(const char *host, unsigned int port, int timeout_s);
/* Whether peers run on the other host (wire_connect() succeeded). */
bool wire_active(void);
/* Start "SELF --peer @args..." on the other host: its pid there, or -1. */
pid_t wire_spawn(char *const args[]);
/* How that peer ended: its exit status, 128 + signal, or -1. */
int wire_wait(pid_t pid);
/* Tell the server we are done. */
void wire_quit(void);
/* This host is about to be powered off: the server lets its peers end on their own and takes
 * their statuses as its verdict (0 or -1). No request after it. */
int wire_orphans(void);
/* The other host was powered off: forget the server (no "quit"). */
void wire_lost(void);

#endif /* RZ_TEST_WIRE_CTL_H */
