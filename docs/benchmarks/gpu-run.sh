#!/usr/bin/env bash
# The device check run on a lent GPU machine (no .NET SDK there): a self-contained `lmu` published with
#   ../shared/tools/device-publish Lmu.Gpu.Cli .device
# and this script run from the repository root with OUT set to a folder for the logs: `gpu-run.sh [SECTION…]`
# with sections selftest, memory, scan, scan-product, tf32, window, window-product, carries, carry-segments, sequential, adjoint, input-gradient, capacity-timing, neurons, capacity, training, training-scan, dense,
# stream, transfers, psmnist, truncated
# (default: selftest memory neurons capacity, the first run's set). Each command has its own time limit so that one slow case cannot eat the whole lease.
set -u
L=.device/lmu
OUT=${OUT:-/tmp/gpu-out}
mkdir -p "$OUT"
log="$OUT/gpu.log"
# Each command is logged with the kernel choices from the environment that apply to it.
run() {
  echo "\$ ${LMU_SCAN_STATES:+LMU_SCAN_STATES=$LMU_SCAN_STATES }${LMU_SCAN_WINDOW:+LMU_SCAN_WINDOW=$LMU_SCAN_WINDOW }${LMU_WINDOW_PRODUCT:+LMU_WINDOW_PRODUCT=$LMU_WINDOW_PRODUCT }${LMU_GEMM_GROUPS_PER_SM:+LMU_GEMM_GROUPS_PER_SM=$LMU_GEMM_GROUPS_PER_SM }${LMU_SPECIALIZE:+LMU_SPECIALIZE=$LMU_SPECIALIZE }${LMU_DENSE_PRODUCT:+LMU_DENSE_PRODUCT=$LMU_DENSE_PRODUCT }lmu $*" | tee -a "$log"
  timeout "${LIMIT:-90}" "$L" "$@" 2>&1 | tee -a "$log"
}

sections=${*:-selftest memory neurons capacity}
# With BUDGET=S (seconds), a section that would start after S seconds of the script is skipped and logged as such, so
# that one device call can list more sections than may fit in its limit and still return its log.
has() {
  [[ " $sections " == *" $1 "* ]] || return 1
  if (( SECONDS > ${BUDGET:-1000000} )); then
    echo "# section $1 skipped: $SECONDS s elapsed, over BUDGET=$BUDGET" | tee -a "$log"
    return 1
  fi
}

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 | tee -a "$log"
run info
if has selftest; then LIMIT=240 run selftest --accelerator cuda; fi

if has memory; then
# Linear memory: sequential kernel vs chunked scan on the GPU (device-resident timing), and the 10^6-step case.
for d in 64 256; do for B in 1 16 64; do for T in 1000 100000; do for m in sequential scan; do
  LIMIT=60 run bench memory --order $d --theta 1000 --steps $T --batch $B --method $m --accelerator cuda --repeat 3
done; done; done; done
LIMIT=60 run bench memory --order 256 --theta 1000 --steps 100000 --batch 64 --method auto --accelerator cuda --repeat 3
LIMIT=60 run bench memory --order 256 --theta 1000 --steps 1000000 --batch 1 --method scan --accelerator cuda --repeat 3
fi

if has scan; then
# The scan alone at T = 10^5 (after a kernel change), with the sequential kernel as the same-run baseline.
for d in 64 256; do for B in 1 16 64; do
  LIMIT=60 run bench memory --order $d --theta 1000 --steps 100000 --batch $B --method scan --accelerator cuda --repeat 5
done; done
LIMIT=60 run bench memory --order 256 --theta 1000 --steps 100000 --batch 64 --method sequential --accelerator cuda --repeat 3
LIMIT=60 run bench memory --order 256 --theta 1000 --steps 1000000 --batch 1 --method scan --accelerator cuda --repeat 3
fi

if has scan-product; then
# (--phases: a second line with the medians of phases A, B and C, from as many runs again.)
# Phase C of the scan as one matrix product (LMU_SCAN_STATES=gemm, L = 32 for d < 128 else 64) against the lock-step
# kernel (steps, the default), side by side in one run; then the product with other chunk lengths at the target case.
for d in 64 256; do for B in 1 16 64; do for k in steps gemm; do
  LMU_SCAN_STATES=$k LIMIT=60 run bench memory --order $d --theta 1000 --steps 100000 --batch $B --method scan --accelerator cuda --repeat 5 --phases
