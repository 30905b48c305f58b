#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# rzone-fwd as a user runs it: a pcap of mixed sizes (64 to 9,000 bytes, 1 in 16 a jumbo frame
# that takes five mbufs) goes from a net_pcap rx port in the primary through the rzone pool and
# the ring to the secondary, which writes it out on a net_pcap tx port; the output must be the
# input, packet for packet, in order, with 0 drops.
# Usage: run_fwd_test.sh RZONE_FWD PCAP_CMP BASE_VA CASE
#   CASE: "full"         N packets (RZ_FWD_PACKETS, default 100000), default sizes
#         "backpressure" 20,000 packets through a 64-slot ring and a 2,048-mbuf pool: the
#                        stages wait for each other (counted), nothing is lost
#         "one-lcore"    5,000 packets with -l 0: the secondary runs on the main lcore's CPU
#         "usage"        bad options: exit status 2, nothing forwarded
#         "drop"         the same with --drop-on-full and a 16-slot ring: drops are counted,
#                        reported, and the exit status says so; what came out is in order
#         "remote"       N packets (RZ_FWD_PACKETS, default 100000) through the "remote"
#                        stage: primary -> secondary -> RDMA packet channel -> a second
#                        rzone-fwd --remote-rx (a primary of its own in the same host) ->
#                        its net_pcap tx port; identical, in order, 0 drops. Needs an RDMA
#                        device: run through tests/rdma/run_rdma_test.sh (the VM lane)
#         "remote-revoke" the same, the receiver revoking the producer's grant after a third
#                        of the packets and granting anew: no corrupted packet, the only loss
#                        one contiguous gap (the cut), as many as rzone-fwd counted dropped
#         "remote-drop"  20,000 packets (paced: --rx-pps 1000) through the "remote" stage
#                        with --drop-on-full and a 16-slot channel, the receiver SIGSTOPped for 2 s mid-stream then
#                        SIGCONTed: drops happen and are counted (full_drops), the exit
#                        status is 1, the count printed equals the packets missing, and the
#                        output is the input minus exactly those, in order, every packet whole
#   CASE may be a comma-separated list ("remote,remote-drop"): the cases run one after the
#   other in this one invocation (one VM boot for all), and it fails if any of them fails.
set -euo pipefail

fwd=$1
cmp=$2
base_va=$3
case=$4
if [[ $case == *,* ]]; then
    rc=0
    IFS=, read -ra cases <<<"$case"
    for c in "${cases[@]}"; do
        echo "=== case $c"
        bash "$0" "$fwd" "$cmp" "$base_va" "$c" || { echo "FAIL: case $c (of $case)"; rc=1; }
    done
    [ "$rc" = 0 ] && echo "PASS: $case"
    exit "$rc"
fi
dir=$(mktemp -d /tmp/rzone-fwd-test.XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; [ -f "$dir/log" ] && sed 's/^/    /' "$dir/log"; exit 1; }

run_fwd() {
    (cd "$dir" && "$fwd" --no-pci "--base-virtaddr=$base_va" -l 0-1 \
        --log-level=lib.rzone:notice \
        --vdev net_pcap0,rx_pcap=in.pcap --vdev net_pcap1,tx_pcap=out.pcap -- "$@") \
        >"$dir/log" 2>&1
}
# The same under a file prefix given as $1 (EAL option).
run_fwd_prefix() {
    local prefix_arg=$1
    shift
    (cd "$dir" && "$fwd" --no-pci "--base-virtaddr=$base_va" -l 0-1 "$prefix_arg" \
        --log-level=lib.rzone:notice \
        --vdev net_pcap0,rx_pcap=in.pcap --vdev net_pcap1,tx_pcap=out.pcap -- "$@") \
        >"$dir/log" 2>&1
}
counter() { sed -n "s/^rzone-fwd: $1 *\([0-9]*\).*/\1/p" "$dir/log" | head -1; }

