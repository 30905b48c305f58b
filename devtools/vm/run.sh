#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# Run a command inside the rzone Soft-RoCE test VM (QEMU/TCG guest on Debian
# 12's kernel, real RDMA verbs device rxe0 on eth0 = 10.0.2.15).  The guest
# chroots into the host's / (9p), so CMD is the host's own binary and sees
# the host's files; it runs as root in the caller's working directory.
#
# Usage: devtools/vm/run.sh [--timeout SECONDS] [--mem MB] [--smp N] [--ip ADDR]
#                           [--wire listen:PORT|connect:PORT] -- CMD [ARGS...]
#
#   --timeout S  kill the VM after S seconds (default $RZ_VM_TIMEOUT or 1200)
#   --mem MB     guest memory (default $RZ_VM_MEM or 3072)
#   --smp N      guest CPUs (default $RZ_VM_SMP or 2)
#   --ip ADDR    the guest's eth0 address, 10.0.2.N (default 10.0.2.15); its MAC is
#                52:54:00:12:34:NN (NN = N in hex), rxe0's GID ::ffff:ADDR
#   --wire listen:PORT|connect:PORT
#                eth0 on a virtual wire to another guest (QEMU's socket netdev over the
#                host's loopback, port PORT): one guest listens, the other connects
#                (devtools/vm/pair.sh starts both). Default: an isolated user-mode
#                network (nothing leaves the VM).
#   --power-file PATH
#                power the guest off when PATH appears (a host path; the guest sees it
#                too, over 9p): QEMU is killed with SIGKILL within 0.1 s (no shutdown,
#                no flush: a host losing power), PATH.done gets the host's time of it
#                (seconds since the epoch), and run.sh exits 120
#
# Environment:
#   RZ_VM_HUGEPAGES  2 MiB hugepages reserved in the guest (default 512)
#   RZ_VM_CACHE      image cache (default /var/cache/rzone-vm), see prepare.sh
#   RZ_VM_CONSOLE=1  also copy the guest's console (kernel log) to stderr
#   RZ_VM_DEBUG=1    full kernel log level on the console
#   RZ_VM_KEEP=1     keep the run directory (console log, cmd.sh)
#   RZ_VM_PASSENV    extra variable names to pass to CMD (space separated)
#   RZ_VM_VERBOSE=1  print timings (boot-to-command, command, total) at the end
#   RZ_VM_TMPFS_TMP=1  guest-local tmpfs on /tmp (default: the host's /tmp)
#   RZ_VM_USR_CACHE  9p cache mode of the host's /usr, shared read-only on its
#                    own (default: loose: programs and libraries read once per
#                    boot; "off": /usr comes with the host root, uncached)
#   RZ_VM_9P_CACHE   9p cache mode for the host root (default: none, i.e.
#                    coherent; "loose" makes exec/stat-heavy commands 2-5x
#                    faster but the guest may not see host-side changes made
#                    while it runs)
# Passed to CMD: variables named RZ_*, MESON_*, PATH, HOME, LANG and those
# in RZ_VM_PASSENV; TERM=dumb.  CMD's stdin is /dev/null; its stdout and
# stderr are serial ports in the guest, streamed to run.sh's stdout/stderr.
#
# Exit status: CMD's exit status; 120 if the guest was powered off as asked
# (--power-file); 124 if the timeout passed; 125 if the lane could not start
# (boot, module, 9p, rxe failure: reason printed as "rzone-vm: ...") or the
# guest died unasked; 128+N if run.sh was killed by signal N.
#
# Guest filesystem: / /tmp /work ... are the host's (9p); /proc /sys /dev
# /dev/pts /dev/shm are the guest's; /dev/hugepages is the guest's hugetlbfs;
# /run (so /var/run/dpdk) is a guest tmpfs.  Unix sockets do not work on 9p
# (bind works, connect fails with ENXIO): put them under /run.

set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)

