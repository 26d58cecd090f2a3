using Lmu.Gpu.Kernels.Memory;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Scan;

/// <summary>
/// The tensor-core phase C (<see cref="ScanTensorKernels.ChunkStates"/>, 3×TF32) on ILGPU's CPU simulator configured
/// as a device of 256 threads per group and warps of 32, where the kernel runs its staging, tile layout, band order
/// and epilogue as on CUDA with the mma emulated from the documented fragment layout; against the double-precision
/// reference and the host's sequential run. The inline PTX itself is checked by <see cref="Kernels.Tf32AsmTests"/>.
/// </summary>
[TestFixture]
public sealed class TensorScanTests : GpuShapedSimulatorFixture
{
    [Test]
    public void ChunkStates_OnEmulatedTensorCores_MatchesReference()
    {
        // d = 20 (carry depth 32), L = 16: M = 320 rows in three row blocks (the last one half padding), K = 48 (three
        // stages for every block). B·k = 4 sequences of T = 150 (10 chunks, the last 6 steps long): 40 columns of one
        // partly empty column block. Decoded outputs with Q = 3.
        const int order = 20, batch = 2, channels = 2, steps = 150, chunk = 16, delays = 3;
        var system = LmuSystem.Create(order, 40);
        float[] input = ScanTestData.Uniform((long)batch * steps * channels, seed: 61);
        float[] decoders = ScanTestData.Uniform((long)delays * order, seed: 62);
        double[] reference = ReferenceMemory.RunStates(system, input, batch, steps, channels);

        using var engine = new DeviceMemoryEngine(GpuShaped, system, batch, channels) { StatesKernel = ScanStatesKernel.Tensor };
        var states = new float[reference.Length];
        engine.RunScan(input, steps, MemoryOutputMode.AllStates, [], 0, states, chunk);
        using var decodingEngine = new DeviceMemoryEngine(GpuShaped, system, batch, channels) { StatesKernel = ScanStatesKernel.Tensor };
        var decoded = new float[(long)batch * steps * channels * delays];
        decodingEngine.RunScan(input, steps, MemoryOutputMode.Decoded, decoders, delays, decoded, chunk);

        Assert.That(ScanTestData.RelativeMaxError(states, reference), Is.LessThanOrEqualTo(1e-5));
        Assert.That(ScanTestData.RelativeMaxError(decoded, ScanTestData.Decode(reference, decoders, delays, order)), Is.LessThanOrEqualTo(1e-5));
    }

    [Test]
    public void ChunkStates_OnEmulatedTensorCores_MatchesHostSequentialAcrossColumnBlocks()
    {
        // d = 36 (carry depth 48), L = 8, T = 1,001 (126 chunks, the last one 1 step long), B = 3: 378 columns, three
        // column blocks and a partial fourth; M = 288 rows (three row blocks). From non-zero initial states, inputs of
        // 2,000× the unit range so that the TF32 remainders matter.
        AssertTensorScanMatchesHostSequential(order: 36, theta: 200, batch: 3, steps: 1_001, chunk: 8, seed: 63, inputScale: 2_000f, stateScale: 500f);
    }

    [Test]
    public void ChunkStates_OnEmulatedTensorCores_StopsEachBlockAtItsLastStep()
    {
        // d = 8 (carry depth 16), L = 64: K = 80 (five stages) and M = 512 rows in four row blocks of 16 steps each;
        // block r needs the inputs up to step 16·r + 15 only, so it stops after 2, 3, 4 and 5 stages. T = 1,000 (16
        // chunks, the last 40 steps long), B = 2, from non-zero initial states.
        AssertTensorScanMatchesHostSequential(order: 8, theta: 100, batch: 2, steps: 1_000, chunk: 64, seed: 67, inputScale: 1f, stateScale: 1f);
    }

