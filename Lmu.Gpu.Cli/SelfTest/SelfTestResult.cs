namespace Lmu.Gpu.Cli.SelfTest;

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
