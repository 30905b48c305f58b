/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 rzone authors
 */

#ifndef RZ_TEST_AGENT_PKT_H
#define RZ_TEST_AGENT_PKT_H

/* The agent's packet commands (tests/mp/agent_pkt.c): 1 if @argv[0] was one (answered). */
int agent_pkt_command(int argc, char **argv);

#endif
