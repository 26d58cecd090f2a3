using Lmu.Gpu.Tests.Cli;
using Lmu.Gpu.Training;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Training;

/// <summary>
/// Checkpoints (<see cref="LmuModel.SaveCheckpoint"/>, <see cref="FitOptions.CheckpointPath"/>): a model loaded from one
/// continues training exactly as the model it was saved from (the same weights after more epochs, Adam's moments and
/// step count and the dropout masks' step restored), where a weights-only file restarts the optimiser. Host path and
/// the CPU simulator.
/// </summary>
[TestFixture]
public sealed class CheckpointTests : SimulatorAndHostFixture
{
    private LmuDevice Device(bool simulator) => simulator ? Simulator : Host;

    private static LmuModel Build(LmuDevice device) =>
        new LmuModel(device, 2, returnSequences: true, seed: 3)
            .AddLmu(new LmuCellOptions { InputSize = 2, Units = 4, Order = 3, Theta = 5, HiddenBias = true })
            .AddDropout(0.2)
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 4, Units = 3, Order = 3, Theta = 6, TrainableTheta = true })
            .AddDense(2);

    private static SequenceDataset Data()
    {
        var rng = new Random(4);
        float[] x = Enumerable.Range(0, 6 * 10 * 2).Select(_ => (float)((2 * rng.NextDouble()) - 1)).ToArray();
        float[] y = Enumerable.Range(0, 6 * 10 * 2).Select(_ => (float)((2 * rng.NextDouble()) - 1)).ToArray();
        return SequenceDataset.ForRegression(x, y, 6, 10, 2, 2, sequenceTargets: true);
    }

    private static readonly FitOptions Options = new() { Epochs = 2, BatchSize = 4, LearningRate = 0.01, ClipNorm = 1 };

    [Test]
    public void Load_OfACheckpoint_ContinuesTrainingExactly([Values(false, true)] bool simulator)
    {
        var device = Device(simulator);
        using var dir = new TempDirectory();
        var data = Data();
        using var original = Build(device);
        original.Fit(data, Options);
        Assert.That(original.OptimizerSteps, Is.EqualTo(4), "two epochs of two batches");
        string checkpoint = dir.File("model.ckpt");
        string weights = dir.File("model.lmuw");
        original.SaveCheckpoint(checkpoint);
        original.Save(weights);

        using var resumed = LmuModel.Load(device, checkpoint);
        using var restarted = LmuModel.Load(device, weights);
        Assert.That(resumed.OptimizerSteps, Is.EqualTo(4));
        Assert.That(restarted.OptimizerSteps, Is.Zero);
        var more = Options with { Epochs = 1, Seed = 9 };
        original.Fit(data, more);
        resumed.Fit(data, more);
        restarted.Fit(data, more);
        Assert.That(resumed.GetParameters(), Is.EqualTo(original.GetParameters()), "the moments, the step count and the dropout masks continue");
        Assert.That(restarted.GetParameters(), Is.Not.EqualTo(original.GetParameters()).Within(1e-4), "a weights-only file restarts Adam");
    }

    [Test]
    public void Fit_CheckpointPath_WritesACheckpoint()
    {
        using var dir = new TempDirectory();
        string path = dir.File("fit.ckpt");
        var data = Data();
        using var model = Build(Host);
        model.Fit(data, Options with { CheckpointPath = path });
        using var loaded = LmuModel.Load(Host, path);
        Assert.That(loaded.OptimizerSteps, Is.EqualTo(model.OptimizerSteps));
        using var continued = Build(Host);
        continued.ContinueFrom(loaded);
        model.Fit(data, Options with { Epochs = 1 });
        continued.Fit(data, Options with { Epochs = 1 });
        Assert.That(continued.GetParameters(), Is.EqualTo(model.GetParameters()));
    }

    [Test]
    public void CorruptCheckpoints_AndOtherModels_AreRefused()
    {
        using var dir = new TempDirectory();
        using var model = Build(Host);
        model.Fit(Data(), Options);
        string path = dir.File("model.ckpt");
        model.SaveCheckpoint(path);
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^4]);
        Assert.That(() => LmuModel.Load(Host, path), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("truncated or corrupt"));
        File.WriteAllBytes(path, [.. bytes[..^4], .. BitConverter.GetBytes(float.NaN)]);
        Assert.That(() => LmuModel.Load(Host, path), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("checksum"));
        string text = System.Text.Encoding.UTF8.GetString(bytes);
        File.WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(text.Replace("\"version\":2", "\"version\":3")));
        Assert.That(() => LmuModel.Load(Host, path), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("version 3"));

        using var other = new LmuModel(Host, 2).AddDense(2);
        Assert.That(() => other.ContinueFrom(model), Throws.ArgumentException.With.Property("ParamName").EqualTo("source"));
    }
}
