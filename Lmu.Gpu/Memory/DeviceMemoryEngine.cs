using ILGPU;
using ILGPU.Runtime;
using Lmu.Gpu.Kernels.Memory;

namespace Lmu.Gpu;

/// <summary>The ILGPU path of <see cref="LinearMemory"/>: Ā, B̄ and the states stay on the device.</summary>
internal sealed partial class DeviceMemoryEngine : IMemoryEngine
{
    private readonly Accelerator _accelerator;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _aT;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _bBar;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _states;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _empty;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _stepInput;
    private readonly int _order;
    private readonly int _count;
    private readonly int _channels;
    private readonly int _groupSize;
    private readonly int _parts;
    private readonly LmuSystem _system;
    private readonly float[] _aHost;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _a;

    /// <summary>Whether the sequence kernel keeps Āᵀ in shared memory (<see cref="MatrixFitsShared"/>).</summary>
    private readonly bool _matrixInShared;
    // One cached plan per phase-C kernel: a training step's forward run (the product's short chunks) and its adjoint
    // (the lock-step rule) alternate without rebuilding either.
    private readonly DevicePlan?[] _plans = new DevicePlan?[2];
    private MemoryBuffer1D<float, Stride1D.Dense>? _gemmStates;
    private int _gemmStatesLength;
    private ScanStatesKernel _gemmStatesKernel;
    private readonly ScanWorkspace _workspace;

    /// <summary>The kernels, loaded once per accelerator (<see cref="ScanKernelSet"/>).</summary>
    private readonly ScanKernelSet _kernels;
    private ScanStatesKernel _statesKernel;

    public DeviceMemoryEngine(Accelerator accelerator, LmuSystem system, int batch, int channels)
    {
        _accelerator = accelerator;
        _system = system;
        _aHost = system.DiscreteASingle();
        _order = system.Order;
        _channels = channels;
        _count = batch * channels;
        (_groupSize, _parts) = SequenceShape(accelerator, _order);
        _workspace = new ScanWorkspace(accelerator);
        var owned = new OwnedBuffers();
        try
        {
            _aT = DeviceBuffers.Upload(accelerator, system.DiscreteATransposedSingle(), owned);
            _bBar = DeviceBuffers.Upload(accelerator, system.DiscreteBSingle(), owned);
            _states = DeviceBuffers.Allocate(accelerator, (long)_count * _order, "states", owned);
            _states.MemSetToZero();
            _empty = DeviceBuffers.Allocate(accelerator, 1, "scratch", owned);
            _stepInput = DeviceBuffers.Allocate(accelerator, _count, "step input", owned);
            _a = DeviceBuffers.Upload(accelerator, _aHost, owned);
            _kernels = ScanKernelSet.For(accelerator);
            _matrixInShared = MatrixFitsShared(_order, _parts);
            StatesKernel = ScanStatesKernelParser.FromEnvironment();
        }
        catch
        {
            owned.Dispose();
            throw;
        }
    }

    public void Step(ReadOnlySpan<float> input)
    {
        // One input per sequence (B·k, checked by LinearMemory), into a buffer kept for the engine's life: a streaming
        // step is a copy, a launch and a synchronize, with no device allocation.
        _stepInput.View.AsContiguous().CopyFromCPU(input);
        StepOnDevice(_stepInput.View);
    }

    public void GetStates(Span<float> destination)
    {
        _states.View.AsContiguous().CopyToCPU(destination);
    }

    public void SetStates(ReadOnlySpan<float> source)
    {
        _states.View.AsContiguous().CopyFromCPU(source);
        _statesZero = !source.ContainsAnyExcept(0f);
    }

    /// <summary>One streaming step with its B·k inputs in a device view; synchronises before it returns.</summary>
    internal void StepOnDevice(ArrayView<float> input)
    {
        Launch(input, _empty.View, 1, MemoryOutputMode.FinalOnly, _empty.View, 0);
        _accelerator.Synchronize();
    }

    /// <summary>Copies the states [B·k, d] into a device view (device to device).</summary>
    /// <param name="destination">B·k·d values.</param>
    /// <param name="synchronize">False where the caller synchronises later: the copy is queued on the default stream,
    /// in order with the launches around it (a stream's run).</param>
    internal void CopyStatesTo(ArrayView<float> destination, bool synchronize = true)
    {
        ArrayView1D<float, Stride1D.Dense> target = destination;
        target.CopyFrom(_states.View);
        if (synchronize)
        {
            _accelerator.Synchronize();
        }
    }

    /// <summary>Overwrites the states [B·k, d] from a device view (device to device).</summary>
    /// <param name="source">B·k·d values.</param>
    /// <param name="synchronize">As for <see cref="CopyStatesTo"/>.</param>
    internal void CopyStatesFrom(ArrayView<float> source, bool synchronize = true)
    {
        _states.View.CopyFrom(source);
        _statesZero = false;
        if (synchronize)
        {
            _accelerator.Synchronize();
        }
    }

    public void RunSequential(ReadOnlySpan<float> input, int steps, MemoryOutputMode mode, ReadOnlySpan<float> decoders, int delays, Span<float> output) =>
        RunWithTransfers(input, steps, mode, decoders, delays, output, scan: false, 0);

