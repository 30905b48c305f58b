#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# Runs on each of the two hosts of perf/rdma/wire.sh (two guests of devtools/vm/pair.sh, or two
# machines with RDMA devices): the same list of steps on both, in the same order. Host A is
# the passive side of every step (perftest's server; rzone's owner, which grants a region), host
# B the active one (perftest's client; rzone's peer, which drives the transfers through the
# grant), so each pair of figures moves the same bytes the same way over the same wire:
#
#   bw   ib_write_bw -R (rdma_cm) vs rz-bench-rdma bw write (rz_remote_post/poll through a
#        Share window): same message size, iterations and queue depth (-t / DEPTH), -q 1, every
#        operation signaled, one run each back to back (which goes first alternates)
#   lat  ib_write_lat -R (half a write ping-pong) vs rz-bench-rdma pp (a write ping-pong in
#        which each side answers with a sync rz_remote_write through the other's window,
#        halved): same size and iterations
#
# Phase 1 on a clean wire, phase 2 with "tc qdisc add dev eth0 root netem loss LOSS" on both
# hosts' eth0 (so LOSS each way). The hosts step together through files in OUTDIR (a directory
# both see: the VM lane's guests share the host's filesystem over 9p): A starts its side of
# step N and writes ready.N.TRY; B runs its side and writes done.N.TRY ("ok"; "retry": perftest's
# clock calibration or its connection failed, up to 3 tries; or "fail"). Each side appends its facts to OUTDIR/facts.ROLE and the
# full output of every command to OUTDIR/raw.ROLE. Every wait is bounded.
#
# Usage: wire_driver.sh A|B BENCH OUTDIR
#
# Environment: RZ_WIRE_SELF, RZ_WIRE_OTHER (the hosts' addresses: set by pair.sh), RZ_RDMA_DEV
# [rxe0], RZW_DEPTH [128], RZW_BW_SIZES ["4096 65536"], RZW_LAT_SIZES ["8 64"], RZW_BUDGET
# [16777216 bytes per bandwidth run], RZW_LOSS_BUDGET [2097152], RZW_LAT_ITERS [1000],
# RZW_LOSS_LAT_ITERS [500], RZW_LOSS ["1%"], RZW_STEP_TIMEOUT [900 s per step]

set -uo pipefail

