/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_TEST_H
#define RZ_TEST_H

/* What every rzone test program shares: how it starts a DPDK primary, how it runs its suite. */

#include <stddef.h>

#include <CUnit/CUnit.h>

/* Fixed and far from where ASan and the loader put things, so that secondaries of a sanitized
 * build always get the primary's addresses. */
#define RZ_TEST_BASE_VA "--base-virtaddr=0x200000000000"

struct rz_test_case {
	const char *name;
	CU_TestFunc fn;
};

/*
 * Start the EAL as the primary of a test instance of its own: file prefix "rzt-<name>-<pid>"
 * (written to @prefix_arg as "--file-prefix=...", for secondaries to join), RZ_TEST_BASE_VA,
 * lcore 0, rzone's log at notice. Returns 0, or -1 after printing why.
 */
int rz_test_eal_primary(const char *argv0, const char *name, char *prefix_arg, size_t len);

/*
 * Run @cases (ended by an entry with a NULL name) as one verbose CUnit suite. Returns the number
 * of failures: failed asserts, failed tests, and registered tests that did not run.
 */
unsigned int rz_test_run(const char *suite, const struct rz_test_case *cases);

/* Ask the EAL's telemetry socket @cmd, as dpdk-telemetry.py does; the JSON answer goes to @out.
 * Returns 0, or -1 (no socket, no answer). */
int rz_test_telemetry(const char *cmd, char *out, size_t len);

/* After a suite: a region left behind is a failure (printed with rz_dump()). Returns 0 or 1. */
unsigned int rz_test_no_leaks(void);

#endif /* RZ_TEST_H */
