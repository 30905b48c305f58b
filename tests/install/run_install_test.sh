#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# rzone as an application sees it once installed (meson test suite "install"):
#   1. meson install of the build directory into a temporary DESTDIR;
#   2. the headers (rzone.h; rzone_rdma.h exactly when the RDMA module is built);
#   3. the library: librzone.so.0 (the soname) and the librzone.so symlink;
#   4. librzone.pc: it validates, finds the DESTDIR from where it is (relocatable), and
#      pkg-config --cflags --libs librzone names the installed headers and library;
#   5. the man pages: one per public function (a page that sources its group's page) and
#      per group, and a sample renders with man(1) (skipped when built with -Dman=disabled);
#   6. the apps;
#   7. both examples built with make from a copy of examples/, with pkg-config only;
#   8. the local example run against the installed library, as root on real hugepages.
# A failing step stops the test; the message names it. Prints "install test: PASS" at the end.
#
# Usage: run_install_test.sh MESON SOURCE_DIR BUILD_DIR VERSION WITH_RDMA WITH_MAN
#   (tests/install/meson.build passes them; WITH_RDMA and WITH_MAN are 1 or 0)
# Environment: RZ_KEEP_INSTALL_TMP=1 keeps the temporary directory.

set -euo pipefail

if [ "$#" -ne 6 ]; then
    echo "usage: $0 MESON SOURCE_DIR BUILD_DIR VERSION WITH_RDMA WITH_MAN" >&2
    exit 2
fi
MESON=$1
SRC=$2
BUILD=$3
VERSION=$4
WITH_RDMA=$5
WITH_MAN=$6

STEP=setup
TMP=$(mktemp -d "${TMPDIR:-/tmp}/rzone-install.XXXXXX")
PREFIX_ARG=rzinst-$$
DPDK_RUN=/var/run/dpdk/$PREFIX_ARG

say() {
    printf 'install test: %s\n' "$*"
}

fail() {
    say "FAIL at step \"$STEP\": $*"
    [ "${RZ_KEEP_INSTALL_TMP:-0}" = 1 ] || say "(RZ_KEEP_INSTALL_TMP=1 keeps the temporary directory)"
    exit 1
}

step() {
    STEP=$1
    say "step: $STEP"
}

cleanup() {
    rm -rf -- "$DPDK_RUN"
    rm -f -- /dev/hugepages/"$PREFIX_ARG"*
    if [ "${RZ_KEEP_INSTALL_TMP:-0}" = 1 ]; then
        say "kept $TMP"
    else
        rm -rf -- "$TMP"
    fi
}
trap cleanup EXIT

# Nothing from the environment decides where headers and libraries come from: pkg-config only.
unset CPATH C_INCLUDE_PATH LIBRARY_PATH LD_LIBRARY_PATH PKG_CONFIG_SYSROOT_DIR

step "meson install"
DEST=$TMP/dest
if ! "$MESON" install -C "$BUILD" --destdir "$DEST" >"$TMP/install.log" 2>&1; then
    tail -n 30 "$TMP/install.log" | sed 's/^/    /'
    fail "meson install -C $BUILD --destdir $DEST failed"
fi
# Where things went, from the build's own options (prefix, libdir, ... as configured).
"$MESON" introspect "$BUILD" --buildoptions >"$TMP/options.json" ||
    fail "meson introspect --buildoptions failed"
dirs=$(python3 - "$TMP/options.json" <<'EOF'
import json
import os
import sys

opts = {o["name"]: o["value"] for o in json.load(open(sys.argv[1]))}
prefix = opts["prefix"]
for name in ("prefix", "bindir", "libdir", "includedir", "mandir"):
    print(os.path.normpath(os.path.join(prefix, opts[name])))
EOF
) || fail "cannot read the install directories from meson introspect"
{
    read -r PREFIX
    read -r BINDIR
    read -r LIBDIR
    read -r INCLUDEDIR
    read -r MANDIR
} <<<"$dirs"
D_LIB=$DEST$LIBDIR
D_INC=$DEST$INCLUDEDIR
D_MAN=$DEST$MANDIR
D_BIN=$DEST$BINDIR
say "installed under $DEST$PREFIX"

