using ILGPU;
using ILGPU.Runtime;
using Lmu.Gpu.Kernels.Memory;

namespace Lmu.Gpu;

/// <summary>Phase B of the device scan: the carries across chunks, in one serial pass or in two levels
/// (<see cref="CarrySegments"/>).</summary>
internal sealed partial class DeviceMemoryEngine
{
    private SegmentTables? _forwardSegments;
    private SegmentTables? _adjointSegments;

    /// <summary>Chunks per carry segment: null for <see cref="CarrySegments.ChooseSegment"/>, 0 for one serial pass,
    /// else G (tests force small segments with it).</summary>
    internal int? CarrySegment { get; set; }

    /// <summary>G for a chain of <paramref name="serialSteps"/> carries, or 0 for one serial pass.</summary>
    private int Segment(int serialSteps)
    {
        int g = CarrySegment ?? CarrySegments.ChooseSegment(serialSteps);
        return g >= 1 && g < serialSteps ? g : 0;
    }

    /// <summary>Forward carries: carries[n·C + c] ← S_c in place (chunk end states in), final ← S_(C−1), from the
    /// initial states in <c>_states</c>.</summary>
    /// <param name="plan">The scan's plan.</param>
    /// <param name="input">u [B, T, k], which level 1 reads where the window product computes it.</param>
    /// <param name="carries">[N, d]: chunk ends in, carries out.</param>
    /// <param name="final">Final states [n, d] out.</param>
    private void ForwardCarries(DevicePlan plan, ArrayView<float> input, ArrayView<float> carries, ArrayView<float> final)
    {
        int d = _order;
        int chunks = plan.Plan.Chunks;
        int g = Segment(chunks - 1);
        if (g == 0)
        {
            _kernels.Carries(CarriesConfig, plan.PowerT.View, plan.LastPowerT.View, _states.View, carries, final,
                new ScanParams(d, 1, 0, 0, chunks, 0, 0, 0, 0, 0, _parts));
            return;
        }

        // The chain is the C − 1 whole chunks (power P = Ā^L); the last, possibly shorter chunk follows in step 4.
        // The chunk steps kernel reads the carries as a vector input [n, C, d]: Steps is the row stride C.
        int inner = chunks - 1;
        int segments = (inner + g - 1) / g;
        int lastSegment = inner - (segments - 1) * g;
        var tables = ForwardTables(plan.Plan.ChunkLength, g, lastSegment);
        long columns = (long)_count * segments;
        int tile = ChunkTile;
        var ends = _workspace.Get(ScanScratch.SegmentEnds, columns * d, "carry segment ends");
        var beforeLast = _workspace.Get(ScanScratch.BeforeLast, (long)_count * d, "carries before the last chunk");
        var level = new ScanParams(d, 1, chunks, g, segments, lastSegment, columns, tile, 0, 0, _parts);
        var config = ChunkStepsConfig(columns, tile);

        // 1: each segment's end from zero: from its G·L inputs by the window product (2·d·G·L FLOP per segment, where the
        // lock-step steps over its chunk ends take 2·d²·G), or by G lock-step steps.
        int length = plan.Plan.ChunkLength;
        int span = g * length;
        var window = new WindowParams(d, _channels, plan.Plan.Steps, span, _count, segments, span - 1, span, segments, 0, 0);
        if (!TryWindowProduct(window, chunkAligned: true, () => ScanWindow.Impulse(_system, span), input, ends, _empty.View,
            lastEnd: (inner * length) - 1))
        {
            ChunkSteps(config, plan.PowerT.View, _empty.View, carries, _empty.View, _empty.View, _empty.View, _empty.View, _empty.View,
                ends, level with { Flags = ScanKernels.ScanVectorInput | ScanKernels.ScanFromZero | ScanKernels.ScanWriteEnds | TileFlag });
        }

        // 2: the segments' carries, serial over S per sequence from the initial state; the last one is S_(C−2).
        _kernels.Carries(CarriesConfig, tables.PowerT.View, tables.LastPowerT.View, _states.View, ends, beforeLast, level);

        // 3: every chunk's carry from its segment's start (the initial state or the previous segment's carry), in place.
        ChunkSteps(config, plan.PowerT.View, _empty.View, carries, _states.View, ends, _empty.View, carries, _empty.View,
            _empty.View, level with { Flags = ScanKernels.ScanVectorInput | ScanKernels.ScanWriteStates | TileFlag });

        // 4: S_(C−1) = Ā^(L_r)·S_(C−2) + s_(C−1): one step per sequence on the view that starts at chunk C − 1.
        var last = carries.SubView((long)inner * d, carries.Length - ((long)inner * d));
        ChunkSteps(ChunkStepsConfig(_count, tile), plan.LastPowerT.View, _empty.View, last, beforeLast, _empty.View, _empty.View, last,
            _empty.View, final, new ScanParams(d, 1, chunks, 1, 1, 1, _count, tile, 0,
                ScanKernels.ScanVectorInput | ScanKernels.ScanWriteStates | ScanKernels.ScanWriteEnds | TileFlag, _parts));
    }

