#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# Run an rdma test natively if this host has an RDMA device, else inside the Soft-RoCE VM lane
# (devtools/vm/run.sh). If neither works the test FAILS (exit 1) with the reason: never a skip.
#
# Usage: run_rdma_test.sh SOURCE_ROOT -- CMD [ARGS...]

set -u
src=$1
shift
[ "${1:-}" = "--" ] && shift

have_device() {
    local d
    for d in /sys/class/infiniband/*; do
        [ -e "$d" ] && ls /dev/infiniband/uverbs* >/dev/null 2>&1 && return 0
    done
    return 1
}

if have_device; then
    echo "run_rdma_test: RDMA device on this host: running natively"
    "$@"
    rc=$?
else
    lane=$src/devtools/vm/run.sh
    if [ ! -x "$lane" ]; then
        echo "run_rdma_test: FAIL: no RDMA device on this host and no VM lane ($lane)" >&2
        exit 1
    fi
    echo "run_rdma_test: no RDMA device on this host: running in the Soft-RoCE VM lane"
    "$lane" --timeout "${RZ_RDMA_VM_TIMEOUT:-900}" -- "$@"
    rc=$?
    if [ "$rc" -eq 125 ]; then
        echo "run_rdma_test: FAIL: the VM lane could not start (see rzone-vm: lines above)" >&2
        exit 1
    fi
    if [ "$rc" -eq 124 ]; then
        echo "run_rdma_test: FAIL: timeout in the VM lane" >&2
        exit 1
    fi
fi
# 77 would read as "skipped" to meson: a failure is a failure.
[ "$rc" -eq 77 ] && rc=1
exit "$rc"
