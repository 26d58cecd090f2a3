using Lmu.Gpu.Kernels.Training;
using Lmu.Gpu.Tests.Cli;
using Lmu.Gpu.Training;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Training;

/// <summary>
/// Bidirectional LMU layers (<see cref="LmuModel.AddBidirectional(LmuCellOptions, LmuCellOptions?, BidirectionalMerge)"/>): the output
/// equals a forward-only model beside a backward-only model run over each sequence reversed (its outputs reversed
/// back), padded sequences give each sequence's result at its own length, and an SGD step on a padded batch is the
/// weighted sum of each sequence's step alone. Gradients are checked against finite differences in
/// <see cref="GradientCheckTests"/>. Host path and the CPU simulator; tolerances 2·10⁻⁵ (float32 sums in another order).
/// </summary>
[TestFixture]
public sealed class BidirectionalTests : SimulatorAndHostFixture
{
    private const int Steps = 9;
    private static readonly int[] Lengths = [9, 6, 2];

    private LmuDevice Device(bool simulator) => simulator ? Simulator : Host;

    private static LmuCellOptions ForwardCell => new() { InputSize = 2, Units = 3, Order = 3, Theta = 5, MemoryBias = true, HiddenBias = true };

    private static LmuCellOptions BackwardCell => new() { InputSize = 2, Units = 2, Order = 4, Theta = 7, MemoryChannels = 2 };

    private static FeedforwardLmuOptions ForwardFeedforward => new() { InputSize = 2, Units = 3, Order = 3, Theta = 5, MemoryBias = true, Activation = Activation.Tanh };

    private static FeedforwardLmuOptions BackwardFeedforward => new() { InputSize = 2, Units = 2, Order = 4, Theta = 7, MemoryChannels = 2, Activation = Activation.Tanh };

    /// <summary>A model of one bidirectional pair ("cell" or "feedforward"), with no head.</summary>
    private static LmuModel Pair(LmuDevice device, string kind, bool returnSequences) => kind == "cell"
        ? new LmuModel(device, 2, returnSequences, seed: 3).AddBidirectional(ForwardCell, BackwardCell)
        : new LmuModel(device, 2, returnSequences, seed: 3).AddBidirectional(ForwardFeedforward, BackwardFeedforward);

    /// <summary>A model of the pair's forward (or backward) layer alone, with that layer's weights.</summary>
    private static LmuModel Half(LmuDevice device, string kind, bool backward, bool returnSequences, float[] pairParameters)
    {
        var model = new LmuModel(device, 2, returnSequences);
        model = kind == "cell"
            ? model.AddLmu(backward ? BackwardCell : ForwardCell)
            : model.AddFeedforwardLmu(backward ? BackwardFeedforward : ForwardFeedforward);
        int forwardLength;
        using (var forwardOnly = kind == "cell" ? new LmuModel(device, 2).AddLmu(ForwardCell) : new LmuModel(device, 2).AddFeedforwardLmu(ForwardFeedforward))
        {
            forwardLength = forwardOnly.ParameterVectorLength;
        }

        model.SetParameters(backward ? pairParameters.AsSpan(forwardLength) : pairParameters.AsSpan(0, forwardLength));
        return model;
    }

