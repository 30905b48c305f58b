#!/bin/sh
# shellcheck shell=dash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# /init of the rzone Soft-RoCE test VM.  Runs under busybox sh in the
# initramfs built by prepare.sh; started by run.sh.
#
# Serial ports (set up by run.sh):
#   ttyS0  kernel console and this script's log -> run.sh's console log
#   ttyS1  the command's stdout                 -> run.sh's stdout
#   ttyS2  the command's stderr                 -> run.sh's stderr
# Kernel command line: rzvm.dir=<run dir on the host fs> rzvm.hugepages=<n>
# [rzvm.9pcache=<9p cache mode>] [rzvm.tmpfs_tmp=1] [rzvm.ip=<10.0.2.N>, default 10.0.2.15]
#
# The guest mounts the host's / (9p tag "hostroot") on /newroot, gives it
# fresh /proc, /sys, /dev (devtmpfs), /dev/pts, /dev/shm, /dev/hugepages (the
# guest's own hugetlbfs) and /run (tmpfs), brings eth0 up as 10.0.2.15/24 (or rzvm.ip),
# adds the Soft-RoCE device rxe0 on it, and runs <run dir>/cmd.sh (written by
# run.sh) in a chroot there.  The command's exit status goes to
# <run dir>/status.  Failures to set up are reported on the console as
# "rzone-vm: FAIL: <reason>" and leave no status file.

PATH=/sbin:/bin:/usr/sbin:/usr/bin
export PATH
NEWROOT=/newroot

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/null >/dev/ttyS0 2>&1

log() { echo "rzone-vm: $*"; }

poweroff_now() {
    sync
    echo o > /proc/sysrq-trigger
    sleep 5
    poweroff -f
}

fail() {
    echo "rzone-vm: FAIL: $*"
    dmesg | tail -n 5 | sed 's/^/dmesg: /'
    poweroff_now
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
    _n=$(($1 * 10))
    shift
    while ! "$@" 2>/dev/null; do
        _n=$((_n - 1))
        [ "$_n" -gt 0 ] || return 1
        usleep 100000
    done
}

inroot() {
    chroot "$NEWROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

RD=
HUGEPAGES=0
P9CACHE=
USRCACHE=
TMPFS_TMP=0
IP=10.0.2.15
read -r cmdline < /proc/cmdline
for arg in $cmdline; do
    case "$arg" in
        rzvm.dir=*) RD=${arg#rzvm.dir=} ;;
        rzvm.hugepages=*) HUGEPAGES=${arg#rzvm.hugepages=} ;;
        rzvm.9pcache=*) P9CACHE=${arg#rzvm.9pcache=} ;;
        rzvm.usrcache=*) USRCACHE=${arg#rzvm.usrcache=} ;;
        rzvm.tmpfs_tmp=*) TMPFS_TMP=${arg#rzvm.tmpfs_tmp=} ;;
        rzvm.ip=*) IP=${arg#rzvm.ip=} ;;
    esac
done
[ -n "$RD" ] || fail "no rzvm.dir= on the kernel command line"
case "$IP" in
    10.0.2.[0-9]|10.0.2.[0-9][0-9]|10.0.2.[0-9][0-9][0-9]) ;;
    *) fail "rzvm.ip=$IP: not an address of 10.0.2.0/24" ;;
esac
# The RoCE v2 GID that rxe derives from the address: ::ffff:10.0.2.N.
GID_IPV4=$(printf '0000:0000:0000:0000:0000:ffff:0a00:02%02x' "${IP##*.}")
log "stage: kernel $(uname -r) up"

# The command's stdout/stderr: raw serial ports (no \n -> \r\n, no echo).
for t in ttyS1 ttyS2; do
    stty -F /dev/$t raw -echo 2>/dev/null || fail "serial port /dev/$t missing"
done

log "stage: loading modules"
while read -r m; do
    out=$(modprobe "$m" 2>&1) || fail "$m: failed to load: $out"
done < /etc/rzvm/modules

log "stage: mounting host root"
mkdir -p "$NEWROOT"
opts=trans=virtio,version=9p2000.L,msize=512000
[ -z "$P9CACHE" ] || opts=$opts,cache=$P9CACHE
wait_for 5 mount -t 9p -o "$opts" hostroot "$NEWROOT" ||
    fail "9p: cannot mount the host root (mount_tag hostroot)"
[ -x "$NEWROOT/bin/bash" ] || fail "host root has no /bin/bash"
[ -f "$NEWROOT$RD/cmd.sh" ] || fail "run dir $RD/cmd.sh not visible over 9p"
# The host's /usr, read-only and cached (run.sh's second 9p share "hostusr"): every program
# and library the tests run comes from there, read over 9p once per boot instead of on every
# exec and dlopen (a DPDK process loads its ~130 PMDs: 8-60 s per start under TCG uncached).
if [ -n "$USRCACHE" ]; then
    wait_for 5 mount -t 9p -o "trans=virtio,version=9p2000.L,msize=512000,ro,cache=$USRCACHE" \
        hostusr "$NEWROOT/usr" || fail "9p: cannot mount the host's /usr (mount_tag hostusr)"
    [ -x "$NEWROOT/usr/bin/bash" ] || fail "the host's /usr has no bin/bash"
