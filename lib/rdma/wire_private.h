/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_WIRE_PRIVATE_H
#define RZ_WIRE_PRIVATE_H

/*
 * The small byte strings of lib/rdma that cross a process or network boundary, besides the
 * capability descriptor (desc_private.h): the rdma_cm hello (cm.c), the message header of the
 * message channel (msg.c), the secondary's context request and the primary's answer (import.c),
 * and the parameter of /rzone/rdma/peer (telemetry.c). Their parsers are in wire.c: pure C (no
 * EAL, no verbs calls), so that the fuzzers (tests/fuzz/) link them alone. Each parser returns
 * 0 (or a length) or a negative errno, and never logs: @why (if not NULL) gets a static reason
 * string on a rejection, NULL on success; the caller logs.
 */

#include <stddef.h>
#include <stdint.h>

#include <infiniband/verbs.h>

#define RZ_PEER_MSG_MAX		64
#define RZ_HELLO_MAGIC		0x49485a52u	/* "RZHI" */
#define RZ_HELLO_VERSION	2		/* 2: every field little-endian (1: host order) */
#define RZ_HELLO_SIZE		24
#define RZ_MSG_MAGIC		0x534d5a52u	/* "RZMS" */
#define RZ_MSG_HDR_SIZE		8		/* magic, payload length (host order) */

/* rdma_cm private data of connect and accept, as this host reads it (host byte order).
 * hello_encode() writes it as RZ_HELLO_SIZE little-endian bytes (doc/wire-format.md). */
struct hello {
	uint32_t magic;
	uint16_t version;
	uint16_t size;
	uint64_t id;
	uint32_t pid;
	uint32_t reserved;
};

#define IMPORT_MAGIC	0x4d525a52u	/* "RZRM" */
#define IMPORT_VERSION	1
#define IMPORT_OP_CTX	1

/* A secondary's context request (op IMPORT_OP_CTX), and the primary's answer to it. */
struct import_msg {
	uint32_t magic;
	uint16_t version;
	uint16_t op;
	int32_t result;
	uint32_t pd_handle;
	char dev[IBV_SYSFS_NAME_MAX];
};

/* Our hello (version RZ_HELLO_VERSION, identity @id, pid @pid) as RZ_HELLO_SIZE bytes. */
void hello_encode(uint8_t out[RZ_HELLO_SIZE], uint64_t id, uint32_t pid);

/* The hello in @len bytes of private data (rdma_cm may pad it: bytes past the hello are
 * ignored), from a remote that is not us (@self_id), decoded into *@h. 0, or -EPROTO: NULL or
 * short (*@h zeroed), bad magic or size field, version 1 (host byte order, no longer spoken) or
 * another version (*@h holds what was read, for the log line), identity 0 or @self_id. */
int hello_parse(const void *data, size_t len, uint64_t self_id, struct hello *h,
		const char **why);

/* The message in a received buffer of @len bytes: its payload length (0..RZ_PEER_MSG_MAX) with
 * *@payload pointing into @buf, or -EBADMSG: shorter than the header, bad magic, length field
 * above RZ_PEER_MSG_MAX or not the number of bytes that follow the header. */
int msg_parse(const void *buf, size_t len, const void **payload, const char **why);

/* Write the message of @len payload bytes (<= RZ_PEER_MSG_MAX; @payload may be NULL when @len
 * is 0) into @buf, which has RZ_MSG_HDR_SIZE + @len bytes of room. Returns the bytes written,
 * or -EINVAL. */
int msg_encode(void *buf, const void *payload, size_t len);

/* A context request of @len bytes (as rte_mp gives it: len_param, which may be negative). 0, or
 * -EBADMSG: not the size of a request, bad magic, version or op. */
int import_req_parse(const void *param, int len, const char **why);

/* The primary's answer of @len bytes carrying @num_fds file descriptors, into *@m. Returns its
 * result: 0 (a context: exactly one fd), or the negative errno the primary answered, or -EBADMSG:
 * wrong size, bad magic or version, a result that is neither 0 nor a negative errno, a context
 * without exactly one fd. */
int import_reply_parse(const void *param, int len, int num_fds, struct import_msg *m,
		const char **why);

/* The parameter of /rzone/rdma/peer: a peer id, 1..INT32_MAX, as strtol() with base 0 reads it
 * (the whole string). 0 and *@id, or -EINVAL (NULL, empty, trailing bytes, out of range). */
int tel_peer_param(const char *params, int32_t *id);

#endif /* RZ_WIRE_PRIVATE_H */
