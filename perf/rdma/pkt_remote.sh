#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# Packets/s of a packet channel (issue 13): rzone's zero-copy channel vs a copy baseline vs raw
# verbs doing the same SGE writes with the same batching, one run of rz-bench-pkt-remote in the
# Soft-RoCE VM lane (same device, same connection, interleaved). Then, with --cg, the same
# producer under callgrind (--vgdb=no, TMPDIR=/run: /work/shared/notes/environment.md):
# user-space instructions per packet of each variant's send function (inclusive), rz vs raw.
#
# Usage (host, root): perf/rdma/pkt_remote.sh [--cg] [BUILD_DIR [PKTS ROUNDS]]
# RZB_REPORT_ONLY=1: only the summary of results already there (the guest part run by hand).
# Output: perf/results/rdma-pkt-remote.txt (and rdma-pkt-remote-cg.txt with --cg).

set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
cg=0
[ "${1:-}" = --cg ] && { cg=1; shift; }
build=${1:-$src/build}
pkts=${2:-50000} rounds=${3:-3}
bench=$build/perf/rdma/rz-bench-pkt-remote
[ -x "$bench" ] || { echo "pkt_remote.sh: $bench not built (meson -Dperf=true)" >&2; exit 1; }
mkdir -p "$src/perf/results"
if [ "${RZB_IN_VM:-0}" = 1 ]; then
    export RZ_RDMA_DEV=${RZ_RDMA_DEV:-rxe0} RZB_IP=${RZB_IP:-10.0.2.15}
    if [ "$cg" = 1 ]; then
        export TMPDIR=/run
        rm -f /run/rzb-pkt-cg.out
        RZB_PRODUCER_CALLGRIND=/run/rzb-pkt-cg.out "$bench" 3000 1 64 512 1500 \
            > "$src/perf/results/rdma-pkt-remote-cg.txt.raw" 2>&1
        callgrind_annotate --inclusive=yes --threshold=100 /run/rzb-pkt-cg.out \
            >> "$src/perf/results/rdma-pkt-remote-cg.txt.raw"
    else
        "$bench" "$pkts" "$rounds" 64 512 1500 > "$src/perf/results/rdma-pkt-remote.txt" 2>&1
    fi
    exit 0
fi
a=()
[ "$cg" = 1 ] && a=(--cg)
[ "${RZB_REPORT_ONLY:-0}" = 1 ] ||
"$src/devtools/vm/run.sh" --timeout 1800 -- env RZB_IN_VM=1 "$0" "${a[@]}" "$build" \
    "$pkts" "$rounds"
if [ "$cg" = 1 ]; then
    awk '
        /^pkttotal/ { n[$3] = $5 }
        /bench_(rz|raw|copy)_burst/ && /\[[^]]*rz-bench-pkt(-remote)?\]$/ {
            for (i = 1; i <= NF; i++) if ($i ~ /bench_(rz|raw|copy)_burst/) {
                f = $i; sub(/.*:/, "", f); sub(/[^a-z_].*/, "", f) }
            c = $1; gsub(/,/, "", c); if (!(f in ir)) ir[f] = c }
        END {
            rz = ir["bench_rz_burst"] / n["rz"]; rw = ir["bench_raw_burst"] / n["raw"]
            cp = ir["bench_copy_burst"] / n["copy"]
            printf "user-space instructions per packet (send call inclusive, completions " \
                "reaped inside it), 64/512/1500 B mixed:\n"
            printf "rz %.1f, raw verbs %.1f, copy %.1f; rz/raw %.3f\n", rz, rw, cp,
                (rw > 0 ? rz / rw : 0) }' "$src/perf/results/rdma-pkt-remote-cg.txt.raw" \
        > "$src/perf/results/rdma-pkt-remote-cg.txt"
    cat "$src/perf/results/rdma-pkt-remote-cg.txt"
else
    grep -E '^pkt(sum| device| rz|total)' "$src/perf/results/rdma-pkt-remote.txt"
fi
