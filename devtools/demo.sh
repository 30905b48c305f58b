#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# Build and run the rzone demos (as root, on Debian 12), step by step:
#   1. rzone-demo: a DPDK primary process creates a region, starts a
#      secondary, and the two share, hand over and protect the region
#      (apps/rzone-demo/main.c tells the story);
#   2. rzone-rdma-demo: the same on real RDMA. The owner (a DPDK primary)
#      creates a region and maps it into a secondary; remote peer processes
#      connect over RDMA, get Share, Copy-on-write and Move capabilities,
#      write and read the region, are refused and revoked; ownership moves
#      (apps/rzone-rdma-demo/main.c). The peers run on another host: if this
#      host has no RDMA device, two Soft-RoCE guests on one virtual wire
#      (devtools/vm/pair.sh): the owner and its secondary on host A
#      (10.0.2.15, output lines "[A] ..."), the peers on host B (10.0.2.16,
#      "[B] ..."), started there by "rzone-rdma-demo serve-peers"; every
#      byte they write or read crosses the wire. With an RDMA device it runs
#      natively: on this host alone, or with RZ_DEMO_PEER_HOST across two
#      hosts (start "rzone-rdma-demo serve-peers" on that one first). A lane
#      that cannot start is a failure, with the reason.
# Exits 0 only if both demos did what they should.
#
# Usage: devtools/demo.sh [--one-host] [--rdma-only] [--no-build]
#
#   --one-host   without an RDMA device: the whole RDMA story in one guest
#                (devtools/vm/run.sh: one kernel, peers over rxe0 loopback)
#   --rdma-only  only the RDMA demo (not rzone-demo)
#   --no-build   neither devtools/setup.sh nor a build: RZ_BUILD_DIR is
#                built already (the wire suite's wire-demo test runs so)
#
# Environment:
#   RZ_BUILD_DIR        build directory (default build)
#   RZ_DEMO_RDMA_IP     address the RDMA demo listens on, natively (default:
#                       the IPv4 address of the RDMA device's network
#                       interface; in the VM: 10.0.2.15, rxe0 on eth0)
#   RZ_DEMO_PEER_HOST   natively: the host the peers run on (its
#                       "rzone-rdma-demo serve-peers" must be running);
#                       default: none, the peers run on this host
#   RZ_DEMO_PEER_PORT   the peer server's TCP port (default 7471)
#   RZ_DEMO_VM_TIMEOUT  seconds allowed to the VM lane (default 600)
#   RZ_RDMA_DEV         RDMA device to use (default: the first)
#   RZ_HUGEPAGES, RZ_CLEAN_MIN_AGE, RZ_VM_*: see devtools/setup.sh,
#                       devtools/lib.sh and devtools/vm/run.sh

set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=devtools/lib.sh
. "$HERE/lib.sh"

one_host=0
rdma_only=0
no_build=0
for a in "$@"; do
    case "$a" in
        -h|--help) sed -n '5,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
        --one-host) one_host=1 ;;
        --rdma-only) rdma_only=1 ;;
        --no-build) no_build=1 ;;
        *) echo "demo.sh: unknown argument $a (see --help)" >&2; exit 2 ;;
    esac
done

BUILD=${RZ_BUILD_DIR:-build}
# Prefixes of this run's own (two runs never share runtime state); only what they made is
# cleaned at the end, never another instance's.
PREFIX=rzone-demo-$$
RDMA_PREFIX=rzone-rdma-demo-$$
VM_IP=10.0.2.15
VM_PEER_IP=10.0.2.16

cd "$RZ_ROOT"
# demo_clean: remove the runtime state of this run's two instances (runtime directories and
# hugepage files), if no process uses them any more.
demo_clean() {
    local p in_use
    in_use=$(rz_runtime_in_use | sed -e 's#^/var/run/#/run/#' | sort -u)
    for p in "$PREFIX" "$RDMA_PREFIX"; do
        if grep -qF -e "/run/dpdk/$p/" -e "/run/dpdk/$p" -e "$RZ_HUGE_DIR/${p}map_" \
                <<<"$in_use"; then
            rz_say demo "runtime state of $p still in use: kept"
            continue
        fi
        rm -rf -- "${RZ_DPDK_RUNDIR:?}/$p"
        rm -f -- "${RZ_HUGE_DIR:?}/${p}"map_*
    done
}
trap 'demo_clean || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# section TITLE: a header that stands out in a long log.
section() {
    printf '\n%s\n%s\n%s\n' \
        '==================================================================================' \
        "  $*" \
        '=================================================================================='
}