step "headers"
[ -f "$D_INC/rzone.h" ] || fail "$D_INC/rzone.h is not installed"
if [ "$WITH_RDMA" = 1 ]; then
    [ -f "$D_INC/rzone_rdma.h" ] || fail "$D_INC/rzone_rdma.h is not installed"
    [ -f "$D_INC/rzone_pkt_remote.h" ] || fail "$D_INC/rzone_pkt_remote.h is not installed"
else
    [ ! -e "$D_INC/rzone_rdma.h" ] || fail "rzone_rdma.h is installed without the RDMA module"
    [ ! -e "$D_INC/rzone_pkt_remote.h" ] ||
        fail "rzone_pkt_remote.h is installed without the RDMA module"
fi
cmp -s "$SRC/include/rzone.h" "$D_INC/rzone.h" || fail "the installed rzone.h is not include/rzone.h"

step "library"
[ -L "$D_LIB/librzone.so.0" ] || fail "$D_LIB/librzone.so.0 is not a symlink"
[ -f "$D_LIB/librzone.so.0" ] || fail "$D_LIB/librzone.so.0 points at nothing"
[ -L "$D_LIB/librzone.so" ] || fail "$D_LIB/librzone.so (the link-time name) is not a symlink"
[ "$(readlink -f "$D_LIB/librzone.so")" = "$(readlink -f "$D_LIB/librzone.so.0")" ] ||
    fail "librzone.so and librzone.so.0 are not the same library"
soname=$(readelf -d "$D_LIB/librzone.so.0" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = librzone.so.0 ] || fail "soname is \"$soname\", not librzone.so.0"
say "$(readlink "$D_LIB/librzone.so.0") with soname $soname"

step "pkg-config"
export PKG_CONFIG_PATH=$D_LIB/pkgconfig
PC=$D_LIB/pkgconfig/librzone.pc
[ -f "$PC" ] || fail "$PC is not installed"
[ "$(pkg-config --path librzone)" = "$PC" ] || fail "pkg-config finds $(pkg-config --path librzone)"
# (pkgconf also reports, on stdout, what it dislikes in libdpdk.pc: not ours to judge.)
pkg-config --validate librzone >"$TMP/validate.out" 2>&1 ||
    fail "pkg-config --validate librzone: $(cat "$TMP/validate.out")"
# The .pc file finds its prefix from where it is (meson's pkgconfig.relocatable, a default of
# the project since the install test came). A build directory set up before keeps the old value
# (default options apply at the first setup only): then a copy with the DESTDIR prefix is used.
if ! grep -q '^prefix=${pcfiledir}/' "$PC"; then
    say "librzone.pc is not relocatable ($(grep '^prefix=' "$PC")): this build directory" \
        "predates the default; meson configure $BUILD -Dpkgconfig.relocatable=true fixes it." \
        "Going on with a copy whose prefix is $DEST$PREFIX"
    mkdir -p "$TMP/pkgconfig"
    sed "s|^prefix=.*|prefix=$DEST$PREFIX|" "$PC" >"$TMP/pkgconfig/librzone.pc"
    export PKG_CONFIG_PATH=$TMP/pkgconfig
fi
[ "$(pkg-config --modversion librzone)" = "$VERSION" ] ||
    fail "version $(pkg-config --modversion librzone), not $VERSION"
pkg-config --print-requires librzone | grep -q '^libdpdk' || fail "Requires has no libdpdk"
private=$(pkg-config --print-requires-private librzone)
want_private="hwloc numa"
[ "$WITH_RDMA" = 1 ] && want_private="$want_private libibverbs librdmacm"
for r in $want_private; do
    grep -q "^$r\b" <<<"$private" || fail "Requires.private has no $r (it has: $private)"
