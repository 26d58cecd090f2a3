using ILGPU;
using ILGPU.Runtime;
using Lmu.Gpu.Kernels.Memory;
using MathNet.Numerics.LinearAlgebra;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Scan;

/// <summary>
/// The window (no-carry) start of the scan (<see cref="ScanWindow"/>): the horizon H against powers of Ā computed
/// directly, the rule of when it applies, the host's final-only window and the device's window carries and final
/// states on the CPU simulator, against the host path's sequential run and the double-precision reference.
/// </summary>
[TestFixture]
public sealed class ScanWindowTests : SimulatorAndHostFixture
{
    [TestCase(8, 20.0)]
    [TestCase(20, 10.0)]
    [TestCase(64, 100.0)]
    public void Horizon_IsWithinOneSixteenthAboveTheFirstPowerBelowFloatRounding(int order, double theta)
    {
        // The smallest k with ‖Ā^k‖∞ ≤ 2⁻²⁴, by multiplying one power at a time, against the squaring search.
        var system = LmuSystem.Create(order, theta);
        int horizon = ScanWindow.Horizon(system);
        var a = Matrix<double>.Build.Dense(order, order, (i, j) => system.DiscreteA[i * order + j]);
        var power = a;
        int smallest = 1;
        while (power.InfinityNorm() > ScanWindow.Tolerance)
        {
            power = power * a;
            smallest++;
        }

        Assert.That(a.Power(horizon).InfinityNorm(), Is.LessThanOrEqualTo(ScanWindow.Tolerance));
        Assert.That(horizon, Is.InRange(smallest, smallest + (smallest / 16)));
        Assert.That(horizon, Is.InRange(theta, 6 * theta));
    }

    [Test]
    public void For_LeavesLargeOrdersToAnExplicitRequest()
    {
        // Above d = 512 finding H takes tens of seconds: not computed unless asked (or already known).
        var system = LmuSystem.Create(ScanWindow.AutomaticMaxOrder + 1, 5);
        Assert.That(ScanWindow.For(system, 1_000), Is.Zero);
        int horizon = ScanWindow.For(system, 1_000, force: true);
        Assert.That(horizon, Is.GreaterThan(5).And.LessThanOrEqualTo(500));
        Assert.That(ScanWindow.For(system, 1_000), Is.EqualTo(horizon));
    }

    [Test]
    public void Horizon_IsZeroBeyondTheLongestSearched()
    {
        // θ = 10⁸ steps: ‖Ā^k‖ stays near 1 for k up to about θ, far beyond 2²⁴.
        Assert.That(ScanWindow.Horizon(LmuSystem.Create(4, 1e8)), Is.Zero);
        Assert.That(ScanWindow.For(LmuSystem.Create(4, 1e8), int.MaxValue), Is.Zero);
    }

    [Test]
    public void For_AppliesWhereTwiceTheHorizonFitsInTheRun()
    {
        var system = LmuSystem.Create(20, 10);
        int horizon = ScanWindow.Horizon(system);
        Assert.That(horizon, Is.EqualTo(32));
        Assert.That(ScanWindow.For(system, 2 * horizon), Is.EqualTo(horizon));
        Assert.That(ScanWindow.For(system, 100_000), Is.EqualTo(horizon));
        Assert.That(ScanWindow.For(system, (2 * horizon) - 1), Is.Zero);
        Assert.That(ScanWindow.For(system, 19), Is.Zero);
    }

    [TestCase(32, 7, 22, 9)]
    [TestCase(32, 64, 3, 0)]
    [TestCase(32, 16, 3, 3)]
    [TestCase(1_792, 64, 1_563, 55)]
    public void ChainedChunks_AreThoseEndingBeforeTwiceTheHorizon(int horizon, int chunkLength, int chunks, int expected)
    {
        // Chunk c ends at e = (c + 1)·L − 1 and keeps the chain while e + 1 < 2·H.
        Assert.That(ScanWindow.ChainedChunks(horizon, chunkLength, chunks), Is.EqualTo(expected));
    }

