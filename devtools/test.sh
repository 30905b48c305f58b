#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# Build rzone and run its tests (as root, on Debian 12):
#   1. devtools/check-style.sh (line length, whitespace, SPDX headers), counted
#      as one test whatever the arguments;
#   2. devtools/setup.sh (packages, hugepages, stale runtime state);
#   3. build/ with -Dwerror=true, then every test suite (unit, mp, rdma, wire: two hosts, vm,
#      packets: pcaps through rzone-fwd, its remote stage in the VM lane, install:
#      rzone installed into a temporary directory, the examples built and run from it);
#   3b. build-nordma/ with -Drdma=disabled (no verbs library linked) and
#      -Dfault_injection=true (the mp test that kills a process at every step of
#      an update), then the unit and mp suites;
#   4. build-asan/ with AddressSanitizer + UndefinedBehaviorSanitizer and
#      -Dfault_injection=true, then the unit, mp and rdma suites;
#   4b. build-tsan/ with clang and ThreadSanitizer (-Db_sanitize=thread), then the
#      unit and mp suites and the rdma stress test (suite rdma-stress, in the VM),
#      with devtools/tsan.supp (suppressions for DPDK itself only, each explained
#      there);
#   5. build-fuzz/ with clang, then the libFuzzer targets (suite fuzz, a short run
#      of each from tests/fuzz/seeds/) on the parsers of the capability descriptor
#      (fuzz_desc), the IPC message (fuzz_mp_msg), the rdma_cm hello (fuzz_hello),
#      the RDMA small-message header (fuzz_peer_msg), the secondary's context request
#      and its answer (fuzz_import), the telemetry parameters (fuzz_telemetry) and a
#      packet channel's window (fuzz_chan_slot).
#      Longer campaigns: devtools/fuzz.sh MINUTES.
# Tests use real hugepages and DPDK instances, so they run one at a time.
# Ends with "rzone: N passed, M failed, K skipped" (counted from the testlog.json
# of every run, plus the style check); exits non-zero if any build or test
# failed. Re-runnable.
#
# Usage: devtools/test.sh [meson test arguments]
#   devtools/test.sh                   everything
#   devtools/test.sh --suite unit      one suite (the sanitizer run keeps only
#                                      the unit, mp and rdma suites asked for)
#   devtools/test.sh region            one test, by name
#
# Environment:
#   RZ_BUILD_DIR       main build directory (default build)
#   RZ_ASAN_BUILD_DIR  sanitizer build directory (default build-asan)
#   RZ_FUZZ_BUILD_DIR  fuzzer build directory (default build-fuzz)
#   RZ_NORDMA_BUILD_DIR  build without RDMA (default build-nordma)
#   RZ_TSAN_BUILD_DIR  ThreadSanitizer build directory (default build-tsan)
#   RZ_SKIP_ASAN=1     skip the sanitizer build and run
#   RZ_SKIP_TSAN=1     skip the ThreadSanitizer build and run
#   RZ_SKIP_FUZZ=1     skip the fuzzer build and run
#   RZ_HUGEPAGES, RZ_CLEAN_MIN_AGE: see devtools/setup.sh and devtools/lib.sh

set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=devtools/lib.sh
. "$HERE/lib.sh"

case "${1:-}" in
    -h|--help) sed -n '5,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
esac

BUILD=${RZ_BUILD_DIR:-build}
ASAN_BUILD=${RZ_ASAN_BUILD_DIR:-build-asan}
FUZZ_BUILD=${RZ_FUZZ_BUILD_DIR:-build-fuzz}
NORDMA_BUILD=${RZ_NORDMA_BUILD_DIR:-build-nordma}
TSAN_BUILD=${RZ_TSAN_BUILD_DIR:-build-tsan}

# Sanitizer settings for DPDK processes (checked on this project's tests):
# - detect_leaks=1: DPDK's own allocations stay reachable and do not trip
#   LeakSanitizer, in primaries and secondaries, with or without
#   rz_fini()/rte_eal_cleanup().
# - ASan's SIGSEGV handler stays on (stack traces of real crashes): a test that
#   expects a write through a read-only mapping to kill a process with SIGSEGV
#   must reset the handler there (signal(SIGSEGV, SIG_DFL)), as tests/ does.
# - abort_on_error=0, disable_coredump=1: a report ends the process with exit
#   code 1 and no core file (a core of a process mapping GiBs of hugepages is
#   huge).
ASAN_OPTS=detect_leaks=1:halt_on_error=1:abort_on_error=0:print_summary=1:disable_coredump=1
UBSAN_OPTS=print_stacktrace=1:halt_on_error=1:print_summary=1
# ThreadSanitizer: a report fails the process (exitcode 66, halt_on_error), DPDK's own code
# (not instrumented: Debian's shared libraries) is suppressed as devtools/tsan.supp explains.
TSAN_OPTS="suppressions=$HERE/tsan.supp:halt_on_error=1:exitcode=66:print_suppressions=0"
TSAN_OPTS="$TSAN_OPTS:second_deadlock_stack=1:report_signal_unsafe=0"

