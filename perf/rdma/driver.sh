#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# Runs inside the RDMA host (the Soft-RoCE VM guest, started once by perf/rdma/run.sh): every
# rzone RDMA benchmark and its perftest baseline, interleaved round by round on the same device
# with the same sizes, queue depth and iterations. Appends normalised result lines to
# OUTDIR/rdma-facts.txt and the raw output of every command to OUTDIR/rdma-raw.log; then
# perf/rdma/report.sh turns the facts into the tables.
#
# Usage: driver.sh BENCH_BINARY OUTDIR
#
# Environment (defaults in brackets):
#   RZ_RDMA_DEV [rxe0]  RZB_IP [10.0.2.15]  RZB_ROUNDS [3]  RZB_DEPTH [128]
#   RZB_BW_BUDGET bytes per bandwidth run and size [33554432]; iterations are budget/size,
#       clamped to [RZB_BW_MIN_ITERS (2 x depth), RZB_BW_MAX_ITERS (5000, perftest's default)]
#   RZB_LAT_ITERS [1000, perftest's default]  RZB_GRANT_ITERS [200]  RZB_REG_ARENAS [6]
#   RZB_ONLY  space-separated subset of: bw lat pp grant reg   [all]
#   RZB_BW_INTERLEAVE [3]: pairs of interleaved runs (raw verbs, rzone) per size in bw
#   RZB_BW_SIGNAL [1]: completion moderation of bw, both rzone (RZ_REMOTE_F_UNSIGNALED) and raw
#       verbs: one operation in N signaled (1..64)

set -euo pipefail

BENCH=$1
OUT=$2
DEV=${RZ_RDMA_DEV:-rxe0}
IP=${RZB_IP:-10.0.2.15}
ROUNDS=${RZB_ROUNDS:-3}
DEPTH=${RZB_DEPTH:-128}
BUDGET=${RZB_BW_BUDGET:-33554432}
MIN_IT=${RZB_BW_MIN_ITERS:-$((2 * DEPTH))}
MAX_IT=${RZB_BW_MAX_ITERS:-5000}
LAT_IT=${RZB_LAT_ITERS:-1000}
GRANT_IT=${RZB_GRANT_ITERS:-200}
REG_ARENAS=${RZB_REG_ARENAS:-6}
ONLY=${RZB_ONLY:-bw lat pp grant reg}
export RZ_RDMA_DEV=$DEV RZB_IP=$IP

FACTS=$OUT/rdma-facts.txt
RAW=$OUT/rdma-raw.log
SRV_OUT=$(mktemp /tmp/rzb-perftest-srv.XXXXXX)
PORT_FILE=$(mktemp /tmp/rzb-perftest-port.XXXXXX)
echo 18700 > "$PORT_FILE"
trap 'rm -f "$SRV_OUT" "$PORT_FILE"' EXIT

log() { echo "driver: $*" >&2; }
want() { [[ " $ONLY " == *" $1 "* ]]; }
fact() { echo "$*" >> "$FACTS"; }

# The RoCE v2 GID of the IPv4 address (what rdma_cm, hence rzone, uses).
gid_index() {
    local d=/sys/class/infiniband/$DEV/ports/1 i
    for i in $(seq 0 15); do
        [ -r "$d/gids/$i" ] || continue
        if [ "$(cat "$d/gid_attrs/types/$i" 2>/dev/null)" = "RoCE v2" ] &&
           [[ $(cat "$d/gids/$i") == 0000:0000:0000:0000:0000:ffff:* ]]; then
            echo "$i"
            return
        fi
    done
    echo 1
}
GID=$(gid_index)
export RZB_GID_INDEX=$GID

# perftest TOOL ARGS...: server in the background, client to $IP; prints the client's output.
# perftest converts cycles with the "cpu MHz" of /proc/cpuinfo after checking it against a
# sampled rate; under TCG the sampling sometimes fails (r^2 < 0.9: every figure is 0) or
# disagrees (it then uses the noisy sample). Such runs are logged and repeated, up to 3 times.
perftest() {
    local out attempt
    for attempt in 1 2 3; do
        if ! out=$(perftest_once "$@"); then
            fact "perftest_connect_retry $*"
            continue
        fi
        if ! grep -q -e "Correlation coefficient" -e "differs from nominal" <<< "$out" &&
           [ "$(perftest_row <<< "$out" | awk '{ print ($4 + 0 > 0 || $5 + 0 > 0) }')" = 1 ]; then
            echo "$out"
            return 0
        fi
        echo "== (the run above is discarded: perftest's clock calibration failed, attempt $attempt)" >> "$RAW"
        fact "perftest_clock_retry $1 $*"
    done
    [ -n "$out" ] || return 1
    echo "$out"
}

