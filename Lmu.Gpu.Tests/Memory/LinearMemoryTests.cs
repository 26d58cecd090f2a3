using Lmu.Gpu;

namespace Lmu.Gpu.Tests.Memory;

/// <summary>The same tests on the host path (full sizes) and on ILGPU's CPU simulator (small sizes, it is slow),
/// all against the double-precision reference.</summary>
[TestFixture(AcceleratorKind.Cpu)]
[TestFixture(AcceleratorKind.CpuSimulator)]
public sealed class LinearMemoryTests(AcceleratorKind kind)
{
    // float32 against double: the state is a sum of d products per step and the recursion is contractive (ZOH),
    // so the error stays a few float32 ulps of the largest state per step and does not grow past ~1e-5 relative
    // over 10^4 steps (the brief measured ≤ 1.4e-4 at θ = 10^5 over 10^5 steps). We assert 1e-4 of max |m|.
    private const double RelativeTolerance = 1e-4;

    private LmuDevice _device = null!;

    private bool IsSimulator => kind == AcceleratorKind.CpuSimulator;

    [OneTimeSetUp]
    public void OpenDevice() => _device = LmuDevice.Open(kind);

    [OneTimeTearDown]
    public void CloseDevice() => _device.Dispose();

    [Test]
    public void RunStates_MatchesDoubleReference_Over10000Steps()
    {
        int order = IsSimulator ? 6 : 64;
        int batch = IsSimulator ? 2 : 3;
        const int Channels = 2;
        const int Steps = 10_000;
        var system = LmuSystem.Create(order, 500);
        var input = RandomInput(batch * Steps * Channels, 11);
        using var memory = new LinearMemory(_device, system, batch, Channels);
        var states = memory.RunStates(input, Steps, SequenceMethod.Sequential);
        var reference = ReferenceMemory.RunStates(system, input, batch, Steps, Channels);
        AssertClose(states, reference);
        Assert.That(memory.GetStates(), Is.EqualTo(LastStates(states, batch, Steps, Channels, order)));
    }

    [Test]
    public void Step_RepeatedEqualsSequenceRun()
    {
        const int Order = 8, Batch = 2, Channels = 3, Steps = 40;
        var system = LmuSystem.Create(Order, 12);
        var input = RandomInput(Batch * Steps * Channels, 5);
        using var stepped = new LinearMemory(_device, system, Batch, Channels);
        var row = new float[Batch * Channels];
        for (int t = 0; t < Steps; t++)
        {
            for (int b = 0; b < Batch; b++)
            {
                for (int c = 0; c < Channels; c++)
                {
                    row[b * Channels + c] = input[(b * Steps + t) * Channels + c];
                }
            }

            stepped.Step(row);
        }

        var reference = ReferenceMemory.RunStates(system, input, Batch, Steps, Channels);
        AssertClose(stepped.GetStates(), LastStates(reference, Batch, Steps, Channels, Order));
    }

    [Test]
    public void RunDecoded_EqualsDecodersTimesStates()
    {
        const int Order = 10, Batch = 2, Channels = 2;
        int steps = IsSimulator ? 300 : 3000;
        var system = LmuSystem.Create(Order, 100);
        var input = RandomInput(Batch * steps * Channels, 7);
        double[] delays = [0, 0.25, 1];
        using var memory = new LinearMemory(_device, system, Batch, Channels);
        var decoded = memory.RunDecoded(input, steps, delays);
        var reference = ReferenceMemory.RunStates(system, input, Batch, steps, Channels);
        var expected = new double[decoded.Length];
        for (long row = 0; row < (long)Batch * steps * Channels; row++)
        {
            for (int q = 0; q < delays.Length; q++)
            {
                var c = system.Decoder(delays[q]);
                double y = 0;
                for (int i = 0; i < Order; i++)
                {
                    y += c[i] * reference[row * Order + i];
                }

                expected[row * delays.Length + q] = y;
            }
        }

        AssertClose(decoded, expected);
    }

    [Test]
    public void RunFinalState_ContinuesFromCurrentState()
    {
        const int Order = 12, Batch = 2, Channels = 1;
        int steps = IsSimulator ? 100 : 2000;
        var system = LmuSystem.Create(Order, 50);
        var input = RandomInput(Batch * 2 * steps * Channels, 3);
        var first = new float[Batch * steps];
        var second = new float[Batch * steps];
        for (int b = 0; b < Batch; b++)
        {
            input.AsSpan(b * 2 * steps, steps).CopyTo(first.AsSpan(b * steps));
            input.AsSpan(b * 2 * steps + steps, steps).CopyTo(second.AsSpan(b * steps));
        }

        using var memory = new LinearMemory(_device, system, Batch, Channels);
        memory.RunFinalState(first, steps);
        var final = memory.RunFinalState(second, steps);
        var reference = ReferenceMemory.RunStates(system, input, Batch, 2 * steps, Channels);
        AssertClose(final, LastStates(reference, Batch, 2 * steps, Channels, Order));
    }

    [Test]
    public void SetStates_ThenReset_ReturnsZeros()
    {
        var system = LmuSystem.Create(4, 10);
        using var memory = new LinearMemory(_device, system, 2, 1);
        memory.SetStates([1, 2, 3, 4, 5, 6, 7, 8]);
        Assert.That(memory.GetStates(), Is.EqualTo(new float[] { 1, 2, 3, 4, 5, 6, 7, 8 }));
        memory.Reset();
        Assert.That(memory.GetStates(), Is.All.EqualTo(0f));
    }

