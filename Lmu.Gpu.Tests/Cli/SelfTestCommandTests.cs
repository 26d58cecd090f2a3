using Lmu.Gpu.Cli.Commands;
using Lmu.Gpu.Cli.SelfTest;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Cli;

[TestFixture]
[NonParallelizable]
public class SelfTestCommandTests
{
    [Test]
    public void CpuSimulator_AllCasesPass()
    {
        var result = CliRunner.Run("selftest", "--accelerator", "cpu-sim");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Output + result.Error);
        Assert.Multiple(() =>
        {
            Assert.That(result.Output, Does.Contain("lmu selftest on cpu-sim"));
            Assert.That(result.Output, Does.Contain("step (streaming)"));
            Assert.That(result.Output, Does.Contain("sequence: decoded"));
            Assert.That(result.Output, Does.Not.Contain("FAIL"));
            Assert.That(result.Output.TrimEnd(), Does.EndWith(" passed, 0 failed"));
        });
    }

    [Test]
    public void HostPath_AllCasesPass()
    {
        using var device = LmuDevice.Open(AcceleratorKind.Cpu);
        using var writer = new StringWriter();
        Assert.That(SelfTestCommand.Run(device, writer), Is.EqualTo(0), writer.ToString());
    }

    [Test]
    public void Registry_RunsTheTensorCoreSuiteLast_AndOnlyWhereItRuns()
    {
        // Its kernel is new to the hardware: if it broke the CUDA context, the other suites have already run.
        var suites = SelfTestRegistry.Suites();
        Assert.That(suites[^1], Is.InstanceOf<TensorCoreSelfTests>());
        Assert.That(suites.Take(suites.Count - 1).Select(s => s.RunsLast), Has.All.False);
        using var sim = LmuDevice.Open(AcceleratorKind.CpuSimulator);
        using var host = LmuDevice.Open(AcceleratorKind.Cpu);
        Assert.That(new TensorCoreSelfTests().Cases(sim), Is.Empty, "16-thread groups");
        Assert.That(new TensorCoreSelfTests().Cases(host), Is.Empty);
    }

    [Test]
    public void Registry_FindsTheMemorySuite_SmallSizesOnTheSimulator()
    {
        Assert.That(SelfTestRegistry.Suites().OfType<MemorySelfTests>(), Is.Not.Empty);
        using var sim = LmuDevice.Open(AcceleratorKind.CpuSimulator);
        using var host = LmuDevice.Open(AcceleratorKind.Cpu);
        var simCases = SelfTestRegistry.Cases(sim);
        var hostCases = SelfTestRegistry.Cases(host);
        // The same cases everywhere, except those of device kernels the host path does not have (the scan's
        // matrix-product phase C, its carries forced into one serial pass, into segments or from windows, and the window
        // product), the runs on device views, the adjoint without λ (its input gradient) and training's dense products
        // forced onto a kernel.
        int deviceOnly = simCases.Count(c => c.Name.Contains("phase C product", StringComparison.Ordinal)
            || c.Name.Contains("carry pass", StringComparison.Ordinal) || c.Name.Contains("carries in segments", StringComparison.Ordinal)
            || c.Name.Contains("device views", StringComparison.Ordinal) || c.Name.Contains("window carries", StringComparison.Ordinal)
            || c.Name.Contains("window product", StringComparison.Ordinal) || c.Name.Contains("adjoint input gradient", StringComparison.Ordinal)
            || c.Name.Contains("dense products on the", StringComparison.Ordinal));
        Assert.That(deviceOnly, Is.EqualTo(20));
        Assert.That(simCases.Count, Is.EqualTo(hostCases.Count + deviceOnly));
        Assert.That(simCases.Any(c => c.Name.Contains("d=64", StringComparison.Ordinal)), Is.False);
        Assert.That(hostCases.Any(c => c.Name.Contains("B=8 k=1 d=64 T=2000", StringComparison.Ordinal)), Is.True);
    }

    [Test]
    public void Result_FailsOnNaNOrAboveTolerance()
    {
        Assert.Multiple(() =>
        {
            Assert.That(new SelfTestResult(1e-6, 1e-4).Passed, Is.True);
            Assert.That(new SelfTestResult(2e-4, 1e-4).Passed, Is.False);
            Assert.That(new SelfTestResult(double.NaN, 1e-4).Passed, Is.False);
            Assert.That(SelfTestResult.Relative([1f, float.NaN], [1.0, 2.0]), Is.EqualTo(double.PositiveInfinity));
            Assert.That(SelfTestResult.Relative([1f, 2.5f], [1.0, 2.0]), Is.EqualTo(0.25));
        });
    }

    [Test]
    public void UnknownAccelerator_ExitsOne()
    {
        var result = CliRunner.Run("selftest", "--accelerator", "tpu");
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Contain("Unknown accelerator 'tpu'"));
    }
}
