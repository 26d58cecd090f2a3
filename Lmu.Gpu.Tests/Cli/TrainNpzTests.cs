using System.Globalization;
using System.IO.Compression;
using System.Text.RegularExpressions;
using Lmu.Gpu.Cli.Training;
using Lmu.Gpu.Tests.Training;
using Lmu.Gpu.Training;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Cli;

/// <summary><c>lmu train npz</c>: the user's layers (<see cref="LayerSpec"/>) trained on the user's arrays
/// (<see cref="NpzDataset"/>): it learns small tasks of each target kind well above their trivial baselines, saves a
/// model that loads with the data's shape, and refuses bad data and layers with messages that name them.</summary>
[TestFixture]
[NonParallelizable]
public sealed class TrainNpzTests
{
    /// <summary>Writes an .npz of float32 arrays, plus integer arrays (int64, as numpy saves Python ints).</summary>
    private static string Archive(TempDirectory dir, string name, Dictionary<string, (int[] Shape, float[] Values)> floats, Dictionary<string, (int[] Shape, float[] Values)>? integers = null)
    {
        string path = dir.File(name);
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var (key, (shape, values)) in floats)
        {
            KerasImportTests.Entry(zip, key + ".npy", KerasImportTests.Npy(shape, values, "<f4", fortran: false));
        }

        foreach (var (key, (shape, values)) in integers ?? [])
        {
            KerasImportTests.Entry(zip, key + ".npy", KerasImportTests.Npy(shape, values, "<i8", fortran: false));
        }

