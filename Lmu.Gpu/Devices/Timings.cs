namespace Lmu.Gpu;

/// <summary>Summaries of repeated timings (the benchmark commands report medians).</summary>
internal static class Timings
{
    /// <summary>The median of <paramref name="seconds"/> (the mean of the middle two for an even count).</summary>
    /// <param name="seconds">At least one value.</param>
    /// <returns>The median.</returns>
    /// <exception cref="ArgumentException">No values.</exception>
    public static double Median(IEnumerable<double> seconds)
    {
        double[] sorted = seconds.Order().ToArray();
        int n = sorted.Length;
        if (n == 0)
        {
            throw new ArgumentException("No timed runs.", nameof(seconds));
        }

        return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[(n / 2) - 1] + sorted[n / 2]);
    }
}
