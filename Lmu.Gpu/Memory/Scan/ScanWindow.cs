using System.Runtime.CompilerServices;
using MathNet.Numerics.LinearAlgebra;

namespace Lmu.Gpu;

/// <summary>
/// The window (no-carry) start of the scan. The state at step e is m_e = Σ_(k&lt;H) h_k·u_(e−k) + Ā^H·m_(e−H), and
/// ‖Ā^k‖_∞ falls below float32's unit roundoff 2⁻²⁴ at k ≈ 1.6–2.3·θ (in steps; d = 64 … 512, zero-order hold).
/// Where θ ≪ T a state can therefore be computed from its last H inputs alone, with no carry from before them: the
/// omitted term Ā^H·m_(e−H) is at most 2⁻²⁴·‖m_(e−H)‖_∞, the size of one float32 rounding of the state H steps
/// earlier. That makes a final-only run cost 2·H·d per sequence instead of about 2·T·d, and lets the device compute
/// the carries of its chunks in parallel instead of in a serial chain.
/// </summary>
/// <remarks>
/// The window is used only where 2·H ≤ T (<see cref="For(LmuSystem, int, bool)"/>). A state whose window reaches back before step 0 takes
/// the inputs it has (which is exact) plus Ā^(e+1)·m_(−1) from the initial state; where that term is not already
/// negligible (e + 1 &lt; 2·H and a nonzero initial state) the scan chains those early carries as before. H is found
/// in double by repeated squaring and a short bisection (log₂ H + 5 products of d×d matrices: 0.5 s at d = 256, 2.7 s
/// at d = 512 on a 2-core VM) and cached per system, and only for runs long enough that the window can apply.
/// </remarks>
internal static class ScanWindow
{
    /// <summary>The bound on ‖Ā^H‖_∞: 2⁻²⁴, float32's unit roundoff.</summary>
    public const double Tolerance = 1.0 / (1 << 24);

    /// <summary>The longest horizon searched (2²⁴ steps); slower-decaying or unstable systems get none.</summary>
    public const int MaxHorizon = 1 << 24;

    private static readonly ConditionalWeakTable<LmuSystem, StrongBox<int>> Horizons = new();

    /// <summary>The largest order for which H is computed without being asked (the force argument of
    /// <see cref="For(LmuSystem, int, bool)"/>): the largest order. Finding H costs about 2.7 s at d = 512 and, by d³, about 20 s at
    /// d = 1,024 on the 2-core VM.</summary>
    public const int AutomaticMaxOrder = 512;

    /// <summary>H for a run of <paramref name="steps"/> steps where the window applies (2·H ≤ T), else 0. Runs shorter
    /// than 2·θ/dt are answered without computing H (which is at least θ/dt for every LMU measured), and so are orders
    /// above <see cref="AutomaticMaxOrder"/> unless H is known or <paramref name="force"/> is set.</summary>
    /// <param name="system">The discretised system.</param>
    /// <param name="steps">T.</param>
    /// <param name="force">Compute H whatever the order (<see cref="ScanWindowUse.Always"/>).</param>
    /// <returns>H, or 0 for the chained scan.</returns>
    public static int For(LmuSystem system, int steps, bool force = false)
    {
        if (steps < 2.0 * system.Theta / system.Dt)
        {
            return 0;
        }

        if (!force && system.Order > AutomaticMaxOrder && !Horizons.TryGetValue(system, out _))
        {
            return 0;
        }

        int horizon = Horizon(system);
        return horizon > 0 && 2L * horizon <= steps ? horizon : 0;
    }

    /// <summary><see cref="For(LmuSystem, int, bool)"/> under a setting: 0 for <see cref="ScanWindowUse.Never"/>, H
    /// computed whatever the order for <see cref="ScanWindowUse.Always"/>.</summary>
    /// <param name="system">The discretised system.</param>
    /// <param name="steps">T.</param>
    /// <param name="use">The engine's setting.</param>
    /// <returns>H, or 0 for the chained scan.</returns>
    public static int For(LmuSystem system, int steps, ScanWindowUse use) =>
        use == ScanWindowUse.Never ? 0 : For(system, steps, force: use == ScanWindowUse.Always);

    /// <summary>A k with ‖Ā^k‖_∞ ≤ <see cref="Tolerance"/>, at most 1/16 above the smallest such k, or 0 when there is
    /// none up to <see cref="MaxHorizon"/> (θ of millions of steps). Computed once per system.</summary>
    /// <param name="system">The discretised system.</param>
    /// <returns>H ≥ 1, or 0.</returns>
    public static int Horizon(LmuSystem system) => Horizons.GetValue(system, s => new StrongBox<int>(Compute(s))).Value;

    /// <summary>h_k = Ā^k·B̄ for k &lt; H as floats, [H, d] (computed in double, rounded once).</summary>
    /// <param name="system">The discretised system.</param>
    /// <param name="horizon">H.</param>
    /// <returns>H·d floats.</returns>
    public static float[] Impulse(LmuSystem system, int horizon) => Array.ConvertAll(system.ImpulseResponse(horizon), x => (float)x);

    /// <summary>How many leading chunks of length L keep the chained carries where the initial state is not zero: those
    /// whose end e = (c + 1)·L − 1 has e + 1 &lt; 2·H, so that Ā^(e+1)·m_(−1) may still matter.</summary>
    /// <param name="horizon">H.</param>
    /// <param name="chunkLength">L.</param>
    /// <param name="chunks">C.</param>
    /// <returns>K in 0 … C.</returns>
    public static int ChainedChunks(int horizon, int chunkLength, int chunks) =>
        (int)Math.Min(chunks, Math.Max(0, ((2L * horizon) + chunkLength - 1) / chunkLength - 1));

    private static int Compute(LmuSystem system)
    {
        var a = system.DiscreteAMatrix();

        // powers[j] = Ā^(2^j), squared until one is within the tolerance.
        var powers = new List<Matrix<double>> { a };
        while (!Within(powers[^1]))
        {
            if ((1L << powers.Count) > MaxHorizon || !double.IsFinite(powers[^1].InfinityNorm()))
            {
                return 0;
            }

            powers.Add(DoubleProduct.Multiply(powers[^1], powers[^1]));
        }

        int top = powers.Count - 1;
        if (top == 0)
        {
            return 1;
        }

        // Ā^(2^(top−1)) is above the tolerance and Ā^(2^top) within it. The next RefinedBits bits of H are found by
        // bisection (the norm falls with k past its transient): the largest multiple k of 2^low above the tolerance,
        // then H = k + 2^low, checked, else 2^top. H is then at most 1/2^RefinedBits above the smallest k (the window
        // is cheap; the d×d products are not), for top + RefinedBits + 1 products instead of 2·top + 1.
        int low = Math.Max(0, top - 1 - RefinedBits);
        var below = powers[top - 1];
        int k = 1 << (top - 1);
        for (int j = top - 2; j >= low; j--)
        {
            var candidate = DoubleProduct.Multiply(below, powers[j]);
            if (!Within(candidate))
            {
                below = candidate;
                k += 1 << j;
            }
        }

        int horizon = k + (1 << low);
        return horizon < 1 << top && Within(DoubleProduct.Multiply(below, powers[low])) ? horizon : 1 << top;
    }

    /// <summary>Bits of H found by bisection below its leading one: H exceeds the smallest k by at most 1/16 of H.</summary>
    private const int RefinedBits = 4;

    private static bool Within(Matrix<double> m) => m.InfinityNorm() <= Tolerance;
}
