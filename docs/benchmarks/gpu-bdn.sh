#!/usr/bin/env bash
# BenchmarkDotNet on a lent GPU machine (no .NET SDK there), in-process (InProcessEmitToolchain). The benchmark suite
# is published on its own, into the same .device folder the CLI uses (both together pass the device tool's 64 MiB):
#   ../shared/tools/device-publish Lmu.Gpu.Benchmarks .device
# then, from the repository root, with OUT set to a folder for the results: `gpu-bdn.sh [CLASS…]`
# (default: DeviceScanBenchmarks, device-resident all-state runs, sequential kernel against the scan, d = 64 and 256,
# B = 1, 16 and 64, T = 10^3 and 10^5: 24 cases, about 2 minutes with the short job). Other classes with CUDA cases:
# StepBenchmarks, SequenceBenchmarks (host and cuda side by side, with host transfers), NeuronUpdateBenchmarks
# (LMU_BENCH_ACCELERATOR=cuda). The Markdown tables land in $OUT/bdn/results/.
set -u
B=.device/Lmu.Gpu.Benchmarks
OUT=${OUT:-/tmp/gpu-out}
mkdir -p "$OUT/bdn"
classes=${*:-DeviceScanBenchmarks}
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 | tee -a "$OUT/bdn.log"
for c in $classes; do
  echo "\$ Lmu.Gpu.Benchmarks --inprocess --filter '*$c*' --job short" | tee -a "$OUT/bdn.log"
  timeout "${LIMIT:-400}" "$B" --inprocess --filter "*$c*" --job short --exporters markdown --artifacts "$OUT/bdn" 2>&1 \
    | grep -E '^\||^//|Run time|Exception|error' | tee -a "$OUT/bdn.log"
done
