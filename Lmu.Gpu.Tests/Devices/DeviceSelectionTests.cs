using Lmu.Gpu;
using Lmu.Gpu.Tests.Cli;

namespace Lmu.Gpu.Tests.Devices;

/// <summary>Picking one device of several: <c>kind:index</c> names, <see cref="LmuDevice.Open(AcceleratorKind, int)"/>
/// and the errors for indices that name no device.</summary>
[TestFixture]
[NonParallelizable] // touches LMU_ACCELERATOR and the console (CliRunner)
public sealed class DeviceSelectionTests
{
    [TestCase("cuda:1", AcceleratorKind.Cuda, 1)]
    [TestCase(" CPU-SIM:0 ", AcceleratorKind.CpuSimulator, 0)]
    [TestCase("opencl:12", AcceleratorKind.OpenCL, 12)]
    [TestCase("cuda", AcceleratorKind.Cuda, 0)]
    [TestCase("cpu:0", AcceleratorKind.Cpu, 0)]
    [TestCase("auto", AcceleratorKind.Auto, 0)]
    public void ParseSelection_ReadsKindAndIndex(string name, AcceleratorKind kind, int index)
    {
        var selection = AcceleratorKindParser.ParseSelection(name);
        Assert.That(selection, Is.EqualTo(new DeviceSelection(kind, index)));
        Assert.That(AcceleratorKindParser.ParseSelection(selection.ToString()), Is.EqualTo(selection));
    }

    [Test]
    public void ToString_OmitsIndexZero()
    {
        Assert.That(new DeviceSelection(AcceleratorKind.Cuda).ToString(), Is.EqualTo("cuda"));
        Assert.That(new DeviceSelection(AcceleratorKind.Cuda, 3).ToString(), Is.EqualTo("cuda:3"));
    }

    [TestCase("cuda:x", "Bad device index 'x'")]
    [TestCase("cuda:-1", "Bad device index '-1'")]
    [TestCase("cuda:", "Bad device index ''")]
    [TestCase("cpu:1", "cpu has a single device")]
    [TestCase("auto:2", "auto has a single device")]
    [TestCase("tpu:0", "Unknown accelerator 'tpu'")]
    public void ParseSelection_ThrowsForBadNames(string name, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => AcceleratorKindParser.ParseSelection(name));
        Assert.That(e!.Message, Does.Contain(message));
    }

    [Test]
    public void ResolveSelection_ReadsIndexFromEnvironment()
    {
        string? saved = Environment.GetEnvironmentVariable(AcceleratorKindParser.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(AcceleratorKindParser.EnvironmentVariable, "cuda:2");
            Assert.That(AcceleratorKindParser.ResolveSelection(null), Is.EqualTo(new DeviceSelection(AcceleratorKind.Cuda, 2)));
            Assert.That(AcceleratorKindParser.Resolve(null), Is.EqualTo(AcceleratorKind.Cuda));
            Assert.That(AcceleratorKindParser.ResolveSelection("cpu-sim"), Is.EqualTo(new DeviceSelection(AcceleratorKind.CpuSimulator)));
            Environment.SetEnvironmentVariable(AcceleratorKindParser.EnvironmentVariable, "cuda:two");
            var e = Assert.Throws<ArgumentException>(() => AcceleratorKindParser.ResolveSelection(null));
            Assert.That(e!.Message, Does.StartWith(AcceleratorKindParser.EnvironmentVariable).And.Contain("'two'"));
        }
        finally
        {
            Environment.SetEnvironmentVariable(AcceleratorKindParser.EnvironmentVariable, saved);
        }
    }

    [Test]
    public void EveryListedDevice_OpensByItsSelection()
    {
        foreach (var info in LmuDevice.ListDevices().Where(d => d.Kind != AcceleratorKind.OpenCL))
        {
            using var device = LmuDevice.Open(info.Selection);
            Assert.That(device.Selection, Is.EqualTo(info.Selection), info.ToString());
            Assert.That(device.Index, Is.EqualTo(info.Index));
            if (!device.IsHost)
            {
                Assert.That(device.Name, Is.EqualTo(info.Name));
            }

            Assert.That(device.ToString(), Does.StartWith(info.Selection + ": "));
        }
    }

    [TestCase(AcceleratorKind.CpuSimulator)]
    [TestCase(AcceleratorKind.Cuda)]
    public void Open_ThrowsForIndexPastLastDevice_SayingHowManyThereAre(AcceleratorKind kind)
    {
        int count = LmuDevice.ListDevices().Count(d => d.Kind == kind);
        if (count == 0)
        {
            // No such backend here: the index is never reached, the backend's own error comes first.
            var none = Assert.Throws<InvalidOperationException>(() => LmuDevice.Open(kind, 1));
            Assert.That(none!.Message, Does.Contain("No CUDA device"));
            return;
        }

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => LmuDevice.Open(kind, count));
        Assert.That(e!.ParamName, Is.EqualTo("index"));
        Assert.That(e.Message, Does.Contain($"{kind.ToName()}:{count} was asked for, but this machine has {count} {kind.ToName()} device"));
        var bySelection = Assert.Throws<ArgumentOutOfRangeException>(() => LmuDevice.Open(new DeviceSelection(kind, count)));
        Assert.That(bySelection!.ParamName, Is.EqualTo("selection"));
        using var last = LmuDevice.Open(kind, count - 1);
        Assert.That(last.Index, Is.EqualTo(count - 1));
    }

    [Test]
    public void Open_ThrowsForNegativeIndex_AndForAnIndexOnTheHost()
    {
        var negative = Assert.Throws<ArgumentOutOfRangeException>(() => LmuDevice.Open(AcceleratorKind.CpuSimulator, -1));
        Assert.That(negative!.ParamName, Is.EqualTo("index"));
        var host = Assert.Throws<ArgumentOutOfRangeException>(() => LmuDevice.Open(AcceleratorKind.Cpu, 1));
        Assert.That(host!.Message, Does.Contain("cpu has a single device"));
        Assert.Throws<ArgumentOutOfRangeException>(() => LmuDevice.Open(AcceleratorKind.Auto, 1));
    }

    [Test]
    public void Cli_AcceptsAnIndexedName_AndRefusesOneThatNamesNoDevice()
    {
        var ok = CliRunner.Run("delay", "--order", "4", "--theta", "10", "--steps", "50", "--accelerator", "cpu-sim:0");
        Assert.That(ok.ExitCode, Is.EqualTo(0), ok.Error);
        var past = CliRunner.Run("delay", "--order", "4", "--theta", "10", "--steps", "50", "--accelerator", "cpu-sim:7");
        Assert.That(past.ExitCode, Is.EqualTo(1));
        Assert.That(past.Error.Trim(), Is.EqualTo("lmu: cpu-sim:7 was asked for, but this machine has 1 cpu-sim device (index 0); lmu info lists them."));
        var info = CliRunner.Run("info");
        Assert.That(info.Output, Does.Contain("cpu-sim ").And.Contain("auto picks: ").And.Contain($"host threads: {HostThreads.Limit}"));
    }
}
