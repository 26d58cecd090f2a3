using System.Globalization;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Cli;

[TestFixture]
[NonParallelizable]
public class MemoryCommandTests
{
    private TempDirectory _dir = null!;

    [SetUp]
    public void SetUp() => _dir = new TempDirectory();

    [TearDown]
    public void TearDown() => _dir.Dispose();

    private static (string Csv, float[] Samples) Signal(int steps, int channels, int seed)
    {
        var random = new Random(seed);
        var samples = new float[steps * channels];
        var lines = new List<string> { string.Join(',', Enumerable.Range(0, channels).Select(c => $"ch{c}")) };
        for (int t = 0; t < steps; t++)
        {
            var row = new string[channels];
            for (int c = 0; c < channels; c++)
            {
                float x = (float)Math.Round(Math.Sin(0.05 * t * (c + 1)) + 0.3 * (random.NextDouble() - 0.5), 4);
                samples[t * channels + c] = x;
                row[c] = x.ToString("R", CultureInfo.InvariantCulture);
            }

            lines.Add(string.Join(',', row));
        }

        return (string.Join('\n', lines) + "\n", samples);
    }

    private static float[][] ParseOutput(string text, out string header)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        header = lines[0];
        return lines.Skip(1).Select(l => l.Split(',').Select(f => float.Parse(f, CultureInfo.InvariantCulture)).ToArray()).ToArray();
    }

    [Test]
    public void Output_MatchesLinearMemoryDecoded_ChannelMajor()
    {
        const int Steps = 300, Channels = 2;
        var (csv, samples) = Signal(Steps, Channels, 3);
        string input = _dir.Write("in.csv", csv);
        string output = _dir.File("out.csv");

        var result = CliRunner.Run("memory", "--order", "8", "--theta", "40", "--input", input, "--delays", "1,0.5",
            "--output", output, "--accelerator", "cpu");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);

        double[] delays = [1.0, 0.5];
        float[] expected;
        using (var device = LmuDevice.Open(AcceleratorKind.Cpu))
        using (var memory = new LinearMemory(device, LmuSystem.Create(8, 40), 1, Channels))
        {
            expected = memory.RunDecoded(samples, Steps, delays);
        }

        var rows = ParseOutput(File.ReadAllText(output), out string header);
        Assert.Multiple(() =>
        {
            Assert.That(header, Is.EqualTo("c0_r1,c0_r0.5,c1_r1,c1_r0.5"));
            Assert.That(rows, Has.Length.EqualTo(Steps));
            Assert.That(rows.SelectMany(r => r).ToArray(), Is.EqualTo(expected), "round-trip float output equals RunDecoded exactly");
            Assert.That(_dir.Entries(), Is.EquivalentTo(new[] { "in.csv", "out.csv" }), "no temporary files left");
        });
    }

    [Test]
    public void WithoutOutput_WritesToStdout_DefaultDelayIsOne_SequentialEqualsAuto()
    {
        var (csv, _) = Signal(50, 1, 4);
        string input = _dir.Write("in.csv", csv);
        var auto = CliRunner.Run("memory", "-d", "6", "--theta", "10", "-i", input, "-a", "cpu");
        var sequential = CliRunner.Run("memory", "-d", "6", "--theta", "10", "-i", input, "-a", "cpu", "--method", "Sequential");
        Assert.Multiple(() =>
        {
            Assert.That(auto.ExitCode, Is.EqualTo(0), auto.Error);
            Assert.That(auto.Output, Does.StartWith("c0_r1\n"));
            Assert.That(auto.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(51));
            Assert.That(sequential.Output, Is.EqualTo(auto.Output));
        });
    }

    [Test]
    public void CpuSimulator_AgreesWithHostPath()
    {
        var (csv, _) = Signal(40, 2, 5);
        string input = _dir.Write("in.csv", csv);
        var host = ParseOutput(CliRunner.Run("memory", "-d", "5", "--theta", "8", "-i", input, "-a", "cpu", "--delays", "1,0").Output, out _);
        var sim = CliRunner.Run("memory", "-d", "5", "--theta", "8", "-i", input, "-a", "cpu-sim", "--delays", "1,0");
        Assert.That(sim.ExitCode, Is.EqualTo(0), sim.Error);
        var simRows = ParseOutput(sim.Output, out _);
        Assert.That(simRows.SelectMany(r => r), Is.EqualTo(host.SelectMany(r => r)).Within(1e-5));
    }

    [TestCase("1,2\n3,x\n", "line 2, column 2")]
    [TestCase("1,2\n3\n", "line 2 has 1 field(s)")]
    [TestCase("", "is empty")]
    [TestCase("1\nNaN\n", "line 2, column 1")]
    public void BadInput_ExitsOne_OneLineReason_NoOutputFile(string content, string expected)
    {
        string input = _dir.Write("in.csv", content);
        var result = CliRunner.Run("memory", "-d", "4", "--theta", "5", "-i", input, "-o", _dir.File("out.csv"), "-a", "cpu");
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(1));
            Assert.That(result.Error, Does.StartWith("lmu: ").And.Contain(expected));
            Assert.That(result.Error.TrimEnd().Split('\n'), Has.Length.EqualTo(1));
            Assert.That(result.Output, Is.Empty);
            Assert.That(_dir.Entries(), Is.EquivalentTo(new[] { "in.csv" }));
        });
    }

    [Test]
    public void UnknownAccelerator_ExitsOneWithMessage_NoOutputFile()
    {
        string input = _dir.Write("in.csv", "1\n2\n");
        var result = CliRunner.Run("memory", "-d", "4", "--theta", "5", "-i", input, "-o", _dir.File("out.csv"), "--accelerator", "warp-drive");
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(1));
            Assert.That(result.Error, Does.Contain("Unknown accelerator 'warp-drive'").And.Contain("cpu-sim"));
            Assert.That(result.Error, Does.Not.Contain("(Parameter"));
            Assert.That(_dir.Entries(), Is.EquivalentTo(new[] { "in.csv" }));
        });
    }

    [Test]
    public void ExistingOutput_IsKeptOnError()
    {
        string input = _dir.Write("in.csv", "1\nbad\n");
        string output = _dir.Write("out.csv", "previous");
        var result = CliRunner.Run("memory", "-d", "4", "--theta", "5", "-i", input, "-o", output, "-a", "cpu");
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(File.ReadAllText(output), Is.EqualTo("previous"));
    }

    [TestCase("--delays", "1.5", "delay fractions must lie in [0, 1]")]
    [TestCase("--delays", "1,x", "entry 2 'x' is not a number")]
    [TestCase("--method", "parallel", "--method: unknown 'parallel'")]
    [TestCase("--discretizer", "rk4", "--discretizer: unknown 'rk4'")]
    [TestCase("--theta", "-3", "θ must be a finite number > 0")]
    public void BadOption_ExitsOne(string option, string value, string expected)
    {
        string input = _dir.Write("in.csv", "1\n2\n");
        var args = new List<string> { "memory", "-d", "4", "--theta", "5", "-i", input, "-a", "cpu" };
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
        Assert.That(result.Error, Does.Contain(expected));
    }

    [Test]
    public void MissingInputFile_ExitsOne()
    {
        var result = CliRunner.Run("memory", "-d", "4", "--theta", "5", "-i", _dir.File("nope.csv"), "-a", "cpu");
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Contain("does not exist"));
    }

    [Test]
    public void EulerInstability_MessageNamesSmallestTheta()
    {
        string input = _dir.Write("in.csv", "1\n2\n");
        string smallest = LmuSystem.MinimumStableEulerTheta(64).ToString("G4", CultureInfo.InvariantCulture);
        var result = CliRunner.Run("memory", "-d", "64", "--theta", "100", "--discretizer", "euler", "-i", input,
            "-o", _dir.File("out.csv"), "-a", "cpu");
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(1));
            Assert.That(result.Error, Does.Contain("unstable").And.Contain($"smallest stable θ for order 64 is about {smallest}"));
            Assert.That(_dir.Entries(), Is.EquivalentTo(new[] { "in.csv" }));
        });
    }
}
