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

# Two runs: the cases of wire_cases[] (the last one powers host B off: fault 3), then fault 4
# (--wire-owner-dies: the owner's host A is powered off, the peer on B is the verdict, through
# its peer server). Natively the power-off is "$RZ_WIRE_POWEROFF_CMD A|B" (else those cases
# fail and say why).
if [ -n "${RZ_WIRE_SELF:-}" ] && [ -n "${RZ_WIRE_OTHER:-}" ]; then
    echo "run_wire_test: native: owner $RZ_WIRE_SELF, peers on $RZ_WIRE_OTHER"
    "$prog" --wire-owner
    rc=$?
    if [ "$rc" -eq 0 ]; then
        echo "run_wire_test: fault 4: restart the peer server on $RZ_WIRE_OTHER for it"
        "$prog" --wire-owner-dies
        rc=$?
    fi
else
    for mode in --wire-owner --wire-owner-dies; do
        echo "run_wire_test: two guests on one virtual wire (devtools/vm/pair.sh), $mode"
        "$src/devtools/vm/pair.sh" --timeout "${RZ_WIRE_VM_TIMEOUT:-900}" \
            "$(printf '%q %s' "$prog" "$mode")" "$(printf '%q --peer-server' "$prog")"
        rc=$?
        [ "$rc" -eq 125 ] && echo "run_wire_test: FAIL: the two-host lane could not start" >&2
        [ "$rc" -eq 0 ] || break
    done
fi
[ "$rc" -eq 77 ] && rc=1
exit "$rc"