    /// <summary>How phase C computes the states of the scan (default: <c>$LMU_SCAN_STATES</c> — steps, gemm or tf32 —
    /// else <see cref="ScanStatesKernel.Gemm"/>, 2.0–2.6× faster than the lock-step kernel on an H200 at T = 10⁵; the
    /// tensor-core <see cref="ScanStatesKernel.Tensor"/> is opt-in until a GPU has timed it; final-only runs and the
    /// adjoint always take the lock-step kernel).</summary>
    /// <exception cref="NotSupportedException">Set to <see cref="ScanStatesKernel.Tensor"/> on an accelerator that cannot
    /// run it (<see cref="SupportsTensorKernel"/>).</exception>
    internal ScanStatesKernel StatesKernel
    {
        get => _statesKernel;
        set
        {
            if (value == ScanStatesKernel.Tensor)
            {
                if (!SupportsTensorKernel(_accelerator))
                {
                    throw new NotSupportedException(
                        $"The tensor-core phase C (${ScanStatesKernelParser.Variable}=tf32) needs a CUDA device of compute capability 8.0 or later, or the CPU simulator with groups of {ScanTensorKernels.GroupThreads} threads; {_accelerator.Name} has neither.");
                }

                // Loaded now, so that the first scan does not pay the compile.
                _kernels.TensorStates();
            }

            _statesKernel = value;
        }
    }

    /// <summary>Whether <see cref="ScanTensorKernels.ChunkStates"/> runs on <paramref name="accelerator"/>: CUDA of compute
    /// capability 8.0 or later (TF32 <c>mma.sync</c>; warps of 32), or the CPU simulator (which emulates the mma) with
    /// groups of 256 threads.</summary>
    internal static bool SupportsTensorKernel(Accelerator accelerator) =>
        accelerator.MaxNumThreadsPerGroup >= ScanTensorKernels.GroupThreads && accelerator switch
        {
            ILGPU.Runtime.Cuda.CudaAccelerator cuda => cuda.Architecture >= ILGPU.Runtime.Cuda.CudaArchitecture.SM_80 && cuda.WarpSize == 32,
            _ => accelerator.AcceleratorType == AcceleratorType.CPU,
        };

    /// <summary>L of a run of all states: the lock-step rule of <see cref="ScanPlan.ChooseChunkLength"/>, or for the
    /// matrix-product phase C a short chunk (32 for d &lt; 128, else 64) that keeps its extra in-chunk convolution
    /// (K = d + L instead of d) small while phase B stays T/L serial steps.</summary>
    public int ChooseChunkLength(int steps) => ChooseChunkLength(StatesKernel, _order, _count, steps);

    /// <summary>The phase-C kernel of a forward run: <see cref="StatesKernel"/> where the run writes states, or decoded
    /// outputs with the decoders on the host (folded into the product's weights); the lock-step kernel otherwise.</summary>
    private ScanStatesKernel PhaseC(MemoryOutputMode mode, bool hostDecoders) =>
        mode == MemoryOutputMode.AllStates || (mode == MemoryOutputMode.Decoded && hostDecoders) ? StatesKernel : ScanStatesKernel.Steps;

    /// <summary>Scan once T holds four chunks. On an H200 the scan beat the sequential kernel in every measured case:
    /// T = 1,000 and 100,000, d = 64 and 256, B = 1, 16, 64 (docs/benchmarks/gpu-h200.md). A final-only run also takes
    /// it wherever the window start applies (one kernel of H steps per state against T sequential steps).</summary>
    public bool PrefersScan(int steps, MemoryOutputMode mode) =>
        PrefersScan(PhaseC(mode, hostDecoders: true), _order, _count, steps)
        || (mode == MemoryOutputMode.FinalOnly && FinalWindow(steps) > 0);

    /// <summary>The rule of all-state runs with the kernel and chunk rule the adjoint runs (the lock-step one): a GPU has
    /// far more lanes than one sequence's steps can fill, so the scan's parallel chunks pay for its extra pass (the
    /// adjoint was not timed against the sequential kernel on a GPU yet).</summary>
    public bool PrefersAdjointScan(int steps) => PrefersScan(ScanStatesKernel.Steps, _order, _count, steps);

    /// <summary><see cref="ChooseChunkLength(int)"/> for a phase-C kernel, order and B·k memories, without an engine.</summary>
    internal static int ChooseChunkLength(ScanStatesKernel kernel, int order, int memories, int steps) => kernel != ScanStatesKernel.Steps
        ? Math.Min(steps, order < 128 ? 32 : 64)
        : ScanPlan.ChooseChunkLength(steps, memories, order, 8192);

    /// <summary><see cref="PrefersScan(int, MemoryOutputMode)"/> without an engine (the training layers ask before they
    /// build one).</summary>
    internal static bool PrefersScan(ScanStatesKernel kernel, int order, int memories, int steps) =>
        steps >= 4 * ChooseChunkLength(kernel, order, memories, steps);

    public void RunScan(ReadOnlySpan<float> input, int steps, MemoryOutputMode mode, ReadOnlySpan<float> decoders, int delays, Span<float> output, int chunkLength) =>
        RunWithTransfers(input, steps, mode, decoders, delays, output, scan: true, chunkLength);