perftest_once() {
    local tool=$1 out i port
    shift
    # A fresh port each run (this runs in a subshell: the counter lives in a file).
    port=$(($(cat "$PORT_FILE") + 1))
    echo "$port" > "$PORT_FILE"
    rm -f "$SRV_OUT"
    # Line-buffered, so that "Waiting for client" shows as soon as the server listens.
    stdbuf -oL -eL "$tool" -d "$DEV" -x "$GID" -p "$port" "$@" > "$SRV_OUT" 2>&1 &
    local spid=$!
    for i in $(seq 1 600); do
        grep -q "Waiting for client" "$SRV_OUT" 2>/dev/null && break
        sleep 0.05
    done
    if ! out=$("$tool" -d "$DEV" -x "$GID" -p "$port" "$@" "$IP" 2>&1); then
        { echo "== $tool $* (client FAILED)"; echo "$out"; cat "$SRV_OUT"; } >> "$RAW"
        kill "$spid" 2>/dev/null || true    # a server nobody reached would wait for ever
        wait "$spid" || true
        return 1
    fi
    wait "$spid" || true
    { echo "== $tool $*"; echo "$out"; } >> "$RAW"
    echo "$out"
}

# The result row of a perftest report: the first line after the "#bytes" header.
perftest_row() { awk '/#bytes/ { h = 1; next } h && $1 ~ /^[0-9]+$/ { print; exit }'; }

rz() {
    local out
    if ! out=$("$BENCH" "$@" 2>&1); then
        { echo "== rz-bench-rdma $* (FAILED)"; echo "$out"; } >> "$RAW"
        echo "$out" >&2
        return 1
    fi
    { echo "== rz-bench-rdma $*"; echo "$out"; } >> "$RAW"
    echo "$out"
}

# The raw-verbs QP of bw/lat, as the benchmark reports it: once per distinct shape.
raw_qp_fact() {
    local line
    line=$(awk '$1 == "rawqp" { $1 = "env raw_qp"; print; exit }' <<< "$1")
    [ -z "$line" ] || grep -qxF -- "$line" "$FACTS" || fact "$line"
}

bw_iters() {
    local it=$(($1 > 0 ? BUDGET / $1 : MAX_IT))
    [ "$it" -ge "$MIN_IT" ] || it=$MIN_IT
    [ "$it" -le "$MAX_IT" ] || it=$MAX_IT
    echo "$it"
}

run_bw() {
    # Size by size, rzone and perftest back to back (which goes first alternates with the size
    # and the round): the two runs compared are seconds apart, not minutes, so the drift of a
    # TCG guest falls on both.
    local round=$1 op=$2 s it out row order i=0
    for ((s = 64; s <= 1048576; s *= 2)); do
        it=$(bw_iters "$s")
        order="rz perftest"
        [ $(((round + i) % 2)) -eq 0 ] && order="perftest rz"
        i=$((i + 1))
        for who in $order; do
            if [ "$who" = rz ]; then
                out=$(rz bw "$op" "$DEPTH" "$s:$it") || return 1
                # Every run of the interleaved pairs (rzone and raw verbs, same process) is a
                # "bwi" fact; the rzone run of pair 1 stands for the round in the perftest
                # comparison (one run per round and size, as perftest's).
                echo "$out" | awk -v r="$round" '
                    $1 == "rzbw" && $17 == 1 {
                        print "bw rzone", $3, $5, "round", r, "iters", $7, "mib_s", $11 }
                    $1 == "rzbw" || $1 == "rawbw" {
                        print "bwi", ($1 == "rzbw" ? "rzone" : "raw"), $3, $5, "round", r,
                            "pair", $17, "iters", $7, "mib_s", $11, "first", $19 }' >> "$FACTS"
                raw_qp_fact "$out"
            else
                row=$(perftest "ib_${op}_bw" -s "$s" -n "$it" -t "$DEPTH" -q 1 |
                    perftest_row) || { fact "perftest_failed bw $op $s"; continue; }
                # BW average is MiB/s in perftest 4.5 (its MB is 2^20 bytes).
                echo "$row" | awk -v r="$round" -v op="$op" '{
                    print "bw perftest", op, $1, "round", r, "iters", $2, "mib_s", $4 }' >> "$FACTS"
            fi
        done
    done
}

