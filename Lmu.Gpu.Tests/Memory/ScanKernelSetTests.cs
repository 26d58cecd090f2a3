using System.Runtime.CompilerServices;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Memory;

/// <summary><see cref="ScanKernelSet"/>: the device engine's kernels are loaded once per accelerator and setting and
/// held for the accelerator's life, so that a garbage collection between two memories does not make the second one
/// compile them again (ILGPU 1.5.3 caches loaded kernels through weak references only).</summary>
[TestFixture]
public sealed class ScanKernelSetTests : SimulatorAndHostFixture
{
    [Test]
    public void For_ReturnsTheSameSetAfterTheEnginesAreCollected()
    {
        var first = LoadThroughAnEngine(Simulator);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.That(ScanKernelSet.For(Simulator.Accelerator), Is.SameAs(first));
        Assert.That(ScanKernelSet.For(Simulator.Accelerator).ChunkSteps, Is.SameAs(first.ChunkSteps));
    }

    [Test]
    public void For_KeepsOneSetPerSpecializationSetting()
    {
        var specialised = ScanKernelSet.For(Simulator.Accelerator);
        ScanKernelSpecialization.Override = false;
        try
        {
            var runTime = ScanKernelSet.For(Simulator.Accelerator);
            Assert.That(runTime, Is.Not.SameAs(specialised));
            Assert.That(ScanKernelSet.For(Simulator.Accelerator), Is.SameAs(runTime));
        }
        finally
        {
            ScanKernelSpecialization.Override = null;
        }
    }

    /// <summary>Makes a memory, runs a scan, disposes it, and returns the set its engine used (no reference to the
    /// memory survives the call).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ScanKernelSet LoadThroughAnEngine(LmuDevice device)
    {
        using var memory = new LinearMemory(device, LmuSystem.Create(4, 20));
        memory.RunStates(new float[200], 200, SequenceMethod.Scan);
        return ScanKernelSet.For(device.Accelerator);
    }
}
