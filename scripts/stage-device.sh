#!/usr/bin/env bash
# Stage what scripts/device-check.sh needs on a lent GPU machine (the device tool), from this
# checkout: the release binary and the integration-test binary, stripped, in .devbin/, and the
# Vulkan loader packages in .gl/ (the recipe in /work/.library/device/README.md). Both folders
# are kept out of git (.git/info/exclude); name them in the device call's `carry`:
#   carry [".gl", ".devbin"], command `MAXT=0.5 bash scripts/device-check.sh STAGES...`
# The device tool carries at most 64 MiB in all; this prints the sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
for d in /.gl/ /.devbin/; do
  grep -qxF "$d" .git/info/exclude 2>/dev/null || echo "$d" >>.git/info/exclude
done
cargo build --release
# The integration tests are one binary (tests/main.rs); its path from cargo's JSON messages.
tests=$(cargo test --release --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "main" and m.get("executable"):
        print(m["executable"])')
mkdir -p .devbin
cp target/release/accelbench .devbin/accelbench
cp "$tests" .devbin/gputests
strip .devbin/accelbench .devbin/gputests
if ! ls .gl/*.deb >/dev/null 2>&1; then
  mkdir -p .gl /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  apt-get $o update >/dev/null
  (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi
du -ch .devbin/* .gl/*.deb | tail -n 20
