namespace Lmu.Gpu;

/// <summary>Shifted Legendre polynomials P̃ᵢ(r) = Pᵢ(2r − 1) on [0, 1], the LMU's decoders.</summary>
public static class ShiftedLegendre
{
    /// <summary>Returns the decoder vector c with cᵢ = P̃ᵢ(r) for i &lt; <paramref name="order"/>, so that
    /// u(t − r·θ) ≈ Σ cᵢ·mᵢ(t).</summary>
    /// <param name="order">The memory order d (1 … <see cref="LmuSystem.MaxOrder"/>).</param>
    /// <param name="r">The delay as a fraction of θ, in [0, 1]: 0 is the current input, 1 the input θ ago.</param>
    /// <returns>A new array of length <paramref name="order"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="order"/> is out of range, or
    /// <paramref name="r"/> is NaN or outside [0, 1].</exception>
    /// <remarks>Evaluated by Bonnet's three-term recurrence in double, which is stable on [−1, 1].</remarks>
    public static double[] Evaluate(int order, double r)
    {
        LmuSystem.ValidateOrder(order);
        if (!(r >= 0 && r <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(r), r, "The delay fraction r must be in [0, 1].");
        }

        var c = new double[order];
        double x = 2 * r - 1;
        double previous = 1, current = x;
        c[0] = 1;
        if (order > 1)
        {
            c[1] = x;
        }

        for (int n = 1; n + 1 < order; n++)
        {
            double next = ((2 * n + 1) * x * current - n * previous) / (n + 1);
            previous = current;
            current = next;
            c[n + 1] = next;
        }

        return c;
    }

    /// <summary>Returns the decoders for several delays as a row-major matrix (one row of length
    /// <paramref name="order"/> per delay).</summary>
    /// <param name="order">The memory order d.</param>
    /// <param name="delays">Delay fractions in [0, 1].</param>
    /// <returns>A new array of length delays.Length·order.</returns>
    /// <exception cref="ArgumentException"><paramref name="delays"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An order or delay is out of range.</exception>
    public static double[] EvaluateMany(int order, ReadOnlySpan<double> delays)
    {
        if (delays.IsEmpty)
        {
            throw new ArgumentException("At least one delay is needed.", nameof(delays));
        }

        var result = new double[delays.Length * order];
        for (int q = 0; q < delays.Length; q++)
        {
            Evaluate(order, delays[q]).CopyTo(result, q * order);
        }

        return result;
    }
}
