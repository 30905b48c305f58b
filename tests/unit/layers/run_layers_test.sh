#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# The module graph of this build goes one way (devtools/check-layers.py), and the check itself
# catches an upward call: on a two-module tree made here where the lower module calls the upper
# one, it must fail.
# Usage: run_layers_test.sh SOURCE_ROOT BUILD_ROOT
set -euo pipefail

src=$1
build=$2
check="$src/devtools/check-layers.py"
fail() { echo "FAIL: $*"; exit 1; }

echo "== $build"
python3 "$check" "$build" || fail "the module graph of $build has an upward edge (above)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lib/low" "$tmp/lib/high" "$tmp/build/lib"
printf 'int high_fn(void);\nint low_fn(void);\nint low_fn(void) { return high_fn(); }\n' \
    >"$tmp/lib/low/low.c"
printf 'int high_fn(void);\nint high_fn(void) { return 1; }\n' >"$tmp/lib/high/high.c"
printf 'lib/low\nlib/high\n' >"$tmp/build/lib/rz-layers.txt"
cc -c "$tmp/lib/low/low.c" -o "$tmp/build/low.o"
cc -c "$tmp/lib/high/high.c" -o "$tmp/build/high.o"
cat >"$tmp/build/compile_commands.json" <<JSON
[{"directory": "$tmp/build", "file": "../lib/low/low.c", "output": "low.o"},
 {"directory": "$tmp/build", "file": "../lib/high/high.c", "output": "high.o"}]
JSON
echo "== a tree where lib/low calls lib/high"
if out=$(python3 "$check" "$tmp/build"); then
    echo "$out"
    fail "check-layers.py passed a tree with an upward call"
fi
echo "$out"
grep -q '^UPWARD lib/low -> lib/high: high_fn' <<<"$out" || fail "the upward edge was not named"
echo "PASS: one-way module graph; the check catches an upward call"
