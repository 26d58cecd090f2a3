using Lmu.Gpu.Training;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Training;

/// <summary>
/// Truncated backpropagation through time (<see cref="FitOptions.TruncatedSteps"/>). The new part, a window's
/// gradient from states carried in (held constant), is checked against central finite differences of the
/// double-precision reference model started from the same states (tolerance as in <see cref="GradientCheckTests"/>:
/// |g − g_fd| ≤ 2e-3·|g_fd| + 1e-3·max|g_fd|). Training in windows is checked to be exactly the sequence of those
/// window steps, the states carried by the forward pass of each window, and validation in windows to equal whole-sequence
/// evaluation. Host path and the CPU simulator.
/// </summary>
[TestFixture]
public sealed class TruncatedTrainingTests : SimulatorAndHostFixture
{
    public enum Net
    {
        /// <summary>A cell with every connection and a trainable θ (zero-order hold) + dense.</summary>
        CellAllConnections,

        /// <summary>A feedforward layer (trainable θ, by the scan) into a cell (fixed Euler θ) + dense.</summary>
        FeedforwardIntoCell,

        /// <summary>A cell into a feedforward layer stepped sequentially, dropout between them + dense.</summary>
        CellIntoFeedforward,
    }

    private LmuDevice Device(bool simulator) => simulator ? Simulator : Host;

