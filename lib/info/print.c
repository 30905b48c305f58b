/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/* Output helpers of the observers: a small JSON writer, times, rights, audit records. */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core_private.h"
#include "info_private.h"
#include "rzone.h"

static void
jw_sep(struct jw *w, const char *key)
{
	if (w->depth > 0) {
		if (!w->first[w->depth - 1])
			fputc(',', w->f);
		w->first[w->depth - 1] = false;
	}
	if (key != NULL)
		fprintf(w->f, "\"%s\":", key);
}

void
jw_begin(struct jw *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
}

static void
jw_open(struct jw *w, const char *key, char c)
{
	jw_sep(w, key);
	fputc(c, w->f);
	if (w->depth < JW_DEPTH)
		w->first[w->depth] = true;
	w->depth++;
}

void
jw_obj(struct jw *w, const char *key)
{
	jw_open(w, key, '{');
}

void
jw_arr(struct jw *w, const char *key)
{
	jw_open(w, key, '[');
}

void
jw_end(struct jw *w, char close)
{
	w->depth--;
	fputc(close, w->f);
	if (w->depth == 0)
		fputc('\n', w->f);
}

void
jw_str(struct jw *w, const char *key, const char *val)
{
	const unsigned char *p;

	jw_sep(w, key);
	fputc('"', w->f);
	for (p = (const unsigned char *)val; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(w->f, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(w->f, "\\u%04x", *p);	/* shared memory: print nothing raw */
		else
			fputc(*p, w->f);
	}
	fputc('"', w->f);
}

void
jw_u64(struct jw *w, const char *key, uint64_t val)
{
	jw_sep(w, key);
	fprintf(w->f, "%" PRIu64, val);
}

void
jw_int(struct jw *w, const char *key, int64_t val)
{
	jw_sep(w, key);
	fprintf(w->f, "%" PRId64, val);
}

void
jw_bool(struct jw *w, const char *key, bool val)
{
	jw_sep(w, key);
	fputs(val ? "true" : "false", w->f);
}

void
jw_null(struct jw *w, const char *key)
{
	jw_sep(w, key);
	fputs("null", w->f);
}

void
jw_hex(struct jw *w, const char *key, uint64_t val)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%#" PRIx64, val);
	jw_str(w, key, val == 0 ? "0x0" : buf);
}

const char *
fmt_time(uint64_t ns, char *buf, size_t len)
{
	time_t s = (time_t)(ns / 1000000000ull);
	struct tm tm;
	size_t n;

	if (gmtime_r(&s, &tm) == NULL) {
		snprintf(buf, len, "?");
		return buf;
	}
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03uZ", (unsigned int)(ns % 1000000000ull / 1000000));
	return buf;
}

void
jw_time(struct jw *w, const char *key, uint64_t ns)
{
	char buf[40];

	jw_str(w, key, fmt_time(ns, buf, sizeof(buf)));
}

const char *
fmt_perms(uint32_t p, char *buf)
{
	buf[0] = (p & RZ_PERM_READ) ? 'r' : '-';
	buf[1] = (p & RZ_PERM_WRITE) ? 'w' : '-';
	buf[2] = (p & RZ_PERM_EXEC) ? 'x' : '-';
	buf[3] = '\0';
	return buf;
}

/* RZ_RDMA_RIGHT_READ/WRITE/ATOMIC are bits 0, 1, 2 (include/rzone_rdma.h); this module is
 * built without RDMA too. */
const char *
fmt_rights(uint32_t r, char *buf)
{
	buf[0] = (r & 1) ? 'r' : '-';
	buf[1] = (r & 2) ? 'w' : '-';
	buf[2] = (r & 4) ? 'a' : '-';
	buf[3] = '\0';
	return buf;
}

const char *
mode_name(uint32_t mode)
{
	switch (mode) {
	case RZ_MODE_MOVE:
		return "move";
	case RZ_MODE_SHARE:
		return "share";
	case RZ_MODE_COPY_ON_WRITE:
		return "copy-on-write";
	default:
		return "?";
	}
}

/* Local events carry RZ_PERM_* rights, remote ones RDMA rights. */
static bool
remote_event(uint32_t event)
{
	return event == AUDIT_GRANT || event == AUDIT_REVOKE;
}

void
audit_rec_text(FILE *f, uint64_t n, const struct audit_rec *r)
{
	char tb[40], rb[4];

	fprintf(f, "#%-6" PRIu64 " %s %-10s %-16s region 0x%" PRIx64 " actor %d target %d "
			"rights %s result %d", n, fmt_time(r->time_ns, tb, sizeof(tb)),
			audit_event_name(r->event), audit_cause_name(r->cause), r->region,
			(int)r->actor, (int)r->target,
			remote_event(r->event) ? fmt_rights(r->rights, rb) :
			fmt_perms(r->rights, rb),
			(int)r->result);
	switch (r->event) {
	case AUDIT_REGION_CREATE:
		fprintf(f, " size %" PRIu64, r->a);
		break;
	case AUDIT_CAP_CREATE:
	case AUDIT_CAP_USE:
	case AUDIT_CAP_REVOKE:
		fprintf(f, " capability slot 0x%" PRIx64 " mode %s", r->a, mode_name(r->aux));
		break;
	case AUDIT_GRANT:
	case AUDIT_REVOKE:
		fprintf(f, " range 0x%" PRIx64 "+0x%" PRIx64, r->a, r->b);
		if (r->event == AUDIT_GRANT && r->aux != 0)
			fprintf(f, " lifetime %u ms", r->aux);
		break;
	default:
		break;
	}
	fputc('\n', f);
}

void
audit_rec_json(struct jw *w, uint64_t n, const struct audit_rec *r)
{
	char rb[4];

	jw_obj(w, NULL);
	jw_u64(w, "seq", n);
	jw_u64(w, "time_ns", r->time_ns);
	jw_time(w, "time", r->time_ns);
	jw_str(w, "event", audit_event_name(r->event));
	if (r->cause != AUDIT_CAUSE_NONE)
		jw_str(w, "cause", audit_cause_name(r->cause));
	else
		jw_null(w, "cause");
	jw_hex(w, "region", r->region);
	jw_int(w, "actor", r->actor);
	jw_int(w, "target", r->target);
	jw_str(w, "rights", remote_event(r->event) ? fmt_rights(r->rights, rb) :
			fmt_perms(r->rights, rb));
	jw_int(w, "result", r->result);
	switch (r->event) {
	case AUDIT_REGION_CREATE:
		jw_u64(w, "size", r->a);
		break;
	case AUDIT_CAP_CREATE:
	case AUDIT_CAP_USE:
	case AUDIT_CAP_REVOKE:
		jw_hex(w, "capability_slot", r->a);
		jw_str(w, "mode", mode_name(r->aux));
		break;
	case AUDIT_GRANT:
	case AUDIT_REVOKE:
		jw_u64(w, "offset", r->a);
		jw_u64(w, "length", r->b);
		if (r->event == AUDIT_GRANT)
			jw_u64(w, "lifetime_ms", r->aux);
		break;
	default:
		break;
	}
	jw_end(w, '}');
}
