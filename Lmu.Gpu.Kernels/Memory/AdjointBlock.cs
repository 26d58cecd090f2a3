using ILGPU;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>
/// A block of <see cref="AdjointGemmKernels.ChunkProduct"/> for the FP32 product loop (<see cref="GemmLoop"/>): the
/// weights are stored depth-major (Wᵀ [K, M], so consecutive threads read consecutive rows), and Z column n is
/// [the next chunk's carry (the first <see cref="AdjointProductParams.CarryDepth"/> depths); g of the chunk's steps,
/// d entries each], read where they lie; steps past the sequence's end and the last chunk's carry read as zero.
/// </summary>
/// <param name="WeightsT">Wᵀ [K, M].</param>
/// <param name="Gradients">g [B, T, k, d].</param>
/// <param name="Carries">λ at each chunk's first step [B·k·C, d] (input gradient only).</param>
/// <param name="Columns">The block's column tables.</param>
/// <param name="P">Sizes.</param>
/// <param name="RowStart">The block's first row.</param>
/// <param name="Side">Threads along each side of the group (a power of two, at most 16).</param>
/// <param name="SideLog2">log₂ Side.</param>
/// <param name="Thread">This thread's index in the group.</param>
public readonly record struct AdjointBlock(ArrayView<float> WeightsT, ArrayView<float> Gradients, ArrayView<float> Carries,
    AdjointColumns Columns, AdjointProductParams P, int RowStart, int Side, int SideLog2, int Thread) : IGemmBlock
{
    /// <inheritdoc/>
    public float Weight(int k0, int w)
    {
        int row = RowStart + (w & ((8 * Side) - 1));
        int depth = k0 + (w >> (SideLog2 + 3));
        bool inside = row < P.Rows && depth < P.Depth;
        return MaskedLoad.Read(WeightsT, inside, ((long)depth * P.Rows) + row);
    }

    /// <inheritdoc/>
    public float Operand(int k0, int w) => OperandAt(w >> SideLog2, k0 + (w & (Side - 1)));

    /// <inheritdoc/>
    /// <remarks>Where d is a multiple of 8 the eight depths lie in one step (or in the carry) and are read straight;
    /// else element by element (<see cref="OperandAt"/>).</remarks>
    public Operands8 ColumnDepths(int n, int k)
    {
        int d = P.Order;
        if ((d & 7) != 0)
        {
            return new Operands8(OperandAt(n, k), OperandAt(n, k + 1), OperandAt(n, k + 2), OperandAt(n, k + 3),
                OperandAt(n, k + 4), OperandAt(n, k + 5), OperandAt(n, k + 6), OperandAt(n, k + 7));
        }

        if (k < P.CarryDepth)
        {
            long carry = Columns.CarryAt[n];
            return carry >= 0 ? Operands8.Strided(Carries, carry + k, 1) : default;
        }

        int e = k - P.CarryDepth;
        int q = e / d;
        return q < Columns.ValidSteps[n]
            ? Operands8.Strided(Gradients, Columns.GradientAt[n] + ((long)q * P.Channels * d) + (e - (q * d)), 1)
            : default;
    }

    /// <summary>Depth <paramref name="k"/> of column <paramref name="n"/>: the carry's entry k, or g's entry i of step q
    /// of the chunk (k − CarryDepth = q·d + i); zero past the chunk's steps and for the last chunk's carry.</summary>
    /// <param name="n">Column of the block.</param>
    /// <param name="k">Depth.</param>
    /// <returns>The operand, or zero.</returns>
    public float OperandAt(int n, int k)
    {
        if (k < P.CarryDepth)
        {
            long carry = Columns.CarryAt[n];
            return MaskedLoad.Read(Carries, carry >= 0, carry + k);
        }

        int d = P.Order;
        int e = k - P.CarryDepth;
        int q = e / d;
        bool inside = q < Columns.ValidSteps[n];
        return MaskedLoad.Read(Gradients, inside, Columns.GradientAt[n] + ((long)q * P.Channels * d) + (e - (q * d)));
    }
}
