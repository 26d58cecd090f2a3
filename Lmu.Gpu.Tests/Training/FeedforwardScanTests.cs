using Lmu.Gpu;
using Lmu.Gpu.Training;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Training;

/// <summary>
/// The feedforward LMU layer's memory by the chunked scan in training (<see cref="LmuModel.SequenceMethod"/>): the
/// loss, every gradient and the predictions against the same model run sequentially, on the host and on the CPU
/// simulator, with chunks short enough that every run has several (and a short last one). Tolerance: float32
/// rounding, max |Δg| ≤ 1e-4·max |g| over all parameters; max |Δy| ≤ 1e-5·max |y|; loss within 1e-5 relative.
/// The finite-difference check of the scan's gradients is in <see cref="GradientCheckTests"/>.
/// </summary>
[TestFixture]
public sealed class FeedforwardScanTests : SimulatorAndHostFixture
{

    private static LmuModel Model(LmuDevice device, SequenceMethod method, int order, int chunk, bool returnSequences = true)
    {
        var model = new LmuModel(device, 2, returnSequences, seed: 7) { SequenceMethod = method }
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 2, Units = 6, Order = order, Theta = 17, MemoryChannels = 2, MemoryBias = true, Activation = Activation.Tanh })
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 6, Units = 5, Order = order / 2, Theta = 2.5 * order, Discretizer = Discretizer.Euler, Dt = 0.5 })
            .AddDense(returnSequences ? 2 : 3);
        foreach (var layer in model.Layers.OfType<FeedforwardModelLayer>())
        {
            layer.ScanChunkLength = chunk;
        }

        return model;
    }

    private static SequenceDataset Data(int count, int steps, int outputs, bool returnSequences)
    {
        var rng = new Random(3);
        var x = new float[count * steps * 2];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)((rng.NextDouble() * 2) - 1);
        }

        if (!returnSequences)
        {
            var labels = Enumerable.Range(0, count).Select(_ => rng.Next(outputs)).ToArray();
            return SequenceDataset.ForClassification(x, labels, count, steps, 2, outputs);
        }

        var y = new float[count * steps * outputs];
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = (float)Math.Sin(0.1 * i);
        }

        return SequenceDataset.ForRegression(x, y, count, steps, 2, outputs, sequenceTargets: true);
    }

    private static (double Loss, float[] Gradients) Gradients(LmuModel model, SequenceDataset data, float[] parameters)
    {
        model.SetParameters(parameters);
        var grad = new float[parameters.Length];
        double loss = model.ComputeGradients(data, Enumerable.Range(0, data.Count).ToArray(), 3, grad);
        return (loss, grad);
    }

    private void CompareWithSequential(LmuDevice device, int order, int count, int steps, int chunk, bool returnSequences)
    {
        using var scan = Model(device, SequenceMethod.Scan, order, chunk, returnSequences);
        using var sequential = Model(device, SequenceMethod.Sequential, order, chunk, returnSequences);
        var data = Data(count, steps, scan.OutputSize, returnSequences);

        // Non-zero values everywhere (the initialisers leave biases at zero), θ left as it is.
        float[] p = scan.ParametersWithNoise(seed: 9, width: 0.4);

        foreach (var layer in scan.Layers.OfType<FeedforwardModelLayer>())
        {
            Assert.That(layer.UsesScan(scan.Backend, count, steps), Is.True, "the scan model runs the scan");
        }

        var (scanLoss, scanGrad) = Gradients(scan, data, p);
        var (seqLoss, seqGrad) = Gradients(sequential, data, p);
        Assert.That(scanLoss, Is.EqualTo(seqLoss).Within(1e-5 * Math.Abs(seqLoss)), "loss");
        double scale = seqGrad.Max(Math.Abs);
        Assert.That(scale, Is.GreaterThan(0));
        double worst = scanGrad.Zip(seqGrad, (a, b) => Math.Abs(a - b)).Max();
        Assert.That(worst, Is.LessThanOrEqualTo(1e-4 * scale), $"max |Δg| = {worst:E2}, max |g| = {scale:E2}");

        float[] x = Enumerable.Range(0, count * steps * 2).Select(i => (float)Math.Cos(0.37 * i)).ToArray();
        float[] yScan = scan.Predict(x, count, steps);
        float[] ySeq = sequential.Predict(x, count, steps);
        double yScale = ySeq.Max(Math.Abs);
        double yWorst = yScan.Zip(ySeq, (a, b) => Math.Abs(a - b)).Max();
        Assert.That(yWorst, Is.LessThanOrEqualTo(1e-5 * yScale), $"predictions: max |Δy| = {yWorst:E2}");
    }

    [Test]
    public void Gradients_MatchSequential_Host([Values(8, 32)] int order) =>
        CompareWithSequential(Host, order, count: 5, steps: 203, chunk: 16, returnSequences: true);

    [Test]
    public void Gradients_MatchSequential_LastStepClassification_Host() =>
        CompareWithSequential(Host, 8, count: 4, steps: 61, chunk: 7, returnSequences: false);

    [Test]
    public void Gradients_MatchSequential_CpuSimulator() =>
        CompareWithSequential(Simulator, 8, count: 3, steps: 29, chunk: 6, returnSequences: true);

    [Test]
    public void Auto_PicksScanForLongSequencesWithFixedThetaOnly_Host()
    {
        using var model = new LmuModel(Host, 1)
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 1, Units = 4, Order = 64, Theta = 1000 })
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 4, Units = 4, Order = 64, Theta = 1000, TrainableTheta = true })
            .AddDense(1);
        model.GetParameters();
        var layers = model.Layers.OfType<FeedforwardModelLayer>().ToArray();
        var backend = model.Backend;
        Assert.Multiple(() =>
        {
            Assert.That(layers[0].UsesScan(backend, 4, 10_000), Is.True, "fixed θ, long sequences: scan");
            Assert.That(layers[0].UsesAdjointScan(backend, 4, 10_000), Is.True, "and for the adjoint");
            Assert.That(layers[0].UsesScan(backend, 4, 8), Is.False, "eight steps: sequential");
            Assert.That(layers[1].UsesScan(backend, 4, 10_000), Is.False, "trainable θ: sequential");
            Assert.That(layers[1].UsesAdjointScan(backend, 4, 10_000), Is.False, "trainable θ: sequential adjoint");
        });
        model.SequenceMethod = SequenceMethod.Sequential;
        Assert.That(layers[0].UsesScan(backend, 4, 10_000), Is.False, "Sequential is obeyed");
        Assert.That(layers[0].UsesAdjointScan(backend, 4, 10_000), Is.False, "by the adjoint too");
    }

    [Test]
    public void Gradients_MatchSequential_ScanForwardSequentialAdjoint_Host()
    {
        // d = 128, B = 8, T = 64 on two or more cores: Auto runs the memory by the scan and its adjoint step by step (in
        // one group of eight, without a λ output). Its gradients must be those of the all-sequential model (another
        // forward path) and of the all-scan model (another adjoint path).
        const int count = 8, steps = 64;
        LmuModel Build(SequenceMethod method) => new LmuModel(Host, 1, returnSequences: true, seed: 5) { SequenceMethod = method }
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 1, Units = 4, Order = 128, Theta = 40, Activation = Activation.Tanh })
            .AddDense(1);
        using var auto = Build(SequenceMethod.Auto);
        using var sequential = Build(SequenceMethod.Sequential);
        using var scan = Build(SequenceMethod.Scan);
        float[] p = auto.ParametersWithNoise(seed: 9, width: 0.4);
        var layer = auto.Layers.OfType<FeedforwardModelLayer>().Single();
        if (Environment.ProcessorCount >= 2)
        {
            Assert.That((layer.UsesScan(auto.Backend, count, steps), layer.UsesAdjointScan(auto.Backend, count, steps)), Is.EqualTo((true, false)));
        }

        var rng = new Random(4);
        float[] x = Enumerable.Range(0, count * steps).Select(_ => (float)((rng.NextDouble() * 2) - 1)).ToArray();
        float[] y = Enumerable.Range(0, count * steps).Select(i => (float)Math.Sin(0.1 * i)).ToArray();
        var data = SequenceDataset.ForRegression(x, y, count, steps, 1, 1, sequenceTargets: true);
        var (autoLoss, autoGrad) = Gradients(auto, data, p);
        foreach (var (name, other) in new[] { ("sequential", sequential), ("scan", scan) })
        {
            var (loss, grad) = Gradients(other, data, p);
            Assert.That(autoLoss, Is.EqualTo(loss).Within(1e-5 * Math.Abs(loss)), $"loss against {name}");
            double scale = grad.Max(Math.Abs);
            double worst = autoGrad.Zip(grad, (a, b) => Math.Abs(a - b)).Max();
            Assert.That(scale, Is.GreaterThan(0));
            Assert.That(worst, Is.LessThanOrEqualTo(1e-4 * scale), $"against {name}: max |Δg| = {worst:E2}, max |g| = {scale:E2}");
        }
    }

    [Test]
    public void Auto_AgreesWithLinearMemoryRule([Values(false, true)] bool simulator)
    {
        // The training layer asks the engines' rules without building an engine; LinearMemory asks its engine.
        var device = simulator ? Simulator : Host;
        using var model = new LmuModel(device, 1)
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 1, Units = 4, Order = 16, Theta = 100, MemoryChannels = 2 })
            .AddDense(1);
        model.GetParameters();
        var layer = model.Layers.OfType<FeedforwardModelLayer>().Single();
        foreach (int batch in new[] { 1, 4, 6, 8 })
        {
            using var memory = new LinearMemory(device, LmuSystem.Create(16, 100), batch, channels: 2);
            foreach (int steps in new[] { 10, 100, 1_000, 10_000 })
            {
                Assert.That(layer.UsesScan(model.Backend, batch, steps), Is.EqualTo(memory.ResolveAuto(steps) == SequenceMethod.Scan),
                    $"B = {batch}, T = {steps}");
                // A fixed θ's adjoint needs no λ: the layer follows RunInputGradient's rule.
                Assert.That(layer.UsesAdjointScan(model.Backend, batch, steps),
                    Is.EqualTo(memory.ResolveAutoInputGradient(steps) == SequenceMethod.Scan), $"adjoint, B = {batch}, T = {steps}");
            }
        }
    }

    [Test]
    public void TrainableTheta_ByTheScan_MatchesSequential([Values(false, true)] bool simulator)
    {
        // Scan with a trainable θ (ZOH with two channels, then Euler with three, chunks of 5 with a short last one): every gradient,
        // θ included, against the same model stepped in order; Auto keeps a trainable θ sequential.
        var device = simulator ? Simulator : Host;
        const int count = 4, steps = 23;
        LmuModel Build(SequenceMethod method)
        {
            var model = new LmuModel(device, 2, returnSequences: true, seed: 3) { SequenceMethod = method }
                .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 2, Units = 5, Order = 6, Theta = 9, MemoryChannels = 2, MemoryBias = true, Activation = Activation.Tanh, TrainableTheta = true })
                .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 5, Units = 3, Order = 4, Theta = 12, MemoryChannels = 3, Discretizer = Discretizer.Euler, Dt = 0.5, Activation = Activation.Tanh, TrainableTheta = true })
                .AddDense(2);
            foreach (var layer in model.Layers.OfType<FeedforwardModelLayer>())
            {
                layer.ScanChunkLength = 5;
            }

            return model;
        }

        using var scan = Build(SequenceMethod.Scan);
        using var sequential = Build(SequenceMethod.Sequential);
        using var auto = Build(SequenceMethod.Auto);
        var layers = scan.Layers.OfType<FeedforwardModelLayer>().ToArray();
        var data = Data(count, steps, scan.OutputSize, returnSequences: true);
        float[] p = scan.ParametersWithNoise(seed: 6, width: 0.4);
        Assert.Multiple(() =>
        {
            Assert.That(layers.All(l => l.UsesScan(scan.Backend, count, steps) && l.UsesAdjointScan(scan.Backend, count, steps)), Is.True);
            Assert.That(auto.Layers.OfType<FeedforwardModelLayer>().Any(l => l.UsesScan(auto.Backend, count, 100_000)), Is.False,
                "Auto: a trainable θ stays sequential");
        });

        var (scanLoss, scanGrad) = Gradients(scan, data, p);
        var (seqLoss, seqGrad) = Gradients(sequential, data, p);
        Assert.That(scanLoss, Is.EqualTo(seqLoss).Within(1e-5 * Math.Abs(seqLoss)), "loss");
        double scale = seqGrad.Max(Math.Abs);
        double worst = scanGrad.Zip(seqGrad, (a, b) => Math.Abs(a - b)).Max();
        Assert.That(worst, Is.LessThanOrEqualTo(1e-4 * scale), $"max |Δg| = {worst:E2}, max |g| = {scale:E2}");
        foreach (var layer in layers)
        {
            float expected = seqGrad[layer.ThetaIndex];
            Assert.That(expected, Is.Not.EqualTo(0f), "θ has a gradient");
            Assert.That(scanGrad[layer.ThetaIndex], Is.EqualTo(expected).Within(1e-4 * Math.Abs(expected)), $"θ of the {layer.Options.Discretizer} layer");
        }
    }

    [Test]
    public void SequenceMethod_ThrowsForUndefinedValue()
    {
        using var model = new LmuModel(Host, 1);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => model.SequenceMethod = (SequenceMethod)7);
        Assert.That(ex!.ParamName, Is.EqualTo("value"));
    }
}
