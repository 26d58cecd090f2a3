using NUnit.Framework;

namespace Lmu.Gpu.Tests.Cli;

/// <summary><c>lmu bench stream</c>: the one-line report and bad options.</summary>
[TestFixture]
[NonParallelizable]
public sealed class BenchStreamCommandTests
{
    [TestCase("mackey-glass", "1")]
    [TestCase("psmnist-feedforward", "7")]
    public void Run_PrintsOneReportLine(string model, string piece)
    {
        var result = CliRunner.Run("bench", "stream", "--model", model, "--batch", "2", "--piece", piece, "--accelerator", "cpu",
            "--repeat", "3", "--warmup", "0");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        Assert.That(result.Output, Does.StartWith($"model={model} accelerator=cpu B=2 piece={piece} median_s="));
        Assert.That(result.Output, Does.Contain("steps_per_s="));
    }

    [TestCase("--model", "lstm", "unknown model 'lstm'")]
    [TestCase("--piece", "0", "--piece")]
    [TestCase("--warmup", "-1", "--warmup")]
    public void Run_ThrowsForBadOptions(string option, string value, string message)
    {
        string[] args = option == "--warmup"
            ? ["bench", "stream", "--accelerator", "cpu", "--repeat", "1", option, value]
            : ["bench", "stream", "--accelerator", "cpu", "--repeat", "1", "--warmup", "0", option, value];
        var result = CliRunner.Run(args);
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.StartWith("lmu: ").And.Contain(message));
    }
}