done; done; done
for c in 32 128; do
  LMU_SCAN_STATES=gemm LIMIT=60 run bench memory --order 256 --theta 1000 --steps 100000 --batch 64 --method scan --chunk $c --accelerator cuda --repeat 5 --phases
done
# The product's launch bounds (GemmOccupancy): none (ptxas picks the registers) and one group per SM, against the
# default of two groups per SM (128 registers) above.
for g in 0 1; do
  LMU_GEMM_GROUPS_PER_SM=$g LMU_SCAN_STATES=gemm LIMIT=60 run bench memory --order 256 --theta 1000 --steps 100000 --batch 64 --method scan --accelerator cuda --repeat 5 --phases
done
fi

if has tf32; then
# The tensor-core phase C (LMU_SCAN_STATES=tf32: 3xTF32 mma.sync, ScanTensorKernels) against the FP32 product (gemm),
# side by side at T = 10^5; then its launch bounds (one group per SM, none) at the target case. Its correctness on the
# GPU is the selftest's "phase C on tensor cores" cases (run selftest first). The target case first, so that a
# lease cut short still has it: both kernels with phases, tf32 with the window, and tf32 checked against the host.
for k in gemm tf32; do
  LMU_SCAN_STATES=$k LIMIT=60 run bench memory --order 256 --theta 1000 --steps 100000 --batch 64 --method scan --accelerator cuda --repeat 5 --phases
done
LMU_SCAN_STATES=tf32 LIMIT=60 run bench memory --order 256 --theta 1000 --steps 100000 --batch 64 --method scan --accelerator cuda --repeat 5 --phases --window on
LMU_SCAN_STATES=tf32 LIMIT=120 run bench memory --order 256 --theta 1000 --steps 100000 --batch 64 --method scan --accelerator cuda --repeat 1 --check 2
for d in 64 256; do for B in 1 16 64; do for k in gemm tf32; do
  LMU_SCAN_STATES=$k LIMIT=60 run bench memory --order $d --theta 1000 --steps 100000 --batch $B --method scan --accelerator cuda --repeat 5 --phases
done; done; done
for g in 1 0; do
  LMU_GEMM_GROUPS_PER_SM=$g LMU_SCAN_STATES=tf32 LIMIT=60 run bench memory --order 256 --theta 1000 --steps 100000 --batch 64 --method scan --accelerator cuda --repeat 5 --phases
done
# Correctness at the sizes (--check: the first 2 of 64 sequences against the host's sequential run, 1e-4).
for k in gemm tf32; do for d in 64 256; do
  LMU_SCAN_STATES=$k LIMIT=120 run bench memory --order $d --theta 1000 --steps 100000 --batch 64 --method scan --accelerator cuda --repeat 1 --check 2
done; done
LMU_SCAN_STATES=tf32 LIMIT=60 run bench memory --order 512 --theta 1000 --steps 100000 --batch 16 --method scan --accelerator cuda --repeat 3 --phases
LMU_SCAN_STATES=gemm LIMIT=60 run bench memory --order 512 --theta 1000 --steps 100000 --batch 16 --method scan --accelerator cuda --repeat 3 --phases
# With phase C on tensor cores the window products run there too (WindowTensorKernels): at the target case phase A and
# level 1 of the carries by it (the default) against the row kernels, then the window's carries by it, and a check.
for p in off on; do
  LMU_SCAN_STATES=tf32 LIMIT=60 run bench memory --order 256 --theta 1000 --steps 100000 --batch 64 --method scan --accelerator cuda --repeat 5 --phases --window off --window-product $p
done
for B in 16 64; do
  LMU_SCAN_STATES=tf32 LIMIT=60 run bench memory --order 256 --theta 1000 --steps 100000 --batch $B --method scan --accelerator cuda --repeat 5 --phases --window on
done
LMU_SCAN_STATES=tf32 LIMIT=120 run bench memory --order 256 --theta 1000 --steps 100000 --batch 64 --method scan --accelerator cuda --repeat 1 --window on --check 2
fi

if has window; then
# The window start (ScanWindow): each chunk's carry from its last H inputs (H = 1,792 at d = 256, 2,432 at d = 64 for
# θ = 1,000) against the chained carries, side by side, from the bench's zero states; the auto rule estimates the window
# cheaper up to B·k = 46 at d = 256 by the window product, 10 by the row kernel (PrefersWindowCarries; estimates). Then T = 10^6 at B = 1, and a --check of the window's states.
for d in 64 256; do for B in 1 4 16 64; do for w in off on; do
  LIMIT=60 run bench memory --order $d --theta 1000 --steps 100000 --batch $B --method scan --accelerator cuda --repeat 5 --phases --window $w
