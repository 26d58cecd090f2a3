using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime.Cuda;
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
        yield return new TestCaseData(typeof(NeuronKernels), nameof(NeuronKernels.LifRun), true);
        yield return new TestCaseData(typeof(SpikingLmuKernels), nameof(SpikingLmuKernels.Neurons), true);
        yield return new TestCaseData(typeof(SpikingLmuKernels), nameof(SpikingLmuKernels.Filter), false);
        yield return new TestCaseData(typeof(SpikingLmuKernels), nameof(SpikingLmuKernels.Recur), false);
    }

    [TestCaseSource(nameof(Kernels))]
    public void Kernel_CompilesToPtx(Type type, string name, bool explicitlyGrouped)
    {
        using var context = Context.Create(b => b.Cuda().EnableAlgorithms());
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_80), CudaArchitecture.SM_80,
            CudaInstructionSet.ISA_80, null);
        MethodInfo method = type.GetMethod(name)!;
        var entry = explicitlyGrouped
            ? EntryPointDescription.FromExplicitlyGroupedKernel(method)
            : EntryPointDescription.FromImplicitlyGroupedKernel(method);
        var compiled = (PTXCompiledKernel)backend.Compile(entry, default);
        Assert.That(compiled.PTXAssembly, Does.Contain(".target sm_80"));
    }

    [Test]
    public void NeuronKernel_UsesAHardwareFloatReduction()
    {
        using var context = Context.Create(b => b.Cuda().EnableAlgorithms());
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_80), CudaArchitecture.SM_80,
            CudaInstructionSet.ISA_80, null);
        var entry = EntryPointDescription.FromExplicitlyGroupedKernel(typeof(SpikingLmuKernels).GetMethod(nameof(SpikingLmuKernels.Neurons))!);
        var ptx = ((PTXCompiledKernel)backend.Compile(entry, default)).PTXAssembly;
        Assert.That(ptx, Does.Contain("red.add.f32").Or.Contain("atom.global.add.f32"));
    }
}