    [Test]
    public void RunStates_ThrowsForMismatchedInputLength_AndLeavesStatesUnchanged()
    {
        var system = LmuSystem.Create(4, 10);
        using var memory = new LinearMemory(_device, system, 2, 3);
        memory.SetStates(Enumerable.Range(0, 24).Select(i => (float)i).ToArray());
        var e = Assert.Throws<ArgumentException>(() => memory.RunStates(new float[2 * 5 * 3 - 1], 5));
        Assert.That(e!.Message, Does.Contain("expected B·T·k"));
        Assert.That(memory.GetStates(), Is.EqualTo(Enumerable.Range(0, 24).Select(i => (float)i).ToArray()));
    }

    [TestCase(float.NaN)]
    [TestCase(float.PositiveInfinity)]
    public void RunDecoded_ThrowsForNonFiniteSample(float bad)
    {
        var system = LmuSystem.Create(4, 10);
        using var memory = new LinearMemory(_device, system, 1, 2);
        var input = new float[20];
        input[13] = bad;
        var e = Assert.Throws<ArgumentException>(() => memory.RunDecoded(input, 10, [1.0]));
        Assert.That(e!.Message, Does.Contain("row 6, column 1"));
    }

    [Test]
    public void ThrowIfNotFinite_FindsEachBadValueInTheVectorPartAndTheTail(
        [Values(0, 517, 1_000, 1_002)] int index, [Values(float.NaN, float.NegativeInfinity, float.PositiveInfinity)] float bad)
    {
        // 1,003 values: the vectorised pass covers the first multiple of the vector width, the tail the rest.
        float[] values = Enumerable.Range(0, 1_003).Select(i => (i % 2 == 0 ? 1 : -1) * i * 1e30f / 1_003).ToArray();
        Assert.DoesNotThrow(() => LinearMemory.ThrowIfNotFinite(values, "input"));
        values[index] = bad;
        var e = Assert.Throws<ArgumentException>(() => LinearMemory.ThrowIfNotFinite(values, "input"));
        Assert.That(e!.Message, Does.StartWith($"input[{index}] is"));
        Assert.That(e.ParamName, Is.EqualTo("input"));
    }

    [Test]
    public void RunStates_ThrowsForZeroSteps()
    {
        using var memory = new LinearMemory(_device, LmuSystem.Create(4, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => memory.RunStates([], 0));
    }

    [Test]
    public void RunDecoded_ThrowsForDelayOutsideWindow()
    {
        using var memory = new LinearMemory(_device, LmuSystem.Create(4, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => memory.RunDecoded(new float[3], 3, [1.5]));
        Assert.Throws<ArgumentException>(() => memory.RunDecoded(new float[3], 3, []));
    }

    [Test]
    public void Step_ThrowsForWrongRowLength()
    {
        using var memory = new LinearMemory(_device, LmuSystem.Create(4, 10), 3, 1);
        Assert.Throws<ArgumentException>(() => memory.Step(new float[2]));
        Assert.Throws<ArgumentException>(() => memory.SetStates(new float[11]));
    }

    [Test]
    public void Constructor_ThrowsForZeroBatchOrChannels()
    {
        var system = LmuSystem.Create(4, 10);
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new LinearMemory(_device, system, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new LinearMemory(_device, system, 1, 0));
    }

    [Test]
    public void RunStates_ThrowsForOutputLargerThanOneArray()
    {
        using var memory = new LinearMemory(_device, LmuSystem.Create(512, 10), 64, 1);
        var e = Assert.Throws<ArgumentException>(() => memory.RunStates(new float[64 * 100_000], 100_000));
        Assert.That(e!.ParamName, Is.EqualTo("steps"));
    }

    [Test]
    public void Methods_ThrowAfterDispose()
    {
        var memory = new LinearMemory(_device, LmuSystem.Create(4, 10));
        memory.Dispose();
        Assert.Throws<ObjectDisposedException>(() => memory.Step([1f]));
    }

    internal static float[] RandomInput(int length, int seed)
    {
        var random = new Random(seed);
        var input = new float[length];
        for (int i = 0; i < length; i++)
        {
            input[i] = (float)(2 * random.NextDouble() - 1);
        }

        return input;
    }

    private static double[] LastStates(double[] states, int batch, int steps, int channels, int order)
    {
        var last = new double[batch * channels * order];
        for (int b = 0; b < batch; b++)
        {
            Array.Copy(states, (((long)b * steps + steps - 1) * channels) * order, last, b * channels * order, channels * order);
        }

        return last;
    }

    private static float[] LastStates(float[] states, int batch, int steps, int channels, int order)
    {
        var last = new float[batch * channels * order];
        for (int b = 0; b < batch; b++)
        {
            Array.Copy(states, (((long)b * steps + steps - 1) * channels) * order, last, b * channels * order, channels * order);
        }

        return last;
    }

    private static void AssertClose(float[] actual, double[] expected)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        double scale = expected.Max(Math.Abs);
        double maxErr = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            maxErr = Math.Max(maxErr, Math.Abs(actual[i] - expected[i]));
        }

        TestContext.Out.WriteLine($"max |Δ| = {maxErr:G3}, max |ref| = {scale:G3}, relative {maxErr / scale:G3}");
        Assert.That(maxErr, Is.LessThanOrEqualTo(RelativeTolerance * scale));
    }
}