done; done; done
for w in off on; do
  LIMIT=60 run bench memory --order 256 --theta 1000 --steps 1000000 --batch 1 --method scan --accelerator cuda --repeat 3 --phases --window $w
done
LIMIT=120 run bench memory --order 256 --theta 1000 --steps 100000 --batch 4 --method scan --accelerator cuda --repeat 1 --window on --check 4
# Final-only runs: each final state from its last H inputs (one kernel) against the chained scan's phases A and B.
for B in 1 64; do for w in off on; do
  LIMIT=60 run bench memory --order 256 --theta 1000 --steps 100000 --batch $B --method scan --accelerator cuda --repeat 5 --output final --window $w
done; done
LIMIT=120 run bench memory --order 256 --theta 1000 --steps 100000 --batch 64 --method scan --accelerator cuda --repeat 1 --output final --check 4
fi

if has window-product; then
# Phase A (chunk ends) and the window start's states as one matrix product (WindowGemmKernels.WindowProduct, the default
# where it has a block per SM) against the row kernels (ChunkEnds, WindowStates), side by side. Run 10's phase A at
# B = 64, d = 256 took 2.7 ms by the row kernel (1.2 TFLOP/s); the product should take ~0.2 ms. Then the window's carries
# by the product at B = 16 and 64 (the auto rule's estimate is a near tie with the chain at B = 64), and --checks.
for d in 64 256; do for B in 16 64; do for p in off on; do
  LIMIT=60 run bench memory --order $d --theta 1000 --steps 100000 --batch $B --method scan --accelerator cuda --repeat 5 --phases --window off --window-product $p
done; done; done
for B in 16 64; do for w in off on; do
  LIMIT=60 run bench memory --order 256 --theta 1000 --steps 100000 --batch $B --method scan --accelerator cuda --repeat 5 --phases --window $w
done; done
LIMIT=60 run bench memory --order 256 --theta 1000 --steps 100000 --batch 64 --method scan --accelerator cuda --repeat 5 --phases
LIMIT=60 run bench memory --order 256 --theta 1000 --steps 100000 --batch 256 --method scan --accelerator cuda --repeat 3 --output final --window on
LIMIT=120 run bench memory --order 256 --theta 1000 --steps 100000 --batch 64 --method scan --accelerator cuda --repeat 1 --window on --check 4
LIMIT=120 run bench memory --order 256 --theta 1000 --steps 100000 --batch 64 --method scan --accelerator cuda --repeat 1 --window off --window-product on --check 4
fi

if has carries; then
# Phase B of the scan in one serial pass over the chunks (--carry-segment 0, as measured before) against two levels
# (segments of ⌈√(C/20)⌉ chunks, the default since run 9), side by side, where the chain of carries is longest: small batches,
# long sequences, and the product kernel's short chunks.
for g in 0 -1; do
  LIMIT=60 run bench memory --order 256 --theta 1000 --steps 1000000 --batch 1 --method scan --accelerator cuda --repeat 3 --phases --carry-segment $g
  for B in 1 64; do
    LIMIT=60 run bench memory --order 256 --theta 1000 --steps 100000 --batch $B --method scan --accelerator cuda --repeat 5 --phases --carry-segment $g
    LMU_SCAN_STATES=gemm LIMIT=60 run bench memory --order 256 --theta 1000 --steps 100000 --batch $B --method scan --accelerator cuda --repeat 5 --phases --carry-segment $g
  done
  LIMIT=60 run bench memory --order 64 --theta 1000 --steps 100000 --batch 1 --method scan --accelerator cuda --repeat 5 --phases --carry-segment $g
done
fi

if has carry-segments; then
# Phase B's segment length G where the chain is long and the batch small: fixed G side by side with the default (run 9
# timed this with the earlier default ⌈√(C/2)⌉, which counted a lock-step step of levels 1 and 3 as costly as a step of
# level 2's serial chain; they cost about 10×, hence ⌈√(C/20)⌉ since), product phase C.
for g in 4 9 16 -1; do
  LIMIT=60 run bench memory --order 256 --theta 1000 --steps 100000 --batch 1 --method scan --accelerator cuda --repeat 5 --phases --carry-segment $g
