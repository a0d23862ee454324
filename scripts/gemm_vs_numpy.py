#!/usr/bin/env python3
"""Interleaved pairs: accelbench's CPU f32 GEMM against numpy's BLAS, same shape and threads.

Usage: python3 scripts/gemm_vs_numpy.py [--pairs 20] [--n 2048] [--threads 2] [--seconds 3]
                                         [--bin target/release/accelbench]

Each pair times numpy (`a @ b`, median over `--seconds` of calls after one warm-up call) and
accelbench (`run --kernel gemm`, its p50 with the same time cap), alternating which goes first
so that a slow stretch of a shared host does not always land on the same side. It prints every
pair, the median ratio accelbench/numpy and a distribution-free 95% confidence interval for that
median (binomial order statistics over the pairs' ratios).

numpy's thread count is set through OPENBLAS_NUM_THREADS / OMP_NUM_THREADS / MKL_NUM_THREADS
before numpy is imported; threadpoolctl, when installed, is used to print which BLAS ran.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--pairs", type=int, default=20)
    p.add_argument("--n", type=int, default=2048)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--bin", default="target/release/accelbench")
    return p.parse_args()


def numpy_gflops(np, a, b, seconds):
    n = a.shape[0]
    a @ b
    times = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(times) < 5:
        t = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t)
    times.sort()
    return 2 * n**3 / times[len(times) // 2] / 1e9


def accelbench_gflops(binary, n, threads, seconds, out):
    cmd = [
        binary, "run", "--device", "cpu", "--threads", str(threads), "--kernel", "gemm",
        "--shape", f"m={n},n={n},k={n}", "--max-time-per-workload", str(seconds),
        "--out", out, "--force",
    ]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(out) as f:
        row = json.load(f)["results"][0]
    if not row["verified"]["ok"]:
        sys.exit("accelbench's GEMM failed verification; its speed is not comparable")
    return row["gflops"]


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


def main():
    args = parse_args()
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        os.environ.pop(var, None)
    import numpy as np

    try:
        from threadpoolctl import threadpool_info

        for info in threadpool_info():
            if info.get("user_api") == "blas":
                print(f"numpy {np.__version__}: {info.get('internal_api')} "
                      f"{info.get('version')} ({info.get('architecture')}), "
                      f"{info.get('num_threads')} threads")
    except ImportError:
        print(f"numpy {np.__version__} (install threadpoolctl to see which BLAS)")

    rng = np.random.default_rng(1)
    a = rng.random((args.n, args.n), dtype=np.float32)
    b = rng.random((args.n, args.n), dtype=np.float32)
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "gemm.json")
        print(f"f32 GEMM n={args.n}, {args.threads} threads, {args.pairs} interleaved pairs")
        print("pair  first       numpy GFLOP/s  accelbench GFLOP/s  ratio")
        for i in range(args.pairs):
            if i % 2 == 0:
                first = "numpy"
                ours_np = numpy_gflops(np, a, b, args.seconds)
                ours = accelbench_gflops(args.bin, args.n, args.threads, args.seconds, out)
            else:
                first = "accelbench"
                ours = accelbench_gflops(args.bin, args.n, args.threads, args.seconds, out)
                ours_np = numpy_gflops(np, a, b, args.seconds)
            ratios.append(ours / ours_np)
            print(f"{i + 1:>4}  {first:<10}  {ours_np:>13.1f}  {ours:>18.1f}  {ours / ours_np:.3f}",
                  flush=True)
    med, lo, hi = median_ci(ratios)
    if lo is None:
        print(f"median ratio accelbench/numpy {med:.3f} (too few pairs for a 95% interval)")
    else:
        print(f"median ratio accelbench/numpy {med:.3f}, 95% CI [{lo:.3f}, {hi:.3f}] "
              f"over {len(ratios)} pairs")


if __name__ == "__main__":
    main()
