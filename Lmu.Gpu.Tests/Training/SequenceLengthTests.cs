using Lmu.Gpu.Training;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Training;

/// <summary>
/// Sequences of different lengths padded at the end (<see cref="SequenceDataset.WithLengths"/>): the padding never
/// reaches the loss or the gradients. The check is exact in what it compares: one plain SGD step on the padded batch
/// moves the weights by the loss-weighted sum of the steps each sequence takes alone at its own length (the batch
/// loss is the mean over counted elements, so sequence s weighs c_s / Σc, with c_s its counted elements). The padding
/// holds large random values and targets, so a leak would show. Host path and the CPU simulator; tolerance 2·10⁻⁵
/// of the largest weight change (float32 sums in another order).
/// </summary>
[TestFixture]
public sealed class SequenceLengthTests : SimulatorAndHostFixture
{
    private const int Steps = 9;

    /// <summary>The batch's lengths: with a full-length sequence, or all shorter than T, where a batch runs only to its
    /// longest sequence (7 of 9 steps).</summary>
    private static int[] Lengths = [9, 6, 2];

    private static void UseLengths(bool shorter) => Lengths = shorter ? [7, 5, 2] : [9, 6, 2];

    private LmuDevice Device(bool simulator) => simulator ? Simulator : Host;

    /// <summary>Cell → feedforward LMU → Dense(2), outputs at every step.</summary>
    private static LmuModel SequenceModel(LmuDevice device) =>
        new LmuModel(device, 2, returnSequences: true, seed: 4)
            .AddLmu(new LmuCellOptions { InputSize = 2, Units = 5, Order = 4, Theta = 6, HiddenBias = true, MemoryBias = true })
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 5, Units = 6, Order = 5, Theta = 9, MemoryChannels = 2 })
            .AddDense(2);

    /// <summary>Last-step classifier (3 classes). <paramref name="last"/>: "feedforward" (the impulse product over the
    /// moved input), "feedforward-theta" (trainable θ: the memory run and its adjoint, state at L − 1), "cell".</summary>
    private static LmuModel LastStepModel(LmuDevice device, string last)
    {
        var model = new LmuModel(device, 2, returnSequences: false, seed: 5)
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 2, Units = 4, Order = 3, Theta = 5, MemoryBias = true });
        model = last == "cell"
            ? model.AddLmu(new LmuCellOptions { InputSize = 4, Units = 4, Order = 3, Theta = 7, HiddenBias = true })
            : model.AddFeedforwardLmu(new FeedforwardLmuOptions
            {
                InputSize = 4, Units = 5, Order = 4, Theta = 8, Activation = Activation.Tanh, MemoryBias = true, TrainableTheta = last == "feedforward-theta",
            });
        return model.AddDense(3);
    }

    private static float[] Noisy(LmuModel model) => model.ParametersWithNoise(seed: 11, width: 0.6);

    /// <summary>[N, T, w] with real values in each sequence's first L steps and large noise after them.</summary>
    private static float[] Padded(int width, int seed)
    {
        var rng = new Random(seed);
        var values = new float[Lengths.Length * Steps * width];
        for (int s = 0; s < Lengths.Length; s++)
        {
            for (int t = 0; t < Steps; t++)
            {
                for (int i = 0; i < width; i++)
                {
                    double v = (2 * rng.NextDouble()) - 1;
                    values[(((s * Steps) + t) * width) + i] = (float)(t < Lengths[s] ? v : 50 * v);
                }
            }
        }

        return values;
    }

    /// <summary>Sequence s's first L_s steps of [N, T, w], as [1, L_s, w].</summary>
    private static float[] Real(float[] values, int width, int s) => values.AsSpan(s * Steps * width, Lengths[s] * width).ToArray();

    private static readonly FitOptions OneSgdStep = new()
    {
        Epochs = 1, BatchSize = 3, Shuffle = false, Optimizer = OptimizerKind.Sgd, LearningRate = 0.05,
    };

    /// <summary>w after one SGD step from <paramref name="start"/> minus <paramref name="start"/>.</summary>
    private static double[] Step(LmuModel model, float[] start, SequenceDataset data)
    {
        model.SetParameters(start);
        model.Fit(data, OneSgdStep);
        return model.GetParameters().Zip(start, (a, b) => (double)a - b).ToArray();
    }

    private static void AssertClose(double[] actual, double[] expected, string what)
    {
        double scale = expected.Max(Math.Abs);
        Assert.That(scale, Is.GreaterThan(1e-6), $"{what}: the step must move the weights");
        double error = actual.Zip(expected, (a, e) => Math.Abs(a - e)).Max();
        Assert.That(error, Is.LessThanOrEqualTo(2e-5 * scale), $"{what}: largest weight-change error {error:G3} of {scale:G3}");
    }

    [TestCase(false, false)]
    [TestCase(true, false)]
    [TestCase(false, true)]
    [TestCase(true, true)]
    public void SequenceTargets_SgdStep_IsTheWeightedSumOfEachSequenceAlone(bool simulator, bool shorter)
    {
        UseLengths(shorter);
        var device = Device(simulator);
        float[] x = Padded(2, 1);
        float[] y = Padded(2, 2);
        var padded = SequenceDataset.ForRegression(x, y, Lengths.Length, Steps, 2, 2, sequenceTargets: true).WithLengths(Lengths);
        using var model = SequenceModel(device);
        float[] start = Noisy(model);
        double[] actual = Step(model, start, padded);

        var expected = new double[actual.Length];
        double total = Lengths.Sum();
        for (int s = 0; s < Lengths.Length; s++)
        {
            using var alone = SequenceModel(device);
            var data = SequenceDataset.ForRegression(Real(x, 2, s), Real(y, 2, s), 1, Lengths[s], 2, 2, sequenceTargets: true);
            double[] delta = Step(alone, start, data);
            for (int i = 0; i < delta.Length; i++)
            {
                expected[i] += delta[i] * Lengths[s] / total;
            }
        }

        AssertClose(actual, expected, "sequence targets");
    }

    [TestCase(false, "feedforward", false)]
    [TestCase(false, "feedforward-theta", false)]
    [TestCase(false, "cell", false)]
    [TestCase(true, "feedforward", false)]
    [TestCase(true, "feedforward-theta", false)]
    [TestCase(true, "cell", false)]
    [TestCase(false, "feedforward", true)]
    [TestCase(false, "feedforward-theta", true)]
    [TestCase(false, "cell", true)]
    [TestCase(true, "cell", true)]
    public void LastStep_SgdStep_IsTheMeanOfEachSequenceAlone(bool simulator, string last, bool shorter)
    {
        UseLengths(shorter);
        var device = Device(simulator);
        float[] x = Padded(2, 3);
        int[] labels = [2, 0, 1];
        var padded = SequenceDataset.ForClassification(x, labels, Lengths.Length, Steps, 2, 3).WithLengths(Lengths);
        using var model = LastStepModel(device, last);
        float[] start = Noisy(model);
        double[] actual = Step(model, start, padded);

        var expected = new double[actual.Length];
        for (int s = 0; s < Lengths.Length; s++)
        {
            using var alone = LastStepModel(device, last);
            var data = SequenceDataset.ForClassification(Real(x, 2, s), [labels[s]], 1, Lengths[s], 2, 3);
            double[] delta = Step(alone, start, data);
            for (int i = 0; i < delta.Length; i++)
            {
                expected[i] += delta[i] / Lengths.Length;
            }
        }

        AssertClose(actual, expected, last);
    }

    [TestCase(false, "feedforward")]
    [TestCase(false, "cell")]
    [TestCase(true, "feedforward")]
    public void Predict_WithLengths_GivesEachSequenceAtItsOwnLength(bool simulator, string last)
    {
        UseLengths(false);
        var device = Device(simulator);
        float[] x = Padded(2, 4);
        using var model = LastStepModel(device, last);
        model.SetParameters(Noisy(model));
        float[] padded = model.Predict(x, Lengths.Length, Steps, Lengths, batchSize: 2);
        for (int s = 0; s < Lengths.Length; s++)
        {
            using var alone = LastStepModel(device, last);
            alone.SetParameters(model.GetParameters());
            float[] own = alone.Predict(Real(x, 2, s), 1, Lengths[s]);
            Assert.That(padded.AsSpan(s * 3, 3).ToArray(), Is.EqualTo(own).Within(2e-5), $"sequence {s}");
        }

        float[] full = model.Predict(x, Lengths.Length, Steps);
        Assert.That(full.AsSpan(3, 3).ToArray(), Is.Not.EqualTo(padded.AsSpan(3, 3).ToArray()), "without lengths the padding counts");
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Evaluate_WithLengths_IsTheWeightedMeanOfEachSequenceAlone(bool shorter)
    {
        UseLengths(shorter);
        float[] x = Padded(2, 5);
        float[] y = Padded(2, 6);
        using var model = SequenceModel(Host);
        model.SetParameters(Noisy(model));
        double loss = model.Evaluate(SequenceDataset.ForRegression(x, y, 3, Steps, 2, 2, true).WithLengths(Lengths), batchSize: 3).Loss;
        double expected = 0;
        for (int s = 0; s < Lengths.Length; s++)
        {
            double alone = model.Evaluate(SequenceDataset.ForRegression(Real(x, 2, s), Real(y, 2, s), 1, Lengths[s], 2, 2, true)).Loss;
            expected += alone * Lengths[s] / Lengths.Sum();
        }

        Assert.That(loss, Is.EqualTo(expected).Within(1e-5 * expected));
        foreach (int batchSize in new[] { 1, 2 })
        {
            double batched = model.Evaluate(SequenceDataset.ForRegression(x, y, 3, Steps, 2, 2, true).WithLengths(Lengths), batchSize).Loss;
            Assert.That(batched, Is.EqualTo(expected).Within(1e-5 * expected), $"batches of {batchSize}: the mean over every real step");
        }
    }

    [TestCase(0, "outside 1…9")]
    [TestCase(10, "outside 1…9")]
    public void WithLengths_ThrowsForALengthOutOfRange(int length, string message)
    {
        var data = SequenceDataset.ForClassification(new float[2 * Steps], [0, 1], 2, Steps, 1, 2);
        var e = Assert.Throws<ArgumentException>(() => data.WithLengths([3, length]));
        Assert.That(e!.ParamName, Is.EqualTo("lengths"));
        Assert.That(e.Message, Does.Contain($"lengths[1] = {length} is {message}"));
        Assert.Throws<ArgumentException>(() => data.WithLengths([3]));
    }

    [Test]
    public void Fit_ThrowsForASequenceWithNoStepInTheLoss()
    {
        UseLengths(false);
        using var model = SequenceModel(Host);
        var data = SequenceDataset.ForRegression(Padded(2, 7), Padded(2, 8), 3, Steps, 2, 2, true).WithLengths(Lengths);
        float[] before = model.GetParameters();
        var e = Assert.Throws<ArgumentException>(() => model.Fit(data, OneSgdStep with { LossFromStep = 2 }));
        Assert.That(e!.Message, Does.Contain("Sequence 2 has 2 real steps"));
        Assert.That(model.GetParameters(), Is.EqualTo(before), "nothing ran");
    }

    [Test]
    public void BucketByLength_BatchesSequencesOfSimilarLength()
    {
        // Unshuffled, the buckets are the length-sorted order cut into batches: the same epoch as on data sorted by hand.
        int[] lengths = [8, 2, 9, 3, 7, 1];
        int count = lengths.Length;
        var rng = new Random(40);
        float[] x = [.. Enumerable.Range(0, count * Steps * 2).Select(_ => (float)((2 * rng.NextDouble()) - 1))];
        float[] y = [.. x.Select(v => 0.5f * v)];
        int[] sorted = [.. Enumerable.Range(0, count).OrderBy(i => lengths[i])];
        float[] Reorder(float[] values) => [.. sorted.SelectMany(i => values.AsSpan(i * Steps * 2, Steps * 2).ToArray())];
        var options = new FitOptions { Epochs = 1, BatchSize = 2, Shuffle = false, Optimizer = OptimizerKind.Sgd, LearningRate = 0.05 };

        using var bucketed = SequenceModel(Host);
        float[] start = Noisy(bucketed);
        bucketed.SetParameters(start);
        bucketed.Fit(SequenceDataset.ForRegression(x, y, count, Steps, 2, 2, true).WithLengths(lengths), options with { BucketByLength = true });
        using var byHand = SequenceModel(Host);
        byHand.SetParameters(start);
        byHand.Fit(SequenceDataset.ForRegression(Reorder(x), Reorder(y), count, Steps, 2, 2, true).WithLengths([.. sorted.Select(i => lengths[i])]), options);
        Assert.That(bucketed.GetParameters(), Is.EqualTo(byHand.GetParameters()));

        using var shuffled = SequenceModel(Host);
        var history = shuffled.Fit(SequenceDataset.ForRegression(x, y, count, Steps, 2, 2, true).WithLengths(lengths),
            options with { BucketByLength = true, Shuffle = true, Epochs = 3 });
        Assert.That(history.Select(h => h.TrainLoss), Has.All.Matches<double>(double.IsFinite));

        var e = Assert.Throws<ArgumentException>(() => shuffled.Fit(SequenceDataset.ForRegression(x, y, count, Steps, 2, 2, true), options with { BucketByLength = true }));
        Assert.That(e!.Message, Does.Contain("BucketByLength needs"));
    }

    [Test]
    public void Slice_KeepsTheLengths()
    {
        UseLengths(false);
        var data = SequenceDataset.ForClassification(new float[3 * Steps], [0, 1, 0], 3, Steps, 1, 2).WithLengths(Lengths);
        Assert.That(data.Slice(1, 2).Lengths, Is.EqualTo(new[] { 6, 2 }));
    }
}
