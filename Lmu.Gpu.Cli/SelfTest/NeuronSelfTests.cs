using Lmu.Spiking;

namespace Lmu.Gpu.Cli.SelfTest;

/// <summary>Self-tests of the spiking-neuron kernels against the host path, which draws the same counter-based
/// (Philox) random numbers: Poisson spike counts must be identical neuron by neuron; LIF counts may differ by one
/// spike where the device's exp/log round differently at a threshold crossing.</summary>
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