    /// <summary>A run from host spans: the input uploaded, <see cref="RunOnDevice"/>, the output read back.</summary>
    private void RunWithTransfers(ReadOnlySpan<float> input, int steps, MemoryOutputMode mode, ReadOnlySpan<float> decoders, int delays, Span<float> output, bool scan, int chunkLength)
    {
        using var owned = new OwnedBuffers();
        var inputBuffer = DeviceBuffers.Upload(_accelerator, input, owned);
        var outputBuffer = output.IsEmpty ? _empty : DeviceBuffers.Allocate(_accelerator, output.Length, "output", owned);
        RunOnDevice(inputBuffer.View, steps, mode, decoders.ToArray(), delays, outputBuffer.View, scan, chunkLength);
        if (!output.IsEmpty)
        {
            outputBuffer.View.AsContiguous().SubView(0, output.Length).CopyToCPU(output);
        }
    }

    /// <summary>The forward scan on device buffers (no transfers; for <see cref="RunScan"/> and benchmarks).</summary>
    /// <param name="input">u [B, T, k] on the device.</param>
    /// <param name="steps">T.</param>
    /// <param name="mode">What to write.</param>
    /// <param name="decoders">Decoder rows [Q, d] on the device (decoded mode).</param>
    /// <param name="delays">Q.</param>
    /// <param name="output">States or decoded outputs.</param>
    /// <param name="chunkLength">L, or 0 for <see cref="ChooseChunkLength(int)"/>.</param>
    /// <param name="owned">Buffers to dispose after the run.</param>
    /// <param name="hostDecoders">The decoders on the host, which the matrix-product phase C folds into its weights
    /// (without them decoded outputs take the lock-step kernel).</param>
    /// <param name="clock">When given, the device is synchronised at each phase boundary and the phases' seconds are
    /// returned (<c>lmu bench memory --phases</c>).</param>
    /// <returns>The phases' seconds when <paramref name="clock"/> is given, else default.</returns>
    internal ScanPhaseTimes ScanOnDevice(ArrayView<float> input, int steps, MemoryOutputMode mode, ArrayView<float> decoders, int delays, ArrayView<float> output, int chunkLength, List<IDisposable> owned, float[]? hostDecoders = null, ScanPhaseClock? clock = null)
    {
        clock?.Start();
        LastWindowProducts = 0;
        int finalWindow = mode == MemoryOutputMode.FinalOnly ? FinalWindow(steps) : 0;
        LastWindow = finalWindow;
        if (finalWindow > 0)
        {
            FinalByWindow(input, steps, finalWindow);
            _statesZero = false;
            return new ScanPhaseTimes(0, clock?.Lap() ?? 0, 0);
        }

        var phaseC = PhaseC(mode, hostDecoders is not null);
        var plan = Plan(steps, chunkLength, phaseC);
        int d = _order;
        long columns = (long)_count * plan.Plan.Chunks;
        int tile = ChunkTile;
        var carries = _workspace.Get(ScanScratch.Carries, columns * d, "scan carries");
        var final = _workspace.Get(ScanScratch.Final, (long)_count * d, "final states");
        var p = Params(plan.Plan, columns, tile, delays, 0);
        int horizon = CarryWindow(plan.Plan);
        LastWindow = horizon;
        double ends = 0;
        if (horizon > 0)
        {
            WindowCarries(plan, horizon, input, carries, final, p);
        }
        else
        {
            ChunkEnds(plan, input, carries, p);
            ends = clock?.Lap() ?? 0;
            ForwardCarries(plan, input, carries, final);
        }

        double carried = clock?.Lap() ?? 0;
        if (mode != MemoryOutputMode.FinalOnly && phaseC != ScanStatesKernel.Steps)
        {
            ChunkStatesByProduct(phaseC, plan.Plan, columns, input, mode, hostDecoders, delays, output, owned, carries);
        }
        else if (mode != MemoryOutputMode.FinalOnly)
        {
            int flags = mode == MemoryOutputMode.AllStates ? ScanKernels.ScanWriteStates : ScanKernels.ScanDecode;
            ChunkSteps(ChunkStepsConfig(columns, tile),
                _aT.View, _bBar.View, input, _states.View, carries, decoders,
                mode == MemoryOutputMode.AllStates ? output : _empty.View,
                mode == MemoryOutputMode.Decoded ? output : _empty.View, _empty.View, p with { Flags = flags | TileFlag });
        }

        double states = clock?.Lap() ?? 0;
        _states.View.CopyFrom(final);
        _statesZero = false;
        return new ScanPhaseTimes(ends, carried, states);
    }

    /// <summary>When set, <see cref="MeasureStates"/> of the scan also records each timed run's phases here (with a
    /// synchronisation at every phase boundary, so the runs it times are a little slower).</summary>
    internal List<ScanPhaseTimes>? PhaseLog { get; set; }

    /// <summary>Launches <see cref="ScanKernels.ChunkSteps"/> with <paramref name="p"/>'s flags as the kernel's
    /// specialised constant (one compiled kernel per flag combination), or the run-time-flags kernel under
    /// <c>$LMU_SPECIALIZE=0</c>.</summary>
    private void ChunkSteps(KernelConfig config, ArrayView<float> matrixT, ArrayView<float> bias, ArrayView<float> input,
        ArrayView<float> initial, ArrayView<float> carries, ArrayView<float> decoders, ArrayView<float> states,
        ArrayView<float> decoded, ArrayView<float> ends, ScanParams p)
    {
        if (p.Tile > ScanKernels.MaxTile)
        {
            throw new InvalidOperationException($"Chunk-step tile of {p.Tile} columns exceeds the kernel's {ScanKernels.MaxTile}.");
        }

        _kernels.ChunkSteps(config, matrixT, bias, input, initial, carries, decoders, states, decoded, ends, p);
    }

