#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# Run the rzone benchmarks and keep their output in perf/results/<name>.txt.
#
#   perf/run.sh [--quick]
#
# Needs root (hugepages, /var/run/dpdk). Reserves enough 2 MiB hugepages for the 4096-region
# test (and gives the old nr_hugepages back at the end), builds the benchmarks if needed, runs
# them with a file prefix of their own, and removes their DPDK runtime files afterwards.
#
# Environment:
#   RZ_BUILD_DIR    build directory (default: <repo>/build-perf, set up with -Dtests=false so
#                   that the benchmarks build whatever state the test suites are in)
#   RZ_BENCH_PAGES  free hugepages to make sure of (default 4400)
#   RZ_BENCH_LCORE  CPU of rz-bench-region's lcore (default 0)
#   RZ_BENCH_IPC_LCORES  EAL --lcores of rz-bench-ipc (default '0@(0,1)': the lcore floats over
#                   CPUs 0 and 1, and so do DPDK's control threads; see perf/README.md)

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${RZ_BUILD_DIR:-$ROOT/build-perf}
RESULTS=$ROOT/perf/results
PAGES_NEEDED=${RZ_BENCH_PAGES:-4400}
LCORE=${RZ_BENCH_LCORE:-0}
IPC_LCORES=${RZ_BENCH_IPC_LCORES:-0@(0,1)}
NR_FILE=/proc/sys/vm/nr_hugepages
PREFIX=rzbench-$$
QUICK=

for arg in "$@"; do
    case $arg in
        --quick) QUICK=1 ;;
        -h|--help) sed -n '4,20p' "$0"; exit 0 ;;
        *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done

if [ "$(id -u)" -ne 0 ]; then
    echo "perf/run.sh: needs root (hugepages, /var/run/dpdk)" >&2
    exit 1
fi

meminfo() {
    awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo
}

if [ "$(meminfo Hugepagesize)" != 2048 ]; then
    echo "perf/run.sh: the default hugepage size is $(meminfo Hugepagesize) kB; these" \
        "benchmarks are sized for 2048 kB pages" >&2
    exit 1
fi

OLD_NR=$(cat "$NR_FILE")

cleanup() {
    local p
    for p in "$PREFIX"-region "$PREFIX"-region-sm "$PREFIX"-ipc; do
        rm -rf "/var/run/dpdk/$p"
        rm -f /dev/hugepages/"$p"*
    done
    rm -f "/dev/hugepages/$PREFIX-prefault"
    rm -f "$RESULTS"/rz-bench-*.txt.tmp
    if [ "$(cat "$NR_FILE")" != "$OLD_NR" ]; then
        echo "$OLD_NR" > "$NR_FILE" || true
        echo "nr_hugepages restored to $OLD_NR"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. Hugepages: add what is missing to the pool, whatever other processes hold.
FREE=$(meminfo HugePages_Free)
TOTAL=$(meminfo HugePages_Total)
if [ "$FREE" -lt "$PAGES_NEEDED" ]; then
    WANT=$((TOTAL + PAGES_NEEDED - FREE))
    echo "hugepages: $FREE of $TOTAL free, $PAGES_NEEDED needed: nr_hugepages $OLD_NR -> $WANT"
    echo "$WANT" > "$NR_FILE"
    FREE=$(meminfo HugePages_Free)
    if [ "$FREE" -lt "$PAGES_NEEDED" ]; then
        echo "hugepages: the kernel found only $FREE free pages; the 4096-region test will" \
            "shrink to what fits"
    fi
else
    echo "hugepages: $FREE of $TOTAL free, $PAGES_NEEDED needed"
fi

# On a virtual machine the first touch of guest memory is paid to the hypervisor (~10 ms per
# 2 MiB page here, 30x the kernel's own zeroing): touch the pool once so that neither side of
# a comparison pays it. fallocate on hugetlbfs allocates (and zeroes) real pages.
PREFAULT=$((FREE < PAGES_NEEDED ? FREE : PAGES_NEEDED))
if [ "$PREFAULT" -gt 0 ]; then
    echo "hugepages: touching $PREFAULT pages once (fallocate on /dev/hugepages)"
    fallocate -l $((PREFAULT * 2))M "/dev/hugepages/$PREFIX-prefault" 2>/dev/null || true
    rm -f "/dev/hugepages/$PREFIX-prefault"
fi

# 2. Build.
if [ ! -f "$BUILD/build.ninja" ]; then
    meson setup "$BUILD" "$ROOT" -Dwerror=true -Dtests=false -Dperf=true
fi
ninja -C "$BUILD" perf/rz-bench-region perf/rz-bench-ipc perf/rz-bench-audit

# 3. Run. Each output goes to a .tmp file, moved into place when the benchmark ends (with its
# exit status if not 0); an interrupted run leaves the previous result alone.
mkdir -p "$RESULTS"
EAL=(--no-pci --log-level=lib.eal:notice)
REGION_ARGS=()
IPC_ARGS=()
if [ -n "$QUICK" ]; then
    REGION_ARGS=(--quick)
    IPC_ARGS=(--iters 500 --warmup 50)
fi
REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$ROOT" --no-optional-locks status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    REV="$REV (with uncommitted changes)"
fi

run() {
    local name=$1
    shift
    local out="$RESULTS/$name.txt"
    echo
    echo "### $name"
    {
        echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), rzone $REV, $(uname -n)"
        echo "# $*"
        echo
        "$@" 2>&1
    } > "$out.tmp" || echo "$name exited with status $?" >> "$out.tmp"
    mv "$out.tmp" "$out"
    cat "$out"
}

run rz-bench-region "$BUILD/perf/rz-bench-region" "${EAL[@]}" -l "$LCORE" \
    --file-prefix="$PREFIX-region" -- "${REGION_ARGS[@]}"
# The create/destroy comparison again with the pages preallocated (-m/--socket-mem): DPDK then
# keeps them, and both sides pay the zeroing only.
run rz-bench-region-socket-mem "$BUILD/perf/rz-bench-region" "${EAL[@]}" -l "$LCORE" \
    --socket-mem=512 --file-prefix="$PREFIX-region-sm" -- --lifecycle-only "${REGION_ARGS[@]}"
run rz-bench-ipc "$BUILD/perf/rz-bench-ipc" "${EAL[@]}" --lcores "$IPC_LCORES" \
    --file-prefix="$PREFIX-ipc" -- "${IPC_ARGS[@]}"
run rz-bench-audit "$BUILD/perf/rz-bench-audit" "${EAL[@]}" -l "$LCORE" \
    --file-prefix="$PREFIX-audit"

echo
echo "results in $RESULTS/"
