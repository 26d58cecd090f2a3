using Lmu.Gpu.Training;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Training;

/// <summary>
/// One model called from several threads at once: <see cref="LmuModel.Predict(float[], int, int, int, System.Threading.CancellationToken)"/>
/// from four threads, four streams of one model stepped by four threads, and online training beside a stream, each get
/// what they get alone (the calls share the model's buffers and run one at a time).
/// </summary>
[TestFixture]
public sealed class ConcurrencyTests : SimulatorAndHostFixture
{
    private const int Threads = 4;

    private static LmuModel Model(LmuDevice device)
    {
        var model = new LmuModel(device, 2, returnSequences: true, seed: 6)
            .AddLmu(new LmuCellOptions { InputSize = 2, Units = 12, Order = 6, Theta = 8, HiddenBias = true })
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 12, Units = 10, Order = 8, Theta = 20 })
            .AddDense(2);
        model.SetParameters(model.ParametersWithNoise(seed: 7, width: 0.5));
        return model;
    }

    private static float[] Inputs(int count, int steps, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count * steps * 2).Select(_ => (float)((2 * rng.NextDouble()) - 1)).ToArray();
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Predict_FromSeveralThreads_GivesWhatEachGetsAlone(bool simulator)
    {
        using var model = Model(simulator ? Simulator : Host);
        int steps = simulator ? 12 : 200, calls = simulator ? 3 : 25;
        var inputs = Enumerable.Range(0, Threads).Select(i => Inputs(3, steps + (7 * i), 10 + i)).ToArray();
        var alone = Enumerable.Range(0, Threads).Select(i => model.Predict(inputs[i], 3, steps + (7 * i))).ToArray();
        var worst = new double[Threads];
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, i =>
        {
            for (int c = 0; c < calls; c++)
            {
                float[] y = model.Predict(inputs[i], 3, steps + (7 * i), batchSize: 1 + (c % 3));
                worst[i] = Math.Max(worst[i], y.Zip(alone[i], (a, b) => Math.Abs(a - b)).Max());
            }
        });

        Assert.That(worst, Has.All.LessThanOrEqualTo(1e-6));
    }

    /// <summary>Two models on one device, each predicted from its own thread at once: nothing the models share (the
    /// device, the kernels it has loaded, the host path's pools and thread limit) mixes their results.</summary>
    [TestCase(false)]
    [TestCase(true)]
    public void TwoModelsOnOneDevice_FromTwoThreads_GiveWhatEachGivesAlone(bool simulator)
    {
        var device = simulator ? Simulator : Host;
        int steps = simulator ? 10 : 150, calls = simulator ? 3 : 20;
        using var first = Model(device);
        using var second = new LmuModel(device, 2, returnSequences: false, seed: 8)
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 2, Units = 9, Order = 7, Theta = 30 })
            .AddDense(3);
        second.SetParameters(second.ParametersWithNoise(seed: 9, width: 0.5));
        LmuModel[] models = [first, second];
        var inputs = new[] { Inputs(4, steps, 30), Inputs(4, steps, 31) };
        var alone = new[] { first.Predict(inputs[0], 4, steps), second.Predict(inputs[1], 4, steps) };
        var worst = new double[2];
        Parallel.For(0, 2, new ParallelOptions { MaxDegreeOfParallelism = 2 }, m =>
        {
            for (int c = 0; c < calls; c++)
            {
                float[] y = models[m].Predict(inputs[m], 4, steps, batchSize: 1 + (c % 4));
                worst[m] = Math.Max(worst[m], y.Zip(alone[m], (a, b) => Math.Abs(a - b)).Max());
            }
        });

        Assert.That(worst, Has.All.LessThanOrEqualTo(1e-6));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Streams_SteppedBySeveralThreads_GiveWhatPredictGives(bool simulator)
    {
        using var model = Model(simulator ? Simulator : Host);
        int steps = simulator ? 8 : 120;
        var inputs = Enumerable.Range(0, Threads).Select(i => Inputs(1, steps, 20 + i)).ToArray();
        var expected = inputs.Select(x => model.Predict(x, 1, steps)).ToArray();
        var streams = Enumerable.Range(0, Threads).Select(_ => model.OpenStream(1)).ToArray();
        var worst = new double[Threads];
        try
        {
            Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, i =>
            {
                for (int t = 0; t < steps; t++)
                {
                    float[] y = streams[i].Step(inputs[i].AsSpan(t * 2, 2));
                    worst[i] = Math.Max(worst[i], Math.Max(Math.Abs(y[0] - expected[i][t * 2]), Math.Abs(y[1] - expected[i][(t * 2) + 1])));
                }
            });
        }
        finally
        {
            foreach (var stream in streams)
            {
                stream.Dispose();
            }
        }

        double scale = expected.Max(e => e.Max(Math.Abs));
        Assert.That(worst, Has.All.LessThanOrEqualTo(2e-5 * scale));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void OnlineTraining_WithAStreamOnAnotherThread_EqualsTrainingAlone(bool simulator)
    {
        // One thread trains the model piece by piece while another steps a stream of it: the trainer's steps hold the
        // model for their whole forward pass, backward pass and update, so the weights end as if it trained alone.
        var device = simulator ? Simulator : Host;
        int pieces = simulator ? 3 : 12;
        const int length = 6;
        var x = Inputs(2, pieces * length, 30);
        var y = Inputs(2, pieces * length, 31);
        float[] Piece(float[] values, int p)
        {
            var piece = new float[2 * length * 2];
            for (int s = 0; s < 2; s++)
            {
                values.AsSpan(((s * pieces * length) + (p * length)) * 2, length * 2).CopyTo(piece.AsSpan(s * length * 2));
            }

            return piece;
        }

        using var alone = Model(device);
        using (var trainer = alone.OpenOnlineTraining(2, new FitOptions { LearningRate = 0.01 }))
        {
            for (int p = 0; p < pieces; p++)
            {
                trainer.Step(Piece(x, p), Piece(y, p), length);
            }
        }

        using var shared = Model(device);
        using var sharedTrainer = shared.OpenOnlineTraining(2, new FitOptions { LearningRate = 0.01 });
        using var stream = shared.OpenStream(1);
        var streamed = new List<float>();
        Parallel.Invoke(
            new ParallelOptions { MaxDegreeOfParallelism = 2 },
            () =>
            {
                for (int p = 0; p < pieces; p++)
                {
                    sharedTrainer.Step(Piece(x, p), Piece(y, p), length);
                }
            },
            () =>
            {
                for (int t = 0; t < pieces * 4; t++)
                {
                    streamed.AddRange(stream.Step(x.AsSpan(t * 2, 2)));
                }
            });

        Assert.That(shared.GetParameters(), Is.EqualTo(alone.GetParameters()));
        Assert.That(streamed, Has.Count.EqualTo(pieces * 4 * 2).And.All.Matches<float>(float.IsFinite));
    }
}
