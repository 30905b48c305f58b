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
# RZB_REPORT_ONLY=1: runs nothing: the summary of results already there (the guest part run by
# hand, or an earlier run) and, without --cg, the plot redrawn from them.
# Output: perf/results/rdma-pkt-remote.txt and its plot rdma-pkt-remote.png (packets/s by size,
# rz / copy / raw verbs side by side, medians of the rounds, rz/raw and rz/copy labelled, the
# device named; gnuplot, Debian package gnuplot-nox), or rdma-pkt-remote-cg.txt with --cg.

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
# plot RESULT.txt OUT.png: the medians of the "pktsum" lines, three bars per size.
plot() {
    local in=$1 out=$2 dat=${2%.png}.dat dev when
    awk '$1 == "pktsum" { print $3, $5, $7, $9, $11, $13 }' "$in" > "$dat"
    [ -s "$dat" ] || { echo "pkt_remote.sh: no pktsum lines in $in: nothing to plot" >&2; return 1; }
    command -v gnuplot >/dev/null ||
        { echo "pkt_remote.sh: no gnuplot (apt-get install gnuplot-nox): no plot" >&2; return 1; }
    dev=$(sed -n 's/^pkt device \([^,]*\),.*/\1/p' "$in" | head -1)
    when=$(sed -n 's/^pkt run of //p' "$in" | head -1)
    [ -n "$when" ] || when=$(date -u -r "$in" '+%Y-%m-%d %H:%M UTC')
    gnuplot <<GP
set terminal pngcairo size 900,540 font "DejaVu Sans,11"
set output "$out"
set title "packets to a remote peer: packets/s by size (medians of the rounds, same run)\\n" . \
    "device ${dev:-unknown} (Soft-RoCE in a TCG guest), $(basename "$in") of $when"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set ylabel "packets/s"
set xlabel "packet bytes"
set yrange [0:*]
set offsets 0, 0, graph 0.15, 0
set grid ytics
set key top right
plot "$dat" using 2:xtic(1) title "rzone channel (zero-copy)" lc rgb "#1f77b4", \
     "" using 3 title "copy baseline (bounce buffer)" lc rgb "#ff7f0e", \
     "" using 4 title "raw verbs (same SGE writes)" lc rgb "#2ca02c", \
     "" using (\$0):(((\$2 > \$3 ? \$2 : \$3) > \$4 ? (\$2 > \$3 ? \$2 : \$3) : \$4)):\
        (sprintf("rz/raw %.2f\\nrz/copy %.2f", \$5, \$6)) with labels offset 0,1.6 \
        notitle
GP
    echo "plot: $out"
}

a=()
[ "$cg" = 1 ] && a=(--cg)
if [ "${RZB_REPORT_ONLY:-0}" != 1 ]; then
    t=$(date -u '+%Y-%m-%d %H:%M UTC')
    "$src/devtools/vm/run.sh" --timeout 1800 -- env RZB_IN_VM=1 "$0" "${a[@]}" "$build" \
        "$pkts" "$rounds"
    [ "$cg" = 1 ] || echo "pkt run of $t" >> "$src/perf/results/rdma-pkt-remote.txt"
fi
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
    res=$src/perf/results/rdma-pkt-remote.txt
    grep -E '^pkt(sum| device| rz|total)' "$res"
    plot "$res" "$src/perf/results/rdma-pkt-remote.png"
fi
