/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/* The RDMA driver layer (drivers/rdma): which driver claims which device, what quirks it gets,
 * the RZ_RDMA_EXACT_MR override and its warning. The driver sources are compiled in and register
 * themselves from their constructors, before main(). No EAL, no device: DPDK's log only. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <rte_common.h>
#include <rte_log.h>

#include "core_private.h"
#include "driver.h"

#define RXE_VENDOR	0xffffffu
#define MLX_VENDOR	0x02c9u
#define OTHER_VENDOR	0x8086u		/* Intel (irdma): no driver of its own */
#define TEST_VENDOR	0xabcdefu	/* claimed by the test's own drivers only */

#define FORCED		"forced exact MR (RZ_RDMA_EXACT_MR)"

int rzone_logtype;	/* lib/core/core.c defines it; this test does not link lib/core */

static FILE *log_f;	/* rzone's log while a test looks at it */

static const char *
driver_of(uint32_t vendor_id, const char *dev_name)
{
	const struct rdma_driver *d = rdma_driver_lookup(vendor_id, dev_name);

	return d != NULL ? d->name : "(none)";
}

/* Quirks @name, @enforced for the device; and they are its driver's own, unless @forced. */
static void
check(uint32_t vendor_id, const char *dev_name, const char *name, bool enforced)
{
	const struct rdma_quirks *q = rdma_quirks_lookup(vendor_id, dev_name);

	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	CU_ASSERT_STRING_EQUAL(q->name, name);
	CU_ASSERT_EQUAL(q->mw_range_enforced, enforced);
	if (strcmp(name, FORCED) != 0)
		CU_ASSERT_PTR_EQUAL(q, &rdma_driver_lookup(vendor_id, dev_name)->quirks);
}

static void
log_capture(void)
{
	log_f = tmpfile();
	CU_ASSERT_PTR_NOT_NULL_FATAL(log_f);
	CU_ASSERT_EQUAL_FATAL(rte_openlog_stream(log_f), 0);
}

/* What was logged since log_capture(); back to stderr. */
static void
log_end(char *buf, size_t len)
{
	size_t n;

	rte_openlog_stream(NULL);
	rewind(log_f);
	n = fread(buf, 1, len - 1, log_f);
	buf[n] = '\0';
	fclose(log_f);
	log_f = NULL;
}

static void
test_rxe_by_vendor_id(void)
{
	check(RXE_VENDOR, "roce0", "rxe", false);
	check(RXE_VENDOR, NULL, "rxe", false);
	CU_ASSERT_STRING_EQUAL(driver_of(RXE_VENDOR, "roce0"), "rxe");
}

static void
test_rxe_by_name(void)
{
	check(0, "rxe0", "rxe", false);
	check(OTHER_VENDOR, "rxe_eth1", "rxe", false);
	CU_ASSERT_STRING_EQUAL(driver_of(0, "rxe0"), "rxe");
	/* Only a name that starts with it. */
	check(0, "myrxe0", "default", true);
	check(0, "rx", "default", true);
}

static void
test_mlx5_by_vendor_id(void)
{
	check(MLX_VENDOR, "mlx5_0", "mlx5", true);
	check(MLX_VENDOR, "rocep1s0f0", "mlx5", true);	/* renamed by udev */
	check(MLX_VENDOR, NULL, "mlx5", true);
	CU_ASSERT_STRING_EQUAL(driver_of(MLX_VENDOR, "mlx5_0"), "mlx5");
	/* ConnectX-3 (mlx4): same vendor id, left to the generic driver. */
	check(MLX_VENDOR, "mlx4_0", "default", true);
	/* The name alone is not the vendor's. */
	check(OTHER_VENDOR, "mlx5_0", "default", true);
}

static void
test_unknown_is_generic(void)
{
	check(OTHER_VENDOR, "irdma0", "default", true);
	check(0, NULL, "default", true);
	check(UINT32_MAX, "", "default", true);
	CU_ASSERT_STRING_EQUAL(driver_of(OTHER_VENDOR, "irdma0"), "generic");
	CU_ASSERT_STRING_EQUAL(driver_of(0, NULL), "generic");
}

static void
test_exact_mr_forced(void)
{
	char buf[512];

	CU_ASSERT_EQUAL_FATAL(setenv("RZ_RDMA_EXACT_MR", "1", 1), 0);
	log_capture();
	check(RXE_VENDOR, "rxe0", FORCED, false);
	check(MLX_VENDOR, "mlx5_0", FORCED, false);
	check(OTHER_VENDOR, "irdma0", FORCED, false);
	check(0, NULL, FORCED, false);
	log_end(buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "");
	unsetenv("RZ_RDMA_EXACT_MR");
	/* The drivers' own again. */
	check(OTHER_VENDOR, "irdma0", "default", true);
}

