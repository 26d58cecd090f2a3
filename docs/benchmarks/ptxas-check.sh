#!/usr/bin/env bash
# Static check of the CUDA kernels without a GPU: `lmu ptx` writes the PTX that ILGPU emits (sm_80), NVIDIA's ptxas
# assembles it for the H100 (sm_90) and reports registers and spills per kernel, and cuobjdump's SASS gives each
# FFMA loop's instruction mix. Run from the repository root: docs/benchmarks/ptxas-check.sh [OUT_DIR].
# ptxas: $PTXAS, or ptxas on PATH, or extracted once from Debian's non-free nvidia-cuda-toolkit (11.8) into
# /tmp/cuda-ptxas (needs root for apt; adds a bookworm contrib/non-free source if there is none). ptxas 11.8 reads
# PTX up to ISA 7.8, so the `.version 8.0` line ILGPU writes is lowered to 7.8 (nothing the kernels use is newer).
set -euo pipefail
out=${1:-/tmp/lmu-ptxas}
mkdir -p "$out"

ptxas=${PTXAS:-$(command -v ptxas || true)}
if [[ -z "$ptxas" ]]; then
  tools=/tmp/cuda-ptxas
  if [[ ! -x $tools/usr/bin/ptxas ]]; then
    policy=$(apt-cache policy nvidia-cuda-toolkit 2>/dev/null || true)
    if ! grep -q 'Candidate: [0-9]' <<<"$policy"; then
      cat > /etc/apt/sources.list.d/lmu-nonfree.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: contrib non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
      apt-get update -qq
    fi
    (cd /tmp && rm -f nvidia-cuda-toolkit_*.deb && apt-get download -qq nvidia-cuda-toolkit 2>/dev/null)
    dpkg-deb -x /tmp/nvidia-cuda-toolkit_*.deb "$tools"
  fi
  ptxas=$tools/usr/bin/ptxas
fi
cuobjdump=$(dirname "$ptxas")/cuobjdump

lmu=${LMU:-}
if [[ -z "$lmu" ]]; then
  dotnet build -c Release Lmu.Gpu.Cli -v q -nologo >/dev/null
  lmu=Lmu.Gpu.Cli/bin/Release/net10.0/lmu
fi

"$lmu" ptx --out "$out" >/dev/null
for g in 0 1; do
  "$lmu" ptx --kernel chunk-states --groups-per-sm $g --out "$out/groups$g" >/dev/null
  mv "$out/groups$g/chunk-states.ptx" "$out/chunk-states-groups$g.ptx"
  rmdir "$out/groups$g"
done

# Each FFMA or HMMA loop (a backward branch whose body holds them): its length and instruction mix.
loops() {
  python3 - "$1" <<'PY'
import re, sys
from collections import Counter
ins = []
for line in open(sys.argv[1]):
    m = re.search(r'/\*([0-9a-f]{4,})\*/\s+(.*?);', line)
    if m:
        ins.append((int(m.group(1), 16), m.group(2).strip()))
at = {a: i for i, (a, _) in enumerate(ins)}
for i, (a, text) in enumerate(ins):
    m = re.search(r'BRA (0x[0-9a-f]+)', text)
    if not m or int(m.group(1), 16) >= a or int(m.group(1), 16) not in at:
        continue
    body = [t for _, t in ins[at[int(m.group(1), 16)]:i + 1]]
    ops = Counter(re.sub(r'^@!?U?P\w+\s+', '', t).split()[0].split('.')[0] for t in body)
    if ops['FFMA']:
        top = ', '.join(f'{k} {v}' for k, v in ops.most_common(6))
        print(f'    loop of {len(body)} instructions, {ops["FFMA"]} FFMA ({100 * ops["FFMA"] / len(body):.0f} %): {top}')
    elif ops['HMMA']:
        top = ', '.join(f'{k} {v}' for k, v in ops.most_common(8))
        print(f'    loop of {len(body)} instructions, {ops["HMMA"]} HMMA (tensor-core mma): {top}')
PY
}

echo "ptxas: $("$ptxas" --version | tail -1); target sm_90"
for f in "$out"/*.ptx; do
  name=$(basename "$f" .ptx)
  sed -i 's/^\.version 8\.0$/.version 7.8/' "$f"
  info=$("$ptxas" -arch=sm_90 -v "$f" -o "$out/$name.cubin" 2>&1 | grep -E 'registers|spill' | tr -s ' ' | tr '\n' ' ')
  regs=$(grep -oE 'Used [0-9]+ registers' <<<"$info" | grep -oE '[0-9]+')
  spill=$(grep -oE '[0-9]+ bytes spill stores' <<<"$info" | grep -oE '^[0-9]+')
  echo "$name: $regs registers, $spill bytes spilled"
  "$cuobjdump" -sass "$out/$name.cubin" > "$out/$name.sass"
  loops "$out/$name.sass"
done
