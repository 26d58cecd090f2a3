namespace Lmu.Spiking;

/// <summary>Errors of a spiking LMU run against the exact memory.</summary>
/// <param name="DelayRmse">RMSE of the decoded delay Σ P_i(1)·x̂_i against Σ P_i(1)·x_i.</param>
/// <param name="DelayNrmse">That RMSE divided by the RMS of the exact decoded delay.</param>
/// <param name="StateNrmse">‖x̂ − x‖ / ‖x‖ over all steps, LMUs and dimensions.</param>
public sealed record SpikingLmuError(double DelayRmse, double DelayNrmse, double StateNrmse)
{
    /// <summary>Compares decoded states with the exact ones (same layout [(t·B + b)·d + i]).</summary>
    /// <param name="system">The LMU system (for the delay decoder P_i(1)).</param>
    /// <param name="states">The spiking states.</param>
    /// <param name="exact">The exact states.</param>
    /// <returns>The errors.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The lengths differ or are not a multiple of d.</exception>
    public static SpikingLmuError Compute(Gpu.LmuSystem system, IReadOnlyList<float> states, IReadOnlyList<double> exact)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(states);
        ArgumentNullException.ThrowIfNull(exact);
        int d = system.Order;
        if (states.Count != exact.Count || states.Count % d != 0 || states.Count == 0)
        {
            throw new ArgumentException("states and exact must have the same non-zero length, a multiple of d.", nameof(exact));
        }

        var decoder = system.Decoder(1.0);
        double delayError = 0, delayNorm = 0, stateError = 0, stateNorm = 0;
        int rows = states.Count / d;
        for (int row = 0; row < rows; row++)
        {
            double yHat = 0, y = 0;
            for (int i = 0; i < d; i++)
            {
                double xh = states[row * d + i];
                double x = exact[row * d + i];
                yHat += decoder[i] * xh;
                y += decoder[i] * x;
                stateError += (xh - x) * (xh - x);
                stateNorm += x * x;
            }

            delayError += (yHat - y) * (yHat - y);
            delayNorm += y * y;
        }

        return new SpikingLmuError(Math.Sqrt(delayError / rows), Math.Sqrt(delayError / Math.Max(delayNorm, double.Epsilon)),
            Math.Sqrt(stateError / Math.Max(stateNorm, double.Epsilon)));
    }
}
