using ILGPU;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>Where the columns of a <see cref="ScanKernels.ChunkSteps"/> tile read their inputs and write their outputs:
/// per column g, the input row of its chunk's first step and the chunk's length, computed once per launch.</summary>
/// <param name="RowBase">Per column: (b·T + c·L)·k + ch, the row of its chunk's first step.</param>
/// <param name="LengthOf">Per column: its chunk's length (0 past the last column).</param>
/// <param name="Channels">k: consecutive steps are k rows apart.</param>
/// <param name="Reverse">The adjoint: step j of a chunk is its (len − 1 − j)-th time step.</param>
public readonly record struct TileRows(ArrayView<long> RowBase, ArrayView<int> LengthOf, int Channels, bool Reverse)
{
    /// <summary>The input row of column <paramref name="g"/> at its step <paramref name="j"/>, or −1 when the column is
    /// past the end or its chunk is shorter than j + 1.</summary>
    /// <param name="g">Column of the tile.</param>
    /// <param name="j">Step of the chunk (in the scan's direction).</param>
    /// <returns>The row, or −1.</returns>
    public long Row(int g, int j)
    {
        int length = LengthOf[g];
        if (j >= length)
        {
            return -1;
        }

        return RowBase[g] + ((long)(Reverse ? length - 1 - j : j) * Channels);
    }
}
