using Lmu.Gpu.Training;

namespace Lmu.Gpu.Cli.SelfTest;

/// <summary>Self-test of streaming inference (<see cref="LmuModelStream"/>): a model of an LMU cell, a feedforward
/// LMU whose memory runs by the scan from the carried state, and a dense head, fed on the device in pieces of uneven
/// length and one step at a time, against <see cref="LmuModel.Predict(float[], int, int, int, CancellationToken)"/> of the whole sequence on the host path with the
/// same weights.</summary>
internal sealed class StreamSelfTests : ISelfTestSuite
{
    /// <summary>max |y_device − y_host| / max |y_host|: float32 over a few hundred steps, summed in other orders (the
    /// scan against the sequential run); the test suite holds the host and simulator to 2·10⁻⁵.</summary>
    private const double Tolerance = 1e-4;

    /// <inheritdoc/>
    public IEnumerable<SelfTestCase> Cases(LmuDevice device)
    {
        bool small = SelfTestSizes.IsSimulator(device);
        int batch = small ? 2 : 16;
        int steps = small ? 17 : 500;
        int order = small ? 4 : 64;
        int units = small ? 5 : 32;
        int[] pieces = small ? [6, 1, 10] : [1, 37, 200, 1, 261];
        yield return new SelfTestCase("stream", $"pieces {string.Join('+', pieces)} and single steps, cell + feedforward LMU (scan) + dense, n={units} d={order} B={batch} T={steps}",
            d => Compare(d, batch, steps, order, units, pieces));
        yield return new SelfTestCase("stream", $"pieces {string.Join('+', pieces)}, last-step feedforward LMU (final-state shortcut from the carried state) + dense, n={units} d={order} B={batch} T={steps}",
            d => CompareLastStep(d, batch, steps, order, units, pieces));
    }

    private static LmuModel LastStepModel(LmuDevice device, int order, int units, int steps) =>
        new LmuModel(device, 2, returnSequences: false, seed: 9)
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 2, Units = units, Order = order, Theta = steps / 4.0, MemoryChannels = 2, Activation = Activation.Tanh })
            .AddDense(3);

    /// <summary>The output after each piece against the host's <see cref="LmuModel.Predict(float[], int, int, int, CancellationToken)"/> of the sequence so far
    /// (its own final-state product from zero).</summary>
    private static SelfTestResult CompareLastStep(LmuDevice device, int batch, int steps, int order, int units, int[] pieces)
    {
        using var model = LastStepModel(device, order, units, steps);
        float[] parameters = model.ParametersWithNoise(seed: 14, width: 0.2);
        model.SetParameters(parameters);
        using var host = LmuDevice.Open(AcceleratorKind.Cpu);
        using var reference = LastStepModel(host, order, units, steps);
        reference.SetParameters(parameters);
        var rng = new Random(15);
        var x = new float[batch * steps * 2];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)((rng.NextDouble() * 2) - 1);
        }

        using var stream = model.OpenStream(batch);
        double error = 0;
        int from = 0;
        foreach (int length in pieces)
        {
            float[] y = stream.Run(Slice(x, batch, steps, from, length), length);
            from += length;
            float[] expected = reference.Predict(Slice(x, batch, steps, 0, from), batch, from);
            error = Math.Max(error, SelfTestResult.Relative(y, expected));
        }

        return new SelfTestResult(error, Tolerance);
    }

    /// <summary>Steps [from, from + length) of x [B, T, 2].</summary>
    private static float[] Slice(float[] x, int batch, int steps, int from, int length)
    {
        var piece = new float[batch * length * 2];
        for (int b = 0; b < batch; b++)
        {
            x.AsSpan(((b * steps) + from) * 2, length * 2).CopyTo(piece.AsSpan(b * length * 2));
        }

        return piece;
    }

    private static LmuModel Model(LmuDevice device, int order, int units) =>
        new LmuModel(device, 2, returnSequences: true, seed: 8) { SequenceMethod = SequenceMethod.Scan }
            .AddLmu(new LmuCellOptions { InputSize = 2, Units = units, Order = order, Theta = 20, HiddenBias = true, MemoryBias = true })
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = units, Units = units, Order = order, Theta = 50, MemoryChannels = 2, Activation = Activation.Tanh })
            .AddDense(3);

    private static SelfTestResult Compare(LmuDevice device, int batch, int steps, int order, int units, int[] pieces)
    {
        using var model = Model(device, order, units);
        float[] parameters = model.ParametersWithNoise(seed: 12, width: 0.2);
        model.SetParameters(parameters);
        using var host = LmuDevice.Open(AcceleratorKind.Cpu);
        using var reference = Model(host, order, units);
        reference.SequenceMethod = SequenceMethod.Sequential;
        reference.SetParameters(parameters);

        var rng = new Random(13);
        var x = new float[batch * steps * 2];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)((rng.NextDouble() * 2) - 1);
        }

        float[] expected = reference.Predict(x, batch, steps);
        const int outputs = 3;
        var actual = new float[expected.Length];
        using var stream = model.OpenStream(batch);
        int from = 0;
        foreach (int length in pieces)
        {
            Run(stream, x, actual, steps, from, length, outputs);
            from += length;
        }

        double error = SelfTestResult.Relative(actual, expected);

        // The same sequence one step at a time, for the first steps.
        stream.Reset();
        Array.Clear(actual);
        int single = Math.Min(steps, 8);
        for (int t = 0; t < single; t++)
        {
            Run(stream, x, actual, steps, t, 1, outputs);
        }

        var firstActual = new float[batch * single * outputs];
        var firstExpected = new float[firstActual.Length];
        for (int b = 0; b < batch; b++)
        {
            actual.AsSpan(b * steps * outputs, single * outputs).CopyTo(firstActual.AsSpan(b * single * outputs));
            expected.AsSpan(b * steps * outputs, single * outputs).CopyTo(firstExpected.AsSpan(b * single * outputs));
        }

        return new SelfTestResult(Math.Max(error, SelfTestResult.Relative(firstActual, firstExpected)), Tolerance);
    }

    /// <summary>Steps [from, from + length) of x [B, T, 2] through the stream, their outputs into y [B, T, O].</summary>
    private static void Run(LmuModelStream stream, float[] x, float[] y, int steps, int from, int length, int outputs)
    {
        int batch = stream.Batch;
        float[] result = stream.Run(Slice(x, batch, steps, from, length), length);
        for (int b = 0; b < batch; b++)
        {
            result.AsSpan(b * length * outputs, length * outputs).CopyTo(y.AsSpan(((b * steps) + from) * outputs));
        }
    }
}
