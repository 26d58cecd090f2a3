using NUnit.Framework;

namespace Lmu.Gpu.Tests.Cli;

/// <summary><c>lmu bench training</c>: the one-line report, the auto rule's choice in it, and bad options.</summary>
[TestFixture]
[NonParallelizable]
public sealed class BenchTrainingCommandTests
{
    [TestCase("cpu", "sequential", "sequential")]
    [TestCase("cpu", "scan", "scan")]
    [TestCase("cpu-sim", "scan", "scan dense=rows")]
    [TestCase("cpu", "auto", "auto(sequential)")]
    public void Run_PrintsOneReportLine(string accelerator, string method, string shown)
    {
        var result = CliRunner.Run("bench", "training", "--order", "4", "--steps", "40", "--batch", "2", "--units", "3",
            "--method", method, "--accelerator", accelerator, "--repeat", "1");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        Assert.That(result.Output, Does.StartWith($"model=feedforward method={shown} accelerator={accelerator} d=4 T=40 B=2 n=3 median_s="));
        Assert.That(result.Output, Does.Contain("sequences_per_s="));
    }

    [TestCase("on", "dense=product")]
    [TestCase("off", "dense=rows")]
    public void Run_OnADevice_SaysWhereTheDenseProductsRan(string setting, string shown)
    {
        var result = CliRunner.Run("bench", "training", "--order", "4", "--steps", "40", "--batch", "2", "--units", "3",
            "--accelerator", "cpu-sim", "--repeat", "1", "--dense-product", setting);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        Assert.That(result.Output, Does.Contain($" {shown} accelerator=cpu-sim"));
    }

    [TestCase("cpu")]
    [TestCase("cpu-sim")]
    public void Run_WithProfile_PrintsEachPartAndATotal(string accelerator)
    {
        var result = CliRunner.Run("bench", "training", "--order", "4", "--steps", "40", "--batch", "2", "--units", "3",
            "--accelerator", accelerator, "--repeat", "2", "--profile");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        string[] lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Does.StartWith("model=feedforward"));
        Assert.That(lines.Skip(1).Select(l => l.Split(':')[1].Trim()), Does.Contain("forward feedforward").And.Contain("backward feedforward").And.Contain("optimizer"));
        Assert.That(lines[^1], Does.StartWith("profile: total ").And.Contain("mean of 2 steps"));
    }

    [Test]
    public void Run_ThrowsForDenseProductOnTheHost()
    {
        var result = CliRunner.Run("bench", "training", "--order", "4", "--steps", "40", "--accelerator", "cpu", "--repeat", "1",
            "--dense-product", "on");
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Contain("--dense-product"));
    }

    [Test]
    public void Run_ShowsTheScanThatAutoPicks()
    {
        // d = 128, B = 8, T = 64: with two or more cores the forward run takes the scan (two groups of chunks against one
        // group of memories) and the adjoint, whose scan does twice the work, stays sequential.
        var result = CliRunner.Run("bench", "training", "--order", "128", "--steps", "64", "--batch", "8", "--units", "4",
            "--accelerator", "cpu", "--repeat", "1");
        string Name(bool scan) => scan ? "scan" : "sequential";
        string forward = Name(HostAutoRule.PrefersScan(128, 8, 64, HostAutoRule.ForwardScanCost));
        string adjoint = Name(HostAutoRule.PrefersScan(128, 8, 64, HostAutoRule.AdjointScanCost));
        string method = forward == adjoint ? forward : $"{forward}/adjoint-{adjoint}";
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        Assert.That(result.Output, Does.StartWith($"model=feedforward method=auto({method}) accelerator=cpu d=128"));
        if (Environment.ProcessorCount >= 2)
        {
            Assert.That(method, Is.EqualTo("scan/adjoint-sequential"));
        }
    }

    [TestCase("--steps", "0")]
    [TestCase("--batch", "0")]
    [TestCase("--units", "0")]
    [TestCase("--method", "fft")]
    public void Run_ThrowsForBadOption(string option, string value)
    {
        var args = new List<string> { "bench", "training", "--order", "4", "--steps", "40", "--accelerator", "cpu", "--repeat", "1" };
        int at = args.IndexOf(option);
        if (at >= 0)
        {
            args[at + 1] = value;
        }
        else
        {
            args.AddRange([option, value]);
        }

        var result = CliRunner.Run([.. args]);
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Contain(option == "--method" ? "fft" : "≥ 1"));
    }
}
