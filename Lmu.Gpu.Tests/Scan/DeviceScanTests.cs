using Lmu.Gpu.Kernels.Memory;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Scan;

/// <summary>The scan kernels on ILGPU's CPU simulator (tiny sizes: each simulated thread is an OS thread), against
/// the host path's sequential run with the same inputs and initial states.</summary>
[TestFixture]
public sealed class DeviceScanTests : SimulatorAndHostFixture
{
    private const int Order = 6;
    private const int Batch = 2;
    private const int Channels = 2;

    [Test]
    public void AllVariants_ScanOnSimulatorMatchesHostSequential(
        [Values(0, 7, 200)] int chunkLength, [Values(Order, 4, 20)] int order, [Values(false, true)] bool product)
    {
        // product: phase C as one matrix product (ScanGemmKernels) with 4 × 4 threads per group on the simulator
        // (blocks of 32 × 32 outputs), so L = 7 and d = 20 leave padded rows (M = 140 of 160) and padded depth
        // (K = 27 of 32); L = 200 is clamped to the whole sequence.
        const int steps = 150;
        var system = LmuSystem.Create(order, 20);
        using var device = new LinearMemory(Simulator, system, Batch, Channels) { ChunkLength = chunkLength };
        ((DeviceMemoryEngine)device.Engine).StatesKernel = product ? ScanStatesKernel.Gemm : ScanStatesKernel.Steps;
        AssertScanMatchesHostSequential(device, system, steps, seed: 4);
    }

    [Test]
    public void Product_InBandsOfRowBlocks_ScanOnSimulatorMatchesHostSequential()
    {
        // d = 20, L = 64 on the simulator's 32 × 32 blocks: 40 row blocks in bands of 16, 16 and 8, times 4 column
        // blocks (B·k = 4 sequences of 32 chunks, T = 2,000, the last chunk 16 steps long).
        const int steps = 2_000;
        var system = LmuSystem.Create(20, 150);
        using var device = new LinearMemory(Simulator, system, Batch, Channels) { ChunkLength = 64 };
        ((DeviceMemoryEngine)device.Engine).StatesKernel = ScanStatesKernel.Gemm;
        Assert.That(ScanGemmKernels.BandBlocks, Is.EqualTo(16));
        AssertScanMatchesHostSequential(device, system, steps, seed: 21);
    }

    [Test]
    public void ChunkEnds_ByProductOrByRows_ScanOnSimulatorMatchesHostSequential(
        [Values(7, 200)] int chunkLength, [Values(4, 20)] int order, [Values(false, true)] bool endsByProduct)
    {
        // Phase A by WindowGemmKernels.WindowProduct (windows of L steps aligned to the chunks; the last chunk of
        // 150 = 21·7 + 3 steps reads only its own 3) or by ScanKernels.ChunkEnds, one group per chunk.
        const int steps = 150;
        var system = LmuSystem.Create(order, 20);
        using var device = new LinearMemory(Simulator, system, Batch, Channels) { ChunkLength = chunkLength };
        var engine = (DeviceMemoryEngine)device.Engine;
        engine.WindowUse = ScanWindowUse.Never;
        engine.ProductUse = endsByProduct ? ProductUse.Always : ProductUse.Never;
        AssertScanMatchesHostSequential(device, system, steps, seed: 24);
        Assert.That(engine.LastWindowProducts, Is.EqualTo(endsByProduct ? 1 : 0));
    }

    [Test]
    public void Unspecialized_ScanOnSimulatorMatchesHostSequential([Values(false, true)] bool product)
    {
        // $LMU_SPECIALIZE=0: the chunk-step flags and the product's group side read at run time instead of compiled in.
        ScanKernelSpecialization.Override = false;
        try
        {
            var system = LmuSystem.Create(20, 20);
            using var device = new LinearMemory(Simulator, system, Batch, Channels) { ChunkLength = 7 };
            ((DeviceMemoryEngine)device.Engine).StatesKernel = product ? ScanStatesKernel.Gemm : ScanStatesKernel.Steps;
            AssertScanMatchesHostSequential(device, system, 150, seed: 23);
        }
        finally
        {
            ScanKernelSpecialization.Override = null;
        }
    }

