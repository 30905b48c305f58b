/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_RDMA_HOOKS_H
#define RZ_RDMA_HOOKS_H

/*
 * What lib/rdma tells the modules above it (lib/pkt_rdma), through callbacks they register
 * from their constructors: lib/rdma never calls a symbol of theirs.
 */

/* Called by rz_rdma_fini() after every memory registration of the process is gone, with the
 * RDMA lock held (it must not call into lib/rdma): keys cached above are stale from then on. */
typedef void rdma_fini_hook_fn(void);

/* Register @fn (one; NULL removes it). Constructors only (no lock). */
void rdma_set_fini_hook(rdma_fini_hook_fn *fn);

#endif /* RZ_RDMA_HOOKS_H */
