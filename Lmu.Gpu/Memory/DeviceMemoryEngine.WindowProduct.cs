using ILGPU;
using ILGPU.Runtime;
using Lmu.Gpu.Kernels.Memory;

namespace Lmu.Gpu;

/// <summary>States from windows of inputs as one matrix product (<see cref="WindowGemmKernels.WindowProduct"/>, or
/// <see cref="WindowTensorKernels.WindowProduct"/> where phase C runs on tensor cores): phase A's chunk ends, the first
/// level of the chained carries, and the window start's carries and final states, where the product fills the
/// device.</summary>
internal sealed partial class DeviceMemoryEngine
{
    /// <summary>The FLOP rate assumed for <see cref="WindowGemmKernels.WindowProduct"/> on a GPU: an estimate, not yet
    /// timed. Its depth loop is the FP32 phase C product's (ptxas, sm_90: 256 FFMA in 309 instructions against 299),
    /// which ran at 28 TFLOP/s on the H200 (run 8); this assumes less, for its deeper but narrower product.</summary>
    internal const double WindowProductFlopsPerSecond = 20e12;

    /// <summary>The FLOP rate (of float32 work) assumed for <see cref="WindowTensorKernels.WindowProduct"/>: a guess, as
    /// no tensor-core kernel of the library has run on a GPU yet. 3×TF32 on an H100's dense TF32 rate (≈ 495 TFLOP/s)
    /// would allow ≈ 160; this takes well under half of that.</summary>
    internal const double TensorWindowProductFlopsPerSecond = 60e12;

    private readonly Dictionary<(int Horizon, bool Tensor), MemoryBuffer1D<float, Stride1D.Dense>> _productWeights = [];

    /// <inheritdoc cref="ProductUse"/>
    internal ProductUse ProductUse { get; set; } = ProductUseParser.FromEnvironment();

    /// <summary>How many times the last forward scan launched <see cref="WindowGemmKernels.WindowProduct"/> (tests read
    /// it).</summary>
    internal int LastWindowProducts { get; private set; }

    /// <summary>Whether windows of <paramref name="states"/> states take the product under <paramref name="use"/>:
    /// always, never, or (auto) where it has at least one 8·side × 8·side block of outputs per multiprocessor — below
    /// that, most of the device would idle while the row kernels, one group per column (or per four), fill it.</summary>
    /// <param name="use">The setting.</param>
    /// <param name="states">The states to compute (columns of the product).</param>
    /// <param name="order">d (rows of the product).</param>
    /// <param name="side">Threads along each side of the product's groups.</param>
    /// <param name="multiprocessors">The device's multiprocessors.</param>
    /// <returns>Whether to launch the product.</returns>
    internal static bool PrefersWindowProduct(ProductUse use, long states, int order, int side, int multiprocessors) => use switch
    {
        ProductUse.Always => true,
        ProductUse.Never => false,
        _ => ProductBlocks(states, order, side) >= Math.Max(1, multiprocessors),
    };

    /// <summary>Threads along each side of the window product's groups: 16 on tensor cores (where phase C runs on them),
    /// else <see cref="GemmGroupSide"/>.</summary>
    private int ProductSide => StatesKernel == ScanStatesKernel.Tensor ? ScanTensorKernels.BlockSize / 8 : GemmGroupSide(_accelerator);

    /// <summary>Groups of the product: ⌈d / 8·side⌉ row blocks × ⌈states / 8·side⌉ column blocks.</summary>
    internal static long ProductBlocks(long states, int order, int side)
    {
        int size = 8 * side;
        return (long)((order + size - 1) / size) * ((states + size - 1) / size);
    }

    /// <summary>Phase A: every chunk's end state from zero at its start, [N, d] into <paramref name="ends"/>, by the
    /// product (windows of L steps aligned to the chunks) or by <see cref="ScanKernels.ChunkEnds"/>.</summary>
    /// <param name="plan">The scan's plan.</param>
    /// <param name="input">u [B, T, k].</param>
    /// <param name="ends">[N, d] out.</param>
    /// <param name="p">The scan's sizes.</param>
    /// <param name="needed">The leading chunks of each sequence whose ends are needed (the product computes only
    /// those; the row kernel all): all by default.</param>
    private void ChunkEnds(DevicePlan plan, ArrayView<float> input, ArrayView<float> ends, ScanParams p, int? needed = null)
    {
        var scan = plan.Plan;
        var window = new WindowParams(_order, _channels, scan.Steps, scan.ChunkLength, _count, needed ?? scan.Chunks,
            scan.ChunkLength - 1, scan.ChunkLength, scan.Chunks, 0, 0);
        if (!TryWindowProduct(window, chunkAligned: true, () => scan.Impulse, input, ends, _empty.View))
        {
            _kernels.ChunkEnds(new KernelConfig(new Index1D(checked((int)p.Columns)), new Index1D(_groupSize)), plan.Impulse.View, input, ends, p);
        }
    }