    [Test]
    public void WindowProducts_OnEmulatedTensorCores_MatchHostSequential([Values(false, true)] bool window)
    {
        // With phase C on tensor cores the window products run there too: d = 20, θ = 10 (H = 32), L = 8, T = 150
        // (19 chunks, the last 6 steps long), B = 2, k = 2, from random initial states and inputs of 2,000× the unit
        // range. With the window: the first K = 7 chunks chained (phase A by the product), the rest from windows; without:
        // phase A and level 1 of the chained carries (segments of 3) by the product.
        const int order = 20, batch = 2, channels = 2, steps = 150;
        var system = LmuSystem.Create(order, 10);
        float[] input = ScanTestData.Uniform((long)batch * steps * channels, seed: 68, scale: 2_000f);
        float[] initial = ScanTestData.Uniform((long)batch * channels * order, seed: 69, scale: 500f);
        using var hostDevice = LmuDevice.Open(AcceleratorKind.Cpu);
        using var host = new LinearMemory(hostDevice, system, batch, channels);
        host.SetStates(initial);
        float[] expected = host.RunStates(input, steps, SequenceMethod.Sequential);

        using var engine = new DeviceMemoryEngine(GpuShaped, system, batch, channels)
        {
            StatesKernel = ScanStatesKernel.Tensor,
            WindowUse = window ? ScanWindowUse.Always : ScanWindowUse.Never,
            ProductUse = ProductUse.Always,
            CarrySegment = 3,
        };
        engine.SetStates(initial);
        var states = new float[expected.Length];
        engine.RunScan(input, steps, MemoryOutputMode.AllStates, [], 0, states, 8);
        var final = new float[initial.Length];
        engine.GetStates(final);
        Assert.That(engine.LastWindow, Is.EqualTo(window ? 32 : 0));
        Assert.That(engine.LastWindowProducts, Is.EqualTo(2));
        Assert.That(ScanTestData.RelativeMaxError(states, expected), Is.LessThanOrEqualTo(1e-5));
        Assert.That(ScanTestData.RelativeMaxError(final, host.GetStates()), Is.LessThanOrEqualTo(1e-5));
    }

    [Test]
    public void StepOnTile_OnEmulatedTensorCores_MatchesTheHostProduct()
    {
        // The fragment check lmu selftest runs first on CUDA: every lane's 64 accumulators after one stage.
        Assert.That(TensorFragmentCheck.Run(GpuShaped, seed: 65), Is.LessThanOrEqualTo(1e-6));
    }

    [Test]
    public void StepOnTile_ThrowsForSmallGroups()
    {
        using var device = LmuDevice.Open(AcceleratorKind.CpuSimulator);
        Assert.Throws<NotSupportedException>(() => TensorFragmentCheck.Run(device.Accelerator, seed: 1));
    }

    [Test]
    public void StatesKernel_ThrowsForTensorOnSmallGroups()
    {
        // The default simulated device allows 16 threads per group; the kernel needs 256.
        using var device = LmuDevice.Open(AcceleratorKind.CpuSimulator);
        using var engine = new DeviceMemoryEngine(device.Accelerator, LmuSystem.Create(8, 10), 1, 1);
        var error = Assert.Throws<NotSupportedException>(() => engine.StatesKernel = ScanStatesKernel.Tensor);
        Assert.That(error!.Message, Does.Contain("LMU_SCAN_STATES=tf32"));
        Assert.That(engine.StatesKernel, Is.EqualTo(ScanStatesKernel.Gemm));
        Assert.That(DeviceMemoryEngine.SupportsTensorKernel(GpuShaped), Is.True);
    }

    [Test]
    public void Parse_NamesTheTensorKernel()
    {
        Assert.That(ScanStatesKernelParser.Parse(" TF32 "), Is.EqualTo(ScanStatesKernel.Tensor));
        Assert.That(DeviceMemoryEngine.ChooseChunkLength(ScanStatesKernel.Tensor, 256, 64, 100_000),
            Is.EqualTo(DeviceMemoryEngine.ChooseChunkLength(ScanStatesKernel.Gemm, 256, 64, 100_000)));
    }

    /// <summary>All states and the final states of the tensor-core scan (one channel, from random initial states) against
    /// the host's sequential run, within 10⁻⁵ of the largest state.</summary>
    private void AssertTensorScanMatchesHostSequential(int order, double theta, int batch, int steps, int chunk, int seed, float inputScale, float stateScale)
    {
        var system = LmuSystem.Create(order, theta);
        float[] input = ScanTestData.Uniform((long)batch * steps, seed, inputScale);
        float[] initial = ScanTestData.Uniform((long)batch * order, seed + 1, stateScale);
        using var hostDevice = LmuDevice.Open(AcceleratorKind.Cpu);
        using var host = new LinearMemory(hostDevice, system, batch);
        host.SetStates(initial);
        float[] expected = host.RunStates(input, steps, SequenceMethod.Sequential);

        using var engine = new DeviceMemoryEngine(GpuShaped, system, batch, 1) { StatesKernel = ScanStatesKernel.Tensor };
        engine.SetStates(initial);
        var states = new float[expected.Length];
        engine.RunScan(input, steps, MemoryOutputMode.AllStates, [], 0, states, chunk);
        var final = new float[initial.Length];
        engine.GetStates(final);
        Assert.That(ScanTestData.RelativeMaxError(states, expected), Is.LessThanOrEqualTo(1e-5));
        Assert.That(ScanTestData.RelativeMaxError(final, host.GetStates()), Is.LessThanOrEqualTo(1e-5));
    }
}
