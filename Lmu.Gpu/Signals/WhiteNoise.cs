using System.Numerics;
using MathNet.Numerics.IntegralTransforms;

namespace Lmu.Gpu;

/// <summary>Band-limited white noise, as nengo.processes.WhiteSignal makes it: random Fourier coefficients up to a
/// cutoff frequency, transformed back to time by an inverse FFT.</summary>
public static class WhiteNoise
{
    /// <summary>
    /// A band-limited white-noise signal of <paramref name="steps"/> samples, periodic over its length: every
    /// frequency bin f_k = k cycles per <paramref name="steps"/> samples (k ≥ 1) whose rate in cycles per
    /// <paramref name="windowSteps"/> samples, k·windowSteps/steps, is at most <paramref name="cyclesPerWindow"/> gets
    /// an independent complex Gaussian coefficient; the DC bin and all higher bins are zero. The signal is the real
    /// inverse FFT, shifted so that it starts at 0 (nengo's y0 = 0) and scaled so that max |u| = 1.
    /// </summary>
    /// <param name="steps">Samples, ≥ 2.</param>
    /// <param name="cyclesPerWindow">The cutoff frequency in cycles per window (&gt; 0): with dt = 1/windowSteps s,
    /// this is the cutoff in Hz (the capacity task uses 10 Hz over a 1 s window of T steps).</param>
    /// <param name="windowSteps">Samples per window (≥ 1), e.g. T in the capacity task.</param>
    /// <param name="seed">The random seed; the same arguments and seed give the same signal.</param>
    /// <returns>A new array of <paramref name="steps"/> values with max |u| = 1.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range, or the cutoff keeps no frequency
    /// (it is below one cycle per <paramref name="steps"/> samples).</exception>
    public static float[] BandLimited(int steps, double cyclesPerWindow, int windowSteps, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(windowSteps, 1);
        if (!(cyclesPerWindow > 0) || double.IsInfinity(cyclesPerWindow))
        {
            throw new ArgumentOutOfRangeException(nameof(cyclesPerWindow), cyclesPerWindow, "The cutoff must be a finite number > 0.");
        }

        int highest = (int)Math.Min(steps / 2, Math.Floor(cyclesPerWindow * steps / windowSteps + 1e-9));
        if (highest < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(cyclesPerWindow), cyclesPerWindow,
                $"A cutoff of {cyclesPerWindow} cycles per {windowSteps} samples keeps no frequency of a {steps}-sample signal.");
        }

        var rng = new Random(seed);
        var spectrum = new Complex[steps];
        for (int k = 1; k <= highest; k++)
        {
            var c = new Complex(Gaussian(rng), Gaussian(rng));
            if (2 * k == steps)
            {
                c = new Complex(c.Real, 0); // the Nyquist bin of an even length is real
            }

            spectrum[k] = c;
            if (2 * k != steps)
            {
                spectrum[steps - k] = Complex.Conjugate(c);
            }
        }

        Fourier.Inverse(spectrum, FourierOptions.NoScaling);
        var signal = new float[steps];
        double first = spectrum[0].Real, peak = 0;
        for (int t = 0; t < steps; t++)
        {
            peak = Math.Max(peak, Math.Abs(spectrum[t].Real - first));
        }

        for (int t = 0; t < steps; t++)
        {
            signal[t] = (float)((spectrum[t].Real - first) / peak);
        }

        return signal;
    }

    private static double Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble();
        double u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
