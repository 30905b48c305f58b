#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# End-to-end check of the Soft-RoCE VM lane (devtools/vm/run.sh):
#   - exit status propagation (true -> 0, false -> 1, exit 7 -> 7), stdout and
#     stderr kept apart, RZ_* variables and the working directory passed in,
#     other variables not, the timeout never reported as success;
#   - in the guest: rxe0 listed by ibv_devices, memory windows advertised,
#     hugepages reserved and the guest's own hugetlbfs on /dev/hugepages,
#     /run guest-local, memlock unlimited, rping and ib_write_bw loopback to
#     10.0.2.15, DPDK EAL init (dpdk-testpmd --no-pci) with its runtime dir
#     in the guest only.
# Prints PASS/FAIL lines; exits non-zero if any check fails.
#
# Usage: tests/vm/lane_check.sh          (as root; takes a few minutes)
# (tests/vm/lane_check.sh --in-guest is what it runs inside the VM.)

set -euo pipefail

SELF=$(readlink -f -- "${BASH_SOURCE[0]}")
ROOT=$(cd -- "$(dirname -- "$SELF")/../.." && pwd)
RUN=$ROOT/devtools/vm/run.sh

npass=0
nfail=0
pass() { echo "PASS: $*"; npass=$((npass + 1)); }
fail() { echo "FAIL: $*"; nfail=$((nfail + 1)); }
skip() { echo "SKIP: $*"; }

