#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 rzone authors
#
# Turn perf/rdma/driver.sh's facts into side-by-side tables (perftest vs rzone, and raw verbs
# measured in the same process vs rzone; ratios) and the data file of the bandwidth plot.
#
# Usage: report.sh FACTS OUTDIR
#   writes OUTDIR/rdma-bw.txt, rdma-lat.txt, rdma-grant.txt, rdma-reg.txt, rdma-bw.dat and
#   prints them all on stdout.

set -euo pipefail

FACTS=$1
OUT=$2

# The run's "env" facts; the raw-verbs QP (bw and lat only) with "header raw".
header() {
    awk -v raw="${1:-}" '$1 == "env" && ($2 != "raw_qp" || raw != "") {
        $1 = ""; sub(/^ /, ""); print "# " $0 }' "$FACTS"
}

# --- bandwidth --------------------------------------------------------------------------------
{
    echo "== RDMA bandwidth: rzone (rz_remote_post/poll through a granted window) vs perftest and"
    echo "== vs raw verbs (same process, interleaved run by run)"
    header raw
    echo "# perftest, rzone: best and median of the rounds (rzone: the run of pair 1 of each round);"
    echo "# each round runs rzone and perftest back to back, size by size. ratio = best rzone / best"
    echo "# perftest (higher is better); (med) = median over the rounds of that round's rzone /"
    echo "# perftest. raw verbs: best and median of all its runs;"
    echo "# rz/raw = median over the interleaved pairs of (rzone run / raw run of the same pair), and"
    echo "# (best) = best rzone run / best raw run. target: ratio >= 0.97 from 64 KiB up (vs pt: best"
    echo "# of rounds, and the median of the back-to-back ratios; vs raw: median of pairs)"
    awk '
    $1 == "bw" {
        k = $3 SUBSEP $4
        n = ++cnt[$2, k]
        v[$2, k, n] = $10
        byr[$2, k, $6] = $10
        if (!($6 in seenr)) { seenr[$6] = 1; rounds[++nr] = $6 }
        it[k] = $8
        ops[$3] = 1
        if (!(($4 + 0) in seen)) { seen[$4 + 0] = 1; sizes[++ns] = $4 + 0 }
    }
    # bwi WHO OP SIZE round R pair J iters N mib_s M first F
    $1 == "bwi" {
        k = $3 SUBSEP $4
        n = ++cnt["i" $2, k]
        v["i" $2, k, n] = $12
        run[$2, k, $6, $8] = $12
        if ($2 == "rzone") { np = ++npair[k]; pairid[k, np] = $6 SUBSEP $8 }
        it[k] = $10
        ops[$3] = 1
        if (!(($4 + 0) in seen)) { seen[$4 + 0] = 1; sizes[++ns] = $4 + 0 }
    }
    function best(w, k,    i, b) {
        b = 0
        for (i = 1; i <= cnt[w, k]; i++) if (v[w, k, i] > b) b = v[w, k, i]
        return b
    }
    function medof(a, n,    i, j, t) {
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    function median(w, k,    i, n, a) {
        n = cnt[w, k]
        for (i = 1; i <= n; i++) a[i] = v[w, k, i]
        return medof(a, n)
    }
    # Median over the pairs of size k of rzone / raw; sets npr (pairs that have both).
    function pairmed(k,    i, id, a, raw) {
        npr = 0
        for (i = 1; i <= npair[k]; i++) {
            id = pairid[k, i]
            if (!(("raw", k, id) in run)) continue
            raw = run["raw", k, id]
            if (raw > 0) a[++npr] = run["rzone", k, id] / raw
        }
        return npr > 0 ? medof(a, npr) : 0
    }
    # Median over the rounds of rzone / perftest of the same round (the two runs back to back).
    function pairround(k,    i, a, n, r) {
        n = 0
        for (i = 1; i <= nr; i++) {
            r = rounds[i]
            if ((("rzone", k, r) in byr) && (("perftest", k, r) in byr) && byr["perftest", k, r] > 0)
                a[++n] = byr["rzone", k, r] / byr["perftest", k, r]
        }
        return n > 0 ? medof(a, n) : 0
    }
    function num(have, x, f) { return have ? sprintf(f, x) : "-" }
    END {
        # sizes in increasing order
        for (i = 1; i <= ns; i++) for (j = i + 1; j <= ns; j++) if (sizes[j] < sizes[i]) { t = sizes[i]; sizes[i] = sizes[j]; sizes[j] = t }
        nop = split("write read", order, " ")
        for (o = 1; o <= nop; o++) {
            op = order[o]
            if (!(op in ops)) continue
            printf "\n-- RDMA %s (MiB/s) --\n", toupper(op)
            printf "%8s %6s | %10s %10s | %10s %10s | %7s %7s | %10s %10s | %7s %7s | %-6s %s\n",
                "bytes", "iters", "perftest", "(median)", "rzone", "(median)", "ratio", "(med)",
                "raw verbs", "(median)", "rz/raw", "(best)", "vs pt", "vs raw"
            pass = 0; tot = 0; worst = 99; ppass = 0; pworst = 99
            rpass = 0; rtot = 0; rworst = 99; rbpass = 0
            for (i = 1; i <= ns; i++) {
                s = sizes[i]; k = op SUBSEP s
                hp = (("perftest", k) in cnt) && (("rzone", k) in cnt)
                hr = (("irzone", k) in cnt) && (("iraw", k) in cnt)
                if (!hp && !hr) continue
                pb = pm = rb = rm = r = rmed = 0
                if (hp) {
                    pb = best("perftest", k); rb = best("rzone", k)
                    pm = median("perftest", k); rm = median("rzone", k)
                    r = pb > 0 ? rb / pb : 0; rmed = pairround(k)
                }
                xb = xm = xr = xbest = 0
                if (hr) {
                    xb = best("iraw", k); xm = median("iraw", k)
                    xr = pairmed(k)
                    xbest = xb > 0 ? best("irzone", k) / xb : 0
                    hr = npr > 0
                }
                tgt = hp ? "" : "-"; rtgt = hr ? "" : "-"
                if (s >= 65536) {
                    if (hp) {
                        tot++
                        if (r >= 0.97) { pass++; tgt = "met" } else tgt = "MISSED"
                        if (r < worst) worst = r
                        if (rmed >= 0.97) ppass++
                        if (rmed < pworst) pworst = rmed
                    }
                    if (hr) {
                        rtot++
                        if (xr >= 0.97) { rpass++; rtgt = "met" } else rtgt = "MISSED"
                        if (xbest >= 0.97) rbpass++
                        if (xr < rworst) rworst = xr
                    }
                }
                line = sprintf("%8d %6d | %10s %10s | %10s %10s | %7s %7s | %10s %10s | %7s %7s | %-6s %s",
                    s, it[k], num(hp, pb, "%.2f"), num(hp, pm, "%.2f"), num(hp, rb, "%.2f"),
                    num(hp, rm, "%.2f"), num(hp, r, "%.3f"), num(hp, rmed, "%.3f"),
                    num(hr, xb, "%.2f"), num(hr, xm, "%.2f"), num(hr, xr, "%.3f"),
                    num(hr, xbest, "%.3f"), tgt, rtgt)
                sub(/ +$/, "", line)
                print line
            }
            printf "target (>= 0.97 of perftest at >= 64 KiB, best of rounds): %d of %d sizes met, worst ratio %.3f\n",
                pass, tot, worst
            printf "target (>= 0.97 of perftest at >= 64 KiB, median over rounds of the back-to-back ratio): %d of %d sizes met, worst ratio %.3f\n",
                ppass, tot, pworst
            if (rtot > 0)
                printf "target (>= 0.97 of raw verbs at >= 64 KiB, median of the interleaved pairs): %d of %d sizes met, worst ratio %.3f; best-of: %d of %d\n",
                    rpass, rtot, rworst, rbpass, rtot
        }
    }' "$FACTS"
} > "$OUT/rdma-bw.txt"

# Plot data: size, perftest write, rzone write, perftest read, rzone read (best of rounds), and
# raw verbs write and read (best of the interleaved runs).
awk '
$1 == "bw" { k = $2 SUBSEP $3 SUBSEP $4; if (!(k in b) || $10 > b[k]) b[k] = $10; s[$4 + 0] = 1 }
$1 == "bwi" && $2 == "raw" { k = $2 SUBSEP $3 SUBSEP $4; if (!(k in b) || $12 > b[k]) b[k] = $12; s[$4 + 0] = 1 }
function v(w, op, x) { return ((w, op, x) in b) ? b[w, op, x] : "?" }
END {
    n = 0
    for (x in s) z[++n] = x + 0
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (z[j] < z[i]) { t = z[i]; z[i] = z[j]; z[j] = t }
    print "# bytes perftest_write rzone_write perftest_read rzone_read raw_write raw_read (MiB/s, best)"
    for (i = 1; i <= n; i++) {
        x = z[i]
        printf "%d %s %s %s %s %s %s\n", x, v("perftest", "write", x), v("rzone", "write", x),
            v("perftest", "read", x), v("rzone", "read", x), v("raw", "write", x), v("raw", "read", x)
    }
}' "$FACTS" > "$OUT/rdma-bw.dat"

# --- latency ----------------------------------------------------------------------------------
{
    echo "== RDMA latency (microseconds): rzone sync calls vs perftest, and vs raw verbs (same"
    echo "== process, sample by sample interleaved); p50 = perftest's t_typical"
    header raw
    echo "# pt, rz, raw: median over the rounds of each side's p50 and p99; r = rzone / perftest;"
    echo "# rz/raw = median over the rounds of the round's own rzone / raw ratio (of p50, of p99)."
    echo "# Lower is better; target: p50 ratio <= 1.05"
    awk '
    $1 == "lat" || $1 == "pp" {
        w = $1 == "pp" ? "pp" : $2
        k = w SUBSEP $3 SUBSEP $4
        n = ++cnt[k]
        p50[k, n] = $8; p99[k, n] = $10
        byr50[k, $6] = $8; byr99[k, $6] = $10
        if (!($6 in seenr)) { seenr[$6] = 1; rounds[++nr] = $6 }
    }
    function medof(a, n,    i, j, t) {
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    function med(arr, k,    i, n, a) {
        n = cnt[k]
        for (i = 1; i <= n; i++) a[i] = arr[k, i]
        return medof(a, n)
    }
    # Median over the rounds of arr[rk, round] / arr[xk, round]; sets nrr (rounds with both).
    function roundmed(arr, rk, xk,    i, a) {
        nrr = 0
        for (i = 1; i <= nr; i++)
            if (((rk, rounds[i]) in arr) && ((xk, rounds[i]) in arr) && arr[xk, rounds[i]] > 0)
                a[++nrr] = arr[rk, rounds[i]] / arr[xk, rounds[i]]
        return nrr > 0 ? medof(a, nrr) : 0
    }
    function num(have, x, f) { return have ? sprintf(f, x) : "-" }
    function row(label, rk, pk, xk, s,    hp, hx, rp50, rp99, pp50, pp99, r50, r99, x50, x99,
            q50, q99, tgt, xtgt) {
        if (!(rk in cnt)) return
        hp = pk in cnt; hx = xk != "" && (xk in cnt)
        rp50 = med(p50, rk); rp99 = med(p99, rk)
        if (hp) {
            pp50 = med(p50, pk); pp99 = med(p99, pk)
            r50 = rp50 / pp50; r99 = rp99 / pp99
        }
        if (hx) {
            x50 = med(p50, xk); x99 = med(p99, xk)
            q50 = roundmed(byr50, rk, xk); q99 = roundmed(byr99, rk, xk)
            hx = nrr > 0
        }
        tgt = !hp ? "-" : r50 <= 1.05 ? "met" : "MISSED"
        xtgt = !hx ? "-" : q50 <= 1.05 ? "met" : "MISSED"
        printf "%-34s %5d | %9s %9s | %9.2f %9.2f | %6s %6s | %9s %9s | %6s %6s | %-6s %s\n",
            label, s, num(hp, pp50, "%.2f"), num(hp, pp99, "%.2f"), rp50, rp99,
            num(hp, r50, "%.3f"), num(hp, r99, "%.3f"), num(hx, x50, "%.2f"),
            num(hx, x99, "%.2f"), num(hx, q50, "%.3f"), num(hx, q99, "%.3f"), tgt, xtgt
    }
    # One row per size, 8 to 64 bytes: @who (rzone, pp, raw...) against @pw and @xw ("" none).
    function rows(label, who, op, pw, xw,    s) {
        for (s = 8; s <= 64; s *= 2)
            row(label, who SUBSEP op SUBSEP s, pw == "" ? "" : pw SUBSEP op SUBSEP s,
                xw == "" ? "" : xw SUBSEP op SUBSEP s, s)
    }
    END {
        printf "\n%-34s %5s | %9s %9s | %9s %9s | %6s %6s | %9s %9s | %6s %6s | %s\n",
            "rzone call vs perftest", "bytes", "pt p50", "pt p99", "rz p50", "rz p99", "r p50",
            "r p99", "raw p50", "raw p99", "rz/raw", "p99", "target (p50): vs pt, vs raw"
        rows("rz_remote_read vs ib_read_lat", "rzone", "read", "perftest", "raw")
        rows("write ping-pong/2 vs ib_write_lat", "pp", "write", "perftest", "")
        printf "\nNot like for like with perftest (shown for completeness): a sync rz_remote_write returns\n"
        printf "when the write is acknowledged, one round trip; ib_write_lat reports half a ping-pong.\n"
        printf "Like for like with raw verbs: the raw sync write is one round trip too.\n"
        rows("rz_remote_write vs ib_write_lat", "rzone", "write", "perftest", "raw")
        printf "\nWhere the difference with raw verbs comes from: the raw columns below are raw verbs\n"
        printf "through a type-2 memory window bound on the raw QP (the window lookup that every rzone\n"
        printf "access pays at the responder), sampled in the same rotation; rz/raw is rzone / raw+MW.\n"
        rows("rz_remote_read vs raw read + MW", "rzone", "read", "", "rawmw")
        rows("rz_remote_write vs raw write + MW", "rzone", "write", "", "rawmw")
        printf "\nAnd rzone vs raw verbs posted on the QP of rzone itself (same WR, the rkey of the descriptor):\n"
        printf "what the code of rzone costs, apart from the connection (the QPs of two processes vs a loopback).\n"
        rows("rz_remote_read vs raw on its QP", "rzone", "read", "", "rawrzqp")
        rows("rz_remote_write vs raw on its QP", "rzone", "write", "", "rawrzqp")
        printf "\nThe window alone: raw verbs on the loopback QP, window rkey vs MR rkey.\n"
        rows("raw read + MW vs raw read (MR)", "rawmw", "read", "", "raw")
        rows("raw write + MW vs raw write (MR)", "rawmw", "write", "", "raw")
    }' "$FACTS"
} > "$OUT/rdma-lat.txt"

# --- grant / revoke ---------------------------------------------------------------------------
{
    echo "== Capability grant + revoke vs a per-peer MR, microseconds (p50 over the iterations)"
    header
    echo "# Four operations timed in the same run, in two designs: 'blocked' (runs of 10 of one,"
    echo "# the order of the runs rotated each block: each timed after its own kind) and"
    echo "# 'interleaved' (one of each per iteration, in a random order)."
    echo "#   reg+dereg      ibv_reg_mr + ibv_dereg_mr of a per-peer MR of the region"
    echo "#   window         rz_rdma_grant_ext(RZ_GRANT_F_NO_SEND) + rz_rdma_revoke: bind + invalidate"
    echo "#                  (the application delivers the descriptor, rz_rdma_desc_pack())"
    echo "#   reg+send+dereg the per-peer MR and its rkey sent to the peer (rz_peer_send_msg, same QP)"
    echo "#   grant+revoke   rz_rdma_grant + rz_rdma_revoke: bind, descriptor SEND, invalidate"
    echo "# speedup = baseline / rzone (higher is better); target (the issue: bind + invalidate vs"
    echo "# reg + dereg): >= 10x. The like-for-like with delivery and the strictest (rzone sends,"
    echo "# the baseline does not) are printed too."
    awk '
    $1 ~ /^grant_/ || $1 == "mwfloor" {
        for (i = 2; i < NF; i += 2) f[$1, $3, $i] = $(i + 1)
        if (!(($3 + 0) in seen)) { seen[$3 + 0] = 1; sz[++n] = $3 + 0 }
    }
    $1 == "quirk_env0" { q = $0; sub(/^quirk_env0 /, "", q) }
    function table(tag, title,    i, s, rg, w, rs, g) {
        printf "\n%s\n%-9s | %9s %8s %8s | %8s %7s %7s | %7s %s | %9s %8s %7s | %7s\n", title,
            "region", "reg+dereg", "reg", "dereg", "window", "bind", "inval", "speedup", "target",
            "reg+send", "grant+rv", "speedup", "strict"
        for (i = 1; i <= n; i++) {
            s = sz[i]
            if (!((tag, s, "reg_p50") in f)) continue
            rg = f[tag, s, "reg_p50"]; w = f[tag, s, "win_p50"]
            rs = f[tag, s, "regsend_p50"]; g = f[tag, s, "gr_p50"]
            printf "%5d MiB | %9.1f %8.1f %8.1f | %8.1f %7.1f %7.1f | %6.2fx %-6s | %9.1f %8.1f %6.2fx | %6.2fx\n",
                s / 1048576, rg, f[tag, s, "reg_a_p50"], f[tag, s, "reg_b_p50"], w,
                f[tag, s, "win_a_p50"], f[tag, s, "win_b_p50"], rg / w,
                (rg / w >= 10 ? "met" : "MISSED"), rs, g, rs / g, rg / g
        }
    }
    END {
        table("grant_block", "Blocked")
        printf "Per block of 10 (each op'"'"'s median in its run; the runs of one block are adjacent in time):\n"
        for (i = 1; i <= n; i++) {
            s = sz[i]
            if (!(("grant_block", s, "win_blk_min") in f)) continue
            printf "%5d MiB: window speedup worst block %.2fx, median block %.2fx; with delivery worst %.2fx, median %.2fx (%d blocks)\n",
                s / 1048576, f["grant_block", s, "win_blk_min"], f["grant_block", s, "win_blk_med"],
                f["grant_block", s, "gr_blk_min"], f["grant_block", s, "gr_blk_med"],
                f["grant_block", s, "blocks"]
        }
        table("grant_inter", "Interleaved")
        printf "(window: bind = rz_rdma_grant_ext, inval = rz_rdma_revoke; strict = reg+dereg / grant+revoke)\n"
        printf "\nPure memory-window path in plain verbs on a loopback RC QP (not rzone): alloc MW + bind\n"
        printf "(type 2) + local invalidate + dealloc, and the same plus an 80-byte SEND.\n"
        printf "%-9s | %9s | %10s %8s | %10s %8s\n", "region", "reg+dereg", "MW floor", "speedup",
            "MW+send", "speedup"
        for (i = 1; i <= n; i++) {
            s = sz[i]
            if (!(("mwfloor", s, "mw_p50") in f) || !(("grant_block", s, "reg_p50") in f)) continue
            b = f["grant_block", s, "reg_p50"]
            printf "%5d MiB | %9.1f | %10.1f %7.2fx | %10.1f %7.2fx\n", s / 1048576, b,
                f["mwfloor", s, "mw_p50"], b / f["mwfloor", s, "mw_p50"],
                f["mwfloor", s, "mwsend_p50"], b / f["mwfloor", s, "mwsend_p50"]
        }
        for (i = 1; i <= n; i++) {
            s = sz[i]
            if (!(("grant_env0_block", s, "win_p50") in f)) continue
            printf "\nWith RZ_RDMA_EXACT_MR=0 (%d MiB, blocked): window %.1f us, reg+dereg %.1f us (%.2fx);\n",
                s / 1048576, f["grant_env0_block", s, "win_p50"], f["grant_env0_block", s, "reg_p50"],
                f["grant_env0_block", s, "reg_p50"] / f["grant_env0_block", s, "win_p50"]
            printf "the library said: %s\n", q
        }
    }' "$FACTS"
} > "$OUT/rdma-grant.txt"

# --- registration -----------------------------------------------------------------------------
{
    echo "== Registration of arena memzones (2 MiB pages): ibv_reg_mr vs rz_rdma_register"
    header
    awk '
    $1 == "reg" {
        printf "arena %s (%d MiB): ibv_reg_mr %.1f ms, ibv_dereg_mr %.1f ms, rz_rdma_register cold %.1f ms, warm %.3f us (%s)\n",
            $3, $5 / 1048576, $7 / 1000, $9 / 1000, $11 / 1000, $13, $15
    }
    $1 == "regsum" {
        printf "\nper GiB over %d arenas of %d MiB:\n", $3, $5 / 1048576
        printf "%-34s %12s %8s\n", "", "ms per GiB", "ratio"
        printf "%-34s %12.1f %8s\n", "ibv_reg_mr (baseline)", $7, "1.00"
        printf "%-34s %12.1f %8.2f\n", "rz_rdma_register, cold", $11, $11 / $7
        printf "%-34s %12.1f\n", "ibv_dereg_mr", $9
        printf "%-34s %12s    (%.3f us per call, a table lookup)\n", "rz_rdma_register, warm", "-", $13
    }' "$FACTS"
} > "$OUT/rdma-reg.txt"

cat "$OUT/rdma-bw.txt" "$OUT/rdma-lat.txt" "$OUT/rdma-grant.txt" "$OUT/rdma-reg.txt"