START=$(rz_now)
FAILED_STEPS=()

# On an early exit: remove the runtime state of the tests that are gone.
trap 'rz_clean_runtime test || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cd "$RZ_ROOT"
# Only this run's results count.
rm -f "$BUILD/meson-logs/testlog.json" "$ASAN_BUILD/meson-logs/testlog.json" \
    "$FUZZ_BUILD/meson-logs/testlog.json" "$NORDMA_BUILD/meson-logs/testlog.json" \
    "$TSAN_BUILD/meson-logs/testlog.json"

# keep_suites "unit mp rdma" ARGS...: ARGS with only those suites kept (all of them when no
# suite is named), in SEL_ARGS. Returns 1 (SEL_ARGS empty) if no suite is left.
SEL_ARGS=()
keep_suites() {
    local allowed=" $1 " a s suites=() others=() named=0 expect_suite=0
    shift
    for a in "$@"; do
        if [ "$expect_suite" -eq 1 ]; then
            expect_suite=0
            named=1
            s=${a#rzone:}
            [[ "$allowed" == *" $s "* ]] && suites+=(--suite "$a")
            continue
        fi
        case "$a" in
            --suite) expect_suite=1 ;;
            --suite=*)
                named=1
                s=${a#--suite=}
                s=${s#rzone:}
                [[ "$allowed" == *" $s "* ]] && suites+=("$a")
                ;;
            *) others+=("$a") ;;
        esac
    done
    SEL_ARGS=()
    if [ "$named" -eq 0 ]; then
        for s in $allowed; do
            suites+=(--suite "$s")
        done
    elif [ "${#suites[@]}" -eq 0 ]; then
        return 1
    fi
    SEL_ARGS=("${suites[@]}" "${others[@]}")
}

# run_tests NAME DIR ARGS...: meson test in DIR, serially.
run_tests() {
    local name=$1 dir=$2 start status=0
    shift 2
    start=$(rz_now)
    rm -f "$dir/meson-logs/testlog.json"
    rz_say test "$name: meson test -C $dir${*:+ $*}"
    meson test -C "$dir" --print-errorlogs --num-processes 1 "$@" || status=$?
    # Let the last test's runtime state age past RZ_CLEAN_MIN_AGE, then remove it.
    sleep "${RZ_CLEAN_MIN_AGE:-2}"
    rz_clean_runtime test
    if [ "$status" -ne 0 ]; then
        rz_say test "$name: meson test failed ($status) after $(rz_elapsed "$start")"
        FAILED_STEPS+=("$name tests")
    else
        rz_say test "$name: meson test passed in $(rz_elapsed "$start")"
    fi
}

# build NAME DIR OPTIONS...: configure and build DIR. 1 if that failed.
build() {
    local name=$1 dir=$2 start
    shift 2
    start=$(rz_now)
    rz_say test "$name: meson setup $dir $*"
    if ! rz_meson_setup test "$dir" "$@"; then
        FAILED_STEPS+=("$name configure")
        return 1
    fi
    rz_say test "$name: ninja -C $dir"
    if ! rz_ninja test "$dir"; then
        FAILED_STEPS+=("$name build")
        return 1
    fi
    rz_say test "$name: built in $(rz_elapsed "$start")"
}

# Passed, failed and skipped tests in the given testlog.json files.
count_results() {
    rz_python - "$@" <<'EOF'
import json
import sys

passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
    except FileNotFoundError:
        continue
    for line in lines:
        if not line.strip():
            continue
        result = json.loads(line).get("result")
        if result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:
            failed += 1
print(passed, failed, skipped)
EOF
}

# The style check: one test, passed or failed; its output only when it failed.
style_passed=0
style_failed=0
if style_out=$(bash "$HERE/check-style.sh" 2>&1); then
    style_passed=1
    rz_say test "style: ${style_out##*$'\n'}"
else
    style_failed=1
    rz_say test "style: devtools/check-style.sh failed:"
    printf '%s\n' "$style_out" | sed 's/^/    /'
    FAILED_STEPS+=("style")
