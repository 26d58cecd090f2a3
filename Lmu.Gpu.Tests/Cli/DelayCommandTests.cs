using System.Globalization;
using System.Text.RegularExpressions;
using Lmu.Gpu.Cli.Commands;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Cli;

[TestFixture]
[NonParallelizable]
public class DelayCommandTests
{
    private static double Nrmse(string output) => double.Parse(
        Regex.Match(output, @"NRMSE of decoded u\(t − θ\): ([0-9.]+)").Groups[1].Value, CultureInfo.InvariantCulture);

    [Test]
    public void SmallRun_PrintsNrmseWithinBound_AndTime()
    {
        var result = CliRunner.Run("delay", "--order", "12", "--theta", "100", "--steps", "5000", "--accelerator", "cpu");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        Assert.Multiple(() =>
        {
            Assert.That(Nrmse(result.Output), Is.LessThan(0.01));
            Assert.That(result.Output, Does.Contain("time: memory run"));
            Assert.That(result.Output, Does.Contain("accelerator: cpu"));
        });
    }

    [Test]
    public void HalfStepCorrection_BeatsUncorrectedSystem()
    {
        using var device = LmuDevice.Open(AcceleratorKind.Cpu);
        var result = DelayDemo.Run(device, new DelayDemo.Options(24, 100, 20_000, 1, 1.0));
        Assert.Multiple(() =>
        {
            Assert.That(result.Nrmse, Is.LessThan(0.005));
            Assert.That(result.UncorrectedNrmse, Is.GreaterThan(3 * result.Nrmse));
            Assert.That(result.FirstScored, Is.EqualTo(100));
        });
    }

    [Test]
    public void SameSeed_SameNrmse_OtherSeedDiffers()
    {
        string[] args = ["delay", "-d", "8", "--theta", "50", "--steps", "2000", "-a", "cpu"];
        double first = Nrmse(CliRunner.Run(args).Output);
        double again = Nrmse(CliRunner.Run(args).Output);
        double other = Nrmse(CliRunner.Run([.. args, "--seed", "7"]).Output);
        Assert.That(again, Is.EqualTo(first));
        Assert.That(other, Is.Not.EqualTo(first));
    }

    [Test]
    public void CpuSimulator_RunsTheDemo()
    {
        var result = CliRunner.Run("delay", "-d", "6", "--theta", "20", "--steps", "300", "-a", "cpu-sim");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        Assert.That(Nrmse(result.Output), Is.LessThan(0.1));
    }

    [Test]
    public void Plot_WritesAPng()
    {
        using var dir = new TempDirectory();
        string png = dir.File("delay.png");
        var result = CliRunner.Run("delay", "-d", "8", "--theta", "50", "--steps", "1000", "-a", "cpu", "--plot", png);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        byte[] bytes = File.ReadAllBytes(png);
        Assert.That(bytes.Take(4).ToArray(), Is.EqualTo(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }));
        Assert.That(dir.Entries(), Is.EquivalentTo(new[] { "delay.png" }));
    }

    [TestCase("--steps", "100", "leave nothing to score")]
    [TestCase("--cutoff", "0", "--cutoff")]
    [TestCase("--cutoff", "60", "Nyquist")]
    [TestCase("--theta", "0.5", "too short")]
    [TestCase("--order", "0", "order must be in")]
    public void BadOptions_ExitOne(string option, string value, string expected)
    {
        var args = new List<string> { "delay", "--order", "8", "--theta", "100", "--steps", "1000", "-a", "cpu" };
        int at = args.IndexOf(option);
        if (at >= 0)
        {
            args[at + 1] = value;
        }
        else
        {
            args.AddRange([option, value]);
        }

        var result = CliRunner.Run(args.ToArray());
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.StartWith("lmu: ").And.Contain(expected));
    }

    [Test]
    public void PlotIntoMissingDirectory_FailsBeforeRunning()
    {
        var result = CliRunner.Run("delay", "-d", "8", "--theta", "50", "--steps", "1000", "-a", "cpu",
            "--plot", Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N"), "x.png"));
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Output, Is.Empty);
    }
}
