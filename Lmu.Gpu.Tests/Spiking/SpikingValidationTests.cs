using Lmu.Spiking;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Spiking;

public class SpikingValidationTests
{
    [TestCase(-1.0)]
    [TestCase(double.NaN)]
    [TestCase(double.PositiveInfinity)]
    [TestCase(5000.0)]
    public void PoissonPopulation_ThrowsForBadRate(double rate)
    {
        using var device = LmuDevice.Open(AcceleratorKind.Cpu);
        Assert.Throws<ArgumentOutOfRangeException>(() => PoissonPopulation.Create(device, 10, rate, 0.001));
    }

    [TestCase(0L)]
    [TestCase(-5L)]
    [TestCase(1L << 40)]
    [TestCase(long.MaxValue)]
    public void PoissonPopulation_ThrowsForNeuronCountsThatDoNotFit(long neurons)
    {
        using var device = LmuDevice.Open(AcceleratorKind.Cpu);
        Assert.Throws<ArgumentOutOfRangeException>(() => PoissonPopulation.Create(device, neurons, 20));
    }

    [Test]
    public void LifPopulation_ThrowsForMemoryOverflow()
    {
        using var device = LmuDevice.Open(AcceleratorKind.Cpu);
        Assert.Throws<ArgumentOutOfRangeException>(() => LifPopulation.Create(device, 2_000_000_000L, 2.0));
    }

    [Test]
    public void LifPopulation_ThrowsForNaNCurrent()
    {
        using var device = LmuDevice.Open(AcceleratorKind.Cpu);
        Assert.Throws<ArgumentOutOfRangeException>(() => LifPopulation.Create(device, [1f, float.NaN]));
    }

    [TestCase(0.0)]
    [TestCase(-0.01)]
    [TestCase(double.NaN)]
    [TestCase(0.001)]
    [TestCase(0.0005)]
    public void LowpassSynapse_ThrowsForTauNotAboveDt(double tau)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new LowpassSynapse(tau, 0.001));
    }

    [Test]
    public void LowpassSynapse_StepsTowardTheInput()
    {
        var synapse = new LowpassSynapse(0.01, 0.001);
        var state = new float[3];
        synapse.Step(state, [1f, 1f, 1f]);
        Assert.That(state[0], Is.EqualTo(1 - Math.Exp(-0.1)).Within(1e-6));
    }

    [Test]
    public void LifModel_ThrowsForDtNotBelowTauRc()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new LifModel(dt: 0.02, tauRc: 0.02));
    }

    [Test]
    public void SpikingLmu_ThrowsForTauNotAboveDt()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SpikingLmu.Create(new SpikingLmuOptions
        {
            Order = 2, Theta = 0.5, NeuronsPerDimension = 10, Tau = 0.001,
        }));
    }

    [Test]
    public void SpikingLmu_ThrowsForNegativeRates()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SpikingLmu.Create(new SpikingLmuOptions
        {
            Order = 2, Theta = 0.5, NeuronsPerDimension = 10, MaxRateLow = -5,
        }));
    }

    [Test]
    public void SpikingLmu_ThrowsForNaNInput()
    {
        var lmu = SpikingLmu.Create(new SpikingLmuOptions { Order = 2, Theta = 0.5, NeuronsPerDimension = 10 });
        using var device = LmuDevice.Open(AcceleratorKind.Cpu);
        Assert.Throws<ArgumentException>(() => lmu.Run(device, [0f, float.NaN]));
    }

    [Test]
    public void DecoderSolver_ThrowsWhenNoNeuronFires()
    {
        Assert.Throws<ArgumentException>(() => DecoderSolver.LstsqL2(3, [0.0, 1.0], (_, _) => 0.0));
    }

    [Test]
    public void BenchNeuronsCli_RejectsNegativeRate()
    {
        int code = global::Lmu.Gpu.Cli.Program.BuildRoot().Parse(["bench", "neurons", "--type", "poisson", "--neurons", "10", "--steps", "5", "--rate", "-3", "--accelerator", "cpu"]).Invoke();
        Assert.That(code, Is.EqualTo(1));
    }
}
