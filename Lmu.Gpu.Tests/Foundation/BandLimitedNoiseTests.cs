using System.Numerics;
using Lmu.Gpu.Cli.Io;
using MathNet.Numerics.IntegralTransforms;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Foundation;

[TestFixture]
public class BandLimitedNoiseTests
{
    [Test]
    public void Spectrum_IsZeroAboveTheCutoff_AndHasNoDc()
    {
        const int N = 4096;
        const double Cutoff = 0.01;
        double[] x = BandLimitedNoise.Generate(N, Cutoff, 5);
        var spectrum = x.Select(v => new Complex(v, 0)).ToArray();
        Fourier.Forward(spectrum, FourierOptions.NoScaling);
        double inBand = 0, outOfBand = 0;
        for (int k = 0; k <= N / 2; k++)
        {
            double p = spectrum[k].Magnitude * spectrum[k].Magnitude;
            if (k >= 1 && k <= Cutoff * N)
            {
                inBand += p;
            }
            else
            {
                outOfBand += p;
            }
        }

        Assert.That(outOfBand / inBand, Is.LessThan(1e-20));
    }

    [Test]
    public void Normalised_Deterministic_SeedDependent()
    {
        double[] a = BandLimitedNoise.Generate(1000, 0.02, 1);
        double[] b = BandLimitedNoise.Generate(1000, 0.02, 1);
        double[] c = BandLimitedNoise.Generate(1000, 0.02, 2);
        Assert.Multiple(() =>
        {
            Assert.That(a.Max(Math.Abs), Is.EqualTo(1.0).Within(1e-15));
            Assert.That(a, Is.EqualTo(b));
            Assert.That(a, Is.Not.EqualTo(c));
            Assert.That(a.All(double.IsFinite), Is.True);
        });
    }

    [TestCase(10, 0.05)]
    [TestCase(1, 0.1)]
    [TestCase(100, 0.0)]
    [TestCase(100, 0.6)]
    public void TooShortOrBadCutoff_Throws(int length, double cutoff)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BandLimitedNoise.Generate(length, cutoff, 1));
    }
}
