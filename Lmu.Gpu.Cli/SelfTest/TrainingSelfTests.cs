using Lmu.Gpu.Training;

namespace Lmu.Gpu.Cli.SelfTest;

/// <summary>Self-test of the training kernels: the gradient of every parameter (θ included where trained) from one
/// mini-batch, on the device, against the host path (memories run sequentially) with the same weights and data. The host path's gradients are
/// checked against double-precision finite differences by the test suite (GradientCheckTests), so this carries that
/// check to accelerators the test suite cannot reach (a GPU machine without the .NET SDK).</summary>
internal sealed class TrainingSelfTests : ISelfTestSuite
{
    /// <summary>max |g_device − g_host| / max |g_host|: float32 BPTT over a few hundred steps with different summation
    /// orders; measured ≤ 1e-5 on the CPU simulator.</summary>
    private const double Tolerance = 1e-3;

    /// <inheritdoc/>
    public IEnumerable<SelfTestCase> Cases(LmuDevice device)
    {
        bool small = SelfTestSizes.IsSimulator(device);
        int batch = small ? 2 : 16;
        int steps = small ? 12 : 300;
        int units = small ? 4 : 64;
        int order = small ? 3 : 64;
        yield return new SelfTestCase("training", $"BPTT gradients, LMU cell (θ trained) + softmax, n={units} d={order} B={batch} T={steps}",
            d => Compare(d, () => new LmuModel(d, 2, returnSequences: false, seed: 3)
                .AddLmu(new LmuCellOptions { InputSize = 2, Units = units, Order = order, Theta = steps / 2.0, MemoryBias = true, HiddenBias = true, TrainableTheta = true })
                .AddDense(3), batch, steps, classes: 3));
        yield return new SelfTestCase("training", $"gradients, feedforward LMU (θ trained, per step) + dense, n={units} d={order} k=2 B={batch} T={steps}",
            d => Compare(d, () => new LmuModel(d, 2, returnSequences: true, seed: 4)
                .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 2, Units = units, Order = order, Theta = steps / 3.0, MemoryChannels = 2, MemoryBias = true, Activation = Activation.Tanh, TrainableTheta = true })
                .AddDense(2), batch, steps, classes: 0));
        // A device's dense products (DenseProductKernels) forced on, and forced onto the row kernels (the host has
        // neither).
        foreach (var dense in device.IsHost ? [] : new[] { ProductUse.Always, ProductUse.Never })
        {
            string kernel = dense == ProductUse.Always ? "blocked product kernel" : "row kernels";
            yield return new SelfTestCase("training", $"gradients, feedforward LMU + dense, dense products on the {kernel}, n={units} d={order} k=2 B={batch} T={steps}",
                d => Compare(d, () => new LmuModel(d, 2, returnSequences: true, seed: 7)
                    .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 2, Units = units, Order = order, Theta = steps / 3.0, MemoryChannels = 2, MemoryBias = true, HiddenBias = true, Activation = Activation.Tanh })
                    .AddDense(2), batch, steps, classes: 0, dense));
        }

        yield return new SelfTestCase("training", $"gradients, feedforward LMU last step (impulse product) + softmax, n={units} d={order} B={batch} T={steps}",
            d => Compare(d, () => new LmuModel(d, 2, returnSequences: false, seed: 5)
                .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 2, Units = units, Order = order, Theta = steps })
                .AddDense(3), batch, steps, classes: 3));
        int values = small ? 4_096 : 1 << 22;
        yield return new SelfTestCase("training", $"dropout mask (rate 0.3) on {values:N0} values against the host's",
            d => DropoutAgainstHost(d, values));
        yield return new SelfTestCase("training", $"gradients, feedforward LMU by the scan (θ fixed, per step) + dense, n={units} d={order} k=2 B={batch} T={steps}",
            d => Compare(d, () => ScanModel(d, units, order, steps, small ? 5 : 0, trainableTheta: false), batch, steps, classes: 0));
        yield return new SelfTestCase("training", $"gradients, feedforward LMU by the scan (θ trained from λ, per step) + dense, n={units} d={order} k=2 B={batch} T={steps}",
            d => Compare(d, () => ScanModel(d, units, order, steps, small ? 5 : 0, trainableTheta: true), batch, steps, classes: 0));
    }

    /// <summary>The dropout kernel's output against the host path's: the masks come from the same counter-based
    /// generator, so they must agree exactly (tolerance 0).</summary>
    private static SelfTestResult DropoutAgainstHost(LmuDevice device, int values)
    {
        var layer = new DropoutModelLayer(width: 1, rate: 0.3, isSequence: true, seed: 0xD20F_0A7UL) { Mode = (true, 11) };
        var rng = new Random(17);
        var x = new float[values];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)((rng.NextDouble() * 2) - 1);
        }

        float[] Run(Backend backend)
        {
            using var input = backend.Upload(x, "dropout input");
            using var output = backend.Allocate(values, "dropout output");
            layer.Forward(backend, default, input.All, output.All, 1, values);
            backend.Synchronize();
            return backend.Download(output.All);
        }

        using var deviceBackend = Backend.For(device);
        using var hostBackend = new HostBackend();
        return new SelfTestResult(SelfTestResult.Relative(Run(deviceBackend), Run(hostBackend)), 0);
    }

    /// <summary>A sequence-to-sequence feedforward LMU whose memory and adjoint run by the chunked scan (chunk length
    /// <paramref name="chunk"/>, 0 for the device's rule), θ fixed or trained (its gradient then from the scan's λ);
    /// the reference runs sequentially.</summary>
    private static LmuModel ScanModel(LmuDevice device, int units, int order, int steps, int chunk, bool trainableTheta)
    {
        var model = new LmuModel(device, 2, returnSequences: true, seed: 6) { SequenceMethod = SequenceMethod.Scan }
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 2, Units = units, Order = order, Theta = steps / 3.0, MemoryChannels = 2, MemoryBias = true, Activation = Activation.Tanh, TrainableTheta = trainableTheta })
            .AddDense(2);
        foreach (var layer in model.Layers.OfType<FeedforwardModelLayer>())
        {
            layer.ScanChunkLength = chunk;
        }

        return model;
    }

    private static SelfTestResult Compare(LmuDevice device, Func<LmuModel> build, int batch, int steps, int classes, ProductUse? dense = null)
    {
        using var model = build();
        if (dense is { } use && model.Backend is DeviceBackend backend)
        {
            backend.DenseProductUse = use;
        }
        using var host = LmuDevice.Open(AcceleratorKind.Cpu);
        // Small non-zero values everywhere (the initialisers leave biases and some encoders at zero); θ unchanged.
        float[] parameters = model.ParametersWithNoise(seed: 9, width: 0.2);

        model.SetParameters(parameters);
        var data = Data(model, batch, steps, classes);
        using var reference = OnHost(model, host);
        reference.SequenceMethod = SequenceMethod.Sequential;
        reference.SetParameters(parameters);
        int[] indices = Enumerable.Range(0, batch).ToArray();
        var actual = new float[parameters.Length];
        var expected = new float[parameters.Length];
        model.ComputeGradients(data, indices, 0, actual);
        reference.ComputeGradients(data, indices, 0, expected);
        if (dense == ProductUse.Always && model.Backend is DeviceBackend { DenseProducts: 0 })
        {
            throw new InvalidOperationException("The dense products were forced onto the blocked product kernel, but it never ran.");
        }

        return new SelfTestResult(SelfTestResult.Relative(actual, Array.ConvertAll(expected, x => (double)x)), Tolerance);
    }

    /// <summary>The same model (architecture and weights) on the host path, through a model-file round trip.</summary>
    private static LmuModel OnHost(LmuModel model, LmuDevice host)
    {
        string path = Path.Combine(Path.GetTempPath(), $"lmu-selftest-{Environment.ProcessId}-{Guid.NewGuid():N}.lmuw");
        try
        {
            model.Save(path);
            return LmuModel.Load(host, path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static SequenceDataset Data(LmuModel model, int batch, int steps, int classes)
    {
        float[] x = SelfTestSizes.Inputs((long)batch * steps * model.InputSize, 21);
        if (classes > 0)
        {
            int[] labels = Enumerable.Range(0, batch).Select(i => i % classes).ToArray();
            return SequenceDataset.ForClassification(x, labels, batch, steps, model.InputSize, classes);
        }

        float[] y = SelfTestSizes.Inputs((long)batch * steps * model.OutputSize, 22);
        return SequenceDataset.ForRegression(x, y, batch, steps, model.InputSize, model.OutputSize, true);
    }
}
