/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>

#include "app_eal.h"

#define MAX_ARGS 256

static bool own_prefix;
static char *eal_argv[MAX_ARGS + 2];	/* the copy: rte_eal_init() keeps pointers into it */

char **
app_eal_args(int *argc, char **argv, const char *app, void (*usage)(const char *prog))
{
	static char prefix_arg[128];
	int i;

	rte_set_application_usage_hook(usage);
	for (i = 1; i < *argc && strcmp(argv[i], "--") != 0; i++)
		if (strncmp(argv[i], "--file-prefix", strlen("--file-prefix")) == 0)
			return argv;
	if (*argc > MAX_ARGS) {
		fprintf(stderr, "%s: more than %d arguments\n", app, MAX_ARGS);
		return NULL;
	}
	snprintf(prefix_arg, sizeof(prefix_arg), "--file-prefix=%s-%d", app, (int)getpid());
	eal_argv[0] = argv[0];
	eal_argv[1] = prefix_arg;
	for (i = 1; i < *argc; i++)
		eal_argv[i + 1] = argv[i];
	eal_argv[*argc + 1] = NULL;
	(*argc)++;
	own_prefix = true;
	return eal_argv;
}

void
app_eal_cleanup(void)
{
	bool primary = rte_eal_process_type() == RTE_PROC_PRIMARY;
	char dir[PATH_MAX], path[PATH_MAX + 256];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	if (!own_prefix || !primary || dir[0] == '\0')
		return;
	d = opendir(dir);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}
