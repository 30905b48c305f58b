/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_TEST_H
#define RZ_TEST_H

/* What every rzone test program shares: how it starts a DPDK primary, how it runs its suite. */

#include <stddef.h>

#include <CUnit/CUnit.h>

/* Fixed and far from where ASan and the loader put things, so that secondaries of a sanitized
 * build always get the primary's addresses. ThreadSanitizer (clang 14, x86_64) instruments only
 * its application ranges (0-0x8000000000, 0x550000000000-0x568000000000, 0x7b0000000000-
 * 0x7c0000000000, 0x7e8000000000-): there the DPDK memory goes at 64 GiB (DPDK's default is
 * 4 GiB) and test views (RZ_TEST_VIEW_VA) at 384 GiB, past DPDK's 64 GiB of reservations. */
#if defined(__SANITIZE_THREAD__)
#define RZ_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RZ_TEST_TSAN 1
#endif
#endif
#ifdef RZ_TEST_TSAN
#define RZ_TEST_BASE_VA "--base-virtaddr=0x1000000000"
#define RZ_TEST_VIEW_VA 0x6000000000ull
#else
#define RZ_TEST_BASE_VA "--base-virtaddr=0x200000000000"
#define RZ_TEST_VIEW_VA 0x6f0000000000ull
#endif

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
 * The usual start of a test program: stdout unbuffered, rz_test_eal_primary(), then rz_init().
 * Returns 0, or -1 after printing why.
 */
int rz_test_start(const char *argv0, const char *name, char *prefix_arg, size_t len);

/*
 * The usual end: rz_test_run(@suite, @cases), rz_test_no_leaks(), rz_fini(), rte_eal_cleanup().
 * Returns the program's exit status: 0 (all passed) or 1.
 */
int rz_test_finish(const char *suite, const struct rz_test_case *cases);

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
