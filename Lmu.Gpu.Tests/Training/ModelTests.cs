using Lmu.Gpu;
using Lmu.Gpu.Training;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Training;

/// <summary>Fit, optimiser, save/load and bad-input behaviour of <see cref="LmuModel"/>.</summary>
[TestFixture]
public sealed class ModelTests : SimulatorAndHostFixture
{
    private string _dir = null!;

    [OneTimeSetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "lmu-training-tests-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_dir);
    }

    [OneTimeTearDown]
    public void TearDown()
    {
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Delay task: target y_t = x_{t−delay}; white-noise input.</summary>
    private static SequenceDataset DelayData(int count, int steps, int delay, int seed)
    {
        var rng = new Random(seed);
        var x = new float[count * steps];
        var y = new float[count * steps];
        for (int s = 0; s < count; s++)
        {
            for (int t = 0; t < steps; t++)
            {
                x[(s * steps) + t] = (float)((rng.NextDouble() * 2) - 1);
            }

            for (int t = delay; t < steps; t++)
            {
                y[(s * steps) + t] = x[(s * steps) + t - delay];
            }
        }

        return SequenceDataset.ForRegression(x, y, count, steps, 1, 1, sequenceTargets: true);
    }

    private static LmuModel DelayModel(LmuDevice device, int units = 8, int order = 4) =>
        new LmuModel(device, 1, returnSequences: true, seed: 3)
            .AddLmu(new LmuCellOptions { InputSize = 1, Units = units, Order = order, Theta = 6, HiddenBias = true })
            .AddDense(1);

    [Test]
    public void Fit_LearnsDelayTask_Host()
    {
        using var model = DelayModel(Host, 16, 6);
        var train = DelayData(64, 40, 4, 1);
        var test = DelayData(32, 40, 4, 2);
        double before = model.Evaluate(test, lossFromStep: 8).Loss;
        var history = model.Fit(train, new FitOptions { Epochs = 30, BatchSize = 16, LearningRate = 1e-2, LossFromStep = 8, Seed = 4 });
        double after = model.Evaluate(test, lossFromStep: 8).Loss;

        // Trivial baseline: predicting 0 has MSE = Var(x) = 1/3. Require < 20 % of it.
        Assert.That(history[^1].TrainLoss, Is.LessThan(history[0].TrainLoss));
        Assert.That(after, Is.LessThan(before));
        Assert.That(after, Is.LessThan(0.2 / 3));
    }

    [Test]
    public void Fit_KeepBestValidation_RestoresBestEpoch_Host()
    {
        using var model = DelayModel(Host, 8, 4);
        var train = DelayData(16, 30, 3, 1);
        var validation = DelayData(8, 30, 3, 2);

        // A large learning rate makes the validation loss jump around, so the best epoch is rarely the last.
        var history = model.Fit(train, new FitOptions { Epochs = 12, BatchSize = 4, LearningRate = 0.05, KeepBestValidation = true }, validation);
        double best = history.Min(h => h.ValidationLoss);
        Assert.That(model.Evaluate(validation).Loss, Is.EqualTo(best).Within(1e-6 * Math.Max(1, best)));
    }

    [Test]
    public void Fit_LossFalls_CpuSimulator()
    {
        using var model = DelayModel(Simulator, 4, 3);
        var train = DelayData(8, 12, 2, 1);
        var history = model.Fit(train, new FitOptions { Epochs = 4, BatchSize = 4, LearningRate = 2e-2, LossFromStep = 3 });
        Assert.That(history[^1].TrainLoss, Is.LessThan(history[0].TrainLoss));
    }

    [Test]
    public void Fit_HostAndSimulatorTrainTheSame()
    {
        var train = DelayData(4, 10, 2, 7);
        var options = new FitOptions { Epochs = 2, BatchSize = 2, LearningRate = 1e-2, ClipNorm = 0.5, Seed = 9 };
        using var a = DelayModel(Host, 4, 3);
        using var b = DelayModel(Simulator, 4, 3);
        a.Fit(train, options);
        b.Fit(train, options);
        float[] pa = a.GetParameters();
        float[] pb = b.GetParameters();
        for (int i = 0; i < pa.Length; i++)
        {
            Assert.That(pb[i], Is.EqualTo(pa[i]).Within(1e-4), $"parameter {i}");
        }
    }

    [Test]
    public void CellGradients_HostMatchesSimulator_AtVectorWidths([Values(4, 8)] int lanes)
    {
        // Widths that take the host cell's AVX-512 blocks (n = 40, d = 48: 32-row blocks plus tails) and a partial
        // group of sequences (10 = 4 + 4 + 2 or 8 + 2 lanes in lock step); every connection on, θ trained. The
        // simulator runs the ILGPU kernels.
        var cell = new LmuCellOptions
        {
            InputSize = 3, Units = 40, Order = 48, Theta = 12, MemoryBias = true, HiddenBias = true, TrainableTheta = true,
        };
        const int count = 10;
        const int steps = 20;
        var rng = new Random(3);
        float[] x = Enumerable.Range(0, count * steps * 3).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var data = SequenceDataset.ForClassification(x, [0, 1, 2, 0, 1, 2, 0, 1, 2, 0], count, steps, 3, 3);
        float[] Gradients(LmuDevice device)
        {
            using var model = new LmuModel(device, 3, returnSequences: false, seed: 4).AddLmu(cell).AddDense(3);
            float[] p = model.GetParameters();
            int theta = model.Layers.OfType<LmuMemoryLayer>().Single().ThetaIndex;
            var noise = new Random(8);
            for (int i = 0; i < p.Length; i++)
            {
                p[i] += i == theta ? 0f : (float)((noise.NextDouble() - 0.5) * 0.1);
            }

            model.SetParameters(p);
            var grad = new float[p.Length];
            model.ComputeGradients(data, Enumerable.Range(0, count).ToArray(), 0, grad);
            return grad;
        }

        Gpu.Training.HostCell.LaneWidthOverride = lanes;
        float[] host;
        try
        {
            host = Gradients(Host);
        }
        finally
        {
            Gpu.Training.HostCell.LaneWidthOverride = null;
        }

        float[] sim = Gradients(Simulator);
        double scale = host.Max(Math.Abs);
        Assert.That(scale, Is.GreaterThan(0));
        for (int i = 0; i < host.Length; i++)
        {
            Assert.That(host[i], Is.EqualTo(sim[i]).Within(1e-4 * scale), $"parameter {i}");
        }
    }

    [Test]
    public void Fit_ClassifiesLastStep_FeedforwardLmu_Host()
    {
        // Label = sign of the mean of the first 10 of 20 inputs (needs memory of a window 10–20 steps back). Chance is 50 %.
        var rng = new Random(1);
        int count = 800;
        int steps = 20;
        var x = new float[count * steps];
        var labels = new int[count];
        for (int s = 0; s < count; s++)
        {
            for (int t = 0; t < steps; t++)
            {
                x[(s * steps) + t] = (float)((rng.NextDouble() * 2) - 1);
            }

            labels[s] = x.AsSpan(s * steps, 10).ToArray().Sum() > 0 ? 1 : 0;
        }

        var data = SequenceDataset.ForClassification(x, labels, count, steps, 1, 2);
        using var model = new LmuModel(Host, 1, returnSequences: false)
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 1, Units = 16, Order = 8, Theta = 20 })
            .AddDense(2);
        model.Fit(data.Slice(0, 600), new FitOptions { Epochs = 25, BatchSize = 50, LearningRate = 1e-2 });
        var eval = model.Evaluate(data.Slice(600, 200));

