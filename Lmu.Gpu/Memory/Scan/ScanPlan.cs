using MathNet.Numerics.LinearAlgebra;

namespace Lmu.Gpu;

/// <summary>
/// The chunking of one scan: T steps split into C = ⌈T/L⌉ chunks of L steps (the last one L_r = T − (C−1)·L
/// long), with the float32 tables the three phases need, computed in double and rounded once.
/// </summary>
/// <remarks>
/// Chunk length rule (<see cref="ChooseChunkLength"/>): phase C (L lock-step steps over all B·k·C chunk states at
/// once) costs the same 2·T·d² as the sequential run but is parallel over the chunks, while phase B (the carries) is
/// serial over the C chunks of one sequence and costs 2·C·d². L is therefore the smallest power of two that keeps
/// phase B under ~1/64 of phase C per worker, and no larger than what leaves every worker (CPU core, or GPU
/// multiprocessor lanes) enough independent chunks: L = clamp(pow2 ≥ T·n / (columns wanted), 16, 1024) where n = B·k
/// and "columns wanted" is 16 per CPU core on the host, and 8,192 on a GPU. On a device, a chain of 48 or more carries
/// runs in two levels (<see cref="CarrySegments"/>), so its serial depth is about 2·√(2·C) rather than C.
/// </remarks>
internal sealed class ScanPlan
{
    private ScanPlan(int steps, int chunkLength, float[] impulse, float[] powerT, float[] lastPowerT, float[] adjointPowerT)
    {
        Steps = steps;
        ChunkLength = chunkLength;
        Chunks = (steps + chunkLength - 1) / chunkLength;
        LastLength = steps - (Chunks - 1) * chunkLength;
        Impulse = impulse;
        PowerT = powerT;
        LastPowerT = lastPowerT;
        AdjointPowerT = adjointPowerT;
    }

    /// <summary>T.</summary>
    public int Steps { get; }

    /// <summary>L.</summary>
    public int ChunkLength { get; }

    /// <summary>C = ⌈T/L⌉.</summary>
    public int Chunks { get; }

    /// <summary>Length of the last chunk, 1 … L.</summary>
    public int LastLength { get; }

    /// <summary>h_q = Ā^q·B̄ for q &lt; L, [L, d].</summary>
    public float[] Impulse { get; }

    /// <summary>(Ā^L)ᵀ, d×d: element [j·d + i] = (Ā^L)[i, j] (the layout of <see cref="HostMemoryMath.Advance"/>).</summary>
    public float[] PowerT { get; }

    /// <summary>(Ā^L_r)ᵀ for the last chunk.</summary>
    public float[] LastPowerT { get; }

    /// <summary>((Āᵀ)^L)ᵀ = Ā^L row-major, for the adjoint carries.</summary>
    public float[] AdjointPowerT { get; }

    /// <summary>The same tables for another T with the same L and last-chunk length.</summary>
    public ScanPlan ForSteps(int steps) => steps == Steps ? this : new ScanPlan(steps, ChunkLength, Impulse, PowerT, LastPowerT, AdjointPowerT);

    /// <summary>Picks L for T steps of n = B·k sequences on a worker set that wants <paramref name="columnsWanted"/>
    /// independent chunks; see the class remarks.</summary>
    public static int ChooseChunkLength(int steps, long sequences, int order, long columnsWanted)
    {
        long perColumn = Math.Max(1, (long)steps * sequences / Math.Max(1, columnsWanted));
        int length = 16;
        while (length < perColumn && length < 1024)
        {
            length *= 2;
        }

        // Phase B is serial over the chunks of one sequence: keep it small against the parallel phase C.
        int minimum = order >= 128 ? 32 : 16;
        return Math.Max(length, minimum);
    }

    /// <summary>Builds the tables for T steps with chunk length L (clamped to T).</summary>
    public static ScanPlan Create(LmuSystem system, int steps, int chunkLength)
    {
        int length = Math.Clamp(chunkLength, 1, steps);
        int chunks = (steps + length - 1) / length;
        int last = steps - (chunks - 1) * length;
        double[] h = system.ImpulseResponse(length);
        var a = system.DiscreteAMatrix();
        var power = DoubleProduct.Power(a, length);
        var lastPower = last == length ? power : DoubleProduct.Power(a, last);
        return new ScanPlan(steps, length, ToSingle(h), Transposed(power), Transposed(lastPower), RowMajor(power));
    }

    private static float[] ToSingle(double[] values) => Array.ConvertAll(values, x => (float)x);

    /// <summary>Mᵀ of a square double matrix as floats: element [j·d + i] = M[i, j].</summary>
    internal static float[] Transposed(Matrix<double> m)
    {
        int d = m.RowCount;
        var result = new float[d * d];
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++)
            {
                result[j * d + i] = (float)m[i, j];
            }
        }

        return result;
    }

    /// <summary>A square double matrix as row-major floats: element [i·d + j] = M[i, j].</summary>
    internal static float[] RowMajor(Matrix<double> m)
    {
        int d = m.RowCount;
        var result = new float[d * d];
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++)
            {
                result[i * d + j] = (float)m[i, j];
            }
        }

        return result;
    }
}
