#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# Build the manual pages: doc/gen-man.sh DOXYGEN DOXYFILE OUTDIR (run by doc/meson.build).
# OUTDIR (the man3 directory doxygen writes, per DOXYFILE) is made afresh, so that a page whose
# function is gone goes too. Doxygen fails on any warning (WARN_AS_ERROR); OUTDIR is then
# removed, so that the next build runs it again. Of the link pages MAN_LINKS makes, only those
# named after rzone's symbols (rz_*, RZ_*, rzone*) are kept: doxygen also makes one for every
# struct field (addr.3, len.3, flags.3, ...), names that belong to nobody's man3.

set -eu

if [ "$#" -ne 3 ]; then
    echo "usage: $0 DOXYGEN DOXYFILE OUTDIR" >&2
    exit 2
fi
doxygen=$1
doxyfile=$2
out=$3

rm -rf -- "$out"
if ! "$doxygen" "$doxyfile"; then
    rm -rf -- "$out"
    echo "gen-man: doxygen failed (warnings are errors: see above)" >&2
    exit 1
fi
if [ ! -f "$out/rzone.h.3" ]; then
    rm -rf -- "$out"
    echo "gen-man: doxygen wrote no rzone.h.3 in $out" >&2
    exit 1
fi
for page in "$out"/*.3; do
    case ${page##*/} in
        rz_*|RZ_*|rzone*) ;;
        *) rm -f -- "$page" ;;
    esac
done
# The directory is the build target: its time is when the pages were made.
touch -- "$out"
