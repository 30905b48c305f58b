#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# Plot rz-bench-pkt's output: packets/s by packet size, rzone's pool vs a plain DPDK pool vs
# net_memif (medians of the rounds, from the same run).
#   perf/pkt_plot.sh [RESULT.txt] [OUT.png]   (default perf/results/rz-bench-pkt.{txt,png})
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
in=${1:-$ROOT/perf/results/rz-bench-pkt.txt}
out=${2:-$ROOT/perf/results/rz-bench-pkt.png}
dat=${out%.png}.dat
awk '$NF == "median" && $1 ~ /^[0-9]+$/ { print $1, $2, $3, $4 }' "$in" >"$dat"
[ -s "$dat" ] || { echo "pkt_plot: no median lines in $in" >&2; exit 1; }
cpu=$(sed -n 's/^platform: *\(.*\)/\1/p' "$in" | head -1)
load=$(sed -n 's/^load: *\/proc\/loadavg \([0-9.]*\).*/\1/p' "$in" | head -1)
gnuplot <<GP
set terminal pngcairo size 900,520 font "DejaVu Sans,11"
set output "$out"
set title "primary -> secondary packet handoff, packets/s by size (medians, same run)\\n${cpu}, load ${load}"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set ylabel "Mpps"
set xlabel "packet bytes"
set yrange [0:*]
set grid ytics
set key top left
plot "$dat" using 2:xtic(1) title "rzone pool + rte\\\_ring" lc rgb "#1f77b4", \
     "" using 3 title "plain DPDK pool + rte\\\_ring" lc rgb "#ff7f0e", \
     "" using 4 title "net\\\_memif (zero-copy client)" lc rgb "#2ca02c"
GP
echo "plot: $out"
