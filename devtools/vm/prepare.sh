#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# Prepare (and cache) the boot image of the rzone Soft-RoCE test VM:
# Debian 12's own kernel (linux-image-6.1.0-NN-amd64, which ships rdma_rxe)
# plus a small busybox initramfs holding the modules the guest needs and the
# guest init (init.sh next to this file).
#
# Usage: devtools/vm/prepare.sh [--print-dir] [--quiet]
#   --print-dir   print the image directory (vmlinux/vmlinuz, initrd.img) on stdout
#   --quiet       say nothing when the cached image is up to date
#
# Environment:
#   RZ_VM_CACHE          cache directory (default /var/cache/rzone-vm)
#   RZ_VM_EXTRA_MODULES  more kernel modules to put in the image and load at
#                        boot (space separated)
#
# Idempotent: an image is rebuilt only when one of its inputs changes (kernel
# package and version, busybox version, init.sh, this script, module list).
# Progress goes to stderr.  Safe to run concurrently (flock on the cache).

set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
CACHE=${RZ_VM_CACHE:-/var/cache/rzone-vm}
INIT_SCRIPT=$HERE/init.sh

# Modules loaded at boot, in this order (dependencies come from modules.dep).
# crc32_generic must come before rdma_rxe: without it "rdma link add" fails
# with "failed to add eth0" (rxe allocates the "crc32" crypto hash).
# sch_netem: the two-host lane's network faults (tc qdisc ... netem loss / delay / reorder).
REQUIRED_MODULES="crc32_generic virtio_pci virtio_net 9pnet_virtio 9p ib_uverbs rdma_rxe rdma_ucm sch_netem"
# Loaded when the kernel has them (siw is not enabled in Debian 12's kernel).
OPTIONAL_MODULES="ib_umad siw"

print_dir=0
quiet=0
for arg in "$@"; do
    case "$arg" in
        --print-dir) print_dir=1 ;;
        --quiet) quiet=1 ;;
        -h|--help) sed -n '5,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) echo "prepare.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