    /// <summary>Phase C as one matrix product: <see cref="ScanGemmKernels.ChunkStates"/>, or on tensor cores
    /// <see cref="ScanTensorKernels.ChunkStates"/> (its weights split and rearranged by <see cref="TensorWeights"/>).</summary>
    private void ChunkStatesByProduct(ScanStatesKernel kernel, ScanPlan plan, long columns, ArrayView<float> input, MemoryOutputMode mode,
        float[]? hostDecoders, int delays, ArrayView<float> output, List<IDisposable> owned, ArrayView<float> carries)
    {
        int d = _order;
        int length = plan.ChunkLength;
        bool tensor = kernel == ScanStatesKernel.Tensor;
        int side = tensor ? ScanTensorKernels.BlockSize / 8 : GemmGroupSide(_accelerator);
        int width = mode == MemoryOutputMode.AllStates ? d : delays;
        int paddedRows = ChunkStateWeights.PaddedRows(length * width, side);
        int paddedDepth = ChunkStateWeights.PaddedDepth(d, length, side);
        float[] Weights()
        {
            var blocked = mode == MemoryOutputMode.AllStates
                ? ChunkStateWeights.States(_system, length, side)
                : ChunkStateWeights.Decoded(_system, hostDecoders, delays, length, side);
            return tensor ? TensorWeights.Pack(blocked, paddedRows, paddedDepth) : blocked;
        }

        MemoryBuffer1D<float, Stride1D.Dense> weights;
        if (mode == MemoryOutputMode.AllStates)
        {
            if (_gemmStates is null || _gemmStatesLength != length || _gemmStatesKernel != kernel)
            {
                _gemmStates?.Dispose();
                _gemmStates = null;
                _gemmStates = DeviceBuffers.Upload(_accelerator, Weights(), null);
                _gemmStatesLength = length;
                _gemmStatesKernel = kernel;
            }

            weights = _gemmStates;
        }
        else
        {
            weights = DeviceBuffers.Upload(_accelerator, Weights(), owned);
        }

        long blocks = (long)(paddedRows / (8 * side)) * ((columns + (8 * side) - 1) / (8 * side));
        var p = new ScanGemmParams(d, _channels, plan.Steps, length, plan.Chunks, plan.LastLength, columns, width, paddedRows,
            paddedDepth, ChunkStateWeights.CarryDepth(d, side));

        // Each chunk's start state in one [N, d] array (the initial state or the previous chunk's end), so that the
        // product reads its carry rows with no branch.
        // Sixteen zeros after them: the stage of the last column reads up to D − 1 < d + 16 depths from its start.
        var starts = _workspace.Get(ScanScratch.Starts, (columns * d) + 16, "chunk start states");
        starts.SubView(columns * d, 16).MemSetToZero();
        int stride = (int)Math.Min(columns * d, 1 << 24);
        _kernels.ChunkStarts(stride, _states.View, carries, starts, p, stride);
        if (tensor)
        {
            var tensorConfig = new KernelConfig(new Index1D(checked((int)blocks)), new Index1D(ScanTensorKernels.GroupThreads),
                SharedMemoryConfig.RequestDynamic<float>(ScanTensorKernels.SharedFloats(_accelerator.AcceleratorType == AcceleratorType.Cuda)));
            _kernels.TensorStates()(tensorConfig, weights.View, input, starts, output, p);
            return;
        }

        var config = new KernelConfig(new Index1D(checked((int)blocks)), new Index1D(side * side),
            SharedMemoryConfig.RequestDynamic<float>(ScanGemmKernels.SharedFloats(side)));
        _kernels.ChunkStates(config, weights.View, input, starts, output, p, side);
    }

    /// <summary>The group side of a product with <paramref name="rows"/> output rows: <paramref name="deviceSide"/>,
    /// halved while half of it still covers the rows (64 rows take 8 × 8 groups and 64 × 64 blocks rather than
    /// half-empty 128 × 128 ones).</summary>
    /// <param name="deviceSide">The largest side the device runs (<see cref="GemmGroupSide"/>).</param>
    /// <param name="rows">M.</param>
    /// <returns>The side.</returns>
    internal static int BlockSide(int deviceSide, int rows)
    {
        int side = deviceSide;
        while (side > 1 && 8 * (side / 2) >= rows)
        {
            side /= 2;
        }

        return side;
    }

    /// <summary>Threads along each side of a <see cref="ScanGemmKernels.ChunkStates"/> group: the largest power of
    /// two whose square fits in min(256, the device's group limit) — 16 (blocks of 128 × 128 outputs, the kernel's
    /// largest) on a GPU, 4 on the CPU simulator.</summary>
    internal static int GemmGroupSide(Accelerator accelerator)
    {
        int limit = Math.Min(256, accelerator.MaxNumThreadsPerGroup);
        int side = 1;
        while ((2 * side) * (2 * side) <= limit)
        {
            side *= 2;
        }

        return side;
    }

