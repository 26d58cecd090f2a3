using Lmu.Gpu.Kernels.Spiking;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Spiking;

/// <summary>Compiles every spiking kernel with ILGPU's PTX backend (sm_80, no GPU needed), so that constructs the CPU
/// simulator accepts but the CUDA backend rejects are caught before a GPU session.</summary>
public class SpikingPtxTests
{
    private static IEnumerable<TestCaseData> Kernels()
    {
        yield return new TestCaseData(typeof(NeuronKernels), nameof(NeuronKernels.PoissonRun), true);
        yield return new TestCaseData(typeof(NeuronKernels), nameof(NeuronKernels.PoissonLevelsRun), true);
        yield return new TestCaseData(typeof(NeuronKernels), nameof(NeuronKernels.LifRun), true);
        yield return new TestCaseData(typeof(SpikingLmuKernels), nameof(SpikingLmuKernels.Neurons), true);
        yield return new TestCaseData(typeof(SpikingLmuKernels), nameof(SpikingLmuKernels.Filter), false);
        yield return new TestCaseData(typeof(SpikingLmuKernels), nameof(SpikingLmuKernels.Recur), false);
    }

    [TestCaseSource(nameof(Kernels))]
    public void Kernel_CompilesToPtx(Type type, string name, bool explicitlyGrouped)
    {
        Assert.That(KernelPtx.Compile(type.GetMethod(name)!, explicitlyGrouped), Does.Contain(".target sm_80"));
    }

    [Test]
    public void NeuronKernel_UsesAHardwareFloatReduction()
    {
        string ptx = KernelPtx.Compile(typeof(SpikingLmuKernels).GetMethod(nameof(SpikingLmuKernels.Neurons))!, explicitlyGrouped: true);
        Assert.That(ptx, Does.Contain("red.add.f32").Or.Contain("atom.global.add.f32"));
    }
}
