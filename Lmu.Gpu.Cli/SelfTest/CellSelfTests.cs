namespace Lmu.Gpu.Cli.SelfTest;

/// <summary>Self-test of the nonlinear LMU cell's forward kernel against the host path (which the test suite checks
/// against a double-precision reference): hidden states over a whole sequence, tanh, k memory channels, all
/// connections and biases on.</summary>
internal sealed class CellSelfTests : ISelfTestSuite
{
    /// <summary>Relative tolerance of device against host hidden states: both are float32 with different summation
    /// orders; tanh is contractive, so the difference stays at a few ulps per step (measured ≤ 1e-5 in the tests).</summary>
    private const double Tolerance = 1e-4;

    /// <inheritdoc/>
    public IEnumerable<SelfTestCase> Cases(LmuDevice device)
    {
        bool small = SelfTestSizes.IsSimulator(device);
        var options = small
            ? new LmuCellOptions { InputSize = 3, Units = 8, Order = 4, Theta = 10, MemoryChannels = 2, MemoryBias = true, HiddenBias = true }
            : new LmuCellOptions { InputSize = 16, Units = 212, Order = 256, Theta = 784, MemoryChannels = 1, MemoryBias = true, HiddenBias = true };
        int batch = small ? 2 : 8;
        int steps = small ? 30 : 500;
        yield return new SelfTestCase("cell", $"forward h_t, n={options.Units} d={options.Order} k={options.MemoryChannels} B={batch} T={steps}",
            d => Forward(d, options, batch, steps));
    }

    private static SelfTestResult Forward(LmuDevice device, LmuCellOptions options, int batch, int steps)
    {
        var weights = LmuCellWeights.CreateRandom(options, 5);
        float[] input = SelfTestSizes.Inputs((long)batch * steps * options.InputSize, 31);
        using var host = LmuDevice.Open(AcceleratorKind.Cpu);
        using var expectedLayer = new LmuCellLayer(host, weights, batch);
        using var actualLayer = new LmuCellLayer(device, weights, batch);
        float[] expected = expectedLayer.Run(input, steps);
        float[] actual = actualLayer.Run(input, steps);
        return new SelfTestResult(SelfTestResult.Relative(actual, Array.ConvertAll(expected, x => (double)x)), Tolerance);
    }
}