        Assert.That(eval.Accuracy, Is.GreaterThan(0.8));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Adam_MatchesReferenceUpdate(bool simulator)
    {
        using var model = DelayModel(simulator ? Simulator : Host, 3, 2);
        var data = DelayData(2, 6, 1, 3);
        float[] p0 = model.GetParameters();
        var g = new float[p0.Length];
        model.ComputeGradients(data, [0, 1], 0, g);
        double norm = Math.Sqrt(g.Sum(v => (double)v * v));
        double clip = norm / 2;
        model.Fit(data, new FitOptions { Epochs = 1, BatchSize = 2, LearningRate = 0.01, ClipNorm = clip, Shuffle = false });
        float[] p1 = model.GetParameters();
        for (int i = 0; i < p0.Length; i++)
        {
            double gi = g[i] * (clip / norm);
            double m = 0.1 * gi;
            double v = 0.001 * gi * gi;
            double expected = p0[i] - (0.01 * (m / 0.1) / (Math.Sqrt(v / 0.001) + 1e-7));
            Assert.That(p1[i], Is.EqualTo(expected).Within(2e-6), $"parameter {i}");
        }
    }

    [Test]
    public void Sgd_MatchesReferenceUpdate_Host()
    {
        using var model = DelayModel(Host, 3, 2);
        var data = DelayData(2, 6, 1, 3);
        float[] p0 = model.GetParameters();
        var g = new float[p0.Length];
        model.ComputeGradients(data, [0, 1], 0, g);
        model.Fit(data, new FitOptions { Epochs = 1, BatchSize = 2, LearningRate = 0.1, Optimizer = OptimizerKind.Sgd, Shuffle = false });
        float[] p1 = model.GetParameters();
        for (int i = 0; i < p0.Length; i++)
        {
            Assert.That(p1[i], Is.EqualTo(p0[i] - (0.1 * g[i])).Within(1e-6));
        }
    }