    public void RunAdjoint(ReadOnlySpan<float> gradients, int steps, bool scan, int chunkLength, Span<float> lambda, Span<float> inputGradient, Span<float> initialGradient)
    {
        using var owned = new OwnedBuffers();
        var g = DeviceBuffers.Upload(_accelerator, gradients, owned);
        var lambdaBuffer = DeviceBuffers.Allocate(_accelerator, lambda.Length, "adjoint states", owned);
        var du = DeviceBuffers.Allocate(_accelerator, inputGradient.Length, "input gradient", owned);
        var dm = DeviceBuffers.Allocate(_accelerator, initialGradient.Length, "initial-state gradient", owned);
        RunAdjointOnDevice(g.View, steps, scan, chunkLength, lambdaBuffer.View, du.View, dm.View);
        lambdaBuffer.View.AsContiguous().SubView(0, lambda.Length).CopyToCPU(lambda);
        du.View.AsContiguous().SubView(0, inputGradient.Length).CopyToCPU(inputGradient);
        dm.View.AsContiguous().SubView(0, initialGradient.Length).CopyToCPU(initialGradient);
    }

    public void RunInputGradient(ReadOnlySpan<float> gradients, int steps, bool scan, int chunkLength, Span<float> inputGradient, Span<float> initialGradient)
    {
        using var owned = new OwnedBuffers();
        var g = DeviceBuffers.Upload(_accelerator, gradients, owned);
        var du = DeviceBuffers.Allocate(_accelerator, inputGradient.Length, "input gradient", owned);
        var dm = DeviceBuffers.Allocate(_accelerator, initialGradient.Length, "initial-state gradient", owned);
        RunInputGradientOnDevice(g.View, steps, scan, chunkLength, du.View, dm.View);
        du.View.AsContiguous().SubView(0, inputGradient.Length).CopyToCPU(inputGradient);
        dm.View.AsContiguous().SubView(0, initialGradient.Length).CopyToCPU(initialGradient);
    }

    /// <summary>A forward run on caller-owned device views (<see cref="LinearMemory"/>'s view overloads): the
    /// sequence kernel or the scan, from the current states, which end as the final ones. Synchronises before it
    /// returns.</summary>
    /// <param name="input">u [B, T, k].</param>
    /// <param name="steps">T.</param>
    /// <param name="mode">What to write.</param>
    /// <param name="decoders">Decoder rows [Q, d] on the host (decoded mode), else empty.</param>
    /// <param name="delays">Q.</param>
    /// <param name="output">States or decoded outputs (ignored for final-only runs).</param>
    /// <param name="scan">Scan (true) or sequential.</param>
    /// <param name="chunkLength">L, or 0 for <see cref="ChooseChunkLength(int)"/>.</param>
    /// <param name="synchronize">False where the caller synchronises later (a stream's run): a sequential run then
    /// returns once queued; the scan still waits while its temporary buffers are freed.</param>
    internal void RunOnDevice(ArrayView<float> input, int steps, MemoryOutputMode mode, float[] decoders, int delays, ArrayView<float> output, bool scan, int chunkLength, bool synchronize = true)
    {
        using var owned = new OwnedBuffers();
        ArrayView<float> decoderView = decoders.Length == 0 ? _empty.View : DeviceBuffers.Upload(_accelerator, decoders, owned).View;
        ArrayView<float> outputView = mode == MemoryOutputMode.FinalOnly ? _empty.View : output;
        if (scan)
        {
            ScanOnDevice(input, steps, mode, decoderView, delays, outputView, chunkLength, owned, mode == MemoryOutputMode.Decoded ? decoders : null);
        }
        else
        {
            Launch(input, outputView, steps, mode, decoderView, delays);
        }

        if (synchronize)
        {
            _accelerator.Synchronize();
        }
    }

    /// <summary>The adjoint on caller-owned device views: λ, B̄ᵀ·λ_t and Āᵀ·λ_0 (the last from the B·k rows of λ_0,
    /// read back and multiplied on the host: B·k·d values). Synchronises before it returns.</summary>
    internal void RunAdjointOnDevice(ArrayView<float> gradients, int steps, bool scan, int chunkLength, ArrayView<float> lambda,
        ArrayView<float> inputGradient, ArrayView<float> initialGradient)
    {
        using var owned = new OwnedBuffers();
        int d = _order;
        AdjointOnDevice(gradients, steps, scan ? chunkLength : steps, lambda, inputGradient, owned);
        _accelerator.Synchronize();
        var first = new float[(long)_count * d];
        int batch = _count / _channels;
        long rowFloats = (long)_channels * d;
        for (int b = 0; b < batch; b++)
        {
            lambda.SubView((long)b * steps * rowFloats, rowFloats).CopyToCPU(first.AsSpan((int)(b * rowFloats), (int)rowFloats));
        }

        FinishInitialGradient(first, initialGradient);
    }

    /// <summary>Āᵀ·λ_0 [B·k, d] from λ_0 of every memory (read back, B·k·d values), multiplied on the host and written to
    /// <paramref name="initialGradient"/>; synchronises.</summary>
    private void FinishInitialGradient(float[] first, ArrayView<float> initialGradient)
    {
        int d = _order;
        var result = new float[first.Length];
        var zero = new float[d];
        for (int n = 0; n < _count; n++)
        {
            HostMemoryMath.Advance(_aHost, zero, first.AsSpan(n * d, d), 0f, result.AsSpan(n * d, d));
        }

        initialGradient.CopyFromCPU(result);
        _accelerator.Synchronize();
    }

    /// <summary>All states from zero initial states by the scan, on device buffers (the feedforward layer's forward
    /// pass in training); synchronises before it returns. The memory's current states end as the final states.</summary>
    /// <param name="input">u [B, T, k] on the device.</param>
    /// <param name="steps">T.</param>
    /// <param name="states">m [B, T, k, d] on the device.</param>
    /// <param name="chunkLength">L, or 0 for <see cref="ChooseChunkLength(int)"/>.</param>
    internal void ScanStatesFromZero(ArrayView<float> input, int steps, ArrayView<float> states, int chunkLength)
    {
        _states.MemSetToZero();
        _statesZero = true;
        RunOnDevice(input, steps, MemoryOutputMode.AllStates, [], 0, states, scan: true, chunkLength);
    }

