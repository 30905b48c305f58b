#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# Build and run rzone-demo (as root, on Debian 12): a DPDK primary process
# creates a region, starts a secondary, and the two share, hand over and
# protect the region step by step (apps/rzone-demo/main.c tells the story).
# Exits with the demo's status (0: every step did what it should).
#
# Usage: devtools/demo.sh
#
# Environment:
#   RZ_BUILD_DIR  build directory (default build)
#   RZ_HUGEPAGES, RZ_CLEAN_MIN_AGE: see devtools/setup.sh and devtools/lib.sh

set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=devtools/lib.sh
. "$HERE/lib.sh"

case "${1:-}" in
    -h|--help) sed -n '5,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
esac

BUILD=${RZ_BUILD_DIR:-build}
PREFIX=rzdemo

cd "$RZ_ROOT"
trap 'rz_clean_runtime demo || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash "$HERE/setup.sh"
rz_say demo "building in $BUILD"
rz_meson_setup demo "$BUILD"
rz_ninja demo "$BUILD"

rz_say demo "running: $BUILD/apps/rzone-demo --no-pci --file-prefix=$PREFIX -l 0 -- primary"
status=0
"$BUILD/apps/rzone-demo" --no-pci --file-prefix="$PREFIX" -l 0 -- primary </dev/null || status=$?
echo
if [ "$status" -eq 0 ]; then
    rz_say demo "PASSED: every step did what it should"
else
    rz_say demo "FAILED: rzone-demo exited with status $status"
fi
# Let the demo's runtime state age past RZ_CLEAN_MIN_AGE; the EXIT trap removes it.
sleep "${RZ_CLEAN_MIN_AGE:-2}"
exit "$status"