    [Test]
    public void TrainableTheta_Moves_Host()
    {
        using var model = new LmuModel(Host, 1).AddLmu(new LmuCellOptions { InputSize = 1, Units = 4, Order = 3, Theta = 3, TrainableTheta = true }).AddDense(1);
        var data = DelayData(8, 20, 6, 1);
        float before = model.GetParameters()[((CellModelLayer)model.Layers[0]).ThetaIndex];
        model.Fit(data, new FitOptions { Epochs = 5, BatchSize = 8, LearningRate = 0.05 });
        float after = model.GetParameters()[((CellModelLayer)model.Layers[0]).ThetaIndex];
        Assert.That(after, Is.Not.EqualTo(before));
    }

    [Test]
    public void SaveLoad_RoundTripsPredictions()
    {
        string path = Path.Combine(_dir, "roundtrip.lmuw");
        using var model = new LmuModel(Host, 2, returnSequences: false, seed: 4)
            .AddLmu(new LmuCellOptions { InputSize = 2, Units = 5, Order = 3, Theta = 7, MemoryChannels = 2, Discretizer = Discretizer.Euler, MemoryBias = true })
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 5, Units = 4, Order = 2, Theta = 3, TrainableTheta = true })
            .AddDense(3, Activation.Sigmoid);
        var x = Enumerable.Range(0, 3 * 9 * 2).Select(i => MathF.Sin(i)).ToArray();
        float[] expected = model.Predict(x, 3, 9);
        model.Save(path);
        using var loaded = LmuModel.Load(Host, path);
        Assert.That(loaded.Predict(x, 3, 9), Is.EqualTo(expected));
        Assert.That(loaded.ParameterCount, Is.EqualTo(model.ParameterCount));
        Assert.That(loaded.Summary(), Is.EqualTo(model.Summary()));
    }

    [Test]
    public void Load_ThrowsNamingMissingFile()
    {
        string path = Path.Combine(_dir, "missing.lmuw");
        var e = Assert.Throws<FileNotFoundException>(() => LmuModel.Load(Host, path));
        Assert.That(e!.Message, Does.Contain(path));
    }

    [Test]
    public void Load_ThrowsNamingCorruptFile()
    {
        string path = Path.Combine(_dir, "corrupt.lmuw");
        using (var model = DelayModel(Host, 3, 2))
        {
            model.Save(path);
        }

        byte[] bytes = File.ReadAllBytes(path);
        bytes[^3] ^= 0x55;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => LmuModel.Load(Host, path));
        Assert.That(e!.Message, Does.Contain(path).And.Contain("checksum"));

        File.WriteAllBytes(path, bytes[..^7]);
        e = Assert.Throws<InvalidDataException>(() => LmuModel.Load(Host, path));
        Assert.That(e!.Message, Does.Contain("truncated"));

        File.WriteAllText(path, "hello");
        e = Assert.Throws<InvalidDataException>(() => LmuModel.Load(Host, path));
        Assert.That(e!.Message, Does.Contain("not an Lmu.Gpu weights file"));
    }

    [Test]
    public void Dataset_ThrowsForLabelOutOfRange()
    {
        var e = Assert.Throws<ArgumentException>(() => SequenceDataset.ForClassification(new float[6], [0, 5, 1], 3, 2, 1, 3));
        Assert.That(e!.Message, Does.Contain("labels[1] = 5"));
    }

    [Test]
    public void Model_RunsSequencesOfAnotherLength_AsPrefixesOfOneAnother()
    {
        // Causal: trained on 10 steps, it evaluates 12, and the first 6 outputs of 12 steps are those of 6 steps.
        using var model = DelayModel(Host, 3, 2);
        model.Fit(DelayData(4, 10, 1, 1), new FitOptions { Epochs = 1, BatchSize = 4 });
        Assert.That(model.SequenceLength, Is.EqualTo(10));
        Assert.That(double.IsFinite(model.Evaluate(DelayData(4, 12, 1, 1)).Loss), Is.True);
        float[] x = DelayData(2, 12, 1, 3).Inputs;
        float[] longer = model.Predict(x, 2, 12);
        float[] shorter = model.Predict([.. x.AsSpan(0, 6), .. x.AsSpan(12, 6)], 2, 6);
        Assert.That(shorter, Is.EqualTo(longer.AsSpan(0, 6).ToArray().Concat(longer.AsSpan(12, 6).ToArray())).Within(1e-6));
        model.Fit(DelayData(4, 7, 1, 4), new FitOptions { Epochs = 1, BatchSize = 4 });
        Assert.That(model.SequenceLength, Is.EqualTo(10), "the first training length");
    }

    [Test]
    public void Fit_WithValidationOfAnotherLength_TrainsEveryEpoch()
    {
        // The validation run between epochs must not leave a workspace too small for the training batches.
        using var model = DelayModel(Host, 3, 2);
        var history = model.Fit(DelayData(8, 10, 1, 1), new FitOptions { Epochs = 3, BatchSize = 4 }, DelayData(4, 6, 1, 2));
        Assert.That(history, Has.Count.EqualTo(3));
        Assert.That(history.Select(h => h.ValidationLoss), Has.All.Matches<double>(double.IsFinite));
        using var longer = DelayModel(Host, 3, 2);
        history = longer.Fit(DelayData(8, 6, 1, 1), new FitOptions { Epochs = 3, BatchSize = 4 }, DelayData(4, 11, 1, 2));
        Assert.That(history.Select(h => h.TrainLoss), Has.All.Matches<double>(double.IsFinite));
        float[] x = DelayData(2, 9, 1, 3).Inputs;
        Assert.That(longer.Predict(x, 2, 9), Is.EqualTo(model.Predict(x, 2, 9)).Within(10.0), "runs after both");
    }

    [Test]
    public void Fit_ThrowsForInputSizeMismatch()
    {
        using var model = DelayModel(Host, 3, 2);
        var data = SequenceDataset.ForRegression(new float[4 * 5 * 2], new float[4 * 5], 4, 5, 2, 1, true);
        var e = Assert.Throws<ArgumentException>(() => model.Fit(data, new FitOptions()));
        Assert.That(e!.Message, Does.Contain("2 input features"));
    }

    [Test]
    public void Fit_StopsOnNaNLoss_RestoresLastGoodWeights()
    {
        string path = Path.Combine(_dir, "diverge.lmuw");
        using var model = new LmuModel(Host, 1, seed: 2)
            .AddLmu(new LmuCellOptions { InputSize = 1, Units = 4, Order = 3, Theta = 4, Activation = Activation.Linear })
            .AddDense(1);
        var data = DelayData(8, 30, 2, 1);
        model.Fit(data, new FitOptions { Epochs = 1, BatchSize = 4, LearningRate = 1e-3, CheckpointPath = path });
        float[] good = model.GetParameters();
        var e = Assert.Throws<TrainingDivergedException>(() =>
            model.Fit(data, new FitOptions { Epochs = 5, BatchSize = 4, LearningRate = 1e8, Optimizer = OptimizerKind.Sgd, CheckpointPath = path }));
        Assert.That(e!.Message, Does.Contain("diverged").And.Contain("restored"));
        Assert.That(model.GetParameters(), Is.EqualTo(good));
        using var fromDisk = LmuModel.Load(Host, path);
        Assert.That(fromDisk.GetParameters(), Is.EqualTo(good));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Fit_StopsBetweenMiniBatches_WhenCancelled(bool simulator)
    {
        var device = simulator ? Simulator : Host;
        var train = DelayData(16, 10, 2, 5);
        var options = new FitOptions { Epochs = 3, BatchSize = 4, LearningRate = 1e-2, Seed = 6 };
        using var stopped = DelayModel(device, 4, 3);
        using var source = new CancellationTokenSource();
        int reports = 0;
        Assert.Throws<OperationCanceledException>(() => stopped.Fit(train, options with
        {
            Progress = p =>
            {
                reports++;
                if (p.Batch == 3)
                {
                    source.Cancel();
                }
            },
        }, cancellationToken: source.Token));

        // The third mini-batch finished, the fourth never started: the weights are those of a run of three batches.
        using var reference = DelayModel(device, 4, 3);
        reference.Fit(train, options with { Epochs = 1, MaxBatchesPerEpoch = 3 });
        Assert.Multiple(() =>
        {
            Assert.That(reports, Is.EqualTo(3));
            Assert.That(stopped.GetParameters(), Is.EqualTo(reference.GetParameters()));
        });
    }

    [Test]
    public void Fit_ThrowsForACancelledToken_BeforeAnyStep()
    {
        using var model = DelayModel(Host, 4, 3);
        float[] before = model.GetParameters();
        var data = DelayData(8, 10, 2, 1);
        var cancelled = new CancellationToken(canceled: true);
        Assert.Multiple(() =>
        {
            Assert.That(() => model.Fit(data, new FitOptions { Epochs = 2, BatchSize = 4 }, cancellationToken: cancelled), Throws.InstanceOf<OperationCanceledException>());
            Assert.That(model.GetParameters(), Is.EqualTo(before));
            Assert.That(() => model.Evaluate(data, cancellationToken: cancelled), Throws.InstanceOf<OperationCanceledException>());
            Assert.That(() => model.Predict(data.Inputs, data.Count, data.Steps, cancellationToken: cancelled), Throws.InstanceOf<OperationCanceledException>());

            // Bad options are reported before the token is looked at.
            Assert.That(() => model.Fit(data, new FitOptions { Epochs = 0 }, cancellationToken: cancelled), Throws.InstanceOf<ArgumentOutOfRangeException>());
        });
    }

    [Test]
    public void Fit_CancelledDuringValidation_KeepsTheEpochsWeights()
    {
        using var model = DelayModel(Host, 4, 3);
        var train = DelayData(8, 10, 2, 1);
        var validation = DelayData(4, 10, 2, 2);
        using var source = new CancellationTokenSource();
        var options = new FitOptions { Epochs = 2, BatchSize = 4, LearningRate = 1e-2, Progress = p => { if (p.Batch == p.Batches) { source.Cancel(); } } };
        Assert.Throws<OperationCanceledException>(() => model.Fit(train, options, validation, source.Token));
        using var reference = DelayModel(Host, 4, 3);
        reference.Fit(train, options with { Epochs = 1, Progress = null });
        Assert.That(model.GetParameters(), Is.EqualTo(reference.GetParameters()));
    }

    [Test]
    public void Fit_EarlyStopping_StopsAfterPatienceEpochsWithoutImprovement()
    {
        using var model = DelayModel(Host, 8, 4);
        var train = DelayData(16, 30, 3, 1);
        var validation = DelayData(8, 30, 3, 2);

        // Too large a learning rate: the validation loss stalls near 0.3 after a few epochs (measured: it never
        // improves after epoch 3 of 40), where a rate of 0.05 keeps improving.
        const int patience = 3;
        var history = model.Fit(train, new FitOptions { Epochs = 40, BatchSize = 4, LearningRate = 0.2, EarlyStoppingPatience = patience, KeepBestValidation = true }, validation);

        // Replay the rule on the recorded losses: it must stop exactly where the streak first reaches the patience.
        double best = double.PositiveInfinity;
        int streak = 0, stop = -1;
        for (int e = 0; e < history.Count && stop < 0; e++)
        {
            (best, streak) = history[e].ValidationLoss < best ? (history[e].ValidationLoss, 0) : (best, streak + 1);
            if (streak >= patience)
            {
                stop = e;
            }
        }

        Assert.Multiple(() =>
        {
            Assert.That(history, Has.Count.LessThan(40), "it stopped early");
            Assert.That(stop, Is.EqualTo(history.Count - 1), "at the first epoch whose streak reached the patience");
            Assert.That(model.Evaluate(validation).Loss, Is.EqualTo(best).Within(1e-6 * Math.Max(1, best)), "the best epoch's weights");
        });
    }

    [Test]
    public void Fit_ThrowsForEarlyStoppingWithoutValidation()
    {
        using var model = DelayModel(Host, 4, 3);
        var data = DelayData(8, 10, 2, 1);
        Assert.Multiple(() =>
        {
            Assert.That(() => model.Fit(data, new FitOptions { EarlyStoppingPatience = 2 }), Throws.ArgumentException.With.Property("ParamName").EqualTo("validation"));
            Assert.That(() => model.Fit(data, new FitOptions { EarlyStoppingPatience = -1 }, data), Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("EarlyStoppingPatience"));
        });
    }

    [Test]
    public void Fit_LearningRateSchedule_SetsEachEpochsRate()
    {
        var data = DelayData(8, 12, 2, 3);
        var options = new FitOptions { Epochs = 2, BatchSize = 4, Optimizer = OptimizerKind.Sgd, Shuffle = false, LearningRate = 1 };
        using var scheduled = DelayModel(Host, 4, 3);
        var history = scheduled.Fit(data, options with { LearningRateSchedule = e => e == 1 ? 0.05 : 0.01 });

        // The same as one epoch at each rate in turn (SGD keeps no state between the two calls).
        using var stepwise = DelayModel(Host, 4, 3);
        stepwise.Fit(data, options with { Epochs = 1, LearningRate = 0.05 });
        stepwise.Fit(data, options with { Epochs = 1, LearningRate = 0.01 });
        Assert.Multiple(() =>
        {
            Assert.That(scheduled.GetParameters(), Is.EqualTo(stepwise.GetParameters()));
            Assert.That(history.Select(h => h.LearningRate), Is.EqualTo(new[] { 0.05, 0.01 }));
        });
    }

    [Test]
    public void Fit_ThrowsForABadScheduledRate_KeepingTheEpochsBefore()
    {
        var data = DelayData(8, 12, 2, 3);
        var options = new FitOptions { Epochs = 3, BatchSize = 4, Optimizer = OptimizerKind.Sgd, Shuffle = false, LearningRate = 0.05 };
        using var model = DelayModel(Host, 4, 3);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => model.Fit(data, options with { LearningRateSchedule = epoch => epoch == 2 ? double.NaN : 0.05 }));
        using var oneEpoch = DelayModel(Host, 4, 3);
        oneEpoch.Fit(data, options with { Epochs = 1 });
        Assert.Multiple(() =>
        {
            Assert.That(e!.ParamName, Is.EqualTo("LearningRateSchedule"));
            Assert.That(e.Message, Does.Contain("epoch 2"));
            Assert.That(model.GetParameters(), Is.EqualTo(oneEpoch.GetParameters()));
        });
    }

    /// <summary>One Adam step with decoupled weight decay: every weight moves by the same Adam step as without decay,
    /// plus −lr·λ·w₀; θ (trainable here, and moving) gets no decay.</summary>
    [TestCase(false)]
    [TestCase(true)]
    public void WeightDecay_ShrinksEveryWeightButTheta(bool simulator)
    {
        var device = simulator ? Simulator : Host;
        static LmuModel Build(LmuDevice device) => new LmuModel(device, 1, returnSequences: true, seed: 3)
            .AddLmu(new LmuCellOptions { InputSize = 1, Units = 3, Order = 2, Theta = 6, HiddenBias = true, TrainableTheta = true })
            .AddDense(1);
        var data = DelayData(2, 6, 1, 3);
        var options = new FitOptions { Epochs = 1, BatchSize = 2, LearningRate = 0.01, Shuffle = false };
        using var plain = Build(device);
        using var decayed = Build(device);
        float[] p0 = plain.ParametersWithNoise(seed: 5, width: 0.4);
        plain.SetParameters(p0);
        decayed.SetParameters(p0);
        plain.Fit(data, options);
        decayed.Fit(data, options with { WeightDecay = 0.5 });
        float[] a = plain.GetParameters();
        float[] b = decayed.GetParameters();
        int theta = decayed.Layers.OfType<LmuMemoryLayer>().Single().ThetaIndex;
        Assert.Multiple(() =>
        {
            for (int i = 0; i < p0.Length; i++)
            {
                double expected = i == theta ? a[i] : a[i] - (0.01 * 0.5 * p0[i]);
                Assert.That(b[i], Is.EqualTo(expected).Within(1e-6), i == theta ? "θ" : $"parameter {i}");
            }

            Assert.That(b[theta], Is.Not.EqualTo(p0[theta]), "θ is trained");
            Assert.That(() => decayed.Fit(data, options with { WeightDecay = -1 }), Throws.TypeOf<ArgumentOutOfRangeException>());
        });
    }
}
