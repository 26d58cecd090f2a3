using Lmu.Gpu.Training;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Training;

/// <summary>
/// <see cref="LmuModelStream"/>: a sequence fed in pieces (or one step at a time) gives the outputs of
/// <see cref="LmuModel.Predict(float[], int, int, int, System.Threading.CancellationToken)"/> on the whole of it, on the host path and the CPU simulator, for cells, feedforward
/// layers (sequential and scan, from a carried state) and last-step models. Tolerance: 2·10⁻⁵ of the largest output
/// (float32 sums in another order: the scan against the sequential run, pieces against one run).
/// </summary>
[TestFixture]
public sealed class StreamTests : SimulatorAndHostFixture
{
    private const double Tolerance = 2e-5;

    private LmuDevice Device(bool simulator) => simulator ? Simulator : Host;

    /// <summary>Cell (n_x = 2) → feedforward LMU → Dense(2), outputs at every step.</summary>
    private static LmuModel SequenceModel(LmuDevice device) =>
        Randomised(new LmuModel(device, 2, returnSequences: true, seed: 4)
            .AddLmu(new LmuCellOptions { InputSize = 2, Units = 5, Order = 4, Theta = 6, HiddenBias = true, MemoryBias = true })
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 5, Units = 6, Order = 5, Theta = 9, MemoryChannels = 2 })
            .AddDense(2));

    /// <summary>Feedforward LMU → cell → feedforward LMU (the model's last-step layer) → Dense(3), last step only. With a
    /// trainable θ the last layer has no impulse product and runs its memory to the final state by the engine.</summary>
    private static LmuModel LastStepModel(LmuDevice device, bool trainableTheta = false) =>
        Randomised(new LmuModel(device, 2, returnSequences: false, seed: 5)
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 2, Units = 4, Order = 3, Theta = 5 })
            .AddLmu(new LmuCellOptions { InputSize = 4, Units = 4, Order = 3, Theta = 7 })
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 4, Units = 5, Order = 4, Theta = 8, Activation = Activation.Tanh, TrainableTheta = trainableTheta })
            .AddDense(3));

    /// <summary>Noise on every weight (the initialisers leave biases and some encoders at zero).</summary>
    private static LmuModel Randomised(LmuModel model)
    {
        model.SetParameters(model.ParametersWithNoise(seed: 11, width: 0.6));
        return model;
    }

    private static float[] Inputs(int count, int steps, int features, int seed)
    {
        var rng = new Random(seed);
        var x = new float[count * steps * features];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)((rng.NextDouble() * 2) - 1);
        }

        return x;
    }

    /// <summary>Steps [from, from + length) of [B, T, w] as [B, length, w].</summary>
    private static float[] Piece(float[] values, int batch, int steps, int width, int from, int length)
    {
        var piece = new float[batch * length * width];
        for (int b = 0; b < batch; b++)
        {
            values.AsSpan(((b * steps) + from) * width, length * width).CopyTo(piece.AsSpan(b * length * width));
        }

        return piece;
    }

    /// <summary>Runs the pieces and puts their outputs [B, length, O] back together as [B, T, O].</summary>
    private static float[] RunInPieces(LmuModelStream stream, float[] inputs, int steps, int features, int outputs, int[] pieces)
    {
        int batch = stream.Batch;
        var all = new float[batch * steps * outputs];
        int from = 0;
        foreach (int length in pieces)
        {
            float[] y = stream.Run(Piece(inputs, batch, steps, features, from, length), length);
            for (int b = 0; b < batch; b++)
            {
                y.AsSpan(b * length * outputs, length * outputs).CopyTo(all.AsSpan(((b * steps) + from) * outputs));
            }

            from += length;
        }

        Assert.That(from, Is.EqualTo(steps), "the pieces cover the sequence");
        return all;
    }

    private static void AssertClose(float[] actual, float[] expected, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        double scale = Math.Max(1e-3, expected.Max(v => Math.Abs((double)v)));
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs((double)actual[i] - expected[i]));
        }

        Assert.That(worst, Is.LessThanOrEqualTo(Tolerance * scale), $"{what}: max |Δ| {worst:G3} against max |y| {scale:G3}");
    }

    [TestCase(false, SequenceMethod.Auto)]
    [TestCase(true, SequenceMethod.Auto)]
    [TestCase(false, SequenceMethod.Scan)]
    [TestCase(true, SequenceMethod.Scan)]
    public void Pieces_EqualPredictOnTheWholeSequence(bool simulator, SequenceMethod method)
    {
        const int count = 3, steps = 23;
        using var model = SequenceModel(Device(simulator));
        float[] x = Inputs(count, steps, 2, 1);
        model.SequenceMethod = SequenceMethod.Sequential;
        float[] expected = model.Predict(x, count, steps);

        // Under Scan the feedforward memory runs chunks of 4 from the state the last piece left.
        model.SequenceMethod = method;
        ((FeedforwardModelLayer)model.Layers[1]).ScanChunkLength = 4;
        using var stream = model.OpenStream(count);
        float[] actual = RunInPieces(stream, x, steps, 2, 2, [5, 1, 7, 10]);
        AssertClose(actual, expected, $"pieces 5, 1, 7, 10 ({method})");
        Assert.That(stream.StepsRun, Is.EqualTo(steps));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Steps_EqualPredict(bool simulator)
    {
        const int count = 2, steps = 9;
        using var model = SequenceModel(Device(simulator));
        float[] x = Inputs(count, steps, 2, 2);
        float[] expected = model.Predict(x, count, steps);
        using var stream = model.OpenStream(count);
        float[] actual = RunInPieces(stream, x, steps, 2, 2, Enumerable.Repeat(1, steps).ToArray());
        AssertClose(actual, expected, "one step at a time");

        // Step is Run of one step.
        stream.Reset();
        float[] first = stream.Step(Piece(x, count, steps, 2, 0, 1));
        AssertClose(first, Piece(expected, count, steps, 2, 0, 1), "Step after Reset");
    }

    [TestCase(false, false)]
    [TestCase(true, false)]
    [TestCase(false, true)]
    [TestCase(true, true)]
    public void LastStepModel_PieceOutputs_EqualPredictOfThePrefix(bool simulator, bool trainableTheta)
    {
        const int count = 2, steps = 14;
        using var model = LastStepModel(Device(simulator), trainableTheta);
        float[] x = Inputs(count, steps, 2, 3);
        using var stream = model.OpenStream(count);
        int from = 0;
        foreach (int length in new[] { 6, 3, 1, 4 })
        {
            float[] y = stream.Run(Piece(x, count, steps, 2, from, length), length);
            from += length;

            // The output after a piece is what the model gives for the sequence so far (its own impulse-response path
            // for the last feedforward layer, from zero).
            float[] expected = model.Predict(Piece(x, count, steps, 2, 0, from), count, from);
            AssertClose(y, expected, $"after {from} steps");
        }
    }

    /// <summary>A cell as the last layer of a last-step model: the stream selects each piece's last step for the
    /// head.</summary>
    [TestCase(false)]
    [TestCase(true)]
    public void LastStepCellModel_PieceOutputs_EqualPredictOfThePrefix(bool simulator)
    {
        const int count = 2, steps = 11;
        using var model = Randomised(new LmuModel(Device(simulator), 2, returnSequences: false, seed: 8)
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 2, Units = 4, Order = 3, Theta = 5 })
            .AddLmu(new LmuCellOptions { InputSize = 4, Units = 5, Order = 3, Theta = 6 })
            .AddDense(3));
        float[] x = Inputs(count, steps, 2, 10);
        using var stream = model.OpenStream(count);
        int from = 0;
        foreach (int length in new[] { 4, 1, 6 })
        {
            float[] y = stream.Run(Piece(x, count, steps, 2, from, length), length);
            from += length;
            AssertClose(y, model.Predict(Piece(x, count, steps, 2, 0, from), count, from), $"after {from} steps");
        }
    }

    /// <summary>A longer memory (d = 16, θ = 30) through the final-state shortcut from a carried state
    /// (m_T = Āᵀ·m₀ + Σ H·u, Āᵀ built in double) over pieces up to 70 steps, and one single step.</summary>
    [Test]
    public void LastStepFeedforward_Shortcut_EqualsPredictOfThePrefix_Host()
    {
        const int count = 3, steps = 150;
        using var model = Randomised(new LmuModel(Host, 1, returnSequences: false, seed: 6)
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 1, Units = 20, Order = 16, Theta = 30, MemoryChannels = 2 })
            .AddDense(4));
        float[] x = Inputs(count, steps, 1, 7);
        using var stream = model.OpenStream(count);
        int from = 0;
        foreach (int length in new[] { 50, 70, 1, 29 })
        {
            float[] y = stream.Run(Piece(x, count, steps, 1, from, length), length);
            from += length;
            AssertClose(y, model.Predict(Piece(x, count, steps, 1, 0, from), count, from), $"after {from} steps");
        }
    }

    [Test]
    public void Reset_StartsNewSequences_AndStreamsAreIndependent()
    {
        const int count = 2, steps = 8;
        using var model = SequenceModel(Host);
        float[] a = Inputs(count, steps, 2, 4);
        float[] b = Inputs(count, steps, 2, 5);
        using var first = model.OpenStream(count);
        using var second = model.OpenStream(count);
        first.Run(a, steps);
        float[] fromSecond = second.Run(b, steps);
        first.Reset();
        Assert.That(first.StepsRun, Is.Zero);
        float[] afterReset = first.Run(b, steps);
        float[] expected = model.Predict(b, count, steps);
        AssertClose(afterReset, expected, "after Reset");
        AssertClose(fromSecond, expected, "a second stream, run between the first one's pieces");
    }

    [TestCase(false)]
    [TestCase(true)]
    public void ResetOneSequence_StartsItAfresh_AndTheOthersGoOn(bool simulator)
    {
        const int count = 3, steps = 12;
        using var model = SequenceModel(Device(simulator));
        float[] x = Inputs(count, steps, 2, 8);
        float[] whole = model.Predict(x, count, steps);
        float[] second = Piece(x, count, steps, 2, 5, 7);
        float[] secondAlone = model.Predict(second, count, 7);
        using var stream = model.OpenStream(count);
        stream.Run(Piece(x, count, steps, 2, 0, 5), 5);
        stream.Reset(1);
        float[] y = stream.Run(second, 7);
        const int o = 2 * 7;
        Assert.Multiple(() =>
        {
            AssertClose(y[..o], Piece(whole, count, steps, 2, 5, 7)[..o], "sequence 0 goes on");
            AssertClose(y[o..(2 * o)], secondAlone[o..(2 * o)], "sequence 1 starts from zero");
            AssertClose(y[(2 * o)..], Piece(whole, count, steps, 2, 5, 7)[(2 * o)..], "sequence 2 goes on");
            Assert.That(() => stream.Reset(3), Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("sequence"));
            Assert.That(() => stream.Reset(-1), Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("sequence"));
        });
    }

    /// <summary>B = 3 sequences stepped together, each advancing only at the steps its mask marks, against each fed alone
    /// (B = 1) at just those steps: the held sequences' states do not move, whatever their rows of input hold.</summary>
    [TestCase(false, false)]
    [TestCase(true, false)]
    [TestCase(false, true)]
    [TestCase(true, true)]
    public void Advance_HoldsTheSequencesItLeavesOut(bool simulator, bool lastStep)
    {
        const int count = 3, ticks = 9;
        using var model = lastStep ? LastStepModel(Device(simulator)) : SequenceModel(Device(simulator));
        int outputs = model.OutputSize;
        bool[][] masks = [.. Enumerable.Range(0, ticks).Select(t => new[] { true, t % 2 == 0, t % 3 == 1 })];
        float[] x = Inputs(count, ticks, 2, 21);
        using var together = model.OpenStream(count);
        var alone = Enumerable.Range(0, count).Select(_ => model.OpenStream(1)).ToArray();
        try
        {
            var y = new float[count * outputs];
            for (int t = 0; t < ticks; t++)
            {
                float[] input = [.. Enumerable.Range(0, count).SelectMany(b => x.AsSpan(((b * ticks) + t) * 2, 2).ToArray())];
                together.Run(input, 1, y, masks[t]);
                for (int b = 0; b < count; b++)
                {
                    float[] row = y[(b * outputs)..((b + 1) * outputs)];
                    if (masks[t][b])
                    {
                        AssertClose(row, alone[b].Step(input.AsSpan(b * 2, 2)), $"tick {t}, sequence {b}");
                    }
                    else
                    {
                        Assert.That(row, Has.All.EqualTo(0f), $"tick {t}: a held sequence's outputs are zero");
                    }
                }
            }

            Assert.That(() => together.Run(new float[count * 2], 1, y, [true, false]),
                Throws.ArgumentException.With.Property("ParamName").EqualTo("advance"));
        }
        finally
        {
            foreach (var stream in alone)
            {
                stream.Dispose();
            }
        }
    }

    [TestCase(false)]
    [TestCase(true)]
    public void SetStates_FromASnapshot_ContinuesElsewhere(bool simulator)
    {
        const int count = 2, steps = 10;
        using var model = LastStepModel(Device(simulator));
        float[] x = Inputs(count, steps, 2, 9);
        using var first = model.OpenStream(count);
        first.Run(Piece(x, count, steps, 2, 0, 6), 6);
        var snapshot = new float[first.StateLength];
        first.GetStates(snapshot);
        using var second = model.OpenStream(count);
        second.SetStates(snapshot);
        float[] rest = Piece(x, count, steps, 2, 6, 4);
        Assert.Multiple(() =>
        {
            Assert.That(first.StateLength, Is.EqualTo(count * (3 + (4 + 3) + 4)), "two feedforward memories (d = 3, 4) and a cell (n = 4, d = 3)");
            Assert.That(second.Run(rest, 4), Is.EqualTo(first.Run(rest, 4)));
            Assert.That(() => second.SetStates(snapshot.AsSpan(1)), Throws.ArgumentException.With.Property("ParamName").EqualTo("source"));
            Assert.That(() => second.GetStates(new float[3]), Throws.ArgumentException.With.Property("ParamName").EqualTo("destination"));
        });
        snapshot[0] = float.PositiveInfinity;
        Assert.That(() => second.SetStates(snapshot), Throws.ArgumentException.With.Property("ParamName").EqualTo("source"));
    }

    [Test]
    public void Run_ThrowsForBadInput_AndLeavesTheStatesUnchanged()
    {
        const int count = 2, steps = 6;
        using var model = SequenceModel(Host);
        float[] x = Inputs(count, steps, 2, 6);
        float[] expected = model.Predict(x, count, steps);
        using var stream = model.OpenStream(count);
        stream.Run(Piece(x, count, steps, 2, 0, 3), 3);

        float[] nan = Piece(x, count, steps, 2, 3, 3);
        nan[5] = float.NaN;
        Assert.Multiple(() =>
        {
            Assert.That(() => stream.Run(new float[5], 1), Throws.ArgumentException.With.Property("ParamName").EqualTo("inputs").And.Message.Contains("B·T·n_x"));
            Assert.That(() => stream.Run(nan, 3), Throws.ArgumentException.With.Property("ParamName").EqualTo("inputs").And.Message.Contains("NaN"));
            Assert.That(() => stream.Run(new float[count * 2], 0), Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("steps"));
            Assert.That(() => stream.Run(new float[count * 2], 1, new float[1]), Throws.ArgumentException.With.Property("ParamName").EqualTo("outputs"));
            Assert.That(() => model.OpenStream(0), Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("batch"));
            Assert.That(() => stream.Run(new float[count * 2], int.MaxValue), Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("steps").And.Message.Contains("shorter pieces"));
        });

        // The failed calls changed nothing: the rest of the sequence continues as if they had not happened.
        float[] rest = stream.Run(Piece(x, count, steps, 2, 3, 3), 3);
        AssertClose(rest, Piece(expected, count, steps, 2, 3, 3), "the second half");
        Assert.That(stream.StepsRun, Is.EqualTo(steps));
    }

    /// <summary>A run that fails part-way (the second layer's memory sequence, 2¹¹ steps × 2²⁰ values, cannot be
    /// allocated after the cell before it has run) leaves every state as it was.</summary>
    [Test]
    public void Run_ThatFailsPartWay_LeavesTheStatesAsTheyWere()
    {
        using var model = new LmuModel(Host, 1, returnSequences: true, seed: 7)
            .AddLmu(new LmuCellOptions { InputSize = 1, Units = 2, Order = 2, Theta = 4 })
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 2, Units = 1, Order = 512, Theta = 10, MemoryChannels = 2048 });
        using var stream = model.OpenStream();
        stream.Run([0.5f, -0.25f, 1f], 3);
        var before = new float[stream.StateLength];
        stream.GetStates(before);
        Assert.That(before.Take(4).Any(v => v != 0), "the cell's state has moved");

        Assert.That(() => stream.Run(new float[2048], 2048), Throws.TypeOf<InsufficientMemoryException>());
        var after = new float[stream.StateLength];
        stream.GetStates(after);
        Assert.Multiple(() =>
        {
            Assert.That(after, Is.EqualTo(before));
            Assert.That(stream.StepsRun, Is.EqualTo(3));
        });
    }

    [Test]
    public void Stream_ThrowsAfterDispose_OfItselfOrItsModel()
    {
        var model = SequenceModel(Host);
        var kept = model.OpenStream();
        var closed = model.OpenStream();
        closed.Dispose();
        Assert.That(() => closed.Step(new float[2]), Throws.TypeOf<ObjectDisposedException>());
        kept.Step(new float[2]);
        model.Dispose();
        Assert.Multiple(() =>
        {
            Assert.That(() => kept.Step(new float[2]), Throws.TypeOf<ObjectDisposedException>());
            Assert.That(() => kept.Reset(), Throws.TypeOf<ObjectDisposedException>());
            Assert.That(() => model.OpenStream(), Throws.TypeOf<ObjectDisposedException>());
        });
        kept.Dispose();
    }
}
