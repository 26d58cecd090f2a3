using ILGPU;
using ILGPU.Runtime;
using Lmu.Gpu.Kernels.Memory;

namespace Lmu.Gpu;

/// <summary>The window start of the device scan (<see cref="ScanWindow"/>): a final-only run's final states, or every
/// chunk's carry, from the last H inputs alone (<see cref="WindowKernels.WindowStates"/>), in parallel instead of a
/// serial chain.</summary>
internal sealed partial class DeviceMemoryEngine
{
    /// <summary>The FLOP rate assumed for <see cref="WindowKernels.WindowStates"/> on a GPU: an estimate, not yet timed.
    /// By ptxas's count (82 instructions per 16 FMAs in its main loop) it is issue-bound near 13 TFLOP/s on an H100;
    /// this assumes less than half of that, for the loads' latency.</summary>
    internal const double WindowFlopsPerSecond = 5e12;

    private MemoryBuffer1D<float, Stride1D.Dense>? _windowImpulse;
    private int _windowHorizon;

    /// <summary>Whether the states are known to be zero (a new memory, <see cref="SetStates"/> with zeros, a training
    /// forward pass): then the window needs no chained carries for the first chunks.</summary>
    private bool _statesZero = true;

    /// <inheritdoc/>
    public ScanWindowUse WindowUse { get; set; } = ScanWindowUseParser.FromEnvironment();

    /// <summary>H of the last forward scan's window start, or 0 where it chained its carries (tests and
    /// <c>lmu bench memory</c> read it).</summary>
    internal int LastWindow { get; private set; }

    /// <summary>Seconds of one level-2 step of the chained carries (one d×d matrix-vector product per sequence, one group
    /// each): about 6.5 µs at d = 256 on the H200 (run 9), 1.1 µs at d = 64 (run 10: 0.55 ms of phase B at a weighted
    /// depth of 501); taken as max(1 µs, 6.5 µs·d/256).</summary>
    internal static double ChainStepSeconds(int order) => Math.Max(1e-6, 6.5e-6 * order / 256);

    /// <summary>The FLOP rate assumed for the lock-step chunk steps of the chained carries' levels 1 and 3
    /// (<see cref="ScanKernels.ChunkSteps"/> with a vector input), which grow with the batch: at d = 256, T = 10⁵, L = 64
    /// phase B took 2.1 ms at B = 1 and 4.2 ms at B = 64 on the H200 (runs 9 and 10), about 2·2·64·1,563·256² FLOP more
    /// in 2.1 ms.</summary>
    internal const double ChainFlopsPerSecond = 12e12;

    /// <summary>The FLOP rate of <see cref="ScanKernels.ChunkEnds"/>: phase A took 2.7 ms for 2·64·10⁵·256 FLOP at
    /// d = 256, B = 64, T = 10⁵ on the H200 (run 10).</summary>
    internal const double ChunkEndsFlopsPerSecond = 1.2e12;