ROLE=$1
BENCH=$2
OUT=$3
DEV=${RZ_RDMA_DEV:-rxe0}
SELF=${RZ_WIRE_SELF:?RZ_WIRE_SELF: this host\'s address}
OTHER=${RZ_WIRE_OTHER:?RZ_WIRE_OTHER: the other host\'s address}
DEPTH=${RZW_DEPTH:-128}
BW_SIZES=${RZW_BW_SIZES:-4096 65536}
LAT_SIZES=${RZW_LAT_SIZES:-8 64}
BUDGET=${RZW_BUDGET:-16777216}
LOSS_BUDGET=${RZW_LOSS_BUDGET:-2097152}
LAT_IT=${RZW_LAT_ITERS:-1000}
LOSS_LAT_IT=${RZW_LOSS_LAT_ITERS:-500}
LOSS=${RZW_LOSS:-1%}
STEP_TMO=${RZW_STEP_TIMEOUT:-900}
FACTS=$OUT/facts.$ROLE
RAW=$OUT/raw.$ROLE
# A has the address the active side connects to.
if [ "$ROLE" = A ]; then A_IP=$SELF; else A_IP=$OTHER; fi
# The guests of the lane have one CPU: EAL on CPU 0.
export RZB_OWNER_LCORE=${RZB_OWNER_LCORE:-0} RZB_PEER_LCORE=${RZB_PEER_LCORE:-0}
export RZ_RDMA_DEV=$DEV

log() { echo "wire_driver $ROLE: $*" >&2; }
fact() { echo "$*" >> "$FACTS"; }

# wait_file FILE SECONDS: 0 once FILE exists.
wait_file() {
    local f=$1 end=$((SECONDS + $2))
    while [ ! -e "$f" ]; do
        [ "$SECONDS" -lt "$end" ] || return 1
        sleep 0.2
    done
}

# wait_line FILE PATTERN PID SECONDS: 0 once FILE has a line matching PATTERN; 1 if PID died
# or the time passed.
wait_line() {
    local f=$1 pat=$2 pid=$3 end=$((SECONDS + $4))
    until grep -q -- "$pat" "$f" 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || return 1
        [ "$SECONDS" -lt "$end" ] || return 1
        sleep 0.1
    done
}

netem() {
    if [ "$1" = on ]; then
        tc qdisc add dev eth0 root netem loss "$LOSS" && log "netem loss $LOSS on eth0"
    else
        tc qdisc del dev eth0 root 2>/dev/null || true
    fi
}
trap 'netem off' EXIT

# The steps, one a line: N PHASE KIND TOOL SIZE ITERS DEPTH. The same on both hosts.
steps() {
    local n=0 phase budget lat_it s it d order i=0 who
    for phase in clean loss; do
        budget=$BUDGET
        lat_it=$LAT_IT
        if [ "$phase" = loss ]; then budget=$LOSS_BUDGET; lat_it=$LOSS_LAT_IT; fi
        for s in $BW_SIZES; do
            it=$((budget / s))
            [ "$it" -le 5000 ] || it=5000
            [ "$it" -ge 16 ] || it=16
            d=$DEPTH
            [ "$d" -le "$it" ] || d=$it
            order="perftest rzone"
            [ $((i % 2)) -eq 1 ] && order="rzone perftest"
            i=$((i + 1))
            for who in $order; do
                n=$((n + 1))
                echo "$n $phase bw $who $s $it $d"
            done
        done
        for s in $LAT_SIZES; do
            order="perftest rzone"
            [ $((i % 2)) -eq 1 ] && order="rzone perftest"
            i=$((i + 1))
            for who in $order; do
                n=$((n + 1))
                echo "$n $phase lat $who $s $lat_it 1"
            done
        done
    done
}

# The result row of a perftest report: the first line after the "#bytes" header.
perftest_row() { awk '/#bytes/ { h = 1; next } h && $1 ~ /^[0-9]+$/ { print; exit }'; }

# perftest's command line for a step (server: no address; client: A's).
perftest_cmd() {
    local kind=$1 s=$2 it=$3 d=$4 port=$5
    if [ "$kind" = bw ]; then
        echo "ib_write_bw -R -d $DEV -p $port -s $s -n $it -t $d -q 1"
    else
        echo "ib_write_lat -R -d $DEV -p $port -s $s -n $it"
    fi
}

# Host A: the passive side of step N, try T. Its status.
side_a() {
    local n=$1 phase=$2 kind=$3 who=$4 s=$5 it=$6 d=$7 t=$8 port=$((18800 + 4 * $1 + $8)) o pid
    local rc=0
    o=$OUT/a.$n.$t.out
    if [ "$who" = perftest ]; then
        # shellcheck disable=SC2046  # (word splitting wanted)
        /usr/bin/time -f "cpu %U %S wall %e" -o "$o.time" \
            stdbuf -oL -eL $(perftest_cmd "$kind" "$s" "$it" "$d" "$port") > "$o" 2>&1 &
        pid=$!
        # With -R its rdma_cm listener comes seconds after "Waiting for client to connect"
        # under TCG (a client before it is rejected, and a second try can hang): wait until
        # the device lists the listening cm_id ("rdma resource show cm_id").
        wait_line "$o" "Waiting for client to connect" "$pid" 120 ||
            { log "step $n: perftest server did not start"; cat "$o" >&2; }
        local end=$((SECONDS + 120))
        until rdma resource show cm_id 2>/dev/null | grep "LISTEN" | grep -q ":$port\b"; do
            if [ "$SECONDS" -ge "$end" ] || ! kill -0 "$pid" 2>/dev/null; then
                log "step $n: no rdma_cm listener on port $port seen"
                rdma resource show cm_id >&2
                break
            fi
            sleep 0.2
        done
    else
        local mode=pp args="$s:$it"
        [ "$kind" = bw ] && mode=bw args="write $d $s:$it"
        # shellcheck disable=SC2086
        RZB_REMOTE_PEER=1 RZB_IP=$SELF RZB_PORT=$port /usr/bin/time -f "cpu %U %S wall %e" \
            -o "$o.time" "$BENCH" $mode $args > "$o" 2>&1 &
        pid=$!
        wait_line "$o" "^rzlisten" "$pid" 120 || { log "step $n: rz-bench-rdma did not listen"; cat "$o" >&2; }
    fi
    echo "$port" > "$OUT/ready.$n.$t"
    # B's side ends first; A's follows (a server whose client never came is killed).
    wait_file "$OUT/done.$n.$t" "$STEP_TMO" || log "step $n: no word from B in $STEP_TMO s"
    local end=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$end" ]; do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
        log "step $n: A's side still runs after B's ended: killing it"
        kill "$pid" 2>/dev/null
    fi
    wait "$pid" || rc=$?
    { echo "== A step $n try $t: $who $kind $s x $it depth $d (status $rc)"; cat "$o"; } >> "$RAW"
    # What the passive side cost A's one CPU (user, system seconds; its whole life).
    [ "$(cat "$OUT/done.$n.$t" 2>/dev/null)" != ok ] ||
        fact "$phase $kind $who $s a_side $(tail -1 "$o.time" 2>/dev/null)"
    return "$rc"
}

# Host B: the active side; writes done.N.T. 0 ok, 2 retry, 1 failed.
side_b() {
    local n=$1 phase=$2 kind=$3 who=$4 s=$5 it=$6 d=$7 t=$8 o port rc=0 row verdict=ok t0
    o=$OUT/b.$n.$t.out
    wait_file "$OUT/ready.$n.$t" "$STEP_TMO" || { log "step $n: A never got ready"; return 1; }
    port=$(cat "$OUT/ready.$n.$t")
    t0=$(date +%s.%N)
    if [ "$who" = perftest ]; then
        local c cpid start
        # Rejected: the server's rdma_cm listener was not up yet (or the request was lost):
        # again. A client not connected within 90 s is stopped (the step is then tried again
        # from the start, with a new server).
        for c in 1 2 3 4 5; do
            rc=0
            # shellcheck disable=SC2046
            $(perftest_cmd "$kind" "$s" "$it" "$d" "$port") "$A_IP" > "$o" 2>&1 &
            cpid=$!
            start=$SECONDS
            while kill -0 "$cpid" 2>/dev/null; do
                if { ! grep -q "remote address" "$o" && [ $((SECONDS - start)) -ge 90 ]; } ||
                    [ $((SECONDS - start)) -ge "$STEP_TMO" ]; then
                    echo "== B step $n: perftest's client stopped (not connected in 90 s," \
                        "or over the step's time)" >> "$RAW"
                    kill "$cpid" 2>/dev/null
                    break
                fi
                sleep 0.2
            done
            wait "$cpid" || rc=$?
            [ "$rc" -ne 0 ] && grep -q "RDMA_CM_EVENT_REJECTED" "$o" || break
            echo "== B step $n: perftest's connection rejected (attempt $c): again" >> "$RAW"
            sleep 2
        done
    else
        local mode=pp args="$s:$it"
        [ "$kind" = bw ] && mode=bw args="write $d $s:$it"
        # shellcheck disable=SC2086
        RZB_REMOTE_OWNER=1 RZB_NO_RAW=1 RZB_BW_INTERLEAVE=1 timeout "$STEP_TMO" \
            "$BENCH" --peer $mode "$A_IP" "$port" $args > "$o" 2>&1 || rc=$?
    fi
    local secs
    secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    { echo "== B step $n try $t: $who $kind $s x $it depth $d (status $rc, $secs s)"; cat "$o"; } >> "$RAW"
    if [ "$rc" -ne 0 ] && [ "$who" = perftest ]; then
        # A connection refused or lost on the way (rdma_cm under loss): try again.
        verdict=retry
    elif [ "$rc" -ne 0 ]; then
        verdict=fail
    elif [ "$who" = perftest ]; then
        row=$(perftest_row < "$o")
        if grep -q -e "Correlation coefficient" -e "differs from nominal" "$o" ||
            [ "$(awk '{ print ($4 + 0 > 0 || $5 + 0 > 0) }' <<< "$row")" != 1 ]; then
            verdict=retry
        elif [ "$kind" = bw ]; then
            # bytes iters peak avg(MiB/s: perftest 4.5's MB is 2^20) msgrate
            fact "$phase bw perftest $s iters $it depth $d mib_s $(awk '{ print $4 }' <<< "$row") sec $secs"
        else
            # bytes iters t_min t_max t_typical t_avg t_stdev p99 p99.9 (us)
            fact "$phase lat perftest $s iters $it p50 $(awk '{ print $5 }' <<< "$row") p99 $(awk '{ print $8 }' <<< "$row") mean $(awk '{ print $6 }' <<< "$row") sec $secs"
        fi
    elif [ "$kind" = bw ]; then
        row=$(awk '$1 == "rzbw" { print $11; exit }' "$o")
        [ -n "$row" ] || verdict=fail
        fact "$phase bw rzone $s iters $it depth $d mib_s $row sec $secs"
    else
        row=$(awk '$1 == "rzpp" { print $11, $13, $17; exit }' "$o")
        [ -n "$row" ] || verdict=fail
        read -r p50 p99 mean <<< "$row"
        fact "$phase lat rzone $s iters $it p50 $p50 p99 $p99 mean $mean sec $secs"
    fi
    echo "$verdict" > "$OUT/done.$n.$t"
    case $verdict in ok) return 0 ;; retry) return 2 ;; *) return 1 ;; esac
}

