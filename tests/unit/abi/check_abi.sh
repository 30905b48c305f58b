#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# librzone's ABI: it exports exactly the functions its public headers declare (all rz_*; not
# their static inline ones), has the soname librzone.so.0, and links the verbs libraries if
# and only if it was built with RDMA.
# Usage: check_abi.sh SOURCE_ROOT LIBRARY WITH_RDMA(0|1)
set -euo pipefail

src=$1
lib=$2
with_rdma=$3
fail=0
bad() { echo "FAIL: $*"; fail=1; }

headers=("$src/include/rzone.h" "$src/include/rzone_observe.h" "$src/include/rzone_pkt.h")
[ "$with_rdma" = 1 ] && headers+=("$src/include/rzone_rdma.h" "$src/include/rzone_pkt_remote.h")

exported=$(nm -D --defined-only "$lib" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' | sort -u)
# (static inline functions, compiled into the caller, are not exported: DPDK's fast-path kind)
declared=$(grep -hoE '^[a-z][^#(]*\brz_[a-z0-9_]+\(' "${headers[@]}" | grep -v '^static inline ' |
    grep -oE 'rz_[a-z0-9_]+\($' | tr -d '(' | sort -u)
[ -n "$exported" ] || bad "nm -D lists nothing for $lib"
[ -n "$declared" ] || bad "no function declared in ${headers[*]}"

not_api=$(grep -v '^rz_' <<<"$exported" || true)
[ -z "$not_api" ] || bad "exported but not rz_*: $(tr '\n' ' ' <<<"$not_api")"
extra=$(comm -23 <(echo "$exported") <(echo "$declared"))
[ -z "$extra" ] || bad "exported but declared in no public header: $(tr '\n' ' ' <<<"$extra")"
missing=$(comm -13 <(echo "$exported") <(echo "$declared"))
[ -z "$missing" ] || bad "declared but not exported: $(tr '\n' ' ' <<<"$missing")"
echo "exports: $(wc -l <<<"$exported") symbols, all rz_*, = the $(wc -l <<<"$declared") functions of ${headers[*]##*/}"

soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = librzone.so.0 ] || bad "soname is '$soname', want librzone.so.0"
echo "soname: $soname"

verbs=$(ldd "$lib" | grep -E 'libibverbs|librdmacm' || true)
if [ "$with_rdma" = 1 ]; then
    [ -n "$verbs" ] || bad "built with RDMA but links no verbs library"
else
    [ -z "$verbs" ] || bad "built without RDMA but links: $verbs"
fi
echo "verbs libraries linked: ${verbs:-none}" | tr -s '\n\t' ' '
echo
[ "$fail" = 0 ] && echo "PASS: ABI of $lib"
exit "$fail"