    /// <summary>Whether the window's carries are estimated to beat the chained ones on a GPU. The window costs K chained
    /// steps and phase A (for a nonzero initial state) plus 2·n·(C − K)·H·d FLOP at
    /// <see cref="WindowProductFlopsPerSecond"/> (by the product) or <see cref="WindowFlopsPerSecond"/>; the chain costs
    /// phase A, its weighted depth (<see cref="CarrySegments.WeightedDepth"/>) in <see cref="ChainStepSeconds"/>, and,
    /// in two levels, 2·n·C·d² FLOP of lock-step steps at <see cref="ChainFlopsPerSecond"/> for level 3 and as much
    /// again for level 1, or by the product phase A's cost. Phase A is 2·n·T·d FLOP at
    /// <see cref="WindowProductFlopsPerSecond"/> (by the product) or <see cref="ChunkEndsFlopsPerSecond"/>. At
    /// d = 256, T = 10⁵, θ = 1,000 (L = 64, C = 1,563, H = 1,792) from zero states this takes the window by the product
    /// up to n = 46, by the row kernel up to n = 10, and on tensor cores up to n ≈ 450: estimates that a GPU run should
    /// settle.</summary>
    /// <param name="memories">n = B·k.</param>
    /// <param name="chunks">C.</param>
    /// <param name="chunkLength">L.</param>
    /// <param name="chained">K, the chunks still chained.</param>
    /// <param name="horizon">H.</param>
    /// <param name="order">d.</param>
    /// <param name="windowsByProduct">Whether the window's states would take the product.</param>
    /// <param name="endsByProduct">Whether phase A would take the product.</param>
    /// <param name="tensor">Whether the products run on tensor cores (at <see cref="TensorWindowProductFlopsPerSecond"/>).</param>
    /// <returns>Whether to take the window.</returns>
    internal static bool PrefersWindowCarries(long memories, int chunks, int chunkLength, int chained, int horizon, int order,
        bool windowsByProduct, bool endsByProduct, bool tensor = false)
    {
        double product = tensor ? TensorWindowProductFlopsPerSecond : WindowProductFlopsPerSecond;
        double step = ChainStepSeconds(order);
        double d = order;
        double ends = 2.0 * memories * chunks * chunkLength * d / (endsByProduct ? product : ChunkEndsFlopsPerSecond);
        // Levels 1 and 3 of two-level carries: 2·n·C·d² FLOP of lock-step steps each, but level 1 takes the window
        // product where phase A does (2·n·C·L·d FLOP, as phase A's).
        double lockStep = 2.0 * memories * chunks * d * d / ChainFlopsPerSecond;
        double levels = CarrySegments.ChooseSegment(chunks - 1) > 0 ? lockStep + (endsByProduct ? ends : lockStep) : 0;
        double chain = ends + (CarrySegments.WeightedDepth(chunks - 1) * step) + levels;
        double rate = windowsByProduct ? product : WindowFlopsPerSecond;
        double window = (chained > 0 ? ends + (chained * step) : 0) + (2.0 * memories * (chunks - chained) * horizon * d / rate);
        return window < chain;
    }

    /// <summary><see cref="PrefersWindowCarries(long, int, int, int, int, int, bool, bool, bool)"/> for this engine's
    /// memories and device.</summary>
    private bool PrefersWindowCarries(ScanPlan plan, int chained, int horizon)
    {
        int side = ProductSide;
        int multiprocessors = _accelerator.NumMultiprocessors;
        bool windows = PrefersWindowProduct(ProductUse, (long)_count * (plan.Chunks - chained), _order, side, multiprocessors);
        bool ends = PrefersWindowProduct(ProductUse, (long)_count * plan.Chunks, _order, side, multiprocessors);
        return PrefersWindowCarries(_count, plan.Chunks, plan.ChunkLength, chained, horizon, _order, windows, ends,
            StatesKernel == ScanStatesKernel.Tensor);
    }

    /// <summary>H for a final-only run's window, or 0 where it does not apply or is turned off.</summary>
    private int FinalWindow(int steps) => Fitting(ScanWindow.For(_system, steps, WindowUse), steps);

    /// <summary><paramref name="horizon"/> where the kernel's 32-bit indices hold it (T·k and H·d below 2³¹), else 0.</summary>
    private int Fitting(int horizon, int steps) =>
        (long)steps * _channels < int.MaxValue && (long)horizon * _order < int.MaxValue ? horizon : 0;

