#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# RDMA benchmarks of rzone against perftest, all in ONE boot of the Soft-RoCE VM lane (or
# natively if this host has an RDMA device). Results: perf/results/rdma-*.txt and the plot
# perf/results/rdma-bw.png.
#
#   perf/rdma/run.sh [--quick]
#
#   --quick   one round, smaller bandwidth budget, fewer iterations (a smoke run, ~5 min)
#
# Environment:
#   RZ_BUILD_DIR   a configured build directory whose perf/meson.build includes perf/rdma; if
#                  unset: <repo>/build-perf when perf/meson.build mentions subdir('rdma'), else a
#                  private copy of the sources built in <repo>/build-rdma-perf
#   RZB_SRC        what the private build compiles: "worktree" (default: the working tree) or a
#                  git revision (e.g. HEAD; read with git archive, perf/rdma from the working tree)
#   RZB_VM_TIMEOUT VM time limit in seconds (default 5400)
#   RZ_RDMA_DEV, RZB_ROUNDS, RZB_DEPTH, RZB_BW_BUDGET, RZB_LAT_ITERS, RZB_GRANT_ITERS,
#   RZB_REG_ARENAS, RZB_ONLY: see perf/rdma/driver.sh

set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RESULTS=$ROOT/perf/results
# A partial run (RZB_ONLY) must not overwrite the figures of a full one: it goes to its own
# folder.
if [ -n "${RZB_ONLY:-}" ]; then
    RESULTS=$ROOT/perf/results/partial-$(date -u +%Y%m%d-%H%M%S)
fi
SRC_MODE=${RZB_SRC:-worktree}
QUICK=0

for arg in "$@"; do
    case $arg in
        --quick) QUICK=1 ;;
        -h|--help) sed -n '4,22p' "$0"; exit 0 ;;
        *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done
if [ "$(id -u)" -ne 0 ]; then
    echo "perf/rdma/run.sh: needs root (hugepages, RDMA, the VM lane)" >&2
    exit 1
fi
if [ "$QUICK" -eq 1 ]; then
    export RZB_ROUNDS=${RZB_ROUNDS:-1} RZB_BW_BUDGET=${RZB_BW_BUDGET:-8388608}
    export RZB_LAT_ITERS=${RZB_LAT_ITERS:-500} RZB_GRANT_ITERS=${RZB_GRANT_ITERS:-20}
    export RZB_REG_ARENAS=${RZB_REG_ARENAS:-3}
fi

# --- build ------------------------------------------------------------------------------------
# What is measured, recorded before building (HEAD may move while the VM runs).
if [ "$SRC_MODE" = worktree ]; then
    REV="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(
        git -C "$ROOT" diff --quiet HEAD -- lib include drivers 2>/dev/null ||
        echo ' + uncommitted changes in lib/include/drivers')"
else
    REV=$(git -C "$ROOT" rev-parse --short "$SRC_MODE")
fi
if [ -n "${RZ_BUILD_DIR:-}" ]; then
    BUILD=$RZ_BUILD_DIR
    SRC_DESC="build dir $BUILD"
elif grep -q "subdir('rdma')" "$ROOT/perf/meson.build" 2>/dev/null && [ "$SRC_MODE" = worktree ]; then
    BUILD=$ROOT/build-perf
    SRC_DESC="working tree (build-perf)"
    [ -d "$BUILD" ] || meson setup "$BUILD" "$ROOT" -Dtests=false -Dperf=true >/dev/null
