#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# rzone-info against a live instance: an agent primary and an agent secondary (tests/mp/agent.c)
# make regions, mappings and capabilities; rzone-info --json must show each of them as made,
# its text the same facts, its exit status healthy; a secondary killed -9 while the primary is
# stopped (nobody reaps) makes it unhealthy; the audit trail (--audit --json, telemetry
# /rzone/audit) lists exactly the operations performed, and overflows as documented; an
# observer takes no process slot and its death (kill -9) changes nothing.
# Environment (meson test): RZ_AGENT, RZ_INFO.

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

AGENT = os.environ.get("RZ_AGENT")
INFO = os.environ.get("RZ_INFO")
PREFIX = "rzt-info-%d" % os.getpid()
# The tests' base address (tests/common/rz_test.h; meson passes another under ThreadSanitizer).
BASE_VA = "--base-virtaddr=" + os.environ.get("RZ_TEST_BASE_VA", "0x200000000000")
PAGE = 2 * 1024 * 1024
failures = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL: " + msg, flush=True)


def check(cond, msg):
    if not cond:
        fail(msg)
    return cond


class Agent:
    def __init__(self, primary, lcore):
        args = [AGENT, "--proc-type=" + ("primary" if primary else "secondary"), "--no-pci",
                BASE_VA, "-l", str(lcore), "--log-level=lib.rzone:notice",
                "--file-prefix=" + PREFIX]
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, bufsize=1)
        line = self.p.stdout.readline()
        if not line.startswith("ready "):
            raise RuntimeError("agent did not start: %r" % line)
        self.pid = int(line.split()[1])

    def cmd(self, c):
        self.p.stdin.write(c + "\n")
        self.p.stdin.flush()
        return self.p.stdout.readline().strip()

    def ok(self, c):
        r = self.cmd(c)
        if not r.startswith("ok"):
            raise RuntimeError("%s: %r" % (c, r))
        return r[3:]

    def many(self, cmds):
        # Pipelined in batches (the pipes hold a few KiB).
        out = []
        for i in range(0, len(cmds), 100):
            batch = cmds[i:i + 100]
            self.p.stdin.write("".join(c + "\n" for c in batch))
            self.p.stdin.flush()
            out += [self.p.stdout.readline().strip() for _ in batch]
        return out

    def quit(self):
        try:
            self.cmd("quit")
        except (BrokenPipeError, OSError):
            pass
        self.p.wait(timeout=30)


def info(*args, check_rc=None):
    r = subprocess.run([INFO, "-f", PREFIX] + list(args), capture_output=True, text=True,
                       timeout=60)
    if check_rc is not None and r.returncode != check_rc:
        fail("rzone-info %s: exit %d, not %d\n%s%s" % (" ".join(args), r.returncode, check_rc,
                                                        r.stdout[-2000:], r.stderr[-2000:]))
    return r


def info_json(*args, check_rc=0):
    r = info("--json", *args, check_rc=check_rc)
    try:
        return json.loads(r.stdout)
    except ValueError as e:
        fail("rzone-info --json %s: not JSON (%s): %r" % (" ".join(args), e, r.stdout[:500]))
        return {}


def region_of(doc, rid):
    for r in doc.get("regions", []):
        if r["id"] == rid:
            return r
    return None


def audit_since(n0):
    doc = info_json("--audit")
    return doc, [r for r in doc.get("records", []) if r["seq"] >= n0]


def telemetry(cmd):
    path = "/var/run/dpdk/%s/dpdk_telemetry.v2" % PREFIX
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    s.recv(16384)
    s.send(cmd.encode())
    out = json.loads(s.recv(65536).decode())
    s.close()
    return out


def key_events(recs):
    return [(r["event"], r["cause"], r["region"], r["actor"], r["target"], r["result"])
            for r in recs]


