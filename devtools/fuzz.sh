#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# A fuzzing campaign on every libFuzzer target of tests/fuzz/ (fuzz_desc, fuzz_mp_msg,
# fuzz_hello, fuzz_peer_msg, fuzz_import, fuzz_telemetry):
#   1. builds the clang fuzz build (build-fuzz/) if it is missing, and brings it up to date;
#   2. runs the targets one after the other, one libFuzzer process each (no -jobs, -fork or
#      -workers), under nice -n 19, for MINUTES in total: MINUTES / number of targets each;
#      each grows a persistent corpus directory and starts from it and tests/fuzz/seeds/<target>;
#   3. prints a table per target: executions, exec/s, coverage (cov and ft of libFuzzer's last
#      status line), corpus size (files, bytes) and crashes (crash-, leak-, timeout- and oom-
#      files written in this run). A target that crashes stops there (libFuzzer's rule).
# Exits 1 if any target crashed or failed, 2 on a usage error.
#
# Usage: devtools/fuzz.sh [-t TARGET[,TARGET...]] MINUTES
#   -t      only these targets (the MINUTES are split among them)
#   -h      this help
#
# Environment:
#   RZ_FUZZ_BUILD_DIR   fuzz build directory (default build-fuzz)
#   RZ_FUZZ_CORPUS_DIR  corpus root: <root>/<target>/ (default /var/tmp/rzone-fuzz); the logs
#                       are in <root>/logs/, the crash inputs in <root>/artifacts/<target>/
#   RZ_FUZZ_MAX_LEN     libFuzzer -max_len (default 512: every input of these parsers is
#                       shorter; longer ones only slow the campaign down)
#   RZ_FUZZ_ARGS        more libFuzzer arguments
#
# Minimise a corpus into the seeds, e.g.:
#   build-fuzz/tests/fuzz/fuzz_hello -merge=1 tests/fuzz/seeds/fuzz_hello \
#       /var/tmp/rzone-fuzz/fuzz_hello

set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$HERE/.." && pwd)
ALL_TARGETS=(fuzz_desc fuzz_mp_msg fuzz_hello fuzz_peer_msg fuzz_import fuzz_telemetry)

usage() { sed -n '5,/^$/s/^# \{0,1\}//p' "$0"; }

targets=("${ALL_TARGETS[@]}")
while getopts ":t:h" opt; do
    case "$opt" in
        t) IFS=, read -r -a targets <<< "$OPTARG" ;;
        h) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
if [ "$#" -ne 1 ] || ! [[ "$1" =~ ^[0-9]+$ ]] || [ "$1" -eq 0 ]; then
    usage >&2
    exit 2
fi
minutes=$1
for t in "${targets[@]}"; do
    case " ${ALL_TARGETS[*]} " in
        *" $t "*) ;;
        *) echo "fuzz.sh: unknown target $t (known: ${ALL_TARGETS[*]})" >&2; exit 2 ;;
    esac
done
per_target=$((minutes * 60 / ${#targets[@]}))
[ "$per_target" -ge 1 ] || per_target=1

cd "$ROOT"
BUILD=${RZ_FUZZ_BUILD_DIR:-build-fuzz}
CORPUS_ROOT=${RZ_FUZZ_CORPUS_DIR:-/var/tmp/rzone-fuzz}
MAX_LEN=${RZ_FUZZ_MAX_LEN:-512}
read -r -a extra <<< "${RZ_FUZZ_ARGS:-}"

if [ ! -f "$BUILD/build.ninja" ]; then
    CC=clang meson setup "$BUILD" -Dfuzz=true -Dtests=true -Dperf=false -Dwerror=true
fi
nice -n 19 ninja -C "$BUILD" -j 2 >/dev/null

mkdir -p "$CORPUS_ROOT/logs"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
echo "fuzz.sh: ${#targets[@]} target(s), ${per_target} s each, corpus under $CORPUS_ROOT," \
    "started $stamp"
rows=()
bad=0
for t in "${targets[@]}"; do
    corpus=$CORPUS_ROOT/$t
    art=$CORPUS_ROOT/artifacts/$t
    log=$CORPUS_ROOT/logs/$t-$stamp.log
    mkdir -p "$corpus" "$art"
    before=$(find "$art" -type f | wc -l)
    rc=0
    # The corpus directory first: libFuzzer writes new inputs only there, never into the seeds.
    nice -n 19 "$BUILD/tests/fuzz/$t" -max_total_time="$per_target" -max_len="$MAX_LEN" \
        -print_final_stats=1 -artifact_prefix="$art/" "${extra[@]}" \
        "$corpus" "tests/fuzz/seeds/$t" > "$log" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1 | sed 's/cov: //; s/ ft: /\//')
    files=$(find "$corpus" -type f | wc -l)
    bytes=$(find "$corpus" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
    crashes=$(( $(find "$art" -type f | wc -l) - before ))
    if [ "$rc" -ne 0 ] || [ "$crashes" -gt 0 ]; then
        bad=1
        echo "fuzz.sh: $t: exit $rc, $crashes new artifact(s) in $art; log $log" >&2
    fi
    rows+=("$(printf '%-15s %14s %10s %11s %7s %10s %7s' "$t" "${execs:-?}" "${rate:-?}" \
        "${cov:-?}" "$files" "$bytes" "$crashes")")
done

printf '%-15s %14s %10s %11s %7s %10s %7s\n' target executions exec/s cov/ft files bytes \
    crashes
printf '%s\n' "${rows[@]}"
total=0
for r in "${rows[@]}"; do
    n=$(awk '{ print $2 }' <<< "$r")
    [[ "$n" =~ ^[0-9]+$ ]] && total=$((total + n))
done
echo "fuzz.sh: $total executions in total; logs in $CORPUS_ROOT/logs (*-$stamp.log)"
exit "$bad"
