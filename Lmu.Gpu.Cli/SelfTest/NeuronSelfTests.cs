using Lmu.Spiking;

namespace Lmu.Gpu.Cli.SelfTest;

/// <summary>Self-tests of the spiking-neuron kernels against the host path, which draws the same counter-based
/// (Philox) random numbers: Poisson spike counts must be identical neuron by neuron; LIF counts may differ by one
/// spike where the device's exp/log round differently at a threshold crossing; and the spiking LMU's step kernel for
/// each neuron type against the host path's run.</summary>
internal sealed class NeuronSelfTests : ISelfTestSuite
{
    /// <inheritdoc/>
    public IEnumerable<SelfTestCase> Cases(LmuDevice device)
    {
        bool small = SelfTestSizes.IsSimulator(device);
        long neurons = small ? 1_003 : 1_000_003;
        int steps = small ? 50 : 200;
        yield return new SelfTestCase("neurons", $"poisson 20 Hz: spike counts = host, N={neurons} T={steps}", d => Poisson(d, neurons, steps));
        yield return new SelfTestCase("neurons", $"poisson 256 levels 0…400 Hz: spike counts = host, N={neurons} T={steps}", d => PoissonLevels(d, neurons, steps));
        yield return new SelfTestCase("neurons", $"lif J=1.5: spike counts vs host (±1), N={neurons} T={steps}", d => Lif(d, neurons, steps));
        int perDim = small ? 50 : 2000;
        int lmuSteps = small ? 150 : 1000;
        int batch = small ? 1 : 4;
        foreach (var type in new[] { NeuronType.PoissonRectifiedLinear, NeuronType.SpikingRectifiedLinear, NeuronType.Lif })
        {
            yield return new SelfTestCase("spiking", $"spiking LMU, {type}: spikes and state NRMSE vs host, d=4 n={perDim} B={batch} T={lmuSteps}",
                d => SpikingLmuAgainstHost(d, type, perDim, lmuSteps, batch));
        }
    }

    /// <summary>The spiking LMU on the device against the host path: max of the relative difference in total spikes and
    /// the difference in state NRMSE against the exact memory (the device sums decoded spikes atomically, in another
    /// order, so the runs drift apart within the network's own noise).</summary>
    private static SelfTestResult SpikingLmuAgainstHost(LmuDevice device, NeuronType type, int perDim, int steps, int batch)
    {
        var system = LmuSystem.Create(4, 0.3, 0.001);
        var input = BandLimitedNoise.Generate(steps, batch, 0.001, 10, 0.5, 3);
        var lmu = SpikingLmu.Create(new SpikingLmuOptions
        {
            Order = 4, Theta = 0.3, NeuronsPerDimension = perDim, Batch = batch, Seed = 5, NeuronType = type,
            MaxRateLow = type == NeuronType.Lif ? 50 : 100, MaxRateHigh = type == NeuronType.Lif ? 100 : 200,
            Radii = SpikingLmu.MeasureRadii(system, input, batch),
        });
        using var host = LmuDevice.Open(AcceleratorKind.Cpu);
        var expected = lmu.Run(host, input);
        var actual = lmu.Run(device, input);
        var exact = SpikingLmu.ExactMemory(system, input, batch);
        double spikes = Math.Abs(actual.TotalSpikes - expected.TotalSpikes) / (double)Math.Max(1, expected.TotalSpikes);
        double nrmse = Math.Abs(SpikingLmuError.Compute(system, actual.States, exact).StateNrmse - SpikingLmuError.Compute(system, expected.States, exact).StateNrmse);
        return new SelfTestResult(expected.TotalSpikes == 0 ? double.PositiveInfinity : Math.Max(spikes, nrmse), 0.05);
    }

    private static SelfTestResult PoissonLevels(LmuDevice device, long neurons, int steps)
    {
        double[] rates = [.. Enumerable.Range(0, 256).Select(l => 400.0 * l / 255)];
        ushort[] levels = [.. Enumerable.Range(0, (int)neurons).Select(i => (ushort)((i * 37) % 256))];
        using var host = LmuDevice.Open(AcceleratorKind.Cpu);
        using var expected = PoissonLevelPopulation.Create(host, rates, levels, 0.001, 7);
        using var actual = PoissonLevelPopulation.Create(device, rates, levels, 0.001, 7);
        expected.Run(steps);
        actual.Run(steps);
        return new SelfTestResult(MaxCountDifference(actual.GetCounts(), expected.GetCounts()), 0);
    }

    private static SelfTestResult Poisson(LmuDevice device, long neurons, int steps)
    {
        using var host = LmuDevice.Open(AcceleratorKind.Cpu);
        using var expected = PoissonPopulation.Create(host, neurons, 20, 0.001, 7);
        using var actual = PoissonPopulation.Create(device, neurons, 20, 0.001, 7);
        expected.Run(steps);
        actual.Run(steps);
        return new SelfTestResult(MaxCountDifference(actual.GetCounts(), expected.GetCounts()), 0);
    }

    private static SelfTestResult Lif(LmuDevice device, long neurons, int steps)
    {
        using var host = LmuDevice.Open(AcceleratorKind.Cpu);
        using var expected = LifPopulation.Create(host, neurons, 1.5, null, 7);
        using var actual = LifPopulation.Create(device, neurons, 1.5, null, 7);
        expected.Run(steps);
        actual.Run(steps);
        return new SelfTestResult(MaxCountDifference(actual.GetCounts(), expected.GetCounts()), 1);
    }

    private static double MaxCountDifference(uint[] actual, uint[] expected)
    {
        if (actual.Length != expected.Length)
        {
            return double.PositiveInfinity;
        }

        long worst = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs((long)actual[i] - expected[i]));
        }

        return worst;
    }
}