def main():
    if not AGENT or not INFO:
        print("FAIL: RZ_AGENT and RZ_INFO must be set (run through meson test)")
        return 1
    p = Agent(True, 0)
    s = Agent(False, 1)
    agents = [p, s]
    try:
        run(p, s)
    finally:
        for a in agents:
            if a.p.poll() is None:
                try:
                    os.kill(a.pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
                a.quit()
        shutil.rmtree("/var/run/dpdk/" + PREFIX, ignore_errors=True)
        for f in glob.glob("/dev/hugepages/" + PREFIX + "map_*"):
            os.unlink(f)
    print("%d failure(s)" % failures)
    return 1 if failures else 0


def run(p, s):
    # No such instance: exit status 2, and no runtime directory made for it.
    ghost = PREFIX + "-none"
    r = subprocess.run([INFO, "-f", ghost], capture_output=True, text=True, timeout=60)
    check(r.returncode == 2 and "no DPDK instance" in r.stderr and
          not os.path.exists("/var/run/dpdk/" + ghost),
          "no such instance: exit %d, %r" % (r.returncode, r.stderr))
    head0 = info_json("--audit")["written"]
    # What the test makes.
    r1 = p.ok("create %d 3" % (2 * PAGE))
    p.ok("map %s 0 0 3" % r1)                             # the owner maps r1
    r2 = s.ok("create %d 1" % PAGE)
    p.ok("map %s %d 0 1" % (r1, s.pid))                   # S maps r1 read-only
    tok1 = p.ok("cap %s %d 1" % (r1, s.pid))              # Share capability for S, unused
    r3 = p.ok("create %d 3" % PAGE)
    tok2 = p.ok("cap %s %d 0" % (r3, s.pid))              # Move capability: S uses it
    check(s.ok("capmap %s 0" % tok2) == r3, "capmap returns the region")
    tok3 = p.ok("cap %s %d 2" % (r1, s.pid))              # Copy-on-write, revoked
    p.ok("revoke %s" % tok3)
    check(s.cmd("capmap 0x123450000 0").startswith("err 2"), "a forged token is refused")
    addr_p1 = p.ok("get %s 0" % r1)
    addr_s1 = s.ok("get %s 0" % r1)
    addr_s3 = s.ok("get %s 0" % r3)

    # The state, as JSON.
    doc = info_json()
    check(doc.get("rzone_info") == 1 and doc.get("healthy") is True and
          doc.get("problems") == [] and doc.get("consistent") is True,
          "healthy, consistent document: %r" % doc.get("problems"))
    procs = {x["pid"]: x for x in doc.get("processes", [])}
    check(sorted(procs) == sorted([p.pid, s.pid]),
          "the two processes and only them (the observer takes no slot): %r" % sorted(procs))
    check(procs.get(p.pid, {}).get("type") == "primary" and
          procs.get(s.pid, {}).get("type") == "secondary", "process types")
    check(all(x["alive"] for x in procs.values()), "both alive")
    for x in procs.values():
        with open("/proc/%d/stat" % x["pid"]) as f:
            ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        check(x["start_ticks"] == ticks, "start time of %d" % x["pid"])
    check(doc["table"]["regions"] == 3, "3 regions in the table")
    check(len(doc["regions"]) == 3, "3 regions listed")
    e1, e2, e3 = region_of(doc, r1), region_of(doc, r2), region_of(doc, r3)
    if check(e1 is not None and e2 is not None and e3 is not None, "regions by id"):
        check(e1["size"] == 2 * PAGE and e1["pages"] == 2 and e1["ceiling"] == "rw-" and
              e1["owner_pid"] == p.pid and e1["owner_alive"], "region 1 fields: %r" % e1)
        maps = {m["pid"]: m for m in e1["mappings"]}
        check(sorted(maps) == sorted([p.pid, s.pid]), "region 1 mapped by both")
        check(maps.get(p.pid, {}).get("perms") == "rw-" and
              int(maps[p.pid]["addr"], 16) == int(addr_p1, 16), "owner's mapping")
        check(maps.get(s.pid, {}).get("perms") == "r--" and
              int(maps[s.pid]["addr"], 16) == int(addr_s1, 16), "secondary's mapping")
        check(int(e1["addr"], 16) == int(addr_p1, 16), "region address")
        caps = e1["capabilities"]
        check(len(caps) == 1 and caps[0]["mode"] == "share" and
              caps[0]["target_pid"] == s.pid and caps[0]["state"] == "active" and
              caps[0]["rights"] == "rw-" and
              int(caps[0]["slot"], 16) == int(tok1, 16) & 0xffff,
              "region 1's one outstanding capability: %r" % caps)
        check(e2["size"] == PAGE and e2["ceiling"] == "r--" and e2["owner_pid"] == s.pid,
              "region 2 fields: %r" % e2)
        check(e3["owner_pid"] == s.pid and e3["capabilities"] == [] and
              [(m["pid"], m["perms"]) for m in e3["mappings"]] == [(s.pid, "rw-")] and
              int(e3["mappings"][0]["addr"], 16) == int(addr_s3, 16),
              "region 3 moved to the secondary: %r" % e3)
        for e in (e1, e2, e3):
            check(e["id"].startswith("0x") and e["busy"] is None and e["remote_grants"] == 0,
                  "ids in hex, nothing busy")
            a = [x for x in doc["arenas"] if x["index"] == e["arena"]]
            check(len(a) == 1 and a[0]["name"] == e["arena_name"] and
                  int(a[0]["used_mask"], 16) >> e["first_page"] & 1 == 1,
                  "region's pages are marked in its arena")
    used = sum(x["used"] for x in doc["arenas"])
    check(used == 4, "4 pages in use in the arenas (%d)" % used)
    nodes = doc.get("nodes", [])
    check(len(nodes) >= 1 and nodes[0]["used_pages"] == 4 and
          nodes[0]["spare_pages"] == nodes[0]["arena_pages"] - 4 and
          nodes[0]["hugepages_total"] >= nodes[0]["hugepages_free"] > 0,
          "node 0 sums: %r" % nodes)
    check(doc.get("rdma") == [], "no RDMA state in this instance")

    # One region; a region that does not exist.
    one = info_json("--region", r2)
    check([x["id"] for x in one.get("regions", [])] == [r2] and "processes" not in one,
          "--region shows that region only")
    info("--region", "0x7777770000", check_rc=2)
    # Text: the same facts.
    t = info(check_rc=0).stdout
    check(("region %s: %d bytes" % (r1, 2 * PAGE)) in t and "healthy" in t and
          ("pid %d: %s r--" % (s.pid, addr_s1)) in t and
          ("pid %d (slot" % p.pid) in t, "text output:\n" + t)

    # The audit trail: exactly what was done, in order.
    adoc, recs = audit_since(head0)
    want = [("create", "explicit", r1, p.pid, p.pid, 0),
            ("create", "explicit", r2, s.pid, s.pid, 0),
            ("cap-create", "explicit", r1, p.pid, s.pid, 0),
            ("create", "explicit", r3, p.pid, p.pid, 0),
            ("cap-create", "explicit", r3, p.pid, s.pid, 0),
            ("transfer", "capability", r3, p.pid, s.pid, 0),
            ("cap-use", "explicit", r3, s.pid, s.pid, 0),
            ("cap-create", "explicit", r1, p.pid, s.pid, 0),
            ("cap-revoke", "explicit", r1, p.pid, 0, 0),
            ("cap-use", "explicit", "0x0", s.pid, 0, -2)]
    got = key_events(recs)
    check(got == want, "audit records:\n  got  %r\n  want %r" % (got, want))
    check(adoc["lost"] == 0 and adoc["written"] == head0 + len(want), "audit counters")
    modes = [r.get("mode") for r in recs if r["event"] == "cap-create"]
    check(modes == ["share", "move", "copy-on-write"], "capability modes: %r" % modes)
    check([r["size"] for r in recs if r["event"] == "create"] == [2 * PAGE, PAGE, PAGE],
          "sizes of the creations")
    check(all(r["time_ns"] > 0 for r in recs) and
          [r["time_ns"] for r in recs] == sorted(r["time_ns"] for r in recs), "times")
    # Telemetry: the same newest records.
    tel = telemetry("/rzone/audit,4")["/rzone/audit"]
    trecs = [v for k, v in tel.items() if k.isdigit()]
    check([int(k) for k in tel if k.isdigit()] == [r["seq"] for r in recs[-4:]] and
          [(x["event"], x["region"], x["result"]) for x in trecs] ==
          [(r["event"], r["region"], r["result"]) for r in recs[-4:]] and
          tel["written"] == adoc["written"], "telemetry /rzone/audit: %r" % tel)
    reg = telemetry("/rzone/region,%s" % r1)["/rzone/region"]
    check(reg.get("id") == r1 and int(reg.get("addr"), 16) == int(addr_p1, 16),
          "telemetry ids in hex: %r" % reg)
    check(r1 in telemetry("/rzone/regions")["/rzone/regions"], "/rzone/regions in hex")
    t = info("--audit", check_rc=0).stdout
    check(("cap-use" in t) and ("region %s" % r3) in t, "audit text")

    # An observer killed -9 changes nothing.
    w = subprocess.Popen([INFO, "-f", PREFIX, "--watch", "1", "--json"],
                         stdout=subprocess.PIPE, text=True)
    first = json.loads(w.stdout.readline())
    check(first.get("healthy") is True and len(first.get("processes", [])) == 2,
          "watching: healthy, two processes")
    os.kill(w.pid, signal.SIGKILL)
    w.wait()
    after = info_json()
    check(after.get("healthy") is True and after["table"] == doc["table"] and
          after["regions"] == doc["regions"], "nothing changed by the observer's death")

    # Unhealthy: the secondary killed -9 while the primary (the only reaper) is stopped.
    w = subprocess.Popen([INFO, "-f", PREFIX, "--watch", "1", "--json"],
                         stdout=subprocess.PIPE, text=True)
    check(json.loads(w.stdout.readline()).get("healthy") is True, "healthy before the kill")
    os.kill(p.pid, signal.SIGSTOP)
    os.kill(s.pid, signal.SIGKILL)
    s.p.wait()
    bad = None
    for _ in range(5):
        d = json.loads(w.stdout.readline())
        if d.get("healthy") is False:
            bad = d
            break
    w.send_signal(signal.SIGINT)
    rc = w.wait(timeout=30)
    if check(bad is not None, "unhealthy once the secondary is dead"):
        probs = " | ".join(bad["problems"])
        check(("process %d" % s.pid) in probs and ("region %s" % r2) in probs and
              ("region %s" % r3) in probs, "the problems name the dead process and its "
              "regions: " + probs)
        dead = [x for x in bad["processes"] if x["pid"] == s.pid]
        check(len(dead) == 1 and dead[0]["alive"] is False, "the dead process is shown dead")
        check(region_of(bad, r2)["owner_alive"] is False, "its region's owner is dead")
    check(rc == 1, "exit status 1 while unhealthy (%d)" % rc)
    os.kill(p.pid, signal.SIGCONT)
    deadline = time.time() + 10
    while time.time() < deadline:
        d = info_json(check_rc=None)
        if d.get("healthy") and len(d.get("processes", [])) == 1:
            break
        time.sleep(0.2)
    info(check_rc=0)
    d = info_json()
    check([x["id"] for x in d["regions"]] == [r1] and region_of(d, r1)["capabilities"] == []
          and [m["pid"] for m in region_of(d, r1)["mappings"]] == [p.pid],
          "after the reap: region 1 only, mapped by its owner only: %r" % d.get("regions"))
    _, recs = audit_since(head0 + len(want))
    got = sorted(key_events(recs), key=lambda x: (x[0], x[2]))
    want2 = sorted([("reap", None, "0x0", p.pid, s.pid, 0),
                    ("free", "owner-left", r2, p.pid, s.pid, 0),
                    ("free", "owner-left", r3, p.pid, s.pid, 0)], key=lambda x: (x[0], x[2]))
    check(got == want2, "audit of the reap:\n  got  %r\n  want %r" % (got, want2))

    # Overflow: more records than the ring holds; the oldest are overwritten and counted.
    cap = info_json("--audit")["capacity"]
    n0 = info_json("--audit")["written"]
    pairs = cap // 2 + 40
    out = p.many(["create %d 3" % PAGE for _ in range(pairs)])
    ids = [x[3:] for x in out if x.startswith("ok")]
    check(len(ids) == pairs, "%d creations" % pairs)
    out = p.many(["destroy %s" % i for i in ids])
    check(all(x.startswith("ok") for x in out), "destroys")
    a = info_json("--audit")
    n1 = n0 + 2 * pairs
    seqs = [r["seq"] for r in a["records"]]
    check(a["written"] == n1 and a["overwritten"] == n1 - cap and a["lost"] == 0 and
          a["shown"] == cap and seqs == list(range(n1 - cap, n1)),
          "overflow: written %d overwritten %d lost %d shown %d first %r (want %d %d 0 %d %d)"
          % (a["written"], a["overwritten"], a["lost"], a["shown"], seqs[:1], n1, n1 - cap,
             cap, n1 - cap))
    tail = [(r["event"], r["region"]) for r in a["records"][-pairs:]]
    check(tail == [("destroy", i) for i in ids], "the newest records are the destroys")
    last = info_json("--audit=3")
    check([r["seq"] for r in last["records"]] == [n1 - 3, n1 - 2, n1 - 1], "--audit=N")
    p.ok("destroy %s" % r1)
    check(info_json()["regions"] == [], "everything destroyed")


if __name__ == "__main__":
    sys.exit(main())