done
flags=$(pkg-config --cflags --libs librzone) || fail "pkg-config --cflags --libs librzone failed"
# The first -I and -L are rzone's own; relocatable, they are relative to the .pc file.
inc=$(grep -o -- '-I[^ ]*' <<<"$flags" | head -n 1)
lib=$(grep -o -- '-L[^ ]*' <<<"$flags" | head -n 1)
[ "$(readlink -f "${inc#-I}")" = "$(readlink -f "$D_INC")" ] ||
    fail "the first -I (${inc#-I}) is not the installed include directory $D_INC"
[ "$(readlink -f "${lib#-L}")" = "$(readlink -f "$D_LIB")" ] ||
    fail "the first -L (${lib#-L}) is not the installed library directory $D_LIB"
grep -q -- '-lrzone' <<<"$flags" || fail "no -lrzone in $flags"
grep -q -- '-lrte_eal' <<<"$flags" || fail "no DPDK (-lrte_eal) in $flags"
say "pkg-config --cflags --libs librzone: ${inc} ... ${lib} -lrzone ... (libdpdk)"

step "man pages"
if [ "$WITH_MAN" = 1 ]; then
    man3=$D_MAN/man3
    [ -d "$man3" ] || fail "$man3 is not installed"
    headers=("$SRC/include/rzone.h" "$SRC/include/rzone_observe.h")
    groups=(rzone_processes rzone_regions rzone_mappings rzone_capabilities rzone_stats
        rzone_observe)
    sample=(rz_region_create rz_capability_map rz_init rzone_regions)
    if [ "$WITH_RDMA" = 1 ]; then
        headers+=("$SRC/include/rzone_rdma.h" "$SRC/include/rzone_pkt_remote.h")
        groups+=(rzone_rdma_device rzone_rdma_registration rzone_rdma_peers rzone_rdma_grants
            rzone_rdma_remote rzone_rdma_messages rzone_pkt_remote)
        sample+=(rz_rdma_grant rzone_rdma_grants)
    fi
    # Every function the headers declare (a declaration starts at the start of a line).
    mapfile -t funcs < <(grep -h -E '^[a-z]' "${headers[@]}" |
        sed -n -E 's/^[^(]*[ *](rz_[a-z0-9_]+)\(.*/\1/p' | sort -u)
    [ "${#funcs[@]}" -ge 40 ] || fail "only ${#funcs[@]} functions found in the headers"
    for f in "${funcs[@]}"; do
        [ -f "$man3/$f.3" ] || fail "no man page for $f ($man3/$f.3)"
        grep -q '^\.so man3/rzone_' "$man3/$f.3" ||
            fail "$man3/$f.3 does not source a group page"
    done
    for g in "${groups[@]}"; do
        [ -f "$man3/$g.3" ] || fail "no man page for the group $g"
    done
    if command -v man >/dev/null; then
        render() { MANWIDTH=100 man --warnings -M "$D_MAN" -P cat "$1"; }
    else
        render() { (cd "$D_MAN" && groff -s -ww -man -Tutf8 "man3/$1.3"); }
    fi
    for name in "${sample[@]}"; do
        if ! render "$name" >"$TMP/man.out" 2>"$TMP/man.err"; then
            fail "man $name does not render: $(head -n 5 "$TMP/man.err")"
        fi
        [ ! -s "$TMP/man.err" ] || fail "man $name: warnings: $(head -n 5 "$TMP/man.err")"
        case $name in
            rzone_*) want=$name ;;
            *) want="$name (" ;;
        esac
        grep -qF -- "$want" "$TMP/man.out" || fail "man $name does not show $want"
        grep -q 'Returns' "$TMP/man.out" || fail "man $name has no Returns section"
    done
    # The errors are there: the page of rz_region_create lists what it sets rte_errno to.
    render rz_region_create | grep -q 'ENOMEM' || fail "man rz_region_create lists no ENOMEM"
    say "${#funcs[@]} functions, ${#groups[@]} groups; rendered: ${sample[*]}"
else
    say "skipped: built without man pages (-Dman=disabled, or no doxygen)"
fi

step "apps"
apps=(rzone-demo rzone-info rzone-fwd)
[ "$WITH_RDMA" = 1 ] && apps+=(rzone-rdma-demo)
for app in "${apps[@]}"; do
    [ -x "$D_BIN/$app" ] || fail "$D_BIN/$app is not installed"
    # Installed, each answers --help with the EAL's options and its own (exit status 0).
    LD_LIBRARY_PATH=$D_LIB "$D_BIN/$app" --help >"$TMP/help.out" 2>&1 ||
        fail "$app --help: exit status $?"
    grep -q 'EAL common options' "$TMP/help.out" || fail "$app --help shows no EAL options"
    grep -q "Usage: .*$app" "$TMP/help.out" || fail "$app --help shows no usage of its own"
done

LD_LIBRARY_PATH=$D_LIB "$D_BIN/rzone-info" --help 2>&1 | grep -q -- '--json' ||
    fail "rzone-info --help does not show --json"
# rzone-info(1) and rzone-fwd(1), in every build.
for page in rzone-info rzone-fwd; do
    [ -f "$D_MAN/man1/$page.1" ] || fail "$D_MAN/man1/$page.1 is not installed"
    if command -v man >/dev/null; then
        MANWIDTH=100 man --warnings -M "$D_MAN" -P cat "$page" >"$TMP/man1.out" \
            2>"$TMP/man1.err" || fail "man $page does not render"
        [ ! -s "$TMP/man1.err" ] || fail "man $page: warnings: $(head -n 5 "$TMP/man1.err")"
        grep -q 'EXIT STATUS' "$TMP/man1.out" || fail "man $page has no EXIT STATUS"
    fi
done
[ -f "$D_INC/rzone_observe.h" ] || fail "$D_INC/rzone_observe.h is not installed"
[ -f "$D_INC/rzone_pkt.h" ] || fail "$D_INC/rzone_pkt.h is not installed"
say "installed and answering --help: ${apps[*]}; rzone-info(1), rzone-fwd(1)"

step "examples build"
mkdir -p "$TMP/src"
cp -r "$SRC/examples" "$TMP/src/"
rm -rf "$TMP/src/examples/"*/build
examples=(local)
[ "$WITH_RDMA" = 1 ] && examples+=(rdma)
for ex in "${examples[@]}"; do
    if ! make -C "$TMP/src/examples/$ex" EXTRA_CFLAGS=-Werror >"$TMP/make-$ex.log" 2>&1; then
        tail -n 30 "$TMP/make-$ex.log" | sed 's/^/    /'
        fail "make -C examples/$ex failed"
    fi
done
LOCAL_EX=$TMP/src/examples/local/build/rzone-local-example
[ -x "$LOCAL_EX" ] || fail "make built no $LOCAL_EX"
[ "$WITH_RDMA" = 0 ] || [ -x "$TMP/src/examples/rdma/build/rzone-rdma-example" ] ||
    fail "make built no rzone-rdma-example"
resolved=$(LD_LIBRARY_PATH=$D_LIB ldd "$LOCAL_EX" | awk '$1 == "librzone.so.0" { print $3 }')
[ "$(readlink -f "$resolved")" = "$(readlink -f "$D_LIB/librzone.so.0")" ] ||
    fail "the local example loads librzone.so.0 from \"$resolved\", not from $D_LIB"
say "built: ${examples[*]}"

step "local example run"
[ "$(id -u)" -eq 0 ] || fail "must run as root (hugepages, /var/run/dpdk)"
status=0
LD_LIBRARY_PATH=$D_LIB timeout 120 "$LOCAL_EX" --no-pci --file-prefix="$PREFIX_ARG" -l 0 \
    --base-virtaddr=0x200000000000 --log-level=lib.eal:notice >"$TMP/run.log" 2>&1 || status=$?
sed 's/^/    /' "$TMP/run.log"
[ "$status" -eq 0 ] || fail "rzone-local-example exited with status $status"
grep -q '^rzone-local-example: PASS$' "$TMP/run.log" || fail "rzone-local-example did not PASS"

say "PASS"
