using ILGPU;
using ILGPU.Runtime;
using Lmu.Gpu.Kernels.Cell;
using Lmu.Gpu.Kernels.Memory;

namespace Lmu.Gpu.Kernels.Training;

/// <summary>
/// The dense products of training (a layer's forward pass, its input gradient and its weight gradient) as blocked
/// matrix products on the FP32 product loop of the scan's phase C (<see cref="GemmLoop"/>): 8·side × 8·side outputs per
/// group, 8 × 8 per thread in registers, operands staged through shared memory. The row kernels
/// (<see cref="TrainingKernels.DenseForward"/>, <see cref="TrainingKernels.DenseBackwardInput"/>,
/// <see cref="TrainingKernels.OuterChunked"/>) make one or two global loads per multiply-add; this makes about one per
/// eight.
/// </summary>
public static class DenseProductKernels
{
    /// <summary>Depth ranges of a split start at multiples of this (a multiple of every group side).</summary>
    public const int DepthAlignment = 16;

    /// <summary>Shared memory of <see cref="Product"/> in floats (that of the phase C product).</summary>
    /// <param name="side">Threads along each side of the group.</param>
    /// <returns>Floats.</returns>
    public static int SharedFloats(int side) => ScanGemmKernels.SharedFloats(side);

    /// <summary>
    /// C = A·B (<see cref="DenseProductParams"/>). Group g computes split g / (R·N_b) and, within it, row block
    /// g mod R and column block (g / R) mod N_b (R = ⌈M / 8·side⌉ row blocks, N_b = ⌈N / 8·side⌉ column blocks): the
    /// groups launched together share a column block of B, the larger operand in training. With one split the result
    /// is finished here (bias, activation or accumulation); with several, split s writes its partial product to
    /// partial[s·M·N + m·N + n] for <see cref="FinishSplits"/>. Shared memory: <see cref="SharedFloats"/> floats.
    /// </summary>
    /// <param name="a">A's storage.</param>
    /// <param name="b">B's storage.</param>
    /// <param name="bias">bias[M] (read only with <see cref="DenseProductParams.HasBias"/>).</param>
    /// <param name="c">C's storage.</param>
    /// <param name="partial">Partial products [splits, M, N] (written only with several splits).</param>
    /// <param name="p">Sizes, strides and epilogue.</param>
    /// <param name="side">Threads along each side of the group: 1, 2, 4, 8 or 16 (a constant of the compiled kernel).</param>
    public static void Product(ArrayView<float> a, ArrayView<float> b, ArrayView<float> bias, ArrayView<float> c,
        ArrayView<float> partial, DenseProductParams p, SpecializedValue<int> side)
    {
        var shared = SharedMemory.GetDynamic<float>();
        var thread = GemmThread.Current(side.Value);
        int g = thread.Side;
        int size = thread.BlockSize;
        int rowBlocks = (p.Rows + size - 1) / size;
        int columnBlocks = (p.Columns + size - 1) / size;
        int id = Grid.IdxX;
        int split = id / (rowBlocks * columnBlocks);
        int inSplit = id - (split * rowBlocks * columnBlocks);
        int columnBlock = inSplit / rowBlocks;
        int m0 = (inSplit - (columnBlock * rowBlocks)) * size;
        int n0 = columnBlock * size;
        long depthStart = (long)split * p.DepthPerSplit;
        int depthCount = (int)Math.Min(p.DepthPerSplit, p.Depth - depthStart);
        int depthEnd = ((depthCount + g - 1) >> thread.SideLog2) << thread.SideLog2;
        var block = new DenseProductBlock(a, b, p, m0, n0, depthStart, depthCount, g, thread.SideLog2, thread.Thread);
        var acc = GemmLoop.Multiply(block, shared, depthEnd, thread.Row, thread.Column);

        bool splits = p.DepthPerSplit < p.Depth;
        long partialBase = (long)split * p.Rows * p.Columns;
        for (int r = 0; r < 8; r++)
        {
            int m = m0 + thread.Row + (r * g);
            if (m >= p.Rows)
            {
                break;
            }

            var values = acc.Row(r);
            for (int col = 0; col < 8; col++)
            {
                int n = n0 + thread.Column + (col * g);
                if (n < p.Columns)
                {
                    if (splits)
                    {
                        partial[partialBase + ((long)m * p.Columns) + n] = values[col];
                    }
                    else
                    {
                        Finish(bias, c, p, m, n, values[col]);
                    }
                }
            }
        }
    }

    /// <summary>Sums the partial products of <see cref="Product"/>'s splits in split order and finishes C(m, n).</summary>
    /// <param name="index">m·N + n.</param>
    /// <param name="partial">Partial products [splits, M, N].</param>
    /// <param name="bias">bias[M] (read only with <see cref="DenseProductParams.HasBias"/>).</param>
    /// <param name="c">C's storage.</param>
    /// <param name="p">Sizes, strides and epilogue.</param>
    public static void FinishSplits(Index1D index, ArrayView<float> partial, ArrayView<float> bias, ArrayView<float> c, DenseProductParams p)
    {
        long elements = (long)p.Rows * p.Columns;
        float sum = 0;
        int splits = p.Splits;
        for (int s = 0; s < splits; s++)
        {
            sum += partial[(s * elements) + index];
        }

        int m = index / p.Columns;
        Finish(bias, c, p, m, index - (m * p.Columns), sum);
    }

    /// <summary>C(m, n) = f(sum + bias[m]), or C(m, n) += sum + bias[m] when accumulating.</summary>
    private static void Finish(ArrayView<float> bias, ArrayView<float> c, DenseProductParams p, int m, int n, float sum)
    {
        float value = p.HasBias != 0 ? sum + bias[m] : sum;
        long at = (m * p.CRow) + (n * p.CColumn);
        if (p.Accumulate != 0)
        {
            c[at] += value;
        }
        else
        {
            c[at] = CellKernels.Activate(value, p.Activation);
        }
    }
}
