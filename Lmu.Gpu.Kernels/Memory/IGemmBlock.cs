namespace Lmu.Gpu.Kernels.Memory;

/// <summary>
/// What the shared staging (<see cref="GemmStage"/>) and depth loop (<see cref="GemmLoop"/>) of the FP32 matrix-product
/// kernels need from a block: its group shape, where each staged element of W and Z comes from, and where it goes in
/// shared memory (<see cref="GemmSlots"/>). <see cref="GemmBlock"/> reads a chunk's carry and inputs (phase C),
/// <see cref="WindowBlock"/> a window of inputs ending at a state (chunk ends and window starts).
/// </summary>
/// <remarks>Kernels take implementations as generic struct arguments, so every call is resolved when ILGPU compiles the
/// kernel (no interface dispatch on the device).</remarks>
public interface IGemmBlock
{
    /// <summary>Threads along each side of the group (a power of two, at most 16).</summary>
    int Side { get; }

    /// <summary>log₂ <see cref="Side"/>.</summary>
    int SideLog2 { get; }

    /// <summary>This thread's index in the group.</summary>
    int Thread { get; }

    /// <summary>Staged W element <paramref name="w"/> (depth w / 8·side, row w mod 8·side) of the stage at depth
    /// <paramref name="k0"/>.</summary>
    /// <param name="k0">First depth of the stage.</param>
    /// <param name="w">Element.</param>
    /// <returns>W[m0 + row, k0 + depth].</returns>
    float Weight(int k0, int w);

    /// <summary>Staged Z element <paramref name="w"/> (column w / side, depth w mod side) of the stage at depth
    /// <paramref name="k0"/>.</summary>
    /// <param name="k0">First depth of the stage.</param>
    /// <param name="w">Element.</param>
    /// <returns>Z[k0 + depth, column].</returns>
    float Operand(int k0, int w);

    /// <summary>Eight consecutive depths k … k + 7 of column <paramref name="n"/> of Z (side ≥ 8).</summary>
    /// <param name="n">Column of the block.</param>
    /// <param name="k">First depth (a multiple of 8).</param>
    /// <returns>Z[k … k + 7, n].</returns>
    Operands8 ColumnDepths(int n, int k);
}
