using System.Globalization;
using Lmu.Gpu.Cli.Commands;
using Lmu.Gpu.Training;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Cli;

/// <summary><c>lmu predict</c>: a saved model over a CSV file (whole, or in pieces) and over steps streamed on
/// standard input gives what <see cref="LmuModel.Predict(float[], int, int, int, System.Threading.CancellationToken)"/> gives; bad input gets a one-line reason.</summary>
[TestFixture]
[NonParallelizable]
public sealed class PredictCommandTests
{
    private LmuDevice _host = null!;

    [OneTimeSetUp]
    public void Open() => _host = LmuDevice.Open(AcceleratorKind.Cpu);

    [OneTimeTearDown]
    public void Close() => _host.Dispose();

    private LmuModel Model(bool returnSequences)
    {
        var model = new LmuModel(_host, 2, returnSequences, seed: 3)
            .AddLmu(new LmuCellOptions { InputSize = 2, Units = 6, Order = 4, Theta = 5, HiddenBias = true })
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 6, Units = 5, Order = 3, Theta = 7 })
            .AddDense(3);
        model.SetParameters(model.ParametersWithNoise(seed: 4, width: 0.5));
        return model;
    }

    private static float[] Signal(int steps)
    {
        var x = new float[steps * 2];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = MathF.Round(MathF.Sin(i * 0.37f), 4);
        }

        return x;
    }

    private static string Csv(float[] x, bool header) =>
        (header ? "a,b\n" : string.Empty) + string.Join('\n', Enumerable.Range(0, x.Length / 2).Select(t =>
            string.Create(CultureInfo.InvariantCulture, $"{x[2 * t]},{x[(2 * t) + 1]}"))) + "\n";

    private static float[][] Rows(string csv, int outputs)
    {
        string[] lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Is.EqualTo(string.Join(',', Enumerable.Range(0, outputs).Select(i => $"y{i}"))));
        return lines.Skip(1).Select(l => l.Split(',').Select(f => float.Parse(f, CultureInfo.InvariantCulture)).ToArray()).ToArray();
    }

    private static void AssertRows(float[][] rows, float[] expected, int outputs)
    {
        Assert.That(rows, Has.Length.EqualTo(expected.Length / outputs));
        for (int r = 0; r < rows.Length; r++)
        {
            for (int o = 0; o < outputs; o++)
            {
                Assert.That(rows[r][o], Is.EqualTo(expected[(r * outputs) + o]).Within(1e-5), $"row {r}, output {o}");
            }
        }
    }

    [Test]
    public void File_WritesEveryStepsOutputs()
    {
        using var dir = new TempDirectory();
        using var model = Model(returnSequences: true);
        string weights = dir.File("model.lmuw");
        model.Save(weights);
        float[] x = Signal(30);
        string input = dir.Write("signal.csv", Csv(x, header: true));
        float[] expected = model.Predict(x, 1, 30);

        var whole = CliRunner.Run("predict", "--model", weights, "--input", input, "--accelerator", "cpu");
        Assert.That(whole.ExitCode, Is.EqualTo(0), whole.Error);
        AssertRows(Rows(whole.Output, 3), expected, 3);

        string output = dir.File("out.csv");
        var pieces = CliRunner.Run("predict", "--model", weights, "--input", input, "--piece", "7", "--output", output, "--accelerator", "cpu");
        Assert.That(pieces.ExitCode, Is.EqualTo(0), pieces.Error);
        AssertRows(Rows(File.ReadAllText(output), 3), expected, 3);
    }

    [Test]
    public void File_LastStepModel_WritesOneRowPerPiece()
    {
        using var dir = new TempDirectory();
        using var model = Model(returnSequences: false);
        string weights = dir.File("model.lmuw");
        model.Save(weights);
        float[] x = Signal(20);
        string input = dir.Write("signal.csv", Csv(x, header: false));

        var result = CliRunner.Run("predict", "--model", weights, "--input", input, "--piece", "8", "--accelerator", "cpu");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        float[][] rows = Rows(result.Output, 3);
        Assert.That(rows, Has.Length.EqualTo(3), "pieces of 8, 8 and 4 steps");
        foreach (var (row, end) in rows.Zip(new[] { 8, 16, 20 }))
        {
            AssertRows([row], model.Predict(x[..(2 * end)], 1, end), 3);
        }
    }

    [Test]
    public void File_BidirectionalModel_RunsTheWholeSequence_AndRefusesPiecesAndStandardInput()
    {
        using var dir = new TempDirectory();
        using var model = new LmuModel(_host, 2, returnSequences: true, seed: 5)
            .AddBidirectional(new FeedforwardLmuOptions { InputSize = 2, Units = 3, Order = 4, Theta = 6 })
            .AddDense(3);
        model.SetParameters(model.ParametersWithNoise(seed: 6, width: 0.5));
        Assert.That(model.IsCausal, Is.False);
        string weights = dir.File("pair.lmuw");
        model.Save(weights);
        float[] x = Signal(25);
        string input = dir.Write("signal.csv", Csv(x, header: true));

        var whole = CliRunner.Run("predict", "--model", weights, "--input", input, "--accelerator", "cpu");
        Assert.That(whole.ExitCode, Is.EqualTo(0), whole.Error);
        AssertRows(Rows(whole.Output, 3), model.Predict(x, 1, 25), 3);
        var pieces = CliRunner.Run("predict", "--model", weights, "--input", input, "--piece", "5", "--accelerator", "cpu");
        Assert.That(pieces.ExitCode, Is.EqualTo(1));
        Assert.That(pieces.Error, Does.Contain("give the whole sequence with --input (no --piece"));
        var piped = CliRunner.Run("predict", "--model", weights, "--accelerator", "cpu");
        Assert.That(piped.ExitCode, Is.EqualTo(1));
        Assert.That(piped.Error, Does.Contain("bidirectional layer"));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void Archive_WritesEverySequencesOutputs_AtTheirLengths(bool returnSequences)
    {
        using var dir = new TempDirectory();
        using var model = Model(returnSequences);
        string weights = dir.File("model.lmuw");
        model.Save(weights);
        float[] x = Signal(3 * 10);
        int[] lengths = [10, 4, 7];
        string input = dir.File("x.npz");
        NumpyArchive.Write(input, new Dictionary<string, NumpyArray>
        {
            ["x"] = new([3, 10, 2], x),
            ["lengths"] = new([3], lengths.Select(l => (float)l).ToArray()),
        });
        string output = dir.File("y.npz");
        var result = CliRunner.Run("predict", "--model", weights, "--input", input, "--output", output, "--accelerator", "cpu");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        var y = NumpyArchive.Read(output)["y"];
        Assert.That(y.Shape, Is.EqualTo(returnSequences ? new[] { 3, 10, 3 } : new[] { 3, 3 }));
        Assert.That(y.Values, Is.EqualTo(model.Predict(x, 3, 10, lengths)).Within(1e-6));

        var noOutput = CliRunner.Run("predict", "--model", weights, "--input", input, "--accelerator", "cpu");
        Assert.That(noOutput.ExitCode, Is.EqualTo(1));
        Assert.That(noOutput.Error, Does.Contain("needs --output FILE.npz"));
    }

    [Test]
    public void StandardInput_WritesEachStepAsItRuns()
    {
        using var model = Model(returnSequences: true);
        float[] x = Signal(12);
        using var stream = model.OpenStream();
        var writer = new StringWriter();
        PredictCommand.Stream(stream, new StringReader("u0,u1\n" + Csv(x, header: false).Replace("\n", "\n\n", StringComparison.Ordinal)), writer);
        AssertRows(Rows(writer.ToString(), 3), model.Predict(x, 1, 12), 3);
    }

    [Test]
    public void StandardInput_BadLine_ThrowsNamingIt_AfterTheRowsBefore()
    {
        using var model = Model(returnSequences: true);
        using var stream = model.OpenStream();
        var writer = new StringWriter();
        var e = Assert.Throws<InvalidDataException>(() => PredictCommand.Stream(stream, new StringReader("0.1,0.2\n0.3\n"), writer));
        Assert.Multiple(() =>
        {
            Assert.That(e!.Message, Does.Contain("line 2 has 1 field(s)"));
            Assert.That(writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(2), "the header and the first step");
        });
    }

    [Test]
    public void Run_ThrowsForBadInput()
    {
        using var dir = new TempDirectory();
        using var model = Model(returnSequences: true);
        string weights = dir.File("model.lmuw");
        model.Save(weights);
        string threeColumns = dir.Write("three.csv", "1,2,3\n4,5,6\n");
        Assert.Multiple(() =>
        {
            var columns = CliRunner.Run("predict", "--model", weights, "--input", threeColumns, "--accelerator", "cpu");
            Assert.That(columns.ExitCode, Is.EqualTo(1));
            Assert.That(columns.Error, Does.Contain("3 column(s); the model takes 2"));

            var noInput = CliRunner.Run("predict", "--model", weights, "--output", dir.File("x.csv"));
            Assert.That(noInput.ExitCode, Is.EqualTo(1));
            Assert.That(noInput.Error, Does.Contain("--output and --piece need --input"));

            var missing = CliRunner.Run("predict", "--model", dir.File("none.lmuw"), "--input", threeColumns);
            Assert.That(missing.ExitCode, Is.EqualTo(1));
            Assert.That(missing.Error, Does.Contain("does not exist"));
            Assert.That(dir.Entries(), Is.EquivalentTo(new[] { "model.lmuw", "three.csv" }), "no output file left behind");
        });
    }
}
