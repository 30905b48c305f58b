/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_INFO_PRIVATE_H
#define RZ_INFO_PRIVATE_H

/* Observers (include/rzone_observe.h): the copy of the table, its printing, the audit trail. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "audit_private.h"

/* A JSON writer on a stream: objects and arrays nested up to JW_DEPTH. */
#define JW_DEPTH 8
struct jw {
	FILE *f;
	int depth;
	bool first[JW_DEPTH];
};

void jw_begin(struct jw *w, FILE *f);
/* @key NULL inside arrays. */
void jw_obj(struct jw *w, const char *key);
void jw_arr(struct jw *w, const char *key);
void jw_end(struct jw *w, char close);
void jw_str(struct jw *w, const char *key, const char *val);
void jw_u64(struct jw *w, const char *key, uint64_t val);
void jw_int(struct jw *w, const char *key, int64_t val);
void jw_bool(struct jw *w, const char *key, bool val);
void jw_null(struct jw *w, const char *key);
/* A 0x-hex string (ids, addresses, masks: the same format everywhere). */
void jw_hex(struct jw *w, const char *key, uint64_t val);
/* An ISO 8601 UTC time from CLOCK_REALTIME ns. */
void jw_time(struct jw *w, const char *key, uint64_t ns);

/* "2026-12-02T18:00:00.123Z" into @buf (>= 32 bytes). */
const char *fmt_time(uint64_t ns, char *buf, size_t len);
/* "rw-" */
const char *fmt_perms(uint32_t p, char *buf);
/* "rwa" of RDMA rights (read, write, atomic). */
const char *fmt_rights(uint32_t r, char *buf);
const char *mode_name(uint32_t mode);

/* One audit record as a line of text / a JSON object. */
void audit_rec_text(FILE *f, uint64_t n, const struct audit_rec *r);
void audit_rec_json(struct jw *w, uint64_t n, const struct audit_rec *r);

#endif /* RZ_INFO_PRIVATE_H */
