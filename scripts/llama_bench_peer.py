#!/usr/bin/env python3
"""Interleaved pairs: accelbench's whole-model decode against llama.cpp's llama-bench, same machine.

Usage:
  python3 scripts/llama_bench_peer.py make-gguf --dtype f16|f32 --out PATH [--seed 0]
  python3 scripts/llama_bench_peer.py pairs --gguf PATH [--dtype f16] [--context 1024]
        [--threads 2] [--pairs 10] [--n-gen 32] [--reps 3]
        [--accelbench target/release/accelbench] [--llama-bench PATH]
        [--llama-stat avg|median] [--accelbench-only | --llama-only]
  python3 scripts/llama_bench_peer.py check-accelbench-json FILE [--dtype f16] [--context 1024]

`make-gguf` writes a Llama-3.2-1B-shaped GGUF with random weights (normal x 0.02; norms 1.0;
tied embeddings, so no output.weight; tokenizer "no_vocab"), for llama.cpp to load without any
model download. It needs the `gguf` and `numpy` packages (pip install gguf numpy).

`pairs` runs, in each pair, llama-bench (`-p 0 -n N -d CONTEXT -t THREADS -fa 0,1 -o json`: its
`tg` tokens/s at depth CONTEXT, flash attention off and on, the better of the two taken as
llama.cpp's figure) and accelbench (`run --kernel decode_token --model llama-3.2-1b`, the
`tokens_per_s` of its one row, which must have passed verification), alternating which goes
first so that a slow stretch of a shared host does not always land on the same side. It prints
every pair, the median ratio accelbench/llama.cpp and a distribution-free 95% confidence interval
for that median (binomial order statistics over the pairs' ratios), and the memory traffic each
figure implies: weights + KV-cache bytes read per token, computed from the shape, times tokens/s.

llama-bench is found through --llama-bench, then $LLAMA_BENCH, then PATH. `check-accelbench-json`
reads an accelbench results file the way `pairs` does and prints what it found (for testing).
"""

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

# Llama-3.2-1B (meta-llama/Llama-3.2-1B config.json).
SHAPE = {
    "layers": 16,
    "hidden": 2048,
    "q_heads": 32,
    "kv_heads": 8,
    "head_dim": 64,
    "ffn": 8192,
    "vocab": 128256,
    "context_length": 131072,
    "rope_theta": 500000.0,
    "rms_eps": 1e-5,
    # llama3 rope scaling, written as rope_freqs.weight the way convert_hf_to_gguf.py does.
    "rope_factor": 32.0,
    "rope_low_freq_factor": 1.0,
    "rope_high_freq_factor": 4.0,
    "rope_original_context": 8192,
}
DTYPE_BYTES = {"f32": 4, "f16": 2, "bf16": 2}


def die(msg):
    sys.exit(f"error: {msg}")


# ---------------------------------------------------------------- bytes per token


def weight_params(s=SHAPE):
    """(matrix params read per token, vector params read per token) for one token of decode.

    Matrices: per layer q, k, v, o, gate, up, down; the LM head (tied: the embedding matrix,
    vocab x hidden). Vectors: two RMSNorm weights per layer, the final norm, and the one
    embedding row looked up for the token.
    """
    h, f = s["hidden"], s["ffn"]
    q, kv = s["q_heads"] * s["head_dim"], s["kv_heads"] * s["head_dim"]
    per_layer = h * q + 2 * h * kv + q * h + 3 * h * f
    matrices = s["layers"] * per_layer + s["vocab"] * h
    vectors = s["layers"] * 2 * h + h + h
    return matrices, vectors


def kv_bytes_per_token(kv_len, kv_elem_bytes, s=SHAPE):
    """K and V read by attention for one token, every layer, over kv_len cached positions."""
    return 2 * s["layers"] * kv_len * s["kv_heads"] * s["head_dim"] * kv_elem_bytes


def bytes_per_token(weight_bytes, norm_bytes, kv_len, kv_elem_bytes):
    m, v = weight_params()
    return m * weight_bytes + v * norm_bytes + kv_bytes_per_token(kv_len, kv_elem_bytes)


# ---------------------------------------------------------------- make-gguf