else
    # perf/meson.build does not include perf/rdma yet: a private copy that does.
    # One directory per source mode: git archive gives old mtimes, which ninja would not
    # notice when switching modes in one build directory.
    PRIV=$ROOT/build-rdma-perf/${SRC_MODE//[^A-Za-z0-9._-]/_}
    rm -rf "$PRIV/src"
    mkdir -p "$PRIV/src"
    if [ "$SRC_MODE" = worktree ]; then
        tar -C "$ROOT" --exclude='./build*' --exclude=./.git --exclude=./perf/results -cf - . |
            tar -C "$PRIV/src" -xf -
        SRC_DESC="private copy of the working tree"
    else
        git -C "$ROOT" archive "$SRC_MODE" | tar -C "$PRIV/src" -xf -
        mkdir -p "$PRIV/src/config" "$PRIV/src/perf"
        rm -rf "$PRIV/src/perf/rdma"
        cp -a "$HERE" "$PRIV/src/perf/rdma"
        # Only the RDMA benchmarks: the other ones are not in that revision.
        echo "subdir('rdma')" > "$PRIV/src/perf/meson.build"
        SRC_DESC="git $REV + perf/rdma of the working tree"
    fi
    grep -q "subdir('rdma')" "$PRIV/src/perf/meson.build" ||
        echo "subdir('rdma')" >> "$PRIV/src/perf/meson.build"
    BUILD=$PRIV/build
    if [ ! -f "$BUILD/build.ninja" ]; then
        meson setup "$BUILD" "$PRIV/src" -Dtests=false -Dperf=true --werror >/dev/null
    fi
fi
ninja -C "$BUILD" perf/rdma/rz-bench-rdma >/dev/null
BENCH=$BUILD/perf/rdma/rz-bench-rdma

# --- run: one VM boot (or natively) ------------------------------------------------------------
mkdir -p "$RESULTS"
WORK=$(mktemp -d "$RESULTS/.rdma-run.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
have_device() {
    local d
    for d in /sys/class/infiniband/*; do
        [ -e "$d" ] && ls /dev/infiniband/uverbs* >/dev/null 2>&1 && return 0
    done
    return 1
}
t0=$SECONDS
if have_device; then
    WHERE="natively"
    "$HERE/driver.sh" "$BENCH" "$WORK"
else
    WHERE="Soft-RoCE VM lane (QEMU TCG, one boot)"
    rc=0
    # run.sh passes RZ_* to the guest; our RZB_* knobs must be named.
    RZ_VM_PASSENV="${RZ_VM_PASSENV:-} $({ compgen -v | grep '^RZB_' || true; } | tr '\n' ' ')"
    export RZ_VM_PASSENV
    (cd "$ROOT" && "$ROOT/devtools/vm/run.sh" --timeout "${RZB_VM_TIMEOUT:-5400}" -- \
        "$HERE/driver.sh" "$BENCH" "$WORK") || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "perf/rdma/run.sh: the driver failed in the VM lane (status $rc; 125: lane did" \
            "not start, 124: timeout); raw output kept in $RESULTS/rdma-raw.txt" >&2
        [ -f "$WORK/rdma-raw.log" ] && cp "$WORK/rdma-raw.log" "$RESULTS/rdma-raw.txt"
        exit 1
    fi
fi

# --- report -----------------------------------------------------------------------------------
{
    echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), rzone $REV"
    echo "# built from: $SRC_DESC; ran $WHERE in $((SECONDS - t0)) s"
    cat "$WORK/rdma-facts.txt"
} > "$WORK/facts"
mv "$WORK/facts" "$WORK/rdma-facts.txt"
"$HERE/report.sh" "$WORK/rdma-facts.txt" "$WORK" > /dev/null
for f in rdma-bw.txt rdma-lat.txt rdma-grant.txt rdma-reg.txt; do
    { sed -n '1,2p' "$WORK/rdma-facts.txt"; cat "$WORK/$f"; } > "$RESULTS/$f"
done
cp "$WORK/rdma-facts.txt" "$RESULTS/rdma-facts.txt"
cp "$WORK/rdma-raw.log" "$RESULTS/rdma-raw.txt"
cp "$WORK/rdma-bw.dat" "$RESULTS/rdma-bw.dat"

# No bandwidth figures (a partial run without bw): no plot.
if ! grep -qE '^[0-9]' "$RESULTS/rdma-bw.dat" 2>/dev/null; then
    cat "$RESULTS"/rdma-*.txt 2>/dev/null | grep -v '^#' || true
    exit 0
fi
dev=$(awk '$1 == "env" && $2 == "device" { print $3; exit }' "$RESULTS/rdma-facts.txt")
gnuplot <<EOF
set terminal pngcairo size 1000,900 font "DejaVu Sans,11"
set output "$RESULTS/rdma-bw.png"
set datafile missing "?"
set multiplot layout 2,1 title "rzone vs perftest and raw verbs, RDMA bandwidth by message size: ${dev:-?} (Soft-RoCE) in a QEMU TCG guest,\\nqueue depth ${RZB_DEPTH:-128}, best of ${RZB_ROUNDS:-3} rounds; absolute MiB/s mean little under TCG, compare the curves"
set logscale x 2
set xtics ("64" 64, "256" 256, "1K" 1024, "4K" 4096, "16K" 16384, "64K" 65536, "256K" 262144, "1M" 1048576)
set xlabel "message size (bytes)"
set ylabel "MiB/s"
set grid
set key top left
set yrange [0:*]
set xrange [48:1400000]
set title "RDMA WRITE"
plot "$RESULTS/rdma-bw.dat" using 1:2 with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "perftest ib\\\_write\\\_bw", \\
     "" using 1:3 with linespoints lw 2 pt 5 dt 2 lc rgb "#ff7f0e" title "rzone: rz\\\_remote\\\_post/poll (write)", \\
     "" using 1:6 with linespoints lw 1 pt 9 dt 3 lc rgb "#2ca02c" title "raw verbs, same process (write)"
set title "RDMA READ"
plot "$RESULTS/rdma-bw.dat" using 1:4 with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "perftest ib\\\_read\\\_bw", \\
     "" using 1:5 with linespoints lw 2 pt 5 dt 2 lc rgb "#ff7f0e" title "rzone: rz\\\_remote\\\_post/poll (read)", \\
     "" using 1:7 with linespoints lw 1 pt 9 dt 3 lc rgb "#2ca02c" title "raw verbs, same process (read)"
unset multiplot
EOF
cat "$RESULTS/rdma-bw.txt" "$RESULTS/rdma-lat.txt" "$RESULTS/rdma-grant.txt" "$RESULTS/rdma-reg.txt"
echo "plot: $RESULTS/rdma-bw.png"
