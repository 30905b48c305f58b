#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# Bandwidth and latency through rzone across a wire vs perftest across the same wire, on a
# clean wire and with packet loss, all in one run: two guests of the VM lane on one virtual
# wire booted once (devtools/vm/pair.sh; host A 10.0.2.15, host B 10.0.2.16, rxe0 each), or
# natively between two hosts with RDMA devices. perf/rdma/wire_driver.sh runs on both and
# says what is compared with what. Results: perf/results/wire.txt (the table: device, both
# figures side by side, the ratios), wire-facts.txt (every figure), wire-raw.txt (every
# command's output, both hosts).
#
#   perf/rdma/wire.sh [--quick]
#
#   --quick   fewer iterations (a smoke run of a few minutes)
#
# Natively: set RZ_WIRE_SELF and RZ_WIRE_OTHER, and run
#   perf/rdma/wire_driver.sh B BENCH OUTDIR   on the other host (RZ_WIRE_SELF/OTHER swapped,
# OUTDIR a directory both hosts see, e.g. over NFS); this host is A.
#
# Environment: RZ_BUILD_DIR (a configured build directory with -Dperf=true; default
# <repo>/build-wire-perf, set up if missing), RZW_VM_TIMEOUT (seconds, default 3600), and the
# RZW_* knobs of wire_driver.sh (sizes, iterations, depth, loss).

set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RESULTS=$ROOT/perf/results

for arg in "$@"; do
    case $arg in
        --quick)
            export RZW_BUDGET=${RZW_BUDGET:-2097152} RZW_LOSS_BUDGET=${RZW_LOSS_BUDGET:-524288}
            export RZW_LAT_ITERS=${RZW_LAT_ITERS:-200} RZW_LOSS_LAT_ITERS=${RZW_LOSS_LAT_ITERS:-100}
            export RZW_LAT_SIZES=${RZW_LAT_SIZES:-64} RZW_BW_SIZES=${RZW_BW_SIZES:-65536} ;;
        -h|--help) sed -n '4,24p' "$0"; exit 0 ;;
        *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done
if [ "$(id -u)" -ne 0 ]; then
    echo "perf/rdma/wire.sh: needs root (hugepages, RDMA, the VM lane)" >&2
    exit 1
fi

# --- build ------------------------------------------------------------------------------------
REV="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(
    git -C "$ROOT" diff --quiet HEAD -- lib include drivers perf 2>/dev/null ||
    echo ' + uncommitted changes')"
BUILD=${RZ_BUILD_DIR:-$ROOT/build-wire-perf}
[ -f "$BUILD/build.ninja" ] ||
    meson setup "$BUILD" "$ROOT" -Dtests=false -Dperf=true -Dwerror=true >/dev/null
ninja -C "$BUILD" -j2 perf/rdma/rz-bench-rdma >/dev/null
BENCH=$BUILD/perf/rdma/rz-bench-rdma

# --- run: the pair booted once (or natively) ---------------------------------------------------
mkdir -p "$RESULTS"
WORK=$(mktemp -d "$RESULTS/.wire-run.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
t0=$SECONDS
rc=0
if [ -n "${RZ_WIRE_SELF:-}" ] && [ -n "${RZ_WIRE_OTHER:-}" ]; then
    WHERE="natively, $RZ_WIRE_SELF (A) and $RZ_WIRE_OTHER (B)"
    echo "perf/rdma/wire.sh: this host is A; on $RZ_WIRE_OTHER run:" \
        "perf/rdma/wire_driver.sh B $BENCH $WORK"
    "$HERE/wire_driver.sh" A "$BENCH" "$WORK" || rc=$?
else
    WHERE="two QEMU TCG guests on one virtual wire (devtools/vm/pair.sh), booted once"
    RZ_VM_PASSENV="${RZ_VM_PASSENV:-} $({ compgen -v | grep -E '^RZ[BW]_' || true; } | tr '\n' ' ')"
    export RZ_VM_PASSENV
    (cd "$ROOT" && "$ROOT/devtools/vm/pair.sh" --timeout "${RZW_VM_TIMEOUT:-3600}" --grace 60 \
        "$(printf '%q ' "$HERE/wire_driver.sh" A "$BENCH" "$WORK")" \
        "$(printf '%q ' "$HERE/wire_driver.sh" B "$BENCH" "$WORK")") || rc=$?
fi
{
    echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), rzone $REV; ran $WHERE in $((SECONDS - t0)) s"
    cat "$WORK/facts.B" 2>/dev/null || true
    cat "$WORK/facts.A" 2>/dev/null || true
} > "$RESULTS/wire-facts.txt"
cat "$WORK/raw.A" "$WORK/raw.B" > "$RESULTS/wire-raw.txt" 2>/dev/null || true
if [ "$rc" -ne 0 ]; then
    echo "perf/rdma/wire.sh: FAILED (status $rc; 125: the lane did not start, 124: timeout);" \
        "what ran: $RESULTS/wire-facts.txt, $RESULTS/wire-raw.txt" >&2
    exit 1
