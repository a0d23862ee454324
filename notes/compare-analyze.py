#!/usr/bin/env python3
"""Re-evaluate compare's rule offline on the comparisons kept by compare-experiments.sh.

For each threshold t it counts the A/A pairs with at least one flagged workload under
  rule B (accelbench's): whole 95% interval beyond +-t;
  rule A (simpler):      point estimate beyond +-t and the interval excludes 0;
and, for the --threads 1 vs 2 pairs, which workloads rule B flags as regressions.
It also prints the distribution of the A/A point estimates (the run-to-run drift).
Usage: notes/compare-analyze.py OUTDIR
"""
import glob, json, sys, statistics

out = sys.argv[1]

def load(pattern):
    cmps = []
    for p in sorted(glob.glob(f"{out}/{pattern}")):
        try:
            cmps.append((p, json.load(open(p))))
        except (ValueError, OSError) as e:
            print(f"skip {p}: {e}")
    return cmps

def changes(cmp):
    for w in cmp["workloads"]:
        c = w.get("change")
        if c:
            yield w, c["median_pct"], c["median_ci95_pct"][0], c["median_ci95_pct"][1]

aa = load("aa-*.cmp.json")
th = load("th-*.cmp.json")
print(f"A/A pairs: {len(aa)}; threads pairs: {len(th)}")
for t in [2, 3, 5, 7, 10, 15]:
    b = sum(any(lo > t or hi < -t for _, _, lo, hi in changes(c)) for _, c in aa)
    a = sum(any((e > t and lo > 0) or (e < -t and hi < 0) for _, e, lo, hi in changes(c)) for _, c in aa)
    print(f"threshold {t:>2}%: A/A pairs flagged  rule B {b}/{len(aa)}   rule A {a}/{len(aa)}")

drift = {}
half = {}
for _, c in aa:
    for w, e, lo, hi in changes(c):
        drift.setdefault(w["workload"], []).append(e)
        half.setdefault(w["workload"], []).append((hi - lo) / 2)
print("\nA/A change in median per workload: median |change|, max |change|, median CI half-width (all %)")
for k, v in drift.items():
    av = [abs(x) for x in v]
    print(f"  {k:<60} {statistics.median(av):6.2f} {max(av):6.2f} {statistics.median(half[k]):6.2f}")
allv = sorted(abs(x) for v in drift.values() for x in v)
if allv:
    q = lambda p: allv[min(len(allv) - 1, int(p * len(allv)))]
    print(f"  all workloads: n={len(allv)} p50 {q(0.5):.2f}% p90 {q(0.9):.2f}% p99 {q(0.99):.2f}% max {allv[-1]:.2f}%")

print("\n--threads 2 (baseline) vs --threads 1 (candidate):")
for p, c in th:
    print(f"  {p}: regressed={c['regressed']}")
    for w in c["workloads"]:
        ch = w.get("change")
        s = f"{ch['median_pct']:+7.1f}% [{ch['median_ci95_pct'][0]:+.1f}, {ch['median_ci95_pct'][1]:+.1f}]" if ch else "-"
        print(f"    {w['workload']:<60} {s:<28} {w['verdict']}")