        return path;
    }

    /// <summary>Two classes told apart by the sign of a small offset under noise (x [N, T, 1]).</summary>
    private static (float[] X, float[] Labels) Offsets(int count, int steps, int seed)
    {
        var rng = new Random(seed);
        var x = new float[count * steps];
        var labels = new float[count];
        for (int n = 0; n < count; n++)
        {
            labels[n] = rng.Next(2);
            for (int t = 0; t < steps; t++)
            {
                x[(n * steps) + t] = (float)((labels[n] == 1 ? 0.4 : -0.4) + (2 * rng.NextDouble()) - 1);
            }
        }

        return (x, labels);
    }

    private static double Number(string output, string pattern)
    {
        var match = Regex.Match(output, pattern);
        Assert.That(match.Success, Is.True, $"'{pattern}' in: {output}");
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [Test]
    public void Classification_ReportsTestAccuracyWellAboveChance()
    {
        using var dir = new TempDirectory();
        const int steps = 20;
        var (x, labels) = Offsets(96, steps, 1);
        var (testX, testLabels) = Offsets(64, steps, 2);
        string train = Archive(dir, "train.npz", new() { ["x"] = ([96, steps, 1], x) }, new() { ["labels"] = ([96], labels) });
        string test = Archive(dir, "test.npz", new() { ["x"] = ([64, steps], testX) }, new() { ["labels"] = ([64], testLabels) });
        string model = dir.File("model.lmuw");
        var result = CliRunner.Run("train", "npz", "--data", train, "--test", test, "--layer", "ff:units=8,order=4", "--epochs", "30",
            "--lr", "0.01", "--batch-size", "16", "--validation-split", "0.25", "--save", model, "--accelerator", "cpu", "--no-progress");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        double accuracy = Number(result.Output, @"npz: test accuracy ([\d.]+) %");
        Assert.That(accuracy, Is.GreaterThan(85), result.Output);
        Assert.That(result.Output, Does.Contain("72 train / 24 validation / 64 test"));
        using var device = LmuDevice.Open(AcceleratorKind.Cpu);
        using var loaded = LmuModel.Load(device, model);
        Assert.That((loaded.ReturnSequences, loaded.InputSize, loaded.OutputSize), Is.EqualTo((false, 1, 2)));
    }

    [Test]
    public void PerStepTargetsWithLengths_ABidirectionalLayerPredictsTheFuture()
    {
        // y(t) = x(t + 2) over each sequence's real steps (x is coloured noise): only a layer that reads backwards can.
        using var dir = new TempDirectory();
        const int count = 48, steps = 16;
        var rng = new Random(3);
        var x = new float[count * steps];
        var y = new float[count * steps];
        var lengths = new float[count];
        for (int n = 0; n < count; n++)
        {
            int length = 8 + rng.Next(steps - 7);
            lengths[n] = length;
            double u = 0;
            var series = new double[length + 2];
            for (int t = 0; t < series.Length; t++)
            {
                u = (0.7 * u) + ((2 * rng.NextDouble()) - 1);
                series[t] = u;
            }

            for (int t = 0; t < length; t++)
            {
                x[(n * steps) + t] = (float)series[t];
                y[(n * steps) + t] = t + 2 < length ? (float)series[t + 2] : 0f;
            }
        }

        string train = Archive(dir, "seq.npz", new() { ["x"] = ([count, steps, 1], x), ["y"] = ([count, steps, 1], y) }, new() { ["lengths"] = ([count], lengths) });
        string[] common = ["train", "npz", "--data", train, "--epochs", "60", "--lr", "0.01", "--batch-size", "16", "--accelerator", "cpu", "--no-progress", "--bucket-by-length"];
        var both = CliRunner.Run([.. common, "--layer", "bi-ff:units=8,order=6,theta=8,activation=tanh"]);
        var causal = CliRunner.Run([.. common, "--layer", "ff:units=16,order=6,theta=8,activation=tanh"]);
        Assert.That(both.ExitCode, Is.EqualTo(0), both.Error);
        Assert.That(causal.ExitCode, Is.EqualTo(0), causal.Error);
        double bothError = Number(both.Output, @"npz: training NRMSE ([\d.]+) %");
        double causalError = Number(causal.Output, @"npz: training NRMSE ([\d.]+) %");
        TestContext.Out.WriteLine($"NRMSE bidirectional {bothError} %, causal {causalError} %");
        Assert.That(both.Output, Does.Contain("Bidirectional LMU feedforward"));
        Assert.That(bothError, Is.LessThan(0.6 * causalError), both.Output + causal.Output);
    }

    [Test]
    public void Truncate_TrainsInWindowsFromTheShell()
    {
        // y(t) = x(t − 6): a delay longer than the windows of 4 steps, which the carried memory bridges.
        using var dir = new TempDirectory();
        const int count = 32, steps = 60;
        var rng = new Random(5);
        var x = new float[count * steps];
        var y = new float[count * steps];
        for (int n = 0; n < count; n++)
        {
            float[] signal = WhiteNoise.BandLimited(steps, cyclesPerWindow: 1, windowSteps: 8, seed: rng.Next());
            signal.CopyTo(x, n * steps);
            for (int t = 6; t < steps; t++)
            {
                y[(n * steps) + t] = signal[t - 6];
            }
        }

        string data = Archive(dir, "delay.npz", new() { ["x"] = ([count, steps, 1], x), ["y"] = ([count, steps, 1], y) });
        var result = CliRunner.Run("train", "npz", "--data", data, "--layer", "lmu:units=8,order=6,theta=8,activation=linear,hidden-to-hidden=false,hidden-to-memory=false,memory-to-memory=false",
            "--truncate", "4", "--loss-from", "6", "--epochs", "40", "--lr", "0.01", "--batch-size", "8", "--accelerator", "cpu", "--no-progress");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        Assert.That(Number(result.Output, @"npz: training NRMSE ([\d.]+) %"), Is.LessThan(25), result.Output);
    }

    [Test]
    public void PerSequenceTargets_TrainAModelWithOneOutputVectorPerSequence()
    {
        using var dir = new TempDirectory();
        const int count = 40, steps = 12;
        var rng = new Random(4);
        var x = Enumerable.Range(0, count * steps * 2).Select(_ => (float)((2 * rng.NextDouble()) - 1)).ToArray();
        var y = new float[count * 3];
        for (int n = 0; n < count; n++)
        {
            for (int t = 0; t < steps; t++)
            {
                y[n * 3] += x[((n * steps) + t) * 2] / steps;
                y[(n * 3) + 1] += x[(((n * steps) + t) * 2) + 1] / steps;
            }

            y[(n * 3) + 2] = x[(((n * steps) + steps - 1) * 2)];
        }

        string data = Archive(dir, "means.npz", new() { ["x"] = ([count, steps, 2], x), ["y"] = ([count, 3], y) });
        string model = dir.File("means.lmuw");
        var result = CliRunner.Run("train", "npz", "--data", data, "--layer", "lmu:units=12,order=6,theta=12", "--layer", "dense:3",
            "--epochs", "80", "--lr", "0.01", "--batch-size", "8", "--save", model, "--accelerator", "cpu", "--no-progress");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        Assert.That(Number(result.Output, @"npz: training NRMSE ([\d.]+) %"), Is.LessThan(50), result.Output);
        using var device = LmuDevice.Open(AcceleratorKind.Cpu);
        using var loaded = LmuModel.Load(device, model);
        Assert.That((loaded.ReturnSequences, loaded.InputSize, loaded.OutputSize), Is.EqualTo((false, 2, 3)));
        Assert.That(loaded.Summary().Split('\n').Count(l => l.StartsWith("Dense", StringComparison.Ordinal)), Is.EqualTo(1), "dense:3 is the head");
    }

    [TestCase("y", "give exactly one of y (regression targets) and labels")]
    [TestCase("shape", "y has shape [4, 5, 1]; it must be [4, 6, O]")]
    [TestCase("label", "labels[1] is 1.5; it must be a whole number")]
    [TestCase("length", "lengths[0] is 7; it must be a whole number in 1 … 6")]
    [TestCase("nan", "x holds NaN at flat index 3")]
    [TestCase("test", "does not match")]
    [TestCase("layer", "--layer 'ff:unit=3': unknown key 'unit'")]
    [TestCase("kind", "--layer 'gru': unknown kind 'gru'")]
    [TestCase("split", "--validation-split must lie in [0, 1)")]
    public void BadDataAndLayers_AreRefusedWithAMessageThatNamesThem(string what, string message)
    {
        using var dir = new TempDirectory();
        var x = new float[4 * 6];
        x[3] = what == "nan" ? float.NaN : 0.5f;
        var floats = new Dictionary<string, (int[], float[])> { ["x"] = ([4, 6, 1], x) };
        var integers = new Dictionary<string, (int[], float[])> { ["labels"] = ([4], [0, what == "label" ? 1.5f : 1, 0, 1]) };
        if (what == "y")
        {
            floats["y"] = ([4, 6, 1], new float[24]);
        }

        if (what == "shape")
        {
            integers.Clear();
            floats["y"] = ([4, 5, 1], new float[20]);
        }

        if (what == "length")
        {
            integers["lengths"] = ([4], [7, 6, 6, 6]);
        }

        if (what == "label")
        {
            floats["labels"] = integers["labels"];
            integers.Clear();
        }

        string data = Archive(dir, "bad.npz", floats, integers);
        string test = Archive(dir, "test.npz", new() { ["x"] = ([2, 6, 2], new float[24]) }, new() { ["labels"] = ([2], [0, 1]) });
        string[] args = what switch
        {
            "test" => ["--test", test],
            "layer" => ["--layer", "ff:unit=3"],
            "kind" => ["--layer", "gru"],
            "split" => ["--validation-split", "1"],
            _ => [],
        };
        var result = CliRunner.Run(["train", "npz", "--data", data, "--epochs", "1", "--accelerator", "cpu", "--no-progress", .. args]);
        Assert.That(result.ExitCode, Is.EqualTo(1), result.Output);
        Assert.That(result.Error, Does.Contain(message));
    }

    [Test]
    public void LayerSpec_BuildsEachKindWithItsKeys()
    {
        using var device = LmuDevice.Open(AcceleratorKind.Cpu);
        using var model = new LmuModel(device, 3, returnSequences: true);
        LayerSpec.Add(model, "lmu:units=5,order=4,theta=9.5,channels=2,activation=linear,discretizer=euler,dt=0.5,hidden-to-hidden=false,memory-bias=yes", 100);
        LayerSpec.Add(model, "dropout:0.25", 100);
        LayerSpec.Add(model, "bi-ff:units=3,order=2", 100);
        LayerSpec.Add(model, "bi-lmu:units=2,order=3,trainable-theta=true,merge=ave", 100);
        LayerSpec.Add(model, "ff:units=4", 100);
        LayerSpec.Add(model, "dense:units=2,activation=relu", 100);
        string[] lines = model.Summary().Split(Environment.NewLine);
        Assert.That(lines[0], Does.StartWith("LMU cell: n_x=3 n=5 k=2 d=4 θ=9.5 linear"));
        Assert.That(lines[1], Does.StartWith("Dropout: 5 rate=0.25"));
        Assert.That(lines[2], Does.StartWith("Bidirectional LMU feedforward: n_x=5 n=3+3 d=2/2 θ=100/100"));
        Assert.That(lines[3], Does.StartWith("Bidirectional LMU cells: n_x=6 n=2+2 d=3/3").And.Contains("merge=average"));
        Assert.That(lines[4], Does.StartWith("LMU feedforward: n_x=2 n=4 k=1 d=64 θ=100 relu"));
        Assert.That(lines[5], Does.StartWith("Dense: 4→2 relu"));
        Assert.That(() => LayerSpec.Add(model, "dense", 1), Throws.ArgumentException.With.Message.Contains("units is required"));
        Assert.That(() => LayerSpec.Add(model, "dense:two", 1), Throws.ArgumentException.With.Message.Contains("units=two is not an integer"));
        Assert.That(() => LayerSpec.Add(model, "lmu:units=2,units=3", 1), Throws.ArgumentException.With.Message.Contains("'units' is given twice"));
        Assert.That(() => LayerSpec.Add(model, "lmu:memory-bias=maybe", 1), Throws.ArgumentException.With.Message.Contains("memory-bias=maybe is not true or false"));
        Assert.That(() => LayerSpec.Add(model, "ff:hidden-to-hidden=false", 1), Throws.ArgumentException.With.Message.Contains("unknown key 'hidden-to-hidden'"));
        Assert.That(() => LayerSpec.Add(model, "bi-ff:merge=max", 1), Throws.ArgumentException.With.Message.Contains("merge=max is not concat, sum or ave"));
        Assert.That(() => LayerSpec.Add(model, "ff:merge=sum", 1), Throws.ArgumentException.With.Message.Contains("unknown key 'merge'"));
    }
}