    /// <summary>The adjoint scan of <paramref name="gradients"/> writing λ and B̄ᵀ·λ (the training layers' θ gradient
    /// reads λ); synchronises before it returns.</summary>
    /// <param name="gradients">g [B, T, k, d].</param>
    /// <param name="steps">T.</param>
    /// <param name="lambda">λ [B, T, k, d] (written).</param>
    /// <param name="inputGradient">B̄ᵀ·λ [B, T, k] (written).</param>
    /// <param name="chunkLength">L, or 0 for <see cref="ChooseChunkLength(int)"/>.</param>
    internal void ScanAdjoint(ArrayView<float> gradients, int steps, ArrayView<float> lambda, ArrayView<float> inputGradient, int chunkLength)
    {
        using var owned = new OwnedBuffers();
        AdjointOnDevice(gradients, steps, chunkLength, lambda, inputGradient, owned);
        _accelerator.Synchronize();
    }

    /// <summary>The adjoint's input gradient B̄ᵀ·λ_t by the scan, on device buffers, without writing λ (the
    /// feedforward layer's backward pass with a fixed θ); synchronises before it returns.</summary>
    /// <param name="gradients">g [B, T, k, d] on the device.</param>
    /// <param name="steps">T.</param>
    /// <param name="inputGradient">B̄ᵀ·λ_t [B, T, k] on the device.</param>
    /// <param name="chunkLength">L, or 0 for <see cref="ChooseChunkLength(int)"/>.</param>
    internal void ScanInputGradient(ArrayView<float> gradients, int steps, ArrayView<float> inputGradient, int chunkLength)
    {
        using var owned = new OwnedBuffers();
        AdjointOnDevice(gradients, steps, chunkLength, null, inputGradient, owned);
        _accelerator.Synchronize();
    }

    /// <summary>The adjoint on device buffers: reverse chunk ends from zero, their carries, then the chunks again from
    /// their carries, writing B̄ᵀ·λ_t (the decoded output with the single decoder row B̄) and, when
    /// <paramref name="lambda"/> is given, λ_t.</summary>
    private void AdjointOnDevice(ArrayView<float> gradients, int steps, int chunkLength, ArrayView<float>? lambda, ArrayView<float> inputGradient, List<IDisposable> owned)
    {
        if (lambda is null && AdjointByProduct)
        {
            AdjointInputGradientByProducts(gradients, steps, chunkLength, inputGradient);
            return;
        }

        var plan = Plan(steps, chunkLength, ScanStatesKernel.Steps);
        long columns = (long)_count * plan.Plan.Chunks;
        int tile = ChunkTile;
        var local = _workspace.Get(ScanScratch.AdjointCarries, columns * _order, "adjoint carries");
        var p = Params(plan.Plan, columns, tile, 1, 0);
        var stepsConfig = ChunkStepsConfig(columns, tile);
        int reverse = ScanKernels.ScanReverse | ScanKernels.ScanVectorInput | TileFlag;
        if (plan.Plan.Chunks > 1)
        {
            ChunkSteps(stepsConfig, _a.View, _bBar.View, gradients, _empty.View, _empty.View, _empty.View, _empty.View, _empty.View, local,
                p with { Flags = reverse | ScanKernels.ScanFromZero | ScanKernels.ScanWriteEnds });
            AdjointCarries(plan, local);
        }

        int write = lambda is null ? ScanKernels.ScanDecode : ScanKernels.ScanWriteStates | ScanKernels.ScanDecode;
        ChunkSteps(stepsConfig, _a.View, _bBar.View, gradients, _empty.View, local, _bBar.View, lambda ?? _empty.View, inputGradient, _empty.View,
            p with { Flags = reverse | write });
    }

    public double[] MeasureStates(ReadOnlySpan<float> input, int steps, bool scan, int chunkLength, int repeats, MemoryOutputMode mode)
    {
        using var owned = new OwnedBuffers();
        float[] saved = new float[(long)_count * _order];
        GetStates(saved);
        try
        {
            var inputBuffer = DeviceBuffers.Upload(_accelerator, input, owned);
            var outputBuffer = mode == MemoryOutputMode.FinalOnly ? _empty : DeviceBuffers.Allocate(_accelerator, (long)_count * steps * _order, "output", owned);
            var times = new double[repeats];
            for (int r = -1; r < repeats; r++)
            {
                SetStates(saved);
                _accelerator.Synchronize();
                using var scratch = new OwnedBuffers();
                long start = System.Diagnostics.Stopwatch.GetTimestamp();
                if (scan)
                {
                    var clock = PhaseLog is null ? null : new ScanPhaseClock(_accelerator.Synchronize);
                    var phases = ScanOnDevice(inputBuffer.View, steps, mode, _empty.View, 0, outputBuffer.View, chunkLength, scratch, clock: clock);
                    if (clock is not null && r >= 0)
                    {
                        PhaseLog!.Add(phases);
                    }
                }
                else
                {
                    Launch(inputBuffer.View, outputBuffer.View, steps, mode, _empty.View, 0);
                }

                _accelerator.Synchronize();
                if (r >= 0)
                {
                    times[r] = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
                }
            }

            return times;
        }
        finally
        {
            SetStates(saved);
        }
    }

