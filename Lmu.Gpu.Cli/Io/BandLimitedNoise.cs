using System.Numerics;
using MathNet.Numerics.IntegralTransforms;

namespace Lmu.Gpu.Cli.Io;

/// <summary>
/// Band-limited white noise for the CLI demos: a real signal of N samples whose spectrum has independent complex
/// Gaussian coefficients at the frequencies k/N cycles per step for 1 ≤ k ≤ cutoff·N and zero elsewhere (no DC),
/// made by one inverse FFT and scaled to max |x| = 1 (as the paper's capacity experiment normalises nengo's
/// <c>WhiteSignal</c>). The signal is periodic with period N. Self-contained on purpose, so that the library's
/// generator (<c>Lmu.Gpu.Signals</c>) can replace it in one place.
/// </summary>
internal static class BandLimitedNoise
{
    /// <summary>Generates <paramref name="length"/> samples band-limited to <paramref name="cutoff"/> cycles per step.</summary>
    /// <param name="length">Samples N ≥ 2.</param>
    /// <param name="cutoff">Highest frequency in cycles per step, in (0, 0.5].</param>
    /// <param name="seed">Random seed: the same seed gives the same signal.</param>
    /// <returns>The samples, max |x| = 1.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range, or no frequency fits under the
    /// cutoff (the signal would be zero: N·cutoff &lt; 1).</exception>
    public static double[] Generate(int length, double cutoff, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 2);
        if (!(cutoff > 0) || cutoff > 0.5)
        {
            throw new ArgumentOutOfRangeException(nameof(cutoff), cutoff, "The cutoff must lie in (0, 0.5] cycles per step.");
        }

        int highest = (int)Math.Min(Math.Floor(cutoff * length), (length - 1) / 2);
        if (highest < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length,
                $"{length} steps are too few for a cutoff of {cutoff:G4} cycles per step: the lowest frequency, 1/{length}, is above it.");
        }

        var random = new Random(seed);
        var spectrum = new Complex[length];
        for (int k = 1; k <= highest; k++)
        {
            var c = new Complex(Gaussian(random), Gaussian(random));
            spectrum[k] = c;
            spectrum[length - k] = Complex.Conjugate(c);
        }

        Fourier.Inverse(spectrum, FourierOptions.NoScaling);
        var signal = new double[length];
        double peak = 0;
        for (int i = 0; i < length; i++)
        {
            signal[i] = spectrum[i].Real;
            peak = Math.Max(peak, Math.Abs(signal[i]));
        }

        for (int i = 0; i < length; i++)
        {
            signal[i] /= peak;
        }

        return signal;
    }

    private static double Gaussian(Random random)
    {
        // Box–Muller; 1 − NextDouble() lies in (0, 1], so the logarithm is finite.
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