    [TestCase("1", true)]
    [TestCase(" ON ", true)]
    [TestCase("0", false)]
    [TestCase("false", false)]
    public void ScanKernelSpecialization_ParsesSwitches(string value, bool expected) =>
        Assert.That(ScanKernelSpecialization.Parse(value), Is.EqualTo(expected));

    [Test]
    public void ScanKernelSpecialization_ThrowsForOtherValues() =>
        Assert.That(() => ScanKernelSpecialization.Parse("maybe"), Throws.ArgumentException.With.Message.Contains("LMU_SPECIALIZE"));

    [Test]
    public void TwoLevelCarries_ScanOnSimulatorMatchesHostSequential([Values(2, 5)] int segment, [Values(Order, 4, 20)] int order,
        [Values(false, true)] bool product)
    {
        // L = 4 and T = 150: C = 38 chunks, the last one 2 steps long; the chain of 37 whole chunks falls into
        // segments of 2 (19, the last of 1) or 5 (8, the last of 2). The orders take the three chunk-step paths. With
        // product, phase A and level 1 (each segment's end from its G·L inputs, the last segment's ending at step 147
        // before the short last chunk) take the window product; without, the row kernel and G lock-step steps.
        const int steps = 150;
        var system = LmuSystem.Create(order, 20);
        using var device = new LinearMemory(Simulator, system, Batch, Channels) { ChunkLength = 4 };
        var engine = (DeviceMemoryEngine)device.Engine;
        engine.CarrySegment = segment;
        engine.WindowUse = ScanWindowUse.Never;
        engine.ProductUse = product ? ProductUse.Always : ProductUse.Never;
        AssertScanMatchesHostSequential(device, system, steps, seed: 14);
        Assert.That(engine.LastWindowProducts, Is.EqualTo(product ? 2 : 0));
    }

    [Test]
    public void TwoLevelCarries_AdjointOnSimulatorMatchesHostSequential([Values(2, 5)] int segment, [Values(Order, 4, 20)] int order)
    {
        // L = 4 and T = 101: C = 26 chunks (the last one step long) in segments of 2 (13) or 5 (6, the last of 1).
        const int steps = 101;
        var system = LmuSystem.Create(order, 30);
        using var device = new LinearMemory(Simulator, system, Batch, Channels) { ChunkLength = 4 };
        ((DeviceMemoryEngine)device.Engine).CarrySegment = segment;
        using var host = new LinearMemory(Host, system, Batch, Channels);
        float[] gradients = ScanTestData.Uniform((long)Batch * steps * Channels * order, seed: 18);
        var expected = host.RunAdjoint(gradients, steps, SequenceMethod.Sequential);
        var actual = device.RunAdjoint(gradients, steps, SequenceMethod.Scan);
        ScanTestData.AssertAdjointsMatch(actual, expected, 1e-5);
    }

    [Test]
    public void TwoLevelCarries_ChosenByDefaultForLongSequences_MatchHostSequential()
    {
        // T = 4,000 at L = 16 (the lock-step kernel's rule): a chain of 249 carries, which the default rule splits into
        // segments of 4.
        const int steps = 4_000;
        var system = LmuSystem.Create(4, 300);
        using var device = new LinearMemory(Simulator, system, 1, 1);
        var engine = (DeviceMemoryEngine)device.Engine;
        engine.StatesKernel = ScanStatesKernel.Steps;
        engine.WindowUse = ScanWindowUse.Never;
        Assert.That(engine.ChooseChunkLength(steps), Is.EqualTo(16));
        Assert.That(CarrySegments.ChooseSegment(249), Is.EqualTo(4));
        using var host = new LinearMemory(Host, system, 1, 1);
        float[] input = ScanTestData.Uniform(steps, seed: 19);
        float[] expected = host.RunStates(input, steps, SequenceMethod.Sequential);
        float[] states = device.RunStates(input, steps, SequenceMethod.Scan);
        Assert.That(ScanTestData.RelativeMaxError(states, expected), Is.LessThanOrEqualTo(1e-5));
        Assert.That(ScanTestData.RelativeMaxError(device.GetStates(), host.GetStates()), Is.LessThanOrEqualTo(1e-5));
    }