    private static LmuModel Build(LmuDevice device, Net net) => net switch
    {
        Net.CellAllConnections => new LmuModel(device, 2, returnSequences: true, seed: 3)
            .AddLmu(new LmuCellOptions { InputSize = 2, Units = 4, Order = 3, Theta = 5, MemoryChannels = 2, MemoryBias = true, HiddenBias = true, TrainableTheta = true })
            .AddDense(2),
        Net.FeedforwardIntoCell => new LmuModel(device, 2, returnSequences: true, seed: 4) { SequenceMethod = SequenceMethod.Scan }
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 2, Units = 3, Order = 3, Theta = 6, MemoryBias = true, Activation = Activation.Tanh, TrainableTheta = true })
            .AddLmu(new LmuCellOptions { InputSize = 3, Units = 3, Order = 2, Theta = 7, Discretizer = Discretizer.Euler, HiddenBias = true })
            .AddDense(2),
        _ => new LmuModel(device, 2, returnSequences: true, seed: 5) { SequenceMethod = SequenceMethod.Sequential }
            .AddLmu(new LmuCellOptions { InputSize = 2, Units = 3, Order = 3, Theta = 4 })
            .AddDropout(0.2)
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 3, Units = 4, Order = 2, Theta = 5, Activation = Activation.Tanh })
            .AddDense(2),
    };

    private static SequenceDataset Data(int count, int steps, int seed)
    {
        var rng = new Random(seed);
        float[] x = Enumerable.Range(0, count * steps * 2).Select(_ => (float)((2 * rng.NextDouble()) - 1)).ToArray();
        float[] y = Enumerable.Range(0, count * steps * 2).Select(_ => (float)((2 * rng.NextDouble()) - 1)).ToArray();
        return SequenceDataset.ForRegression(x, y, count, steps, 2, 2, sequenceTargets: true);
    }

    /// <summary>Steps [first, first + steps) of every sequence.</summary>
    private static SequenceDataset Part(SequenceDataset data, int first, int steps)
    {
        int n = data.Count, w = data.InputSize, o = data.TargetSize;
        var x = new float[n * steps * w];
        var y = new float[n * steps * o];
        for (int s = 0; s < n; s++)
        {
            data.Inputs.AsSpan(((s * data.Steps) + first) * w, steps * w).CopyTo(x.AsSpan(s * steps * w));
            data.Targets!.AsSpan(((s * data.Steps) + first) * o, steps * o).CopyTo(y.AsSpan(s * steps * o));
        }

        return SequenceDataset.ForRegression(x, y, n, steps, w, o, sequenceTargets: true);
    }

    /// <summary>The states a stream of the model holds after <paramref name="data"/>'s steps.</summary>
    private static float[] StatesAfter(LmuModel model, SequenceDataset data)
    {
        using var stream = model.OpenStream(data.Count);
        stream.Run(data.Inputs, data.Steps);
        var states = new float[stream.StateLength];
        stream.GetStates(states);
        return states;
    }

    [Test]
    public void WindowGradient_FromCarriedStates_MatchesFiniteDifferences([Values(false, true)] bool simulator, [Values] Net net)
    {
        var device = Device(simulator);
        using var model = Build(device, net);
        var data = Data(count: 2, steps: 14, seed: 8);
        float[] p = model.ParametersWithNoise(seed: 6, width: 0.6);
        model.SetParameters(p);
        var thetas = GradientCheckTests.Thetas(model);
        var frozen = GradientCheckTests.FrozenThetas(model);

        // The second window (steps 6 … 13) from the states after the first (steps 0 … 5).
        float[] states = StatesAfter(model, Part(data, 0, 6));
        Assert.That(states.Max(Math.Abs), Is.GreaterThan(0.05f), "the carried states must matter");
        var window = Part(data, 6, 8);
        int[] indices = [0, 1];
        var grad = new float[p.Length];
        double loss = model.ComputeGradients(window, indices, lossFromStep: 1, grad, states);

        double[] pd = p.Select(v => (double)v).ToArray();
        double[] s0 = states.Select(v => (double)v).ToArray();
        double refLoss = ModelReference.Loss(model, pd, window, indices, 1, s0);
        Assert.That(loss, Is.EqualTo(refLoss).Within(1e-5 * Math.Max(1, Math.Abs(refLoss))), "loss vs double reference");
        double fromZero = ModelReference.Loss(model, pd, window, indices, 1);
        Assert.That(Math.Abs(fromZero - refLoss), Is.GreaterThan(1e-4 * Math.Abs(refLoss)), "the window's loss must depend on the carried states");

        GradientCheckTests.AssertMatchesFiniteDifferences(grad, pd, thetas, frozen, q => ModelReference.Loss(model, q, window, indices, 1, s0));
    }

    [Test]
    public void Fit_InWindows_IsOneSgdStepPerWindowFromTheCarriedStates([Values(false, true)] bool simulator)
    {
        // Windows of 5 over 12 steps: 5 + 5 + 2, loss from step 3. Each window's step: its gradient at the weights of the
        // moment, from the states the previous window's forward pass left (computed with that window's weights).
        var device = Device(simulator);
        var data = Data(count: 3, steps: 12, seed: 9);
        const float rate = 0.05f;
        var options = new FitOptions { Epochs = 1, BatchSize = 3, Shuffle = false, Optimizer = OptimizerKind.Sgd, LearningRate = rate, LossFromStep = 3, TruncatedSteps = 5 };
        using var model = Build(device, Net.CellAllConnections);
        float[] start = model.ParametersWithNoise(seed: 10, width: 0.6);
        model.SetParameters(start);
        var history = model.Fit(data, options);

        using var manual = Build(device, Net.CellAllConnections);
        float[] w = (float[])start.Clone();
        float[] states;
        using (var zero = manual.OpenStream(3))
        {
            states = new float[zero.StateLength];
        }

        double lossSum = 0;
        long counted = 0;
        int[] indices = [0, 1, 2];
        foreach (var (first, steps) in new[] { (0, 5), (5, 5), (10, 2) })
        {
            manual.SetParameters(w);
            var window = Part(data, first, steps);
            int from = Math.Max(0, 3 - first);
            var grad = new float[w.Length];
            double loss = manual.ComputeGradients(window, indices, from, grad, states);

            // The next window starts from the states this one's forward pass reached, at these weights.
            using (var stream = manual.OpenStream(3))
            {
                stream.SetStates(states);
                stream.Run(window.Inputs, steps);
                states = new float[stream.StateLength];
                stream.GetStates(states);
            }

            for (int i = 0; i < w.Length; i++)
            {
                w[i] -= rate * grad[i];
            }

            lossSum += loss * (steps - from);
            counted += steps - from;
        }

        // θ is clamped after every step; it stays far inside its range here.
        float[] actual = model.GetParameters();
        double scale = w.Zip(start, (a, b) => Math.Abs(a - b)).Max();
        double error = actual.Zip(w, (a, b) => Math.Abs(a - b)).Max();
        Assert.That(scale, Is.GreaterThan(1e-4));
        Assert.That(error, Is.LessThanOrEqualTo(1e-5 * Math.Max(1, scale)), $"largest weight difference {error:G3} (steps moved them by up to {scale:G3})");
        Assert.That(history[0].TrainLoss, Is.EqualTo(lossSum / counted).Within(1e-5 * lossSum / counted));
    }

    [Test]
    public void Fit_WindowsAtLeastTheSequence_IsOrdinaryTraining()
    {
        var data = Data(count: 4, steps: 10, seed: 11);
        var options = new FitOptions { Epochs = 2, BatchSize = 2, Shuffle = false, LearningRate = 0.01 };
        using var whole = Build(Host, Net.FeedforwardIntoCell);
        using var windowed = Build(Host, Net.FeedforwardIntoCell);
        whole.Fit(data, options);
        windowed.Fit(data, options with { TruncatedSteps = 10 });
        Assert.That(windowed.GetParameters(), Is.EqualTo(whole.GetParameters()));
    }

    [Test]
    public void Validation_InWindows_EqualsWholeSequenceEvaluation()
    {
        var train = Data(count: 4, steps: 12, seed: 12);
        var validation = Data(count: 3, steps: 17, seed: 13);
        using var model = Build(Host, Net.CellIntoFeedforward);
        var history = model.Fit(train, new FitOptions { Epochs = 1, BatchSize = 2, TruncatedSteps = 4, LossFromStep = 2 }, validation);
        double whole = model.Evaluate(validation, batchSize: 2, lossFromStep: 2).Loss;
        Assert.That(history[0].ValidationLoss, Is.EqualTo(whole).Within(1e-5 * whole));
    }

    [Test]
    public void PredictAndEvaluate_InWindows_EqualTheWholeSequence([Values(false, true)] bool simulator, [Values] Net net)
    {
        var data = Data(count: 3, steps: 20, seed: 17);
        using var model = Build(Device(simulator), net);
        model.SetParameters(model.ParametersWithNoise(seed: 18, width: 0.6));
        float[] whole = model.Predict(data.Inputs, 3, 20, batchSize: 2);
        model.LongSequenceWindow = 7;
        float[] windows = model.Predict(data.Inputs, 3, 20, batchSize: 2);
        Assert.That(windows, Is.EqualTo(whole).Within(2e-5));
        double loss = model.Evaluate(data, batchSize: 2, lossFromStep: 3).Loss;
        model.LongSequenceWindow = 20;
        Assert.That(model.Predict(data.Inputs, 3, 20, batchSize: 2), Is.EqualTo(whole), "no windows at the sequence's length");
        Assert.That(loss, Is.EqualTo(model.Evaluate(data, batchSize: 2, lossFromStep: 3).Loss).Within(1e-5 * loss), "Evaluate in windows of 7");
    }

    [Test]
    public void Fit_InWindows_WithLengths_NeverReadsThePadding([Values(false, true)] bool simulator)
    {
        // Lengths 12, 7, 3 of 12 in windows of 5: the third sequence ends in the first window, the second in the second.
        // Two different paddings give the same weights; without lengths the padding counts.
        var device = Device(simulator);
        int[] lengths = [12, 7, 3];
        float[] Padded(SequenceDataset data, float[] values, int seed)
        {
            var rng = new Random(seed);
            var result = (float[])values.Clone();
            for (int s = 0; s < 3; s++)
            {
                for (int i = lengths[s] * 2; i < 12 * 2; i++)
                {
                    result[(s * 12 * 2) + i] = (float)(50 * ((2 * rng.NextDouble()) - 1));
                }
            }

            return result;
        }

        var data = Data(count: 3, steps: 12, seed: 19);
        var options = new FitOptions { Epochs = 2, BatchSize = 3, Shuffle = false, LearningRate = 0.01, LossFromStep = 1, TruncatedSteps = 5 };
        float[] Train(float[] x, float[] y, bool withLengths)
        {
            using var model = Build(device, Net.FeedforwardIntoCell);
            model.SetParameters(model.ParametersWithNoise(seed: 20, width: 0.6));
            var set = SequenceDataset.ForRegression(x, y, 3, 12, 2, 2, sequenceTargets: true);
            model.Fit(withLengths ? set.WithLengths(lengths) : set, options);
            return model.GetParameters();
        }

        float[] first = Train(Padded(data, data.Inputs, 21), Padded(data, data.Targets!, 22), withLengths: true);
        float[] second = Train(Padded(data, data.Inputs, 23), Padded(data, data.Targets!, 24), withLengths: true);
        Assert.That(second, Is.EqualTo(first).Within(1e-6));
        float[] unmarked = Train(Padded(data, data.Inputs, 21), Padded(data, data.Targets!, 22), withLengths: false);
        Assert.That(unmarked, Is.Not.EqualTo(first).Within(1e-3), "without lengths the padding counts");
    }

    [Test]
    public void Evaluate_InWindows_WithLengths_EqualsWholeSequences([Values(false, true)] bool simulator)
    {
        var data = Data(count: 3, steps: 20, seed: 25).WithLengths([20, 9, 4]);
        using var model = Build(Device(simulator), Net.CellIntoFeedforward);
        model.SetParameters(model.ParametersWithNoise(seed: 26, width: 0.6));
        double whole = model.Evaluate(data, batchSize: 3, lossFromStep: 2).Loss;
        model.LongSequenceWindow = 6;
        Assert.That(model.Evaluate(data, batchSize: 3, lossFromStep: 2).Loss, Is.EqualTo(whole).Within(1e-5 * whole));
    }

    [Test]
    public void Fit_LearnsALongDelayInShortWindows()
    {
        // The delay task with θ = 40: recall u(t − 40) in windows of 10 steps. The memory carries the input across
        // windows; only the gradient stops at their starts.
        const int steps = 200, delay = 40, count = 24;
        var rng = new Random(14);
        var x = new float[count * steps];
        var y = new float[count * steps];
        for (int s = 0; s < count; s++)
        {
            float[] signal = WhiteNoise.BandLimited(steps, cyclesPerWindow: 2, windowSteps: delay, seed: rng.Next());
            signal.CopyTo(x, s * steps);
            for (int t = delay; t < steps; t++)
            {
                y[(s * steps) + t] = signal[t - delay];
            }
        }

        var data = SequenceDataset.ForRegression(x, y, count, steps, 1, 1, sequenceTargets: true);
        using var model = new LmuModel(Host, 1, returnSequences: true, seed: 15)
            .AddLmu(new LmuCellOptions { InputSize = 1, Units = 12, Order = 8, Theta = delay, Activation = Activation.Linear, HiddenToHidden = false, HiddenToMemory = false, MemoryToMemory = false })
            .AddDense(1);
        double before = model.Evaluate(data, lossFromStep: delay).Loss;
        model.Fit(data, new FitOptions { Epochs = 60, BatchSize = 8, LearningRate = 0.01, LossFromStep = delay, TruncatedSteps = 10 });
        double after = model.Evaluate(data, lossFromStep: delay).Loss;
        double power = y.Skip(delay).Select(v => (double)v * v).Average();
        TestContext.Out.WriteLine($"NRMSE {Math.Sqrt(after / power):P1} (before {Math.Sqrt(before / power):P1})");
        Assert.That(Math.Sqrt(after / power), Is.LessThan(0.2), "NRMSE of u(t − 40) learnt in windows of 10 steps");
    }

    [TestCase("sequence", "outputs at every step")]
    [TestCase("bidirectional", "causal layers")]
    [TestCase("euler", "cannot train θ under Euler")]
    public void Fit_ThrowsForWhatTruncationCannotTrain(string what, string message)
    {
        var data = Data(count: 2, steps: 8, seed: 16);
        LmuModel model = what switch
        {
            "sequence" => new LmuModel(Host, 2, returnSequences: false).AddLmu(new LmuCellOptions { InputSize = 2, Units = 3, Order = 2, Theta = 4 }).AddDense(2),
            "bidirectional" => new LmuModel(Host, 2).AddBidirectional(new FeedforwardLmuOptions { InputSize = 2, Units = 2, Order = 2, Theta = 4 }).AddDense(2),
            "euler" => new LmuModel(Host, 2).AddLmu(new LmuCellOptions { InputSize = 2, Units = 3, Order = 2, Theta = 40, Discretizer = Discretizer.Euler, TrainableTheta = true }).AddDense(2),
            _ => Build(Host, Net.CellAllConnections),
        };
        using (model)
        {
            if (what == "sequence")
            {
                data = SequenceDataset.ForRegression(data.Inputs, new float[2 * 2], 2, 8, 2, 2, sequenceTargets: false);
            }

            Assert.That(() => model.Fit(data, new FitOptions { TruncatedSteps = 3 }), Throws.ArgumentException.With.Message.Contains(message));
            Assert.That(() => model.Fit(data, new FitOptions { TruncatedSteps = -1 }), Throws.InstanceOf<ArgumentOutOfRangeException>());
        }
    }
}