fi

rz_say test "setup"
bash "$HERE/setup.sh"

if build main "$BUILD" -Dwerror=true -Dtests=true; then
    run_tests main "$BUILD" "$@"
fi

# The same library without its RDMA module: the local suites (unit, mp) asked for.
if ! keep_suites "unit mp" "$@"; then
    rm -f "$NORDMA_BUILD/meson-logs/testlog.json"
elif build nordma "$NORDMA_BUILD" -Drdma=disabled -Dwerror=true -Dperf=false -Dtests=true \
        -Dfault_injection=true; then
    run_tests nordma "$NORDMA_BUILD" "${SEL_ARGS[@]}"
fi

if [ "${RZ_SKIP_ASAN:-0}" = 1 ]; then
    rz_say test "asan: skipped (RZ_SKIP_ASAN=1)"
    rm -f "$ASAN_BUILD/meson-logs/testlog.json"
elif ! keep_suites "unit mp rdma" "$@"; then
    rz_say test "asan: skipped (no unit, mp or rdma suite selected)"
    rm -f "$ASAN_BUILD/meson-logs/testlog.json"
elif build asan "$ASAN_BUILD" -Db_sanitize=address,undefined -Db_lundef=false -Dperf=false \
        -Dtests=true -Dfault_injection=true; then
    export ASAN_OPTIONS=$ASAN_OPTS UBSAN_OPTIONS=$UBSAN_OPTS
    # Sanitized code runs slower: give every test three times its timeout.
    run_tests asan "$ASAN_BUILD" --timeout-multiplier 3 "${SEL_ARGS[@]}"
fi

# ThreadSanitizer (clang): the unit and mp suites asked for, and from the rdma suite the
# concurrency stress test (suite rdma-stress: 20 s in the Soft-RoCE VM; the whole rdma suite
# under TCG with TSan's 5-15x on top would not fit the CI's time).
if [ "${RZ_SKIP_TSAN:-0}" = 1 ]; then
    rz_say test "tsan: skipped (RZ_SKIP_TSAN=1)"
    rm -f "$TSAN_BUILD/meson-logs/testlog.json"
elif ! keep_suites "unit mp rdma-stress" "$@"; then
    rm -f "$TSAN_BUILD/meson-logs/testlog.json"
elif CC=clang build tsan "$TSAN_BUILD" -Db_sanitize=thread -Db_lundef=false -Dperf=false \
        -Dtests=true -Dwerror=true; then
    TSAN_OPTIONS=$TSAN_OPTS run_tests tsan "$TSAN_BUILD" --timeout-multiplier 3 \
        "${SEL_ARGS[@]}"
fi

# libFuzzer on the parsers of everything that crosses a process or network boundary (step 5):
# with a full run, or when the fuzz suite is asked for.
fuzz_wanted() {
    local a
    [ "$#" -eq 0 ] && return 0
    for a in "$@"; do
        case "$a" in fuzz|rzone:fuzz|--suite=fuzz|--suite=rzone:fuzz) return 0 ;; esac
    done
    return 1
}
if [ "${RZ_SKIP_FUZZ:-0}" = 1 ]; then
    rz_say test "fuzz: skipped (RZ_SKIP_FUZZ=1)"
    rm -f "$FUZZ_BUILD/meson-logs/testlog.json"
elif ! fuzz_wanted "$@"; then
    rm -f "$FUZZ_BUILD/meson-logs/testlog.json"
elif CC=clang build fuzz "$FUZZ_BUILD" -Dfuzz=true -Dtests=true -Dperf=false -Dwerror=true; then
    run_tests fuzz "$FUZZ_BUILD" --suite fuzz
fi
trap - EXIT

read -r passed failed skipped < <(count_results "$BUILD/meson-logs/testlog.json" \
    "$ASAN_BUILD/meson-logs/testlog.json" "$FUZZ_BUILD/meson-logs/testlog.json" \
    "$NORDMA_BUILD/meson-logs/testlog.json" "$TSAN_BUILD/meson-logs/testlog.json")
passed=$((passed + style_passed))
failed=$((failed + style_failed))
summary="rzone: $passed passed, $failed failed, $skipped skipped in $(rz_elapsed "$START")"
if [ "${#FAILED_STEPS[@]}" -gt 0 ]; then
    failed_steps=$(printf '%s, ' "${FAILED_STEPS[@]}")
    summary="$summary; FAILED: ${failed_steps%, }"
fi
echo "$summary"
[ "${#FAILED_STEPS[@]}" -eq 0 ] && [ "$failed" -eq 0 ]
