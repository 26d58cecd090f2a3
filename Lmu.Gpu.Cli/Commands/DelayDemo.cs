using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Lmu.Gpu.Cli.Io;

namespace Lmu.Gpu.Cli.Commands;

/// <summary>The computation behind <c>lmu delay</c>, separate from the command so tests can call it.</summary>
internal static class DelayDemo
{
    /// <summary>
    /// The ZOH half-step correction: the system is built with θ' = θ + 0.5 so that the decoded r = 1 output is
    /// u(t − θ), a delay of exactly θ steps.
    /// </summary>
    /// <remarks>
    /// The update m_t = Ā·m_{t−1} + B̄·u_t holds u_t constant over the step (t − 1, t] that ends at t, and that
    /// held signal lags the sampled one by half a step on average. Decoding r = 1 from a system with window θ' therefore
    /// reads u(t − θ' + 0.5). Measured with this demo (seed 1, cutoff 1 cycle per θ, 100,000 steps, noise starting
    /// at 0), NRMSE against u(t − θ) for θ' = θ + 0.5 and θ' = θ: d = 12, θ = 100: 0.00041 and 0.0179; d = 24,
    /// θ = 100: 0.00014 and 0.0179; d = 12, θ = 1000: 0.00080 and 0.0020. The paper's capacity notebook builds θ − 0.5 (nengolib #169);
    /// that follows a different alignment of input and target and is a full step off with this update
    /// convention. The command prints the uncorrected NRMSE (θ' = θ) as well.
    /// </remarks>
    public const double ZohHalfStep = 0.5;

    /// <summary>Demo parameters.</summary>
    public sealed record Options(int Order, double Theta, int Steps, int Seed, double Cutoff)
    {
        /// <summary>Checks the parameters before anything runs.</summary>
        /// <exception cref="ArgumentException">A parameter is out of range.</exception>
        public void Validate()
        {
            LmuSystem.ValidateOrder(Order);
            LmuSystem.ValidateTheta(Theta);
            if (Theta <= 1)
            {
                throw new ArgumentException($"--theta: {Theta:G6} is too short for a delay demo; use θ > 1 step.");
            }

            if (Steps <= Theta + 1)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"--steps: {Steps} steps leave nothing to score; the NRMSE is taken over steps ≥ θ = {Theta:G6}, so use more steps than θ (e.g. 10·θ)."));
            }

            if (!(Cutoff > 0) || !double.IsFinite(Cutoff) || Cutoff / Theta > 0.5)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"--cutoff: {Cutoff:G6} cycles per θ is out of range; use 0 < cutoff ≤ θ/2 (the Nyquist limit)."));
            }

            if (Cutoff * Steps / Theta < 1)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"--cutoff: {Cutoff:G6} cycles per θ over {Steps} steps is less than one cycle: the noise would be zero. Use more steps or a higher cutoff."));
            }
        }
    }

    /// <summary>What the demo measured.</summary>
    /// <param name="Input">The input u_t.</param>
    /// <param name="Decoded">The decoded u(t − θ).</param>
    /// <param name="Target">The true u(t − θ) (linear interpolation for a fractional θ; zero before the start).</param>
    /// <param name="Nrmse">RMS(decoded − target) / RMS(target) over steps ≥ θ.</param>
    /// <param name="FirstScored">The first scored step, ⌈θ⌉.</param>
    /// <param name="RunSeconds">Seconds for building the system and the memory run (device already open).</param>
    /// <param name="UncorrectedNrmse">The same NRMSE for a system built with θ itself (no half-step correction).</param>
    public sealed record Result(double[] Input, float[] Decoded, double[] Target, double Nrmse, int FirstScored, double RunSeconds,
        double UncorrectedNrmse);

    /// <summary>Runs the demo on <paramref name="device"/>.</summary>
    public static Result Run(LmuDevice device, Options options)
    {
        options.Validate();
        // Cutoff in cycles per θ, expressed per the whole signal (windowSteps = T) so that a non-integer θ works too.
        double[] input = Array.ConvertAll(WhiteNoise.BandLimited(options.Steps, options.Cutoff * options.Steps / options.Theta, options.Steps, options.Seed), x => (double)x);
        float[] input32 = Array.ConvertAll(input, x => (float)x);
        var watch = Stopwatch.StartNew();
        float[] decoded = Decode(device, options, input32, options.Theta + ZohHalfStep);
        double seconds = watch.Elapsed.TotalSeconds;
        double[] target = Delayed(input, options.Theta);
        int first = (int)Math.Ceiling(options.Theta);
        double uncorrected = Nrmse(Decode(device, options, input32, options.Theta), target, first);
        return new Result(input, decoded, target, Nrmse(decoded, target, first), first, seconds, uncorrected);
    }

    private static float[] Decode(LmuDevice device, Options options, float[] input, double systemTheta)
    {
        var system = LmuSystem.Create(options.Order, systemTheta);
        using var memory = new LinearMemory(device, system);
        return memory.RunDecoded(input, options.Steps, [1.0]);
    }

    /// <summary>RMS error over steps ≥ <paramref name="first"/> divided by the target's standard deviation there
    /// (not its RMS: the noise starts at 0 and so carries a DC offset that must not flatter the score).</summary>
    private static double Nrmse(float[] decoded, double[] target, int first)
    {
        double mean = 0;
        for (int t = first; t < target.Length; t++)
        {
            mean += target[t];
        }

        mean /= target.Length - first;
        double error = 0, variance = 0;
        for (int t = first; t < target.Length; t++)
        {
            double e = decoded[t] - target[t];
            error += e * e;
            variance += (target[t] - mean) * (target[t] - mean);
        }

        return Math.Sqrt(error / variance);
    }

    private static double[] Delayed(double[] input, double delay)
    {
        var result = new double[input.Length];
        for (int t = 0; t < input.Length; t++)
        {
            double s = t - delay;
            if (s < 0)
            {
                continue;
            }

            int i = (int)Math.Floor(s);
            double f = s - i;
            result[t] = i + 1 < input.Length ? (1 - f) * input[i] + f * input[i + 1] : input[i];
        }

        return result;
    }
}
