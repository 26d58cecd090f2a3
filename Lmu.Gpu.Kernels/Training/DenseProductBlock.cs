using ILGPU;
using Lmu.Gpu.Kernels.Memory;

namespace Lmu.Gpu.Kernels.Training;

/// <summary>
/// A block of <see cref="DenseProductKernels.Product"/> for the FP32 product loop (<see cref="GemmLoop"/>): rows
/// <paramref name="RowStart"/> … of A, columns <paramref name="ColumnStart"/> … of B, depths <paramref name="DepthStart"/>
/// … <paramref name="DepthStart"/> + <paramref name="DepthCount"/> − 1 (one split), read through the strides of
/// <paramref name="P"/>. Elements outside the product (past M, N or the split's depths) read as zero, from a clamped
/// index, so the loop needs no bounds of its own.
/// </summary>
/// <param name="A">A's storage.</param>
/// <param name="B">B's storage.</param>
/// <param name="P">Sizes and strides.</param>
/// <param name="RowStart">The block's first row m0.</param>
/// <param name="ColumnStart">The block's first column n0.</param>
/// <param name="DepthStart">The split's first depth.</param>
/// <param name="DepthCount">The split's depths.</param>
/// <param name="Side">Threads along each side of the group (a power of two, at most 16).</param>
/// <param name="SideLog2">log₂ Side.</param>
/// <param name="Thread">This thread's index in the group.</param>
public readonly record struct DenseProductBlock(ArrayView<float> A, ArrayView<float> B, DenseProductParams P, int RowStart,
    int ColumnStart, long DepthStart, int DepthCount, int Side, int SideLog2, int Thread) : IGemmBlock
{
    /// <inheritdoc/>
    public float Weight(int k0, int w)
    {
        int row = RowStart + (w & ((8 * Side) - 1));
        int depth = k0 + (w >> (SideLog2 + 3));
        bool inside = row < P.Rows && depth < DepthCount;
        return MaskedLoad.Read(A, inside, (row * P.ARow) + ((DepthStart + depth) * P.ADepth));
    }

    /// <inheritdoc/>
    public float Operand(int k0, int w) => OperandAt(w >> SideLog2, k0 + (w & (Side - 1)));

    /// <inheritdoc/>
    /// <remarks>Read straight where the column and all eight depths lie inside the product, else element by element
    /// (<see cref="OperandAt"/>).</remarks>
    public Operands8 ColumnDepths(int n, int k)
    {
        int column = ColumnStart + n;
        if (column < P.Columns && k + 8 <= DepthCount)
        {
            return Operands8.Strided(B, ((DepthStart + k) * P.BDepth) + (column * P.BColumn), P.BDepth);
        }

        return new Operands8(OperandAt(n, k), OperandAt(n, k + 1), OperandAt(n, k + 2), OperandAt(n, k + 3),
            OperandAt(n, k + 4), OperandAt(n, k + 5), OperandAt(n, k + 6), OperandAt(n, k + 7));
    }

    /// <summary>B(DepthStart + <paramref name="depth"/>, ColumnStart + <paramref name="n"/>), zero outside the product.</summary>
    /// <param name="n">Column of the block.</param>
    /// <param name="depth">Depth within the split.</param>
    /// <returns>The operand, or zero.</returns>
    public float OperandAt(int n, int depth)
    {
        int column = ColumnStart + n;
        bool inside = column < P.Columns && depth < DepthCount;
        return MaskedLoad.Read(B, inside, ((DepthStart + depth) * P.BDepth) + (column * P.BColumn));
    }
}
