#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# Prepare a Debian 12 machine to build, test and run rzone (as root):
#   1. install the packages rzone needs (apt-get update only if one is missing);
#   2. mount hugetlbfs on /dev/hugepages (creating the directory) if nothing is
#      mounted there;
#   3. reserve 2 MiB hugepages if fewer are reserved than wanted (never lowers
#      a larger reservation);
#   4. remove stale rzone DPDK runtime state (/var/run/dpdk/rz*,
#      /dev/hugepages/rz*) that no live process uses.
# Idempotent. Run it, or source it (it then also defines the lib.sh helpers).
#
# Environment:
#   RZ_HUGEPAGES      2 MiB hugepages wanted (default 1024, i.e. 2 GiB)
#   RZ_CLEAN_MIN_AGE  see devtools/lib.sh

set -euo pipefail

# shellcheck source=devtools/lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

RZ_PACKAGES=(
    build-essential pkg-config meson ninja-build
    doxygen man-db
    dpdk-dev libdpdk-dev dpdk
    libnuma-dev libhwloc-dev libcunit1-dev
    libibverbs-dev librdmacm-dev rdma-core ibverbs-providers ibverbs-utils rdmacm-utils
    perftest python3-pyverbs
    clang libclang-rt-14-dev
    iproute2 kmod
)

# The packages of RZ_PACKAGES that are not installed.
rz_missing_packages() {
    local p
    for p in "${RZ_PACKAGES[@]}"; do
        if [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" != "ii " ]; then
            echo "$p"
        fi
    done
}

rz_setup_packages() {
    local missing log=/tmp/rzone-setup-apt.log start
    local apt=(apt-get -q -y -o DPkg::Lock::Timeout=600)

    mapfile -t missing < <(rz_missing_packages)
    if [ "${#missing[@]}" -eq 0 ]; then
        rz_say setup "packages: all ${#RZ_PACKAGES[@]} installed"
        return 0
    fi
    start=$(rz_now)
    rz_say setup "packages: installing ${#missing[@]} missing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! "${apt[@]}" update >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        rz_die setup "apt-get update failed (log: $log)"
    fi
    if ! "${apt[@]}" install --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
        tail -n 30 "$log" >&2
        rz_die setup "apt-get install failed (log: $log)"
    fi
    mapfile -t missing < <(rz_missing_packages)
    [ "${#missing[@]}" -eq 0 ] || rz_die setup "still not installed: ${missing[*]}"
    rz_say setup "packages: installed in $(rz_elapsed "$start")"
}

# The filesystem type mounted at DIR (the last mount wins), or nothing.
rz_fstype() {
    awk -v d="$1" '$2 == d { t = $3 } END { if (t != "") print t }' /proc/mounts
}

rz_setup_hugetlbfs() {
    local fstype

    mkdir -p "$RZ_HUGE_DIR"
    fstype=$(rz_fstype "$RZ_HUGE_DIR")
    if [ "$fstype" = hugetlbfs ]; then
        rz_say setup "hugetlbfs: mounted on $RZ_HUGE_DIR"
        return 0
    fi
    [ -z "$fstype" ] || rz_die setup "$RZ_HUGE_DIR holds a $fstype mount, not hugetlbfs"
    mount -t hugetlbfs -o pagesize=2M nodev "$RZ_HUGE_DIR" ||
        rz_die setup "cannot mount hugetlbfs on $RZ_HUGE_DIR"
    rz_say setup "hugetlbfs: mounted on $RZ_HUGE_DIR (pagesize=2M)"
}

rz_setup_hugepages() {
    local want=${RZ_HUGEPAGES:-1024} sysdir=/sys/kernel/mm/hugepages/hugepages-2048kB
    local have before free

    [[ "$want" =~ ^[0-9]+$ ]] || rz_die setup "RZ_HUGEPAGES=$want is not a number"
    [ -w "$sysdir/nr_hugepages" ] || rz_die setup "no 2 MiB hugepage support ($sysdir)"
    before=$(cat "$sysdir/nr_hugepages")
    have=$before
    if [ "$have" -lt "$want" ]; then
        echo "$want" >"$sysdir/nr_hugepages" || true
        have=$(cat "$sysdir/nr_hugepages")
        if [ "$have" -lt "$want" ]; then
            # Fragmented memory: compact it and try once more.
            echo 1 >/proc/sys/vm/compact_memory 2>/dev/null || true
            echo "$want" >"$sysdir/nr_hugepages" || true
            have=$(cat "$sysdir/nr_hugepages")
        fi
    fi
    free=$(cat "$sysdir/free_hugepages")
    if [ "$have" -lt "$want" ]; then
        [ "$have" -gt 0 ] || rz_die setup "cannot reserve any 2 MiB hugepage"
        rz_say setup "hugepages: WARNING: only $have of $want x 2 MiB reserved ($free free)"
    elif [ "$have" -ne "$before" ]; then
        rz_say setup "hugepages: $have x 2 MiB reserved (was $before; $free free)"
    else
        rz_say setup "hugepages: $have x 2 MiB reserved ($free free; wanted $want)"
    fi
}

rz_setup() {
    rz_require_root setup
    [ -r /etc/debian_version ] || rz_say setup "WARNING: not Debian: package names may differ"
    rz_setup_packages
    rz_setup_hugetlbfs
    rz_clean_runtime setup
    rz_setup_hugepages
}

rz_setup
