/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_CAPABILITY_PRIVATE_H
#define RZ_CAPABILITY_PRIVATE_H

#include <stdint.h>

#include "core_private.h"

/* Register what this layer does for the ones below (a region leaves the table, a capability's
 * mapping goes). From rz_init(). */
int capability_init(void);
/* Table lock held: drop every capability of a region (destroy). */
void cap_drop_region_locked(struct region_entry *e);
/* Table lock held: drop every capability aimed at process slot @slot (it left or died). */
void cap_drop_target_locked(uint32_t slot);
/* Table lock held: a mapping made by capability @cap_slot went away. */
void cap_mapping_gone_locked(uint32_t cap_slot);
/* Rights a mode gives (before the ceiling). */
uint32_t cap_mode_rights(uint32_t mode);

#endif /* RZ_CAPABILITY_PRIVATE_H */
