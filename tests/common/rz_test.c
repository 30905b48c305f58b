/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>

#include "rz_test.h"
#include "rzone.h"

int
rz_test_eal_primary(const char *argv0, const char *name, char *prefix_arg, size_t len)
{
	char *eal[] = { (char *)(uintptr_t)argv0, "--proc-type=primary", "--no-pci",
		RZ_TEST_BASE_VA, "-l", "0", "--log-level=lib.rzone:notice", prefix_arg, NULL };

	snprintf(prefix_arg, len, "--file-prefix=rzt-%s-%d", name, (int)getpid());
	if (rte_eal_init(RTE_DIM(eal) - 1, eal) < 0) {
		fprintf(stderr, "FAIL: rte_eal_init: %s (hugepages reserved and mounted?)\n",
				rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

int
rz_test_start(const char *argv0, const char *name, char *prefix_arg, size_t len)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (rz_test_eal_primary(argv0, name, prefix_arg, len) < 0)
		return -1;
	if (rz_init() != 0) {
		fprintf(stderr, "FAIL: rz_init: %s\n", rte_strerror(rte_errno));
		rte_eal_cleanup();
		return -1;
	}
	return 0;
}

int
rz_test_finish(const char *suite, const struct rz_test_case *cases)
{
	unsigned int failed = rz_test_run(suite, cases);

	failed += rz_test_no_leaks();
	if (rz_fini() != 0) {
		fprintf(stderr, "FAIL: rz_fini\n");
		failed++;
	}
	rte_eal_cleanup();
	return failed != 0;
}

unsigned int
rz_test_run(const char *suite, const struct rz_test_case *cases)
{
	const char *only = getenv("RZ_TEST_ONLY");
	unsigned int failed, i, n = 0;
	CU_pFailureRecord f;
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS) {
		fprintf(stderr, "FAIL: CUnit registry\n");
		return 1;
	}
	s = CU_add_suite(suite, NULL, NULL);
	for (i = 0; cases[i].name != NULL; i++) {
		/* RZ_TEST_ONLY=TEXT (for developers): only the tests whose name holds TEXT. */
		if (only != NULL && strstr(cases[i].name, only) == NULL)
			continue;
		if (s == NULL || CU_add_test(s, cases[i].name, cases[i].fn) == NULL) {
			fprintf(stderr, "FAIL: cannot register test %s\n", cases[i].name);
			CU_cleanup_registry();
			return 1;
		}
		n++;
	}
	if (only != NULL)
		printf("RZ_TEST_ONLY=%s: %u of %u tests selected\n", only, n, i);
	if (n == 0) {
		fprintf(stderr, "FAIL: no test selected\n");
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	/* The failed assertions again on stderr: a log that keeps only stderr (a CI excerpt, a
	 * VM lane's relay) still says which check failed, where. */
	for (f = CU_get_failure_list(); f != NULL; f = f->pNext)
		fprintf(stderr, "FAIL: %s: %s:%u: %s\n", f->pTest != NULL ? f->pTest->pName : "?",
				f->strFileName != NULL ? f->strFileName : "?", f->uiLineNumber,
				f->strCondition != NULL ? f->strCondition : "?");
	if (CU_get_number_of_tests_run() != n) {
		fprintf(stderr, "FAIL: %u of %u tests ran\n", CU_get_number_of_tests_run(), n);
		failed++;
	}
	CU_cleanup_registry();
	return failed;
}

unsigned int
rz_test_no_leaks(void)
{
	int n = rz_region_count();

	if (n == 0)
		return 0;
	fprintf(stderr, "FAIL: %d regions left behind by the tests\n", n);
	rz_dump(stderr);
	return 1;
}

int
rz_test_telemetry(const char *cmd, char *out, size_t len)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	ssize_t n;
	int fd;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/dpdk_telemetry.v2",
			rte_eal_get_runtime_dir());
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		goto fail;
	if (read(fd, out, len - 1) <= 0)	/* the greeting */
		goto fail;
	if (write(fd, cmd, strlen(cmd)) < 0)
		goto fail;
	n = read(fd, out, len - 1);
	if (n <= 0)
		goto fail;
	out[n] = '\0';
	close(fd);
	return 0;
fail:
	fprintf(stderr, "telemetry %s: no answer from %s\n", cmd, sun.sun_path);
	if (fd >= 0)
		close(fd);
	return -1;
}
