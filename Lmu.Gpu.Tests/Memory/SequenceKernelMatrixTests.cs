using Lmu.Gpu.Tests.Scan;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Memory;

/// <summary>The sequence kernel with Āᵀ in shared memory (orders whose d² floats fit beside the states) and read from
/// global memory (larger orders), on ILGPU's CPU simulator against the double-precision reference.</summary>
[TestFixture]
public sealed class SequenceKernelMatrixTests
{
    private LmuDevice _simulator = null!;

    [OneTimeSetUp]
    public void OpenDevice() => _simulator = LmuDevice.Open(AcceleratorKind.CpuSimulator);

    [OneTimeTearDown]
    public void CloseDevice() => _simulator.Dispose();

    [TestCase(104, true)]
    [TestCase(112, false)]
    public void Sequence_WithAndWithoutTheMatrixInShared_MatchesReference(int order, bool inShared)
    {
        // 16 threads per group on the simulator: P = 1, so (2 + 1)·d + d² floats decide: 312 + 10,816 fit in 12,288,
        // 336 + 12,544 do not.
        var (_, parts) = DeviceMemoryEngine.SequenceShape(_simulator.Accelerator, order);
        Assert.That(parts, Is.EqualTo(1));
        Assert.That(DeviceMemoryEngine.MatrixFitsShared(order, parts), Is.EqualTo(inShared));
        const int batch = 2, steps = 12;
        var system = LmuSystem.Create(order, 30);
        float[] input = ScanTestData.Uniform((long)batch * steps, seed: 41);
        using var memory = new LinearMemory(_simulator, system, batch);
        float[] states = memory.RunStates(input, steps, SequenceMethod.Sequential);
        double[] reference = ReferenceMemory.RunStates(system, input, batch, steps, 1);
        Assert.That(ScanTestData.RelativeMaxError(states, reference), Is.LessThanOrEqualTo(1e-5));
    }

    [TestCase(64, 4, true)]
    [TestCase(100, 7, true)]
    [TestCase(108, 7, false)]
    [TestCase(256, 16, false)]
    public void MatrixFitsShared_KeepsWithin48KiB(int order, int parts, bool expected) =>
        Assert.That(DeviceMemoryEngine.MatrixFitsShared(order, parts), Is.EqualTo(expected));
}