failed=0
if [ "$ROLE" = B ]; then
    fact "env device $DEV fw $(cat "/sys/class/infiniband/$DEV/fw_ver" 2>/dev/null || echo '?') active_mtu $(ibv_devinfo -d "$DEV" 2>/dev/null | awk '$1 == "active_mtu:" { print $2; exit }') kernel $(uname -r) perftest $(dpkg-query -W -f='${Version}' perftest 2>/dev/null || echo '?') cpus $(nproc)"
    fact "env hosts A $A_IP B $SELF depth $DEPTH budget $BUDGET loss_budget $LOSS_BUDGET lat_iters $LAT_IT loss_lat_iters $LOSS_LAT_IT loss $LOSS"
fi
phase_now=clean
while read -r n phase kind who s it d; do
    if [ "$phase" != "$phase_now" ]; then
        phase_now=$phase
        netem on || { log "cannot add netem"; failed=1; break; }
    fi
    log "step $n ($phase): $who $kind, $s bytes x $it, depth $d"
    for t in 1 2 3; do
        if [ "$ROLE" = A ]; then
            side_a "$n" "$phase" "$kind" "$who" "$s" "$it" "$d" "$t"
            v=$(cat "$OUT/done.$n.$t" 2>/dev/null || echo fail)
        else
            side_b "$n" "$phase" "$kind" "$who" "$s" "$it" "$d" "$t"
            v=$(cat "$OUT/done.$n.$t" 2>/dev/null || echo fail)
        fi
        [ "$v" = retry ] || break
        log "step $n: perftest failed (its clock calibration, or its connection): again"
    done
    if [ "$v" != ok ]; then
        log "step $n FAILED ($v)"
        [ "$ROLE" = B ] && fact "$phase $kind $who $s failed"
        failed=1
    fi
done < <(steps)
netem off
log "done (failed=$failed)"
exit "$failed"
