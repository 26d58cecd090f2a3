namespace Lmu.Gpu;

/// <summary>
/// One streaming step of many host memories at once: Y = Ā·X + B̄·uᵀ for the n state columns X, as a register-blocked
/// d×d by d×n product (<see cref="HostScanMath.Product8"/>: each vector of Āᵀ loaded feeds eight memories), in
/// parallel over groups of eight memories where the step is large enough to pay for it. One memory at a time
/// (<see cref="HostMemoryMath.Advance"/>) streams all of Ā through the core once per memory.
/// </summary>
internal static unsafe class HostStep
{
    /// <summary>Memories per product (the columns of <see cref="HostScanMath.Product8"/>).</summary>
    private const int Width = 8;

    /// <summary>Multiply-adds of a step (n·d²) from which its groups run in parallel: about 0.1 ms on one core.</summary>
    private const long ParallelWork = 1L << 22;

    /// <summary>next[n] = Ā·states[n] + B̄·input[n] for the n = <paramref name="input"/>.Length memories.</summary>
    /// <param name="aT">Āᵀ, [j·d + i] = Ā[i, j].</param>
    /// <param name="bBar">B̄, d floats.</param>
    /// <param name="states">The states [n, d].</param>
    /// <param name="next">The new states [n, d] (not overlapping <paramref name="states"/>).</param>
    /// <param name="input">u, one per memory.</param>
    public static void Advance(float[] aT, float[] bBar, float[] states, float[] next, float[] input)
    {
        int d = bBar.Length;
        int count = input.Length;
        int groups = (count + Width - 1) / Width;
        if (groups > 1 && (long)count * d * d >= ParallelWork)
        {
            InParallel(aT, bBar, states, next, input, groups);
        }
        else
        {
            for (int g = 0; g < groups; g++)
            {
                Group(aT, bBar, states, next, input, g);
            }
        }
    }

    /// <summary>The groups in parallel (its own method, so that the serial path allocates no closure).</summary>
    private static void InParallel(float[] aT, float[] bBar, float[] states, float[] next, float[] input, int groups) =>
        HostThreads.For(groups, g => Group(aT, bBar, states, next, input, g));

    /// <summary>Memories 8·g … 8·g + 7 (fewer in the last group: its unused columns read zeros and write to scratch
    /// with scale 0).</summary>
    private static void Group(float[] aT, float[] bBar, float[] states, float[] next, float[] input, int g)
    {
        int d = bBar.Length;
        int first = g * Width;
        int width = Math.Min(Width, input.Length - first);
        float* unused = stackalloc float[width < Width ? 2 * d : 1];
        new Span<float>(unused, width < Width ? 2 * d : 1).Clear();
        fixed (float* a = aT, b = bBar, x = states, y = next)
        {
            var cols = default(HostScanMath.Columns8);
            for (int q = 0; q < width; q++)
            {
                int n = first + q;
                cols.Set(q, x + ((long)n * d), y + ((long)n * d), b, input[n]);
            }

            cols.SetUnused(width, unused, unused + d);
            HostScanMath.Product(a, d, d, ref cols, width);
        }
    }
}
