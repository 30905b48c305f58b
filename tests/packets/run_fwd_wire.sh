#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# fwd-wire (suite 'wire'): packets across two hosts. Two guests of the VM lane on one virtual
# wire (devtools/vm/pair.sh), each its own kernel, rxe0 and ONE vCPU (hence -l 0 on both):
#   host A (10.0.2.15): rzone-fwd, primary + the secondary it spawns, net_pcap rx of in.pcap,
#                       --stage remote:peer=$RZ_WIRE_OTHER:PORT (the RDMA packet channel);
#   host B (10.0.2.16): rzone-fwd --remote-rx, zero-copy receive, writes out.pcap.
# Then, on this host: out.pcap must be in.pcap, packet for packet, identical, in order
# (tests/packets/pcap_cmp.py), 0 drops on A, the receiver took every packet and copied 0
# payload bytes (rx_bytes_copied 0). Every line of A's output is prefixed [A], B's [B]; every
# wait is bounded; a failure says which host and why.
#
# Packets: RZ_FWD_WIRE_PACKETS, default 100,000 (the sample of rzone-fwd --gen-pcap: 64 to
# 9,000 bytes, 1 in 16 a jumbo frame chained over five mbufs), because it completes in the pair
# in under 4 minutes: 100,000 took 66 s of A's rzone-fwd and 102 s for the whole pair, boots
# included (2026-12-03 14:54 UTC, load average 4-6). On a busier host it is slower: 20,000
# took 57 s of A's rzone-fwd at load 11 (14:29 UTC), i.e. ~290 s for 100,000; the pair's
# bound (RZ_WIRE_VM_TIMEOUT, default 600 s) leaves room for that.
#
# Usage: run_fwd_wire.sh SOURCE_ROOT RZONE_FWD PCAP_CMP BASE_VA

set -u
src=$1
fwd=$2
cmp=$3
base_va=$4
n=${RZ_FWD_WIRE_PACKETS:-20000}
port=$((20000 + $$ % 20000))
pa=rzfw-a-$$
pb=rzfw-b-$$
# A directory of this host that both guests see (they run chrooted in this host's /).
work=$(mktemp -d /var/tmp/rzone-fwd-wire.XXXXXX)
cleanup() {
    rm -rf "$work" "/var/run/dpdk/$pa" "/var/run/dpdk/$pb"
}
trap cleanup EXIT
fail() { echo "run_fwd_wire: FAIL: $*" >&2; exit 1; }

if [ -n "${RZ_WIRE_SELF:-}" ] || [ -n "${RZ_WIRE_OTHER:-}" ]; then
    fail "native two-host runs (RZ_WIRE_SELF/RZ_WIRE_OTHER set) are not supported by this" \
        "test: it drives both hosts through devtools/vm/pair.sh"
fi
"$fwd" --gen-pcap "$work/in.pcap" "$n" >/dev/null || fail "this host: --gen-pcap $n"

# Host B: the receiver. It says it listens in rx.log (A waits for that line), and its exit
# status goes to rx.rc.
cmd_b=$(cat <<EOF
cd $(printf %q "$work") || exit 1
$(printf %q "$fwd") --no-pci -l 0 --file-prefix=$pb --log-level=lib.rzone:notice \
    --vdev net_pcap0,tx_pcap=out.pcap -- --remote-rx --listen "\$RZ_WIRE_SELF:$port" \
    --mbufs 8192 2>&1 | tee rx.log
rc=\${PIPESTATUS[0]}
echo "\$rc" > rx.rc
echo "receiver (host B, \$RZ_WIRE_SELF) exited \$rc"
exit "\$rc"
EOF
)
# Host A: waits (bounded: 300 s) for B to listen, then forwards.
cmd_a=$(cat <<EOF
cd $(printf %q "$work") || exit 1
for _ in \$(seq 3000); do
    grep -q 'listening on' rx.log 2>/dev/null && break
    [ -f rx.rc ] && { echo "sender (host A): the receiver on \$RZ_WIRE_OTHER exited first"; exit 3; }
    sleep 0.1
done
grep -q 'listening on' rx.log 2>/dev/null ||
    { echo "sender (host A): the receiver on \$RZ_WIRE_OTHER did not listen within 300 s"; exit 3; }
t0=\$(date +%s%N)
$(printf %q "$fwd") --no-pci --base-virtaddr=$base_va -l 0 --file-prefix=$pa \
    --log-level=lib.rzone:notice --vdev net_pcap0,rx_pcap=in.pcap -- \
    --stage "remote:peer=\$RZ_WIRE_OTHER:$port" 2>&1 | tee tx.log
rc=\${PIPESTATUS[0]}
echo "\$rc" > tx.rc
echo "sender (host A, \$RZ_WIRE_SELF -> \$RZ_WIRE_OTHER) exited \$rc after" \
    "\$(( (\$(date +%s%N) - t0) / 1000000 )) ms"
exit "\$rc"
EOF
)

