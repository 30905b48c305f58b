#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# Every application answers --help (through rte_set_application_usage_hook): exit status 0, the
# EAL's options, then its own; and it leaves no runtime state behind.
# Usage: test_help.sh APP:OPTION... (each OPTION a string its help must show)

set -u
fail=0
for spec in "$@"; do
    app=${spec%%:*}
    IFS=: read -r -a want <<<"${spec#*:}"
    name=${app##*/}
    # Only what this app would name (<app>-<pid>): other instances come and go meanwhile.
    before=$(ls /var/run/dpdk 2>/dev/null | grep -F -- "$name-" | sort)
    out=$("$app" --help 2>&1)
    rc=$?
    after=$(ls /var/run/dpdk 2>/dev/null | grep -F -- "$name-" | sort)
    if [ "$rc" -ne 0 ]; then
        echo "FAIL: $name --help: exit status $rc"
        fail=1
    fi
    if ! grep -q "EAL common options" <<<"$out"; then
        echo "FAIL: $name --help does not show the EAL's options"
        fail=1
    fi
    grep -q "Usage: .*$name" <<<"$out" || { echo "FAIL: $name --help: no usage line"; fail=1; }
    for w in "${want[@]}"; do
        if ! grep -qF -- "$w" <<<"$out"; then
            echo "FAIL: $name --help does not show '$w'"
            fail=1
        fi
    done
    if [ "$before" != "$after" ]; then
        echo "FAIL: $name --help left runtime state: $(comm -13 <(echo "$before") \
            <(echo "$after") | tr '\n' ' ')"
        fail=1
    fi
    [ "$fail" -eq 0 ] && echo "ok: $name --help (${#want[@]} options shown)"
done
exit "$fail"