    /// <summary>Launches <see cref="WindowGemmKernels.WindowProduct"/> for <paramref name="window"/> where
    /// <see cref="PrefersWindowProduct"/> says so.</summary>
    /// <param name="window">The states, their windows and where they go.</param>
    /// <param name="chunkAligned">Whether each window starts no earlier than its chunk (phase A).</param>
    /// <param name="impulse">h [H, d], asked for only when the weights for this H are not on the device yet.</param>
    /// <param name="input">u [B, T, k].</param>
    /// <param name="output">The states' rows.</param>
    /// <param name="final">Final states, where the window asks for them.</param>
    /// <param name="lastEnd">The step ends are clamped to (default T − 1).</param>
    /// <returns>Whether it launched (else the caller runs the row kernel).</returns>
    private bool TryWindowProduct(WindowParams window, bool chunkAligned, Func<float[]> impulse, ArrayView<float> input,
        ArrayView<float> output, ArrayView<float> final, int? lastEnd = null)
    {
        // On tensor cores (3×TF32) where phase C is set to them, else the FP32 product.
        bool tensor = StatesKernel == ScanStatesKernel.Tensor;
        int side = ProductSide;
        if (!PrefersWindowProduct(ProductUse, window.States, _order, side, _accelerator.NumMultiprocessors))
        {
            return false;
        }

        var weights = ProductWeights(window.Horizon, side, tensor, impulse);
        var p = new WindowProductParams(window, ChunkStateWeights.PaddedRows(_order, side),
            WindowProductWeights.PaddedDepth(window.Horizon), chunkAligned ? 1 : 0, lastEnd ?? window.Steps - 1);
        var blocks = new Index1D(checked((int)ProductBlocks(window.States, _order, side)));
        if (tensor)
        {
            var tensorConfig = new KernelConfig(blocks, new Index1D(ScanTensorKernels.GroupThreads),
                SharedMemoryConfig.RequestDynamic<float>(ScanTensorKernels.SharedFloats(_accelerator.AcceleratorType == AcceleratorType.Cuda)));
            _kernels.TensorWindows()(tensorConfig, weights.View, input, output, final, p);
        }
        else
        {
            var config = new KernelConfig(blocks, new Index1D(side * side),
                SharedMemoryConfig.RequestDynamic<float>(ScanGemmKernels.SharedFloats(side)));
            _kernels.WindowProduct(config, weights.View, input, output, final, p, side);
        }

        LastWindowProducts++;
        return true;
    }

    /// <summary>The product's weights for H on the device, kept for the engine's life (a few: phase A's L for each
    /// phase-C kernel's plan, level 1's G·L and the window's H), split for the tensor cores where they take it. The
    /// layout follows from the flavour: the group side is <see cref="ProductSide"/>, fixed for each.</summary>
    private MemoryBuffer1D<float, Stride1D.Dense> ProductWeights(int horizon, int side, bool tensor, Func<float[]> impulse)
    {
        var key = (horizon, tensor);
        if (_productWeights.Count >= 4 && !_productWeights.ContainsKey(key))
        {
            ReleaseProductWeights();
        }

        if (!_productWeights.TryGetValue(key, out var weights))
        {
            float[] blocked = WindowProductWeights.Pack(impulse(), horizon, _order, side);
            if (tensor)
            {
                blocked = TensorWeights.Pack(blocked, ChunkStateWeights.PaddedRows(_order, side), WindowProductWeights.PaddedDepth(horizon));
            }

            weights = DeviceBuffers.Upload(_accelerator, blocked, null);
            _productWeights[key] = weights;
        }

        return weights;
    }

    private void ReleaseProductWeights()
    {
        foreach (var buffer in _productWeights.Values)
        {
            buffer.Dispose();
        }

        _productWeights.Clear();
    }
}
