/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>

#include "app_eal.h"

char **
app_eal_args(int *argc, char **argv, const char *app, void (*usage)(const char *prog))
{
	static char prefix_arg[128];
	char **out;
	int i;

	rte_set_application_usage_hook(usage);
	for (i = 1; i < *argc && strcmp(argv[i], "--") != 0; i++)
		if (strncmp(argv[i], "--file-prefix", strlen("--file-prefix")) == 0)
			return argv;
	out = calloc((size_t)*argc + 2, sizeof(*out));
	if (out == NULL)
		return NULL;
	snprintf(prefix_arg, sizeof(prefix_arg), "--file-prefix=%s-%d", app, (int)getpid());
	out[0] = argv[0];
	out[1] = prefix_arg;
	for (i = 1; i < *argc; i++)
		out[i + 1] = argv[i];
	(*argc)++;
	return out;	/* lives as long as the program: rte_eal_init() keeps pointers into it */
}
