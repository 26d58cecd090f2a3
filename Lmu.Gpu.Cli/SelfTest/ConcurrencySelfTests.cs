using Lmu.Gpu.Training;

namespace Lmu.Gpu.Cli.SelfTest;

/// <summary>Self-test of one model called from several threads (<see cref="LmuModel"/> is thread-safe: its operations
/// run one at a time and bind the accelerator on the calling thread): four threads each step their own stream of one
/// model on the device, against the model's <see cref="LmuModel.Predict(float[], int, int, int, CancellationToken)"/>
/// of each sequence on the calling thread.</summary>
internal sealed class ConcurrencySelfTests : ISelfTestSuite
{
    /// <summary>As the stream self-test: float32 over a few hundred steps, summed in other orders.</summary>
    private const double Tolerance = 1e-4;

    /// <inheritdoc/>
    public IEnumerable<SelfTestCase> Cases(LmuDevice device)
    {
        bool small = SelfTestSizes.IsSimulator(device);
        int steps = small ? 8 : 200;
        int units = small ? 6 : 32;
        int order = small ? 4 : 64;
        yield return new SelfTestCase("threads", $"4 threads, a stream each of one model, cell + feedforward LMU + dense, n={units} d={order} T={steps}",
            d => Compare(d, steps, units, order));
    }

    private static SelfTestResult Compare(LmuDevice device, int steps, int units, int order)
    {
        const int threads = 4;
        using var model = new LmuModel(device, 2, returnSequences: true, seed: 31)
            .AddLmu(new LmuCellOptions { InputSize = 2, Units = units, Order = order, Theta = steps / 4.0, HiddenBias = true })
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = units, Units = units, Order = order, Theta = steps / 2.0 })
            .AddDense(2);
        model.SetParameters(model.ParametersWithNoise(seed: 32, width: 0.2));
        var rng = new Random(33);
        var inputs = Enumerable.Range(0, threads).Select(_ => Enumerable.Range(0, steps * 2).Select(_ => (float)((rng.NextDouble() * 2) - 1)).ToArray()).ToArray();
        var expected = inputs.Select(x => model.Predict(x, 1, steps)).ToArray();
        var actual = new float[threads][];
        var streams = Enumerable.Range(0, threads).Select(_ => model.OpenStream(1)).ToArray();
        try
        {
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
            {
                actual[i] = new float[steps * 2];
                for (int t = 0; t < steps; t++)
                {
                    streams[i].Run(inputs[i].AsSpan(t * 2, 2), 1, actual[i].AsSpan(t * 2, 2));
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

        return new SelfTestResult(SelfTestResult.Relative(actual.SelectMany(a => a).ToArray(), expected.SelectMany(e => e).ToArray()), Tolerance);
    }
}
