#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# Two hosts on one virtual wire: boot two guests of the Soft-RoCE VM lane, each with its own
# kernel and rxe0, joined by QEMU's socket netdev over the host's loopback, run one command
# on each, and collect both outputs and statuses.
#
# Usage: devtools/vm/pair.sh [--timeout SECONDS] [--mem MB] [--grace SECONDS] CMD_A CMD_B
#
#   CMD_A, CMD_B  shell command lines (run by bash -c in the guest, in the caller's working
#                 directory): CMD_A on host A = 10.0.2.15, CMD_B on host B = 10.0.2.16. Each
#                 sees RZ_WIRE_SELF (its address), RZ_WIRE_OTHER (the other's) and
#                 RZ_PAIR_DIR (a directory of the host both guests see).
#   --timeout S   both guests are killed after S seconds (default $RZ_VM_TIMEOUT or 900)
#   --mem MB      memory of each guest (default 1536; RZ_VM_HUGEPAGES defaults to 256)
#   --grace S     once one command has failed, how long the other may still run before its
#                 guest is killed (default 20)
#
# Power-off on purpose (a host losing power mid-test): a command creates
# $RZ_PAIR_DIR/poweroff-A or $RZ_PAIR_DIR/poweroff-B; that guest's QEMU is killed with SIGKILL
# within 0.1 s (run.sh --power-file), $RZ_PAIR_DIR/poweroff-X.done then holds the host's time
# of it, and the guest counts as "powered off as asked", not as a failure. A guest that dies
# unasked still fails (125).
#
# Output: every line of A's stdout/stderr is printed as "[A] ..." on stdout/stderr, B's as
# "[B] ...". At the end: "rzone-pair: A exited X, B exited Y" ("powered off as asked" for X
# or Y where that was asked).
#
# Exit status: 0 if both commands exited 0, or one did and the other's guest was powered off
# as asked; 125 if a guest could not start (the reason is printed by run.sh as
# "rzone-vm: ...") or died unasked; 124 if the timeout passed; else the status of the first
# command that failed (1 if both guests were powered off: no verdict). A guest is always torn
# down when its pair fails or times out.

set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)

usage() {
    sed -n '5,/^$/s/^# \{0,1\}//p' "$0" >&2
    exit "${1:-125}"
}
say() { echo "rzone-pair: $*" >&2; }

timeout_s=${RZ_VM_TIMEOUT:-900}
mem=1536
grace=20
while [ $# -gt 0 ]; do
    case "$1" in
        --timeout) [ $# -ge 2 ] || usage; timeout_s=$2; shift 2 ;;
        --mem) [ $# -ge 2 ] || usage; mem=$2; shift 2 ;;
        --grace) [ $# -ge 2 ] || usage; grace=$2; shift 2 ;;
        -h|--help) usage 0 ;;
        --) shift; break ;;
        -*) say "unknown option $1"; usage ;;
        *) break ;;
    esac
done
[ $# -eq 2 ] || { say "want two commands, got $#"; usage; }
for v in timeout_s mem grace; do
    [[ ${!v} =~ ^[0-9]+$ ]] || { say "$v must be a number, got '${!v}'"; exit 125; }
done
export RZ_VM_HUGEPAGES=${RZ_VM_HUGEPAGES:-256}

# The image is built once, before either guest starts (both would build it otherwise).
"$HERE/prepare.sh" --print-dir --quiet >/dev/null || { say "prepare.sh failed"; exit 125; }

# A free port on the loopback for the wire.
port=
for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        port=$p
        break
    fi
done
[ -n "$port" ] || { say "no free loopback port for the wire"; exit 125; }

dir=$(mktemp -d /var/tmp/rzone-pair.XXXXXX)
pids=()
# shellcheck disable=SC2317  # (trap handler)
cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT
trap 'say "terminated"; exit 143' TERM

# guest NAME IP WIRE OTHER_IP CMD: one guest in the background; its status in $dir/NAME.rc.
guest() {
    local name=$1 ip=$2 wire=$3 other=$4 cmd=$5
    (
        rc=0
        RZ_WIRE_SELF=$ip RZ_WIRE_OTHER=$other RZ_PAIR_DIR=$dir "$HERE/run.sh" \
            --timeout "$timeout_s" --mem "$mem" --smp 1 --ip "$ip" --wire "$wire" \
            --power-file "$dir/poweroff-$name" -- bash -c "$cmd" \
            > >(sed -u "s/^/[$name] /") 2> >(sed -u "s/^/[$name] /" >&2) || rc=$?
        echo "$rc" > "$dir/$name.rc"
    ) &
    pids+=("$!")
}

start=$SECONDS
guest A 10.0.2.15 "listen:$port" 10.0.2.16 "$1"
# QEMU's connecting side needs the listener up.
sleep 2
guest B 10.0.2.16 "connect:$port" 10.0.2.15 "$2"

# powered_off NAME: was NAME's guest powered off as asked (run.sh's 120 and the marker)?
powered_off() {
    [ "$(cat "$dir/$1.rc" 2>/dev/null)" = 120 ] && [ -f "$dir/poweroff-$1.done" ]
}

# Wait for both; once one failed, the other gets --grace seconds.
failed_at=
first_fail=
while :; do
    done_n=0
    for n in A B; do
        [ -f "$dir/$n.rc" ] || continue
        done_n=$((done_n + 1))
        rc=$(cat "$dir/$n.rc")
        if [ "$rc" -ne 0 ] && ! powered_off "$n" && [ -z "$first_fail" ]; then
            first_fail=$n
            failed_at=$SECONDS
        fi
    done
    [ "$done_n" -eq 2 ] && break
    if [ -n "$failed_at" ] && [ $((SECONDS - failed_at)) -ge "$grace" ]; then
        say "$first_fail failed; stopping the other guest after ${grace} s"
        break
    fi
    sleep 1
done
for p in "${pids[@]}"; do
    pkill -TERM -P "$p" 2>/dev/null || true
done
cleanup_wait=$SECONDS
while { [ ! -f "$dir/A.rc" ] || [ ! -f "$dir/B.rc" ]; } && [ $((SECONDS - cleanup_wait)) -lt 30 ]; do
    sleep 1
done
rc_a=$(cat "$dir/A.rc" 2>/dev/null || echo 124)
rc_b=$(cat "$dir/B.rc" 2>/dev/null || echo 124)
what_a="exited $rc_a"
what_b="exited $rc_b"
off_a=0
off_b=0
if powered_off A; then what_a="powered off as asked"; off_a=1; rc_a=0; fi
if powered_off B; then what_b="powered off as asked"; off_b=1; rc_b=0; fi
say "A $what_a, B $what_b ($((SECONDS - start)) s)"
if [ "$off_a" -eq 1 ] && [ "$off_b" -eq 1 ]; then
    say "both guests were powered off: no command gave a verdict"
    exit 1
fi
if [ "$rc_a" -eq 0 ] && [ "$rc_b" -eq 0 ]; then
    exit 0
fi
if [ "$rc_a" -eq 125 ] || [ "$rc_b" -eq 125 ]; then
    exit 125
fi
if [ "$first_fail" = A ]; then exit "$rc_a"; fi
if [ "$first_fail" = B ]; then exit "$rc_b"; fi
exit 1