    [TestCase(1, false, true)]
    [TestCase(10, false, true)]
    [TestCase(11, false, false)]
    [TestCase(6, true, true)]
    [TestCase(46, true, true)]
    [TestCase(47, true, false)]
    [TestCase(64, true, false)]
    public void PrefersWindowCarries_AtTheTargetSize(int memories, bool byProduct, bool expected)
    {
        // d = 256, θ = 1,000, T = 10⁵ at L = 64: C = 1,563, H = 1,792, from a zero state. The chain: phase A, a weighted
        // depth of 354 steps of 6.5 µs (2.3 ms) and its levels 1 and 3, 0.034 ms per memory by lock-step steps (0.020 ms
        // with phase A and level 1 by the product). The window: 2·C·H·d = 1.4 GFLOP per memory at 5 TFLOP/s by the row
        // kernel (0.29 ms) or 20 TFLOP/s by the product (0.072 ms).
        Assert.That(DeviceMemoryEngine.PrefersWindowCarries(memories, 1_563, 64, 0, 1_792, 256, byProduct, byProduct), Is.EqualTo(expected));
    }

    [TestCase(64, true)]
    [TestCase(400, true)]
    [TestCase(500, false)]
    public void PrefersWindowCarries_OnTensorCores_UpToLargerBatches(int memories, bool expected)
    {
        // The same size with every product at the assumed 60 TFLOP/s of the tensor cores: the window 0.024 ms per memory,
        // the chain 2.3 ms plus 0.019 ms per memory (its lock-step level 3 does not speed up).
        Assert.That(DeviceMemoryEngine.PrefersWindowCarries(memories, 1_563, 64, 0, 1_792, 256, true, true, tensor: true), Is.EqualTo(expected));
    }

    [Test]
    public void PrefersWindowCarries_CountsTheChainedChunks()
    {
        // With a nonzero initial state the first K = 55 chunks stay chained (55 × 6.5 µs, and phase A) on top of the
        // window's other 1,508 chunks.
        Assert.That(DeviceMemoryEngine.PrefersWindowCarries(1, 1_563, 64, 55, 1_792, 256, false, false), Is.True);
        Assert.That(DeviceMemoryEngine.PrefersWindowCarries(9, 1_563, 64, 55, 1_792, 256, false, false), Is.False);
        Assert.That(DeviceMemoryEngine.PrefersWindowCarries(9, 1_563, 64, 0, 1_792, 256, false, false), Is.True);
    }

    [TestCase("auto", "Auto")]
    [TestCase(" ON ", "Always")]
    [TestCase("off", "Never")]
    public void ScanWindowUseParser_ParsesNames(string name, string expected) =>
        Assert.That(ScanWindowUseParser.Parse(name).ToString(), Is.EqualTo(expected));

    [Test]
    public void ScanWindowUseParser_ThrowsForOtherNames() =>
        Assert.That(() => ScanWindowUseParser.Parse("sometimes"), Throws.ArgumentException.With.Message.Contains("LMU_SCAN_WINDOW"));

    [Test]
    public void HostFinalOnly_ByWindow_MatchesDoubleReference()
    {
        // d = 16, θ = 40 (H = 136), T = 400: each final state from its last 136 inputs; B·k = 4 sequences.
        const int order = 16, batch = 2, channels = 2, steps = 400;
        var system = LmuSystem.Create(order, 40);
        Assert.That(ScanWindow.For(system, steps), Is.EqualTo(136));
        float[] input = ScanTestData.Uniform((long)batch * steps * channels, seed: 61);
        double[] reference = ReferenceMemory.RunStates(system, input, batch, steps, channels);
        double[] expected = FinalRows(reference, batch, steps, channels, order);
        using var host = new LinearMemory(Host, system, batch, channels);
        Assert.That(((HostMemoryEngine)host.Engine).WindowUse, Is.EqualTo(ScanWindowUse.Auto));
        float[] final = host.RunFinalState(input, steps, SequenceMethod.Scan);
        Assert.That(ScanTestData.RelativeMaxError(final, expected), Is.LessThanOrEqualTo(2e-6));
        Assert.That(ScanTestData.RelativeMaxError(host.GetStates(), expected), Is.LessThanOrEqualTo(2e-6));
    }