run_lat() {
    local round=$1 op=$2 s list=() out row order
    for s in 8 16 32 64; do list+=("$s:$LAT_IT"); done
    order="rz perftest"
    [ $((round % 2)) -eq 0 ] && order="perftest rz"
    for who in $order; do
        if [ "$who" = rz ]; then
            out=$(rz lat "$op" "${list[@]}") || return 1
            # rawlat: raw verbs in the same process, sample by sample interleaved with rzone's.
            # rawmwlat: the same raw verbs through a memory window bound on the raw QP.
            # rawrzqplat: raw verbs posted on rzone's own QP with the descriptor's rkey.
            echo "$out" | awk -v r="$round" '$1 ~ /^(rzlat|rawlat|rawmwlat|rawrzqplat)$/ {
                who = $1 == "rzlat" ? "rzone" : $1 == "rawlat" ? "raw" : $1 == "rawmwlat" ? "rawmw" : "rawrzqp"
                print "lat", who, $3, $5,
                    "round", r, "p50", $11,
                    "p99", $13, "mean", $17 }' >> "$FACTS"
            raw_qp_fact "$out"
        else
            for s in "${list[@]}"; do
                row=$(perftest "ib_${op}_lat" -s "${s%%:*}" -n "${s##*:}" | perftest_row) ||
                    { fact "perftest_failed lat $op $s"; continue; }
                # bytes iters t_min t_max t_typical t_avg t_stdev p99 p99.9
                echo "$row" | awk -v r="$round" -v op="$op" '{
                    print "lat perftest", op, $1, "round", r, "p50", $5, "p99", $8, "mean", $6 }' >> "$FACTS"
            done
        fi
    done
}

# Write ping-pong through rzone (both sides sync rz_remote_write), half round trip: the same
# quantity ib_write_lat reports. Its perftest counterpart is the "lat perftest write" row.
run_pp() {
    local round=$1 s list=() out
    for s in 8 16 32 64; do list+=("$s:$LAT_IT"); done
    out=$(rz pp "${list[@]}") || return 1
    echo "$out" | awk -v r="$round" '$1 == "rzpp" {
        print "pp rzone write", $5, "round", r, "p50", $11, "p99", $13, "mean", $17 }' >> "$FACTS"
}

log "device $DEV, GID index $GID, $ROUNDS rounds, depth $DEPTH"
fact "env device $DEV gid $GID rounds $ROUNDS depth $DEPTH lat_iters $LAT_IT grant_iters $GRANT_IT bw_interleave ${RZB_BW_INTERLEAVE:-3} bw_signal ${RZB_BW_SIGNAL:-1}"
fact "env kernel $(uname -r) perftest $(dpkg-query -W -f='${Version}' perftest 2>/dev/null || echo '?')"
fact "env fw $(cat "/sys/class/infiniband/$DEV/fw_ver" 2>/dev/null || echo '?') node_type $(cat "/sys/class/infiniband/$DEV/node_type" 2>/dev/null || echo '?') cpus $(nproc)"
"$BENCH" reg 1 1 2>/dev/null | awk '$1 == "rzenv" { print "env tsc_mhz", $7, "cpuinfo_mhz", $9 }' >> "$FACTS" || true

for ((r = 1; r <= ROUNDS; r++)); do
    if want bw; then
        for op in write read; do
            log "round $r: bandwidth, $op"
            run_bw "$r" "$op"
        done
    fi
    if want lat; then
        for op in write read; do
            log "round $r: latency, $op"
            run_lat "$r" "$op"
        done
    fi
    if want pp; then
        log "round $r: write ping-pong through rzone"
        run_pp "$r"
    fi
done

if want grant; then
    log "grant + revoke vs reg + dereg (${GRANT_IT} iterations per size)"
    out=$(rz grant "$GRANT_IT" 2097152 67108864)
    echo "$out" | awk '$1 == "rzgrant" { $1 = "grant_" $7; print }' >> "$FACTS"
    out=$(rz mwfloor "$GRANT_IT" 2097152 67108864)
    echo "$out" | awk '$1 == "rzmw" { $1 = "mwfloor"; print }' >> "$FACTS"
    out=$(RZ_RDMA_EXACT_MR=0 rz grant "$((GRANT_IT / 2 > 0 ? GRANT_IT / 2 : 1))" 2097152)
    echo "$out" | awk '$1 == "rzgrant" { $1 = "grant_env0_" $7; print }' >> "$FACTS"
    echo "$out" | grep -m1 'quirks' | sed 's/^/quirk_env0 /' >> "$FACTS" || true
fi

if want reg; then
    log "arena registration: ibv_reg_mr vs rz_rdma_register cold/warm ($REG_ARENAS arenas)"
    out=$(rz reg "$REG_ARENAS" 1000)
    echo "$out" | awk '$1 == "rzreg" || $1 == "rzregsum" { sub(/^rz/, "", $1); print }' >> "$FACTS"
fi
log "done"