    public double[] MeasureAdjoint(ReadOnlySpan<float> gradients, int steps, bool scan, int chunkLength, int repeats)
    {
        using var owned = new OwnedBuffers();
        var g = DeviceBuffers.Upload(_accelerator, gradients, owned);
        var lambda = DeviceBuffers.Allocate(_accelerator, gradients.Length, "adjoint states", owned);
        var du = DeviceBuffers.Allocate(_accelerator, (long)_count * steps, "input gradient", owned);
        var dm = DeviceBuffers.Allocate(_accelerator, (long)_count * _order, "initial-state gradient", owned);
        return TimeRuns(repeats, () => RunAdjointOnDevice(g.View, steps, scan, chunkLength, lambda.View, du.View, dm.View));
    }

    /// <summary>Seconds of each of <paramref name="repeats"/> runs of <paramref name="run"/> (which synchronises before
    /// it returns), after one untimed run, each started on an idle device.</summary>
    private double[] TimeRuns(int repeats, Action run)
    {
        var times = new double[repeats];
        for (int r = -1; r < repeats; r++)
        {
            _accelerator.Synchronize();
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            run();
            if (r >= 0)
            {
                times[r] = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
            }
        }

        return times;
    }

    /// <summary>The most threads per group of <see cref="ScanKernels.ChunkSteps"/>: its 4×4 register tiles make it a
    /// register-heavy kernel (512 and 768 threads asked more registers than a CUDA block may have, "too many resources
    /// requested for launch" on an H200), and 256 threads launch even at the 255-register maximum per thread. The
    /// single-buffer path needs one thread per work item; the others loop over work items.</summary>
    private const int MaxChunkStepGroup = 256;

    /// <summary>The chunk-step variant: the single-buffer 4×4 tile where it holds at least twice the columns of the
    /// double-buffered one (measured on an H200: d = 64, 64 columns, B = 64, T = 10⁵: 20 ms against 32 ms), the
    /// double-buffered 4×4 tile for other orders divisible by 4 (d = 256, 16 columns: 117 ms against 145 ms for the
    /// single buffer with the same 16 columns), else one row of four columns per work item.</summary>
    private int TileFlag => ChunkStepFlags(_accelerator, _order);

    /// <summary>The <see cref="ScanKernels"/> tiling flags <see cref="TileFlag"/> picks for an order on a device.</summary>
    internal static int ChunkStepFlags(Accelerator accelerator, int order)
    {
        if (order % 4 != 0)
        {
            return 0;
        }

        return SingleBufferTile(accelerator, order) >= 2 * Tile(order)
            ? ScanKernels.ScanTile4x4 | ScanKernels.ScanSingleBuffer
            : ScanKernels.ScanTile4x4;
    }

    /// <summary>Columns per group of <see cref="ScanKernels.ChunkSteps"/>.</summary>
    private int ChunkTile => (TileFlag & ScanKernels.ScanSingleBuffer) != 0 ? SingleBufferTile(_accelerator, _order) : Tile(_order);

    /// <summary>The tile of the single-buffer 4×4 path: as many columns (a multiple of 4, at most 64) as 48 KiB of
    /// shared memory holds and <see cref="MaxChunkStepGroup"/> threads cover with one 4×4 work item each; 0 where d
    /// is not divisible by 4 or not even 4 columns fit.</summary>
    internal static int SingleBufferTile(Accelerator accelerator, int order)
    {
        if (order % 4 != 0)
        {
            return 0;
        }

        int warp = Math.Max(1, accelerator.WarpSize);
        int maxGroup = Math.Max(warp, Math.Min(MaxChunkStepGroup, accelerator.MaxNumThreadsPerGroup) / warp * warp);
        int byShared = 48 * 1024 / sizeof(float) / order;
        int byGroup = 4 * (maxGroup / (order / 4));
        int tile = Math.Min(64, Math.Min(byShared, byGroup)) / 4 * 4;
        return tile >= 4 ? tile : 0;
    }

    /// <summary>Launch shape of <see cref="ScanKernels.ChunkSteps"/>: one group per tile of columns, one thread per
    /// work item (a 4×4 register tile, or one row of four columns), rounded to warps, capped by the device.</summary>
    private KernelConfig ChunkStepsConfig(long columns, int tile)
    {
        int d = _order;
        int flags = TileFlag;
        bool single = (flags & ScanKernels.ScanSingleBuffer) != 0;
        int work = flags != 0 ? d / 4 * (tile / 4) : d * (tile / 4);
        int warp = Math.Max(1, _accelerator.WarpSize);
        int maxGroup = Math.Max(warp, Math.Min(MaxChunkStepGroup, _accelerator.MaxNumThreadsPerGroup) / warp * warp);
        int group = Math.Clamp((work + warp - 1) / warp * warp, warp, maxGroup);
        return new KernelConfig(new Index1D(checked((int)((columns + tile - 1) / tile))), new Index1D(group),
            SharedMemoryConfig.RequestDynamic<float>((single ? 1 : 2) * tile * d));
    }

    private static int Tile(int order) => Math.Clamp(4096 / order / 4 * 4, 4, 32);

    private ScanParams Params(ScanPlan plan, long columns, int tile, int delays, int flags) =>
        new(_order, _channels, plan.Steps, plan.ChunkLength, plan.Chunks, plan.LastLength, columns, tile, delays, flags, _parts);