    [Test]
    public void Auto_TakesTheWindowForFinalOnlyRunsTheChunkRuleWouldRunSequentially()
    {
        // d = 16, θ = 10 (H = 34), one memory of T = 70 steps: too short for the scan's chunk rule, but the
        // final state needs only its last H inputs.
        var system = LmuSystem.Create(16, 10);
        using var host = new LinearMemory(Host, system, 1, 1);
        Assert.That(HostAutoRule.PrefersScan(16, 1, 70), Is.False);
        Assert.That(host.Engine.PrefersScan(70, MemoryOutputMode.AllStates), Is.False);
        Assert.That(host.Engine.PrefersScan(70, MemoryOutputMode.FinalOnly), Is.True);
        float[] input = ScanTestData.Uniform(70, seed: 65);
        double[] expected = FinalRows(ReferenceMemory.RunStates(system, input, 1, 70, 1), 1, 70, 1, 16);
        Assert.That(ScanTestData.RelativeMaxError(host.RunFinalState(input, 70), expected), Is.LessThanOrEqualTo(2e-6));

        // The device's rule: four chunks of 16 (64 steps) for the chained scan; at θ = 5 the window (2·H ≤ 40) takes the
        // scan at T = 40, below that.
        var shortSystem = LmuSystem.Create(16, 5);
        int horizon = ScanWindow.Horizon(shortSystem);
        Assert.That(2 * horizon, Is.LessThanOrEqualTo(40));
        using var device = new LinearMemory(Simulator, shortSystem, 1, 1);
        Assert.That(DeviceMemoryEngine.PrefersScan(ScanStatesKernel.Steps, 16, 1, 40), Is.False);
        Assert.That(device.Engine.PrefersScan(40, MemoryOutputMode.AllStates), Is.False);
        Assert.That(device.Engine.PrefersScan(40, MemoryOutputMode.FinalOnly), Is.True);
        float[] shortInput = ScanTestData.Uniform(40, seed: 66);
        double[] shortExpected = FinalRows(ReferenceMemory.RunStates(shortSystem, shortInput, 1, 40, 1), 1, 40, 1, 16);
        Assert.That(ScanTestData.RelativeMaxError(device.RunFinalState(shortInput, 40), shortExpected), Is.LessThanOrEqualTo(2e-6));
        Assert.That(((DeviceMemoryEngine)device.Engine).LastWindow, Is.EqualTo(horizon));
    }

    [Test]
    public void HostFinalOnly_ByWindow_FromLargeInitialStates_MatchesSequentialAndChainedRuns()
    {
        // Initial states ×1,000: after T ≥ 2·H steps what is left of them is below 2⁻⁴⁸ of their size, so the window,
        // which drops them, agrees with the sequential run and the chained scan.
        const int order = 16, batch = 2, channels = 1, steps = 300;
        var system = LmuSystem.Create(order, 40);
        float[] input = ScanTestData.Uniform((long)batch * steps * channels, seed: 62);
        float[] initial = ScanTestData.Uniform((long)batch * channels * order, seed: 63, scale: 1000f);
        using var host = new LinearMemory(Host, system, batch, channels);
        host.SetStates(initial);
        float[] sequential = host.RunFinalState(input, steps, SequenceMethod.Sequential);
        host.SetStates(initial);
        float[] window = host.RunFinalState(input, steps, SequenceMethod.Scan);
        ((HostMemoryEngine)host.Engine).WindowUse = ScanWindowUse.Never;
        host.SetStates(initial);
        float[] chained = host.RunFinalState(input, steps, SequenceMethod.Scan);
        Assert.That(ScanTestData.RelativeMaxError(window, sequential), Is.LessThanOrEqualTo(1e-5));
        Assert.That(ScanTestData.RelativeMaxError(chained, sequential), Is.LessThanOrEqualTo(1e-5));
    }

    [Test]
    public void FinalOnly_ByWindow_OfAnEulerSystem_MatchesDoubleReference()
    {
        // Euler, d = 8, θ = 50 (spectral radius 0.94, H = 320): the window follows the discretised Ā, not the ZOH.
        const int order = 8, batch = 1, channels = 2, steps = 700;
        var system = LmuSystem.Create(order, 50, 1, Discretizer.Euler);
        Assert.That(ScanWindow.For(system, steps), Is.EqualTo(320));
        float[] input = ScanTestData.Uniform((long)batch * steps * channels, seed: 64);
        double[] expected = FinalRows(ReferenceMemory.RunStates(system, input, batch, steps, channels), batch, steps, channels, order);
        using var host = new LinearMemory(Host, system, batch, channels);
        using var device = new LinearMemory(Simulator, system, batch, channels);
        Assert.That(ScanTestData.RelativeMaxError(host.RunFinalState(input, steps, SequenceMethod.Scan), expected), Is.LessThanOrEqualTo(2e-6));
        Assert.That(ScanTestData.RelativeMaxError(device.RunFinalState(input, steps, SequenceMethod.Scan), expected), Is.LessThanOrEqualTo(2e-6));
        Assert.That(((DeviceMemoryEngine)device.Engine).LastWindow, Is.EqualTo(320));
    }

