/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * Local users of a region: objects of this process that point into a region's memory for as
 * long as they live (a packet pool's mbufs, a packet channel's ring and the zero-copy mbufs
 * attached to it). While one is open, the owner's rz_region_destroy() and
 * rz_region_transfer_ownership() of that region are refused with -EBUSY instead of freeing or
 * passing on memory this process still uses. Process-local: other processes are covered by
 * their mappings (a region another process maps is never destroyed).
 *
 * Updated and read under the table lock; a control-path cost only (no data path takes it).
 */

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "core_private.h"
#include "region_private.h"

struct region_pin {
	uint64_t id;		/* the region's id while pinned, else 0 */
	uint32_t n;		/* how many users */
	const char *what;	/* the last one's kind, for the log */
};

static struct region_pin pins[RZ_MAX_REGIONS];

int
region_pin(const struct rz_region *r, const char *what)
{
	struct region_entry *e;
	struct region_pin *p;
	uint64_t id;
	int ret;

	e = region_from_handle(r, &ret);
	if (e == NULL)
		return ret;
	id = handle_id(r);
	ret = table_lock();
	if (ret < 0)
		return ret;
	if (!region_is(e, id)) {
		table_unlock();
		return -ENOENT;
	}
	p = &pins[id & RZ_SLOT_MASK];
	if (p->id != id) {
		/* A slot's earlier region is gone (it could not go while pinned). */
		p->id = id;
		p->n = 0;
	}
	p->n++;
	p->what = what;
	table_unlock();
	return 0;
}

void
region_unpin(const struct rz_region *r)
{
	uint64_t id = handle_id(r);
	struct region_pin *p;

	if ((id & RZ_SLOT_MASK) >= RZ_MAX_REGIONS || table_lock() < 0)
		return;
	p = &pins[id & RZ_SLOT_MASK];
	if (p->id == id && p->n > 0 && --p->n == 0)
		p->id = 0;
	table_unlock();
}

int
region_pinned_locked(const struct region_entry *e, const char *op)
{
	const struct region_pin *p = &pins[e->id & RZ_SLOT_MASK];

	if (p->id != e->id || p->n == 0)
		return 0;
	RZ_LOG(ERR, "region %#" PRIx64 ": no %s while this process uses it (%u user%s: %s): "
			"close or free it first", e->id, op, p->n, p->n == 1 ? "" : "s", p->what);
	return -EBUSY;
}
