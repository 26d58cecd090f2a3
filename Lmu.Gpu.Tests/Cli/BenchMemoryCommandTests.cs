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

    [Test]
    public void Phases_PrintsTheScansPhaseMediansOnASecondLine()
    {
        var result = CliRunner.Run("bench", "memory", "--order", "4", "--theta", "50", "--steps", "1000", "--accelerator", "cpu-sim",
            "--repeat", "3", "--phases", "--window", "off");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        string[] lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.That(lines, Has.Length.EqualTo(2));
        Assert.That(lines[0], Does.StartWith("method=scan accelerator=cpu-sim d=4 T=1000"));
        var match = System.Text.RegularExpressions.Regex.Match(lines[1], @"^phases: ends_s=(\S+) carries_s=(\S+) states_s=(\S+) window_h=0 window_products=1 \(medians of 3 runs");
        Assert.That(match.Success, lines[1]);
        foreach (int group in new[] { 1, 2, 3 })
        {
            Assert.That(double.Parse(match.Groups[group].Value, System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThan(0));
        }
    }

    [Test]
    public void WindowProduct_Off_RunsPhaseAByTheRowKernel_AndIsRefusedOnTheHost()
    {
        var result = CliRunner.Run("bench", "memory", "--order", "4", "--theta", "50", "--steps", "1000", "--accelerator", "cpu-sim",
            "--repeat", "1", "--phases", "--window", "off", "--window-product", "off", "--check", "1");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        Assert.That(result.Output, Does.Contain(" window_h=0 window_products=0 "));
        Assert.That(result.Output, Does.Contain("check: sequences=1"));
        var host = CliRunner.Run("bench", "memory", "--order", "4", "--theta", "50", "--steps", "1000", "--accelerator", "cpu",
            "--window-product", "on");
        Assert.That(host.ExitCode, Is.EqualTo(1));
        Assert.That(host.Error, Does.Contain("--window-product applies to the device scan"));
    }

    [Test]
    public void Window_On_TakesTheCarriesFromWindowsAndSaysSo()
    {
        // d = 4, θ = 50: H = 288 (2·H ≤ T = 1,000). From the bench's zero states no chunk stays chained, so phase A is
        // skipped (ends_s = 0); the check line compares the result with the host's sequential run.
        var result = CliRunner.Run("bench", "memory", "--order", "4", "--theta", "50", "--steps", "1000", "--accelerator", "cpu-sim",
            "--repeat", "1", "--phases", "--window", "on", "--check", "1");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        string[] lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.That(lines, Has.Length.EqualTo(3));
        var match = System.Text.RegularExpressions.Regex.Match(lines[1], @"^phases: ends_s=0 carries_s=(\S+) states_s=(\S+) window_h=(\d+) ");
        Assert.That(match.Success, lines[1]);
        Assert.That(int.Parse(match.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(ScanWindow.Horizon(LmuSystem.Create(4, 50))));
        var check = System.Text.RegularExpressions.Regex.Match(lines[2], @"max_rel_err=(\S+) ");
        Assert.That(double.Parse(check.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), Is.LessThan(1e-5));
    }

    [TestCase("cpu")]
    [TestCase("cpu-sim")]
    public void OutputFinal_TimesFinalOnlyRunsAndChecksTheirFinalStates(string accelerator)
    {
        // d = 4, θ = 50 (H = 288), T = 1,000: the final-only run takes the window on both paths.
        var result = CliRunner.Run("bench", "memory", "--order", "4", "--theta", "50", "--steps", "1000", "--batch", "3", "--accelerator", accelerator,
            "--repeat", "2", "--output", "final", "--check", "3");
        AssertReportAndCheck(result, $"method=scan output=final accelerator={accelerator} d=4 T=1000 B=3 median_s=",
            "check: sequences=3 max_rel_err=", 1e-5);
    }

    [TestCase("cpu", "sequential")]
    [TestCase("cpu", "auto")]
    [TestCase("cpu-sim", "scan")]
    [TestCase("cpu-sim", "sequential")]
    public void OutputAdjoint_TimesTheAdjointAndChecksItsLambda(string accelerator, string method)
    {
        string shown = method;
        if (method == "auto")
        {
            // What the adjoint's own rule picks for these sizes on this machine.
            using var device = LmuDevice.Open(accelerator);
            using var memory = new LinearMemory(device, LmuSystem.Create(4, 50), 3);
            shown = $"auto({memory.ResolveAutoAdjoint(300).ToName()})";
        }

        var result = CliRunner.Run("bench", "memory", "--order", "4", "--theta", "50", "--steps", "300", "--batch", "3", "--method", method,
            "--accelerator", accelerator, "--repeat", "2", "--output", "adjoint", "--check", "2");
        string check = AssertReportAndCheck(result, $"method={shown} output=adjoint accelerator={accelerator} d=4 T=300 B=3 median_s=",
            "check: sequences=2 max_rel_err=", 1e-5);
        Assert.That(check, Does.Contain("(max |λ - λ_host|"));
    }

    [TestCase("--phases", "leave out --phases and --transfers")]
    [TestCase("--transfers", "leave out --phases and --transfers")]
    public void OutputAdjoint_ThrowsWithPhasesTransfersAndFft(string option, string message)
    {
        string[] args = ["bench", "memory", "--order", "4", "--theta", "50", "--steps", "300", "--accelerator", "cpu-sim", "--output", "adjoint"];
        var result = CliRunner.Run([.. args, option]);
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Contain(message));
        var fft = CliRunner.Run([.. args, "--method", "fft"]);
        Assert.That(fft.ExitCode, Is.EqualTo(1));
        Assert.That(fft.Error, Does.Contain("--output adjoint: the fft baseline computes all states"));
    }

    [TestCase(null, "scan(products)")]
    [TestCase("steps", "scan(steps)")]
    public void OutputInputGradient_OnTheSimulator_NamesTheKernelAndMatchesTheHost(string? statesKernel, string shown)
    {
        // The engine reads $LMU_SCAN_STATES when it is made (this fixture runs alone: NonParallelizable).
        string? saved = Environment.GetEnvironmentVariable("LMU_SCAN_STATES");
        CliResult result;
        try
        {
            Environment.SetEnvironmentVariable("LMU_SCAN_STATES", statesKernel);
            result = CliRunner.Run("bench", "memory", "--order", "8", "--theta", "40", "--steps", "200", "--batch", "2", "--accelerator", "cpu-sim",
                "--method", "scan", "--output", "input-gradient", "--repeat", "1", "--check", "2");
        }
        finally
        {
            Environment.SetEnvironmentVariable("LMU_SCAN_STATES", saved);
        }

        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        Assert.That(result.Output, Does.StartWith($"method={shown} output=input-gradient accelerator=cpu-sim d=8 T=200 B=2"));
        Assert.That(double.Parse(System.Text.RegularExpressions.Regex.Match(result.Output, @"max_rel_err=(\S+) ").Groups[1].Value,
            System.Globalization.CultureInfo.InvariantCulture), Is.LessThan(1e-5));
    }

    [TestCase("cpu", "scan", "applies to the device scan")]
    [TestCase("cpu-sim", "sequential", "use --method scan")]
    public void OutputInputGradient_ThrowsOnTheHostAndForOtherMethods(string accelerator, string method, string message)
    {
        var result = CliRunner.Run("bench", "memory", "--order", "4", "--theta", "50", "--steps", "300", "--accelerator", accelerator,
            "--method", method, "--output", "input-gradient", "--repeat", "1");
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Contain(message));
    }

    [TestCase("--output", "everything", "--output must be states, final, adjoint or input-gradient")]
    [TestCase("--transfers", null, "leave out --phases and --output final")]
    public void OutputFinal_ThrowsForUnknownKindsAndTransfers(string option, string? value, string message)
    {
        string[] args = ["bench", "memory", "--order", "4", "--theta", "50", "--steps", "300", "--accelerator", "cpu"];
        args = value is null ? [.. args, "--output", "final", option] : [.. args, option, value];
        var result = CliRunner.Run(args);
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Contain(message));
    }

    [Test]
    public void Window_Off_OnTheHostPath_TakesTheChainedFinalOnlyRun_AndUnknownSettingsThrow()
    {
        // The same final-only run with and without the window on the host: both checked against the sequential run.
        foreach (string setting in new[] { "off", "on" })
        {
            var host = CliRunner.Run("bench", "memory", "--order", "4", "--theta", "50", "--steps", "1000", "--accelerator", "cpu", "--window", setting,
                "--output", "final", "--repeat", "1", "--check", "1");
            Assert.That(host.ExitCode, Is.EqualTo(0), host.Error);
            Assert.That(double.Parse(System.Text.RegularExpressions.Regex.Match(host.Output, @"max_rel_err=(\S+) ").Groups[1].Value,
                System.Globalization.CultureInfo.InvariantCulture), Is.LessThan(1e-5));
        }

        var unknown = CliRunner.Run("bench", "memory", "--order", "4", "--theta", "50", "--steps", "300", "--accelerator", "cpu-sim", "--window", "maybe");
        Assert.That(unknown.ExitCode, Is.EqualTo(1));
        Assert.That(unknown.Error, Does.Contain("LMU_SCAN_WINDOW"));
    }

    [TestCase("cpu", "scan", "--phases applies to the device scan")]
    [TestCase("cpu-sim", "sequential", "--phases times the phases of the scan")]
    public void Phases_ThrowsForTheHostPathAndSequentialRuns(string accelerator, string method, string message)
    {
        var result = CliRunner.Run("bench", "memory", "--order", "4", "--theta", "50", "--steps", "300", "--accelerator", accelerator,
            "--method", method, "--phases");
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Contain(message));
    }

    [TestCase("cpu")]
    [TestCase("cpu-sim")]
    public void Transfers_TimesTheRunFromHostArrays(string accelerator)
    {
        var result = CliRunner.Run("bench", "memory", "--order", "4", "--theta", "50", "--steps", "300", "--accelerator", accelerator,
            "--repeat", "1", "--transfers");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        Assert.That(result.Output, Does.StartWith($"method=scan+transfers accelerator={accelerator} d=4 T=300 B=1 median_s="));
    }

    [Test]
    public void Transfers_ThrowsWithPhases()
    {
        var result = CliRunner.Run("bench", "memory", "--order", "4", "--theta", "50", "--steps", "300", "--accelerator", "cpu-sim",
            "--transfers", "--phases");
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Contain("--transfers"));
    }

    [TestCase("cpu")]
    [TestCase("cpu-sim")]
    public void Check_PrintsTheErrorAgainstTheHostsSequentialRun(string accelerator)
    {
        var result = CliRunner.Run("bench", "memory", "--order", "4", "--theta", "50", "--steps", "300", "--batch", "3",
            "--accelerator", accelerator, "--repeat", "1", "--check", "2");
        AssertReportAndCheck(result, "method=", "check: sequences=2 max_rel_err=", 1e-4);
    }

    /// <summary>Two lines: the report, starting with <paramref name="report"/>, and a check line starting with
    /// <paramref name="check"/> whose error is below <paramref name="bound"/>; returns the check line.</summary>
    private static string AssertReportAndCheck(CliResult result, string report, string check, double bound)
    {
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        string[] lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.That(lines, Has.Length.EqualTo(2));
        Assert.That(lines[0], Does.StartWith(report));
        var match = System.Text.RegularExpressions.Regex.Match(lines[1], "^" + System.Text.RegularExpressions.Regex.Escape(check) + @"(\S+) ");
        Assert.That(match.Success, lines[1]);
        Assert.That(double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), Is.LessThan(bound));
        return lines[1];
    }

    [TestCase("4", "--check must be 0")]
    [TestCase("-1", "--check must be 0")]
    public void Check_ThrowsForMoreSequencesThanTheBatch(string sequences, string message)
    {
        var result = CliRunner.Run("bench", "memory", "--order", "4", "--theta", "50", "--steps", "300", "--batch", "3",
            "--accelerator", "cpu", "--check", sequences);
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Contain(message));
    }

    [Test]
    public void Check_ThrowsForTheFftBaseline()
    {
        var result = CliRunner.Run("bench", "memory", "--order", "4", "--theta", "50", "--steps", "300", "--method", "fft", "--check", "1");
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Contain("--check"));
    }
}
