using Lmu.Spiking;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Spiking;

public class PopulationTests
{
    [Test]
    public void Poisson_CountsHaveMeanAndVarianceOfRateTimesDuration()
    {
        // 100,000 neurons, 1 s at 20 Hz, dt = 1 ms: counts ~ Poisson(20).
        // Standard error of the mean sqrt(20/1e5) = 0.014: bound ±0.1 (7σ).
        // Standard error of the sample variance sqrt((2λ² + λ)/N) = 0.091: bound ±0.6 (6.6σ).
        using var device = LmuDevice.Open(AcceleratorKind.Cpu);
        using var population = PoissonPopulation.Create(device, 100_000, 20, 0.001, seed: 7);
        population.Run(1000);
        var counts = population.GetCounts();
        double mean = counts.Average(c => (double)c);
        double variance = counts.Sum(c => (c - mean) * (c - mean)) / (counts.Length - 1);
        Assert.That(mean, Is.EqualTo(20).Within(0.1));
        Assert.That(variance, Is.EqualTo(20).Within(0.6));
    }

    [Test]
    public void Poisson_SplitRunsEqualOneRun()
    {
        using var device = LmuDevice.Open(AcceleratorKind.Cpu);
        using var a = PoissonPopulation.Create(device, 1001, 300, 0.001, seed: 3);
        using var b = PoissonPopulation.Create(device, 1001, 300, 0.001, seed: 3);
        a.Run(100);
        b.Run(37);
        b.Run(63);
        Assert.That(b.GetCounts(), Is.EqualTo(a.GetCounts()));
    }

    [Test]
    public void Poisson_HostPathAndCpuSimulatorGiveIdenticalCounts()
    {
        using var host = LmuDevice.Open(AcceleratorKind.Cpu);
        using var sim = LmuDevice.Open(AcceleratorKind.CpuSimulator);
        using var a = PoissonPopulation.Create(host, 1003, 150, 0.001, seed: 11);
        using var b = PoissonPopulation.Create(sim, 1003, 150, 0.001, seed: 11);
        a.Run(60);
        b.Run(60);
        var expected = a.GetCounts();
        Assert.That(expected.Sum(c => (long)c), Is.GreaterThan(0));
        Assert.That(b.GetCounts(), Is.EqualTo(expected));
    }

    [Test]
    public void Lif_HostPathAndCpuSimulatorGiveIdenticalCounts()
    {
        var currents = Enumerable.Range(0, 203).Select(i => 0.5f + i * 0.05f).ToArray();
        using var host = LmuDevice.Open(AcceleratorKind.Cpu);
        using var sim = LmuDevice.Open(AcceleratorKind.CpuSimulator);
        using var a = LifPopulation.Create(host, currents, seed: 5);
        using var b = LifPopulation.Create(sim, currents, seed: 5);
        a.Run(300);
        b.Run(300);
        var expected = a.GetCounts();
        Assert.That(expected.Sum(c => (long)c), Is.GreaterThan(1000));
        Assert.That(b.GetCounts(), Is.EqualTo(expected));
    }

    [Test]
    public void Lif_RatesMatchTheLifRateCurve()
    {
        // 2 s of simulation; the count of a regular spiker is within one spike of rate·T (random initial voltage),
        // plus 1 % for the dt = 1 ms discretisation.
        var model = new LifModel();
        var currents = Enumerable.Range(0, 80).Select(i => 1.02f + i * 0.06f).ToArray();
        using var device = LmuDevice.Open(AcceleratorKind.Cpu);
        using var population = LifPopulation.Create(device, currents, model, seed: 9);
        population.Run(2000);
        var counts = population.GetCounts();
        for (int i = 0; i < currents.Length; i++)
        {
            double expected = model.Rate(currents[i]) * 2.0;
            Assert.That((double)counts[i], Is.EqualTo(expected).Within(1.5 + 0.01 * expected), $"J = {currents[i]}");
        }
    }

    [Test]
    public void Lif_CurrentForRateInvertsTheRateCurve()
    {
        var model = new LifModel();
        Assert.That(model.Rate(model.CurrentForRate(20)), Is.EqualTo(20).Within(1e-9));
    }

    [Test]
    public void PoissonThresholds_EndWithNeverExceededEntry()
    {
        var table = PoissonPopulation.Thresholds(0.02);
        Assert.That(table[^1], Is.EqualTo(uint.MaxValue));
        Assert.That(table[0] / 4294967296.0, Is.EqualTo(Math.Exp(-0.02)).Within(1e-9));
        Assert.That(table, Is.Ordered);
    }
}

[Category("Gpu")]
public class CudaPopulationTests
{
    private static LmuDevice OpenCudaOrIgnore()
    {
        try
        {
            return LmuDevice.Open(AcceleratorKind.Cuda);
        }
        catch (Exception e) when (e is InvalidOperationException or DllNotFoundException or TypeInitializationException or NotSupportedException)
        {
            Assert.Ignore($"No CUDA device: {e.Message}");
            throw;
        }
    }

    [Test]
    public void Poisson_HostPathAndCudaGiveIdenticalCounts()
    {
        using var cuda = OpenCudaOrIgnore();
        using var host = LmuDevice.Open(AcceleratorKind.Cpu);
        using var a = PoissonPopulation.Create(host, 1_000_003, 20, 0.001, seed: 21);
        using var b = PoissonPopulation.Create(cuda, 1_000_003, 20, 0.001, seed: 21);
        a.Run(200);
        b.Run(200);
        Assert.That(b.GetCounts(), Is.EqualTo(a.GetCounts()));
    }

    [Test]
    public void Lif_HostPathAndCudaCountsAgree()
    {
        // CUDA may contract mul+add into FMA and uses its own exp/log, so an occasional spike may move by a step;
        // counts over 1 s must agree within one spike per neuron, and in total within 0.1 %.
        using var cuda = OpenCudaOrIgnore();
        using var host = LmuDevice.Open(AcceleratorKind.Cpu);
        var currents = Enumerable.Range(0, 100_000).Select(i => 0.9f + (i % 1000) * 0.004f).ToArray();
        using var a = LifPopulation.Create(host, currents, seed: 22);
        using var b = LifPopulation.Create(cuda, currents, seed: 22);
        a.Run(1000);
        b.Run(1000);
        var ca = a.GetCounts();
        var cb = b.GetCounts();
        Assert.That(ca.Zip(cb).Max(p => Math.Abs((long)p.First - p.Second)), Is.LessThanOrEqualTo(1));
        double totalA = ca.Sum(c => (long)c);
        double totalB = cb.Sum(c => (long)c);
        Assert.That(totalB, Is.EqualTo(totalA).Within(0.001 * totalA + 1));
    }
}
