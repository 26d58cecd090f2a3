namespace Lmu.Gpu.Cli.SelfTest;

/// <summary>One check of <c>lmu selftest</c>: runs a kernel family on a device against the host double reference.</summary>
/// <param name="Family">The kernel family (memory, scan, neurons, cell, …): the first column of the table.</param>
/// <param name="Name">What is checked, with its size, e.g. <c>sequence: all states B=8 k=1 d=64 T=2000</c>.</param>
/// <param name="Run">Runs the check on the device and returns its error and tolerance.</param>
internal sealed record SelfTestCase(string Family, string Name, Func<LmuDevice, SelfTestResult> Run);

/// <summary>The outcome of a <see cref="SelfTestCase"/>.</summary>
/// <param name="Error">The error measure, normally max |Δ| / max |reference| (see <see cref="SelfTestResult.Relative(ReadOnlySpan{float}, ReadOnlySpan{double})"/>).</param>
/// <param name="Tolerance">The largest error that passes.</param>
internal readonly record struct SelfTestResult(double Error, double Tolerance)
{
    /// <summary>True when the error is finite and within the tolerance.</summary>
    public bool Passed => double.IsFinite(Error) && Error <= Tolerance;

    /// <summary>max |actual − expected| / max |expected| (a NaN or infinite actual value gives +∞).</summary>
    public static double Relative(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected) => RelativeTo(actual, expected);

    /// <summary><see cref="Relative(ReadOnlySpan{float}, ReadOnlySpan{double})"/> against a float reference (in double).</summary>
    public static double Relative(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected) => RelativeTo(actual, expected);

    private static double RelativeTo<T>(ReadOnlySpan<float> actual, ReadOnlySpan<T> expected)
        where T : System.Numerics.INumberBase<T>
    {
        if (actual.Length != expected.Length)
        {
            return double.PositiveInfinity;
        }

        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            if (!float.IsFinite(actual[i]))
            {
                return double.PositiveInfinity;
            }

            double reference = double.CreateChecked(expected[i]);
            maxDiff = Math.Max(maxDiff, Math.Abs(actual[i] - reference));
            maxRef = Math.Max(maxRef, Math.Abs(reference));
        }

        return maxRef > 0 ? maxDiff / maxRef : maxDiff;
    }
}

/// <summary>
/// A group of self-test cases. Every non-abstract implementation in the CLI assembly with a parameterless
/// constructor is found by <see cref="SelfTestRegistry"/>, so a new kernel family adds one file here
/// (e.g. <c>ScanSelfTests.cs</c>) and touches nothing else.
/// </summary>
internal interface ISelfTestSuite
{
    /// <summary>The cases to run on <paramref name="device"/>; size them with <see cref="SelfTestSizes.IsSimulator"/>
    /// (ILGPU's CPU simulator is slow: keep those small).</summary>
    IEnumerable<SelfTestCase> Cases(LmuDevice device);

    /// <summary>Whether the suite runs after all others (kernels not yet proven on hardware, which could leave the
    /// device context broken for the cases after them).</summary>
    bool RunsLast => false;
}

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