    [TestCase(1, 0)]
    [TestCase(90, 0)]
    [TestCase(100, 3)]
    [TestCase(249, 4)]
    [TestCase(1_562, 9)]
    [TestCase(15_624, 28)]
    public void CarrySegments_ChooseSegmentMinimisesTheWeightedDepth(int serialSteps, int expected)
    {
        // Weighted depth 2·10·G + ⌈n/G⌉ against n for one pass: at 90 carries G = 3 gives 60 + 30, no better than the single
        // pass; at 100, 60 + 34. 1,562: the chain at d = 256, L = 64, T = 10⁵ (20·9 + 174 = 354 instead of 1,562, and
        // fastest on the H200 among G = 4, 9, 16, 28); 15,624: T = 10⁶.
        Assert.That(CarrySegments.ChooseSegment(serialSteps), Is.EqualTo(expected));
    }

    /// <summary>All states, the final state, the decoded outputs (delays 0, θ/2, θ) and the final-only run of the
    /// device's scan from random initial states equal the host path's sequential run within 1e-5 of their largest
    /// value.</summary>
    private void AssertScanMatchesHostSequential(LinearMemory device, LmuSystem system, int steps, int seed)
    {
        using var host = new LinearMemory(Host, system, Batch, Channels);
        float[] input = ScanTestData.Uniform((long)Batch * steps * Channels, seed);
        float[] initial = ScanTestData.Uniform(host.StateLength, seed + 1);
        var expected = ScanTestData.RunAll(host, input, initial, steps, SequenceMethod.Sequential);
        ScanTestData.AssertRunsMatch(ScanTestData.RunAll(device, input, initial, steps, SequenceMethod.Scan), expected, 1e-5);
    }

    [Test]
    public void ChunkLength_ForTheProductIsShort()
    {
        var system = LmuSystem.Create(256, 1000);
        using var device = new LinearMemory(Simulator, system, 1, 1);
        var engine = (DeviceMemoryEngine)device.Engine;
        engine.StatesKernel = ScanStatesKernel.Gemm;
        Assert.That(engine.ChooseChunkLength(100_000), Is.EqualTo(64));
        Assert.That(engine.ChooseChunkLength(40), Is.EqualTo(40));
        using var small = new LinearMemory(Simulator, LmuSystem.Create(64, 1000), 1, 1);
        ((DeviceMemoryEngine)small.Engine).StatesKernel = ScanStatesKernel.Gemm;
        Assert.That(small.Engine.ChooseChunkLength(100_000), Is.EqualTo(32));
    }

    [Test]
    public void ChunkLength_OfFinalOnlyRunsAndTheAdjointFollowsTheLockStepRule()
    {
        // The product is the default phase C for states (L = 32 at d = 4), but a final-only run and the adjoint have no
        // product to run: they keep the lock-step kernel's rule (L = 16 for one sequence of 10⁵ steps at d = 4, 1,024
        // for 64 sequences), and Auto asks the rule of the run's mode (scan once T holds four chunks).
        var system = LmuSystem.Create(4, 300);
        using var device = new LinearMemory(Simulator, system, 1, 1);
        var engine = (DeviceMemoryEngine)device.Engine;
        Assert.That(engine.StatesKernel, Is.EqualTo(ScanStatesKernel.Gemm));
        Assert.That(engine.ChooseChunkLength(100_000), Is.EqualTo(32));
        Assert.That(DeviceMemoryEngine.ChooseChunkLength(ScanStatesKernel.Steps, 4, 1, 100_000), Is.EqualTo(16));
        Assert.That(DeviceMemoryEngine.ChooseChunkLength(ScanStatesKernel.Steps, 4, 64, 100_000), Is.EqualTo(1024));
        Assert.That(engine.PrefersScan(100, MemoryOutputMode.AllStates), Is.False);
        Assert.That(engine.PrefersScan(100, MemoryOutputMode.FinalOnly), Is.True);
        Assert.That(engine.PrefersScan(128, MemoryOutputMode.AllStates), Is.True);
        Assert.That(engine.PrefersScan(64, MemoryOutputMode.AllStates), Is.False, "four chunks of 32");
        Assert.That(engine.PrefersAdjointScan(64), Is.True, "the adjoint's rule: four chunks of 16");
        Assert.That(engine.PrefersAdjointScan(63), Is.False);
    }

