/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZONE_DEMO_H
#define RZONE_DEMO_H

/*
 * Plumbing of rzone-demo (util.c): printing, the command channel between the primary and the
 * secondary, spawning the secondary, and the fault probe. The story itself is in main.c.
 *
 * The primary drives the secondary over a socketpair with one text line per command; the
 * secondary answers every command with one line, "OK [detail]" or "ERR <reason>", so the steps of
 * the two processes happen in a fixed order. DPDK's own IPC (which rzone uses for
 * rz_region_map() of another process) is independent of this channel.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The secondary finds its end of the command channel on this descriptor. */

/* Commands, primary -> secondary. */
#define CMD_REGION	"REGION"	/* REGION <id>: find it, write a greeting at offset 0 */
#define CMD_READ	"READ"		/* READ <offset>: answer "OK <the string at offset>" */
#define CMD_OWNER	"OWNER"		/* check that the secondary owns the region now */
#define CMD_GRANT	"GRANT"		/* GRANT <pid>: answer "OK <Copy-on-write token for pid>" */
#define CMD_DESTROY	"DESTROY"	/* destroy the region (the secondary owns it) */

/* Answer timeouts. The first one covers the secondary's rte_eal_init(). */
#define DEMO_READY_TIMEOUT_MS	30000
#define DEMO_CMD_TIMEOUT_MS	10000

#include "demo_io.h"

/*
 * Send a command and wait for its answer. Returns 0 if the answer is "OK", with what follows
 * "OK " copied to @detail (if not NULL); -1 otherwise (after printing why).
 */
int channel_call(int fd, char *detail, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Start this program again as a DPDK secondary process of the same instance:
 *   <self> --proc-type=secondary --file-prefix=<prefix> --no-pci -l <lcore> -- secondary
 * with its end of a new command channel on DEMO_CHANNEL_FD. Returns the child's pid (and the
 * primary's end of the channel in @fd), or -1.
 */
pid_t spawn_secondary(const char *argv0, const char *file_prefix, unsigned int lcore, int *fd);

/* Wait up to @timeout_ms for @pid to exit; kill it (SIGKILL) after that. Its exit status, or -1
 * if it was killed or died of a signal. */
int reap_child(pid_t pid, int timeout_ms);

/* An address aligned to @align with @size bytes of free address space behind it. NULL if none. */
void *free_address_space(size_t size, size_t align);

/*
 * Write one byte at @addr in a forked child. True if the child was killed by SIGSEGV (the write
 * faulted), false if the write went through or the child died otherwise. *@how describes what
 * happened.
 */
bool write_faults(volatile char *addr, const char **how);

#endif /* RZONE_DEMO_H */
