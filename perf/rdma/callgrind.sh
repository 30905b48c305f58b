#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# User-space instructions per posted + completed RDMA WRITE, rzone vs raw verbs (issue 11),
# counted by valgrind --tool=callgrind in the Soft-RoCE VM lane: rz-bench-rdma cg runs its peer
# under callgrind (--vgdb=no, TMPDIR=/run: /work/shared/notes/environment.md). Per-function
# inclusive costs of the loops (cg_rz_loop, cg_raw_loop: same shape, same device, same
# process; cg_rzp_loop: rzone through a prepared operation, rz_remote_post_prep(); cg_rzr_loop:
# prepared, completions reaped by count, rz_remote_reap(); cg_rzb_loop / cg_rzpb_loop (prepared)
# / cg_rawb_loop: bursts of DEPTH in one post, the last signaled, as perf/rdma/mc.sh), minus
# their empty polls at the cost of an empty poll (cg_rz_empty, cg_rzr_empty, cg_raw_empty),
# divided by the operations.
#
# Usage (host, root): perf/rdma/callgrind.sh [BUILD_DIR [ITERS DEPTH SIZE]]
# Output: perf/results/rdma-cg.txt (+ .raw: the bench's lines and callgrind_annotate's).

set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
iters=${2:-2000} depth=${3:-16} size=${4:-64}
bench=$build/perf/rdma/rz-bench-rdma
out=$src/perf/results/rdma-cg.txt
[ -x "$bench" ] || { echo "callgrind.sh: $bench not built (meson -Dperf=true)" >&2; exit 1; }
mkdir -p "$src/perf/results"
if [ "${RZB_IN_VM:-0}" = 1 ]; then
    export RZ_RDMA_DEV=${RZ_RDMA_DEV:-rxe0} RZB_IP=${RZB_IP:-10.0.2.15} TMPDIR=/run
    rm -f /run/rzb-cg.out
    RZB_PEER_CALLGRIND=/run/rzb-cg.out "$bench" cg "$iters" "$depth" "$size" > "$out.raw" 2>&1
    callgrind_annotate --inclusive=yes --threshold=100 /run/rzb-cg.out >> "$out.raw"
    exit 0
fi
[ "${RZB_REPORT_ONLY:-0}" = 1 ] ||
RZB_IN_VM=1 "$src/devtools/vm/run.sh" --timeout 1800 -- env RZB_IN_VM=1 "$0" "$build" \
    "$iters" "$depth" "$size"
awk -v iters="$iters" '
    /^cg iters/ { for (i = 1; i < NF; i++) v[$i] = $(i + 1) }
    # The per-function summary lines (object in brackets), first one per function: the
    # inclusive cost of the whole function, not of its inlined parts or its call sites.
    /cg_(rz|rzp|rzr|raw|rzb|rawb|rzpb)_(loop|empty)/ && /\[[^]]*rz-bench-rdma\]$/ {
        for (i = 1; i <= NF; i++) if ($i ~ /cg_(rz|rzp|rzr|raw|rzb|rawb|rzpb)_(loop|empty)/) {
            f = $i; sub(/.*:/, "", f); sub(/[^a-z_].*/, "", f) }
        c = $1; gsub(/,/, "", c); if (!(f in ir)) ir[f] = c }
    END {
        n = v["calib_polls"]
        er = ir["cg_rz_empty"] / n; ew = ir["cg_raw_empty"] / n
        rz = (ir["cg_rz_loop"] - v["rz_empty_polls"] * er) / iters
        rw = (ir["cg_raw_loop"] - v["raw_empty_polls"] * ew) / iters
        rp = (ir["cg_rzp_loop"] - v["rzp_empty_polls"] * er) / iters
        eq = ir["cg_rzr_empty"] / n
        rr = (ir["cg_rzr_loop"] - v["rzr_empty_polls"] * eq) / iters
        bi = v["burst_iters"]
        rb = bi > 0 ? (ir["cg_rzb_loop"] - v["rzb_empty_polls"] * er) / bi : 0
        wb = bi > 0 ? (ir["cg_rawb_loop"] - v["rawb_empty_polls"] * ew) / bi : 0
        pb = bi > 0 ? (ir["cg_rzpb_loop"] - v["rzpb_empty_polls"] * er) / bi : 0
        printf "WRITE of %s B, %s operations, %s outstanding, every one signaled\n",
            v["size"], iters, v["depth"]
        printf "cg_rz_loop  inclusive Ir %d, empty polls %d x %.1f\n", ir["cg_rz_loop"],
            v["rz_empty_polls"], er
        printf "cg_rzp_loop inclusive Ir %d, empty polls %d x %.1f\n", ir["cg_rzp_loop"],
            v["rzp_empty_polls"], er
        printf "cg_rzr_loop inclusive Ir %d, empty reaps %d x %.1f\n", ir["cg_rzr_loop"],
            v["rzr_empty_polls"], eq
        printf "cg_raw_loop inclusive Ir %d, empty polls %d x %.1f\n", ir["cg_raw_loop"],
            v["raw_empty_polls"], ew
        printf "instructions per posted + completed operation: rzone %.1f, raw verbs %.1f, " \
            "ratio %.3f\n", rz, rw, (rw > 0 ? rz / rw : 0)
        printf "instructions per posted + completed operation, prepared " \
            "(rz_remote_post_prep): rzone %.1f, raw verbs %.1f, ratio %.3f\n", rp, rw,
            (rw > 0 ? rp / rw : 0)
        printf "instructions per posted + completed operation, prepared + reap " \
            "(rz_remote_post_prep, rz_remote_reap): rzone %.1f, raw verbs %.1f, ratio %.3f\n",
            rr, rw, (rw > 0 ? rr / rw : 0)
        printf "bursts of %s (one post, the last signaled, its one completion polled), %s " \
            "operations:\n", v["depth"], bi
        printf "cg_rzb_loop inclusive Ir %d, empty polls %d x %.1f\n", ir["cg_rzb_loop"],
            v["rzb_empty_polls"], er
        printf "cg_rawb_loop inclusive Ir %d, empty polls %d x %.1f\n", ir["cg_rawb_loop"],
            v["rawb_empty_polls"], ew
        printf "instructions per posted + completed operation, burst " \
            "(rz_remote_post_burst, rz_remote_poll; raw: one chained ibv_post_send): " \
            "rzone %.1f, raw verbs %.1f, ratio %.3f\n", rb, wb, (wb > 0 ? rb / wb : 0)
        printf "cg_rzpb_loop inclusive Ir %d, empty polls %d x %.1f\n", ir["cg_rzpb_loop"],
            v["rzpb_empty_polls"], er
        printf "instructions per posted + completed operation, prepared burst " \
            "(rz_remote_post_prep_burst, rz_remote_poll; raw: one chained ibv_post_send): " \
            "rzone %.1f, raw verbs %.1f, ratio %.3f\n", pb, wb, (wb > 0 ? pb / wb : 0) }' \
    "$out.raw" > "$out"
cat "$out"
