using Lmu.Gpu;

namespace Lmu.Gpu.Tests.Devices;

[TestFixture]
[NonParallelizable] // touches the LMU_ACCELERATOR environment variable
public sealed class LmuDeviceTests
{
    [TestCase("auto", AcceleratorKind.Auto)]
    [TestCase("CPU", AcceleratorKind.Cpu)]
    [TestCase(" cuda ", AcceleratorKind.Cuda)]
    [TestCase("opencl", AcceleratorKind.OpenCL)]
    [TestCase("cpu-sim", AcceleratorKind.CpuSimulator)]
    public void Parse_AcceptsEveryDocumentedName(string name, AcceleratorKind expected)
    {
        Assert.That(AcceleratorKindParser.Parse(name), Is.EqualTo(expected));
        Assert.That(AcceleratorKindParser.Parse(expected.ToName()), Is.EqualTo(expected));
    }

    [Test]
    public void Parse_ThrowsForUnknownName_ListingValidNames()
    {
        var e = Assert.Throws<ArgumentException>(() => AcceleratorKindParser.Parse("tpu"));
        Assert.That(e!.Message, Does.Contain("Unknown accelerator 'tpu'").And.Contain("cpu-sim"));
    }

    [Test]
    public void Resolve_PrefersExplicitName_ThenEnvironment_ThenAuto()
    {
        string? saved = Environment.GetEnvironmentVariable(AcceleratorKindParser.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(AcceleratorKindParser.EnvironmentVariable, "cpu-sim");
            Assert.That(AcceleratorKindParser.Resolve(null), Is.EqualTo(AcceleratorKind.CpuSimulator));
            Assert.That(AcceleratorKindParser.Resolve("cpu"), Is.EqualTo(AcceleratorKind.Cpu));
            Environment.SetEnvironmentVariable(AcceleratorKindParser.EnvironmentVariable, "bogus");
            var e = Assert.Throws<ArgumentException>(() => AcceleratorKindParser.Resolve(null));
            Assert.That(e!.Message, Does.StartWith(AcceleratorKindParser.EnvironmentVariable));
            Environment.SetEnvironmentVariable(AcceleratorKindParser.EnvironmentVariable, null);
            Assert.That(AcceleratorKindParser.Resolve(""), Is.EqualTo(AcceleratorKind.Auto));
        }
        finally
        {
            Environment.SetEnvironmentVariable(AcceleratorKindParser.EnvironmentVariable, saved);
        }
    }

    [Test]
    public void ListDevices_HasHostAndSimulator()
    {
        var devices = LmuDevice.ListDevices();
        Assert.That(devices[0].Kind, Is.EqualTo(AcceleratorKind.Cpu));
        var simulator = devices.Single(d => d.Kind == AcceleratorKind.CpuSimulator);
        Assert.That(simulator.MaxGroupSize, Is.GreaterThanOrEqualTo(simulator.WarpSize));
        Assert.That(simulator.MemoryBytes, Is.LessThan(long.MaxValue));
    }

    [Test]
    public void Open_Cuda_OpensADeviceOrFailsClearlyWithoutFallback()
    {
        // On a machine with a CUDA GPU this opens it; elsewhere it must throw, never fall back silently.
        bool hasCuda = LmuDevice.ListDevices().Any(d => d.Kind == AcceleratorKind.Cuda);
        if (hasCuda)
        {
            using var device = LmuDevice.Open(AcceleratorKind.Cuda);
            Assert.That(device.Kind, Is.EqualTo(AcceleratorKind.Cuda));
        }
        else
        {
            var e = Assert.Throws<InvalidOperationException>(() => LmuDevice.Open(AcceleratorKind.Cuda));
            Assert.That(e!.Message, Does.Contain("No CUDA device"));
        }
    }

    [Test]
    public void Open_Auto_PicksWhatAutoKindReports()
    {
        using var device = LmuDevice.Open(AcceleratorKind.Auto);
        Assert.That(device.Kind, Is.EqualTo(LmuDevice.AutoKind()));
        Assert.That(device.IsHost, Is.EqualTo(device.Kind == AcceleratorKind.Cpu));
    }

    [Test]
    public void Host_HasNoAccelerator_AndDisposeIsIdempotent()
    {
        var device = LmuDevice.Open(AcceleratorKind.Cpu);
        Assert.That(device.IsHost, Is.True);
        Assert.Throws<InvalidOperationException>(() => _ = device.Accelerator);
        device.Dispose();
        device.Dispose();
        Assert.That(device.IsDisposed, Is.True);
    }

    [Test]
    public void Simulator_ExposesAcceleratorLimits()
    {
        using var device = LmuDevice.Open("cpu-sim");
        Assert.That(device.IsHost, Is.False);
        Assert.That(device.Accelerator.MaxNumThreadsPerGroup, Is.GreaterThan(0));
    }
}