done
for g in 16 30 -1; do
  LIMIT=60 run bench memory --order 256 --theta 1000 --steps 1000000 --batch 1 --method scan --accelerator cuda --repeat 3 --phases --carry-segment $g
done
LIMIT=60 run bench memory --order 256 --theta 1000 --steps 100000 --batch 64 --method scan --accelerator cuda --repeat 5 --phases --carry-segment 9
LIMIT=60 run bench memory --order 64 --theta 1000 --steps 100000 --batch 1 --method scan --accelerator cuda --repeat 5 --phases --carry-segment 8
fi

if has sequential; then
# The sequential kernel with Āᵀ in shared memory (d ≤ ~104; measured before at 0.7 µs per step at d = 64 with Āᵀ
# read from L2), and at d = 256 (from global memory, unchanged) as the same-run reference.
for d in 17 64 256; do for B in 1 64; do
  LIMIT=60 run bench memory --order $d --theta 1000 --steps 100000 --batch $B --method sequential --accelerator cuda --repeat 3
done; done
fi

if has adjoint; then
# The adjoint (training's backward pass through the memory): the sequential kernel (one chunk per sequence) vs the
# scan (each chunk twice, the lock-step kernel) vs auto, which takes the scan once T holds four chunks of its rule;
# never timed on a GPU before. The last line checks λ against the host's sequential adjoint.
for d in 64 256; do for B in 1 16; do for T in 1000 100000; do for m in sequential scan auto; do
  LIMIT=60 run bench memory --order $d --theta 1000 --steps $T --batch $B --method $m --accelerator cuda --repeat 3 --output adjoint
done; done; done; done
LIMIT=120 run bench memory --order 256 --theta 1000 --steps 100000 --batch 16 --method scan --accelerator cuda --repeat 1 --output adjoint --check 2
fi

if has input-gradient; then
# The adjoint without λ (a feedforward layer's backward pass with a fixed θ): ∂u = B̄ᵀ·λ_t by the two chunk products
# (AdjointGemmKernels, the default) against the lock-step kernel (LMU_SCAN_STATES=steps), side by side; then checks.
for d in 64 256; do for B in 16 64; do for T in 10000 100000; do for k in steps gemm; do
  LMU_SCAN_STATES=$k LIMIT=60 run bench memory --order $d --theta 1000 --steps $T --batch $B --method scan --accelerator cuda --repeat 3 --output input-gradient
done; done; done; done
LIMIT=120 run bench memory --order 256 --theta 1000 --steps 100000 --batch 64 --method scan --accelerator cuda --repeat 1 --output input-gradient --check 2
LIMIT=120 run bench memory --order 64 --theta 1000 --steps 100000 --batch 16 --method scan --accelerator cuda --repeat 1 --output input-gradient --check 2
fi

if has neurons; then
# Spiking neurons: identical Poisson counts to the host path, and throughput at 10^8 neurons.
run bench neurons --type poisson --neurons 1000003 --steps 200 --reps 1 --accelerator cpu
run bench neurons --type poisson --neurons 1000003 --steps 200 --reps 1 --accelerator cuda
run bench neurons --type poisson --neurons 100000000 --steps 200 --reps 3 --accelerator cuda
run bench neurons --type lif --neurons 100000000 --steps 200 --reps 3 --accelerator cuda
run bench neurons --type poisson-levels --neurons 100000000 --steps 200 --reps 3 --accelerator cuda
run bench neurons --type poisson --neurons 100000000 --steps 200 --reps 3 --accelerator cpu
run spike --order 4 --theta 0.5 --neurons-per-dim 2000 --steps 2000 --seed 1 --accelerator cpu
run spike --order 4 --theta 0.5 --neurons-per-dim 2000 --steps 2000 --seed 1 --accelerator cuda
fi

if has capacity; then
# The paper's capacity experiment at full size on the GPU (scan), with its plot.
LIMIT=180 run capacity --accelerator cuda --method scan --plot "$OUT/capacity-gpu.png"
fi

if has capacity-timing; then
# Why lmu capacity's timed part took 0.7-1.3 s per T in run 9 (0.02-0.5 s in run 1) when its compute is milliseconds:
# one T with each phase-C kernel, then the same memory run (B = 100, 2.5*T steps, d = 100) by the bench, device-resident
# with its phases, and from host arrays (the decoded run in capacity goes through the span overloads).
for k in steps gemm; do
  LMU_SCAN_STATES=$k LIMIT=120 run capacity --steps 10000 --sequences 100 --accelerator cuda --method scan