case "$case" in
full)
    n=${RZ_FWD_PACKETS:-100000}
    "$fwd" --gen-pcap "$dir/in.pcap" "$n" || fail "--gen-pcap"
    # With a file prefix of ours, to ask its telemetry socket while it runs.
    prefix=rzfwd-test-$$
    trap 'rm -rf "$dir" "/var/run/dpdk/$prefix" /dev/hugepages/"$prefix"map_*' EXIT
    run_fwd_prefix "--file-prefix=$prefix" --idle-ms 1000 &
    fwd_pid=$!
    tel=$(python3 - "$prefix" <<'PY'
import json, socket, sys, time
path = f"/var/run/dpdk/{sys.argv[1]}/dpdk_telemetry.v2"
deadline = time.time() + 60
while time.time() < deadline:
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect(path)
        s.recv(1024)
        s.send(b"/rzone/fwd/stats")
        d = json.loads(s.recv(65536)).get("/rzone/fwd/stats")
        s.close()
        if isinstance(d, dict) and d.get("rx_pkts", 0) > 0:
            print(json.dumps(d))
            sys.exit(0)
    except (OSError, ValueError):
        pass
    time.sleep(0.05)
sys.exit("FAIL: no /rzone/fwd/stats answer with packets counted")
PY
) || { kill "$fwd_pid" 2>/dev/null; fail "telemetry"; }
    status=0
    wait "$fwd_pid" || status=$?
    [ "$status" = 0 ] || fail "rzone-fwd exited with $status"
    echo "ok: /rzone/fwd/stats while running: $tel"
    for key in rx_pkts ring_enq ring_full ring_deq out_pkts out_busy out_drops stage; do
        grep -q "\"$key\"" <<<"$tel" || fail "telemetry has no $key"
    done
    grep '^rzone-fwd:' "$dir/log"
    [ "$(counter rx)" = "$n" ] || fail "rx counted $(counter rx), not $n"
    [ "$(counter drops)" = 0 ] || fail "drops: $(counter drops)"
    python3 "$cmp" "$dir/in.pcap" "$dir/out.pcap" --min-packets "$n" --min-len 64 \
        --max-len 9000 || fail "the output is not the input"
    # The comparison can fail: one byte changed in the middle of a copy is found.
    cp "$dir/out.pcap" "$dir/bad.pcap"
    size=$(stat -c %s "$dir/bad.pcap")
    printf '\xff' | dd of="$dir/bad.pcap" bs=1 seek=$((size / 2)) conv=notrunc status=none
    if python3 "$cmp" "$dir/in.pcap" "$dir/bad.pcap" >"$dir/cmp.log"; then
        fail "the comparer did not see a changed byte"
    fi
    echo "ok: a changed byte is caught: $(cat "$dir/cmp.log")"
    ;;
backpressure)
    "$fwd" --gen-pcap "$dir/in.pcap" 20000 || fail "--gen-pcap"
    run_fwd --ring-size 64 --mbufs 2048 --burst 64 || fail "rzone-fwd exited with $?"
    grep '^rzone-fwd:' "$dir/log"
    [ "$(counter drops)" = 0 ] || fail "drops: $(counter drops)"
    full=$(sed -n 's/.* \([0-9]*\) full (backpressure).*/\1/p' "$dir/log")
    [ "${full:-0}" -gt 0 ] || fail "a 64-slot ring was never full"
    python3 "$cmp" "$dir/in.pcap" "$dir/out.pcap" --min-packets 20000 \
        || fail "the output is not the input"
    ;;
drop)
    "$fwd" --gen-pcap "$dir/in.pcap" 20000 || fail "--gen-pcap"
    status=0
    run_fwd --ring-size 16 --burst 64 --drop-on-full || status=$?
    grep '^rzone-fwd:' "$dir/log"
    dropped=$(sed -n 's/.* full (backpressure), \([0-9]*\) dropped/\1/p' "$dir/log")
    [ "${dropped:-0}" -gt 0 ] || { echo "note: the secondary kept up with a 16-slot ring";
        [ "$status" = 0 ] || fail "no drop, yet exit status $status"; exit 0; }
    [ "$status" = 1 ] || fail "$dropped dropped, yet exit status $status"
    [ "$(counter drops)" = "$dropped" ] || fail "drops line $(counter drops) != $dropped"
    # What came out is the input minus the dropped ones, in order (indices increase).
    python3 - "$dir/out.pcap" "$dropped" <<'PY'
import struct, sys
sys.path.insert(0, ".")
data = open(sys.argv[1], "rb").read()
off, last, n = 24, -1, 0
while off < len(data):
    caplen = struct.unpack_from("<I", data, off + 8)[0]
    k = struct.unpack_from(">Q", data, off + 16 + 14)[0]
    if k <= last:
        sys.exit(f"FAIL: packet {k} after {last}")
    last, n = k, n + 1
    off += 16 + caplen
