#!/usr/bin/env python3
"""Vendor-library baseline for accelbench's GPU rows: torch.matmul (cuBLAS) and torch.mv on the
same shapes as accelbench's standard suite, f32 with TF32 disabled (so it is true FP32 work) and
f16, a device-to-device copy for bandwidth, and one token of a Llama-3.1-8B-shaped model in f16
(random weights, KV cache at context 1024, replayed as one CUDA graph: what a tuned eager-free
PyTorch decode reaches). Timed with CUDA events: warm-up, then the median of several timed
batches. Prints a table and writes JSON to the path given as the first argument.

Usage: python3 scripts/torch_baseline.py OUT.json [--no-decode | --decode-only]
"""
import json
import statistics
import sys

import torch

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
torch.set_float32_matmul_precision("highest")
dev = torch.device("cuda")


def time_ms(fn, iters):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    meds = []
    for _ in range(7):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(iters):
            fn()
        end.record()
        torch.cuda.synchronize()
        meds.append(start.elapsed_time(end) / iters)
    return statistics.median(meds)


rows = []
decode_only = "--decode-only" in sys.argv
dtypes = {"f32": torch.float32, "f16": torch.float16}
gemms = [
    (512, 512, 512, "f32"), (1024, 1024, 1024, "f32"), (2048, 2048, 2048, "f32"),
    (4096, 4096, 4096, "f32"), (512, 4096, 4096, "f32"), (512, 14336, 4096, "f32"),
    (2048, 2048, 2048, "f16"), (4096, 4096, 4096, "f16"), (512, 4096, 4096, "f16"),
    (512, 14336, 4096, "f16"), (512, 4096, 14336, "f16"),
]
for m, n, k, dt in ([] if decode_only else gemms):
    a = torch.randn(m, k, device=dev, dtype=dtypes[dt])
    b = torch.randn(k, n, device=dev, dtype=dtypes[dt])
    ms = time_ms(lambda: torch.matmul(a, b), 20)
    rows.append({"kernel": "gemm", "m": m, "n": n, "k": k, "dtype": dt, "ms": ms,
                 "gflops": 2 * m * n * k / ms / 1e6})
gemvs = [(4096, 4096, "f32"), (14336, 4096, "f32"), (4096, 4096, "f16"), (14336, 4096, "f16")]
for n, k, dt in ([] if decode_only else gemvs):
    # Rotate among copies whose total exceeds the 50 MB L2, so weights come from HBM.
    copies = max(1, int(256e6 // (n * k * (4 if dt == "f32" else 2))) + 1)
    ws = [torch.randn(n, k, device=dev, dtype=dtypes[dt]) for _ in range(copies)]
    x = torch.randn(k, device=dev, dtype=dtypes[dt])
    state = {"i": 0}

    def mv():
        state["i"] = (state["i"] + 1) % copies
        return torch.mv(ws[state["i"]], x)

    ms = time_ms(mv, 50)
    size = 4 if dt == "f32" else 2
    rows.append({"kernel": "gemv", "n": n, "k": k, "dtype": dt, "ms": ms,
                 "gbps": (n * k + n + k) * size / ms / 1e6})
src = torch.empty(256 << 20, device=dev, dtype=torch.float32)
dst = torch.empty_like(src)
ms = time_ms(lambda: dst.copy_(src), 20)
rows.append({"kernel": "copy", "bytes": 2 * src.numel() * 4, "ms": ms,
             "gbps": 2 * src.numel() * 4 / ms / 1e6})
del src, dst



def decode_token_8b(context=1024):
    """One token through every layer of a Llama-3.1-8B shape in f16, then the LM head and an
    argmax; each layer has its own weights and KV cache. Returns (ms, bytes read per token)."""
    L, H, QH, KVH, HD, F, V = 32, 4096, 32, 8, 128, 14336, 128256
    f16 = torch.float16
    g = torch.Generator(device=dev).manual_seed(1)

    def w(*shape):
        return torch.randn(*shape, device=dev, dtype=f16, generator=g) * 0.02

    layers = []
    for _ in range(L):
        layers.append({
            "an": torch.ones(H, device=dev, dtype=f16), "mn": torch.ones(H, device=dev, dtype=f16),
            "qkv": w((QH + 2 * KVH) * HD, H), "o": w(H, QH * HD),
            "gate": w(F, H), "up": w(F, H), "down": w(H, F),
            "k": w(1, KVH, context, HD), "v": w(1, KVH, context, HD),
        })
    fn_w, head = torch.ones(H, device=dev, dtype=f16), w(V, H)
    x0 = w(H)

    def rms(x, gain):
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean() + 1e-5)).to(f16) * gain

    def step(x):
        for ly in layers:
            qkv = torch.mv(ly["qkv"], rms(x, ly["an"]))
            q = qkv[: QH * HD].view(1, QH, 1, HD)
            a = torch.nn.functional.scaled_dot_product_attention(
                q, ly["k"], ly["v"], enable_gqa=True)
            x = x + torch.mv(ly["o"], a.reshape(QH * HD))
            hn = rms(x, ly["mn"])
            act = torch.nn.functional.silu(torch.mv(ly["gate"], hn)) * torch.mv(ly["up"], hn)
            x = x + torch.mv(ly["down"], act)
        return torch.argmax(torch.mv(head, rms(x, fn_w)))

    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):
            step(x0)
    torch.cuda.current_stream().wait_stream(s)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step(x0)
    ms = time_ms(graph.replay, 10)
    per_layer = ((QH + 2 * KVH) * HD * H + H * QH * HD + 3 * F * H + 2 * KVH * context * HD) * 2
    return ms, L * per_layer + V * H * 2


if "--no-decode" not in sys.argv:
    try:
        ms, nbytes = decode_token_8b()
        rows.append({"kernel": "decode_token", "model": "llama-3.1-8b", "context": 1024,
                     "dtype": "f16", "ms": ms, "tokens_per_s": 1e3 / ms,
                     "gbps": nbytes / ms / 1e6,
                     "how": "CUDA graph replay of one token, random weights"})
    except Exception as e:  # the GEMM rows above still count
        print(f"decode_token baseline failed: {e!r}", file=sys.stderr)
    torch.cuda.empty_cache()

info = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__,
        "cuda": torch.version.cuda, "tf32": False,
        "l2_bytes": torch.cuda.get_device_properties(0).L2_cache_size, "rows": rows}
for r in rows:
    tput = f"{r['gflops']:.0f} GFLOP/s" if "gflops" in r else f"{r['gbps']:.0f} GB/s"
    shape = " ".join(f"{key}={r[key]}" for key in ("m", "n", "k", "bytes", "model") if key in r)
    print(f"torch {r['kernel']:<5} {shape:<28} {r.get('dtype', ''):<4} {r['ms']:.4f} ms  {tput}")
with open(sys.argv[1], "w") as f:
    json.dump(info, f, indent=2)