def rope_factors(s=SHAPE):
    dim, base = s["head_dim"], s["rope_theta"]
    factor, lo, hi = s["rope_factor"], s["rope_low_freq_factor"], s["rope_high_freq_factor"]
    old = s["rope_original_context"]
    lo_wavelen, hi_wavelen = old / lo, old / hi
    out = []
    for i in range(0, dim, 2):
        freq = 1.0 / (base ** (i / dim))
        wavelen = 2 * math.pi / freq
        if wavelen < hi_wavelen:
            out.append(1.0)
        elif wavelen > lo_wavelen:
            out.append(factor)
        else:
            smooth = (old / wavelen - lo) / (hi - lo)
            out.append(1 / ((1 - smooth) / factor + smooth))
    return out


def gguf_tensors(s=SHAPE):
    """(name, numpy shape (rows, cols), kind) in file order; kind is 'matrix' or 'vector'."""
    h, f = s["hidden"], s["ffn"]
    q, kv = s["q_heads"] * s["head_dim"], s["kv_heads"] * s["head_dim"]
    out = [("token_embd.weight", (s["vocab"], h), "matrix"),
           ("rope_freqs.weight", (s["head_dim"] // 2,), "rope")]
    for i in range(s["layers"]):
        b = f"blk.{i}"
        out += [
            (f"{b}.attn_norm.weight", (h,), "vector"),
            (f"{b}.attn_q.weight", (q, h), "matrix"),
            (f"{b}.attn_k.weight", (kv, h), "matrix"),
            (f"{b}.attn_v.weight", (kv, h), "matrix"),
            (f"{b}.attn_output.weight", (h, q), "matrix"),
            (f"{b}.ffn_norm.weight", (h,), "vector"),
            (f"{b}.ffn_gate.weight", (f, h), "matrix"),
            (f"{b}.ffn_up.weight", (f, h), "matrix"),
            (f"{b}.ffn_down.weight", (h, f), "matrix"),
        ]
    out.append(("output_norm.weight", (h,), "vector"))
    return out


def make_gguf(args):
    try:
        import numpy as np
        import gguf
    except ImportError as e:
        die(f"{e.name} is not installed: pip install gguf numpy")
    s = SHAPE
    np_dtype = {"f16": np.float16, "f32": np.float32}[args.dtype]
    out = os.path.abspath(args.out)
    if os.path.isdir(out):
        die(f"--out {out} is a directory; give a file name")
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    tmp = out + ".partial"

    w = gguf.GGUFWriter(tmp, "llama")
    w.add_name(f"Llama-3.2-1B-shaped random weights ({args.dtype}, seed {args.seed})")
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if args.dtype == "f16"
                    else gguf.LlamaFileType.ALL_F32)
    w.add_context_length(s["context_length"])
    w.add_embedding_length(s["hidden"])
    w.add_block_count(s["layers"])
    w.add_feed_forward_length(s["ffn"])
    w.add_head_count(s["q_heads"])
    w.add_head_count_kv(s["kv_heads"])
    w.add_key_length(s["head_dim"])
    w.add_value_length(s["head_dim"])
    w.add_rope_dimension_count(s["head_dim"])
    w.add_rope_freq_base(s["rope_theta"])
    w.add_layer_norm_rms_eps(s["rms_eps"])
    w.add_vocab_size(s["vocab"])
    w.add_tokenizer_model("no_vocab")

    tensors = gguf_tensors()
    for name, shape, kind in tensors:
        dt = np_dtype if kind == "matrix" else np.float32  # 1-D tensors stay f32, as convert_hf does
        nbytes = math.prod(shape) * np.dtype(dt).itemsize
        w.add_tensor_info(name, shape, np.dtype(dt), nbytes)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()

    rng = np.random.default_rng(args.seed)
    total = 0
    for name, shape, kind in tensors:
        if kind == "matrix":
            a = rng.standard_normal(shape, dtype=np.float32)
            a *= 0.02
            a = a.astype(np_dtype, copy=False)
        elif kind == "rope":
            a = np.asarray(rope_factors(), dtype=np.float32)
        else:
            a = np.ones(shape, dtype=np.float32)
        w.write_tensor_data(a)
        total += a.nbytes
        del a
    w.close()
    os.replace(tmp, out)
    m, v = weight_params()
    print(f"wrote {out}: {len(tensors)} tensors, {total / 1e9:.3f} GB of tensor data, "
          f"{m + v + s['head_dim'] // 2:,} parameters ({args.dtype} matrices, f32 norms)")


def check_gguf(path, dtype):
    """Refuse a GGUF that is missing, not this shape, or not this dtype."""
    if not os.path.isfile(path):
        die(f"GGUF {path} not found; write one with: {sys.argv[0]} make-gguf --dtype {dtype} "
            f"--out {path}")
    try:
        import gguf
    except ImportError:
        print("note: the gguf package is not installed, so the GGUF's shape and dtype are not "
              "checked (pip install gguf)", file=sys.stderr)
        return
    try:
        r = gguf.GGUFReader(path)
    except Exception as e:  # noqa: BLE001 - any parse failure means "not a usable GGUF"
        die(f"{path} is not a readable GGUF file: {e}")

    def field(key):
        f = r.fields.get(key)
        return None if f is None else f.contents()

    want = {"llama.block_count": SHAPE["layers"], "llama.embedding_length": SHAPE["hidden"],
            "llama.feed_forward_length": SHAPE["ffn"], "llama.attention.head_count": SHAPE["q_heads"],
            "llama.attention.head_count_kv": SHAPE["kv_heads"], "llama.vocab_size": SHAPE["vocab"]}
    if field("general.architecture") != "llama":
        die(f"{path}: architecture {field('general.architecture')!r}, expected 'llama'")
    for k, v in want.items():
        if field(k) != v:
            die(f"{path}: {k} = {field(k)}, expected {v} (Llama-3.2-1B shape)")
    types = {t.name: t.tensor_type.name for t in r.tensors}
    got = types.get("blk.0.ffn_gate.weight")
    if got != dtype.upper():
        die(f"{path}: blk.0.ffn_gate.weight is {got}, but --dtype is {dtype}; "
            f"pass --gguf of the matching dtype")
    if "output.weight" in types:
        print(f"note: {path} has an untied output.weight; bytes per token assume tied",
              file=sys.stderr)


# ---------------------------------------------------------------- the two sides


def find_llama_bench(arg):
    cand = arg or os.environ.get("LLAMA_BENCH") or shutil.which("llama-bench")
    if not cand:
        die("llama-bench not found: pass --llama-bench PATH or set LLAMA_BENCH. To build it: "
            "pip download llama-cpp-python --no-deps --no-binary llama-cpp-python; unpack it; "
            "cmake -S <sdist>/vendor/llama.cpp -B build -DGGML_NATIVE=ON -DLLAMA_OPENSSL=OFF; "
            "cmake --build build --target llama-bench (binary: build/bin/llama-bench)")
    if not (os.path.isfile(cand) and os.access(cand, os.X_OK)):
        die(f"llama-bench {cand} is not an executable file")
    return cand


def check_accelbench(path):
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        die(f"accelbench binary {path} not found or not executable; build it with "
            "`cargo build --release` or pass --accelbench PATH")
    return path


def run_cmd(cmd, timeout, what):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        die(f"{what} ran past {timeout} s: {' '.join(cmd)}")
    except OSError as e:
        die(f"could not start {what}: {e}")
    if p.returncode != 0:
        tail = "\n".join((p.stderr or p.stdout).strip().splitlines()[-15:])
        die(f"{what} exited with status {p.returncode}: {' '.join(cmd)}\n{tail}")
    return p


def llama_version(binary):
    try:
        p = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        die(f"{binary} --version failed: {e}")
    for line in (p.stdout + p.stderr).splitlines():
        if line.startswith("version:"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def parse_llama_json(text, context, n_gen):
    """{fa (0/1): row} from llama-bench -o json; refuses rows that are not the tg test asked for."""
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as e:
        die(f"llama-bench did not print JSON ({e}); first 300 characters:\n{text[:300]}")
    out = {}
    for row in rows:
        if row.get("n_prompt") != 0 or row.get("n_gen") != n_gen or row.get("n_depth") != context:
            die(f"llama-bench row is not tg{n_gen} @ d{context}: n_prompt={row.get('n_prompt')} "
                f"n_gen={row.get('n_gen')} n_depth={row.get('n_depth')}")
        ts = row.get("avg_ts")
        if not isinstance(ts, (int, float)) or not ts > 0:
            die(f"llama-bench row without a positive avg_ts: {row}")
        out[int(row["flash_attn"])] = row
    if set(out) != {0, 1}:
        die(f"expected llama-bench rows for flash attention 0 and 1, got {sorted(out)}")
    return out


def llama_figure(row, stat):
    """llama-bench's tokens/s for one row: its avg_ts (mean over reps), or the median rep."""
    if stat == "avg":
        return row["avg_ts"]
    ts = row.get("samples_ts")
    if not ts:
        die("llama-bench JSON has no samples_ts; use --llama-stat avg")
    return median_ci(ts)[0]


def llama_tg(binary, gguf_path, context, threads, n_gen, reps, fa_order, timeout):
    cmd = [binary, "-m", gguf_path, "-p", "0", "-n", str(n_gen), "-d", str(context),
           "-t", str(threads), "-r", str(reps), "-fa", fa_order, "-o", "json"]
    p = run_cmd(cmd, timeout, "llama-bench")
    return parse_llama_json(p.stdout, context, n_gen)


def parse_accelbench_json(path, dtype, context):
    """The one decode_token row of an accelbench results file, checked; returns the row."""
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        die(f"cannot read accelbench results {path}: {e}")
    results = data.get("results") if isinstance(data, dict) else None
    if not results:
        die(f"{path} has no results rows")
    row = results[0]
    if len(results) != 1:
        print(f"note: {path} has {len(results)} rows; reading results[0]", file=sys.stderr)
    if row.get("kernel") != "decode_token":
        die(f"{path}: results[0] is kernel {row.get('kernel')!r}, expected 'decode_token'")
    if row.get("dtype") != dtype:
        die(f"{path}: results[0] dtype {row.get('dtype')!r}, expected {dtype!r}")
    shape = row.get("shape") or {}
    if "context" in shape and shape["context"] != context:
        die(f"{path}: results[0] context {shape['context']}, expected {context}")
    verified = row.get("verified") or {}
    if verified.get("ok") is not True:
        die(f"accelbench's decode_token failed verification (verified = {verified}); its speed "
            "is not comparable")
    if row.get("error"):
        die(f"accelbench's decode_token row carries an error: {row['error']}")
    tps = row.get("tokens_per_s")
    if not isinstance(tps, (int, float)) or not tps > 0:
        die(f"{path}: results[0] has no positive tokens_per_s ({tps!r})")
    return row


def accelbench_tps(binary, context, dtype, threads, max_time, out, timeout):
    cmd = [binary, "run", "--device", "cpu", "--kernel", "decode_token", "--model", "llama-3.2-1b",
           "--shape", f"context={context}", "--dtype", dtype, "--threads", str(threads),
           "--max-time-per-workload", str(max_time), "--out", out, "--force"]
    if os.path.exists(out):
        os.remove(out)  # never read the previous pair's file
    run_cmd(cmd, timeout, "accelbench")
    if not os.path.isfile(out):
        die(f"accelbench exited 0 but wrote no {out}: {' '.join(cmd)}")
    return parse_accelbench_json(out, dtype, context)


# ---------------------------------------------------------------- statistics


def median_ci(values, confidence=0.95):
    """Median and a distribution-free CI from binomial order statistics (sorted ranks)."""
    xs = sorted(values)
    n = len(xs)
    med = (xs[(n - 1) // 2] + xs[n // 2]) / 2
    # largest j with P(Binomial(n, 1/2) < j) <= (1 - confidence) / 2
    alpha = (1 - confidence) / 2
    cdf, j = 0.0, 0
    while j < n:
        nxt = cdf + math.comb(n, j) / 2**n
        if nxt > alpha:
            break
        cdf, j = nxt, j + 1
    if j == 0:
        return med, None, None
    return med, xs[j - 1], xs[n - j]


def summary(label, values, fmt="{:.3f}"):
    med, lo, hi = median_ci(values)
    if lo is None:
        return f"{label} {fmt.format(med)} (too few pairs for a 95% interval)"
    return (f"{label} {fmt.format(med)}, 95% CI [{fmt.format(lo)}, {fmt.format(hi)}] "
            f"over {len(values)} pairs")


# ---------------------------------------------------------------- pairs


def pairs(args):
    if args.pairs < 1:
        die("--pairs must be at least 1")
    if args.accelbench_only and args.llama_only:
        die("--accelbench-only and --llama-only exclude each other")
    do_llama, do_ours = not args.accelbench_only, not args.llama_only
    wb = DTYPE_BYTES[args.dtype]

    if do_llama:
        lb = find_llama_bench(args.llama_bench)
        if not args.gguf:
            die(f"--gguf PATH is needed for llama-bench; write one with: {sys.argv[0]} make-gguf "
                f"--dtype {args.dtype} --out PATH")
        check_gguf(args.gguf, args.dtype)
        print(f"llama.cpp llama-bench {llama_version(lb)} ({lb}), model {args.gguf}")
    if do_ours:
        ab = check_accelbench(args.accelbench)
        print(f"accelbench {ab}")

    # llama-bench: tg N starting at depth CONTEXT, so token i (1..N) attends over CONTEXT + i
    # positions; the mean is CONTEXT + (N + 1) / 2. accelbench's decode_token: CONTEXT positions.
    llama_kv_len = args.context + (args.n_gen + 1) / 2
    sides = []
    if do_llama:
        sides.append(f"llama-bench tg{args.n_gen} @ d{args.context} x {args.reps} reps "
                     f"({'avg_ts' if args.llama_stat == 'avg' else 'median rep'})")
    if do_ours:
        sides.append(f"accelbench decode_token <= {args.max_time:g} s")
    print(f"Llama-3.2-1B {args.dtype}, context {args.context}, {args.threads} threads, "
          f"{args.pairs} {'interleaved pairs' if do_llama and do_ours else 'runs'}; "
          + ", ".join(sides))

    llama_best, ours_all, ratios, fa_wins = [], [], [], {0: 0, 1: 0}
    llama_fa = {0: [], 1: []}
    llama_kv_bytes = None
    ours_bytes_field = None
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "decode_token.json")
        cols = []
        if do_llama:
            cols += ["llama fa=0", "llama fa=1", "llama best"]
        if do_ours:
            cols += ["accelbench"]
        if do_llama and do_ours:
            cols += ["ratio"]
        print("pair  first       " + "  ".join(f"{c:>10}" for c in cols) + "   (tokens/s)")
        for i in range(args.pairs):
            # alternate which side goes first, and within llama-bench which flash-attention
            # setting goes first
            llama_first = i % 2 == 0
            fa_order = "0,1" if i % 4 in (0, 1) else "1,0"
            lrow = orow = None
            for side in (("llama", "ours") if llama_first else ("ours", "llama")):
                if side == "llama" and do_llama:
                    lrow = llama_tg(lb, args.gguf, args.context, args.threads, args.n_gen,
                                    args.reps, fa_order, args.timeout)
                elif side == "ours" and do_ours:
                    orow = accelbench_tps(ab, args.context, args.dtype, args.threads,
                                          args.max_time, out, args.timeout)
            cells = []
            if lrow:
                f0, f1 = llama_figure(lrow[0], args.llama_stat), llama_figure(lrow[1], args.llama_stat)
                best = max(f0, f1)
                fa_wins[1 if f1 > f0 else 0] += 1
                llama_fa[0].append(f0)
                llama_fa[1].append(f1)
                llama_best.append(best)
                cells += [f"{f0:>10.2f}", f"{f1:>10.2f}", f"{best:>10.2f}"]
                if not llama_kv_bytes:
                    r0 = lrow[0]
                    print(f"      llama-bench: {r0.get('cpu_info')}, backend {r0.get('backends')}, "
                          f"model {r0.get('model_type')} {r0.get('model_size', 0) / 2**30:.2f} GiB, "
                          f"KV cache {r0.get('type_k')}/{r0.get('type_v')}, "
                          f"build {r0.get('build_commit')} ({r0.get('build_number')})")
                kv_type = lrow[0].get("type_k", "f16")
                if kv_type not in DTYPE_BYTES:
                    die(f"llama-bench KV cache type {kv_type!r}: bytes per element unknown")
                llama_kv_bytes = DTYPE_BYTES[kv_type]
            if orow:
                t = orow["tokens_per_s"]
                ours_all.append(t)
                cells.append(f"{t:>10.2f}")
                ours_bytes_field = orow.get("bytes")
            if lrow and orow:
                ratios.append(orow["tokens_per_s"] / llama_best[-1])
                cells.append(f"{ratios[-1]:>10.3f}")
            first = ("llama.cpp" if llama_first else "accelbench") if do_llama and do_ours else "-"
            print(f"{i + 1:>4}  {first:<10}  " + "  ".join(cells), flush=True)

    print()
    if do_llama:
        print(summary("llama.cpp tg, flash attention off: median", llama_fa[0], "{:.2f}"))
        print(summary("llama.cpp tg, flash attention on:  median", llama_fa[1], "{:.2f}"))
        print(f"flash attention faster in {fa_wins[1]} of {len(llama_best)} pairs")
        bpt = bytes_per_token(wb, 4, llama_kv_len, llama_kv_bytes)
        med = median_ci(llama_best)[0]
        print(f"llama.cpp best: {bpt / 1e9:.3f} GB read per token ({args.dtype} weights incl. LM "
              f"head, f32 norms, KV {llama_kv_bytes} B/elem over {llama_kv_len:.1f} positions) "
              f"x {med:.2f} tok/s = {bpt * med / 1e9:.1f} GB/s")
    if do_ours:
        print(summary("accelbench decode_token: median", ours_all, "{:.2f}"))
        bpt = bytes_per_token(wb, wb, args.context, wb)
        med = median_ci(ours_all)[0]
        note = "" if ours_bytes_field is None else \
            f"; its row's own byte count: {ours_bytes_field / 1e9:.3f} GB"
        print(f"accelbench: {bpt / 1e9:.3f} GB read per token ({args.dtype} weights incl. LM head "
              f"and norms, KV {wb} B/elem over {args.context} positions) x {med:.2f} tok/s = "
              f"{bpt * med / 1e9:.1f} GB/s{note}")
    if ratios:
        print(summary("median ratio accelbench/llama.cpp (best of flash attention off/on)", ratios))


def check_accelbench_json_cmd(args):
    row = parse_accelbench_json(args.file, args.dtype, args.context)
    wb = DTYPE_BYTES[args.dtype]
    bpt = bytes_per_token(wb, wb, args.context, wb)
    t = row["tokens_per_s"]
    print(f"{args.file}: kernel {row['kernel']}, dtype {row['dtype']}, shape {row.get('shape')}, "
          f"verified ok, tokens_per_s {t:.3f}")
    print(f"{bpt / 1e9:.3f} GB read per token x {t:.2f} tok/s = {bpt * t / 1e9:.1f} GB/s"
          + ("" if row.get("bytes") is None else f" (row's own bytes: {row['bytes'] / 1e9:.3f} GB)"))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    g = sub.add_parser("make-gguf", help="write a Llama-3.2-1B-shaped GGUF with random weights")
    g.add_argument("--dtype", choices=["f16", "f32"], required=True)
    g.add_argument("--out", required=True)
    g.add_argument("--seed", type=int, default=0)

    q = sub.add_parser("pairs", help="interleaved pairs, llama-bench vs accelbench")
    q.add_argument("--context", type=int, default=1024)
    q.add_argument("--threads", type=int, default=2)
    q.add_argument("--pairs", type=int, default=10)
    q.add_argument("--dtype", choices=["f16", "f32"], default="f16")
    q.add_argument("--accelbench", default="target/release/accelbench")
    q.add_argument("--llama-bench", default=None,
                   help="llama-bench binary (default: $LLAMA_BENCH, then PATH)")
    q.add_argument("--gguf", default=None, help="GGUF from make-gguf, same --dtype")
    q.add_argument("--n-gen", type=int, default=32, help="llama-bench -n (default 32)")
    q.add_argument("--reps", type=int, default=3, help="llama-bench -r (default 3)")
    q.add_argument("--max-time", type=float, default=10,
                   help="accelbench --max-time-per-workload, s (default 10)")
    q.add_argument("--llama-stat", choices=["avg", "median"], default="avg",
                   help="llama-bench figure: avg_ts (its mean over reps, default) or the median rep")
    q.add_argument("--timeout", type=int, default=1800, help="per-command limit, s")
    m = q.add_mutually_exclusive_group()
    m.add_argument("--accelbench-only", action="store_true")
    m.add_argument("--llama-only", action="store_true")

    c = sub.add_parser("check-accelbench-json", help="parse an accelbench results file")
    c.add_argument("file")
    c.add_argument("--dtype", choices=["f16", "f32"], default="f16")
    c.add_argument("--context", type=int, default=1024)
    return p.parse_args()


def main():
    args = parse_args()
    {"make-gguf": make_gguf, "pairs": pairs, "check-accelbench-json": check_accelbench_json_cmd}[
        args.cmd](args)


if __name__ == "__main__":
    main()
