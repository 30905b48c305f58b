#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# The wire suite: rzone between two kernels. With RZ_WIRE_SELF and RZ_WIRE_OTHER set (two hosts
# with RDMA devices, natively), this host is the owner and the other must run
# "test_rdma --peer-server"; else two guests of the VM lane on one virtual wire
# (devtools/vm/pair.sh): host A (10.0.2.15) owns, host B (10.0.2.16) serves the peers. A lane
# that cannot start is a failure, never a skip.
#
# Usage: run_wire_test.sh SOURCE_ROOT TEST_RDMA

set -u
src=$1
prog=$2

if [ -n "${RZ_WIRE_SELF:-}" ] && [ -n "${RZ_WIRE_OTHER:-}" ]; then
    echo "run_wire_test: native: owner $RZ_WIRE_SELF, peers on $RZ_WIRE_OTHER"
    "$prog" --wire-owner
    rc=$?
else
    echo "run_wire_test: two guests on one virtual wire (devtools/vm/pair.sh)"
    "$src/devtools/vm/pair.sh" --timeout "${RZ_WIRE_VM_TIMEOUT:-900}" \
        "$(printf '%q --wire-owner' "$prog")" "$(printf '%q --peer-server' "$prog")"
    rc=$?
    [ "$rc" -eq 125 ] && echo "run_wire_test: FAIL: the two-host lane could not start" >&2
fi
[ "$rc" -eq 77 ] && rc=1
exit "$rc"
