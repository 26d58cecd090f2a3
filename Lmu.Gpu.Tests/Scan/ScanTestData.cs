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

    /// <summary>All states, the final states, the decoded outputs (delays 0, θ/2, θ) and a final-only run of
    /// <paramref name="memory"/> by <paramref name="method"/>, each from <paramref name="initial"/>;
    /// <paramref name="afterEach"/> runs after each of the three runs (to check which path it took).</summary>
    public static MemoryRuns RunAll(LinearMemory memory, float[] input, float[] initial, int steps, SequenceMethod method, Action? afterEach = null)
    {
        double[] delays = [0, 0.5, 1];
        memory.SetStates(initial);
        float[] states = memory.RunStates(input, steps, method);
        afterEach?.Invoke();
        float[] final = memory.GetStates();
        memory.SetStates(initial);
        float[] decoded = memory.RunDecoded(input, steps, delays, method);
        afterEach?.Invoke();
        memory.SetStates(initial);
        float[] finalOnly = memory.RunFinalState(input, steps, method);
        afterEach?.Invoke();
        return new MemoryRuns(states, final, decoded, finalOnly);
    }

    /// <summary>Each output of <paramref name="actual"/> within <paramref name="tolerance"/> of the largest value of
    /// <paramref name="expected"/>'s, the final-only run against the expected final states.</summary>
    public static void AssertRunsMatch(MemoryRuns actual, MemoryRuns expected, double tolerance)
    {
        Assert.That(RelativeMaxError(actual.States, expected.States), Is.LessThanOrEqualTo(tolerance));
        Assert.That(RelativeMaxError(actual.Final, expected.Final), Is.LessThanOrEqualTo(tolerance));
        Assert.That(RelativeMaxError(actual.Decoded, expected.Decoded), Is.LessThanOrEqualTo(tolerance));
        Assert.That(RelativeMaxError(actual.FinalOnly, expected.Final), Is.LessThanOrEqualTo(tolerance));
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

/// <summary>The outputs of <see cref="ScanTestData.RunAll"/>.</summary>
/// <param name="States">All states.</param>
/// <param name="Final">The states after the all-states run.</param>
/// <param name="Decoded">Decoded outputs for delays 0, θ/2 and θ.</param>
/// <param name="FinalOnly">The final-only run's result.</param>
internal sealed record MemoryRuns(float[] States, float[] Final, float[] Decoded, float[] FinalOnly);
