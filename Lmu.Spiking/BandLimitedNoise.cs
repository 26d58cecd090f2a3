using Lmu.Gpu;
using Lmu.Gpu.Kernels.Spiking;

namespace Lmu.Spiking;

/// <summary>Band-limited white noise like Nengo's <c>WhiteSignal</c>: a random Fourier series over the frequencies
/// k/(T·dt) up to a cutoff, Gaussian coefficients from Philox (stream 4), scaled to a given RMS.</summary>
public static class BandLimitedNoise
{
    /// <summary>Generates <paramref name="batch"/> independent signals of <paramref name="steps"/> steps.</summary>
    /// <param name="steps">T ≥ 1.</param>
    /// <param name="batch">B ≥ 1.</param>
    /// <param name="dt">The time step in seconds.</param>
    /// <param name="cutoffHz">The highest frequency, ≥ 1/(T·dt).</param>
    /// <param name="rms">The RMS of each signal, &gt; 0.</param>
    /// <param name="seed">The seed.</param>
    /// <returns>The signals, step-major: element [t·B + b].</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range or NaN.</exception>
    public static float[] Generate(int steps, int batch, double dt, double cutoffHz, double rms, ulong seed)
    {
        if (steps < 1 || batch < 1 || (long)steps * batch > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(steps), steps, "Need steps ≥ 1, batch ≥ 1 and steps·batch within an array.");
        }

        SpikingValidation.TimeStep(dt);
        double period = steps * dt;
        int components = (int)Math.Floor(cutoffHz * period);
        if (!(cutoffHz > 0) || double.IsInfinity(cutoffHz) || components < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(cutoffHz), cutoffHz, $"The cutoff must be ≥ 1/(T·dt) = {1 / period:G4} Hz.");
        }

        if (!(rms > 0) || double.IsInfinity(rms))
        {
            throw new ArgumentOutOfRangeException(nameof(rms), rms, "The RMS must be a finite number > 0.");
        }

        var result = new float[(long)steps * batch];
        HostThreads.For(batch, b =>
        {
            var cos = new double[components];
            var sin = new double[components];
            for (int k = 0; k < components; k++)
            {
                var x = Philox4x32.ForBlock(seed, (long)b * components + k, 0, PhiloxStreams.Signal);
                double r = Math.Sqrt(-2 * Math.Log((x.X0 + 0.5) / 4294967296.0));
                double r2 = Math.Sqrt(-2 * Math.Log((x.X2 + 0.5) / 4294967296.0));
                cos[k] = r * Math.Cos(2 * Math.PI * (x.X1 / 4294967296.0));
                sin[k] = r2 * Math.Cos(2 * Math.PI * (x.X3 / 4294967296.0));
            }

            var signal = new double[steps];
            double sumSquares = 0;
            for (int t = 0; t < steps; t++)
            {
                double value = 0;
                for (int k = 0; k < components; k++)
                {
                    double phase = 2 * Math.PI * (k + 1) * t / steps;
                    value += cos[k] * Math.Cos(phase) + sin[k] * Math.Sin(phase);
                }

                signal[t] = value;
                sumSquares += value * value;
            }

            double scale = rms / Math.Sqrt(sumSquares / steps);
            for (int t = 0; t < steps; t++)
            {
                result[(long)t * batch + b] = (float)(signal[t] * scale);
            }
        });
        return result;
    }
}
