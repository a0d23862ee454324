#!/usr/bin/env bash
# Render the committed results: results/README.md (Markdown, plots as SVG files in
# results/README-plots/) and results/report.html (one self-contained page) from every results
# file in results/*.json. Files that are not accelbench results files (no top-level
# "schema_version") are not passed to `accelbench report`; a vendor baseline written by
# scripts/torch_baseline.py is rendered as its own table at the end of results/README.md, beside
# the accelbench rows of the same GPU.
#
# Usage: scripts/render-results.sh            (builds the release binary first)
#        ACCELBENCH=path/to/accelbench scripts/render-results.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${ACCELBENCH:-}" ]]; then
  cargo build --release --quiet
  ACCELBENCH=target/release/accelbench
fi

runs=()
baselines=()
shopt -s nullglob
for f in results/*.json; do
  if jq -e 'type == "object" and has("schema_version")' "$f" >/dev/null 2>&1; then
    runs+=("$f")
  elif jq -e 'type == "object" and has("torch") and has("rows")' "$f" >/dev/null 2>&1; then
    baselines+=("$f")
  else
    echo "skipping '$f': neither an accelbench results file nor a torch baseline" >&2
  fi
done
if [[ ${#runs[@]} -eq 0 ]]; then
  echo "no results files in results/; run 'accelbench run --out results/NAME.json' first" >&2
  exit 2
fi
echo "results files: ${runs[*]}" >&2

# Plots of an earlier render may name workloads or devices that are gone.
rm -rf results/README-plots
"$ACCELBENCH" report "${runs[@]}" --format md --out results/README.md --force
"$ACCELBENCH" report "${runs[@]}" --format html --out results/report.html --force

# A short preface under the title, and the vendor baseline tables at the end.
python3 - results/README.md "${#runs[@]}" "${runs[@]}" "${baselines[@]}" <<'PY'
import json
import sys

readme, n_runs = sys.argv[1], int(sys.argv[2])
runs = sys.argv[3:3 + n_runs]
baselines = sys.argv[3 + n_runs:]


def md(text):
    """Escape text from a file for a Markdown table cell."""
    out = []
    for c in str(text):
        if c in "\\|`*_[]~":
            out.append("\\" + c)
        elif c == "<":
            out.append("&lt;")
        elif c == ">":
            out.append("&gt;")
        elif c == "&":
            out.append("&amp;")
        elif c in "\r\n":
            out.append(" ")
        else:
            out.append(c)
    return "".join(out)


def fmt(v):
    if v >= 1000:
        return f"{v:.0f}"
    if v >= 100:
        return f"{v:.1f}"
    return f"{v:.2f}"


text = open(readme, encoding="utf-8").read()
title, _, rest = text.partition("\n\n")
preface = (
    "Real runs, rendered by `scripts/render-results.sh` from every results file in this folder "
    "(`accelbench report RUN.json... --format md --out results/README.md`, vendor baselines as their own table). The same report as one "
    "self-contained HTML page: [report.html](report.html) (download it to view; GitHub shows "
    "HTML as source). Rows are workloads, columns are devices; software adapters such as "
    "lavapipe run on the CPU and are labelled as such everywhere: their numbers are not GPU speed."
)
text = f"{title}\n\n{preface}\n\n{rest}"

sections = []
for path in baselines:
    b = json.load(open(path, encoding="utf-8"))
    device = b.get("device", "?")
    # accelbench rows of the same GPU from every results file, keyed like the baseline's rows;
    # several files may hold the same workload (e.g. a kernel variant's own run): all are shown.
    mine, mine_files, peak = {}, [], None
    for r in runs:
        run = json.load(open(r, encoding="utf-8"))
        ids = {d["id"]: d for d in run.get("devices", []) if d.get("name") == device}
        if not ids:
            continue
        mine_files.append(r)
        for d in ids.values():
            # The copy probe's own figure where the file has one (schema 2), not the higher of
            # specification and measurement.
            measured = (((d.get("peaks") or {}).get("gbps") or {}).get("measured") or {}).get("value")
            peak = peak or ((measured, "the run's copy probe") if measured else (d.get("peak_gbps"), "the run's peak_gbps"))
        for row in run.get("results", []):
            if row.get("device") in ids and row.get("verified", {}).get("ok"):
                s = row.get("shape", {})
                if row["kernel"] == "decode_token":
                    key = ("decode_token", s.get("model"), s.get("context"), row.get("dtype"))
                else:
                    key = (row["kernel"], s.get("m"), s.get("n"), s.get("k"), row.get("dtype"))
                mine.setdefault(key, []).append((r, row))
    mine_file = ", ".join(mine_files)
    lines = [
        f"## Vendor baseline: cuBLAS via torch.matmul, TF32 off ({md(device)})",
        "",
        (
            f"Measured by `scripts/torch_baseline.py` ({md(path)}: torch {md(b.get('torch', '?'))}, "
            f"CUDA {md(b.get('cuda', '?'))}, TF32 {'on' if b.get('tf32') else 'off'}) in the same "
            "device session as the accelbench run"
            + (f" {md(mine_file)}" if mine_file else "")
            + ", minutes apart (scripts/device-check.sh). Timed with CUDA events, median of 7 "
            "batches; not an accelbench results file: no verification, no latency histogram. "
            "cuBLAS runs f16 on tensor cores; accelbench's f16 GEMM does where the adapter lists "
            "cooperative matrices (the kernel that ran is named in each cell). Where several "
            "results files hold the workload, each is a line of its own."
        ),
        "",
        "| workload | cuBLAS / torch | accelbench (Vulkan, WGSL) | accelbench / vendor |",
        "|:---|---:|---:|---:|",
    ]
    for r in b.get("rows", []):
        kernel = r.get("kernel", "?")
        if kernel == "gemm":
            label = f"gemm k={r['k']} m={r['m']} n={r['n']} {r['dtype']}"
            key = ("gemm", r["m"], r["n"], r["k"], r["dtype"])
            unit, value, field = "GFLOP/s", r["gflops"], "gflops"
        elif kernel == "gemv":
            label = f"gemv k={r['k']} n={r['n']} {r['dtype']}"
            key = ("gemv", None, r["n"], r["k"], r["dtype"])
            unit, value, field = "GB/s", r["gbps"], "gbps"
        elif kernel == "decode_token":
            label = f"decode_token {r['model']} context={r['context']} {r['dtype']} (whole model)"
            key = ("decode_token", r["model"], r["context"], r["dtype"])
            unit, value, field = "tok/s", r["tokens_per_s"], "tokens_per_s"
        elif kernel == "copy":
            label = f"copy {r['bytes'] / 2**30:.0f} GiB device to device"
            key, unit, value, field = None, "GB/s", r["gbps"], None
        else:
            continue
        ours = mine.get(key, []) if key else []
        if ours:
            cells, ratios = [], []
            for path, row in ours:
                variant = row.get("kernel_variant")
                tag = f" ({variant}, {path})" if variant and kernel == "gemm" else ""
                cells.append(f"{fmt(row[field])} {unit}{tag}")
                ratios.append(f"{row[field] / value:.2f}x")
            cell, ratio = "<br>".join(md(c) for c in cells), "<br>".join(ratios)
        elif kernel == "copy" and peak and peak[0]:
            cell, ratio = md(f"{fmt(peak[0])} {unit} ({peak[1]})"), f"{peak[0] / value:.2f}x"
        else:
            cell, ratio = "-", "-"
        lines.append(f"| {md(label)} | {fmt(value)} {unit} | {cell} | {ratio} |")
    sections.append("\n".join(lines) + "\n")

if sections:
    # Right after the results table, so the vendor figures sit next to the rows they match.
    block = "\n".join(sections) + "\n"
    head, sep, tail = text.partition("\n## Plots\n")
    if sep:
        text = head.rstrip("\n") + "\n\n" + block + sep.lstrip("\n") + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block
open(readme, "w", encoding="utf-8").write(text)
PY
echo "wrote results/README.md, results/README-plots/ and results/report.html" >&2