usage() {
    sed -n '5,/^$/s/^# \{0,1\}//p' "$0" >&2
    exit "${1:-125}"
}

say() { echo "rzone-vm: $*" >&2; }

timeout_s=${RZ_VM_TIMEOUT:-1200}
mem=${RZ_VM_MEM:-3072}
smp=${RZ_VM_SMP:-2}
hugepages=${RZ_VM_HUGEPAGES:-512}
ip=10.0.2.15
wire=
power_file=

while [ $# -gt 0 ]; do
    case "$1" in
        --timeout) [ $# -ge 2 ] || usage; timeout_s=$2; shift 2 ;;
        --timeout=*) timeout_s=${1#*=}; shift ;;
        --mem) [ $# -ge 2 ] || usage; mem=$2; shift 2 ;;
        --mem=*) mem=${1#*=}; shift ;;
        --smp) [ $# -ge 2 ] || usage; smp=$2; shift 2 ;;
        --smp=*) smp=${1#*=}; shift ;;
        --ip) [ $# -ge 2 ] || usage; ip=$2; shift 2 ;;
        --ip=*) ip=${1#*=}; shift ;;
        --wire) [ $# -ge 2 ] || usage; wire=$2; shift 2 ;;
        --wire=*) wire=${1#*=}; shift ;;
        --power-file) [ $# -ge 2 ] || usage; power_file=$2; shift 2 ;;
        --power-file=*) power_file=${1#*=}; shift ;;
        -h|--help) usage 0 ;;
        --) shift; break ;;
        -*) say "unknown option $1"; usage ;;
        *) break ;;
    esac
done
[ $# -ge 1 ] || { say "no command given"; usage; }
for v in timeout_s mem smp hugepages; do
    [[ ${!v} =~ ^[0-9]+$ ]] || { say "$v must be a number, got '${!v}'"; exit 125; }
done
[[ $ip =~ ^10\.0\.2\.([0-9]{1,3})$ ]] && [ "${BASH_REMATCH[1]}" -ge 1 ] &&
    [ "${BASH_REMATCH[1]}" -le 254 ] || { say "--ip $ip: not an address 10.0.2.1-254"; exit 125; }
mac=$(printf '52:54:00:12:34:%02x' "${ip##*.}")
netdev="user,id=n0,restrict=on"
case "$wire" in
    "") ;;
    listen:[0-9]*|connect:[0-9]*)
        port=${wire#*:}
        [[ $port =~ ^[0-9]+$ ]] && [ "$port" -ge 1024 ] && [ "$port" -le 65535 ] ||
            { say "--wire $wire: port must be 1024-65535"; exit 125; }
        netdev="socket,id=n0,${wire%%:*}=127.0.0.1:$port"
        ;;
    *) say "--wire $wire: want listen:PORT or connect:PORT"; exit 125 ;;
esac
[ "$((hugepages * 2 + 512))" -le "$mem" ] ||
    { say "$hugepages hugepages (2 MiB) do not fit in --mem $mem MB"; exit 125; }

[ "$(id -u)" -eq 0 ] || { say "must run as root"; exit 125; }

