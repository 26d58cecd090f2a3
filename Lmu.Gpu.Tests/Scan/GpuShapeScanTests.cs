using Lmu.Gpu.Kernels.Memory;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Scan;

/// <summary>
/// The scan kernels at the group shapes they get on a GPU, on ILGPU's CPU simulator configured as a device of 256
/// threads per group and warps of 32 (the default simulated device allows 16 threads per group and warps of 4): the
/// matrix-product phase C with 16 × 16 threads, 128 × 128 output blocks and stages of 16 depths, and the two-level
/// carries with the lock-step kernels' GPU tiles. Against the double-precision reference and the host path.
/// </summary>
[TestFixture]
public sealed class GpuShapeScanTests : GpuShapedSimulatorFixture
{
    [Test]
    public void ChunkStates_With256ThreadGroups_MatchesReference()
    {
        // d = 20 (carry depth 32), L = 16: M = 320 rows in three row blocks (the last one half padding), K = 48 (three
        // stages for every block). B·k = 4 sequences of T = 150 (10 chunks, the last 6 steps long): 40 columns of one
        // partly empty column block.
        const int order = 20, batch = 2, channels = 2, steps = 150, chunk = 16, delays = 3;
        Assert.That(DeviceMemoryEngine.GemmGroupSide(GpuShaped), Is.EqualTo(16));
        var system = LmuSystem.Create(order, 40);
        float[] input = ScanTestData.Uniform((long)batch * steps * channels, seed: 31);
        float[] decoders = ScanTestData.Uniform((long)delays * order, seed: 32);
        double[] reference = ReferenceMemory.RunStates(system, input, batch, steps, channels);

        using var engine = new DeviceMemoryEngine(GpuShaped, system, batch, channels) { StatesKernel = ScanStatesKernel.Gemm };
        var states = new float[reference.Length];
        engine.RunScan(input, steps, MemoryOutputMode.AllStates, [], 0, states, chunk);
        using var decodingEngine = new DeviceMemoryEngine(GpuShaped, system, batch, channels) { StatesKernel = ScanStatesKernel.Gemm };
        var decoded = new float[(long)batch * steps * channels * delays];
        decodingEngine.RunScan(input, steps, MemoryOutputMode.Decoded, decoders, delays, decoded, chunk);

        double[] expectedDecoded = ScanTestData.Decode(reference, decoders, delays, order);

        Assert.That(ScanTestData.RelativeMaxError(states, reference), Is.LessThanOrEqualTo(1e-5));
        Assert.That(ScanTestData.RelativeMaxError(decoded, expectedDecoded), Is.LessThanOrEqualTo(1e-5));
    }

    [Test]
    public void ChunkStates_With256ThreadGroups_StopsEachBlockAtItsLastStep()
    {
        // d = 8 (carry depth 16), L = 64: K = 80 (five stages of 16 depths) and M = 512 rows in four row blocks of 16
        // steps each, which stop after 2, 3, 4 and 5 stages. T = 1,000 (16 chunks, the last 40 steps long), B = 2.
        const int order = 8, batch = 2, channels = 1, steps = 1_000, chunk = 64;
        var system = LmuSystem.Create(order, 100);
        float[] input = ScanTestData.Uniform((long)batch * steps * channels, seed: 35);
        double[] reference = ReferenceMemory.RunStates(system, input, batch, steps, channels);
        using var engine = new DeviceMemoryEngine(GpuShaped, system, batch, channels) { StatesKernel = ScanStatesKernel.Gemm };
        var states = new float[reference.Length];
        engine.RunScan(input, steps, MemoryOutputMode.AllStates, [], 0, states, chunk);
        Assert.That(ScanTestData.RelativeMaxError(states, reference), Is.LessThanOrEqualTo(1e-5));
    }

