using Lmu.Gpu.Training;

namespace Lmu.Gpu.Cli.SelfTest;

/// <summary>Self-test of training on sequences of different lengths (<see cref="SequenceDataset.WithLengths"/>): one SGD
/// step on a padded batch on the device against the same step on the host path, for per-step targets (the masked
/// squared error) and a last-step classifier whose feedforward layer takes the impulse product of the input moved to
/// the end (the shifts, and the output gathered at each sequence's last real step); and the same for bidirectional
/// layers, which reverse each sequence over its own length (<see cref="LmuModel.AddBidirectional(LmuCellOptions, LmuCellOptions?, BidirectionalMerge)"/>); and truncated
/// backpropagation through time (<see cref="FitOptions.TruncatedSteps"/>: windows from carried states, one SGD step
/// each). The test suite checks the host path against each sequence trained alone and against finite differences.</summary>
internal sealed class LengthSelfTests : ISelfTestSuite
{
    /// <summary>max |Δw_device − Δw_host| / max |Δw_host|: float32 gradients summed in other orders.</summary>
    private const double Tolerance = 1e-4;

    /// <inheritdoc/>
    public IEnumerable<SelfTestCase> Cases(LmuDevice device)
    {
        bool small = SelfTestSizes.IsSimulator(device);
        int batch = small ? 3 : 32;
        int steps = small ? 9 : 400;
        int order = small ? 4 : 32;
        int units = small ? 5 : 24;
        yield return new SelfTestCase("lengths", $"SGD step, per-step targets, lengths 1…T, cell + feedforward LMU + dense, n={units} d={order} B={batch} T={steps}",
            d => Compare(d, batch, steps, h => new LmuModel(h, 2, returnSequences: true, seed: 21)
                .AddLmu(new LmuCellOptions { InputSize = 2, Units = units, Order = order, Theta = steps / 3.0, HiddenBias = true })
                .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = units, Units = units, Order = order, Theta = steps / 2.0 })
                .AddDense(2)));
        yield return new SelfTestCase("lengths", $"SGD step, last-step classifier, feedforward LMU (impulse product of the moved input) + dense, n={units} d={order} B={batch} T={steps}",
            d => Compare(d, batch, steps, h => new LmuModel(h, 2, returnSequences: false, seed: 22)
                .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 2, Units = units, Order = order, Theta = steps / 2.0, MemoryBias = true, Activation = Activation.Tanh })
                .AddDense(3)));
        yield return new SelfTestCase("bidirectional", $"SGD step, per-step targets, lengths 1…T, bidirectional LMU cells + dense, n={units}+{units} d={order} B={batch} T={steps}",
            d => Compare(d, batch, steps, h => new LmuModel(h, 2, returnSequences: true, seed: 25)
                .AddBidirectional(new LmuCellOptions { InputSize = 2, Units = units, Order = order, Theta = steps / 3.0, HiddenBias = true })
                .AddDense(2)));
        yield return new SelfTestCase("bidirectional", $"SGD step, last-step classifier, feedforward LMU into a bidirectional feedforward pair + dense, n={units} d={order} B={batch} T={steps}",
            d => Compare(d, batch, steps, h => new LmuModel(h, 2, returnSequences: false, seed: 26)
                .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 2, Units = units, Order = order, Theta = steps / 2.0, Activation = Activation.Tanh })
                .AddBidirectional(new FeedforwardLmuOptions { InputSize = units, Units = units, Order = order, Theta = steps / 4.0, MemoryBias = true, Activation = Activation.Tanh })
                .AddDense(3)));
        int window = steps / 3;
        yield return new SelfTestCase("truncated", $"SGD steps in windows of {window} carrying the states, cell + feedforward LMU (scan) + dense, n={units} d={order} B={batch} T={steps}",
            d => Compare(d, batch, steps, h => new LmuModel(h, 2, returnSequences: true, seed: 27) { SequenceMethod = SequenceMethod.Scan }
                .AddLmu(new LmuCellOptions { InputSize = 2, Units = units, Order = order, Theta = steps / 3.0, HiddenBias = true, TrainableTheta = true })
                .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = units, Units = units, Order = order, Theta = steps / 2.0 })
                .AddDense(2), truncatedSteps: window));
    }

    private static SelfTestResult Compare(LmuDevice device, int batch, int steps, Func<LmuDevice, LmuModel> create, int truncatedSteps = 0)
    {
        var rng = new Random(23);
        var x = new float[batch * steps * 2];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)((rng.NextDouble() * 2) - 1);
        }

        int[] lengths = Enumerable.Range(0, batch).Select(b => b == 0 ? steps : b == 1 ? 1 : 1 + rng.Next(steps)).ToArray();
        using var model = create(device);
        var data = model.ReturnSequences
            ? SequenceDataset.ForRegression(x, x.Select(v => 0.5f * v).ToArray(), batch, steps, 2, 2, sequenceTargets: true)
            : SequenceDataset.ForClassification(x, Enumerable.Range(0, batch).Select(b => b % 3).ToArray(), batch, steps, 2, 3);
        data = truncatedSteps > 0 ? data : data.WithLengths(lengths);
        float[] start = model.ParametersWithNoise(seed: 24, width: 0.3);
        var options = new FitOptions { Epochs = 1, BatchSize = batch, Shuffle = false, Optimizer = OptimizerKind.Sgd, LearningRate = 0.05, TruncatedSteps = truncatedSteps };
        model.SetParameters(start);
        model.Fit(data, options);
        float[] actual = Delta(model.GetParameters(), start);
        using var host = LmuDevice.Open(AcceleratorKind.Cpu);
        using var reference = create(host);
        reference.SetParameters(start);
        reference.Fit(data, options);
        return new SelfTestResult(SelfTestResult.Relative(actual, Delta(reference.GetParameters(), start)), Tolerance);
    }

    private static float[] Delta(float[] after, float[] before) => after.Zip(before, (a, b) => a - b).ToArray();
}
