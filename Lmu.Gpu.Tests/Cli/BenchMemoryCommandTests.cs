using NUnit.Framework;

namespace Lmu.Gpu.Tests.Cli;

/// <summary><c>lmu bench memory</c>: the one-line report and its options' errors.</summary>
[TestFixture]
[NonParallelizable]
public sealed class BenchMemoryCommandTests
{
    [TestCase("cpu", "sequential")]
    [TestCase("cpu", "scan")]
    [TestCase("cpu-sim", "scan")]
    public void Run_PrintsOneReportLine(string accelerator, string method)
    {
        var result = CliRunner.Run("bench", "memory", "--order", "4", "--theta", "50", "--steps", "300", "--method", method,
            "--accelerator", accelerator, "--repeat", "1");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        Assert.That(result.Output, Does.StartWith($"method={method} accelerator={accelerator} d=4 T=300 B=1 median_s="));
        Assert.That(result.Output, Does.Contain("states_per_s="));
    }

    [Test]
    public void CarrySegment_SetsTheDeviceScansSegments()
    {
        // T = 1,000 on the simulator: L = 16, 63 chunks; 0 forces the single serial pass, 5 segments of 5 chunks.
        foreach (string segment in new[] { "0", "5" })
        {
            var result = CliRunner.Run("bench", "memory", "--order", "4", "--theta", "50", "--steps", "1000", "--accelerator", "cpu-sim",
                "--repeat", "1", "--carry-segment", segment);
            Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
            Assert.That(result.Output, Does.StartWith("method=scan accelerator=cpu-sim d=4 T=1000"));
        }
    }

    [Test]
    public void CarrySegment_ThrowsForTheHostPath()
    {
        var result = CliRunner.Run("bench", "memory", "--order", "4", "--theta", "50", "--steps", "300", "--accelerator", "cpu",
            "--carry-segment", "2");
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Contain("--carry-segment applies to the device scan"));
    }
}