    /// <summary>Adjoint carries: local[n·C + c] ← X_c = x_c + Pᵀ·X_(c+1) in place (X_(C−1) = x_(C−1)), with
    /// P = Ā^L.</summary>
    private void AdjointCarries(DevicePlan plan, ArrayView<float> local)
    {
        int d = _order;
        int chunks = plan.Plan.Chunks;
        int g = Segment(chunks - 1);
        if (g == 0)
        {
            _kernels.Carries(CarriesConfig, plan.AdjointPowerT.View, plan.AdjointPowerT.View, _empty.View, local, _empty.View,
                new ScanParams(d, 1, 0, 0, chunks, 0, 0, 0, 0, ScanKernels.ScanReverse, _parts));
            return;
        }

        // Every chunk the adjoint passes through is whole (only the last may be short, and it is where the chain
        // starts), so all C chunks form one chain with the single power P.
        int segments = (chunks + g - 1) / g;
        int lastSegment = chunks - (segments - 1) * g;
        var power = AdjointTable(plan.Plan.ChunkLength, g);
        long columns = (long)_count * segments;
        int tile = ChunkTile;
        var ends = _workspace.Get(ScanScratch.AdjointSegmentEnds, columns * d, "adjoint carry segment ends");
        var level = new ScanParams(d, 1, chunks, g, segments, lastSegment, columns, tile, 0, 0, _parts);
        var config = ChunkStepsConfig(columns, tile);
        int reverse = ScanKernels.ScanReverse | ScanKernels.ScanVectorInput | TileFlag;
        ChunkSteps(config, plan.AdjointPowerT.View, _empty.View, local, _empty.View, _empty.View, _empty.View, _empty.View, _empty.View,
            ends, level with { Flags = reverse | ScanKernels.ScanFromZero | ScanKernels.ScanWriteEnds });
        _kernels.Carries(CarriesConfig, power.View, power.View, _empty.View, ends, _empty.View, level with { Flags = ScanKernels.ScanReverse });
        ChunkSteps(config, plan.AdjointPowerT.View, _empty.View, local, _empty.View, ends, _empty.View, local, _empty.View,
            _empty.View, level with { Flags = reverse | ScanKernels.ScanWriteStates });
    }

    /// <summary>One group per sequence for <see cref="ScanKernels.Carries"/>, rows shared as in the sequence kernel.</summary>
    private KernelConfig CarriesConfig =>
        new(new Index1D(_count), new Index1D(_groupSize), SharedMemoryConfig.RequestDynamic<float>((2 + _parts) * _order));

    private SegmentTables ForwardTables(int chunkLength, int segment, int lastSegment)
    {
        if (_forwardSegments is { } cached && cached.ChunkLength == chunkLength && cached.Segment == segment && cached.LastSegment == lastSegment)
        {
            return cached;
        }

        _forwardSegments?.Dispose();
        _forwardSegments = null;
        var (powerT, lastPowerT) = CarrySegments.ForwardPowers(_system, chunkLength, segment, lastSegment);
        var owned = new OwnedBuffers();
        try
        {
            var power = DeviceBuffers.Upload(_accelerator, powerT, owned);
            var last = DeviceBuffers.Upload(_accelerator, lastPowerT, owned);
            _forwardSegments = new SegmentTables(chunkLength, segment, lastSegment, power, last);
        }
        catch
        {
            owned.Dispose();
            throw;
        }

        return _forwardSegments;
    }

    private MemoryBuffer1D<float, Stride1D.Dense> AdjointTable(int chunkLength, int segment)
    {
        if (_adjointSegments is { } cached && cached.ChunkLength == chunkLength && cached.Segment == segment)
        {
            return cached.PowerT;
        }

        _adjointSegments?.Dispose();
        _adjointSegments = null;
        var power = DeviceBuffers.Upload(_accelerator, CarrySegments.AdjointPower(_system, chunkLength, segment), null);
        _adjointSegments = new SegmentTables(chunkLength, segment, segment, power, power);
        return power;
    }

    /// <summary>Segment powers on the device for one (L, G, G_r).</summary>
    private sealed record SegmentTables(int ChunkLength, int Segment, int LastSegment,
        MemoryBuffer1D<float, Stride1D.Dense> PowerT, MemoryBuffer1D<float, Stride1D.Dense> LastPowerT) : IDisposable
    {
        public void Dispose()
        {
            PowerT.Dispose();
            if (!ReferenceEquals(LastPowerT, PowerT))
            {
                LastPowerT.Dispose();
            }
        }
    }
}