echo "run_fwd_wire: $n packets, host A (10.0.2.15) rzone-fwd -> RDMA -> host B (10.0.2.16)" \
    "rzone-fwd --remote-rx, port $port"
t0=$SECONDS
"$src/devtools/vm/pair.sh" --timeout "${RZ_WIRE_VM_TIMEOUT:-600}" "$cmd_a" "$cmd_b"
rc=$?
echo "run_fwd_wire: the pair took $((SECONDS - t0)) s (boot included), status $rc"
[ "$rc" -ne 125 ] || fail "the two-host lane could not start (see the rzone-vm:/rzone-pair: lines)"
[ "$rc" -ne 124 ] || fail "the pair timed out (${RZ_WIRE_VM_TIMEOUT:-600} s)"

counter() { sed -n "s/^rzone-fwd: $2 *\([0-9]*\).*/\1/p" "$work/$1" 2>/dev/null | head -1; }
[ -f "$work/rx.rc" ] || fail "host B (receiver): no exit status: it did not finish"
[ "$(cat "$work/rx.rc")" = 0 ] || fail "host B (receiver): exited $(cat "$work/rx.rc")"
[ -f "$work/tx.rc" ] || fail "host A (sender): no exit status: rzone-fwd did not run or finish"
[ "$(cat "$work/tx.rc")" = 0 ] || fail "host A (sender): rzone-fwd exited $(cat "$work/tx.rc")"
[ "$rc" -eq 0 ] || fail "pair.sh exited $rc though both said 0"
[ "$(counter tx.log rx)" = "$n" ] || fail "host A (sender): rx counted $(counter tx.log rx), not $n"
[ "$(counter tx.log drops)" = 0 ] || fail "host A (sender): $(counter tx.log drops) drops"
[ "$(counter tx.log rdma_tx)" = "$n" ] ||
    fail "host A (sender): $(counter tx.log rdma_tx) packets RDMA-written, not $n"
[ "$(counter tx.log remote_rx)" = "$n" ] ||
    fail "host A (sender): the receiver answered $(counter tx.log remote_rx), not $n"
[ "$(counter rx.log remote_rx)" = "$n" ] ||
    fail "host B (receiver): took $(counter rx.log remote_rx) packets, not $n"
[ "$(counter rx.log rx_bytes_copied)" = 0 ] ||
    fail "host B (receiver): zero-copy receive copied $(counter rx.log rx_bytes_copied) bytes"
[ "$(counter rx.log rx_bad)" = 0 ] || fail "host B (receiver): $(counter rx.log rx_bad) bad slots"
python3 "$cmp" "$work/in.pcap" "$work/out.pcap" --min-packets "$n" --min-len 64 --max-len 9000 ||
    fail "host B's out.pcap is not host A's in.pcap"
echo "run_fwd_wire: ok: $n packets from host A to host B identical, in order, 0 drops," \
    "0 bytes copied by the receiver"
echo "PASS: fwd-wire"
