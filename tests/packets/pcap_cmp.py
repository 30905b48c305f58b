#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
"""Compare two pcap files packet for packet, in order (timestamps are not compared: a pcap
port stamps the time it writes).

Usage: pcap_cmp.py EXPECTED ACTUAL [--min-packets N] [--min-len N] [--max-len N]
                   [--gap N | --dropped N]

Prints the packet count, the size range, how many frames are longer than a standard mbuf's
data room (2,048 bytes: multi-segment in rzone-fwd), and exits 1 at the first difference
(index, lengths, first differing byte), or if EXPECTED has fewer than N packets or sizes
outside the range asked for. With --gap N, ACTUAL must be EXPECTED but for exactly N
consecutive packets missing in one place (a stream cut once: N may be 0); every packet that is
there must be whole and in order. With --dropped N, ACTUAL must be an in-order subsequence of
EXPECTED with exactly N packets missing anywhere (drops: N may be 0), every packet that is there
byte-identical to its original.
"""
import argparse
import struct
import sys


def packets(path):
    with open(path, "rb") as f:
        hdr = f.read(24)
        if len(hdr) != 24:
            raise ValueError(f"{path}: no pcap header")
        magic = struct.unpack("<I", hdr[:4])[0]
        if magic in (0xa1b2c3d4, 0xa1b23c4d):
            end = "<"
        elif magic in (0xd4c3b2a1, 0x4d3cb2a1):
            end = ">"
        else:
            raise ValueError(f"{path}: not a pcap file (magic {magic:#x})")
        while True:
            rec = f.read(16)
            if not rec:
                return
            if len(rec) != 16:
                raise ValueError(f"{path}: truncated record header")
            _, _, caplen, length = struct.unpack(end + "IIII", rec)
            data = f.read(caplen)
            if len(data) != caplen:
                raise ValueError(f"{path}: truncated packet")
            yield caplen, length, data


def subsequence(a):
    """ACTUAL is EXPECTED with exactly a.dropped packets missing, the rest identical, in order."""
    exp = packets(a.expected)
    n = kept = missing = jumbo = runs = 0
    lo, hi = 1 << 30, 0
    first_miss = None
    prev_missed = False
    for g in packets(a.actual):
        at = n
        e = next(exp, None)
        while e is not None and e != g:
            if first_miss is None:
                first_miss = n
            runs += not prev_missed
            prev_missed = True
            missing += 1
            n += 1
            e = next(exp, None)
        if e is None:
            print(f"FAIL: packet {kept} of {a.actual} ({g[0]} bytes) is not in {a.expected} "
                  f"at or after packet {at} (corrupted, out of order or duplicated)")
            return 1
        prev_missed = False
        lo, hi = min(lo, g[0]), max(hi, g[0])
        jumbo += g[0] > 2048
        kept += 1
        n += 1
    for _ in exp:
        if first_miss is None:
            first_miss = n
        runs += not prev_missed
        prev_missed = True
        missing += 1
        n += 1
    print(f"{kept} packets identical, in order ({lo}..{hi} bytes, {jumbo} longer than 2,048); "
          f"{missing} of {n} missing in {runs} runs"
          + (f", the first at packet {first_miss}" if missing else ""))
    if missing != a.dropped:
        print(f"FAIL: {missing} packets missing, not {a.dropped} (the count of the drops)")
        return 1
    if n < a.min_packets:
        print(f"FAIL: {n} packets expected, fewer than {a.min_packets}")
        return 1
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("expected")
    ap.add_argument("actual")
    ap.add_argument("--min-packets", type=int, default=0)
    ap.add_argument("--min-len", type=int, default=0)
    ap.add_argument("--max-len", type=int, default=0)
    ap.add_argument("--gap", type=int, default=None)
    ap.add_argument("--dropped", type=int, default=None)
    a = ap.parse_args()
    if a.gap is not None and a.dropped is not None:
        ap.error("--gap and --dropped do not go together")
    if a.dropped is not None:
        return subsequence(a)
    n = 0
    gap_at, gap = None, 0
    jumbo = 0
    lo, hi = 1 << 30, 0
    exp = packets(a.expected)
    act = packets(a.actual)
    while True:
        e = next(exp, None)
        g = next(act, None)
        if e is None and g is None:
            break
        if e != g and a.gap is not None and gap_at is None and g is not None:
            # The one cut: skip expected packets up to the one that came.
            gap_at = n
            while e is not None and e != g:
                gap += 1
                n += 1
                e = next(exp, None)
            if e is None:
                print(f"FAIL: packet {gap_at}: {a.actual} has a packet that is not in "
                      f"{a.expected} after it (corrupted or out of order)")
                return 1
        if e is None or g is None:
            if e is not None and a.gap is not None and gap_at is None:
                # The cut at the very end: the rest is missing.
                gap_at = n
                while e is not None:
                    gap += 1
                    n += 1
                    e = next(exp, None)
                break
            print(f"FAIL: packet {n}: {'expected has no more' if e is None else 'missing'}"
                  f" ({a.actual} has {'more' if e is None else 'fewer'} packets)")
            return 1
        if e != g:
            diff = next((i for i in range(min(len(e[2]), len(g[2])))
                         if e[2][i] != g[2][i]), min(len(e[2]), len(g[2])))
            print(f"FAIL: packet {n} differs: caplen {e[0]}/{g[0]}, len {e[1]}/{g[1]}, "
                  f"first differing byte at {diff}")
            return 1
        lo, hi = min(lo, e[0]), max(hi, e[0])
        jumbo += e[0] > 2048
        n += 1
    if a.gap is not None:
        print(f"{n - gap} packets identical, in order ({lo}..{hi} bytes, {jumbo} longer "
              f"than 2,048); {gap} missing in one gap"
              + (f" from packet {gap_at} to {gap_at + gap - 1}" if gap else ""))
        if gap != a.gap:
            print(f"FAIL: {gap} packets missing, not {a.gap} (the count of the drops)")
            return 1
    else:
        print(f"{n} packets identical, in order ({lo}..{hi} bytes, {jumbo} longer than "
              "2,048)")
    if n < a.min_packets:
        print(f"FAIL: {n} packets, fewer than {a.min_packets}")
        return 1
    if n and ((a.min_len and lo > a.min_len) or (a.max_len and hi < a.max_len)):
        print(f"FAIL: sizes {lo}..{hi} do not span {a.min_len}..{a.max_len}")
        return 1
    if a.max_len and jumbo == 0:
        print("FAIL: no frame needs several mbufs")
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, ValueError) as err:
        print(f"FAIL: {err}")
        sys.exit(1)
