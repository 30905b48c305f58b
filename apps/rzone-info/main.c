/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

/*
 * rzone-info: what a running rzone instance holds, for its operator.
 *
 *   rzone-info [--file-prefix PREFIX] [--json] [--region ID] [--watch SECONDS] [--audit[=N]]
 *              [-- EAL options]
 *
 * It starts as a DPDK secondary of the instance (--proc-type=secondary --no-pci by default:
 * the EAL options after "--" replace those, e.g. to match a primary's devices), opens it as an
 * observer (rz_observe_open(): no process slot, no lock, nothing written) and prints its
 * regions, processes, arenas, hugepages and RDMA state, or its audit trail. Exit status: 0 the
 * instance is healthy, 1 it is not (each problem is printed), 2 it could not be read.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "rzone_observe.h"

#define EXIT_UNHEALTHY	1
#define EXIT_ERROR	2
#define MAX_EAL_ARGS	64

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
usage(const char *prog)
{
	printf("\nUsage: %s [OPTIONS] [-- EAL options]\n"
		"Shows a running rzone instance, read-only, without joining it (an observer).\n"
		"  -f, --file-prefix PREFIX  the instance's DPDK file prefix (default: rte)\n"
		"  -j, --json                one JSON document (schema: doc/rzone-info.md)\n"
		"  -r, --region ID           only region ID (0x-hex or decimal)\n"
		"  -w, --watch SECONDS       print again every SECONDS until interrupted\n"
		"  -a, --audit[=N]           the audit trail instead (the newest N records)\n"
		"  -h, --help                this help (after the EAL's)\n"
		"EAL options after \"--\" replace the default --no-pci (a secondary must be\n"
		"started with the device options of its primary).\n"
		"Exit status: 0 healthy, 1 problems found (printed), 2 the instance could not be\n"
		"read.\n", prog);
}

static const char *prog_name = "rzone-info";

static void
usage_hook(const char *prog)
{
	(void)prog;
	usage(prog_name);
}

/* --help through the EAL, as every rzone application: its usage, then ours. */
static int
eal_help(void)
{
	char *argv[] = { (char *)(uintptr_t)prog_name, (char *)(uintptr_t)"--help", NULL };

	rte_set_application_usage_hook(usage_hook);
	return rte_eal_init(2, argv) < 0 ? EXIT_ERROR : 0;	/* the EAL exits 0 after --help */
}

static bool
parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno == 0 && end != s && *end == '\0' && s[0] != '-';
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file-prefix", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "region", required_argument, NULL, 'r' },
		{ "watch", required_argument, NULL, 'w' },
		{ "audit", optional_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *eal_argv[MAX_EAL_ARGS + 8], prefix_arg[300], config[600];
	const char *prefix = "rte";
	uint64_t region = 0, watch = 0, audit_n = 0;
	bool json = false, audit = false, own_eal = false;
	int c, eal_argc = 0, ret, status = 0;

	prog_name = argv[0];
	while ((c = getopt_long(argc, argv, "f:jr:w:a::h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			prefix = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'r':
			if (!parse_u64(optarg, &region) || region == 0) {
				fprintf(stderr, "rzone-info: bad region id '%s'\n", optarg);
				return EXIT_ERROR;
			}
			break;
		case 'w':
			if (!parse_u64(optarg, &watch) || watch == 0 || watch > 86400) {
				fprintf(stderr, "rzone-info: bad --watch '%s' (1-86400 s)\n",
						optarg);
				return EXIT_ERROR;
			}
			break;
		case 'a':
			audit = true;
			if (optarg != NULL && (!parse_u64(optarg, &audit_n) ||
						audit_n > UINT32_MAX)) {
				fprintf(stderr, "rzone-info: bad --audit count '%s'\n", optarg);
				return EXIT_ERROR;
			}
			break;
		case 'h':
			return eal_help();
		default:
			usage(argv[0]);
			return EXIT_ERROR;
		}
	}
	if (strlen(prefix) == 0 || strchr(prefix, '/') != NULL || strlen(prefix) > 200) {
		fprintf(stderr, "rzone-info: bad file prefix '%s'\n", prefix);
		return EXIT_ERROR;
	}
	/* No instance: say so without starting the EAL, which would make its runtime directory
	 * (and leave it behind). The EAL's own rule for where that directory is. */
	snprintf(config, sizeof(config), "%s/dpdk/%s/config", getuid() == 0 ? "/var/run" :
			getenv("XDG_RUNTIME_DIR") != NULL ? getenv("XDG_RUNTIME_DIR") : "/tmp",
			prefix);
	if (access(config, F_OK) != 0) {
		fprintf(stderr, "rzone-info: no DPDK instance '%s' on this machine (no %s)\n",
				prefix, config);
		return EXIT_ERROR;
	}
	snprintf(prefix_arg, sizeof(prefix_arg), "--file-prefix=%s", prefix);
	eal_argv[eal_argc++] = argv[0];
	eal_argv[eal_argc++] = (char *)(uintptr_t)"--proc-type=secondary";
	eal_argv[eal_argc++] = prefix_arg;
	eal_argv[eal_argc++] = (char *)(uintptr_t)"--no-telemetry";
	eal_argv[eal_argc++] = (char *)(uintptr_t)"--log-level=lib.eal:error";
	if (optind < argc) {
		own_eal = true;
		if (argc - optind > MAX_EAL_ARGS) {
			fprintf(stderr, "rzone-info: too many EAL options\n");
			return EXIT_ERROR;
		}
		while (optind < argc)
			eal_argv[eal_argc++] = argv[optind++];
	}
	if (!own_eal) {
		eal_argv[eal_argc++] = (char *)(uintptr_t)"--no-pci";
		eal_argv[eal_argc++] = (char *)(uintptr_t)"-l";
		eal_argv[eal_argc++] = (char *)(uintptr_t)"0";
	}
	eal_argv[eal_argc] = NULL;
	rte_set_application_usage_hook(usage_hook);
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "rzone-info: cannot join instance '%s' as a secondary%s%s (is "
				"its primary running?)\n", prefix, rte_errno != 0 ? ": " : "",
				rte_errno != 0 ? rte_strerror(rte_errno) : "");
		return EXIT_ERROR;
	}
	ret = rz_observe_open();
	if (ret < 0) {
		fprintf(stderr, "rzone-info: instance '%s': %s\n", prefix, ret == -ENOENT ?
				"no rzone table (its primary has not called rz_init())" :
				strerror(-ret));
		rte_eal_cleanup();
		return EXIT_ERROR;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (;;) {
		if (watch != 0 && !json && isatty(STDOUT_FILENO))
			fputs("\033[H\033[2J", stdout);
		if (audit)
			ret = rz_audit_write(stdout, (unsigned int)audit_n,
					json ? RZ_INFO_F_JSON : 0);
		else
			ret = rz_info_write(stdout, region, json ? RZ_INFO_F_JSON : 0);
		if (ret < 0) {
			fprintf(stderr, "rzone-info: %s\n", ret == -ENOENT ?
					"no such region" : ret == -EAGAIN ?
					"the table was being written during every copy: try again" :
					strerror(-ret));
			status = EXIT_ERROR;
		} else {
			status = !audit && ret > 0 ? EXIT_UNHEALTHY : 0;
		}
		fflush(stdout);
		if (watch == 0 || stop)
			break;
		sleep((unsigned int)watch);
		if (stop)
			break;
	}
	rz_observe_close();
	rte_eal_cleanup();
	return status;
}