    private static float[] Noise(int length, int seed, double width = 1)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)(width * ((2 * rng.NextDouble()) - 1))).ToArray();
    }

    /// <summary>[N, T, w] with sequence s's steps in reverse order over its first <paramref name="lengths"/>[s] steps.</summary>
    private static float[] Reversed(float[] values, int count, int steps, int width, int[]? lengths = null)
    {
        var result = (float[])values.Clone();
        for (int s = 0; s < count; s++)
        {
            int length = lengths?[s] ?? steps;
            for (int t = 0; t < length; t++)
            {
                Array.Copy(values, ((s * steps) + t) * width, result, ((s * steps) + length - 1 - t) * width, width);
            }
        }

        return result;
    }

    [Test]
    public void Predict_JoinsTheForwardLayerAndTheReversedBackwardLayer(
        [Values(false, true)] bool simulator, [Values("cell", "feedforward")] string kind, [Values(true, false)] bool returnSequences)
    {
        var device = Device(simulator);
        const int count = 3;
        float[] x = Noise(count * Steps * 2, 1);
        using var pair = Pair(device, kind, returnSequences);
        float[] parameters = pair.ParametersWithNoise(seed: 7, width: 0.6);
        pair.SetParameters(parameters);
        float[] actual = pair.Predict(x, count, Steps);

        using var forward = Half(device, kind, backward: false, returnSequences: true, parameters);
        using var backward = Half(device, kind, backward: true, returnSequences: true, parameters);
        float[] f = forward.Predict(x, count, Steps);
        float[] b = Reversed(backward.Predict(Reversed(x, count, Steps, 2), count, Steps), count, Steps, 2);
        if (kind == "feedforward" && !returnSequences)
        {
            // Both halves give their last outputs by the impulse-response product, with no memory sequence.
            Assert.That(pair.Layers[0].Parts.Cast<FeedforwardModelLayer>().All(l => l.UsesImpulsePath(Steps)), Is.True);
        }

        for (int s = 0; s < count; s++)
        {
            for (int t = 0; t < (returnSequences ? Steps : 1); t++)
            {
                // Per step: [forward h_t, backward h_t]; at the last step only: [forward h_(T−1), backward h_0].
                int forwardStep = returnSequences ? t : Steps - 1;
                int backwardStep = returnSequences ? t : 0;
                int row = (s * (returnSequences ? Steps : 1)) + t;
                Assert.That(actual.AsSpan(row * 5, 3).ToArray(), Is.EqualTo(f.AsSpan(((s * Steps) + forwardStep) * 3, 3).ToArray()).Within(2e-5), $"forward, sequence {s} step {t}");
                Assert.That(actual.AsSpan((row * 5) + 3, 2).ToArray(), Is.EqualTo(b.AsSpan(((s * Steps) + backwardStep) * 2, 2).ToArray()).Within(2e-5), $"backward, sequence {s} step {t}");
            }
        }
    }

    [Test]
    public void Predict_SumAndMean_AddTheHalves([Values(false, true)] bool simulator, [Values(BidirectionalMerge.Sum, BidirectionalMerge.Average)] BidirectionalMerge merge,
        [Values(true, false)] bool returnSequences)
    {
        var device = Device(simulator);
        const int count = 3;
        float[] x = Noise(count * Steps * 2, 14);
        var backward = ForwardFeedforward with { Order = 4, Theta = 7 };
        using var pair = new LmuModel(device, 2, returnSequences, seed: 3).AddBidirectional(ForwardFeedforward, backward, merge);
        float[] parameters = pair.ParametersWithNoise(seed: 15, width: 0.6);
        pair.SetParameters(parameters);
        float[] actual = pair.Predict(x, count, Steps);

        using var forwardOnly = new LmuModel(device, 2).AddFeedforwardLmu(ForwardFeedforward);
        int split = forwardOnly.ParameterVectorLength;
        forwardOnly.SetParameters(parameters.AsSpan(0, split));
        using var backwardOnly = new LmuModel(device, 2).AddFeedforwardLmu(backward);
        backwardOnly.SetParameters(parameters.AsSpan(split));
        float[] f = forwardOnly.Predict(x, count, Steps);
        float[] b = Reversed(backwardOnly.Predict(Reversed(x, count, Steps, 2), count, Steps), count, Steps, 3);
        float half = merge == BidirectionalMerge.Average ? 0.5f : 1f;
        int rows = returnSequences ? Steps : 1;
        Assert.That(actual, Has.Length.EqualTo(count * rows * 3));
        for (int s = 0; s < count; s++)
        {
            for (int t = 0; t < rows; t++)
            {
                int forwardStep = returnSequences ? t : Steps - 1;
                int backwardStep = returnSequences ? t : 0;
                for (int j = 0; j < 3; j++)
                {
                    float expected = half * (f[(((s * Steps) + forwardStep) * 3) + j] + b[(((s * Steps) + backwardStep) * 3) + j]);
                    Assert.That(actual[(((s * rows) + t) * 3) + j], Is.EqualTo(expected).Within(2e-5), $"sequence {s} step {t} unit {j}");
                }
            }
        }

        Assert.That(() => new LmuModel(device, 2).AddBidirectional(ForwardCell, BackwardCell, merge), Throws.ArgumentException.With.Property("ParamName").EqualTo("merge"));
    }

    [Test]
    public void Predict_WithLengths_GivesEachSequenceAtItsOwnLength(
        [Values(false, true)] bool simulator, [Values("cell", "feedforward")] string kind, [Values(true, false)] bool returnSequences)
    {
        var device = Device(simulator);
        float[] x = Noise(Lengths.Length * Steps * 2, 2);
        for (int s = 0; s < Lengths.Length; s++)
        {
            for (int i = Lengths[s] * 2; i < Steps * 2; i++)
            {
                x[(s * Steps * 2) + i] *= 50; // large padding: a leak would show
            }
        }

        using var pair = Pair(device, kind, returnSequences);
        pair.SetParameters(pair.ParametersWithNoise(seed: 8, width: 0.6));
        float[] padded = pair.Predict(x, Lengths.Length, Steps, Lengths, batchSize: 3);
        int rows = returnSequences ? Steps : 1;
        for (int s = 0; s < Lengths.Length; s++)
        {
            float[] own = pair.Predict(x.AsSpan(s * Steps * 2, Lengths[s] * 2).ToArray(), 1, Lengths[s]);
            int real = (returnSequences ? Lengths[s] : 1) * 5;
            Assert.That(padded.AsSpan(s * rows * 5, real).ToArray(), Is.EqualTo(own).Within(2e-5), $"sequence {s}");
        }

        float[] unmarked = pair.Predict(x, Lengths.Length, Steps);
        Assert.That(unmarked.AsSpan(rows * 5, 5).ToArray(), Is.Not.EqualTo(padded.AsSpan(rows * 5, 5).ToArray()).Within(1e-3),
            "without lengths the backward layer reads the padding first");
    }

    [TestCase(false, "cell", true)]
    [TestCase(false, "feedforward", true)]
    [TestCase(true, "cell", true)]
    [TestCase(true, "feedforward", true)]
    [TestCase(false, "cell", false)]
    [TestCase(false, "feedforward", false)]
    [TestCase(true, "feedforward", false)]
    public void SgdStep_WithLengths_IsTheWeightedSumOfEachSequenceAlone(bool simulator, string kind, bool returnSequences)
    {
        // Per-step targets weigh each sequence by its length; last-step targets (three classes) equally.
        var device = Device(simulator);
        LmuModel Build() => Pair(device, kind, returnSequences).AddDense(returnSequences ? 2 : 3);
        float[] x = Noise(Lengths.Length * Steps * 2, 3);
        float[] y = Noise(Lengths.Length * Steps * 2, 4);
        for (int s = 0; s < Lengths.Length; s++)
        {
            for (int i = Lengths[s] * 2; i < Steps * 2; i++)
            {
                x[(s * Steps * 2) + i] *= 50;
                y[(s * Steps * 2) + i] *= 50;
            }
        }

        var options = new FitOptions { Epochs = 1, BatchSize = 3, Shuffle = false, Optimizer = OptimizerKind.Sgd, LearningRate = 0.05 };
        using var model = Build();
        float[] start = model.ParametersWithNoise(seed: 9, width: 0.6);
        double[] Step(LmuModel m, SequenceDataset data)
        {
            m.SetParameters(start);
            m.Fit(data, options);
            return m.GetParameters().Zip(start, (a, b) => (double)a - b).ToArray();
        }

        int[] labels = [2, 0, 1];
        var padded = returnSequences
            ? SequenceDataset.ForRegression(x, y, 3, Steps, 2, 2, sequenceTargets: true)
            : SequenceDataset.ForClassification(x, labels, 3, Steps, 2, 3);
        double[] actual = Step(model, padded.WithLengths(Lengths));
        var expected = new double[actual.Length];
        for (int s = 0; s < Lengths.Length; s++)
        {
            using var alone = Build();
            float[] ownX = x.AsSpan(s * Steps * 2, Lengths[s] * 2).ToArray();
            var own = returnSequences
                ? SequenceDataset.ForRegression(ownX, y.AsSpan(s * Steps * 2, Lengths[s] * 2).ToArray(), 1, Lengths[s], 2, 2, sequenceTargets: true)
                : SequenceDataset.ForClassification(ownX, [labels[s]], 1, Lengths[s], 2, 3);
            double[] delta = Step(alone, own);
            double weight = returnSequences ? (double)Lengths[s] / Lengths.Sum() : 1.0 / Lengths.Length;
            for (int i = 0; i < delta.Length; i++)
            {
                expected[i] += delta[i] * weight;
            }
        }

        double scale = expected.Max(Math.Abs);
        Assert.That(scale, Is.GreaterThan(1e-6));
        double error = actual.Zip(expected, (a, e) => Math.Abs(a - e)).Max();
        Assert.That(error, Is.LessThanOrEqualTo(2e-5 * scale), $"largest weight-change error {error:G3} of {scale:G3}");
    }

    [Test]
    public void Fit_LearnsATaskThatNeedsTheFuture()
    {
        // Target at step t: the input 3 steps ahead, u(t + 3), of coloured noise (u_t = 0.7·u_(t−1) + noise). A causal
        // model can only extrapolate (at best 0.7⁶ ≈ 12 % of the variance); the backward layer has seen u(t + 3).
        var device = Host;
        const int count = 32, steps = 24, lead = 3;
        var rng = new Random(5);
        var x = new float[count * steps];
        var y = new float[count * steps];
        for (int s = 0; s < count; s++)
        {
            double u = 0;
            for (int t = 0; t < steps + lead; t++)
            {
                u = (0.7 * u) + ((2 * rng.NextDouble()) - 1);
                if (t < steps)
                {
                    x[(s * steps) + t] = (float)u;
                }

                if (t >= lead)
                {
                    y[(s * steps) + t - lead] = (float)u;
                }
            }
        }

        var data = SequenceDataset.ForRegression(x, y, count, steps, 1, 1, sequenceTargets: true);
        var options = new FitOptions { Epochs = 150, BatchSize = 16, LearningRate = 0.01, LossFromStep = 0 };
        var feedforward = new FeedforwardLmuOptions { InputSize = 1, Units = 8, Order = 6, Theta = 8, Activation = Activation.Tanh };
        using var causal = new LmuModel(device, 1, returnSequences: true, seed: 2)
            .AddFeedforwardLmu(feedforward with { Units = 16 }).AddDense(1);
        using var both = new LmuModel(device, 1, returnSequences: true, seed: 2)
            .AddBidirectional(feedforward).AddDense(1);
        causal.Fit(data, options);
        both.Fit(data, options);
        double causalLoss = causal.Evaluate(data).Loss;
        double bothLoss = both.Evaluate(data).Loss;
        TestContext.Out.WriteLine($"bidirectional {bothLoss:G3}, causal {causalLoss:G3}");
        Assert.That(bothLoss, Is.LessThan(causalLoss / 3), $"bidirectional {bothLoss:G3}, causal {causalLoss:G3}");
    }

    [TestCase("cell")]
    [TestCase("feedforward")]
    [TestCase("feedforward-mean")]
    public void SaveAndLoad_GiveTheSamePredictions(string kind)
    {
        using var dir = new TempDirectory();
        using var pair = kind == "feedforward-mean"
            ? new LmuModel(Host, 2, returnSequences: false, seed: 3).AddBidirectional(ForwardFeedforward, merge: BidirectionalMerge.Average).AddDense(2)
            : Pair(Host, kind, returnSequences: false).AddDense(2);
        pair.SetParameters(pair.ParametersWithNoise(seed: 10, width: 0.6));
        string path = dir.File("pair.lmuw");
        pair.Save(path);
        using var loaded = LmuModel.Load(Host, path);
        float[] x = Noise(2 * Steps * 2, 6);
        Assert.That(loaded.Predict(x, 2, Steps), Is.EqualTo(pair.Predict(x, 2, Steps)));
        Assert.That(loaded.Summary(), Is.EqualTo(pair.Summary()));
        Assert.That(pair.Summary(), Does.Contain("Bidirectional"));
    }

    [Test]
    public void Keras_ImportsAndExportsBothLayers()
    {
        using var pair = Pair(Host, "cell", returnSequences: true);
        float[] parameters = pair.ParametersWithNoise(seed: 12, width: 0.6);
        pair.SetParameters(parameters);
        var (forward, backward) = pair.ExportKerasBidirectional(0);
        using var forwardOnly = Half(Host, "cell", backward: false, returnSequences: true, parameters);
        using var backwardOnly = Half(Host, "cell", backward: true, returnSequences: true, parameters);
        Assert.That(forward.Kernel, Is.EqualTo(forwardOnly.ExportKerasLmu(0).Kernel));
        Assert.That(backward.HiddenKernel, Is.EqualTo(backwardOnly.ExportKerasLmu(0).HiddenKernel));

        using var imported = Pair(Host, "cell", returnSequences: true);
        imported.ImportKeras(0, forward, backward);
        float[] x = Noise(2 * Steps * 2, 13);
        Assert.That(imported.Predict(x, 2, Steps), Is.EqualTo(pair.Predict(x, 2, Steps)).Within(1e-6));
        Assert.That(imported.ExportKerasBidirectional(0).Backward.RecurrentKernel, Is.EqualTo(backward.RecurrentKernel));
        Assert.That(() => imported.ImportKeras(0, forward), Throws.ArgumentException.With.Message.Contains("bidirectional"));
        Assert.That(() => imported.ExportKerasLmu(0), Throws.ArgumentException.With.Message.Contains("ExportKerasBidirectional"));
        using var single = Half(Host, "cell", backward: false, returnSequences: true, parameters);
        Assert.That(() => single.ImportKeras(0, forward, backward), Throws.ArgumentException.With.Message.Contains("not bidirectional"));
    }

    [Test]
    public void OpenStream_ThrowsForABidirectionalLayer()
    {
        using var pair = Pair(Host, "feedforward", returnSequences: true);
        Assert.That(() => pair.OpenStream(1), Throws.InvalidOperationException.With.Message.Contains("bidirectional"));
    }

    [Test]
    public void AddBidirectional_ThrowsForWrongInputSizes()
    {
        using var model = new LmuModel(Host, 2);
        Assert.That(() => model.AddBidirectional(ForwardCell with { InputSize = 3 }), Throws.ArgumentException.With.Message.Contains("takes 3 inputs"));
        Assert.That(() => model.AddBidirectional(ForwardCell, BackwardCell with { InputSize = 3 }), Throws.ArgumentException.With.Property("ParamName").EqualTo("backward"));
        Assert.That(() => model.AddBidirectional(ForwardFeedforward, BackwardFeedforward with { InputSize = 1 }), Throws.ArgumentException.With.Property("ParamName").EqualTo("backward"));
        model.AddDense(2);
        Assert.That(() => model.AddBidirectional(ForwardFeedforward), Throws.ArgumentException.With.Message.Contains("before the dense head"));
    }

    [Test]
    public void MoveSteps_MatchesAPlainLoop([Values(false, true)] bool simulator, [Values(false, true)] bool reverse,
        [Values(false, true)] bool accumulate, [Values(false, true)] bool withLengths)
    {
        using var backend = Backend.For(Device(simulator));
        const int batch = 3, steps = 5, width = 2, sourceWidth = 5, sourceOffset = 1, destinationWidth = 4, destinationOffset = 2;
        int[] lengths = [5, 3, 1];
        float[] src = Noise(batch * steps * sourceWidth, 7);
        float[] dst = Noise(batch * steps * destinationWidth, 8);
        using var source = backend.Upload(src, "source");
        using var destination = backend.Upload(dst, "destination");
        using var lengthTensor = backend.AllocateLabels(batch);
        backend.UploadLabels(lengthTensor, lengths);
        var p = new StepMoveParams(batch, steps, width, sourceWidth, sourceOffset, destinationWidth, destinationOffset, reverse ? 1 : 0, accumulate ? 1 : 0, 0);
        backend.MoveSteps(source.All, destination.All, p, withLengths ? lengthTensor : null);
        float[] actual = backend.Download(destination.All);

        float[] expected = (float[])dst.Clone();
        for (int b = 0; b < batch; b++)
        {
            int length = withLengths ? lengths[b] : steps;
            for (int t = 0; t < steps; t++)
            {
                int s = reverse ? length - 1 - t : t;
                for (int j = 0; j < width; j++)
                {
                    int target = (((b * steps) + t) * destinationWidth) + destinationOffset + j;
                    float value = s >= 0 ? src[(((b * steps) + s) * sourceWidth) + sourceOffset + j] : 0f;
                    expected[target] = accumulate ? dst[target] + value : value;
                }
            }
        }

        Assert.That(actual, Is.EqualTo(expected));
    }
}