    [Test]
    public void TwoLevelCarries_With256ThreadGroups_MatchHostSequential([Values(64, 512)] int order, [Values(false, true)] bool adjoint)
    {
        // The lock-step kernels' GPU tiles at d = 64 (single buffer, 64 columns) and at the largest order,
        // d = 512 (double buffer, 8 columns); L = 4, T = 150: 38 chunks, the chain of 37 in segments of 5.
        const int batch = 2, channels = 1, steps = 150, chunk = 4;
        var system = LmuSystem.Create(order, 30);
        using var engine = new DeviceMemoryEngine(GpuShaped, system, batch, channels) { CarrySegment = 5, WindowUse = ScanWindowUse.Never };
        using var hostDevice = LmuDevice.Open(AcceleratorKind.Cpu);
        using var host = new LinearMemory(hostDevice, system, batch, channels);
        if (!adjoint)
        {
            float[] input = ScanTestData.Uniform((long)batch * steps * channels, seed: 33);
            float[] expected = host.RunStates(input, steps, SequenceMethod.Sequential);
            var states = new float[expected.Length];
            engine.RunScan(input, steps, MemoryOutputMode.AllStates, [], 0, states, chunk);
            var final = new float[batch * channels * order];
            engine.GetStates(final);
            Assert.That(ScanTestData.RelativeMaxError(states, expected), Is.LessThanOrEqualTo(1e-5));
            Assert.That(ScanTestData.RelativeMaxError(final, host.GetStates()), Is.LessThanOrEqualTo(1e-5));
            return;
        }

        float[] gradients = ScanTestData.Uniform((long)batch * steps * channels * order, seed: 34);
        var reference = host.RunAdjoint(gradients, steps, SequenceMethod.Sequential);
        var lambda = new float[reference.Lambda.Length];
        var inputGradient = new float[reference.InputGradient.Length];
        var initialGradient = new float[reference.InitialStateGradient.Length];
        engine.RunAdjoint(gradients, steps, true, chunk, lambda, inputGradient, initialGradient);
        Assert.That(ScanTestData.RelativeMaxError(lambda, reference.Lambda), Is.LessThanOrEqualTo(1e-5));
        Assert.That(ScanTestData.RelativeMaxError(inputGradient, reference.InputGradient), Is.LessThanOrEqualTo(1e-5));
        Assert.That(ScanTestData.RelativeMaxError(initialGradient, reference.InitialStateGradient), Is.LessThanOrEqualTo(1e-5));
    }

    [Test]
    public void WindowCarries_With256ThreadGroups_MatchHostSequential([Values(64, 512)] int order)
    {
        // The window kernel at its GPU group shapes: one thread per row at d = 64 (two warps), and at d = 512 a group of
        // 256 whose threads take two rows each. θ = 30 (H = 72 at d = 64, 50 at d = 512), L = 4, T = 150 from zero
        // states: all 38 chunk carries from windows (ten groups of four, the last of two), then a final-only run.
        const int batch = 2, channels = 1, steps = 150, chunk = 4;
        var system = LmuSystem.Create(order, 30);
        using var engine = new DeviceMemoryEngine(GpuShaped, system, batch, channels)
        {
            WindowUse = ScanWindowUse.Always,
            StatesKernel = ScanStatesKernel.Steps,
        };
        using var hostDevice = LmuDevice.Open(AcceleratorKind.Cpu);
        using var host = new LinearMemory(hostDevice, system, batch, channels);
        float[] input = ScanTestData.Uniform((long)batch * steps * channels, seed: 35);
        float[] expected = host.RunStates(input, steps, SequenceMethod.Sequential);
        var states = new float[expected.Length];
        engine.RunScan(input, steps, MemoryOutputMode.AllStates, [], 0, states, chunk);
        Assert.That(engine.LastWindow, Is.EqualTo(ScanWindow.Horizon(system)).And.GreaterThan(0));
        var final = new float[batch * channels * order];
        engine.GetStates(final);
        Assert.That(ScanTestData.RelativeMaxError(states, expected), Is.LessThanOrEqualTo(1e-5));
        Assert.That(ScanTestData.RelativeMaxError(final, host.GetStates()), Is.LessThanOrEqualTo(1e-5));

        engine.SetStates(new float[final.Length]);
        engine.RunScan(input, steps, MemoryOutputMode.FinalOnly, [], 0, [], chunk);
        engine.GetStates(final);
        Assert.That(ScanTestData.RelativeMaxError(final, host.GetStates()), Is.LessThanOrEqualTo(1e-5));
    }

