#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# Many lcores to one peer (issue 11), in the Soft-RoCE VM lane: rz-bench-rdma mc (aggregate
# WRITE bandwidth and op rate with 1, 2, 4 lcores, a channel each, vs as many raw verbs QPs with
# the same bursts; grant + revoke idle vs 2 lcores busy), then the ratios.
#
# Usage (on the host, as root): perf/rdma/mc.sh [BUILD_DIR [SIZE ITERS BATCH GRANTS]]
# Output: perf/results/rdma-mc.txt (the bench's lines, then the table).

set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
size=${2:-4096} iters=${3:-4096} batch=${4:-16} grants=${5:-100}
bench=$build/perf/rdma/rz-bench-rdma
out=$src/perf/results/rdma-mc.txt
[ -x "$bench" ] || { echo "mc.sh: $bench not built (meson -Dperf=true)" >&2; exit 1; }
mkdir -p "$src/perf/results"
if [ "${RZB_IN_VM:-0}" = 1 ]; then
    export RZ_RDMA_DEV=${RZ_RDMA_DEV:-rxe0} RZB_IP=${RZB_IP:-10.0.2.15}
    "$bench" mc 4 "$size" "$iters" "$batch" "$grants" > "$out.raw" 2>&1
    exit $?
fi
RZB_IN_VM=1 "$src/devtools/vm/run.sh" --timeout 1800 -- env RZB_IN_VM=1 "$0" "$build" \
    "$size" "$iters" "$batch" "$grants"
{
    grep -E '^(rzenv|rawqp)' "$out.raw" | head -2
    echo "lcores  rzone MiB/s (best)  raw MiB/s (best)  ratio  rzone Mops  raw Mops"
    for n in 1 2 4; do
        rz=$(awk -v n=$n '$1 == "mcrz" && $3 == n { if ($13 > b) b = $13 } END { print b }' "$out.raw")
        rw=$(awk -v n=$n '$1 == "mcraw" && $3 == n { if ($13 > b) b = $13 } END { print b }' "$out.raw")
        rzo=$(awk -v n=$n '$1 == "mcrz" && $3 == n { if ($15 > b) b = $15 } END { print b }' "$out.raw")
        rwo=$(awk -v n=$n '$1 == "mcraw" && $3 == n { if ($15 > b) b = $15 } END { print b }' "$out.raw")
        awk -v n=$n -v a="$rz" -v b="$rw" -v c="$rzo" -v d="$rwo" 'BEGIN {
            printf "%6d  %18.2f  %16.2f  %5.3f  %10.4f  %8.4f\n", n, a, b, (b > 0 ? a / b : 0), c, d }'
    done
    grep '^mcgrant' "$out.raw"
} > "$out"
cat "$out"