# ---------------------------------------------------------------- in the guest
in_guest() {
    local w
    w=$(mktemp -d /run/lane_check.XXXXXX)

    case "$(uname -r)" in
        6.1.*) pass "guest kernel $(uname -r)" ;;
        *) fail "guest kernel is $(uname -r), not Debian 12's 6.1" ;;
    esac

    if ibv_devices > "$w/devices" 2>&1 && grep -qw rxe0 "$w/devices"; then
        pass "ibv_devices lists rxe0"
    else
        fail "ibv_devices does not list rxe0: $(tr '\n' ' ' < "$w/devices")"
    fi

    if ibv_devinfo -d rxe0 -v > "$w/devinfo" 2>&1; then
        local mw
        mw=$(sed -n 's/^[[:space:]]*max_mw:[[:space:]]*\([0-9]*\).*/\1/p' "$w/devinfo" | head -n 1)
        if grep -q MEM_WINDOW "$w/devinfo" || [ "${mw:-0}" -gt 0 ]; then
            pass "ibv_devinfo rxe0: memory windows (max_mw ${mw:-?}, $(grep -o 'MEM_WINDOW[A-Z0-9_]*' "$w/devinfo" | sort -u | tr '\n' ' '))"
        else
            fail "ibv_devinfo rxe0: no MEM_WINDOW, max_mw ${mw:-?}"
        fi
        if grep -q 'PORT_ACTIVE' "$w/devinfo"; then
            pass "rxe0 port 1 PORT_ACTIVE"
        else
            fail "rxe0 port 1 not PORT_ACTIVE"
        fi
    else
        fail "ibv_devinfo -d rxe0 -v failed: $(tail -n 3 "$w/devinfo" | tr '\n' ' ')"
    fi

    local total
    total=$(sed -n 's/^HugePages_Total: *//p' /proc/meminfo)
    if [ "${total:-0}" -gt 0 ]; then
        pass "hugepages reserved in the guest: $total x $(sed -n 's/^Hugepagesize: *//p' /proc/meminfo)"
    else
        fail "no hugepages reserved in the guest"
    fi
    if [ "$(stat -f -c %T /dev/hugepages)" = hugetlbfs ] && grep -q ' /dev/hugepages hugetlbfs ' /proc/self/mounts; then
        pass "/dev/hugepages is the guest's hugetlbfs"
    else
        fail "/dev/hugepages is not a guest hugetlbfs: $(stat -f -c %T /dev/hugepages)"
    fi
    if [ "$(stat -f -c %T /run)" = tmpfs ] && [ "$(stat -f -c %T /var/run/.)" = tmpfs ]; then
        pass "/run and /var/run are guest-local tmpfs"
    else
        fail "/run is $(stat -f -c %T /run), /var/run is $(stat -f -c %T /var/run/.)"
    fi
    if [ "$(ulimit -l)" = unlimited ]; then
        pass "memlock limit unlimited"
    else
        fail "memlock limit is $(ulimit -l)"
    fi

    # rping over rdma_cm, loopback on 10.0.2.15.
    local t=$SECONDS
    timeout 120 rping -s -a 10.0.2.15 -C 3 -v > "$w/rping_s" 2>&1 &
    local srv=$!
    # The server may take more than 2 s to listen in a busy guest (seen: the client
    # REJECTED): the client tries again, as for ib_write_bw below.
    local rtry rok=0
    for rtry in 1 2 3 4 5; do
        sleep 2
        if timeout 60 rping -c -a 10.0.2.15 -C 3 -v > "$w/rping_c" 2>&1 &&
           grep -q 'rdma-ping-2' "$w/rping_c"; then
            rok=1
            break
        fi
        grep -q 'REJECTED\|connect error' "$w/rping_c" || break
    done
    if [ "$rok" = 1 ]; then
        pass "rping loopback (3 pings over rdma_cm, $((SECONDS - t)) s, try $rtry)"
    else
        fail "rping loopback: $(tail -n 3 "$w/rping_c" | tr '\n' ' ')"
        kill "$srv" 2>/dev/null || true
    fi
    wait "$srv" 2>/dev/null || true

    # ib_write_bw (perftest) over rdma_cm, loopback, small and quick.
    t=$SECONDS
    local args=(-d rxe0 -R -F -s 65536 -n 100)
    timeout 180 ib_write_bw "${args[@]}" > "$w/bw_s" 2>&1 &
    srv=$!
    local try ok=0
    for try in 1 2 3; do
        sleep 2
        if timeout 120 ib_write_bw "${args[@]}" 10.0.2.15 > "$w/bw_c" 2>&1; then
            ok=1
            break
        fi
        echo "ib_write_bw client attempt $try failed, retrying"
        kill -0 "$srv" 2>/dev/null || break
    done
    if [ "$ok" -eq 1 ]; then
        local bw
        bw=$(awk '/#bytes/ { getline; print $4; exit }' "$w/bw_c")
        pass "ib_write_bw loopback: 65536 B x 100 RDMA writes, ${bw:-?} MB/s average ($((SECONDS - t)) s)"
    else
        fail "ib_write_bw loopback: $(tail -n 3 "$w/bw_c" | tr '\n' ' ')"
    fi
    kill "$srv" 2>/dev/null || true
    wait "$srv" 2>/dev/null || true

    # DPDK EAL on the guest's hugepages, runtime dir in the guest's /run.
    if command -v dpdk-testpmd > /dev/null; then
        local prefix=${RZ_LANE_DPDK_PREFIX:-lanechk-$$}
        t=$SECONDS
        if echo quit | timeout 300 dpdk-testpmd -l 0-1 --no-pci --vdev net_null0 \
                --file-prefix "$prefix" -m 64 -- -i --total-num-mbufs=2048 > "$w/testpmd" 2>&1 &&
           grep -q 'Bye' "$w/testpmd"; then
            pass "dpdk-testpmd --no-pci: EAL up on guest hugepages ($((SECONDS - t)) s)"
        else
            fail "dpdk-testpmd: $(grep -E 'EAL|rror' "$w/testpmd" | tail -n 4 | tr '\n' ' ')"
        fi
        if [ -d "/var/run/dpdk/$prefix" ]; then
            pass "DPDK runtime dir /var/run/dpdk/$prefix in the guest"
        else
            fail "no DPDK runtime dir /var/run/dpdk/$prefix in the guest"
        fi
    else
        skip "dpdk-testpmd not installed (package dpdk)"
    fi

    rm -rf "$w"
    echo "guest checks: $npass passed, $nfail failed"
    [ "$nfail" -eq 0 ]
}

if [ "${1:-}" = --in-guest ]; then
    in_guest
    exit
fi

# ----------------------------------------------------------------- on the host
[ "$(id -u)" -eq 0 ] || { echo "lane_check: must run as root" >&2; exit 2; }

# Userland the guest runs (it uses the host's binaries).
need=()
for p in ibverbs-utils rdmacm-utils perftest dpdk; do
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || need+=("$p")
done
if [ "${#need[@]}" -gt 0 ]; then
    echo "lane_check: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends "${need[@]}" ||
        { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}"; }
fi

t0=$SECONDS
work=$(mktemp -d /tmp/lane_check.XXXXXX)
trap 'rm -rf "$work"' EXIT

# Build the image first, so that its time does not count against the checks.
"$ROOT/devtools/vm/prepare.sh"

