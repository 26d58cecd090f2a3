using System.Numerics;
using MathNet.Numerics.IntegralTransforms;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Foundation;

[TestFixture]
public class WhiteNoiseTests
{
    [Test]
    public void Spectrum_IsZeroAboveTheCutoff()
    {
        // 4096 samples, window 1024, 10 cycles per window: bins k ≤ 40 are in band; the DC bin holds the y0 = 0 shift.
        const int N = 4096;
        float[] x = WhiteNoise.BandLimited(N, 10, 1024, 5);
        var spectrum = x.Select(v => new Complex(v, 0)).ToArray();
        Fourier.Forward(spectrum, FourierOptions.NoScaling);
        double inBand = 0, outOfBand = 0;
        for (int k = 1; k <= N / 2; k++)
        {
            double p = spectrum[k].Magnitude * spectrum[k].Magnitude;
            if (k <= 40)
            {
                inBand += p;
            }
            else
            {
                outOfBand += p;
            }
        }

        // float32 samples: out-of-band power is rounding noise, ~1e-14 of the in-band power.
        Assert.That(outOfBand / inBand, Is.LessThan(1e-10));
    }

    [Test]
    public void Normalised_StartsAtZero_Deterministic_SeedDependent()
    {
        float[] a = WhiteNoise.BandLimited(1000, 2, 100, 1);
        float[] b = WhiteNoise.BandLimited(1000, 2, 100, 1);
        float[] c = WhiteNoise.BandLimited(1000, 2, 100, 2);
        Assert.Multiple(() =>
        {
            Assert.That(a.Max(Math.Abs), Is.EqualTo(1f).Within(1e-6));
            Assert.That(a[0], Is.EqualTo(0f));
            Assert.That(a, Is.EqualTo(b));
            Assert.That(a, Is.Not.EqualTo(c));
            Assert.That(a.All(float.IsFinite), Is.True);
        });
    }

    [TestCase(1, 1.0, 10)]
    [TestCase(100, 0.0, 10)]
    [TestCase(100, double.NaN, 10)]
    [TestCase(100, 1.0, 0)]
    [TestCase(10, 0.05, 10)]
    public void BandLimited_ThrowsForTooShortOrBadCutoff(int steps, double cycles, int window)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => WhiteNoise.BandLimited(steps, cycles, window, 1));
    }
}
