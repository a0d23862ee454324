#!/usr/bin/env bash
# GPU check on a lent NVIDIA machine (the device tool): verify every kernel on the real adapter,
# run the standard suite on it, and run the cuBLAS baseline (scripts/torch_baseline.py) in the
# same command, so the two are measured on the same machine minutes apart.
# Expects .devbin/accelbench (release build) and .devbin/gputests (the test binary) from this
# checkout, and .gl/*.deb (Vulkan loader) as /work/.library/device/README.md describes.
set -uo pipefail
OUT=${OUT:-/tmp/accelbench-out}
mkdir -p "$OUT"
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
chmod +x .devbin/* || true
BIN=.devbin/accelbench
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,clocks.max.mem,memory.total --format=csv | tee "$OUT/nvidia-smi.txt"
$BIN devices --json >"$OUT/devices.json" 2>"$OUT/devices.err"
if ! grep -q '"vulkan"' "$OUT/devices.json"; then
  echo "no Vulkan adapter with the default ICD search; pointing at the NVIDIA ICD"
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  $BIN devices --json >"$OUT/devices.json" 2>"$OUT/devices.err"
fi
$BIN devices 2>&1 | tee "$OUT/devices.txt"
# The first Vulkan adapter's index as `run --device N` takes it.
IDX=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(next(a["index"] + 1 for a in d["gpus"] if a["backend"]=="vulkan"))' "$OUT/devices.json")
echo "vulkan adapter: --device $IDX"
ACCELBENCH_REQUIRE_GPU=1 timeout 120 .devbin/gputests gpu:: --test-threads 1 >"$OUT/gputests.txt" 2>&1
echo "gpu tests exit: $?"; tail -5 "$OUT/gputests.txt"
timeout 330 $BIN run --suite standard --device "$IDX" --out "$OUT/h100-standard.json" 2>&1 | tee "$OUT/standard.txt"
timeout 90 python3 scripts/torch_baseline.py "$OUT/torch-baseline.json" 2>&1 | tee "$OUT/torch.txt"
