/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZONE_RDMA_DEMO_H
#define RZONE_RDMA_DEMO_H

/*
 * Plumbing of rzone-rdma-demo (util.c): printing, the command channels from the owner to the
 * processes it starts, and starting them. The story is in main.c (the owner and the secondary)
 * and peer.c (the remote peers).
 *
 * The owner drives every process it starts (the DPDK secondary and the RDMA peers) over a
 * socketpair with one text line per command; each answers every command with one line,
 * "OK [detail]" or "ERR <reason>", so the steps of all processes happen in a fixed order. The
 * channel is the demo's stage direction only: what the peers do to the region goes over RDMA,
 * and it keeps working when a peer's queue pair is in error after a refused access. DPDK's own
 * IPC (which rzone uses for rz_region_map() of another process) is independent of it.
 *
 * Across two hosts the peers run on the other host, started there by "rzone-rdma-demo
 * serve-peers" (the peer server). For each peer the owner opens a TCP connection to the server
 * (port DEMO_PEER_PORT, or RZ_DEMO_PEER_PORT) and sends one line, "SPAWN <n> <owner ip> <owner
 * port>"; the server starts the peer with that connection as its command channel, answers
 * "SPAWNED <pid>" (the peer's pid on its host) before the peer speaks, and once the peer has
 * exited sends "EXITED <status>" on the same connection and closes it. At the end the owner
 * opens one more connection and sends "DONE <0 or 1>" (its verdict; answer "OK"): the server
 * then exits, 0 only if the owner passed and every peer exited 0. The protocol is the demo's
 * own, not rzone's: nothing on it is RDMA.
 */

#include <stdbool.h>
#include <stdint.h>

#include <stddef.h>
#include <sys/types.h>

/* A started process finds its end of the command channel on this descriptor. */

/* Commands, owner -> secondary. */
#define CMD_REGION	"REGION"	/* REGION <id>: find it, write a greeting at offset 0 */
#define CMD_READ	"READ"		/* READ <offset>: "OK <the string at offset>" */
#define CMD_OWNER	"OWNER"		/* check that the secondary owns the region now */
#define CMD_DESTROY	"DESTROY"	/* destroy the region (the secondary owns it) */

/* Commands, owner -> peer. */
#define CMD_DESC	"DESC"		/* receive a descriptor: "OK <id> <addr> <len> <rkey>
					 * <rights> <mode>" (hex, hex, dec, hex, dec, dec) */
#define CMD_RWRITE	"WRITE"		/* WRITE <offset> <words>: RDMA-write PEER_TEXT:
					 * "OK <0 or -errno> <text>" */
#define CMD_RREAD	"READ"		/* READ <offset> <len>: RDMA-read a string:
					 * "OK <0 or -errno> <text>" */
#define CMD_RECONNECT	"RECONNECT"	/* close the connection, connect again */

/* Both: detach and exit. */

/* Owner -> peer server (one line on a new TCP connection). */
#define CMD_SPAWN	"SPAWN"		/* SPAWN <n> <ip> <port>: "SPAWNED <pid>", later
					 * "EXITED <status>" */
#define CMD_DONE	"DONE"		/* DONE <owner's status>: "OK"; the server exits */
/* The peer server's TCP port (RZ_DEMO_PEER_PORT), and how long it serves at most. */
#define DEMO_PEER_PORT		7471
#define DEMO_SERVER_TIMEOUT_S	900

/* What a peer writes: its number, its pid, the words of the WRITE command. */
#define PEER_TEXT	"remote peer %d (pid %d): %s"

/* Answer timeouts: everything is 10-50x slower in the Soft-RoCE VM (QEMU TCG). The first one
 * covers a secondary's rte_eal_init() or a peer's rz_rdma_init() and connection. */
#define DEMO_READY_TIMEOUT_MS	120000
#define DEMO_CMD_TIMEOUT_MS	60000
/* rz_peer_accept(), rz_peer_connect(), rz_peer_recv_desc(). */
#define DEMO_RDMA_TIMEOUT_MS	60000

#include "demo_io.h"

/* A process started by the owner, with its command channel. */
struct child {
	const char *name;	/* "the secondary", "peer 1", ... for messages */
	pid_t pid;		/* -1 when not running; on its own host if remote */
	int fd;			/* owner's end of the channel, -1 when closed */
	bool remote;		/* started by the peer server of another host */
};

/* Wait for the answer to a command already sent. 0 if it is "OK", with what follows "OK "
 * copied to @detail (if not NULL); -1 otherwise (after printing why). */
int child_answer(const struct child *c, const char *cmd, char *detail, size_t len,
		int timeout_ms);

/* Send a command and wait for its answer, as child_answer(). */
int child_call(const struct child *c, char *detail, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Start this program again (/proc/self/exe) with @argv (argv[0] included, NULL-terminated),
 * with its end of a new command channel on DEMO_CHANNEL_FD and no other descriptor of ours.
 * posix_spawn(), not fork(): this process has RDMA memory registered and connections open,
 * and nothing of that should be duplicated, even for the instant before exec. 0 and @c filled
 * in, or -1.
 */
int spawn_child(struct child *c, char *const argv[]);

/* Ask the peer server at @host:@port to start peer @n of the owner at @owner_ip:@owner_port
 * (the server's host runs "peer <n> <owner_ip> <owner_port>"). 0 and @c filled in (its pid is
 * the one on the other host: never waited for here), or -1. */
int spawn_remote_child(struct child *c, const char *host, uint16_t port, int n,
		const char *owner_ip, uint16_t owner_port);

/* Whether a child that has not answered yet is gone (exited, or said it failed). */
int child_gone(const struct child *c);

/* Tell the peer server at @host:@port that the owner is done, with its @status (0 passed). */
int peer_server_done(const char *host, uint16_t port, int status);

/* Close the channel and wait up to @timeout_ms for the child to exit; kill it (SIGKILL) after
 * that (a remote child: its server reports its exit status, and kills it if it does not exit
 * once its owner is done). Its exit status, or -1 if it was killed or died of a signal. */
int reap_child(struct child *c, int timeout_ms);

/* The peer role (peer.c): argv after "peer": <n> <ip> <port>. The exit status. */
int run_peer(int argc, char **argv);

/* The peer server (util.c): argv after "serve-peers": [PORT [TIMEOUT_S]]. The exit status. */
int run_peer_server(int argc, char **argv);

#endif /* RZONE_RDMA_DEMO_H */
