using ILGPU;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>
/// What a thread of <see cref="ScanGemmKernels.ChunkStates"/> knows about its block: the operands, the per-column
/// tables in shared memory, where the block's weights start and where each staged element lives in shared memory.
/// </summary>
/// <remarks>The stage's shared-memory layout is <see cref="GemmSlots"/>.</remarks>
/// <param name="Weights">W by blocks of rows (ChunkStateWeights.At): a stage is 8·side² consecutive floats.</param>
/// <param name="Input">u [B, T, k].</param>
/// <param name="Starts">The state each chunk starts from, [N, d], followed by at least 16 zeros.</param>
/// <param name="StartAt">Per column of the block: where its start state is.</param>
/// <param name="InputAt">Per column: where its first input is.</param>
/// <param name="LengthOf">Per column: its chunk's length (0 past the last column).</param>
/// <param name="Side">Threads along each side of the group (a power of two, at most 16).</param>
/// <param name="SideLog2">log₂ Side.</param>
/// <param name="Thread">This thread's index in the group.</param>
/// <param name="WeightBase">Where the block's weights start.</param>
/// <param name="CarryDepth">D: d rounded up to Side, where the input rows of W begin.</param>
/// <param name="Channels">k.</param>
public readonly record struct GemmBlock(ArrayView<float> Weights, ArrayView<float> Input, ArrayView<float> Starts,
    ArrayView<long> StartAt, ArrayView<long> InputAt, ArrayView<int> LengthOf, int Side, int SideLog2, int Thread,
    long WeightBase, int CarryDepth, int Channels) : IGemmBlock
{
    /// <summary>Staged W element <paramref name="w"/> (depth w / 8·side, row w mod 8·side) of the stage at depth
    /// <paramref name="k0"/>.</summary>
    /// <param name="k0">First depth of the stage.</param>
    /// <param name="w">Element.</param>
    /// <returns>W[m0 + row, k0 + depth].</returns>
    public float Weight(int k0, int w) => Weights[WeightBase + ((long)k0 * 8 * Side) + w];

    /// <summary>Staged Z element <paramref name="w"/> (column w / side, depth w mod side) of the stage at depth
    /// <paramref name="k0"/>: the column's start state below depth D, its input k − D from there on (zero past its
    /// chunk's length).</summary>
    /// <remarks>No branch on the data: rows d … D − 1 (zero weight) read on into the next column's start or the zeros
    /// after the last; a column past the last one reads the last one's (outputs never written); the input index is
    /// clamped to the input and the value masked by the length.</remarks>
    /// <param name="k0">First depth of the stage.</param>
    /// <param name="w">Element.</param>
    /// <returns>Z[k0 + depth, column].</returns>
    public float Operand(int k0, int w)
    {
        int n = w >> SideLog2;
        int k = k0 + (w & (Side - 1));
        return k < CarryDepth ? Starts[StartAt[n] + k] : InputOperand(n, k - CarryDepth);
    }

    /// <summary>Eight consecutive depths k … k + 7 of column <paramref name="n"/> of Z, all in the carry rows or all in the
    /// input rows (D is a multiple of 8): the column's start state, or its inputs — read straight when all eight steps
    /// lie inside the chunk (so inside the input), else each clamped and masked (<see cref="InputOperand"/>).</summary>
    /// <param name="n">Column of the block.</param>
    /// <param name="k">First depth (a multiple of 8).</param>
    /// <returns>Z[k … k + 7, n].</returns>
    public Operands8 ColumnDepths(int n, int k)
    {
        if (k < CarryDepth)
        {
            var start = Starts.SubView(StartAt[n] + k, 8);
            return new Operands8(start[0], start[1], start[2], start[3], start[4], start[5], start[6], start[7]);
        }

        int q = k - CarryDepth;
        if (q + 8 <= LengthOf[n])
        {
            return Operands8.Strided(Input, InputAt[n] + (q * (long)Channels), Channels);
        }

        return new Operands8(InputOperand(n, q), InputOperand(n, q + 1), InputOperand(n, q + 2), InputOperand(n, q + 3),
            InputOperand(n, q + 4), InputOperand(n, q + 5), InputOperand(n, q + 6), InputOperand(n, q + 7));
    }

    /// <summary>Input <paramref name="q"/> of column <paramref name="n"/>'s chunk, zero past its length, read from an
    /// index clamped to the input.</summary>
    /// <param name="n">Column of the block.</param>
    /// <param name="q">Step within the chunk (may pass its end: the depth's padding).</param>
    /// <returns>u at that step, or zero.</returns>
    public float InputOperand(int n, int q)
    {
        float value = Input[Math.Min(InputAt[n] + ((long)q * Channels), Input.Length - 1)];
        return q < LengthOf[n] ? value : 0;
    }
}
