using ILGPU;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>
/// A block of <see cref="WindowGemmKernels.WindowProduct"/>: Z column n is the window of H inputs that ends at the
/// column's state, u at steps e − H + 1 … e of its sequence, with the steps before the window's lower limit (step 0,
/// or the chunk's first step) read as zero.
/// </summary>
/// <param name="Weights">W by blocks of rows (ChunkStateWeights.At): a stage is 8·side² consecutive floats.</param>
/// <param name="Input">u [B, T, k].</param>
/// <param name="StartAt">Per column of the block: where the input of the window's first step would be (before the
/// sequence's first input, or before the input, where the window reaches back before step 0).</param>
/// <param name="SkipOf">Per column: the window's leading steps that read as zero.</param>
/// <param name="Side">Threads along each side of the group (a power of two, at most 16).</param>
/// <param name="SideLog2">log₂ Side.</param>
/// <param name="Thread">This thread's index in the group.</param>
/// <param name="WeightBase">Where the block's weights start.</param>
/// <param name="Horizon">H: the depths that hold inputs (the padding after them has zero weight).</param>
/// <param name="Channels">k.</param>
public readonly record struct WindowBlock(ArrayView<float> Weights, ArrayView<float> Input, ArrayView<long> StartAt,
    ArrayView<int> SkipOf, int Side, int SideLog2, int Thread, long WeightBase, int Horizon, int Channels) : IGemmBlock
{
    /// <inheritdoc/>
    public float Weight(int k0, int w) => Weights[WeightBase + ((long)k0 * 8 * Side) + w];

    /// <inheritdoc/>
    public float Operand(int k0, int w) => InputOperand(w >> SideLog2, k0 + (w & (Side - 1)));

    /// <inheritdoc/>
    /// <remarks>Read straight where all eight steps lie inside the window's valid part, else each clamped and masked
    /// (<see cref="InputOperand"/>).</remarks>
    public Operands8 ColumnDepths(int n, int k)
    {
        if (k >= SkipOf[n] && k + 8 <= Horizon)
        {
            return Operands8.Strided(Input, StartAt[n] + (k * (long)Channels), Channels);
        }

        return new Operands8(InputOperand(n, k), InputOperand(n, k + 1), InputOperand(n, k + 2), InputOperand(n, k + 3),
            InputOperand(n, k + 4), InputOperand(n, k + 5), InputOperand(n, k + 6), InputOperand(n, k + 7));
    }

    /// <summary>Step <paramref name="q"/> of column <paramref name="n"/>'s window, zero before its lower limit and in the
    /// depth's padding, read from an index clamped to the input.</summary>
    /// <param name="n">Column of the block.</param>
    /// <param name="q">Step within the window (may pass H: the depth's padding).</param>
    /// <returns>u at that step, or zero.</returns>
    public float InputOperand(int n, int q)
    {
        long at = StartAt[n] + ((long)q * Channels);
        float value = Input[Math.Max(0, Math.Min(at, Input.Length - 1))];
        return q >= SkipOf[n] && q < Horizon ? value : 0;
    }
}