# The RDMA devices of this host that userspace can use (one name a line).
rdma_devices() {
    local d
    ls /dev/infiniband/uverbs* >/dev/null 2>&1 || return 0
    for d in /sys/class/infiniband/*; do
        [ -e "$d" ] && basename -- "$d"
    done
    return 0
}

# rdma_device_ip DEV: the IPv4 address of DEV's network interface (RoCE, iWARP).
rdma_device_ip() {
    local dev=$1 nd f
    for f in /sys/class/infiniband/"$dev"/ports/*/gid_attrs/ndevs/*; do
        [ -r "$f" ] || continue
        nd=$(cat -- "$f" 2>/dev/null) || continue
        [ -n "$nd" ] || continue
        ip -4 -o addr show dev "$nd" 2>/dev/null | awk '{ sub("/.*", "", $4); print $4; exit }'
        return 0
    done
    return 0
}

t_start=$(rz_now)
if [ "$no_build" -eq 0 ]; then
    section "rzone demo: setup and build"
    bash "$HERE/setup.sh"
    rz_say demo "building in $BUILD"
    rz_meson_setup demo "$BUILD"
    rz_ninja demo "$BUILD"
elif [ ! -x "$BUILD/apps/rzone-rdma-demo" ]; then
    rz_say demo "FAILED: --no-build, but $BUILD/apps/rzone-rdma-demo is not built"
    exit 1
fi

# --- 1. the local demo ----------------------------------------------------------------------
local_status=0
if [ "$rdma_only" -eq 0 ]; then
    section "rzone demo 1/2: a primary and a secondary process of one DPDK instance" \
        "(rzone-demo)"
    rz_say demo "running: $BUILD/apps/rzone-demo --no-pci --file-prefix=$PREFIX -l 0 -- primary"
    t0=$(rz_now)
    "$BUILD/apps/rzone-demo" --no-pci --file-prefix="$PREFIX" -l 0 -- primary </dev/null ||
        local_status=$?
    echo
    if [ "$local_status" -eq 0 ]; then
        local_verdict="PASSED"
    else
        local_verdict="FAILED (rzone-demo exited with status $local_status)"
    fi
    rz_say demo "rzone-demo: $local_verdict in $(rz_elapsed "$t0")"
fi

# --- 2. the RDMA demo -----------------------------------------------------------------------
rdma_status=0
rdma_lane=
rdma_cmd=("$BUILD/apps/rzone-rdma-demo" --no-pci --file-prefix="$RDMA_PREFIX" -l 0 -- owner)
t0=$(rz_now)
mapfile -t devs < <(rdma_devices)
if [ "${#devs[@]}" -gt 0 ]; then
    dev=${RZ_RDMA_DEV:-${devs[0]}}
    ip=${RZ_DEMO_RDMA_IP:-$(rdma_device_ip "$dev")}
    peer_host=${RZ_DEMO_PEER_HOST:-}
    rdma_lane="natively on $dev"
    [ -z "$peer_host" ] || rdma_lane="natively on $dev, peers on host $peer_host"
    section "rzone demo 2/2: remote peers over RDMA (rzone-rdma-demo), $rdma_lane"
    if [ -z "$ip" ]; then
        rz_say demo "FAILED: RDMA device $dev has no IPv4 address on a network interface:" \
            "set RZ_DEMO_RDMA_IP to the address the peers should connect to"
        rdma_status=1
    else
        rz_say demo "this host has RDMA devices (${devs[*]}): running natively on $dev, $ip"
        [ -z "$peer_host" ] || rz_say demo "the peers run on $peer_host: its" \
            "\"rzone-rdma-demo serve-peers\" (port ${RZ_DEMO_PEER_PORT:-7471}) starts them"
        rz_say demo "running: ${rdma_cmd[*]} $ip $peer_host"
        # shellcheck disable=SC2086  # (no PEER_HOST argument when it is empty)
        "${rdma_cmd[@]}" "$ip" $peer_host </dev/null 2>&1 || rdma_status=$?
    fi
elif [ "$one_host" -eq 0 ]; then
    rdma_lane="across two Soft-RoCE VMs on one wire"
    section "rzone demo 2/2: remote peers over RDMA (rzone-rdma-demo), $rdma_lane"
    rz_say demo "this host has no RDMA device: two QEMU TCG guests on Debian's kernel, each its" \
        "own rxe0, joined by one virtual wire (devtools/vm/pair.sh; boot ~10-20 s)"
    rz_say demo "  host A = $VM_IP: the owner (DPDK primary) and its secondary; lines \"[A] ...\""
    rz_say demo "  host B = $VM_PEER_IP: the remote peers, started by the peer server; lines" \
        "\"[B] ...\" (they can show a line or two late: each guest streams over its own" \
        "serial port)"
    rz_say demo "running: devtools/vm/pair.sh '${rdma_cmd[*]} $VM_IP $VM_PEER_IP'" \
        "'$BUILD/apps/rzone-rdma-demo serve-peers'"
    # One stream per guest (stdout and stderr are separate serial ports): the library's log
    # lines stay next to the steps they belong to. PEER_PORT passes as RZ_* to both guests.
    "$HERE/vm/pair.sh" --timeout "${RZ_DEMO_VM_TIMEOUT:-600}" \
        "exec $(printf '%q ' "${rdma_cmd[@]}") $VM_IP $VM_PEER_IP 2>&1" \
        "exec $(printf '%q' "$BUILD/apps/rzone-rdma-demo") serve-peers 2>&1" </dev/null ||
        rdma_status=$?
    case "$rdma_status" in
        124) rz_say demo "FAILED: the two-host lane timed out after" \
                "${RZ_DEMO_VM_TIMEOUT:-600} s" ;;
        125) rz_say demo "FAILED: the two-host lane could not start (the rzone-vm: and" \
                "rzone-pair: lines above say why)" ;;
    esac
else
    rdma_lane="in one Soft-RoCE VM (--one-host)"
    section "rzone demo 2/2: remote peers over RDMA (rzone-rdma-demo), $rdma_lane"
    rz_say demo "this host has no RDMA device: running in the Soft-RoCE VM (QEMU TCG guest on" \
        "Debian's kernel, rxe0 on $VM_IP; boot ~10-20 s, then everything 10-50x slower)"
    rz_say demo "running: devtools/vm/run.sh -- ${rdma_cmd[*]} $VM_IP"
    # One stream in the guest (stdout and stderr are separate serial ports): the library's
    # log lines stay next to the steps they belong to.
    # shellcheck disable=SC2016  # (expanded by the guest's bash)
    "$HERE/vm/run.sh" --timeout "${RZ_DEMO_VM_TIMEOUT:-600}" -- \
        bash -c 'exec "$@" 2>&1' rzone-rdma-demo "${rdma_cmd[@]}" "$VM_IP" || rdma_status=$?
    case "$rdma_status" in
        124) rz_say demo "FAILED: the VM lane timed out after ${RZ_DEMO_VM_TIMEOUT:-600} s" ;;
        125) rz_say demo "FAILED: the Soft-RoCE VM lane could not start (the rzone-vm: lines" \
                "above say why)" ;;
    esac
fi
echo
case "$rdma_status" in
    0) rdma_verdict="PASSED" ;;
    124) rdma_verdict="FAILED (timeout)" ;;
    125) rdma_verdict="FAILED (the VM lane could not start)" ;;
    *) rdma_verdict="FAILED (rzone-rdma-demo exited with status $rdma_status)" ;;
esac
rz_say demo "rzone-rdma-demo: $rdma_verdict $rdma_lane in $(rz_elapsed "$t0")"

section "rzone demo: summary"
[ "$rdma_only" -eq 1 ] || rz_say demo "  rzone-demo       $local_verdict (one DPDK instance)"
rz_say demo "  rzone-rdma-demo  $rdma_verdict (remote peers over RDMA, $rdma_lane)"
status=0
if [ "$local_status" -eq 0 ] && [ "$rdma_status" -eq 0 ]; then
    if [ "$rdma_only" -eq 1 ]; then
        rz_say demo "PASSED: every step of the RDMA demo did what it should" \
            "($(rz_elapsed "$t_start"))"
    else
        rz_say demo "PASSED: every step of both demos did what it should" \
            "($(rz_elapsed "$t_start"))"
    fi
else
    rz_say demo "FAILED ($(rz_elapsed "$t_start"))"
    status=1
fi
# Let the demos' runtime state age past RZ_CLEAN_MIN_AGE; the EXIT trap removes it.
sleep "${RZ_CLEAN_MIN_AGE:-2}"
exit "$status"
