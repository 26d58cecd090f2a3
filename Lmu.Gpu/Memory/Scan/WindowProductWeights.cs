namespace Lmu.Gpu;

/// <summary>
/// The weights of <see cref="Kernels.Memory.WindowGemmKernels.WindowProduct"/>: W[i, q] = h_(H−1−q)[i], the impulse
/// response in window order (the window's first step meets the longest power), zero-padded to the kernel's block rows
/// and depth and stored in the layout of <see cref="ChunkStateWeights.At"/>.
/// </summary>
internal static class WindowProductWeights
{
    /// <summary>H rounded up to the kernel's block depth.</summary>
    /// <param name="horizon">H.</param>
    /// <returns>The padded depth.</returns>
    public static int PaddedDepth(int horizon)
    {
        int depth = Kernels.Memory.ScanGemmKernels.BlockDepth;
        return checked(horizon + depth - 1) / depth * depth;
    }

    /// <summary>Packs h [H, d] into the kernel's layout.</summary>
    /// <param name="impulse">h_k[i] at k·d + i, k &lt; H.</param>
    /// <param name="horizon">H.</param>
    /// <param name="order">d.</param>
    /// <param name="side">Threads along each side of the kernel's groups.</param>
    /// <returns>PaddedRows(d) × PaddedDepth(H) floats.</returns>
    /// <exception cref="ArgumentException">The impulse table is shorter than H·d.</exception>
    public static float[] Pack(ReadOnlySpan<float> impulse, int horizon, int order, int side)
    {
        if (impulse.Length < (long)horizon * order)
        {
            throw new ArgumentException($"The impulse table holds {impulse.Length} values, not H·d = {(long)horizon * order}.", nameof(impulse));
        }

        int rows = ChunkStateWeights.PaddedRows(order, side);
        int depth = PaddedDepth(horizon);
        var weights = new float[checked((long)rows * depth)];
        for (int q = 0; q < horizon; q++)
        {
            var h = impulse.Slice((horizon - 1 - q) * order, order);
            for (int i = 0; i < order; i++)
            {
                weights[ChunkStateWeights.At(i, q, depth, side)] = h[i];
            }
        }

        return weights;
    }
}
