using Lmu.Gpu.Training;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Training;

/// <summary>
/// Online training (<see cref="LmuModel.OpenOnlineTraining"/>): steps over consecutive pieces are exactly
/// <see cref="FitOptions.TruncatedSteps"/> over the whole sequences (whose window gradients
/// <see cref="TruncatedTrainingTests"/> checks against finite differences), a model adapts to a stream, and bad pieces
/// and models are refused before anything runs. Host path and the CPU simulator.
/// </summary>
[TestFixture]
public sealed class OnlineTrainingTests : SimulatorAndHostFixture
{
    private LmuDevice Device(bool simulator) => simulator ? Simulator : Host;

    private static LmuModel Build(LmuDevice device) =>
        new LmuModel(device, 2, returnSequences: true, seed: 3) { SequenceMethod = SequenceMethod.Scan }
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 2, Units = 3, Order = 3, Theta = 6, MemoryBias = true, Activation = Activation.Tanh, TrainableTheta = true })
            .AddLmu(new LmuCellOptions { InputSize = 3, Units = 4, Order = 3, Theta = 5, MemoryChannels = 2, HiddenBias = true, TrainableTheta = true })
            .AddDense(2);

    private static float[] Noise(int length, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)((2 * rng.NextDouble()) - 1)).ToArray();
    }

    /// <summary>Steps [first, first + steps) of each of <paramref name="count"/> sequences of [N, T, w].</summary>
    private static float[] Piece(float[] values, int count, int total, int width, int first, int steps)
    {
        var piece = new float[count * steps * width];
        for (int s = 0; s < count; s++)
        {
            values.AsSpan(((s * total) + first) * width, steps * width).CopyTo(piece.AsSpan(s * steps * width));
        }

        return piece;
    }

    [Test]
    public void Steps_OverConsecutivePieces_EqualFitInWindows([Values(false, true)] bool simulator)
    {
        var device = Device(simulator);
        const int count = 3, steps = 12;
        float[] x = Noise(count * steps * 2, 1);
        float[] y = Noise(count * steps * 2, 2);
        var options = new FitOptions { Epochs = 1, BatchSize = count, Shuffle = false, LearningRate = 0.01, ClipNorm = 5, TruncatedSteps = 5 };
        using var fitted = Build(device);
        float[] start = fitted.ParametersWithNoise(seed: 4, width: 0.6);
        fitted.SetParameters(start);
        var history = fitted.Fit(SequenceDataset.ForRegression(x, y, count, steps, 2, 2, sequenceTargets: true), options);

        using var online = Build(device);
        online.SetParameters(start);
        using var trainer = online.OpenOnlineTraining(count, new FitOptions { LearningRate = 0.01, ClipNorm = 5 });
        double lossSum = 0;
        foreach (var (first, length) in new[] { (0, 5), (5, 5), (10, 2) })
        {
            lossSum += trainer.Step(Piece(x, count, steps, 2, first, length), Piece(y, count, steps, 2, first, length), length) * length;
        }

        Assert.That(trainer.StepsRun, Is.EqualTo(12));
        Assert.That(online.GetParameters(), Is.EqualTo(fitted.GetParameters()).Within(1e-6));
        Assert.That(lossSum / steps, Is.EqualTo(history[0].TrainLoss).Within(1e-6 * history[0].TrainLoss));
    }

    [Test]
    public void Reset_StartsTheSequencesAgainFromZero()
    {
        using var model = Build(Host);
        float[] start = model.ParametersWithNoise(seed: 5, width: 0.6);
        model.SetParameters(start);
        float[] x = Noise(2 * 6 * 2, 6);
        float[] y = Noise(2 * 6 * 2, 7);
        using var trainer = model.OpenOnlineTraining(2, new FitOptions { Optimizer = OptimizerKind.Sgd, LearningRate = 0.01 });
        double first = trainer.Step(x, y, 6);
        double carried = trainer.Step(x, y, 6);
        model.SetParameters(start);
        trainer.Reset();
        Assert.That(trainer.StepsRun, Is.Zero);
        Assert.That(trainer.Step(x, y, 6), Is.EqualTo(first), "from zero states and the same weights");
        Assert.That(carried, Is.Not.EqualTo(first).Within(1e-6), "the second piece ran from the first's states (and new weights)");
    }

    [Test]
    public void Step_AdaptsToAStream()
    {
        // One sequence arrives 20 steps at a time; the target is the input 8 steps ago.
        using var model = new LmuModel(Host, 1, returnSequences: true, seed: 8)
            .AddLmu(new LmuCellOptions { InputSize = 1, Units = 8, Order = 6, Theta = 8, Activation = Activation.Linear, HiddenToHidden = false, HiddenToMemory = false, MemoryToMemory = false })
            .AddDense(1);
        float[] signal = WhiteNoise.BandLimited(6008, cyclesPerWindow: 1, windowSteps: 8, seed: 9);
        using var trainer = model.OpenOnlineTraining(1, new FitOptions { LearningRate = 0.01 });
        var losses = new List<double>();
        for (int first = 8; first + 20 <= signal.Length; first += 20)
        {
            losses.Add(trainer.Step(signal.AsSpan(first, 20), signal.AsSpan(first - 8, 20), 20));
        }

        double early = losses.Take(20).Average();
        double late = losses.TakeLast(20).Average();
        TestContext.Out.WriteLine($"mean loss of the first 20 pieces {early:G3}, of the last 20 {late:G3}");
        Assert.That(late, Is.LessThan(early / 10));
    }

    [Test]
    public void BadPiecesAndModels_AreRefused()
    {
        using var model = Build(Host);
        float[] before = model.GetParameters();
        using var trainer = model.OpenOnlineTraining(2, new FitOptions());
        Assert.That(() => trainer.Step(new float[2 * 3 * 2 - 1], new float[2 * 3 * 2], 3), Throws.ArgumentException.With.Property("ParamName").EqualTo("inputs"));
        Assert.That(() => trainer.Step(new float[2 * 3 * 2], new float[2 * 3 * 2 + 1], 3), Throws.ArgumentException.With.Property("ParamName").EqualTo("targets"));
        float[] bad = new float[2 * 3 * 2];
        bad[4] = float.NaN;
        Assert.That(() => trainer.Step(new float[2 * 3 * 2], bad, 3), Throws.ArgumentException.With.Property("ParamName").EqualTo("targets"));
        Assert.That(() => trainer.Step([], [], 0), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(model.GetParameters(), Is.EqualTo(before), "nothing ran");
        Assert.That(() => model.OpenOnlineTraining(0, new FitOptions()), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => model.OpenOnlineTraining(1, new FitOptions { LossFromStep = 2 }), Throws.ArgumentException.With.Message.Contains("LossFromStep"));
        Assert.That(() => model.OpenOnlineTraining(1, new FitOptions { LearningRate = 0 }), Throws.InstanceOf<ArgumentOutOfRangeException>());

        using var lastStep = new LmuModel(Host, 2, returnSequences: false).AddLmu(new LmuCellOptions { InputSize = 2, Units = 2, Order = 2, Theta = 3 }).AddDense(2);
        Assert.That(() => lastStep.OpenOnlineTraining(1, new FitOptions()), Throws.ArgumentException.With.Message.Contains("outputs at every step"));
        using var pair = new LmuModel(Host, 2).AddBidirectional(new FeedforwardLmuOptions { InputSize = 2, Units = 2, Order = 2, Theta = 3 }).AddDense(2);
        Assert.That(() => pair.OpenOnlineTraining(1, new FitOptions()), Throws.ArgumentException.With.Message.Contains("causal layers"));

        var second = model.OpenOnlineTraining(1, new FitOptions());
        model.Dispose();
        Assert.That(() => second.Step(new float[2], new float[2], 1), Throws.InstanceOf<ObjectDisposedException>());
    }
}
