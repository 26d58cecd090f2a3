using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using NUnit.Framework;

namespace Lmu.Gpu.Tests;

/// <summary>Base of the fixtures that run kernels at the group shapes they get on a GPU: ILGPU's CPU simulator
/// configured as a device of 256 threads per group and warps of 32 (the default simulated device allows 16 threads per
/// group and warps of 4), opened once per fixture and disposed after it.</summary>
public abstract class GpuShapedSimulatorFixture
{
    private Context _context = null!;

    /// <summary>The simulated device: 32 threads per warp, 8 warps per multiprocessor, one multiprocessor.</summary>
    protected Accelerator GpuShaped { get; private set; } = null!;

    /// <summary>Opens the device.</summary>
    [OneTimeSetUp]
    public void OpenGpuShapedSimulator()
    {
        _context = Context.Create(b => b.CPU(new CPUDevice(32, 8, 1)).EnableAlgorithms());
        GpuShaped = _context.CreateCPUAccelerator(0);
    }

    /// <summary>Disposes the device.</summary>
    [OneTimeTearDown]
    public void CloseGpuShapedSimulator()
    {
        GpuShaped.Dispose();
        _context.Dispose();
    }
}
