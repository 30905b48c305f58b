/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/* Telemetry /rzone/audit: the newest records of the audit trail (read-only): the ring's
 * counters, then one dict a record keyed by its number ("seq"). */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_telemetry.h>

#include "audit_private.h"
#include "core_private.h"
#include "info_private.h"

#define TEL_AUDIT_DEFAULT	16
#define TEL_AUDIT_MAX		32	/* telemetry answers are at most 16 KiB */

/* Parameter: how many of the newest records (1..TEL_AUDIT_MAX), default TEL_AUDIT_DEFAULT. */
static int
audit_count_param(const char *params, unsigned int *n)
{
	unsigned long v;
	char *end;

	*n = TEL_AUDIT_DEFAULT;
	if (params == NULL || *params == '\0')
		return 0;
	errno = 0;
	v = strtoul(params, &end, 10);
	if (errno != 0 || end == params || *end != '\0' || v == 0 || v > TEL_AUDIT_MAX)
		return -EINVAL;
	*n = (unsigned int)v;
	return 0;
}

static int
tel_audit(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct audit_ring *r = audit_ring;
	struct audit_rec rec;
	uint64_t head, n, from;
	unsigned int want;
	char rb[4], hex[24];

	RTE_SET_USED(cmd);
	if (r == NULL)
		return -ENODEV;
	if (audit_count_param(params, &want) < 0)
		return -EINVAL;
	head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	from = head > want ? head - want : 0;
	if (head - from > RZ_AUDIT_ENTRIES)
		from = head - RZ_AUDIT_ENTRIES;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "capacity", RZ_AUDIT_ENTRIES);
	rte_tel_data_add_dict_u64(d, "written", head);
	rte_tel_data_add_dict_u64(d, "overwritten",
			head > RZ_AUDIT_ENTRIES ? head - RZ_AUDIT_ENTRIES : 0);
	rte_tel_data_add_dict_u64(d, "lost", __atomic_load_n(&r->lost, __ATOMIC_RELAXED));
	/* Telemetry nests one level only: each record is a dict, keyed by its number. */
	for (n = from; n < head; n++) {
		struct rte_tel_data *e;
		char key[24];

		if (!audit_read(r, n, &rec))
			continue;
		e = rte_tel_data_alloc();
		if (e == NULL)
			break;
		rte_tel_data_start_dict(e);
		rte_tel_data_add_dict_u64(e, "seq", n);
		rte_tel_data_add_dict_u64(e, "time_ns", rec.time_ns);
		rte_tel_data_add_dict_string(e, "event", audit_event_name(rec.event));
		rte_tel_data_add_dict_string(e, "cause", audit_cause_name(rec.cause));
		snprintf(hex, sizeof(hex), "%#" PRIx64, rec.region);
		rte_tel_data_add_dict_string(e, "region", rec.region ? hex : "0x0");
		rte_tel_data_add_dict_int(e, "actor", rec.actor);
		rte_tel_data_add_dict_int(e, "target", rec.target);
		rte_tel_data_add_dict_string(e, "rights", rec.event == AUDIT_GRANT ||
				rec.event == AUDIT_REVOKE ? fmt_rights(rec.rights, rb) :
				fmt_perms(rec.rights, rb));
		rte_tel_data_add_dict_int(e, "result", rec.result);
		snprintf(key, sizeof(key), "%" PRIu64, n);
		if (rte_tel_data_add_dict_container(d, key, e, 0) < 0) {
			rte_tel_data_free(e);
			break;
		}
	}
	return 0;
}

RTE_INIT(rz_audit_telemetry_init)
{
	rte_telemetry_register_cmd("/rzone/audit", tel_audit,
			"The newest records of the audit trail. Parameters: how many (1-32, "
			"default 16)");
}