fi

log "stage: chroot setup"
mount -t proc proc "$NEWROOT/proc" || fail "mount /proc"
mount -t sysfs sysfs "$NEWROOT/sys" || fail "mount /sys"
mount -t devtmpfs devtmpfs "$NEWROOT/dev" || fail "mount /dev"
mkdir -p "$NEWROOT/dev/pts" "$NEWROOT/dev/shm" "$NEWROOT/dev/hugepages"
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts "$NEWROOT/dev/pts" || fail "mount /dev/pts"
mount -t tmpfs -o mode=1777 tmpfs "$NEWROOT/dev/shm" || fail "mount /dev/shm"
ln -sfn /proc/self/fd "$NEWROOT/dev/fd"
ln -sfn /proc/self/fd/0 "$NEWROOT/dev/stdin"
ln -sfn /proc/self/fd/1 "$NEWROOT/dev/stdout"
ln -sfn /proc/self/fd/2 "$NEWROOT/dev/stderr"
# Guest-local /run, so that /var/run/dpdk and other runtime dirs do not
# collide with the host's (and unix sockets work: they do not over 9p).
mount -t tmpfs -o mode=755 tmpfs "$NEWROOT/run" || fail "mount /run"
mkdir -p "$NEWROOT/run/lock" && chmod 1777 "$NEWROOT/run/lock"
if [ ! -L "$NEWROOT/var/run" ] && [ -d "$NEWROOT/var/run" ]; then
    mount -t tmpfs -o mode=755 tmpfs "$NEWROOT/var/run" || fail "mount /var/run"
fi
if [ "$TMPFS_TMP" = 1 ]; then
    mount -t tmpfs -o mode=1777 tmpfs "$NEWROOT/tmp" || fail "mount /tmp"
fi

# Hugepages (reserved at boot with hugepages=N) on the guest's own hugetlbfs.
total=$(sed -n 's/^HugePages_Total: *//p' /proc/meminfo)
if [ "$HUGEPAGES" -gt 0 ]; then
    [ "${total:-0}" -gt 0 ] || fail "hugepages: none reserved (asked for $HUGEPAGES)"
    [ "$total" -ge "$HUGEPAGES" ] || log "warning: only $total of $HUGEPAGES hugepages reserved"
fi
mount -t hugetlbfs -o pagesize=2M hugetlbfs "$NEWROOT/dev/hugepages" || fail "mount hugetlbfs"

log "stage: network"
ip link set lo up
wait_for 5 test -e /sys/class/net/eth0 || fail "eth0: no such device (virtio_net)"
ip link set eth0 up || fail "eth0: cannot set up"
ip addr add "$IP/24" dev eth0 || fail "eth0: cannot add $IP/24"

log "stage: rdma"
[ -x "$NEWROOT/usr/bin/rdma" ] || [ -x "$NEWROOT/sbin/rdma" ] || fail "rdma_rxe: no rdma tool on the host (install iproute2)"
out=$(inroot rdma link add rxe0 type rxe netdev eth0 2>&1) ||
    fail "rdma_rxe: failed to add eth0: $out"
wait_for 10 test -e /sys/class/infiniband/rxe0 || fail "rdma_rxe: rxe0 did not appear"
port_active() { grep -q ACTIVE /sys/class/infiniband/rxe0/ports/1/state; }
wait_for 20 port_active || fail "rdma_rxe: rxe0 port 1 not ACTIVE: $(cat /sys/class/infiniband/rxe0/ports/1/state)"
has_ipv4_gid() { cat /sys/class/infiniband/rxe0/ports/1/gids/[0-9] 2>/dev/null | grep -q "$GID_IPV4"; }
wait_for 20 has_ipv4_gid || fail "rdma_rxe: rxe0 has no GID for $IP"
wait_for 10 test -c /dev/infiniband/uverbs0 || fail "rdma_rxe: /dev/infiniband/uverbs0 missing"
test -c /dev/infiniband/rdma_cm || fail "rdma_ucm: /dev/infiniband/rdma_cm missing"

ulimit -l unlimited
# Hold the command's serial ports open, so that their output is drained (not
# dropped) when leftover processes are killed at the end.
exec 7>/dev/ttyS1 8>/dev/ttyS2

log "stage: running command"
chroot "$NEWROOT" /bin/bash "$RD/cmd.sh" </dev/null >/dev/ttyS1 2>/dev/ttyS2 7>&- 8>&-
rc=$?
log "stage: command exited with status $rc"
if ! { echo "$rc" > "$NEWROOT$RD/status.tmp" && mv "$NEWROOT$RD/status.tmp" "$NEWROOT$RD/status"; }; then
    log "cannot write $RD/status"
fi

# Stop what the command left running, then wait for the ports to drain
# (busybox stty sets the attributes with TCSADRAIN).
kill -KILL -1 2>/dev/null
usleep 200000
stty -F /dev/ttyS1 raw -echo
stty -F /dev/ttyS2 raw -echo
exec 7>&- 8>&-
poweroff_now