    [Test]
    public void DefaultScan_With256ThreadGroups_MatchesHostSequential()
    {
        // What a GPU runs with nothing forced: the product phase C (L = 32 at d < 128) for states and decoded outputs,
        // the lock-step kernel's chunk rule for the final-only run and the adjoint, and phase B in two levels wherever
        // the chain reaches about 100 carries (T = 3,500: 110 chunks of 32, G = 3). From non-zero initial states.
        const int order = 12, batch = 2, channels = 1, steps = 3_500;
        var system = LmuSystem.Create(order, 300);
        using var engine = new DeviceMemoryEngine(GpuShaped, system, batch, channels);
        Assert.That(engine.StatesKernel, Is.EqualTo(ScanStatesKernel.Gemm));
        Assert.That(engine.ChooseChunkLength(steps), Is.EqualTo(32));
        Assert.That(CarrySegments.ChooseSegment(109), Is.EqualTo(3));
        using var hostDevice = LmuDevice.Open(AcceleratorKind.Cpu);
        using var host = new LinearMemory(hostDevice, system, batch, channels);
        float[] input = ScanTestData.Uniform((long)batch * steps * channels, seed: 51);
        float[] initial = ScanTestData.Uniform((long)batch * channels * order, seed: 52);
        float[] decoders = ScanTestData.Uniform(2L * order, seed: 53);

        host.SetStates(initial);
        float[] expectedStates = host.RunStates(input, steps, SequenceMethod.Sequential);
        float[] expectedFinal = host.GetStates();
        double[] expectedDecoded = ScanTestData.Decode(Array.ConvertAll(expectedStates, x => (double)x), decoders, 2, order);

        var states = new float[expectedStates.Length];
        engine.SetStates(initial);
        engine.RunScan(input, steps, MemoryOutputMode.AllStates, [], 0, states, 0);
        var final = new float[initial.Length];
        engine.GetStates(final);
        var decoded = new float[expectedDecoded.Length];
        engine.SetStates(initial);
        engine.RunScan(input, steps, MemoryOutputMode.Decoded, decoders, 2, decoded, 0);
        var finalOnly = new float[initial.Length];
        engine.SetStates(initial);
        engine.RunScan(input, steps, MemoryOutputMode.FinalOnly, [], 0, [], 0);
        engine.GetStates(finalOnly);
        Assert.That(ScanTestData.RelativeMaxError(states, expectedStates), Is.LessThanOrEqualTo(1e-5));
        Assert.That(ScanTestData.RelativeMaxError(final, expectedFinal), Is.LessThanOrEqualTo(1e-5));
        Assert.That(ScanTestData.RelativeMaxError(decoded, expectedDecoded), Is.LessThanOrEqualTo(1e-5));
        Assert.That(ScanTestData.RelativeMaxError(finalOnly, expectedFinal), Is.LessThanOrEqualTo(1e-5));

        float[] gradients = ScanTestData.Uniform((long)batch * steps * channels * order, seed: 54);
        var reference = host.RunAdjoint(gradients, steps, SequenceMethod.Sequential);
        var lambda = new float[reference.Lambda.Length];
        var inputGradient = new float[reference.InputGradient.Length];
        var initialGradient = new float[reference.InitialStateGradient.Length];
        engine.RunAdjoint(gradients, steps, true, 0, lambda, inputGradient, initialGradient);
        Assert.That(ScanTestData.RelativeMaxError(lambda, reference.Lambda), Is.LessThanOrEqualTo(1e-5));
        Assert.That(ScanTestData.RelativeMaxError(inputGradient, reference.InputGradient), Is.LessThanOrEqualTo(1e-5));
        Assert.That(ScanTestData.RelativeMaxError(initialGradient, reference.InitialStateGradient), Is.LessThanOrEqualTo(1e-5));
    }

    [TestCase(17)]
    [TestCase(64)]
    [TestCase(128)]
    public void SequenceKernel_With256ThreadGroups_MatchesReference(int order)
    {
        // The sequential kernel at its GPU shape: P threads per row (P = 2, 4, 2) with Āᵀ in shared memory at d = 17
        // and 64, from global memory at d = 128 (d² floats do not fit beside the states).
        var (_, parts) = DeviceMemoryEngine.SequenceShape(GpuShaped, order);
        Assert.That(parts, Is.GreaterThan(1));
        Assert.That(DeviceMemoryEngine.MatrixFitsShared(order, parts), Is.EqualTo(order < 128));
        const int batch = 3, steps = 40;
        var system = LmuSystem.Create(order, 25);
        float[] input = ScanTestData.Uniform((long)batch * steps, seed: 42);
        using var engine = new DeviceMemoryEngine(GpuShaped, system, batch, 1);
        var states = new float[(long)batch * steps * order];
        engine.RunSequential(input, steps, MemoryOutputMode.AllStates, [], 0, states);
        double[] reference = ReferenceMemory.RunStates(system, input, batch, steps, 1);
        Assert.That(ScanTestData.RelativeMaxError(states, reference), Is.LessThanOrEqualTo(1e-5));
    }
}