if n + int(sys.argv[2]) != 20000:
    sys.exit(f"FAIL: {n} out + {sys.argv[2]} dropped != 20000")
print(f"ok: {n} packets out in order, {sys.argv[2]} dropped and counted")
PY
    ;;
remote|remote-revoke)
    n=${RZ_FWD_PACKETS:-100000}
    ip=${RZ_RDMA_TEST_IP:-10.0.2.15}
    port=$((20000 + $$ % 20000))
    rxp=rzfwd-rx-$$
    txp=rzfwd-tx-$$
    rx_pid=
    cleanup() {
        [ -n "$rx_pid" ] && kill "$rx_pid" 2>/dev/null
        rm -rf "$dir" "/var/run/dpdk/$rxp" "/var/run/dpdk/$txp" /dev/hugepages/"$rxp"map_* \
            /dev/hugepages/"$txp"map_*
    }
    trap cleanup EXIT
    "$fwd" --gen-pcap "$dir/in.pcap" "$n" || fail "--gen-pcap"
    rx_args=(--remote-rx --listen "$ip:$port" --mbufs 8192)
    stage=remote:peer=$ip:$port
    if [ "$case" = remote-revoke ]; then
        rx_args+=(--revoke-after $((n / 3)))
        stage=$stage,reconnect=1
    fi
    (cd "$dir" && exec "$fwd" --no-pci -l 1 "--file-prefix=$rxp" --log-level=lib.rzone:notice \
        --vdev net_pcap0,tx_pcap=out.pcap -- "${rx_args[@]}") >"$dir/rx.log" 2>&1 &
    rx_pid=$!
    for _ in $(seq 600); do
        grep -q 'listening on' "$dir/rx.log" && break
        kill -0 "$rx_pid" 2>/dev/null || { cat "$dir/rx.log"; fail "the receiver exited"; }
        sleep 0.1
    done
    grep -q 'listening on' "$dir/rx.log" || { cat "$dir/rx.log"; fail "the receiver is not up"; }
    t0=$(date +%s%N)
    status=0
    (cd "$dir" && "$fwd" --no-pci "--base-virtaddr=$base_va" -l 0-1 "--file-prefix=$txp" \
        --log-level=lib.rzone:notice --vdev net_pcap0,rx_pcap=in.pcap -- \
        --stage "$stage") >"$dir/log" 2>&1 || status=$?
    rx_status=0
    wait "$rx_pid" || rx_status=$?
    rx_pid=
    t1=$(date +%s%N)
    grep '^rzone-fwd:' "$dir/log"
    sed 's/^/    receiver: /' "$dir/rx.log"
    [ "$rx_status" = 0 ] || fail "the receiver exited with $rx_status"
    [ "$(counter rx)" = "$n" ] || fail "rx counted $(counter rx), not $n"
    sent=$(counter rdma_tx)
    took=$(counter remote_rx)
    drops=$(counter drops)
    reads=$(counter credit_reads)
    empty=$(counter credit_empty)
    echo "ok: $n packets in $(( (t1 - t0) / 1000000 )) ms; RDMA-written $sent, the receiver" \
        "took $took, $drops dropped; $reads head reads, $empty of them with no credit"
    # The producer's head reads: printed, and the empty ones a part of them.
    [ -n "$reads" ] && [ -n "$empty" ] || fail "no credit_reads / credit_empty counter"
    [ "$empty" -le "$reads" ] || fail "credit_empty $empty > credit_reads $reads"
    if [ "$case" = remote ]; then
        [ "$status" = 0 ] || fail "rzone-fwd exited with $status"
        [ "$drops" = 0 ] || fail "drops: $drops"
        [ "$took" = "$n" ] || fail "the receiver took $took, not $n"
        python3 "$cmp" "$dir/in.pcap" "$dir/out.pcap" --min-packets "$n" --min-len 64 \
            --max-len 9000 || fail "the output is not the input"
    else
        grep -q 'grant revoked after' "$dir/rx.log" || fail "the receiver did not revoke"
        grep -q ' 1 new grants' "$dir/log" || fail "the stage did not take a new grant"
        # Exit status 1 exactly when the cut lost packets (counted as drops).
        [ "$status" = $(( drops > 0 )) ] || fail "exit status $status with $drops dropped"
        [ $((took + drops)) = "$n" ] || fail "$took taken + $drops dropped != $n"
        python3 "$cmp" "$dir/in.pcap" "$dir/out.pcap" --gap "$drops" --min-len 64 \
            --max-len 9000 || fail "the output is not the input but for the cut"
    fi
    ;;
