#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# The wire suite's wire-demo test: devtools/demo.sh's RDMA story across two hosts, exactly as
# a user runs it (devtools/demo.sh --rdma-only --no-build). Without an RDMA device that is two
# guests of the VM lane on one virtual wire: the owner and its secondary on host A (10.0.2.15),
# the remote peers on host B (10.0.2.16), started there by "rzone-rdma-demo serve-peers". With
# RZ_WIRE_SELF and RZ_WIRE_OTHER set (two hosts with RDMA devices), natively: this host owns,
# the other must run "rzone-rdma-demo serve-peers". Passes only if the demo's status is 0 and
# its output shows the story where it should be: every peer line from host B, none from A, the
# peer server's verdict, the owner's verdict. A lane that cannot start is a failure.
#
# Usage: run_wire_demo.sh SOURCE_ROOT BUILD_ROOT

set -u
src=$1
build=$2
log=$(mktemp /tmp/rzone-wire-demo.XXXXXX)
trap 'rm -f "$log"' EXIT

native=0
if [ -n "${RZ_WIRE_SELF:-}" ] && [ -n "${RZ_WIRE_OTHER:-}" ]; then
    native=1
    export RZ_DEMO_RDMA_IP=$RZ_WIRE_SELF RZ_DEMO_PEER_HOST=$RZ_WIRE_OTHER
    echo "run_wire_demo: native: owner on $RZ_WIRE_SELF, peers on $RZ_WIRE_OTHER"
fi
RZ_BUILD_DIR=$build "$src/devtools/demo.sh" --rdma-only --no-build 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

failed=0
check() {
    local what=$1
    shift
    if "$@"; then
        echo "run_wire_demo: ok: $what"
    else
        echo "run_wire_demo: FAIL: $what" >&2
        failed=1
    fi
}
has() { grep -qE -- "$1" "$log"; }
hasnt() { ! grep -qE -- "$1" "$log"; }

check "devtools/demo.sh exited 0 (it did with $rc)" [ "$rc" -eq 0 ]
if [ "$native" -eq 0 ]; then
    check "the owner's verdict, on host A" has '^\[A\] \[owner +pid +[0-9]+\] RDMA demo complete'
    check "peer 1 wrote through its Share window, on host B" \
        has '^\[B\] \[peer 1 +pid +[0-9]+\] rz_remote_write\(.*\): wrote '
    check "peer 2 read through its Copy-on-write window, on host B" \
        has '^\[B\] \[peer 2 +pid +[0-9]+\] rz_remote_read\(.*\): read '
    check "no peer ran on host A" hasnt '^\[A\] \[peer '
    check "the peer server's verdict, on host B" \
        has '^\[B\] \[peer srv +pid +[0-9]+\] done: every peer exited with status 0'
    check "both guests exited 0" has '^rzone-pair: A exited 0, B exited 0'
else
    check "the owner's verdict" has '\[owner +pid +[0-9]+\] RDMA demo complete'
fi
check "both peers were accepted from the other host" \
    test "$(grep -cE '\[owner +pid +[0-9]+\] rz_peer_accept\(\): peer [12] connected: .* \(on the other host\)' "$log")" -eq 2
check "no step failed" hasnt 'FAILED'
exit "$failed"