    /// <summary>H for the window's carries of a run with plan <paramref name="plan"/>, or 0 for the chained ones.</summary>
    private int CarryWindow(ScanPlan plan)
    {
        if (WindowUse == ScanWindowUse.Never || plan.Chunks < 2)
        {
            return 0;
        }

        // H ≥ θ/dt for every LMU measured: where even that window would cost more than the chain, H is not computed.
        int lowest = (int)Math.Min(int.MaxValue, Math.Ceiling(_system.Theta / _system.Dt));
        if (WindowUse == ScanWindowUse.Auto && !PrefersWindowCarries(plan, 0, lowest))
        {
            return 0;
        }

        int horizon = Fitting(ScanWindow.For(_system, plan.Steps, WindowUse), plan.Steps);
        return horizon > 0 && (WindowUse == ScanWindowUse.Always || PrefersWindowCarries(plan, ChainedChunks(plan, horizon), horizon))
            ? horizon
            : 0;
    }

    /// <summary>K: the leading chunks whose carries stay chained (none from states known to be zero).</summary>
    private int ChainedChunks(ScanPlan plan, int horizon) =>
        _statesZero ? 0 : ScanWindow.ChainedChunks(horizon, plan.ChunkLength, plan.Chunks);

    /// <summary>A final-only run by the window: the final states straight into <c>_states</c>.</summary>
    private void FinalByWindow(ArrayView<float> input, int steps, int horizon)
    {
        var p = new WindowParams(_order, _channels, steps, horizon, _count, 1, steps - 1, 1, 1, 0, 0);
        if (!TryWindowProduct(p, chunkAligned: false, () => ScanWindow.Impulse(_system, horizon), input, _states.View, _empty.View))
        {
            _kernels.WindowStates(WindowConfig(p), WindowImpulse(horizon).View, input, _states.View, _empty.View, p);
        }
    }

    /// <summary>Phases A and B by the window: the first K chunks' carries chained from their ends where the initial
    /// state is not zero (<see cref="ScanWindow.ChainedChunks"/>), every later chunk's carry and the final states from
    /// its window.</summary>
    private void WindowCarries(DevicePlan plan, int horizon, ArrayView<float> input, ArrayView<float> carries, ArrayView<float> final, ScanParams p)
    {
        var scan = plan.Plan;
        int chained = ChainedChunks(scan, horizon);
        if (chained > 0)
        {
            ChunkEnds(plan, input, carries, p, needed: chained);
            _kernels.Carries(CarriesConfig, plan.PowerT.View, plan.LastPowerT.View, _states.View, carries, final, p with { Flags = 0, Chain = chained });
        }

        var window = new WindowParams(_order, _channels, scan.Steps, horizon, _count, scan.Chunks - chained,
            ((chained + 1) * scan.ChunkLength) - 1, scan.ChunkLength, scan.Chunks, chained, 1);
        if (!TryWindowProduct(window, chunkAligned: false, () => ScanWindow.Impulse(_system, horizon), input, carries, final))
        {
            _kernels.WindowStates(WindowConfig(window), WindowImpulse(horizon).View, input, carries, final, window);
        }
    }

    /// <summary>One group per <see cref="WindowKernels.ColumnsPerGroup"/> states (<see cref="WindowParams.Groups"/>),
    /// one thread per row (d rounded up to whole warps, at most 512 or the device's limit; rows beyond that loop).</summary>
    private KernelConfig WindowConfig(WindowParams p)
    {
        int warp = Math.Max(1, _accelerator.WarpSize);
        int maxGroup = Math.Max(warp, Math.Min(512, _accelerator.MaxNumThreadsPerGroup) / warp * warp);
        int group = Math.Min(maxGroup, (_order + warp - 1) / warp * warp);
        return new KernelConfig(new Index1D(checked((int)p.Groups)), new Index1D(group));
    }

    /// <summary>h [H, d] on the device, kept for the engine's life (one H per system).</summary>
    private MemoryBuffer1D<float, Stride1D.Dense> WindowImpulse(int horizon)
    {
        if (_windowImpulse is null || _windowHorizon != horizon)
        {
            _windowImpulse?.Dispose();
            _windowImpulse = null;
            _windowImpulse = DeviceBuffers.Upload(_accelerator, ScanWindow.Impulse(_system, horizon), null);
            _windowHorizon = horizon;
        }

        return _windowImpulse;
    }
}