remote-drop)
    # --drop-on-full on the remote stage: a full channel never makes it wait; it frees and
    # counts. The input is paced (--rx-pps 1000: 20 s of stream, else the whole pcap is read
    # and dropped in about a second, before anyone can stop anything), the receiver stopped
    # (SIGSTOP) for 2 s mid-stream, so the 16-slot channel fills for sure, then continued
    # (SIGCONT).
    n=20000
    ip=${RZ_RDMA_TEST_IP:-10.0.2.15}
    port=$((20000 + $$ % 20000))
    rxp=rzfwd-rx-$$
    txp=rzfwd-tx-$$
    rx_pid=
    cleanup() {
        [ -n "$rx_pid" ] && kill -CONT "$rx_pid" 2>/dev/null && kill "$rx_pid" 2>/dev/null
        rm -rf "$dir" "/var/run/dpdk/$rxp" "/var/run/dpdk/$txp" /dev/hugepages/"$rxp"map_* \
            /dev/hugepages/"$txp"map_*
    }
    trap cleanup EXIT
    "$fwd" --gen-pcap "$dir/in.pcap" "$n" || fail "--gen-pcap"
    (cd "$dir" && exec "$fwd" --no-pci -l 1 "--file-prefix=$rxp" --log-level=lib.rzone:notice \
        --vdev net_pcap0,tx_pcap=out.pcap -- --remote-rx --listen "$ip:$port" --mbufs 8192 \
        --chan-slots 16) >"$dir/rx.log" 2>&1 &
    rx_pid=$!
    for _ in $(seq 600); do
        grep -q 'listening on' "$dir/rx.log" && break
        kill -0 "$rx_pid" 2>/dev/null || { cat "$dir/rx.log"; fail "the receiver exited"; }
        sleep 0.1
    done
    grep -q 'listening on' "$dir/rx.log" || { cat "$dir/rx.log"; fail "the receiver is not up"; }
    status=0
    (cd "$dir" && exec timeout 600 "$fwd" --no-pci "--base-virtaddr=$base_va" -l 0-1 \
        "--file-prefix=$txp" --log-level=lib.rzone:notice --vdev net_pcap0,rx_pcap=in.pcap \
        -- --drop-on-full --rx-pps "${RZ_FWD_DROP_PPS:-1000}" --stage "remote:peer=$ip:$port") \
        >"$dir/log" 2>&1 &
    tx_pid=$!
    # Mid-stream: 3 s after the stage has its channel (packets flow; at 1,000/s the stream
    # lasts 20 s), before it has flushed (its "written by RDMA" line), stop the receiver for
    # 2 s. Bounded: 300 s for the channel.
    stopped=
    for _ in $(seq 3000); do
        grep -q 'remote stage: channel to' "$dir/log" && break
        kill -0 "$tx_pid" 2>/dev/null || break
        sleep 0.1
    done
    if grep -q 'remote stage: channel to' "$dir/log"; then
        sleep "${RZ_FWD_STOP_AFTER:-3}"
        if grep -q 'written by RDMA' "$dir/log"; then
            stopped="no: the stream had ended ${RZ_FWD_STOP_AFTER:-3} s after the channel"
        elif kill -STOP "$rx_pid"; then
            sleep 2
            kill -CONT "$rx_pid"
            stopped=yes
            echo "ok: receiver stopped (SIGSTOP) for 2 s mid-stream, then continued (SIGCONT)"
        else
            stopped="no: the receiver was gone"
        fi
    else
        stopped="no: the stage never had its channel (within 300 s)"
    fi
    wait "$tx_pid" || status=$?
    rx_status=0
    wait "$rx_pid" || rx_status=$?
    rx_pid=
    grep '^rzone-fwd:' "$dir/log"
    sed 's/^/    receiver: /' "$dir/rx.log"
    [ "$status" != 124 ] || fail "rzone-fwd --drop-on-full did not end within 600 s"
    [ "$stopped" = yes ] || fail "the receiver was not stopped mid-stream ($stopped)"
    [ "$rx_status" = 0 ] || fail "the receiver exited with $rx_status"
    [ "$(counter rx)" = "$n" ] || fail "rx counted $(counter rx), not $n"
    drops=$(counter drops)
    full_drops=$(counter full_drops)
    ring_drops=$(sed -n 's/.* full (backpressure), \([0-9]*\) dropped/\1/p' "$dir/log")
    out_drops=$(sed -n 's/.* busy (backpressure), \([0-9]*\) dropped/\1/p' "$dir/log")
    took=$(counter remote_rx)
    sent=$(counter rdma_tx)
    echo "ok: $n packets: RDMA-written $sent, the receiver took $took; dropped $drops" \
        "($ring_drops on the local ring, $out_drops by the stage, $full_drops of them on a" \
        "full channel)"
    [ "${full_drops:-0}" -gt 0 ] || fail "no drop on a full channel (full_drops ${full_drops:-none})"
    [ "$status" = 1 ] || fail "$drops dropped, yet exit status $status"
    [ "$drops" = $((ring_drops + out_drops)) ] || fail "drops $drops != $ring_drops + $out_drops"
    [ "$out_drops" = "$full_drops" ] || fail "the stage dropped $out_drops, $full_drops on full"
    [ "$took" = "$sent" ] || fail "the receiver took $took of $sent written"
    [ $((took + drops)) = "$n" ] || fail "$took taken + $drops dropped != $n"
    grep -q '^rzone-fwd: rx_bytes_copied *0$' "$dir/rx.log" ||
        fail "the zero-copy receiver copied bytes"
    python3 "$cmp" "$dir/in.pcap" "$dir/out.pcap" --dropped "$drops" --min-packets "$n" ||
        fail "the output is not the input minus the $drops dropped"
    ;;
