using Lmu.Gpu.Cli.Io;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Foundation;

/// <summary>The LMU as a delay line through the public <see cref="LinearMemory"/> API: band-limited noise decoded
/// at several delay fractions against the true delayed input (the paper's capacity task, LMU-0).</summary>
[TestFixture]
public class DelayLineTests
{
    private static double Nrmse(float[] decoded, int q, int column, double[] input, double delay, int first)
    {
        // RMS error over the target's standard deviation (the noise starts at 0, so it has a DC offset).
        var targets = new double[input.Length - first];
        for (int t = first; t < input.Length; t++)
        {
            double s = t - delay;
            int i = (int)Math.Floor(s);
            double f = s - i;
            targets[t - first] = (1 - f) * input[i] + f * input[Math.Min(i + 1, input.Length - 1)];
        }

        double mean = targets.Average();
        double error = 0, variance = 0;
        for (int t = first; t < input.Length; t++)
        {
            double e = decoded[t * q + column] - targets[t - first];
            error += e * e;
            variance += (targets[t - first] - mean) * (targets[t - first] - mean);
        }

        return Math.Sqrt(error / variance);
    }

    [TestCase(AcceleratorKind.Cpu, 16, 200.0, 20_000, 0.01)]
    [TestCase(AcceleratorKind.CpuSimulator, 8, 40.0, 800, 0.05)]
    public void DecodedDelays_TrackTheDelayedInput(AcceleratorKind kind, int order, double theta, int steps, double bound)
    {
        double[] input = Array.ConvertAll(WhiteNoise.BandLimited(steps, 1.0, (int)theta, 3), x => (double)x);
        float[] input32 = Array.ConvertAll(input, x => (float)x);
        double[] delays = [1.0, 0.5, 0.25];
        using var device = LmuDevice.Open(kind);
        // θ + 0.5: the ZOH half-step correction (see DelayDemo.ZohHalfStep), so that r = 1 decodes u(t − θ).
        var system = LmuSystem.Create(order, theta + 0.5);
        using var memory = new LinearMemory(device, system);
        float[] decoded = memory.RunDecoded(input32, steps, delays);
        int first = (int)Math.Ceiling(theta);
        Assert.Multiple(() =>
        {
            for (int j = 0; j < delays.Length; j++)
            {
                // A fraction r of the window θ' = θ + 0.5, less the half step the held input lags.
                double delay = delays[j] * (theta + 0.5) - 0.5;
                Assert.That(Nrmse(decoded, delays.Length, j, input, delay, first), Is.LessThan(bound), $"r = {delays[j]}");
            }
        });
    }

    [Test]
    public void ZohDecodesHalfAStepLessThanTheta()
    {
        const int Steps = 20_000;
        const double Theta = 100;
        double[] input = Array.ConvertAll(WhiteNoise.BandLimited(Steps, 1.0, (int)Theta, 4), x => (double)x);
        using var device = LmuDevice.Open(AcceleratorKind.Cpu);
        using var memory = new LinearMemory(device, LmuSystem.Create(24, Theta));
        float[] decoded = memory.RunDecoded(Array.ConvertAll(input, x => (float)x), Steps, [1.0]);
        double atHalf = Nrmse(decoded, 1, 0, input, Theta - 0.5, 100);
        double atTheta = Nrmse(decoded, 1, 0, input, Theta, 100);
        Assert.That(atHalf, Is.LessThan(atTheta / 3), $"θ − 0.5: {atHalf}, θ: {atTheta}");
    }
}