    [Test]
    public void DeviceWindow_AllOutputs_MatchHostSequential([Values(false, true)] bool zeroInitial, [Values(false, true)] bool product,
        [Values(false, true)] bool windowProduct)
    {
        // d = 20, θ = 10 (H = 32), L = 7, T = 150: C = 22 chunks, the last 3 steps long. From zero states every carry
        // comes from its window (groups of 4, 4, 4, 4, 4 and 2 chunks; the first four windows reach back before step 0);
        // from random states the first K = 9 chunks stay chained and the other 13 come from windows.
        const int order = 20, batch = 2, channels = 2, steps = 150;
        var system = LmuSystem.Create(order, 10);
        using var device = new LinearMemory(Simulator, system, batch, channels) { ChunkLength = 7 };
        var engine = (DeviceMemoryEngine)device.Engine;
        engine.WindowUse = ScanWindowUse.Always;
        engine.StatesKernel = product ? ScanStatesKernel.Gemm : ScanStatesKernel.Steps;
        // The windows (and phase A of the chained chunks) by WindowGemmKernels.WindowProduct, or by the row kernels.
        engine.ProductUse = windowProduct ? ProductUse.Always : ProductUse.Never;
        float[] initial = zeroInitial
            ? new float[device.StateLength]
            : ScanTestData.Uniform(device.StateLength, seed: 71);
        AssertWindowRunsMatchHostSequential(device, engine, system, initial, steps, seed: 72, expectedHorizon: 32);
        Assert.That(engine.LastWindowProducts, Is.EqualTo(windowProduct ? 1 : 0));
    }

    [Test]
    public void DeviceWindow_WithChunksLongerThanTheHorizon_MatchesHostSequential()
    {
        // L = 40 > H = 32: each window lies inside its chunk; C = 4 chunks (the last 30 steps), one group of four.
        const int order = 20, batch = 1, channels = 3, steps = 150;
        var system = LmuSystem.Create(order, 10);
        using var device = new LinearMemory(Simulator, system, batch, channels) { ChunkLength = 40 };
        var engine = (DeviceMemoryEngine)device.Engine;
        engine.WindowUse = ScanWindowUse.Always;
        AssertWindowRunsMatchHostSequential(device, engine, system, ScanTestData.Uniform(device.StateLength, seed: 73), steps, seed: 74, expectedHorizon: 32);
    }

    [Test]
    public void DeviceWindow_ContinuedRun_StartsFromThePreviousFinalStates()
    {
        // The first run starts from zero (no chained chunks); the second must not: it continues from the first's final
        // states. Against the host's sequential run over both halves.
        const int order = 20, batch = 2, channels = 1, steps = 150;
        var system = LmuSystem.Create(order, 10);
        using var device = new LinearMemory(Simulator, system, batch, channels) { ChunkLength = 7 };
        ((DeviceMemoryEngine)device.Engine).WindowUse = ScanWindowUse.Always;
        using var host = new LinearMemory(Host, system, batch, channels);
        float[] first = ScanTestData.Uniform((long)batch * steps * channels, seed: 75, scale: 50f);
        float[] second = ScanTestData.Uniform((long)batch * steps * channels, seed: 76);
        host.RunStates(first, steps, SequenceMethod.Sequential);
        float[] expected = host.RunStates(second, steps, SequenceMethod.Sequential);
        device.RunStates(first, steps, SequenceMethod.Scan);
        float[] states = device.RunStates(second, steps, SequenceMethod.Scan);
        Assert.That(((DeviceMemoryEngine)device.Engine).LastWindow, Is.EqualTo(32));
        Assert.That(ScanTestData.RelativeMaxError(states, expected), Is.LessThanOrEqualTo(1e-5));
        Assert.That(ScanTestData.RelativeMaxError(device.GetStates(), host.GetStates()), Is.LessThanOrEqualTo(1e-5));
    }

