/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_APP_EAL_H
#define RZ_APP_EAL_H

/* What every rzone application does before rte_eal_init(). */

/*
 * Set @usage as the EAL's application usage hook (what --help prints after the EAL's
 * options), and give the instance a file prefix of its own, "<app>-<pid>", unless the EAL
 * options (those before "--") name one: two runs never share runtime state by accident.
 * Returns the argument vector to give rte_eal_init() (@argv itself, or a copy with the prefix
 * added; *@argc updated), NULL if there are more than 256 arguments.
 */
char **app_eal_args(int *argc, char **argv, const char *app, void (*usage)(const char *prog));

/* rte_eal_cleanup(), then, if app_eal_args() chose the file prefix and this is the primary,
 * remove the runtime directory the EAL made for it (DPDK leaves it behind), so that runs leave
 * nothing. */
void app_eal_cleanup(void);

#endif /* RZ_APP_EAL_H */
