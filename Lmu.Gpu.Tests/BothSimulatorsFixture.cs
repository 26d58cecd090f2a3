using ILGPU.Runtime;
using NUnit.Framework;

namespace Lmu.Gpu.Tests;

/// <summary>Base of the fixtures that run kernels on both CPU simulators: ILGPU's default simulated device (groups of up
/// to 16 threads, warps of 4) and the GPU-shaped one of <see cref="GpuShapedSimulatorFixture"/>.</summary>
public abstract class BothSimulatorsFixture : GpuShapedSimulatorFixture
{
    private LmuDevice _simulator = null!;

    /// <summary>The default simulated device.</summary>
    protected Accelerator DefaultSimulator => _simulator.Accelerator;

    /// <summary>Opens the default simulator.</summary>
    [OneTimeSetUp]
    public void OpenDefaultSimulator() => _simulator = LmuDevice.Open(AcceleratorKind.CpuSimulator);

    /// <summary>Disposes it.</summary>
    [OneTimeTearDown]
    public void CloseDefaultSimulator() => _simulator.Dispose();

    /// <summary>The GPU-shaped simulator or the default one.</summary>
    /// <param name="gpuShaped">Which.</param>
    /// <returns>The accelerator.</returns>
    protected Accelerator Simulator(bool gpuShaped) => gpuShaped ? GpuShaped : DefaultSimulator;
}
