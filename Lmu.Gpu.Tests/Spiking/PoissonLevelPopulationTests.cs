using Lmu.Spiking;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Spiking;

/// <summary><see cref="PoissonLevelPopulation"/>: every neuron spikes exactly as a fixed-rate
/// <see cref="PoissonPopulation"/> at its level's rate with the same seed (same Philox counters, same integer tables),
/// on the host path and ILGPU's CPU simulator; the counts have the levels' means; bad levels are refused.</summary>
[TestFixture]
public sealed class PoissonLevelPopulationTests : SimulatorAndHostFixture
{
    private static readonly double[] Rates = [0, 5, 40, 300, 1999];

    private static ushort[] Levels(int neurons, int seed)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, neurons).Select(_ => (ushort)rng.Next(Rates.Length))];
    }

    [TestCase(false)]
    [TestCase(true)]
    public void EveryNeuron_SpikesAsAFixedRatePopulationAtItsLevel(bool simulator)
    {
        var device = simulator ? Simulator : Host;
        int neurons = simulator ? 203 : 10_003;
        int steps = simulator ? 20 : 300;
        ushort[] levels = Levels(neurons, 1);
        using var population = PoissonLevelPopulation.Create(device, Rates, levels, dt: 0.001, seed: 9);
        population.Run(steps / 3);
        population.Run(steps - (steps / 3));
        uint[] counts = population.GetCounts();

        for (int l = 0; l < Rates.Length; l++)
        {
            using var fixedRate = PoissonPopulation.Create(device, neurons, Rates[l], dt: 0.001, seed: 9);
            fixedRate.Run(steps);
            uint[] expected = fixedRate.GetCounts();
            for (int i = 0; i < neurons; i++)
            {
                if (levels[i] == l && counts[i] != expected[i])
                {
                    Assert.Fail($"neuron {i} (level {l}, {Rates[l]} Hz): {counts[i]} spikes, the fixed-rate population {expected[i]}");
                }
            }
        }

        Assert.That(counts.Where((_, i) => levels[i] == 0), Has.All.EqualTo(0u), "0 Hz never spikes");
    }

    [Test]
    public void HostPathAndSimulator_GiveIdenticalCounts()
    {
        ushort[] levels = Levels(1001, 2);
        using var host = PoissonLevelPopulation.Create(Host, Rates, levels, seed: 3);
        using var sim = PoissonLevelPopulation.Create(Simulator, Rates, levels, seed: 3);
        host.Run(40);
        sim.Run(40);
        Assert.That(sim.GetCounts(), Is.EqualTo(host.GetCounts()));
    }

    /// <summary>New levels between runs: the steps after <see cref="PoissonLevelPopulation.SetLevels"/> spike at the new
    /// levels' rates, exactly as a population made with them would over the same steps.</summary>
    [TestCase(false)]
    [TestCase(true)]
    public void SetLevels_AppliesToTheStepsAfter(bool simulator)
    {
        var device = simulator ? Simulator : Host;
        const int neurons = 403;
        ushort[] first = Levels(neurons, 6), second = Levels(neurons, 7);
        using var population = PoissonLevelPopulation.Create(device, Rates, first, seed: 8);
        population.Run(10);
        uint[] before = population.GetCounts();
        population.SetLevels(second);
        population.Run(15);
        uint[] after = population.GetCounts();

        using var reference = PoissonLevelPopulation.Create(device, Rates, second, seed: 8);
        reference.Run(25);
        using var head = PoissonLevelPopulation.Create(device, Rates, second, seed: 8);
        head.Run(10);
        uint[] tail = [.. reference.GetCounts().Zip(head.GetCounts(), (a, b) => a - b)];
        Assert.That(after.Zip(before, (a, b) => a - b), Is.EqualTo(tail), "steps 10-24 at the second levels");
        Assert.That(population.Step, Is.EqualTo(25));
        var e = Assert.Throws<ArgumentException>(() => population.SetLevels([.. second.Take(neurons - 1)]));
        Assert.That(e!.ParamName, Is.EqualTo("levels"));
        ushort[] bad = (ushort[])second.Clone();
        bad[5] = 9;
        Assert.Throws<ArgumentException>(() => population.SetLevels(bad));
        Assert.That(population.GetCounts(), Is.EqualTo(after), "nothing ran or changed");
    }

    [Test]
    public void Counts_HaveTheirLevelsMeans()
    {
        // 200 steps of 1 ms: level l's neurons count Poisson(0.2·rate_l); the mean of ~20,000 of them lies within
        // 5 standard errors, sqrt(λ/N).
        const int neurons = 100_000, steps = 200;
        ushort[] levels = Levels(neurons, 4);
        using var population = PoissonLevelPopulation.Create(Host, Rates, levels, seed: 5);
        population.Run(steps);
        uint[] counts = population.GetCounts();
        for (int l = 0; l < Rates.Length; l++)
        {
            var mine = counts.Where((_, i) => levels[i] == l).Select(c => (double)c).ToArray();
            double lambda = Rates[l] * 0.001 * steps;
            Assert.That(mine.Average(), Is.EqualTo(lambda).Within((5 * Math.Sqrt(lambda / mine.Length)) + 1e-12), $"level {l}");
        }
    }

    [Test]
    public void Create_ThrowsForBadLevelsAndRates()
    {
        var e = Assert.Throws<ArgumentException>(() => PoissonLevelPopulation.Create(Host, Rates, [0, 4, 5]));
        Assert.That(e!.Message, Does.Contain("levels[2] = 5 is not a level: there are 5 rates"));
        Assert.That(e.ParamName, Is.EqualTo("levels"));
        Assert.Throws<ArgumentException>(() => PoissonLevelPopulation.Create(Host, [], [0]));
        Assert.Throws<ArgumentException>(() => PoissonLevelPopulation.Create(Host, Rates, []));
        var tooFast = Assert.Throws<ArgumentOutOfRangeException>(() => PoissonLevelPopulation.Create(Host, [10, 2500], [0, 1]));
        Assert.That(tooFast!.Message, Does.Contain("ratesHz[1]·dt = 2.5"));
        Assert.Throws<ArgumentOutOfRangeException>(() => PoissonLevelPopulation.Create(Host, [double.NaN], [0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => PoissonLevelPopulation.Create(Host, [10], [0], dt: 0));
    }
}
