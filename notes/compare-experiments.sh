#!/usr/bin/env bash
# Experiments behind `accelbench compare`'s rule (see notes/compare.md).
#   single:  the A/A runs below, compared one run against one run (pairs a1/b1, a2/b2, ...).
#   A/A:     TRIES comparisons of two directories of RUNS interleaved quick CPU runs each
#            (a1 b1 a2 b2 ...), all of the same build.
#   threads: TRIES comparisons of RUNS runs with --threads 2 (baseline) against RUNS runs with
#            --threads 1 (candidate), interleaved; the multi-threaded workloads must be flagged.
# Usage: notes/compare-experiments.sh OUTDIR [TRIES=20] [RUNS=5] [THREAD_TRIES=5]
# Every results file and every comparison (JSON) is kept in OUTDIR; OUTDIR/verdicts has one
# line per comparison with compare's exit code (0 no regression, 1 regression).
set -uo pipefail
B=${ACCELBENCH:-target/release/accelbench}
out=${1:?usage: $0 OUTDIR [TRIES] [RUNS] [THREAD_TRIES]}
tries=${2:-20}
runs=${3:-5}
ttries=${4:-5}
mkdir -p "$out"
run() { "$B" run --suite quick --device cpu "$@" >/dev/null 2>>"$out/run.log"; }
for t in $(seq 1 "$tries"); do
  mkdir -p "$out/aa-$t/a" "$out/aa-$t/b"
  for i in $(seq 1 "$runs"); do
    run --out "$out/aa-$t/a/$i.json" --force
    run --out "$out/aa-$t/b/$i.json" --force
  done
  "$B" compare "$out/aa-$t/a" "$out/aa-$t/b" --format json >"$out/aa-$t.cmp.json"
  rc=$?
  "$B" compare "$out/aa-$t/a/1.json" "$out/aa-$t/b/1.json" --format json >"$out/aa-$t.single.cmp.json"
  rc1=$?
  echo "aa $t rc=$rc single-pair rc=$rc1 $(date +%T) load $(cut -d" " -f1-3 /proc/loadavg)" >>"$out/verdicts"
done
for t in $(seq 1 "$ttries"); do
  mkdir -p "$out/th-$t/t2" "$out/th-$t/t1"
  for i in $(seq 1 "$runs"); do
    run --threads 2 --out "$out/th-$t/t2/$i.json" --force
    run --threads 1 --out "$out/th-$t/t1/$i.json" --force
  done
  "$B" compare "$out/th-$t/t2" "$out/th-$t/t1" --format json >"$out/th-$t.cmp.json"
  rc=$?
  echo "threads $t rc=$rc $(date +%T) load $(cut -d" " -f1-3 /proc/loadavg)" >>"$out/verdicts"
done
