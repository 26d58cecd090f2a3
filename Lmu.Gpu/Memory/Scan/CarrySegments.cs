using MathNet.Numerics.LinearAlgebra;

namespace Lmu.Gpu;

/// <summary>
/// Phase B of the device scan in two levels. The carries S_c = P·S_(c−1) + s_c (P = Ā^L) are a linear recurrence
/// over the C chunks of a sequence, so they can be scanned in chunks themselves: segments of G chunks each
/// (1) find their end from zero, G lock-step steps for all segments at once; (2) chain those ends across the
/// S = ⌈C/G⌉ segments with Q = P^G, S serial steps; (3) rerun their G steps from the carry before them, writing every
/// chunk's carry. The serial depth falls from C to 2·G + S (at C = 1,563 and G = 9: 9 + 174 + 9) for twice the
/// arithmetic of phase B, which is small against phase C; <see cref="ChooseSegment"/> weighs the lock-step steps
/// of (1) and (3) by their measured cost.
/// </summary>
/// <remarks>
/// One row of a segment's lock-step product feeds many columns (segments of all sequences), so steps (1) and (3) read
/// P once per tile of columns instead of once per sequence. The powers are computed in double and rounded once.
/// </remarks>
internal static class CarrySegments
{
    /// <summary>What one step of levels (1) and (3) costs in steps of level (2)'s serial chain. Levels (1) and (3) are
    /// lock-step products over few groups (one per tile of segment columns), level (2) one matrix-vector product per
    /// sequence; on an H200 at d = 256, B = 1, T = 10⁵ (C = 1,563) a level-1/3 step took about 65 µs and a level-2 step
    /// about 6.5 µs (phase B at G = 16 and 28, run 9 in docs/benchmarks/gpu-h200.md).</summary>
    public const int LockStepCost = 10;

    /// <summary>G for a chain of <paramref name="serialSteps"/> carries: ⌈√(n / (2·r))⌉ with r =
    /// <see cref="LockStepCost"/>, which minimises the weighted depth 2·r·G + ⌈n/G⌉; 0 (one serial pass) where that
    /// depth is not below n (chains of fewer than about 100 carries).</summary>
    /// <remarks>Measured on the H200 (whole scan, d = 256 unless said; run 9 with fixed G, run 10 with this rule):
    /// B = 1, C = 1,563: G = 9 (this rule) 2.8 ms against 4.7 ms at the earlier ⌈√(n/2)⌉ = 28; C = 15,625: G = 16 or 30
    /// 12.0 ms and this rule's 28 11.9 ms, against 18.4 ms at 89; d = 64, C = 3,125: G = 8 0.64 ms and this rule's 13
    /// 0.66 ms, against 1.22 ms at 40; B = 64: G = 9 40.7 ms against 41.5 ms at 28.</remarks>
    /// <param name="serialSteps">The number of carries chained one after another.</param>
    /// <returns>Chunks per segment, or 0 for a single serial pass.</returns>
    public static int ChooseSegment(int serialSteps)
    {
        int g = Math.Max(2, (int)Math.Ceiling(Math.Sqrt(serialSteps / (2.0 * LockStepCost))));
        long weightedDepth = (2L * LockStepCost * g) + ((serialSteps + g - 1) / g);
        return g < serialSteps && weightedDepth < serialSteps ? g : 0;
    }

    /// <summary>The serial depth of a chain of <paramref name="serialSteps"/> carries under <see cref="ChooseSegment"/>,
    /// in level-2 steps: 2·r·G + ⌈n/G⌉, or n for one serial pass.</summary>
    /// <param name="serialSteps">The number of carries chained one after another.</param>
    /// <returns>The weighted depth.</returns>
    public static long WeightedDepth(int serialSteps)
    {
        int g = ChooseSegment(serialSteps);
        return g == 0 ? serialSteps : (2L * LockStepCost * g) + ((serialSteps + g - 1) / g);
    }

    /// <summary>The segment powers of the forward carries.</summary>
    /// <param name="system">The discretised system.</param>
    /// <param name="chunkLength">L.</param>
    /// <param name="segment">G.</param>
    /// <param name="lastSegment">Chunks in the chain's last segment, 1 … G.</param>
    /// <returns>(Ā^(L·G))ᵀ and (Ā^(L·G_r))ᵀ, d×d each, in the layout of <see cref="ScanPlan.PowerT"/>.</returns>
    public static (float[] PowerT, float[] LastPowerT) ForwardPowers(LmuSystem system, int chunkLength, int segment, int lastSegment)
    {
        var chunk = ChunkPower(system, chunkLength);
        var power = DoubleProduct.Power(chunk, segment);
        var last = lastSegment == segment ? power : DoubleProduct.Power(chunk, lastSegment);
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
        ScanPlan.Transposed(DoubleProduct.Power(ChunkPower(system, chunkLength), segment).Transpose());

    private static Matrix<double> ChunkPower(LmuSystem system, int chunkLength) => system.DiscreteAPower(chunkLength);
}