    [Test]
    public void ForwardAndAdjoint_AlternatingOnTheDefaultKernels_MatchHostSequential()
    {
        // A training step's pattern: a forward run (the product, L = 32) then an adjoint (lock-step kernel, L = 16), twice,
        // on one engine: each keeps its own plan, and both stay correct after the other ran.
        const int steps = 300;
        var system = LmuSystem.Create(Order, 40);
        using var device = new LinearMemory(Simulator, system, Batch, Channels);
        using var host = new LinearMemory(Host, system, Batch, Channels);
        float[] input = ScanTestData.Uniform((long)Batch * steps * Channels, seed: 31);
        float[] gradients = ScanTestData.Uniform((long)Batch * steps * Channels * Order, seed: 32);
        float[] expectedStates = host.RunStates(input, steps, SequenceMethod.Sequential);
        var expectedAdjoint = host.RunAdjoint(gradients, steps, SequenceMethod.Sequential);
        for (int round = 0; round < 2; round++)
        {
            device.SetStates(new float[device.StateLength]);
            float[] states = device.RunStates(input, steps, SequenceMethod.Scan);
            Assert.That(ScanTestData.RelativeMaxError(states, expectedStates), Is.LessThanOrEqualTo(1e-5), $"round {round}");
            ScanTestData.AssertAdjointsMatch(device.RunAdjoint(gradients, steps, SequenceMethod.Scan), expectedAdjoint, 1e-5);
        }
    }

    [Test]
    public void ScanStatesKernel_ParsesNamesAndThrowsForUnknown()
    {
        Assert.That(ScanStatesKernelParser.Parse(" GEMM "), Is.EqualTo(ScanStatesKernel.Gemm));
        Assert.That(ScanStatesKernelParser.Parse("steps"), Is.EqualTo(ScanStatesKernel.Steps));
        Assert.That(() => ScanStatesKernelParser.Parse("fft"), Throws.ArgumentException.With.Message.Contains("LMU_SCAN_STATES"));
    }

    [Test]
    public void RunAdjoint_OnSimulatorMatchesHostSequential(
        [Values(SequenceMethod.Sequential, SequenceMethod.Scan)] SequenceMethod method, [Values(Order, 4, 20)] int order)
    {
        // On the simulator (16-thread groups) order 4 takes the single-buffer 4×4 path, 20 the double-buffered 4×4
        // path, Order (6) the one-row path.
        const int steps = 101;
        var system = LmuSystem.Create(order, 30);
        using var device = new LinearMemory(Simulator, system, Batch, Channels) { ChunkLength = 16 };
        using var host = new LinearMemory(Host, system, Batch, Channels);
        float[] gradients = ScanTestData.Uniform((long)Batch * steps * Channels * order, seed: 8);
        var expected = host.RunAdjoint(gradients, steps, SequenceMethod.Sequential);
        var actual = device.RunAdjoint(gradients, steps, method);
        ScanTestData.AssertAdjointsMatch(actual, expected, 1e-5);
    }

    [TestCase(6, 0)]
    [TestCase(20, ScanKernels.ScanTile4x4)]
    [TestCase(4, ScanKernels.ScanTile4x4 | ScanKernels.ScanSingleBuffer)]
    public void ChunkStepFlags_OnSimulator_CoverEveryKernelPath(int order, int expected)
    {
        // The orders used above must reach all three chunk-step paths of the kernel on the simulator.
        Assert.That(DeviceMemoryEngine.ChunkStepFlags(Simulator.Accelerator, order), Is.EqualTo(expected));
    }
}
