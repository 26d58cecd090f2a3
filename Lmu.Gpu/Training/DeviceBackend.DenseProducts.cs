using ILGPU;
using ILGPU.Runtime;
using Lmu.Gpu.Kernels.Cell;
using Lmu.Gpu.Kernels.Training;

namespace Lmu.Gpu.Training;

/// <summary>Training's dense products on the blocked product kernel (<see cref="DenseProductKernels"/>) where they are
/// large: a layer's forward pass, its input gradient and its weight gradient.</summary>
internal sealed partial class DeviceBackend
{
    /// <summary>Products of fewer multiply-adds stay on the row kernels (about 10 µs of work on a GPU).</summary>
    internal const long MinimumProductMultiplyAdds = 1L << 22;

    /// <summary>A split of the depth sums at least this many depths.</summary>
    private const int MinimumSplitDepth = 256;

    /// <summary>The most depth splits of one product (their partial products are M·N floats each).</summary>
    private const int MaximumSplits = 256;

    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, DenseProductParams, SpecializedValue<int>>? _denseProduct;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, DenseProductParams>? _finishSplits;
    private Tensor? _productPartials;

    /// <inheritdoc cref="ProductUse"/>
    internal ProductUse DenseProductUse { get; set; } = ProductUseParser.FromEnvironment(ProductUseParser.DenseVariable);

    /// <summary>Products launched on the blocked kernel since the backend was made (for tests and the self-test).</summary>
    internal int DenseProducts { get; private set; }

    /// <summary>Whether an M × N by K product runs on the blocked kernel: under <see cref="ProductUse.Auto"/>, where M, N
    /// and K are all at least 16 (a shorter depth is less than one stage of the kernel, and the row kernels read such
    /// rows once anyway) and it has at least <see cref="MinimumProductMultiplyAdds"/> multiply-adds.</summary>
    /// <param name="use">The setting.</param>
    /// <param name="rows">M.</param>
    /// <param name="columns">N.</param>
    /// <param name="depth">K.</param>
    /// <returns>Whether to launch the product.</returns>
    internal static bool PrefersDenseProduct(ProductUse use, long rows, long columns, long depth) => use switch
    {
        ProductUse.Always => rows > 0 && columns > 0 && depth > 0,
        ProductUse.Never => false,
        _ => rows >= 16 && columns >= 16 && depth >= 16 && rows * columns * depth >= MinimumProductMultiplyAdds,
    };

    /// <summary>Y[r, o] = f(Σ_i X[r, i]·W[o, i] + b[o]) as C = W·Xᵀ: M = O, N = R, K = I, so that the large operand X is
    /// read eight consecutive floats at a time.</summary>
    private bool TryDenseForwardProduct(DenseParams p, Slice x, Slice w, Slice bias, Slice y) =>
        TryProduct(new DenseProductParams(p.Out, p.Rows, p.In, 0, p.In, 1, 1, p.In, 1, p.Out, p.HasBias, p.Accumulate, p.Activation),
            w, x, bias, y);

    /// <summary>dX[r, i] (+)= Σ_o dZ[r, o]·W[o, i] as C = Wᵀ·dZᵀ: M = I, N = R, K = O.</summary>
    private bool TryDenseBackwardInputProduct(DenseParams p, Slice dZ, Slice w, Slice dX) =>
        TryProduct(new DenseProductParams(p.In, p.Rows, p.Out, 0, 1, p.In, 1, p.Out, 1, p.In, 0, p.Accumulate, ActivationCode.Linear), w, dZ, dZ, dX);

    /// <summary>dW[i, j] += Σ_row dY[row, i]·X[row, j] as C = dYᵀ·X: M = P, N = Q, K = B·T rows (split). Only without a
    /// time shift; the recurrent weights' shifted sums stay on the row kernel.</summary>
    private bool TryOuterProduct(OuterParams p, Slice dY, Slice x, Slice dW) =>
        p.Shift == 0 &&
        TryProduct(new DenseProductParams(p.P, p.Q, checked(p.Batch * p.Steps), 0, 1, p.P, p.Q, 1, p.Q, 1, 0, 1, ActivationCode.Linear), dY, x, dY, dW);

