#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# Check the style of the files git tracks (git ls-files), as they are in the
# working tree:
#   *.c, *.h           at most 100 columns a line (tabs as 8); no trailing
#                      whitespace; SPDX-License-Identifier in the first 3 lines;
#                      indented with tabs (no line starts with 8 or more spaces);
#   *.sh, meson.build, Makefile, *.in, and every file under examples/
#                      SPDX-License-Identifier in the first 3 lines; no trailing
#                      whitespace.
# Prints every violation as FILE:LINE: reason, then a one-line summary. Exits 0
# if there is none, 1 if there is any, 2 if the files could not be listed.
# Needs no root, no build directory; takes well under a second.
#
# Usage: devtools/check-style.sh [FILE...]
#   devtools/check-style.sh            every tracked file of these kinds
#   devtools/check-style.sh lib/x.c    only the files given (by their names)

set -euo pipefail

case "${1:-}" in
    -h|--help) sed -n '5,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
esac

FILES=()
if [ "$#" -gt 0 ]; then
    FILES=("$@")
else
    cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."
    if ! listed=$(git ls-files -- '*.c' '*.h' '*.sh' 'meson.build' '*/meson.build' \
            'Makefile' '*/Makefile' '*.in' 'examples/*'); then
        echo "check-style: error: git ls-files failed in $PWD" >&2
        exit 2
    fi
    while IFS= read -r f; do
        # Tracked but deleted from the working tree: nothing to check.
        [ -f "$f" ] && FILES+=("$f")
    done <<<"$listed"
fi
if [ "${#FILES[@]}" -eq 0 ]; then
    echo "check-style: no files to check"
    exit 0
fi

# Bytes, not characters (LC_ALL=C, the same in mawk and gawk); the width of a
# line skips UTF-8 continuation bytes, so it counts characters.
LC_ALL=C awk '
function report_in(file, line, reason) {
    print file ":" line ": " reason
    nviol++
    bad[file] = 1
}
function report(line, reason) {
    report_in(FILENAME, line, reason)
}
# The width of s with tabs expanded to the next multiple of 8.
function width(s,   n, i, w, part) {
    gsub(/[\200-\277]/, "", s)
    if (index(s, "\t") == 0)
        return length(s)
    n = split(s, part, "\t")
    w = 0
    for (i = 1; i < n; i++) {
        w += length(part[i])
        w += 8 - w % 8
    }
    return w + length(part[n])
}
function spdx_missing() {
    # For a file of fewer than 3 lines this runs at the first line of the next: name cur.
    if (!spdx && !spdx_done)
        report_in(cur, 1, "no SPDX-License-Identifier in the first 3 lines")
    spdx_done = 1
}
FNR == 1 {
    if (NR > 1)
        spdx_missing()
    cur = FILENAME
    nfiles++
    seen[FILENAME] = 1
    c = FILENAME ~ /\.[ch]$/
    spdx = spdx_done = 0
}
FNR <= 3 && index($0, "SPDX-License-Identifier") { spdx = 1 }
FNR == 3 { spdx_missing() }
/[ \t\r\f\v]$/ { report(FNR, "trailing whitespace") }
c && /^        / { report(FNR, "indented with spaces, not tabs") }
c && length($0) > 12 && (w = width($0)) > 100 {
    report(FNR, "line is " w " columns (max 100, tabs as 8)")
}
END {
    if (NR > 0)
        spdx_missing()
    # awk reads no line of an empty file.
    for (i = 1; i < ARGC; i++) {
        if (!(ARGV[i] in seen)) {
            nfiles++
            print ARGV[i] ":1: empty file: no SPDX-License-Identifier"
            nviol++
            bad[ARGV[i]] = 1
        }
    }
    if (nviol == 0) {
        print "check-style: " nfiles " files checked, no violations"
        exit 0
    }
    nbad = 0
    for (f in bad)
        nbad++
    print "check-style: " nviol " violations in " nbad " of " nfiles " files checked"
    exit 1
}
' "${FILES[@]}"
