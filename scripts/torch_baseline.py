#!/usr/bin/env python3
"""Vendor-library baseline for accelbench's GPU rows: torch.matmul (cuBLAS) and torch.mv on the
same shapes as accelbench's standard suite, f32 with TF32 disabled (so it is true FP32 work) and
f16, plus a device-to-device copy for bandwidth. Timed with CUDA events: warm-up, then the median
of several timed batches. Prints a table and writes JSON to the path given as the first argument.

Usage: python3 scripts/torch_baseline.py OUT.json
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
dtypes = {"f32": torch.float32, "f16": torch.float16}
gemms = [
    (512, 512, 512, "f32"), (1024, 1024, 1024, "f32"), (2048, 2048, 2048, "f32"),
    (4096, 4096, 4096, "f32"), (512, 4096, 4096, "f32"), (512, 14336, 4096, "f32"),
    (2048, 2048, 2048, "f16"), (512, 14336, 4096, "f16"),
]
for m, n, k, dt in gemms:
    a = torch.randn(m, k, device=dev, dtype=dtypes[dt])
    b = torch.randn(k, n, device=dev, dtype=dtypes[dt])
    ms = time_ms(lambda: torch.matmul(a, b), 20)
    rows.append({"kernel": "gemm", "m": m, "n": n, "k": k, "dtype": dt, "ms": ms,
                 "gflops": 2 * m * n * k / ms / 1e6})
for n, k, dt in [(4096, 4096, "f32"), (14336, 4096, "f32"), (4096, 4096, "f16"), (14336, 4096, "f16")]:
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

info = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__,
        "cuda": torch.version.cuda, "tf32": False, "rows": rows}
for r in rows:
    tput = f"{r['gflops']:.0f} GFLOP/s" if "gflops" in r else f"{r['gbps']:.0f} GB/s"
    shape = " ".join(f"{key}={r[key]}" for key in ("m", "n", "k", "bytes") if key in r)
    print(f"torch {r['kernel']:<5} {shape:<28} {r.get('dtype', ''):<4} {r['ms']:.4f} ms  {tput}")
with open(sys.argv[1], "w") as f:
    json.dump(info, f, indent=2)