done
LIMIT=60 run bench memory --order 100 --theta 9999.5 --steps 25000 --batch 100 --method scan --accelerator cuda --repeat 3 --phases
LIMIT=60 run bench memory --order 100 --theta 9999.5 --steps 25000 --batch 100 --method scan --accelerator cuda --repeat 3 --transfers
fi

if has training; then
# Training: the same short runs on the GPU and on this machine's CPUs, side by side (epoch times in the output).
for a in cuda cpu; do
  LIMIT=120 run train capacity --no-progress --accelerator $a
  LIMIT=120 run train mackey-glass --epochs 2 --no-progress --accelerator $a
done
fi
if has training-scan; then
# Feedforward LMU training with its memory and adjoint sequential vs by the scan (one step of 64 sequences, n = 64).
for d in 64 256; do for T in 1000 10000; do for m in sequential scan; do
  LIMIT=60 run bench training --order $d --steps $T --batch 64 --method $m --accelerator cuda --repeat 5
done; done; done
# With a trainable θ (the scan's θ gradient from λ; the tables are rebuilt on the host at every step).
for m in sequential scan; do
  LIMIT=60 run bench training --order 256 --steps 10000 --batch 64 --method $m --accelerator cuda --repeat 5 --trainable-theta
done
fi
if has dense; then
# Training's dense products (forward, input gradient, weight gradient) on the blocked product kernel vs the row
# kernels, side by side, at run 9's training sizes (one step of 64 sequences, n = 64, memory by the scan).
for d in 64 256; do for T in 1000 10000; do for p in off on; do
  LIMIT=60 run bench training --order $d --steps $T --batch 64 --method scan --accelerator cuda --repeat 5 --dense-product $p
done; done; done
LIMIT=60 run bench training --order 256 --steps 10000 --batch 64 --method sequential --accelerator cuda --repeat 5 --dense-product on
# Where the step's time goes (each part synchronised): run 9's size, products on and off.
for p in on off; do
  LIMIT=90 run bench training --order 256 --steps 10000 --batch 64 --method scan --accelerator cuda --repeat 3 --dense-product $p --profile
done
fi
if has stream; then
# Streaming inference (LmuModelStream) of the paper-sized models: one step and 100-step pieces per call, B = 1 and 64,
# on the GPU and on the machine's host path side by side (about 12 × 2 lines of 4 s: 1 s warm-up, 1001 calls).
for m in mackey-glass psmnist-paper psmnist-feedforward; do for B in 1 64; do for P in 1 100; do for a in cuda cpu; do
  LIMIT=60 run bench stream --model $m --batch $B --piece $P --accelerator $a --warmup 1 --repeat 1001
done; done; done; done
fi
if has transfers; then
# What the span overloads' host transfers cost next to the device-resident run (LinearMemory's view overloads).
for B in 1 16; do for x in "" --transfers; do
  LIMIT=60 run bench memory --order 256 --theta 1000 --steps 100000 --batch $B --method scan --accelerator cuda --repeat 3 $x
done; done
fi
if has truncated; then
# Training in windows (FitOptions.TruncatedSteps): the capacity task at T = 10,000 in windows of 1,000, on the GPU and
# on this machine's CPUs (whole sequences: 27.9 % after 10 epochs, windows 2.6 %, 23 s on the 2-core VM), then two
# epochs at T = 100,000 (250,000-step sequences; 4.8 % after 10 epochs, about 4 min on the VM).
for a in cuda cpu; do
  LIMIT=120 run train capacity --window 10000 --epochs 10 --truncate 1000 --no-progress --accelerator $a
done
LIMIT=240 run train capacity --window 100000 --epochs 2 --truncate 1000 --lr 0.001 --no-progress --accelerator cuda
fi
if has psmnist; then
# psMNIST at the paper's sizes on the GPU (Fashion-MNIST IDX files under $DATA): one epoch of each shape. The GPU
# machine has no dataset package and the carry limit (64 MiB) does not hold lmu (45 MB) and the 30 MB of .gz files
# together: carry a subset (e.g. the t10k files as both train and test in one folder) and use --train-limit.
for m in paper feedforward; do
  LIMIT=300 run train psmnist --model $m --epochs 1 --no-progress --data "${DATA:-/usr/share/datasets/fashion-mnist}" --accelerator cuda
done
fi
echo "done" | tee -a "$log"
