using ILGPU;
using ILGPU.Runtime;
using Lmu.Gpu.Kernels.Training;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Devices;

/// <summary><see cref="DeviceKernels"/>: one launcher per accelerator, kernel and launcher type, held for the
/// accelerator's life (ILGPU 1.5.3's own cache lets a garbage collection drop loaded kernels).</summary>
[TestFixture]
public sealed class DeviceKernelsTests : SimulatorAndHostFixture
{
    [Test]
    public void GetOrLoad_LoadsOnceAndKeepsTheLauncherThroughCollections()
    {
        int loads = 0;
        Action<Index1D, ArrayView<float>, ArrayView<float>, float> Load(Accelerator a)
        {
            loads++;
            return a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float>(TrainingKernels.Sgd);
        }

        var first = DeviceKernels.GetOrLoad(Simulator.Accelerator, TrainingKernels.Sgd, Load);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var second = DeviceKernels.GetOrLoad(Simulator.Accelerator, TrainingKernels.Sgd, Load);
        Assert.That(second, Is.SameAs(first));
        Assert.That(loads, Is.LessThanOrEqualTo(1), "loaded again although the cache held it");
    }

    [Test]
    public void GetOrLoad_KeepsOneLauncherPerAccelerator()
    {
        using var other = LmuDevice.Open(AcceleratorKind.CpuSimulator);
        var here = DeviceKernels.GetOrLoad(Simulator.Accelerator, TrainingKernels.Sgd,
            a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float>(TrainingKernels.Sgd));
        var there = DeviceKernels.GetOrLoad(other.Accelerator, TrainingKernels.Sgd,
            a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float>(TrainingKernels.Sgd));
        Assert.That(there, Is.Not.SameAs(here));
    }
}
