#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
"""Check that librzone's modules call one way only, on the built objects.

Usage: devtools/check-layers.py BUILD_DIR [--dot]

The declared order is BUILD_DIR/lib/rz-layers.txt (written by lib/meson.build from its module
list, lowest first). The objects of each module are those compile_commands.json lists under
lib/<module>/ or drivers/<family>/ (tests, perf, apps and fuzzers excluded). For every global
symbol an object references (nm -u) that another module's object defines (nm --defined-only),
there is an edge from the referencing module to the defining one. An edge that goes up the
declared order (or to a module not in it) is a layering violation: the check prints every edge
with the symbols behind it, then "layers: N modules, E edges, V upward" and exits 1 if V > 0.
Since every edge must go down a total order, a clean result also means the graph has no cycle.
"""
import json
import os
import subprocess
import sys
from collections import defaultdict


def module_of(path, root):
    rel = os.path.relpath(os.path.realpath(path), root).split(os.sep)
    if len(rel) >= 3 and rel[0] == "lib":
        return "lib/" + rel[1]
    if len(rel) >= 3 and rel[0] == "drivers":
        return "drivers/" + rel[1]
    return None


def nm(args, obj):
    out = subprocess.run(["nm"] + args + [obj], capture_output=True, text=True, check=True)
    return out.stdout.splitlines()


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    build = os.path.realpath(sys.argv[1])
    root = os.path.realpath(os.path.join(build, ".."))
    with open(os.path.join(build, "lib", "rz-layers.txt"), encoding="utf-8") as f:
        order = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    rank = {m: i for i, m in enumerate(order)}
    with open(os.path.join(build, "compile_commands.json"), encoding="utf-8") as f:
        commands = json.load(f)
    objs = defaultdict(set)
    for c in commands:
        out = os.path.join(c["directory"], c["output"])
        if any(part in out for part in ("/tests/", "/perf/", "/apps/", "/examples/")):
            continue
        m = module_of(os.path.join(c["directory"], c["file"]), root)
        if m is not None:
            objs[m].add(out)
    missing = [m for m in order if m not in objs]
    if missing:
        print("check-layers: no objects built for " + ", ".join(missing))
        return 1
    defined = {}
    wants = defaultdict(set)
    for m, files in objs.items():
        for o in files:
            if not os.path.exists(o):
                print(f"check-layers: {o} is not built (run ninja first)")
                return 1
            for line in nm(["--defined-only", "-g"], o):
                f = line.split()
                if len(f) == 3:
                    defined[f[2]] = m
            for line in nm(["-u"], o):
                f = line.split()
                if len(f) == 2 and f[0] == "U":
                    wants[m].add(f[1])
    edges = defaultdict(set)
    for m, syms in wants.items():
        for s in syms:
            d = defined.get(s)
            if d is not None and d != m:
                edges[(m, d)].add(s)
    upward = 0
    for (a, b), syms in sorted(edges.items(), key=lambda e: (rank.get(e[0][0], 99), e[0][1])):
        ok = a in rank and b in rank and rank[b] < rank[a]
        upward += not ok
        s = sorted(syms)
        more = f" and {len(s) - 4} more" if len(s) > 4 else ""
        print(f"{'  ' if ok else 'UPWARD '}{a} -> {b}: {', '.join(s[:4])}{more}")
    undeclared = sorted(set(objs) - set(rank))
    for m in undeclared:
        print(f"UNDECLARED module {m}: not in lib/meson.build's list")
    print(f"layers: {len(objs)} modules ({' < '.join(order)}), {len(edges)} edges, "
          f"{upward} upward")
    return 1 if upward or undeclared else 0


if __name__ == "__main__":
    sys.exit(main())
