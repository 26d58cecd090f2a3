namespace Lmu.Gpu.Cli.SelfTest;

/// <summary>Sizing help for self-test suites.</summary>
internal static class SelfTestSizes
{
    /// <summary>True on ILGPU's CPU simulator, where only small sizes finish quickly.</summary>
    public static bool IsSimulator(LmuDevice device) => device.Kind == AcceleratorKind.CpuSimulator;

    /// <summary>Deterministic inputs uniform in [−1, 1).</summary>
    public static float[] Inputs(long length, int seed)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (long i = 0; i < length; i++)
        {
            values[i] = (float)(2 * random.NextDouble() - 1);
        }

        return values;
    }
}