fi

# --- report -----------------------------------------------------------------------------------
awk '
    $1 == "#" { print; next }
    $1 == "env" { print "# " $0; next }
    $5 == "a_side" { cpu[$1, $2, $4, $3] = sprintf("%.1f", $7 + $8); wall[$1, $2, $4, $3] = $10
        next }
    $2 == "bw" { bw[$1, $4, $3] = $10; it[$1, "bw", $4] = $6 " x, depth " $8
        if (!(("bw", $4) in sz)) { sz["bw", $4] = 1; order[++n] = "bw" SUBSEP $4 } }
    $2 == "lat" { p50[$1, $4, $3] = $8; p99[$1, $4, $3] = $10; it[$1, "lat", $4] = $6 " x"
        if (!(("lat", $4) in sz)) { sz["lat", $4] = 1; order[++n] = "lat" SUBSEP $4 } }
    function r(a, b) { return (a + 0 > 0 && b + 0 > 0) ? sprintf("%.3f", a / b) : "?" }
    END {
        print ""
        print "WRITE bandwidth, MiB/s (B writes into A; same size, iterations, queue depth)"
        printf "%-10s %-6s %-18s %10s %10s %12s\n", "wire", "bytes", "iterations", "perftest",
            "rzone", "rzone/perf"
        for (ph = 1; ph <= 2; ph++) {
            p = ph == 1 ? "clean" : "loss"
            for (j = 1; j <= n; j++) {
                split(order[j], kk, SUBSEP)
                if (kk[1] != "bw") continue
                s = kk[2]
                printf "%-10s %-6s %-18s %10s %10s %12s\n", p, s, it[p, "bw", s],
                    bw[p, s, "perftest"], bw[p, s, "rzone"],
                    r(bw[p, s, "rzone"], bw[p, s, "perftest"])
            }
        }
        print ""
        print "WRITE latency, half a ping-pong, us (ib_write_lat vs rzone write ping-pong)"
        printf "%-10s %-6s %-8s %10s %10s %8s %10s %10s %8s\n", "wire", "bytes", "iters",
            "perf p50", "rz p50", "ratio", "perf p99", "rz p99", "ratio"
        for (ph = 1; ph <= 2; ph++) {
            p = ph == 1 ? "clean" : "loss"
            for (j = 1; j <= n; j++) {
                split(order[j], kk, SUBSEP)
                if (kk[1] != "lat") continue
                s = kk[2]
                printf "%-10s %-6s %-8s %10s %10s %8s %10s %10s %8s\n", p, s, it[p, "lat", s],
                    p50[p, s, "perftest"], p50[p, s, "rzone"],
                    r(p50[p, s, "rzone"], p50[p, s, "perftest"]),
                    p99[p, s, "perftest"], p99[p, s, "rzone"],
                    r(p99[p, s, "rzone"], p99[p, s, "perftest"])
            }
        }
        print ""
        print "CPU seconds (user + system) of the passive side on host A (one vCPU), of its"
        print "wall seconds (process start to exit: EAL, setup and waiting for B included)"
        printf "%-10s %-4s %-6s %16s %16s\n", "wire", "", "bytes", "perftest", "rzone"
        for (ph = 1; ph <= 2; ph++) {
            p = ph == 1 ? "clean" : "loss"
            for (j = 1; j <= n; j++) {
                split(order[j], kk, SUBSEP)
                printf "%-10s %-4s %-6s %16s %16s\n", p, kk[1], kk[2],
                    cpu[p, kk[1], kk[2], "perftest"] " of " wall[p, kk[1], kk[2], "perftest"],
                    cpu[p, kk[1], kk[2], "rzone"] " of " wall[p, kk[1], kk[2], "rzone"]
            }
        }
        print ""
        print "With loss vs clean (each tool against itself): bandwidth ratio, p50 and p99 ratio"
        for (j = 1; j <= n; j++) {
            split(order[j], kk, SUBSEP)
            s = kk[2]
            if (kk[1] == "bw")
                printf "bw  %-6s perftest %8s  rzone %8s\n", s,
                    r(bw["loss", s, "perftest"], bw["clean", s, "perftest"]),
                    r(bw["loss", s, "rzone"], bw["clean", s, "rzone"])
            else
                printf "lat %-6s perftest p50 %8s p99 %8s  rzone p50 %8s p99 %8s\n", s,
                    r(p50["loss", s, "perftest"], p50["clean", s, "perftest"]),
                    r(p99["loss", s, "perftest"], p99["clean", s, "perftest"]),
                    r(p50["loss", s, "rzone"], p50["clean", s, "rzone"]),
                    r(p99["loss", s, "rzone"], p99["clean", s, "rzone"])
        }
    }' "$RESULTS/wire-facts.txt" > "$RESULTS/wire.txt"
cat "$RESULTS/wire.txt"
