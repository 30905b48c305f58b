#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# Many lcores to one peer (issue 11), in the Soft-RoCE VM lane: rz-bench-rdma mc (aggregate
# WRITE bandwidth and op rate with 1, 2, 4 lcores, a channel each, vs as many raw verbs QPs with
# the same bursts; grant + revoke idle vs 2 lcores busy), then the ratios.
#
# Usage (on the host, as root): perf/rdma/mc.sh [BUILD_DIR [SIZE ITERS BATCH GRANTS]]
# Output: perf/results/rdma-mc.txt (the bench's lines, then the table), and the scaling curve:
# perf/results/rdma-mc.dat and rdma-mc.png (gnuplot; package gnuplot-nox).
# RZB_REPORT_ONLY=1: only the table and the plot, from the last run's rdma-mc.txt.raw.
# RZB_PREP=1: rzone posts through a prepared operation (rz_remote_post_prep(), one post per
# operation of a burst) and raw verbs one WR per ibv_post_send(); output rdma-mc-prep.txt.

set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
size=${2:-4096} iters=${3:-4096} batch=${4:-16} grants=${5:-100}
bench=$build/perf/rdma/rz-bench-rdma
out=$src/perf/results/rdma-mc.txt
[ "${RZB_PREP:-0}" = 1 ] && out=$src/perf/results/rdma-mc-prep.txt
[ -x "$bench" ] || { echo "mc.sh: $bench not built (meson -Dperf=true)" >&2; exit 1; }
mkdir -p "$src/perf/results"
if [ "${RZB_IN_VM:-0}" = 1 ]; then
    export RZ_RDMA_DEV=${RZ_RDMA_DEV:-rxe0} RZB_IP=${RZB_IP:-10.0.2.15}
    "$bench" mc 4 "$size" "$iters" "$batch" "$grants" > "$out.raw" 2>&1
    exit $?
fi
[ "${RZB_REPORT_ONLY:-0}" = 1 ] ||
RZB_IN_VM=1 "$src/devtools/vm/run.sh" --timeout 1800 -- env RZB_IN_VM=1 \
    RZB_BW_INTERLEAVE="${RZB_BW_INTERLEAVE:-5}" RZB_PREP="${RZB_PREP:-0}" "$0" "$build" \
    "$size" "$iters" "$batch" "$grants"
{
    grep -E '^(rzenv|rawqp)' "$out.raw" | head -2
    echo "lcores  rzone MiB/s best/median  raw MiB/s best/median  ratio best/median  rzone Mops med  raw Mops med"
    for n in 1 2 4; do
        stat() {  # best and median of column $2 of lines tagged $1 with lcores n
            awk -v t="$1" -v c="$2" -v n=$n '$1 == t && $3 == n { print $c }' "$out.raw" |
                sort -g | awk '{ v[NR] = $1 } END { if (NR) printf "%s %s", v[NR],
                    (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
        }
        read -r rzb rzm <<< "$(stat mcrz 13)"
        read -r rwb rwm <<< "$(stat mcraw 13)"
        read -r _ rzo <<< "$(stat mcrz 15)"
        read -r _ rwo <<< "$(stat mcraw 15)"
        awk -v n=$n -v a="$rzb" -v am="$rzm" -v b="$rwb" -v bm="$rwm" -v c="$rzo" -v d="$rwo" \
            'BEGIN { printf "%6d  %12.2f / %7.2f  %10.2f / %7.2f  %6.3f / %5.3f  %14.4f  %12.4f\n",
                n, a, am, b, bm, (b > 0 ? a / b : 0), (bm > 0 ? am / bm : 0), c, d }'
    done
    echo "pairwise (rzone / raw of the same pair, run back to back): geometric mean, min, max"
    awk '$1 == "mcrz" || $1 == "mcraw" { k = $3 " " $19; v[k, $1] = $13; n[$3] = 1; p[k] = $3 }
        END { for (k in p) if ((k, "mcrz") in v && (k, "mcraw") in v && v[k, "mcraw"] > 0) {
                  r = v[k, "mcrz"] / v[k, "mcraw"]; c = p[k]; s[c] += log(r); m[c]++
                  if (!(c in lo) || r < lo[c]) lo[c] = r; if (r > hi[c]) hi[c] = r }
              for (c = 1; c <= 4; c *= 2) if (m[c])
                  printf "%6d  %5.3f  %5.3f  %5.3f  (%d pairs)\n", c, exp(s[c] / m[c]), lo[c],
                      hi[c], m[c] }' "$out.raw"
    grep '^mcgrant' "$out.raw"
} > "$out"
cat "$out"
# The scaling curve: aggregate MiB/s (medians) by lcores, rzone and raw verbs, and the ratio.
awk '$1 ~ /^[0-9]+$/ && $3 == "/" && NF >= 12 { print $1, $4, $7, $10 }' "$out" > "${out%.txt}.dat"
if ! command -v gnuplot >/dev/null; then
    echo "mc.sh: no plot: gnuplot is not installed (apt-get install gnuplot-nox)" >&2
    exit 1
fi
dev=$(awk '$1 == "rzenv" { for (i = 1; i < NF; i++) if ($i == "device") print $(i + 1) }' \
    "$out.raw" | head -1)
gnuplot <<EOF
set terminal pngcairo size 900,600 font "DejaVu Sans,11"
set output "${out%.txt}.png"
set title "Many lcores, one peer: aggregate RDMA WRITE bandwidth, ${size} B in bursts of ${batch}\\n${dev:-?} (Soft-RoCE) in a QEMU TCG guest, medians of 5 interleaved pairs"
set xlabel "lcores (one data channel each)"
set ylabel "MiB/s"
set y2label "rzone / raw verbs"
set logscale x 2
set xtics (1, 2, 4)
set yrange [0:*]
set y2range [0:2]
set y2tics
set ytics nomirror
set key bottom right
set grid
plot "${out%.txt}.dat" using 1:2 with linespoints lw 2 pt 7 lc rgb "#d62728" title "rzone", \\
     "${out%.txt}.dat" using 1:3 with linespoints lw 2 pt 5 lc rgb "#1f77b4" title "raw verbs (as many QPs, same bursts)", \\
     "${out%.txt}.dat" using 1:4 axes x1y2 with linespoints lw 1 dt 2 pt 9 lc rgb "#2ca02c" title "ratio (right axis)", \\
     0.95 axes x1y2 with lines lw 1 dt 3 lc rgb "#7f7f7f" title "target 0.95"
EOF
echo "plot: ${out%.txt}.png"