one-lcore)
    # One lcore (-l 0, as on a one-vCPU guest): the secondary shares the main lcore's CPU.
    "$fwd" --gen-pcap "$dir/in.pcap" 5000 || fail "--gen-pcap"
    (cd "$dir" && timeout 120 "$fwd" --no-pci "--base-virtaddr=$base_va" -l 0 \
        --log-level=lib.rzone:notice \
        --vdev net_pcap0,rx_pcap=in.pcap --vdev net_pcap1,tx_pcap=out.pcap --) \
        >"$dir/log" 2>&1 || fail "rzone-fwd -l 0 exited with $? (124: it hung)"
    grep '^rzone-fwd:' "$dir/log"
    [ "$(counter drops)" = 0 ] || fail "drops: $(counter drops)"
    python3 "$cmp" "$dir/in.pcap" "$dir/out.pcap" --min-packets 5000 \
        || fail "the output is not the input"
    ;;
usage)
    # Bad usage: exit status 2, a line saying what, nothing forwarded.
    "$fwd" --gen-pcap "$dir/in.pcap" 100 || fail "--gen-pcap"
    for args in "--stage nosuch" "--ring-size 3" "--burst 0" "--mbufs 10" "--rx-port x" \
            "--bogus" "--remote-rx" "--remote-rx --listen nocolon" "--chan-slots 3" \
            "--revoke-after 0" "--rx-pps 0"; do
        status=0
        # shellcheck disable=SC2086
        run_fwd $args || status=$?
        [ "$status" = 2 ] || fail "'$args': exit status $status, not 2"
        # The pcap PMD writes the file header (24 bytes) when it opens the port.
        [ "$(stat -c %s "$dir/out.pcap" 2>/dev/null || echo 0)" -le 24 ] ||
            fail "'$args' wrote packets"
        echo "ok: '$args' refused: $(grep -m1 '^rzone-fwd:' "$dir/log" || tail -n 1 "$dir/log")"
    done
    status=0
    "$fwd" --gen-pcap "$dir/x.pcap" notanumber >"$dir/log" 2>&1 || status=$?
    [ "$status" = 2 ] || fail "--gen-pcap FILE notanumber: exit status $status"
    ;;
*)
    echo "unknown case $case"
    exit 2
    ;;
esac
echo "PASS: $case"
