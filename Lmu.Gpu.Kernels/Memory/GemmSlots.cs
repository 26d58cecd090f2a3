namespace Lmu.Gpu.Kernels.Memory;

/// <summary>
/// The shared-memory layout of one stage of the FP32 matrix-product kernels (side = threads along each side of the
/// group, 8·side rows and columns per block): the W block at [kk·8·side + slot(m)] and the Z block at
/// [8·side² + kk·(8·side + 4) + slot(n)] for depths kk &lt; side. slot(i) = (r / 4)·4·side + 4·s + r mod 4 for
/// i = s + r·side puts the four rows (columns) s, s + side, s + 2·side, s + 3·side that a thread multiplies next to
/// each other, so that it reads them with one 16-byte load; its outputs stay at rows s + r·side, which consecutive
/// threads write to consecutive addresses. The Z rows are 8·side + 4 floats apart to keep those loads aligned while
/// spreading the column-wise stores over banks.
/// </summary>
public static class GemmSlots
{
    /// <summary>Where staged W element <paramref name="w"/> goes in shared memory.</summary>
    /// <param name="side">Threads along each side of the group.</param>
    /// <param name="sideLog2">log₂ <paramref name="side"/>.</param>
    /// <param name="w">Element (depth w / 8·side, row w mod 8·side).</param>
    /// <returns>The float index.</returns>
    public static int Weight(int side, int sideLog2, int w) =>
        ((w >> (sideLog2 + 3)) * 8 * side) + Slot(side, sideLog2, w & ((8 * side) - 1));

    /// <summary>Where staged Z element <paramref name="w"/> goes in shared memory.</summary>
    /// <param name="side">Threads along each side of the group.</param>
    /// <param name="sideLog2">log₂ <paramref name="side"/>.</param>
    /// <param name="w">Element (column w / side, depth w mod side).</param>
    /// <returns>The float index.</returns>
    public static int Operand(int side, int sideLog2, int w) =>
        (8 * side * side) + ((w & (side - 1)) * ((8 * side) + 4)) + Slot(side, sideLog2, w >> sideLog2);

    /// <summary>The place of row (or column) i = s + r·side of the block within a depth: (r / 4)·4·side + 4·s + r mod 4.</summary>
    private static int Slot(int side, int sideLog2, int i)
    {
        int r = i >> sideLog2;
        int s = i & (side - 1);
        return ((r >> 2) * 4 * side) + (4 * s) + (r & 3);
    }
}
