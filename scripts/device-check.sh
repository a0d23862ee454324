#!/usr/bin/env bash
# GPU check on a lent NVIDIA machine (the device tool), in stages named on the command line
# (default: all of them, in this order):
#   gputests  every kernel verified against the reference on the real adapter (tests/gpu.rs)
#   gemm      the standard suite's f16 GEMMs, on cooperative matrices (default) and on the tiled
#             kernel (ACCELBENCH_GEMM_F16=tiled), one results file each
#   gemmx     kernel experiments: every cooperative-matrix GEMM variant (GEMMX, default all
#             seven), tables only; gputests verifies each at ragged shapes
#   decode8b  only the whole-model Llama-3.1-8B f16 decode (decode_token)
#   diagnose  the per-process slowdown of notes/gpu.md: small kernels and f16 GEMMs with and
#             without the cooperative-matrix feature and without nvidia-smi sampling, two
#             processes each, clocks alongside
#             (every row records nvidia-smi's clocks while it was timed: `states FILE` prints them)
#   checks    kernels compiled without wgpu's shader runtime checks and workgroup zero-fill
#             (ACCELBENCH_SHADER_CHECKS=off; opt-in until measured) against the default, ABAB,
#             a process each: f16 GEMMs, the quick suite's small kernels, the 1B whole-model decode
#   attn      the grouped f16 attention kernel against the default (opt-in until measured)
#   fused     the fused decode layer (7 dispatches, ACCELBENCH_DECODE=fused; opt-in until
#             measured) against the default 11: decode_step f16 and f32, decode_token f16, for
#             FUSED_MODELS (default llama-3.2-1b llama-3.1-8b), default/fused alternating (ABAB)
#             in separate processes, one summary line per process
#   torch     scripts/torch_baseline.py: cuBLAS GEMMs, rotated torch.mv, copy, and a CUDA-graph
#             Llama-3.1-8B f16 decode, in the same command as the rows it is compared with
#   torch-decode  only the CUDA-graph decode of the torch baseline
#   standard  the whole standard suite on the GPU (whole-model decode of Llama-3.1-8B f16 too),
#             kernel choices timed and the fastest measured (rows' `tuning`); every other stage
#             runs with --no-tune
#   spread    the Llama-3.1-8B f16 decode step in three separate processes (placement spread)
# Expects .devbin/accelbench (release build) and .devbin/gputests (the test binary) from this
# checkout, and .gl/*.deb (Vulkan loader) as /work/.library/device/README.md describes:
# `bash scripts/stage-device.sh` stages all three (24 MB, within the tool's 64 MiB carry).
# Writes at most 8 files under $OUT (the device tool returns no more).
set -uo pipefail
OUT=${OUT:-/tmp/accelbench-out}
mkdir -p "$OUT"
STAGES=${*:-gputests gemm torch standard spread}
LOG="$OUT/log.txt"
exec > >(tee -a "$LOG") 2>&1
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
chmod +x .devbin/* || true
BIN=.devbin/accelbench
export XDG_RUNTIME_DIR=$(mktemp -d); chmod 700 "$XDG_RUNTIME_DIR"
date -u
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,clocks.max.mem,memory.total,persistence_mode,compute_mode,power.limit --format=csv
# The whole call beside the machine's own record, one line a second: power, utilization,
# clocks, memory, temperature (dmon.txt); and every 5 s the compute processes on the GPU,
# since a GPU shared with another job would explain the per-process slowdowns of notes/gpu.md
# (another process's line, or memory in use that is not ours).
nvidia-smi dmon -s pucmt -o T >"$OUT/dmon.txt" 2>&1 &
DMON=$!
( while sleep 5; do
    echo "apps $(date -u +%T): $(nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv,noheader 2>&1 | tr '\n' ';') used $(nvidia-smi --query-gpu=memory.used,utilization.gpu --format=csv,noheader 2>&1)"
  done ) >"$OUT/apps.txt" 2>&1 &
APPS=$!
trap 'kill $DMON $APPS 2>/dev/null' EXIT
$BIN devices --json >"$OUT/devices.json" 2>/dev/null
if ! grep -q '"vulkan"' "$OUT/devices.json"; then
  echo "no Vulkan adapter with the default ICD search; pointing at the NVIDIA ICD"
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  $BIN devices --json >"$OUT/devices.json" 2>/dev/null
fi
$BIN devices
# The first Vulkan adapter's index as `run --device N` takes it.
IDX=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(next(a["index"] + 1 for a in d["gpus"] if a["backend"]=="vulkan"))' "$OUT/devices.json")
echo "vulkan adapter: --device $IDX"
NAME=h200
# Each row's GPU clock while it was timed (device_state, from nvidia-smi), one line per row.
states() {
  python3 - "$1" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    s = r.get("device_state")
    if not s or not r["device"].startswith("gpu"):
        continue
    print("  state", r["kernel"], r["dtype"], "p50 us", round(r["ns"]["p50"] / 1e3, 1), "SM MHz",
          s["sm_clock_mhz"]["p50"], "of", s.get("max_sm_clock_mhz"), "mem", s["mem_clock_mhz"]["p50"],
          "of", s.get("max_mem_clock_mhz"), s.get("pstates"), "W", s.get("power_w_max"), "C", s.get("temp_c_max"),
          s.get("limit_reasons", []))
PY
}
# Comparisons fix every kernel choice (--no-tune, environment variables); the standard stage
# lets `run` time the choices and measure the fastest, as a user's run does.
TUNED="$BIN run --device $IDX --max-time-per-workload ${MAXT:-1}"
RUN="$TUNED --no-tune"
for stage in $STAGES; do
  echo "=== stage $stage ($(date -u +%T))"
  case $stage in
    gputests)
      ACCELBENCH_REQUIRE_GPU=1 timeout 150 .devbin/gputests gpu:: --test-threads 2 >"$OUT/gputests.txt" 2>&1
      echo "gpu tests exit: $?"; grep -E "^test |test result|panicked|error" "$OUT/gputests.txt" | head -40 ;;
    gemm)
      # The default kernel's rows come with the standard stage; here the candidate and the fallback.
      ACCELBENCH_GEMM_F16=gemm_f16_coop_k64x2 timeout 60 $RUN --suite standard --kernel gemm --dtype f16 --out "$OUT/$NAME-gemm-f16-k64x2.json"
      ACCELBENCH_GEMM_F16=tiled timeout 60 $RUN --suite standard --kernel gemm --dtype f16 --out "$OUT/$NAME-gemm-f16-tiled.json" ;;
    gemmx)
      # Kernel experiments: each cooperative-matrix variant on the f16 GEMM shapes, tables only.
      for v in ${GEMMX:-gemm_f16_coop_k64 gemm_f16_coop_k64x2 gemm_f16_coop_w64 gemm_f16_coop_k32x2 gemm_f16_coop_k64_splitk gemm_f16_coop_t128 gemm_f16_coop_t128_splitk}; do
        echo "--- ACCELBENCH_GEMM_F16=$v"
        ACCELBENCH_GEMM_F16=$v timeout 60 $BIN run --no-tune --device $IDX --max-time-per-workload 0.5 --suite standard --kernel gemm --dtype f16 --out /tmp/gemmx-$v.json --force 2>&1 | grep -E "^gpu0|error"
      done ;;
    decode8b)
      timeout 150 $RUN --kernel decode_token --model llama-3.1-8b --dtype f16 --shape context=1024 --out /tmp/decode8b.json --force ;;
    diagnose)
      # notes/gpu.md, "Per-process slowdowns": the same small and memory-bound kernels with the
      # cooperative-matrix feature off and on, each in a process of its own, twice, with the
      # clocks sampled beside them.
      # Each row also carries the clocks nvidia-smi read while it was timed (device_state).
      (nvidia-smi dmon -s pucm -d 1 >"$OUT/dmon.txt" 2>&1 &)
      # A third process per round runs with ACCELBENCH_NVIDIA_SMI=off: whether the sampling
      # itself disturbs the timings.
      for i in 1 2; do
        for mode in coop nocoop nosmi; do
          # (An empty ACCELBENCH_NVIDIA_SMI turns sampling off too: set it only to turn it off.)
          envs="ACCELBENCH_NO_COOP=0"
          [ $mode = nocoop ] && envs="ACCELBENCH_NO_COOP=1"
          [ $mode = nosmi ] && envs="ACCELBENCH_NO_COOP=0 ACCELBENCH_NVIDIA_SMI=off"
          echo "--- process $i, $mode ($envs)"
          env $envs timeout 60 $RUN --suite quick --kernel rmsnorm --kernel gemv --kernel decode_attention --out /tmp/d.json --force 2>&1 | grep -E "^gpu0|error|warning|dependent dispatch"
          states /tmp/d.json
          env $envs timeout 60 $RUN --suite standard --kernel gemm --dtype f16 --out /tmp/e.json --force 2>&1 | grep -E "^gpu0|error|warning"
          states /tmp/e.json
        done
      done
      pkill nvidia-smi || true ;;
    checks)
      # wgpu's shader runtime checks (index clamps, loop counters, division guards) and
      # workgroup zero-fill, on (default) and off, alternating processes; `run` also prints the
      # dependent-dispatch probe, and decode rows say what their dispatches alone cost.
      for i in 1 2; do
        for c in on off; do
          echo "--- $i ACCELBENCH_SHADER_CHECKS=$c"
          ACCELBENCH_SHADER_CHECKS=$c timeout 60 $RUN --suite standard --kernel gemm --dtype f16 --out /tmp/c.json --force 2>&1 | grep -E "^gpu0|error|dependent dispatch"
          ACCELBENCH_SHADER_CHECKS=$c timeout 60 $RUN --suite quick --kernel rmsnorm --kernel softmax --kernel gemv --kernel decode_attention --out /tmp/c.json --force 2>&1 | grep -E "^gpu0|error"
          ACCELBENCH_SHADER_CHECKS=$c timeout 90 $RUN --kernel decode_token --model llama-3.2-1b --dtype f16 --shape context=1024 --out /tmp/c.json --force 2>&1 | grep -E "^gpu0|tok/s|error"
          python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("  note:", r.get("note"))' /tmp/c.json
        done
      done ;;
    attn)
      # The grouped f16 attention kernel (ACCELBENCH_ATTENTION=gqa, opt-in until measured)
      # against the default, alone and in the whole-model decode, alternating processes.
      for i in 1 2; do
        for a in default gqa; do
          echo "--- $i ACCELBENCH_ATTENTION=$a"
          ACCELBENCH_ATTENTION=$a timeout 60 $RUN --suite standard --kernel decode_attention --dtype f16 --out /tmp/a.json --force 2>&1 | grep -E "^gpu0|error"
          ACCELBENCH_ATTENTION=$a timeout 150 $RUN --kernel decode_token --model llama-3.1-8b --dtype f16 --shape context=1024 --out /tmp/a.json --force 2>&1 | grep -E "^gpu0|tok/s|error"
        done
      done ;;
    fused)
      # The fused decode layer against the default, ABAB per workload, a process each; each line
      # says which kernels ran (kernel_variant), so a silent fallback shows.
      FUSED_SUMMARY='import json,sys
r = json.load(open(sys.argv[1]))["results"][0]
us = lambda x: None if x is None else round(x / 1e3, 1)
tok = r.get("tokens_per_s")
print(" ", r["kernel"], r["shape"].get("model"), r["dtype"], "p50 us", us(r["ns"].get("p50")),
      "ci95 us", [us(x) for x in r.get("ci95_ns") or []], "GB/s", round(r.get("gbps") or 0),
      "%bw", r.get("pct_peak_bw"), "tok/s", tok and round(tok, 1),
      "verified", r["verified"]["ok"], r.get("kernel_variant"), r.get("error"))
print("   dispatches", r.get("dispatches"), "note:", r.get("note"))'
      for m in ${FUSED_MODELS:-llama-3.2-1b llama-3.1-8b}; do
        for kd in ${FUSED_KINDS:-decode_step:f16 decode_step:f32 decode_token:f16}; do
          for i in 1 2; do
            for v in default fused; do
              rm -f /tmp/fused.json
              ACCELBENCH_DECODE=$v timeout 150 $RUN --kernel "${kd%:*}" --model "$m" --dtype "${kd#*:}" --shape context=1024 --json --out /tmp/fused.json --force >/dev/null 2>/tmp/fused.err
              echo "exit $? round $i ACCELBENCH_DECODE=$v"
              python3 -c "$FUSED_SUMMARY" /tmp/fused.json || tail -5 /tmp/fused.err
            done
          done
        done
      done ;;
    torch)
      PYTHONUNBUFFERED=1 timeout 150 python3 scripts/torch_baseline.py "$OUT/$NAME-torch-baseline.json" ;;
    torch-decode)
      PYTHONUNBUFFERED=1 timeout 100 python3 scripts/torch_baseline.py "$OUT/$NAME-torch-decode.json" --decode-only ;;
    standard)
      # The tuned run tries kernels that have never run on this GPU (w64, k32x2, t128, the
      # split-K GEMMs, the fused layer, the grouped attention). First every choice once at
      # small ragged shapes, a few seconds. A choice that fails verification is only listed:
      # the tuner never measures one that failed. If the process fails, a row fails, or an
      # error says the device was lost, the standard run goes without tuning (the defaults,
      # verified on the H200 before) and says so.
      PRE='import json,sys
rows = json.load(open(sys.argv[1]))["results"]
failed = [(r["kernel"], r["dtype"], t["choice"], t.get("error")) for r in rows
          for t in (r.get("tuning") or {}).get("trials", []) if t.get("p50_ns") is None]
bad = [(r["kernel"], r["dtype"], r.get("error")) for r in rows if not r["verified"]["ok"]]
bad += [f for f in failed if "lost" in str(f[3]).lower()]
tuned = sum(1 for r in rows if r.get("tuning"))
print("  precheck:", len(rows), "rows,", tuned, "tuned; choices that failed (skipped by the tuner):", failed)
print("  blocking:", bad)
sys.exit(1 if bad or tuned == 0 else 0)'
      ok=1
      for args in "--kernel gemm --dtype f16 --shape m=257,n=130,k=300" \
                  "--kernel decode_step --dtype f16 --model llama-3.2-1b --shape context=100" \
                  "--kernel decode_attention --dtype f16 --shape context=130,q_heads=32,kv_heads=8,head_dim=128"; do
        rm -f /tmp/pre.json
        timeout 60 $TUNED --max-time-per-workload 0.2 $args --out /tmp/pre.json >/dev/null 2>/tmp/pre.err \
          && python3 -c "$PRE" /tmp/pre.json || { ok=0; echo "precheck failed: $args"; tail -3 /tmp/pre.err; }
      done
      if [ $ok = 1 ]; then
        timeout 420 $TUNED --suite standard --out "$OUT/$NAME-vulkan-standard.json"
      else
        echo "standard WITHOUT tuning: a kernel choice failed the precheck"
        timeout 420 $RUN --suite standard --out "$OUT/$NAME-vulkan-standard.json"
      fi
      states "$OUT/$NAME-vulkan-standard.json" ;;
    spread)
      for i in 1 2 3; do
        timeout 60 $RUN --kernel decode_step --model llama-3.1-8b --dtype f16 --json --out "/tmp/spread$i.json" >/dev/null
        python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; s=r.get("device_state") or {}; print("process", sys.argv[2], r["kernel"], r["dtype"], "p50 us", round(r["ns"]["p50"]/1e3,1), "ci95 us", [round(x/1e3,1) for x in r["ci95_ns"]], "SM MHz", (s.get("sm_clock_mhz") or {}).get("p50"), "mem MHz", (s.get("mem_clock_mhz") or {}).get("p50"), s.get("pstates"), s.get("limit_reasons"), r.get("error"))' "/tmp/spread$i.json" $i
      done ;;
    *) echo "unknown stage $stage" ;;
  esac
done
date -u