    /// <summary>Launches C = A·B where <see cref="PrefersDenseProduct"/> says so, splitting the depth where the blocks
    /// alone would leave the device idle.</summary>
    /// <param name="p">Sizes, strides and epilogue; <see cref="DenseProductParams.DepthPerSplit"/> is set here.</param>
    /// <param name="a">A.</param>
    /// <param name="b">B.</param>
    /// <param name="bias">bias[M] (any slice when there is none).</param>
    /// <param name="c">C.</param>
    /// <returns>Whether it launched (else the caller runs the row kernel).</returns>
    private bool TryProduct(DenseProductParams p, Slice a, Slice b, Slice bias, Slice c)
    {
        if (!PrefersDenseProduct(DenseProductUse, p.Rows, p.Columns, p.Depth))
        {
            return false;
        }

        int side = DeviceMemoryEngine.BlockSide(DeviceMemoryEngine.GemmGroupSide(_acc), p.Rows);
        int splits = DenseProductSplits(p.Rows, p.Columns, p.Depth, side, _acc.NumMultiprocessors, _acc.MaxNumThreadsPerMultiprocessor);
        int depthPerSplit = splits == 1 ? p.Depth : RoundUp((p.Depth + splits - 1) / splits, DenseProductKernels.DepthAlignment);
        p = p with { DepthPerSplit = depthPerSplit };
        long blocks = BlockCount(p.Rows, side) * BlockCount(p.Columns, side);
        var partial = p.Splits > 1
            ? Scratch(ref _productPartials, (long)p.Splits * p.Rows * p.Columns, "dense product partial sums").All.View
            : c.View;

        _denseProduct ??= DeviceKernels.GetOrLoad(_acc, DenseProductKernels.Product, acc => acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, DenseProductParams, SpecializedValue<int>>(
            DenseProductKernels.Product, GemmOccupancy.For(acc.AcceleratorType, DeviceMemoryEngine.GemmGroupSide(acc), GemmOccupancy.FromEnvironment())));
        var config = new KernelConfig(new Index1D(checked((int)(blocks * p.Splits))), new Index1D(side * side),
            SharedMemoryConfig.RequestDynamic<float>(DenseProductKernels.SharedFloats(side)));
        _denseProduct(config, a.View, b.View, bias.View, c.View, partial, p, SpecializedValue.New(side));
        if (p.Splits > 1)
        {
            _finishSplits ??= DeviceKernels.GetOrLoad(_acc, DenseProductKernels.FinishSplits, acc => acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, DenseProductParams>(DenseProductKernels.FinishSplits));
            _finishSplits(checked(p.Rows * p.Columns), partial, bias.View, c.View, p);
        }

        DenseProducts++;
        return true;
    }

    /// <summary>How many ranges the depth is split into: enough groups to fill the device once
    /// (multiprocessors × threads per multiprocessor / side²) where the output blocks alone are fewer, each range at
    /// least <see cref="MinimumSplitDepth"/> deep, at most <see cref="MaximumSplits"/>.</summary>
    /// <param name="rows">M.</param>
    /// <param name="columns">N.</param>
    /// <param name="depth">K.</param>
    /// <param name="side">The group side.</param>
    /// <param name="multiprocessors">The device's multiprocessors.</param>
    /// <param name="threadsPerMultiprocessor">Threads a multiprocessor holds.</param>
    /// <returns>The number of splits (1: none).</returns>
    internal static int DenseProductSplits(int rows, int columns, int depth, int side, int multiprocessors, int threadsPerMultiprocessor)
    {
        long blocks = BlockCount(rows, side) * BlockCount(columns, side);
        long wanted = (long)Math.Max(1, multiprocessors) * Math.Max(1, threadsPerMultiprocessor / (side * side));
        if (blocks >= wanted)
        {
            return 1;
        }

        long splits = Math.Min((wanted + blocks - 1) / blocks, Math.Max(1, depth / MinimumSplitDepth));
        return (int)Math.Clamp(splits, 1, MaximumSplits);
    }

    private static long BlockCount(int extent, int side) => (extent + (8L * side) - 1) / (8L * side);

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;
}