    /// <summary>The plan of a run whose phase C is <paramref name="phaseC"/> (its chunk rule, and its cache slot).</summary>
    private DevicePlan Plan(int steps, int chunkLength, ScanStatesKernel phaseC)
    {
        int slot = phaseC == ScanStatesKernel.Steps ? 0 : 1;
        int length = Math.Min(steps, chunkLength > 0 ? chunkLength : ChooseChunkLength(phaseC, _order, _count, steps));
        int chunks = (steps + length - 1) / length;
        int last = steps - (chunks - 1) * length;
        if (_plans[slot] is { } cached && cached.Plan.ChunkLength == length && cached.Plan.LastLength == last)
        {
            return cached with { Plan = cached.Plan.ForSteps(steps) };
        }

        _plans[slot]?.Dispose();
        _plans[slot] = null;
        var plan = ScanPlan.Create(_system, steps, length);
        var owned = new OwnedBuffers();
        try
        {
            _plans[slot] = new DevicePlan(plan,
                DeviceBuffers.Upload(_accelerator, plan.Impulse, owned),
                DeviceBuffers.Upload(_accelerator, plan.PowerT, owned),
                DeviceBuffers.Upload(_accelerator, plan.LastPowerT, owned),
                DeviceBuffers.Upload(_accelerator, plan.AdjointPowerT, owned));
        }
        catch
        {
            owned.Dispose();
            throw;
        }

        return _plans[slot]!;
    }

    /// <summary>A scan plan with its tables on the device.</summary>
    private sealed record DevicePlan(ScanPlan Plan, MemoryBuffer1D<float, Stride1D.Dense> Impulse,
        MemoryBuffer1D<float, Stride1D.Dense> PowerT, MemoryBuffer1D<float, Stride1D.Dense> LastPowerT,
        MemoryBuffer1D<float, Stride1D.Dense> AdjointPowerT) : IDisposable
    {
        public void Dispose()
        {
            Impulse.Dispose();
            PowerT.Dispose();
            LastPowerT.Dispose();
            AdjointPowerT.Dispose();
        }
    }

    /// <summary>Frees the scan's scratch buffers (<see cref="ScanWorkspace"/>); the next scan allocates again.</summary>
    public void ReleaseScratch() => _workspace.Release();

    /// <summary>Device bytes held by the scan's scratch between runs.</summary>
    internal long ScratchBytes => _workspace.Bytes;

    public void Dispose()
    {
        foreach (var plan in _plans)
        {
            plan?.Dispose();
        }

        _gemmStates?.Dispose();
        _workspace.Dispose();
        _forwardSegments?.Dispose();
        _adjointSegments?.Dispose();
        _windowImpulse?.Dispose();
        ReleaseProductWeights();
        ReleaseAdjointWeights();
        _a.Dispose();
        _aT.Dispose();
        _bBar.Dispose();
        _states.Dispose();
        _empty.Dispose();
        _stepInput.Dispose();
    }

    private void Launch(ArrayView<float> input, ArrayView<float> output, int steps, MemoryOutputMode mode, ArrayView<float> decoders, int delays)
    {
        _statesZero = false;
        int floats = (2 + _parts) * _order;
        var config = new KernelConfig(new Index1D(_count), new Index1D(_groupSize),
            SharedMemoryConfig.RequestDynamic<float>(floats + (_matrixInShared ? _order * _order : 0)));
        _kernels.Sequence(config, _aT.View, _bBar.View, decoders, _states.View, input, output,
            new MemorySequenceParams(_order, _channels, steps, delays, mode, _parts, _matrixInShared ? 1 : 0));
    }

    /// <summary>Whether the sequence kernel keeps Āᵀ in shared memory (<see cref="MemorySequenceParams.MatrixInShared"/>):
    /// where its d² floats fit beside the (2 + P)·d state floats in 48 KiB (d ≤ 104 or so), so that every step reads the
    /// matrix at shared-memory latency. One copy per launch: a streaming step (T = 1) pays it every call, d² floats from
    /// L2 that the step would have read once anyway.</summary>
    /// <param name="order">d.</param>
    /// <param name="parts">P of <see cref="SequenceShape"/>.</param>
    /// <returns>True where it fits.</returns>
    internal static bool MatrixFitsShared(int order, int parts) =>
        ((long)(2 + parts) * order) + ((long)order * order) <= 48 * 1024 / sizeof(float);

    /// <summary>Group size and row sharing for the sequence kernel: P threads per row so that each sums about 16
    /// terms (at least 2 where the group has room, at most what the group and 48 KiB of shared memory allow).</summary>
    internal static (int GroupSize, int Parts) SequenceShape(Accelerator accelerator, int order)
    {
        int warp = Math.Max(1, accelerator.WarpSize);
        int maxGroup = Math.Max(warp, Math.Min(1024, accelerator.MaxNumThreadsPerGroup) / warp * warp);
        int parts = Math.Min(maxGroup / order, Math.Max(2, (order + 15) / 16));
        parts = Math.Min(parts, (48 * 1024 / sizeof(float) / order) - 2);
        if (parts <= 1)
        {
            return (Math.Min(maxGroup, (order + warp - 1) / warp * warp), 1);
        }

        int threads = parts * order;
        return (Math.Min(maxGroup, (threads + warp - 1) / warp * warp), parts);
    }
}
