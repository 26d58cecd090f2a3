using MathNet.Numerics.LinearAlgebra;

namespace Lmu.Gpu;

/// <summary>
/// Phase B of the device scan in two levels. The carries S_c = P·S_(c−1) + s_c (P = Ā^L) are a linear recurrence
/// over the C chunks of a sequence, so they can be scanned in chunks themselves: segments of G chunks each
/// (1) find their end from zero, G lock-step steps for all segments at once; (2) chain those ends across the
/// S = ⌈C/G⌉ segments with Q = P^G, S serial steps; (3) rerun their G steps from the carry before them, writing every
/// chunk's carry. The serial depth falls from C to 2·G + S (at C = 1,563: 28 + 56 + 28 = 112) for twice the
/// arithmetic of phase B, which is small against phase C.
/// </summary>
/// <remarks>
/// One row of a segment's lock-step product feeds many columns (segments of all sequences), so steps (1) and (3) read
/// P once per tile of columns instead of once per sequence. The powers are computed in double and rounded once.
/// </remarks>
internal static class CarrySegments
{
    /// <summary>Below this many serial carry steps a single serial pass is as fast (three launches cost more).</summary>
    public const int MinimumSerialSteps = 48;

    /// <summary>G for a chain of <paramref name="serialSteps"/> carries: ⌈√(n/2)⌉, which minimises 2·G + n/G; 0 (one
    /// level) below <see cref="MinimumSerialSteps"/>.</summary>
    /// <param name="serialSteps">The number of carries chained one after another.</param>
    /// <returns>Chunks per segment, or 0 for a single serial pass.</returns>
    public static int ChooseSegment(int serialSteps) =>
        serialSteps < MinimumSerialSteps ? 0 : Math.Max(2, (int)Math.Ceiling(Math.Sqrt(serialSteps / 2.0)));

    /// <summary>The segment powers of the forward carries.</summary>
    /// <param name="system">The discretised system.</param>
    /// <param name="chunkLength">L.</param>
    /// <param name="segment">G.</param>
    /// <param name="lastSegment">Chunks in the chain's last segment, 1 … G.</param>
    /// <returns>(Ā^(L·G))ᵀ and (Ā^(L·G_r))ᵀ, d×d each, in the layout of <see cref="ScanPlan.PowerT"/>.</returns>
    public static (float[] PowerT, float[] LastPowerT) ForwardPowers(LmuSystem system, int chunkLength, int segment, int lastSegment)
    {
        var chunk = ChunkPower(system, chunkLength);
        var power = chunk.Power(segment);
        var last = lastSegment == segment ? power : chunk.Power(lastSegment);
        return (ScanPlan.Transposed(power), ScanPlan.Transposed(last));
    }

    /// <summary>The segment power of the adjoint carries: ((Āᵀ)^(L·G))ᵀ = Ā^(L·G) row-major, in the layout of
    /// <see cref="ScanPlan.AdjointPowerT"/>. The adjoint passes only through whole segments, so it needs no last
    /// power.</summary>
    /// <param name="system">The discretised system.</param>
    /// <param name="chunkLength">L.</param>
    /// <param name="segment">G.</param>
    /// <returns>d×d floats.</returns>
    public static float[] AdjointPower(LmuSystem system, int chunkLength, int segment) =>
        ScanPlan.Transposed(ChunkPower(system, chunkLength).Power(segment).Transpose());

    private static Matrix<double> ChunkPower(LmuSystem system, int chunkLength)
    {
        int d = system.Order;
        return Matrix<double>.Build.Dense(d, d, (i, j) => system.DiscreteA[i * d + j]).Power(chunkLength);
    }
}
