namespace Lmu.Gpu.Kernels.Training;

/// <summary>
/// Sizes, layouts and epilogue of <see cref="DenseProductKernels.Product"/>: C = A·B for an M × K by K × N product whose
/// operands and result lie in memory with arbitrary strides, A(m, k) = a[m·ARow + k·ADepth],
/// B(k, n) = b[k·BDepth + n·BColumn], C(m, n) at c[m·CRow + n·CColumn]. The depth may be split into ranges of
/// <see cref="DepthPerSplit"/>, each written as a partial product and summed by <see cref="DenseProductKernels.FinishSplits"/>.
/// </summary>
/// <param name="Rows">M.</param>
/// <param name="Columns">N.</param>
/// <param name="Depth">K.</param>
/// <param name="DepthPerSplit">Depths per split, a multiple of <see cref="DenseProductKernels.DepthAlignment"/>; K when
/// the depth is not split.</param>
/// <param name="ARow">A's stride along m.</param>
/// <param name="ADepth">A's stride along k.</param>
/// <param name="BDepth">B's stride along k.</param>
/// <param name="BColumn">B's stride along n.</param>
/// <param name="CRow">C's stride along m.</param>
/// <param name="CColumn">C's stride along n.</param>
/// <param name="HasBias">1: add bias[m] to every C(m, n).</param>
/// <param name="Accumulate">1: add into C (no activation); 0: overwrite C with the activation of the sum.</param>
/// <param name="Activation">An <see cref="Cell.ActivationCode"/>, applied where <paramref name="Accumulate"/> is 0.</param>
public readonly record struct DenseProductParams(int Rows, int Columns, int Depth, int DepthPerSplit, long ARow, long ADepth,
    long BDepth, long BColumn, long CRow, long CColumn, int HasBias, int Accumulate, int Activation)
{
    /// <summary>The number of depth ranges: ⌈K / <see cref="DepthPerSplit"/>⌉.</summary>
    public int Splits => (Depth + DepthPerSplit - 1) / DepthPerSplit;
}
