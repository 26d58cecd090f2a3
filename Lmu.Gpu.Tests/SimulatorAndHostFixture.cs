using NUnit.Framework;

namespace Lmu.Gpu.Tests;

/// <summary>Base of the fixtures that run the same work on ILGPU's CPU simulator and on the host path: both devices
/// opened once per fixture and disposed after it (a derived fixture's own one-time set-up runs after this one's, its
/// tear-down before).</summary>
public abstract class SimulatorAndHostFixture
{
    /// <summary>ILGPU's CPU accelerator: the real kernels, at small sizes.</summary>
    protected LmuDevice Simulator { get; private set; } = null!;

    /// <summary>The host SIMD path.</summary>
    protected LmuDevice Host { get; private set; } = null!;

    /// <summary>Opens both devices.</summary>
    [OneTimeSetUp]
    public void OpenSimulatorAndHost()
    {
        Simulator = LmuDevice.Open(AcceleratorKind.CpuSimulator);
        Host = LmuDevice.Open(AcceleratorKind.Cpu);
    }

    /// <summary>Disposes both devices.</summary>
    [OneTimeTearDown]
    public void CloseSimulatorAndHost()
    {
        Simulator.Dispose();
        Host.Dispose();
    }
}
