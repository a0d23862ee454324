#!/usr/bin/env bash
# Experiments behind `accelbench compare`'s rule (see notes/compare.md).
#   A/A:     PAIRS back-to-back pairs of `run --suite quick --device cpu`, each pair compared.
#   threads: TRIES pairs of the same build with --threads 2 (baseline) and --threads 1
#            (candidate), compared; the multi-threaded workloads must be flagged every time.
# Usage: notes/compare-experiments.sh OUTDIR [PAIRS=20] [TRIES=5]
# Every results file and every comparison (JSON) is kept in OUTDIR, so the rule can be
# re-evaluated offline; OUTDIR/verdicts has one line per comparison with compare's exit code.
set -uo pipefail
B=${ACCELBENCH:-target/release/accelbench}
out=${1:?usage: $0 OUTDIR [PAIRS] [TRIES]}
pairs=${2:-20}
tries=${3:-5}
mkdir -p "$out"
run() { "$B" run --suite quick --device cpu "$@" >/dev/null 2>>"$out/run.log"; }
for i in $(seq 1 "$pairs"); do
  run --out "$out/aa-$i-a.json" --force
  run --out "$out/aa-$i-b.json" --force
  "$B" compare "$out/aa-$i-a.json" "$out/aa-$i-b.json" --format json >"$out/aa-$i.cmp.json"
  rc=$?
  echo "aa $i rc=$rc $(date +%T) load $(cut -d" " -f1-3 /proc/loadavg)" >>"$out/verdicts"
done
for i in $(seq 1 "$tries"); do
  run --threads 2 --out "$out/th-$i-t2.json" --force
  run --threads 1 --out "$out/th-$i-t1.json" --force
  "$B" compare "$out/th-$i-t2.json" "$out/th-$i-t1.json" --format json >"$out/th-$i.cmp.json"
  rc=$?
  echo "threads $i rc=$rc $(date +%T) load $(cut -d" " -f1-3 /proc/loadavg)" >>"$out/verdicts"
done
