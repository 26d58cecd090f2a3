using NUnit.Framework;

namespace Lmu.Gpu.Tests.Scan;

/// <summary>Inputs and comparisons shared by the scan tests.</summary>
internal static class ScanTestData
{
    /// <summary>Uniform random values in [−1, 1].</summary>
    public static float[] Uniform(long length, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var values = new float[length];
        for (long i = 0; i < length; i++)
        {
            values[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        }

        return values;
    }

    /// <summary>max |a − b| / max |b|.</summary>
    public static double RelativeMaxError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length));
        double difference = 0, scale = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            difference = Math.Max(difference, Math.Abs((double)actual[i] - expected[i]));
            scale = Math.Max(scale, Math.Abs((double)expected[i]));
        }

        return difference / Math.Max(scale, 1e-30);
    }

    /// <summary>max |a − b| / max |b| against a double reference.</summary>
    public static double RelativeMaxError(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length));
        double difference = 0, scale = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            difference = Math.Max(difference, Math.Abs(actual[i] - expected[i]));
            scale = Math.Max(scale, Math.Abs(expected[i]));
        }

        return difference / Math.Max(scale, 1e-30);
    }

    /// <summary>λ, B̄ᵀλ and ∂m₀ of two adjoint runs agree within <paramref name="tolerance"/> of their largest values.</summary>
    public static void AssertAdjointsMatch(MemoryAdjoint actual, MemoryAdjoint expected, double tolerance)
    {
        Assert.That(RelativeMaxError(actual.Lambda, expected.Lambda), Is.LessThanOrEqualTo(tolerance));
        Assert.That(RelativeMaxError(actual.InputGradient, expected.InputGradient), Is.LessThanOrEqualTo(tolerance));
        Assert.That(RelativeMaxError(actual.InitialStateGradient, expected.InitialStateGradient), Is.LessThanOrEqualTo(tolerance));
    }

    /// <summary>The decoded reference: C times the states, row by row ([rows, Q] from [rows, d], in double).</summary>
    public static double[] Decode(double[] states, float[] decoders, int delays, int order)
    {
        long rows = states.Length / order;
        var decoded = new double[rows * delays];
        for (long row = 0; row < rows; row++)
        {
            for (int q = 0; q < delays; q++)
            {
                for (int i = 0; i < order; i++)
                {
                    decoded[(row * delays) + q] += decoders[(q * order) + i] * states[(row * order) + i];
                }
            }
        }

        return decoded;
    }
}