    [Test]
    public void DeviceFinalOnly_TakesTheWindowByDefault_AndNotWhenTurnedOff()
    {
        const int order = 20, batch = 2, channels = 1, steps = 100;
        var system = LmuSystem.Create(order, 10);
        using var device = new LinearMemory(Simulator, system, batch, channels);
        var engine = (DeviceMemoryEngine)device.Engine;
        Assert.That(engine.WindowUse, Is.EqualTo(ScanWindowUse.Auto));
        float[] input = ScanTestData.Uniform((long)batch * steps * channels, seed: 77);
        double[] expected = FinalRows(ReferenceMemory.RunStates(system, input, batch, steps, channels), batch, steps, channels, order);
        float[] window = device.RunFinalState(input, steps, SequenceMethod.Scan);
        Assert.That(engine.LastWindow, Is.EqualTo(32));
        engine.WindowUse = ScanWindowUse.Never;
        device.Reset();
        float[] chained = device.RunFinalState(input, steps, SequenceMethod.Scan);
        Assert.That(engine.LastWindow, Is.Zero);
        Assert.That(ScanTestData.RelativeMaxError(window, expected), Is.LessThanOrEqualTo(2e-6));
        Assert.That(ScanTestData.RelativeMaxError(chained, expected), Is.LessThanOrEqualTo(1e-5));
    }

    [Test]
    public void DeviceViews_FinalOnlyAndAllStates_TakeTheWindow()
    {
        // The overloads on ILGPU views go through the same engine paths: final-only by the window (the final states
        // written in place), then all states with window carries, from the final-only run's states.
        const int order = 20, batch = 2, channels = 1, steps = 150;
        var system = LmuSystem.Create(order, 10);
        using var device = new LinearMemory(Simulator, system, batch, channels);
        var engine = (DeviceMemoryEngine)device.Engine;
        engine.WindowUse = ScanWindowUse.Always;
        using var host = new LinearMemory(Host, system, batch, channels);
        float[] u = ScanTestData.Uniform((long)batch * steps * channels, seed: 78);
        using var input = Simulator.Accelerator.Allocate1D(u);
        using var states = Simulator.Accelerator.Allocate1D<float>((long)batch * steps * channels * order);

        device.RunFinalState(input.View, steps, SequenceMethod.Scan);
        Assert.That(engine.LastWindow, Is.EqualTo(32));
        host.RunFinalState(u, steps, SequenceMethod.Sequential);
        Assert.That(ScanTestData.RelativeMaxError(device.GetStates(), host.GetStates()), Is.LessThanOrEqualTo(1e-5));

        device.RunStates(input.View, steps, states.View, SequenceMethod.Scan);
        Assert.That(engine.LastWindow, Is.EqualTo(32));
        float[] expected = host.RunStates(u, steps, SequenceMethod.Sequential);
        Assert.That(ScanTestData.RelativeMaxError(states.GetAsArray1D(), expected), Is.LessThanOrEqualTo(1e-5));
        Assert.That(ScanTestData.RelativeMaxError(device.GetStates(), host.GetStates()), Is.LessThanOrEqualTo(1e-5));
    }

    /// <summary>All states, the final states, decoded outputs and a final-only run from <paramref name="initial"/>
    /// (<see cref="ScanTestData.RunAll"/>), each taking the window, against the host path's sequential run within
    /// 1e-5.</summary>
    private void AssertWindowRunsMatchHostSequential(LinearMemory device, DeviceMemoryEngine engine, LmuSystem system, float[] initial, int steps, int seed, int expectedHorizon)
    {
        int batch = device.Batch, channels = device.Channels;
        using var host = new LinearMemory(Host, system, batch, channels);
        float[] input = ScanTestData.Uniform((long)batch * steps * channels, seed);
        var expected = ScanTestData.RunAll(host, input, initial, steps, SequenceMethod.Sequential);
        var actual = ScanTestData.RunAll(device, input, initial, steps, SequenceMethod.Scan,
            () => Assert.That(engine.LastWindow, Is.EqualTo(expectedHorizon)));
        ScanTestData.AssertRunsMatch(actual, expected, 1e-5);
    }

    /// <summary>The last step's rows [B·k, d] of reference states [B, T, k, d].</summary>
    private static double[] FinalRows(double[] states, int batch, int steps, int channels, int order)
    {
        var final = new double[(long)batch * channels * order];
        for (int b = 0; b < batch; b++)
        {
            Array.Copy(states, (((long)b * steps) + steps - 1) * channels * order, final, (long)b * channels * order, (long)channels * order);
        }

        return final;
    }
}
