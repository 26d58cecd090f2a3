using ILGPU;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>
/// What a thread of <see cref="ScanGemmKernels.ChunkStates"/> knows about its block: the operands, the per-column
/// tables in shared memory, the block's first row and where each staged element lives in global and shared memory.
/// </summary>
/// <remarks>
/// Shared layout of a stage (side = threads along each side of the group, 8·side rows and columns per block): the Wᵀ
/// block at [kk·8·side + slot(m)] and the Z block at [8·side² + kk·(8·side + 4) + slot(n)] for depths kk &lt; side.
/// slot(i) = (r / 4)·4·side + 4·s + r mod 4 for i = s + r·side puts the four rows (columns) s, s + side, s + 2·side,
/// s + 3·side that a thread multiplies next to each other, so that it reads them with one 16-byte load; its outputs
/// stay at rows s + r·side, which consecutive threads write to consecutive addresses. The Z rows are 8·side + 4
/// floats apart to keep those loads aligned while spreading the column-wise stores over banks.
/// </remarks>
/// <param name="WeightsT">Wᵀ [r·PaddedRows + m].</param>
/// <param name="Input">u [B, T, k].</param>
/// <param name="Initial">Initial states [n, d].</param>
/// <param name="Carries">Chunk end states [N, d].</param>
/// <param name="CarryAt">Per column of the block: where its carry starts.</param>
/// <param name="InputAt">Per column: where its first input is.</param>
/// <param name="LengthOf">Per column: its chunk's length (0 past the last column).</param>
/// <param name="FromInitial">Per column: 1 when the carry is the sequence's initial state.</param>
/// <param name="Side">Threads along each side of the group (a power of two, at most 16).</param>
/// <param name="SideLog2">log₂ Side.</param>
/// <param name="Thread">This thread's index in the group.</param>
/// <param name="FirstRow">The block's first row m0.</param>
/// <param name="Order">d.</param>
/// <param name="Channels">k.</param>
/// <param name="PaddedRows">The row count of Wᵀ.</param>
public readonly record struct GemmBlock(ArrayView<float> WeightsT, ArrayView<float> Input, ArrayView<float> Initial,
    ArrayView<float> Carries, ArrayView<long> CarryAt, ArrayView<long> InputAt, ArrayView<int> LengthOf,
    ArrayView<int> FromInitial, int Side, int SideLog2, int Thread, int FirstRow, int Order, int Channels, int PaddedRows)
{
    /// <summary>Threads in the group (side²).</summary>
    public int Threads => Side << SideLog2;

    /// <summary>Rows (and columns) of the block: 8·side.</summary>
    public int Size => 8 * Side;

    /// <summary>Staged element <paramref name="w"/> of Wᵀ at the stage of depth <paramref name="k0"/>.</summary>
    /// <param name="k0">First depth of the stage.</param>
    /// <param name="w">Element: depth w / (8·side), row w mod 8·side.</param>
    /// <returns>W[m0 + row, k0 + depth].</returns>
    public float Weight(int k0, int w)
    {
        int kk = w >> (SideLog2 + 3);
        int m = w & (Size - 1);
        return WeightsT[((long)(k0 + kk) * PaddedRows) + FirstRow + m];
    }

    /// <summary>Staged element <paramref name="w"/> of Z: depth k &lt; d is the column's carry (or initial state),
    /// depth d + q its q-th input (zero past its chunk's length or past the last column).</summary>
    /// <param name="k0">First depth of the stage.</param>
    /// <param name="w">Element: column w / side, depth w mod side.</param>
    /// <returns>Z[k0 + depth, column].</returns>
    public float Operand(int k0, int w)
    {
        int n = w >> SideLog2;
        int k = k0 + (w & (Side - 1));
        int length = LengthOf[n];
        if (k < Order)
        {
            if (length == 0)
            {
                return 0;
            }

            return FromInitial[n] != 0 ? Initial[CarryAt[n] + k] : Carries[CarryAt[n] + k];
        }

        return k - Order < length ? Input[InputAt[n] + ((long)(k - Order) * Channels)] : 0;
    }

    /// <summary>Where staged Wᵀ element <paramref name="w"/> goes in shared memory.</summary>
    /// <param name="w">Element.</param>
    /// <returns>The float index.</returns>
    public int WeightSlot(int w) => ((w >> (SideLog2 + 3)) * Size) + Slot(w & (Size - 1));

    /// <summary>Where staged Z element <paramref name="w"/> goes in shared memory.</summary>
    /// <param name="w">Element.</param>
    /// <returns>The float index.</returns>
    public int OperandSlot(int w) => (Size * Side) + ((w & (Side - 1)) * (Size + 4)) + Slot(w >> SideLog2);

    /// <summary>The place of row (or column) i = s + r·side of the block within a depth: (r / 4)·4·side + 4·s + r mod 4.</summary>
    private int Slot(int i)
    {
        int r = i >> SideLog2;
        int s = i & (Side - 1);
        return ((r >> 2) * 4 * Side) + (4 * s) + (r & 3);
    }
}
