namespace Lmu.Gpu.Cli.SelfTest;

/// <summary>Self-tests of the linear memory: streaming Step, and sequence runs returning all states, the final
/// state and decoded outputs, each against <see cref="ReferenceMemory"/> (double precision).</summary>
internal sealed class MemorySelfTests : ISelfTestSuite
{
    /// <summary>Relative tolerance for float32 states against the double reference over the sizes used here
    /// (measured: at most 2e-6 on the host path and the CPU simulator; the float32 drift bound over 100,000 steps is
    /// 1.4e-4). A wrong index or a race gives errors of order 1..</summary>
    public const double StateTolerance = 1e-4;

    private static readonly double[] Delays = [1.0, 0.5, 0.0];

    /// <inheritdoc/>
    public IEnumerable<SelfTestCase> Cases(LmuDevice device)
    {
        bool small = SelfTestSizes.IsSimulator(device);
        // (batch, channels, order, steps): an order above the simulator's 16-thread groups, and an odd one.
        (int B, int K, int D, int T) stepSize = small ? (2, 2, 8, 24) : (8, 2, 64, 200);
        (int B, int K, int D, int T)[] sequenceSizes = small
            ? [(2, 1, 8, 200), (1, 3, 19, 100)]
            : [(8, 1, 64, 2000), (4, 3, 17, 1000)];

        yield return new SelfTestCase("memory", $"step (streaming) {Describe(stepSize)}", d => Step(d, stepSize));
        foreach (var size in sequenceSizes)
        {
            yield return new SelfTestCase("memory", $"sequence: all states {Describe(size)}", d => AllStates(d, size));
            yield return new SelfTestCase("memory", $"sequence: final state {Describe(size)}", d => FinalState(d, size));
            yield return new SelfTestCase("memory", $"sequence: decoded Q={Delays.Length} {Describe(size)}", d => Decoded(d, size));
        }
    }

    private static string Describe((int B, int K, int D, int T) s) => $"B={s.B} k={s.K} d={s.D} T={s.T}";

    private static LmuSystem System(int order, int steps) => LmuSystem.Create(order, Math.Max(2.0, steps / 4.0));

    private static SelfTestResult Step(LmuDevice device, (int B, int K, int D, int T) s)
    {
        var system = System(s.D, s.T);
        float[] input = SelfTestSizes.Inputs((long)s.B * s.T * s.K, 11);
        double[] reference = ReferenceMemory.RunStates(system, input, s.B, s.T, s.K);
        using var memory = new LinearMemory(device, system, s.B, s.K);
        var row = new float[s.B * s.K];
        var states = new float[s.B * s.K * s.D];
        var expected = new double[states.Length];
        double worst = 0;
        for (int t = 0; t < s.T; t++)
        {
            for (int b = 0; b < s.B; b++)
            {
                for (int c = 0; c < s.K; c++)
                {
                    row[b * s.K + c] = input[(b * s.T + t) * s.K + c];
                    Array.Copy(reference, (((long)b * s.T + t) * s.K + c) * s.D, expected, (b * s.K + c) * s.D, s.D);
                }
            }

            memory.Step(row);
            memory.GetStates(states);
            worst = Math.Max(worst, SelfTestResult.Relative(states, expected));
        }

        return new SelfTestResult(worst, StateTolerance);
    }

    private static SelfTestResult AllStates(LmuDevice device, (int B, int K, int D, int T) s)
    {
        var system = System(s.D, s.T);
        float[] input = SelfTestSizes.Inputs((long)s.B * s.T * s.K, 12);
        double[] reference = ReferenceMemory.RunStates(system, input, s.B, s.T, s.K);
        using var memory = new LinearMemory(device, system, s.B, s.K);
        float[] states = memory.RunStates(input, s.T, SequenceMethod.Sequential);
        return new SelfTestResult(SelfTestResult.Relative(states, reference), StateTolerance);
    }

    private static SelfTestResult FinalState(LmuDevice device, (int B, int K, int D, int T) s)
    {
        var system = System(s.D, s.T);
        float[] input = SelfTestSizes.Inputs((long)s.B * s.T * s.K, 13);
        double[] reference = ReferenceMemory.RunStates(system, input, s.B, s.T, s.K);
        var expected = new double[s.B * s.K * s.D];
        for (int b = 0; b < s.B; b++)
        {
            Array.Copy(reference, ((long)b * s.T + s.T - 1) * s.K * s.D, expected, b * s.K * s.D, s.K * s.D);
        }

        using var memory = new LinearMemory(device, system, s.B, s.K);
        float[] final = memory.RunFinalState(input, s.T, SequenceMethod.Sequential);
        return new SelfTestResult(SelfTestResult.Relative(final, expected), StateTolerance);
    }

    private static SelfTestResult Decoded(LmuDevice device, (int B, int K, int D, int T) s)
    {
        var system = System(s.D, s.T);
        float[] input = SelfTestSizes.Inputs((long)s.B * s.T * s.K, 14);
        double[] reference = ReferenceMemory.RunStates(system, input, s.B, s.T, s.K);
        int q = Delays.Length;
        double[][] decoders = Array.ConvertAll(Delays, system.Decoder);
        long rows = (long)s.B * s.T * s.K;
        var expected = new double[rows * q];
        for (long n = 0; n < rows; n++)
        {
            var m = reference.AsSpan((int)(n * s.D), s.D);
            for (int j = 0; j < q; j++)
            {
                double y = 0;
                for (int i = 0; i < s.D; i++)
                {
                    y += decoders[j][i] * m[i];
                }

                expected[n * q + j] = y;
            }
        }

        using var memory = new LinearMemory(device, system, s.B, s.K);
        float[] decoded = memory.RunDecoded(input, s.T, Delays, SequenceMethod.Sequential);
        // Decoding sums d products of up to |P̃ᵢ| = 1 with the state, so allow for that cancellation.
        return new SelfTestResult(SelfTestResult.Relative(decoded, expected), StateTolerance * Math.Sqrt(s.D));
    }
}