cwd=$(pwd -P)
case "$cwd/" in
    /proc/*|/sys/*|/dev/*|/run/*|/var/run/*)
        say "working directory $cwd is hidden in the guest (guest-local mount)"; exit 125 ;;
esac

t_start_ns=$(date +%s.%N)
img=$("$HERE/prepare.sh" --print-dir --quiet) || { say "prepare.sh failed"; exit 125; }

# The run directory must be visible in the guest: not under /tmp (which
# RZ_VM_TMPFS_TMP=1 hides) nor /run.
mkdir -p /var/tmp
rd=$(mktemp -d /var/tmp/rzone-vm.XXXXXX)
qpid=
readers=()

# shellcheck disable=SC2317  # (trap handlers)
cleanup() {
    if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
        kill -TERM "$qpid" 2>/dev/null || true
        wait "$qpid" 2>/dev/null || true
    fi
    local p
    for p in "${readers[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    if [ "${RZ_VM_KEEP:-0}" = 1 ]; then
        say "run directory kept: $rd"
    else
        rm -rf "$rd"
    fi
}
# shellcheck disable=SC2317
on_signal() {
    say "interrupted by SIG$1, stopping the VM"
    trap - EXIT
    cleanup
    exit "$2"
}
trap cleanup EXIT
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM
trap 'on_signal HUP 129' HUP

# The command script, run by bash in the guest's chroot.
{
    echo '#!/bin/bash'
    echo '# generated by devtools/vm/run.sh'
    while IFS= read -r name; do
        case "$name" in
            RZ_*|MESON_*|PATH|HOME|LANG) ;;
            *) case " ${RZ_VM_PASSENV:-} " in *" $name "*) ;; *) continue ;; esac ;;
        esac
        printf 'export %s=%q\n' "$name" "${!name}"
    done < <(compgen -e | LC_ALL=C sort)
    echo 'export TERM=dumb'
    echo 'ulimit -l unlimited'
    printf ': > %q\n' "$rd/started"
    printf 'cd -- %q || exit 125\n' "$cwd"
    printf 'exec'
    printf ' %q' "$@"
    printf '\n'
} > "$rd/cmd.sh"

# Serial port sinks: FIFOs drained by cat into our stdout/stderr.
mkfifo "$rd/console" "$rd/stdout" "$rd/stderr"
if [ "${RZ_VM_CONSOLE:-0}" = 1 ]; then
    tee "$rd/console.log" < "$rd/console" >&2 &
else
    cat < "$rd/console" > "$rd/console.log" &
fi
readers+=("$!")
cat < "$rd/stdout" &
readers+=("$!")
cat < "$rd/stderr" >&2 &
readers+=("$!")

kparams="console=ttyS0,115200 panic=-1 mitigations=off hugepagesz=2M hugepages=$hugepages hugetlb_free_vmemmap=off init_on_alloc=0"
kparams+=" rzvm.dir=$rd rzvm.hugepages=$hugepages rzvm.ip=$ip"
[ -z "${RZ_VM_9P_CACHE:-}" ] || kparams+=" rzvm.9pcache=$RZ_VM_9P_CACHE"
[ "${RZ_VM_TMPFS_TMP:-0}" != 1 ] || kparams+=" rzvm.tmpfs_tmp=1"
usr_cache=${RZ_VM_USR_CACHE:-loose}
usr_share=()
case "$usr_cache" in
    off) ;;
    none|loose|mmap|fscache)
        kparams+=" rzvm.usrcache=$usr_cache"
        usr_share=(-virtfs "local,path=/usr,mount_tag=hostusr,security_model=none,readonly=on,multidevs=remap") ;;
    *) say "RZ_VM_USR_CACHE=$usr_cache: want off, none, loose, mmap or fscache"; exit 125 ;;
esac
[ "${RZ_VM_DEBUG:-0}" = 1 ] || kparams+=" quiet"

# Prefer the plain ELF kernel (PVH boot: no slow self-decompression).
kernel=$img/vmlinux
[ -f "$kernel" ] || kernel=$img/vmlinuz

t_qemu=$(date +%s.%N)
t_boot=$SECONDS
timeout -k 10 "$timeout_s" qemu-system-x86_64 \
    -nodefaults -no-user-config -display none -no-reboot \
    -accel tcg,thread=multi -cpu max -smp "$smp" -m "$mem" \
    -kernel "$kernel" -initrd "$img/initrd.img" -append "$kparams" \
    -chardev file,id=con,path="$rd/console" -serial chardev:con \
    -chardev file,id=out,path="$rd/stdout" -serial chardev:out \
    -chardev file,id=err,path="$rd/stderr" -serial chardev:err \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,multidevs=remap \
    "${usr_share[@]}" \
    -netdev "$netdev" -device virtio-net-pci,netdev=n0,mac="$mac",romfile= \
    </dev/null >"$rd/qemu.log" 2>&1 &
qpid=$!
# A power-off on request: QEMU (the child of timeout) killed at once.
if [ -n "$power_file" ]; then
    (
        while kill -0 "$qpid" 2>/dev/null; do
            if [ -e "$power_file" ]; then
                pkill -KILL -P "$qpid" 2>/dev/null || true
                date +%s.%N > "$power_file.done"
                exit 0
            fi
            sleep 0.1
        done
    ) &
    readers+=("$!")
fi
qrc=0
# (2>/dev/null: no "Killed" line from bash for a power-off on request)
wait "$qpid" 2>/dev/null || qrc=$?
qpid=

# Let the readers finish: open each FIFO once for writing (never blocks with
# O_RDWR), so a reader still waiting in open() gets EOF too.
for f in console stdout stderr; do
    exec {w}<>"$rd/$f"
    exec {w}>&-
done
for p in "${readers[@]}"; do
    wait "$p" 2>/dev/null || true
done
readers=()

# Why the lane failed, from the console log.
reason() {
    sed -n 's/\r$//; s/^rzone-vm: FAIL: /rzone-vm: /p' "$rd/console.log" 2>/dev/null | tail -n 3 >&2
}
console_shown=0
console_tail() {
    if [ "$console_shown" -eq 0 ] && [ -s "$rd/console.log" ]; then
        say "last console lines:"
        tr -d '\r' < "$rd/console.log" | tail -n "${1:-15}" | sed 's/^/  | /' >&2
    fi
    if [ -s "$rd/qemu.log" ]; then
        say "qemu said:"
        sed 's/^/  | /' "$rd/qemu.log" >&2
    fi
}
last_stage() {
    tr -d '\r' < "$rd/console.log" | sed -n 's/^rzone-vm: stage: //p' | tail -n 1
}

# Surface guest kernel trouble (oops, warnings, stalls): often the cause of a
# failing RDMA test, and invisible in CMD's output.
if grep -qE 'BUG:|WARNING:|Oops|Call Trace|general protection|Kernel panic|soft lockup|self-detected stall|blocked for more than' \
        "$rd/console.log" 2>/dev/null; then
    say "the guest kernel reported problems:"
    tr -d '\r' < "$rd/console.log" | grep -v '^rzone-vm: stage:' | tail -n 60 | sed 's/^/  | /' >&2
    console_shown=1
fi

if [ -n "$power_file" ] && [ -f "$power_file.done" ]; then
    say "powered off as asked ($power_file)"
    exit 120
fi

status=
if [ -f "$rd/status" ]; then
    status=$(cat "$rd/status")
fi
if [[ $status =~ ^[0-9]+$ ]] && [ "$status" -le 255 ]; then
    rc=$status
    if [ "${RZ_VM_VERBOSE:-0}" = 1 ]; then
        t_end=$(date +%s.%N)
        t_cmd=$(stat -c %.3Y "$rd/started" 2>/dev/null || echo "$t_qemu")
        t_exit=$(stat -c %.3Y "$rd/status")
        say "$(awk -v a="$t_start_ns" -v q="$t_qemu" -v c="$t_cmd" -v x="$t_exit" -v e="$t_end" -v r="$rc" \
            'BEGIN { printf "exit status %d; prepare %.1f s, boot-to-command %.1f s, command %.1f s, total %.1f s", r, q - a, c - q, x - c, e - a }')"
    fi
    exit "$rc"
fi

if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
    stage=$(last_stage)
    say "timeout: VM killed after ${timeout_s} s (stage: ${stage:-boot})"
    [ -f "$rd/started" ] || console_tail 10
    exit 124
fi
if [ -f "$rd/started" ]; then
    say "the guest died while the command was running (qemu status $qrc)"
    console_tail 30
    exit 125
fi
say "lane could not start (qemu status $qrc, boot time $((SECONDS - t_boot)) s, stage: $(last_stage || true))"
reason
console_tail 30
exit 125
