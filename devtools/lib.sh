#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# Shell helpers shared by devtools/setup.sh, test.sh and demo.sh. Source it:
#   . "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
#
# Environment:
#   RZ_CLEAN_MIN_AGE  seconds: DPDK runtime state younger than this is never
#                     removed, even if no process uses it (a process may be
#                     starting up); default 2

set -euo pipefail

[ -n "${RZ_LIB_SH:-}" ] && return 0
RZ_LIB_SH=1

# The repository root (this file lives in <root>/devtools).
RZ_ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)

# Where DPDK keeps the runtime state of root processes, and the hugetlbfs mount.
RZ_DPDK_RUNDIR=/var/run/dpdk
RZ_HUGE_DIR=/dev/hugepages

# rz_say TAG MESSAGE...: one line of progress.
rz_say() {
    local tag=$1
    shift
    printf 'rzone %s: %s\n' "$tag" "$*"
}

# rz_die TAG MESSAGE...: one line on stderr, exit 1.
rz_die() {
    local tag=$1
    shift
    printf 'rzone %s: error: %s\n' "$tag" "$*" >&2
    exit 1
}

rz_require_root() {
    [ "$(id -u)" -eq 0 ] || rz_die "$1" "must run as root (hugepages, /var/run/dpdk, apt-get)"
}

# rz_now: seconds since the epoch.
rz_now() {
    date +%s
}

# rz_elapsed START: "12s" or "3m05s" since START (from rz_now).
rz_elapsed() {
    local s=$(($(rz_now) - $1))
    if [ "$s" -ge 60 ]; then
        printf '%dm%02ds' $((s / 60)) $((s % 60))
    else
        printf '%ds' "$s"
    fi
}

# Paths of rzone's DPDK runtime state (/run/dpdk/rz*/..., /dev/hugepages/rz*)
# that a live process maps, holds open, or has bound a unix socket to. One a
# line, /var/run spelled /run.
rz_runtime_in_use() {
    {
        # Mapped files (DPDK's config and fbarray files, hugepage files).
        cat /proc/[0-9]*/maps 2>/dev/null || true
    } | awk '$6 ~ /^\/(var\/)?run\/dpdk\/rz|^\/dev\/hugepages\/rz/ { print $6 }'
    # Open descriptors.
    find /proc/[0-9]*/fd -mindepth 1 -maxdepth 1 \
        \( -lname '/run/dpdk/rz*' -o -lname '/var/run/dpdk/rz*' -o -lname '/dev/hugepages/rz*' \) \
        -printf '%l\n' 2>/dev/null || true
    # Bound unix sockets (the EAL's multi-process sockets).
    awk 'NR > 1 && $8 ~ /^\/(var\/)?run\/dpdk\/rz/ { print $8 }' /proc/net/unix 2>/dev/null || true
}

# rz_newest_mtime PATH: the newest modification time (epoch seconds) of PATH
# and, for a directory, of its entries.
rz_newest_mtime() {
    find "$1" -maxdepth 1 -printf '%T@\n' 2>/dev/null | sort -n | tail -n 1 | cut -d. -f1
}

# rz_clean_runtime TAG: remove stale rzone DPDK runtime state: the
# /var/run/dpdk/rz* directories and /dev/hugepages/rz* files that no live
# process uses (every test and demo --file-prefix starts with "rz"). Hugepage
# files left by a crashed process keep their hugepages reserved until removed.
rz_clean_runtime() {
    local tag=$1 min_age=${RZ_CLEAN_MIN_AGE:-2} now in_use path key mtime
    local dirs=0 files=0 kept=0

    now=$(rz_now)
    in_use=$(rz_runtime_in_use | sed -e 's#^/var/run/#/run/#' | sort -u)
    for path in "$RZ_DPDK_RUNDIR"/rz*; do
        [ -d "$path" ] || continue
        key=/run/dpdk/${path##*/}
        if grep -qxF -e "$key" <<<"$in_use" || grep -qF -e "$key/" <<<"$in_use"; then
            kept=$((kept + 1))
            continue
        fi
        mtime=$(rz_newest_mtime "$path")
        if [ -n "$mtime" ] && [ $((now - mtime)) -lt "$min_age" ]; then
            kept=$((kept + 1))
            continue
        fi
        rm -rf -- "$path" && dirs=$((dirs + 1))
    done
    for path in "$RZ_HUGE_DIR"/rz*; do
        [ -f "$path" ] || continue
        if grep -qxF -e "$path" <<<"$in_use"; then
            kept=$((kept + 1))
            continue
        fi
        mtime=$(rz_newest_mtime "$path")
        if [ -n "$mtime" ] && [ $((now - mtime)) -lt "$min_age" ]; then
            kept=$((kept + 1))
            continue
        fi
        rm -f -- "$path" && files=$((files + 1))
    done
    rz_say "$tag" "stale DPDK runtime state: removed $dirs dirs under $RZ_DPDK_RUNDIR and" \
        "$files files under $RZ_HUGE_DIR (kept $kept in use)"
}

# rz_run_logged TAG LOG CMD...: run CMD with its output in LOG. On failure,
# print the end of LOG. Compiler warnings are printed either way.
rz_run_logged() {
    local tag=$1 log=$2 status=0
    shift 2
    mkdir -p -- "$(dirname -- "$log")"
    "$@" >"$log" 2>&1 || status=$?
    if [ "$status" -ne 0 ]; then
        rz_say "$tag" "FAILED ($status): $* -- last lines of $log:"
        tail -n 80 -- "$log" | sed 's/^/    /'
        return "$status"
    fi
    grep -E 'warning:|WARNING:' -- "$log" | sed 's/^/    /' || true
    return 0
}

# Logs of the steps whose output is only shown on failure (ignored by git).
RZ_LOG_DIR=${RZ_LOG_DIR:-$RZ_ROOT/build-logs}

# rz_meson_setup TAG DIR OPTION...: configure DIR (relative to the repo root)
# with the given options: a fresh setup, or a reconfigure of an existing build
# directory (wiped and set up again if that fails).
rz_meson_setup() {
    local tag=$1 dir=$2 log
    shift 2
    log=$RZ_LOG_DIR/$(basename -- "$dir")-setup.log
    if [ -f "$dir/meson-private/coredata.dat" ]; then
        if ! rz_run_logged "$tag" "$log" meson setup --reconfigure "$dir" "$@"; then
            rz_say "$tag" "reconfigure failed: wiping $dir and setting it up again"
            rz_run_logged "$tag" "$log" meson setup --wipe "$dir" "$@"
        fi
    else
        rz_run_logged "$tag" "$log" meson setup "$dir" "$@"
    fi
}

# rz_ninja TAG DIR: build DIR.
rz_ninja() {
    rz_run_logged "$1" "$RZ_LOG_DIR/$(basename -- "$2")-ninja.log" ninja -C "$2"
}

# rz_python: Debian's interpreter (meson runs on it); a python3 earlier on PATH
# may be another one.
rz_python() {
    if [ -x /usr/bin/python3 ]; then
        /usr/bin/python3 "$@"
    else
        python3 "$@"
    fi
}