static void
test_exact_mr_off_ignored_on_rxe(void)
{
	static const char warning[] = "rzone: rdma_quirks_lookup(): RZ_RDMA_EXACT_MR=0 ignored: "
		"rxe0 does not bound memory windows to their range, so every grant keeps a "
		"registration of exactly its range\n";
	char buf[512];

	CU_ASSERT_EQUAL_FATAL(setenv("RZ_RDMA_EXACT_MR", "0", 1), 0);
	log_capture();
	check(RXE_VENDOR, "rxe0", "rxe", false);
	log_end(buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, warning);
	/* Devices that bound their windows keep their own quirks, silently. */
	log_capture();
	check(MLX_VENDOR, "mlx5_0", "mlx5", true);
	check(OTHER_VENDOR, "irdma0", "default", true);
	log_end(buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "");
	/* A device of no name is called this device. */
	log_capture();
	check(RXE_VENDOR, NULL, "rxe", false);
	log_end(buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "RZ_RDMA_EXACT_MR=0 ignored: this device does not"));
	unsetenv("RZ_RDMA_EXACT_MR");
}

static bool
test_match(uint32_t vendor_id, const char *dev_name)
{
	return vendor_id == TEST_VENDOR;
}

static struct rdma_driver test_first = {
	.name = "test first", .match = test_match,
	.quirks = { .name = "test first", .mw_range_enforced = false },
};
static struct rdma_driver test_second = {
	.name = "test second", .match = test_match,
	.quirks = { .name = "test second", .mw_range_enforced = true },
};
static struct rdma_driver test_catch_all = {
	.name = "test catch-all", .match = NULL,
	.quirks = { .name = "test catch-all", .mw_range_enforced = false },
};

/* Registered after the generic driver, a driver is still asked before it; the first match
 * wins; a second catch-all comes after the first. */
static void
test_registry_order(void)
{
	CU_ASSERT_STRING_EQUAL(driver_of(TEST_VENDOR, NULL), "generic");
	rdma_driver_register(&test_catch_all);
	rdma_driver_register(&test_first);
	rdma_driver_register(&test_second);
	CU_ASSERT_STRING_EQUAL(driver_of(TEST_VENDOR, NULL), "test first");
	check(TEST_VENDOR, "x0", "test first", false);
	CU_ASSERT_STRING_EQUAL(driver_of(OTHER_VENDOR, "irdma0"), "generic");
	CU_ASSERT_STRING_EQUAL(driver_of(RXE_VENDOR, "rxe0"), "rxe");
	CU_ASSERT_STRING_EQUAL(driver_of(MLX_VENDOR, "mlx5_0"), "mlx5");
}

static const struct {
	const char *name;
	CU_TestFunc fn;
} cases[] = {
	{ "rxe by vendor id", test_rxe_by_vendor_id },
	{ "rxe by name", test_rxe_by_name },
	{ "mlx5 by vendor id", test_mlx5_by_vendor_id },
	{ "unknown device is generic", test_unknown_is_generic },
	{ "RZ_RDMA_EXACT_MR=1 forces exact MRs", test_exact_mr_forced },
	{ "RZ_RDMA_EXACT_MR=0 ignored on rxe", test_exact_mr_off_ignored_on_rxe },
	{ "registry order", test_registry_order },
};

/* As tests/common's rz_test_run(), which comes with librzone. */
int
main(void)
{
	unsigned int failed, i;
	CU_pSuite s;

	unsetenv("RZ_RDMA_EXACT_MR");
	rzone_logtype = rte_log_register_type_and_pick_level("lib.rzone", RTE_LOG_INFO);
	if (rzone_logtype < 0) {
		fprintf(stderr, "FAIL: cannot register the lib.rzone log type\n");
		return 1;
	}
	if (CU_initialize_registry() != CUE_SUCCESS) {
		fprintf(stderr, "FAIL: CUnit registry\n");
		return 1;
	}
	s = CU_add_suite("drivers", NULL, NULL);
	for (i = 0; i < RTE_DIM(cases); i++) {
		if (s == NULL || CU_add_test(s, cases[i].name, cases[i].fn) == NULL) {
			fprintf(stderr, "FAIL: cannot register test %s\n", cases[i].name);
			CU_cleanup_registry();
			return 1;
		}
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	if (CU_get_number_of_tests_run() != RTE_DIM(cases)) {
		fprintf(stderr, "FAIL: %u of %u tests ran\n", CU_get_number_of_tests_run(),
				(unsigned int)RTE_DIM(cases));
		failed++;
	}
	CU_cleanup_registry();
	return failed != 0;
}