say() { echo "rzone-vm prepare: $*" >&2; }
die() { echo "rzone-vm prepare: error: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root"
[ -r "$INIT_SCRIPT" ] || die "missing $INIT_SCRIPT"

export DEBIAN_FRONTEND=noninteractive

apt_updated=0
apt_update() {
    if [ "$apt_updated" -eq 0 ]; then
        say "apt-get update"
        apt-get update -qq >&2 || return 1
        apt_updated=1
    fi
}

# ensure_pkgs PKG...: install the packages that are not installed yet.
ensure_pkgs() {
    local missing=() p
    for p in "$@"; do
        if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
            missing+=("$p")
        fi
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    say "installing ${missing[*]}"
    if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; then
        apt_update || die "apt-get update failed"
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
            die "cannot install ${missing[*]}"
    fi
}

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9

# Host side: qemu, initramfs tools.  Guest side (the guest chroots into the
# host's root): iproute2 for "rdma link add", the rxe verbs provider.
ensure_pkgs qemu-system-x86 busybox-static cpio kmod xz-utils iproute2 ibverbs-providers

# kernel_pkg: print "linux-image-6.1.0-NN-amd64 VERSION", the package
# linux-image-amd64 depends on (what "apt-cache depends linux-image-amd64"
# names) and its version.  One apt-cache call: each costs ~1 s when apt's
# binary cache is disabled (Debian container images).
kernel_pkg() {
    apt-cache show --no-all-versions linux-image-amd64 2>/dev/null |
        sed -n -e 's/^Depends:.*\(linux-image-[0-9][^ ,]*-amd64\) (= \([^)]*\)).*$/\1 \2/p' -e t \
            -e 's/^Depends:.*\(linux-image-[0-9][^ ,]*-amd64\).*$/\1/p' | head -n 1
}

read -r pkg ver < <(kernel_pkg || true) || true
if [ -z "${pkg:-}" ]; then
    apt_update || true
    read -r pkg ver < <(kernel_pkg || true) || true
fi
if [ -z "${pkg:-}" ]; then
    if [ -e "$CACHE/current/initrd.img" ]; then
        say "warning: cannot resolve linux-image-amd64 (no apt lists?); using cached image $(readlink -f "$CACHE/current")"
        [ "$print_dir" -eq 1 ] && readlink -f "$CACHE/current"
        exit 0
    fi
    die "cannot resolve the package linux-image-amd64 depends on"
fi

# Candidate version of $pkg (used if the mirror no longer has $ver).
pkg_version() {
    apt-cache show --no-all-versions "$pkg" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1
}
[ -n "${ver:-}" ] || ver=$(pkg_version)
[ -n "$ver" ] || die "apt-cache show $pkg: no version"

# Find the cached .deb of exactly $pkg $ver.
find_deb() {
    local f
    for f in "$CACHE"/debs/"${pkg}"_*.deb; do
        [ -e "$f" ] || continue
        if [ "$(dpkg-deb -f "$f" Package 2>/dev/null)" = "$pkg" ] &&
           [ "$(dpkg-deb -f "$f" Version 2>/dev/null)" = "$ver" ]; then
            echo "$f"
            return 0
        fi
    done
    return 1
}

deb=$(find_deb || true)
if [ -z "$deb" ]; then
    mkdir -p "$CACHE/debs"
    dl=$(mktemp -d "$CACHE/debs/dl.XXXXXX")
    # apt-get download drops privileges to _apt: let it write there.
    chown _apt "$dl" 2>/dev/null || true
    say "downloading $pkg $ver"
    if ! (cd "$dl" && apt-get download -q "$pkg=$ver" >&2); then
        # The lists may name a version the mirror no longer has.
        apt_update || true
        ver=$(pkg_version)
        (cd "$dl" && apt-get download -q "$pkg=$ver" >&2) || {
            rm -rf "$dl"
            die "apt-get download $pkg=$ver failed"
        }
    fi
    for f in "$dl"/*.deb; do
        mv -f "$f" "$CACHE/debs/"
    done
    rm -rf "$dl"
    deb=$(find_deb) || die "downloaded $pkg but cannot find it in $CACHE/debs"
    # Drop other versions of the kernel package.
    for f in "$CACHE"/debs/linux-image-*.deb; do
        [ "$f" = "$deb" ] || rm -f "$f"
    done
fi

# extract_vmlinux BZIMAGE CONFIG OUT: unpack the xz-compressed ELF kernel of a
# CONFIG_PVH=y kernel (qemu -kernel boots such an ELF through its PVH note).
extract_vmlinux() {
    local off
    grep -q '^CONFIG_PVH=y' "$2" || return 1
    while read -r off; do
        # (tail gets SIGPIPE when xz stops at the end of the stream)
        if xz -dc --single-stream < <(tail -c "+$((off + 1))" "$1" 2>/dev/null) > "$3" 2>/dev/null &&
           [ "$(head -c 4 "$3" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
            return 0
        fi
    done < <(LC_ALL=C grep -abo $'\xfd7zXZ' "$1" | cut -d: -f1)
    return 1
}

bb_version=$(dpkg-query -W -f='${Version}' busybox-static)
modlist="$REQUIRED_MODULES | $OPTIONAL_MODULES | ${RZ_VM_EXTRA_MODULES:-}"
stamp=$(printf 'kernel=%s %s\nbusybox=%s\ninit=%s\nprepare=%s\nmodules=%s\n' \
    "$pkg" "$ver" "$bb_version" \
    "$(sha256sum < "$INIT_SCRIPT" | cut -c1-64)" \
    "$(sha256sum < "${BASH_SOURCE[0]}" | cut -c1-64)" \
    "$modlist")
key=$(printf '%s' "$stamp" | sha256sum | cut -c1-16)
img=$CACHE/img-$key

if [ -e "$img/initrd.img" ] && [ -e "$img/vmlinuz" ] && [ "$(cat "$img/stamp" 2>/dev/null)" = "$stamp" ]; then
    [ "$quiet" -eq 1 ] || say "up to date: $pkg $ver ($img)"
else
    say "building image for $pkg $ver in $img"
    t0=$SECONDS
    work=$(mktemp -d "$CACHE/build.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    x=$work/x
    root=$work/root
    mkdir -p "$x" "$root"

    say "extracting $(basename "$deb")"
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$x" --wildcards './boot/vmlinuz-*' './boot/config-*' './lib/modules/*'
    kver=$(basename "$(find "$x/lib/modules" -mindepth 1 -maxdepth 1 -type d | head -n 1)")
    if [ -z "$kver" ] || [ ! -f "$x/boot/vmlinuz-$kver" ]; then
        die "no kernel/modules found in $deb"
    fi
    depmod -b "$x" "$kver"

    # Resolve dependencies (soft ones too) of the modules we load.
    mods=()
    for m in $REQUIRED_MODULES ${RZ_VM_EXTRA_MODULES:-} $OPTIONAL_MODULES; do
        if ! deps=$(modprobe -d "$x" -S "$kver" --show-depends "$m" 2>/dev/null); then
            case " $OPTIONAL_MODULES " in
                *" $m "*) say "note: optional module $m is not in $kver, skipped"; continue ;;
                *) die "module $m is not in $kver" ;;
            esac
        fi
        mods+=("$m")
        while read -r kind path _; do
            [ "$kind" = insmod ] || continue
            rel=${path#"$x"/}
            mkdir -p "$root/$(dirname "$rel")"
            cp -n "$path" "$root/$rel"
        done <<< "$deps"
    done
    cp "$x/lib/modules/$kver"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$kver/"
    depmod -b "$root" "$kver"
    nmods=$(find "$root/lib/modules" -name '*.ko*' | wc -l)
    say "kernel $kver: ${#mods[@]} modules to load, $nmods module files with dependencies"

    # busybox and its applet links.
    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc/rzvm,proc,sys,dev,run,tmp,newroot}
    cp /bin/busybox "$root/bin/busybox"
    while read -r a; do
        [ "$a" = bin/busybox ] && continue
        [ -e "$root/$a" ] || ln -s /bin/busybox "$root/$a"
    done < <(/bin/busybox --list-full)
    mknod -m 600 "$root/dev/console" c 5 1
    mknod -m 666 "$root/dev/null" c 1 3
    install -m 755 "$INIT_SCRIPT" "$root/init"
    printf '%s\n' "${mods[@]}" > "$root/etc/rzvm/modules"
    echo "$kver" > "$root/etc/rzvm/kernel"

    new=$work/img
    mkdir -p "$new"
    cp "$x/boot/vmlinuz-$kver" "$new/vmlinuz"
    # The bzImage decompresses itself slowly under TCG (~5 s); qemu boots the
    # plain ELF vmlinux through its PVH entry point instead (CONFIG_PVH).
    if extract_vmlinux "$new/vmlinuz" "$x/boot/config-$kver" "$new/vmlinux"; then
        say "extracted vmlinux (PVH boot)"
    else
        say "note: no PVH-bootable vmlinux in the bzImage, booting vmlinuz"
        rm -f "$new/vmlinux"
    fi
    (cd "$root" && find . -print0 | LC_ALL=C sort -z |
        cpio --null -o -H newc -R 0:0 --quiet) | gzip -1 > "$new/initrd.img"
    echo "$kver" > "$new/kernel-version"
    printf '%s\n' "$stamp" > "$new/stamp"
    rm -rf "$img"
    mv "$new" "$img"
    rm -rf "$work"
    trap - EXIT
    say "built $img ($(du -h "$img/initrd.img" | cut -f1) initramfs) in $((SECONDS - t0)) s"
fi

ln -sfn "$(basename "$img")" "$CACHE/current.new"
mv -T "$CACHE/current.new" "$CACHE/current"

# Keep the newest two images (a concurrent run may still be starting from the
# previous one).
keep=$(basename "$img")
n=0
while IFS= read -r d; do
    [ "$(basename "$d")" = "$keep" ] && continue
    n=$((n + 1))
    if [ "$n" -ge 2 ]; then
        say "removing old image $d"
        rm -rf "$d"
    fi
done < <(find "$CACHE" -mindepth 1 -maxdepth 1 -type d -name 'img-*' -printf '%T@ %p\n' |
         sort -rn | cut -d' ' -f2-)

[ "$print_dir" -eq 1 ] && echo "$img"
exit 0