# run_vm NAME [run.sh args...]: run.sh with stdout/stderr to $work/NAME.{out,err};
# sets rc.
run_vm() {
    local name=$1
    shift
    local t=$SECONDS
    rc=0
    "$RUN" "$@" > "$work/$name.out" 2> "$work/$name.err" || rc=$?
    echo "  ($name: exit $rc, $((SECONDS - t)) s)"
}
show() {
    sed 's/^/    | /' "$work/$1.out" "$work/$1.err" | tail -n 20
}

run_vm true -- true
if [ "$rc" -eq 0 ]; then pass "run.sh -- true exits 0"; else fail "run.sh -- true exits $rc"; show true; fi

run_vm false -- false
if [ "$rc" -eq 1 ]; then pass "run.sh -- false exits 1"; else fail "run.sh -- false exits $rc"; show false; fi

# Streams, environment and working directory.
mkdir -p "$work/cwd"
token="tok-$$-$RANDOM"
(
    cd "$work/cwd"
    export RZ_LANE_TOKEN=$token LANE_NOT_PASSED=leak
    # shellcheck disable=SC2016  # expanded in the guest
    run_vm streams -- bash -c \
        'echo "out:$RZ_LANE_TOKEN:${LANE_NOT_PASSED:-unset}:$PWD"; echo "err-line" >&2; exit 7'
    echo "$rc" > "$work/streams.rc"
)
rc=$(cat "$work/streams.rc")
if [ "$rc" -eq 7 ]; then pass "run.sh -- 'exit 7' exits 7"; else fail "run.sh -- 'exit 7' exits $rc"; show streams; fi
if grep -qx "out:$token:unset:$work/cwd" "$work/streams.out"; then
    pass "stdout, RZ_* variables and working directory reach the command; other variables do not"
else
    fail "stdout/env/cwd: got '$(head -n 3 "$work/streams.out" | tr '\n' ' ')'"
fi
if grep -qx 'err-line' "$work/streams.err" && ! grep -q 'err-line' "$work/streams.out" &&
   ! grep -q "out:$token" "$work/streams.err"; then
    pass "stderr kept apart from stdout"
else
    fail "stderr/stdout mixed up"; show streams
fi

# A timeout must never look like success.
run_vm timeout --timeout 5 -- sleep 60
if [ "$rc" -eq 124 ]; then
    pass "run.sh --timeout 5 exits 124 ($(grep -m1 -o 'timeout:.*' "$work/timeout.err" || true))"
else
    fail "run.sh --timeout 5 exits $rc (want 124)"; show timeout
fi

# A power-off on request (a host losing power, the wire suite's faults 3 and 4) is told apart
# from a guest that dies unasked.
pf="$work/poweroff"
# shellcheck disable=SC2016  # expanded in the guest
run_vm poweroff --power-file "$pf" -- bash -c 'touch "$0"; sleep 60; exit 3' "$pf"
if [ "$rc" -eq 120 ] && [ -s "$pf.done" ] && grep -q 'powered off as asked' "$work/poweroff.err"; then
    pass "run.sh --power-file: powered off as asked, exits 120"
else
    fail "run.sh --power-file exits $rc (want 120 and $pf.done)"; show poweroff
fi
run_vm crash --power-file "$work/never" -- bash -c 'echo c > /proc/sysrq-trigger; sleep 60'
if [ "$rc" -eq 125 ] && [ ! -e "$work/never.done" ]; then
    pass "a guest that dies unasked exits 125 ($(grep -m1 -o 'the guest died.*' "$work/crash.err" || true))"
else
    fail "a crashed guest exits $rc (want 125)"; show crash
fi

# The real work: the guest-side checks, streamed.
prefix="lanechk-$$-$RANDOM"
t=$SECONDS
set +e
RZ_LANE_DPDK_PREFIX=$prefix RZ_VM_VERBOSE=1 "$RUN" -- "$SELF" --in-guest 2>&1 | sed 's/^/  guest| /'
rc=${PIPESTATUS[0]}
set -e
echo "  (guest checks: exit $rc, $((SECONDS - t)) s)"
if [ "$rc" -eq 0 ]; then pass "guest checks"; else fail "guest checks (exit $rc)"; fi
if [ -e "/var/run/dpdk/$prefix" ]; then
    fail "DPDK runtime dir /var/run/dpdk/$prefix leaked to the host"
    rm -rf "/var/run/dpdk/$prefix"
else
    pass "DPDK runtime dir stayed in the guest"
fi

echo "lane_check: $npass passed, $nfail failed, $((SECONDS - t0)) s"
[ "$nfail" -eq 0 ]
