using Lmu.Gpu;
using Lmu.Gpu.Training;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Training;

/// <summary>
/// Analytic gradients (float32: BPTT kernels on the CPU simulator, and the host path) of every parameter — θ
/// included when trainable — against central finite differences of the double-precision reference model.
/// Tolerance: |g − g_fd| ≤ 2e-3·|g_fd| + 1e-3·max|g_fd| for every parameter.
/// </summary>
[TestFixture]
public sealed class GradientCheckTests : SimulatorAndHostFixture
{

    public enum Net
    {
        CellZohTrainableTheta,
        CellEulerTrainableTheta,
        StackedCellsClassification,
        FeedforwardTrainableTheta,
        FeedforwardIntoCellEuler,
        SigmoidCellReluDense,
        FeedforwardLastStepImpulse,
        FeedforwardLastStepTrainableTheta,
        FeedforwardScan,
        FeedforwardSequentialFixedTheta,
        FeedforwardScanTrainableTheta,
        BidirectionalCellsIntoCell,
        BidirectionalFeedforwardLastStep,
        BidirectionalFeedforwardScan,
        BidirectionalMeanCellsAndSumLastStep,
    }

    private LmuDevice Device(bool simulator) => simulator ? Simulator : Host;

    private static LmuModel Build(LmuDevice device, Net net, int inputSize)
    {
        switch (net)
        {
            case Net.CellZohTrainableTheta:
                return new LmuModel(device, inputSize, returnSequences: true)
                    .AddLmu(new LmuCellOptions { InputSize = inputSize, Units = 4, Order = 3, Theta = 5, MemoryChannels = 2, MemoryBias = true, HiddenBias = true, TrainableTheta = true })
                    .AddDense(2);
            case Net.CellEulerTrainableTheta:
                return new LmuModel(device, inputSize, returnSequences: true)
                    .AddLmu(new LmuCellOptions { InputSize = inputSize, Units = 3, Order = 2, Theta = 6, Discretizer = Discretizer.Euler, HiddenBias = true, TrainableTheta = true })
                    .AddDense(1, Activation.Tanh);
            case Net.StackedCellsClassification:
                return new LmuModel(device, inputSize, returnSequences: false)
                    .AddLmu(new LmuCellOptions { InputSize = inputSize, Units = 3, Order = 2, Theta = 4, MemoryBias = true })
                    .AddLmu(new LmuCellOptions { InputSize = 3, Units = 4, Order = 3, Theta = 6, MemoryChannels = 2, HiddenBias = true, TrainableTheta = true })
                    .AddDense(3);
            case Net.FeedforwardTrainableTheta:
                return new LmuModel(device, inputSize, returnSequences: true)
                    .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = inputSize, Units = 4, Order = 3, Theta = 5, MemoryChannels = 2, MemoryBias = true, Activation = Activation.Tanh, TrainableTheta = true })
                    .AddDense(2);
            case Net.FeedforwardIntoCellEuler:
                return new LmuModel(device, inputSize, returnSequences: false)
                    .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = inputSize, Units = 3, Order = 2, Theta = 6, Discretizer = Discretizer.Euler, Activation = Activation.Tanh, TrainableTheta = true })
                    .AddLmu(new LmuCellOptions { InputSize = 3, Units = 3, Order = 2, Theta = 4, HiddenToHidden = false, MemoryToMemory = false })
                    .AddDense(3);
            case Net.FeedforwardLastStepImpulse:
                // The last layer outputs at the last step only through the impulse-response product.
                return new LmuModel(device, inputSize, returnSequences: false)
                    .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = inputSize, Units = 3, Order = 2, Theta = 4, Activation = Activation.Tanh, TrainableTheta = true })
                    .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 3, Units = 4, Order = 3, Theta = 5, MemoryChannels = 2, MemoryBias = true, Activation = Activation.Tanh })
                    .AddDense(3);
            case Net.FeedforwardLastStepTrainableTheta:
                // Last step only, but θ is trained: the memory sequence and its adjoint still run.
                return new LmuModel(device, inputSize, returnSequences: false)
                    .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = inputSize, Units = 3, Order = 2, Theta = 4, Activation = Activation.Tanh })
                    .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 3, Units = 4, Order = 3, Theta = 6, MemoryChannels = 2, MemoryBias = true, Activation = Activation.Tanh, TrainableTheta = true })
                    .AddDense(3);
            case Net.FeedforwardScan:
                // Fixed θ, memories by the chunked scan (chunks of 3: several per sequence, a short last one at T = 8).
                var scan = new LmuModel(device, inputSize, returnSequences: true) { SequenceMethod = SequenceMethod.Scan }
                    .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = inputSize, Units = 4, Order = 3, Theta = 5, MemoryChannels = 2, MemoryBias = true, Activation = Activation.Tanh })
                    .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 4, Units = 3, Order = 2, Theta = 4, Discretizer = Discretizer.Euler, Activation = Activation.Tanh })
                    .AddDense(2);
                foreach (var layer in scan.Layers.OfType<FeedforwardModelLayer>())
                {
                    layer.ScanChunkLength = 3;
                }

                return scan;
            case Net.FeedforwardScanTrainableTheta:
                // θ trained through the scan (its λ and two outer-product sums), ZOH with two channels and Euler, chunks of 3.
                var thetaScan = new LmuModel(device, inputSize, returnSequences: true) { SequenceMethod = SequenceMethod.Scan }
                    .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = inputSize, Units = 4, Order = 3, Theta = 5, MemoryChannels = 2, MemoryBias = true, Activation = Activation.Tanh, TrainableTheta = true })
                    .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 4, Units = 3, Order = 2, Theta = 6, Discretizer = Discretizer.Euler, Activation = Activation.Tanh, TrainableTheta = true })
                    .AddDense(2);
                foreach (var layer in thetaScan.Layers.OfType<FeedforwardModelLayer>())
                {
                    layer.ScanChunkLength = 3;
                }

                return thetaScan;
            case Net.FeedforwardSequentialFixedTheta:
                // Fixed θ stepped in order: on the host, from three memories (here B·k = 6 at count 3) the memory and
                // its adjoint run in groups of eight (HostSequence), the adjoint without a λ output.
                return new LmuModel(device, inputSize, returnSequences: true) { SequenceMethod = SequenceMethod.Sequential }
                    .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = inputSize, Units = 4, Order = 3, Theta = 5, MemoryChannels = 2, MemoryBias = true, Activation = Activation.Tanh })
                    .AddDense(2);
            case Net.BidirectionalCellsIntoCell:
                // A bidirectional pair of cells (different shapes, one trainable θ) first, a cell after it: the pair's
                // outputs at every step, no input gradient.
                return new LmuModel(device, inputSize, returnSequences: true)
                    .AddBidirectional(
                        new LmuCellOptions { InputSize = inputSize, Units = 3, Order = 2, Theta = 5, MemoryBias = true, TrainableTheta = true },
                        new LmuCellOptions { InputSize = inputSize, Units = 2, Order = 3, Theta = 4, MemoryChannels = 2, HiddenBias = true })
                    .AddLmu(new LmuCellOptions { InputSize = 5, Units = 3, Order = 2, Theta = 4, HiddenBias = true })
                    .AddDense(2);
            case Net.BidirectionalFeedforwardLastStep:
                // A feedforward layer into a bidirectional pair that outputs at the last step only (classification): the
                // pair's input gradient adds the backward layer's, reversed back, to the forward layer's.
                return new LmuModel(device, inputSize, returnSequences: false)
                    .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = inputSize, Units = 3, Order = 2, Theta = 4, Activation = Activation.Tanh })
                    .AddBidirectional(
                        new FeedforwardLmuOptions { InputSize = 3, Units = 2, Order = 3, Theta = 6, MemoryBias = true, Activation = Activation.Tanh, TrainableTheta = true },
                        new FeedforwardLmuOptions { InputSize = 3, Units = 3, Order = 2, Theta = 5, MemoryChannels = 2, Activation = Activation.Tanh })
                    .AddDense(3);
            case Net.BidirectionalFeedforwardScan:
                // Both memories of a pair by the chunked scan (chunks of 3), the pair after a cell.
                var pairScan = new LmuModel(device, inputSize, returnSequences: true) { SequenceMethod = SequenceMethod.Scan }
                    .AddLmu(new LmuCellOptions { InputSize = inputSize, Units = 3, Order = 2, Theta = 4 })
                    .AddBidirectional(new FeedforwardLmuOptions { InputSize = 3, Units = 2, Order = 3, Theta = 5, MemoryBias = true, Activation = Activation.Tanh })
                    .AddDense(2);
                foreach (var layer in pairScan.Layers.SelectMany(l => l.Parts).OfType<FeedforwardModelLayer>())
                {
                    layer.ScanChunkLength = 3;
                }

                return pairScan;
            case Net.BidirectionalMeanCellsAndSumLastStep:
                // The mean of a pair of cells into the sum of a last-step feedforward pair (merges other than side by side).
                return new LmuModel(device, inputSize, returnSequences: false)
                    .AddBidirectional(
                        new LmuCellOptions { InputSize = inputSize, Units = 3, Order = 2, Theta = 5, MemoryBias = true, TrainableTheta = true },
                        new LmuCellOptions { InputSize = inputSize, Units = 3, Order = 3, Theta = 4, HiddenBias = true }, BidirectionalMerge.Average)
                    .AddBidirectional(
                        new FeedforwardLmuOptions { InputSize = 3, Units = 2, Order = 3, Theta = 6, Activation = Activation.Tanh },
                        new FeedforwardLmuOptions { InputSize = 3, Units = 2, Order = 2, Theta = 5, Activation = Activation.Tanh, TrainableTheta = true }, BidirectionalMerge.Sum)
                    .AddDense(3);
            default:
                return new LmuModel(device, inputSize, returnSequences: true)
                    .AddLmu(new LmuCellOptions { InputSize = inputSize, Units = 4, Order = 3, Theta = 5, Activation = Activation.Sigmoid, HiddenBias = true })
                    .AddDense(3, Activation.Relu)
                    .AddDense(2);
        }
    }

    private static SequenceDataset Data(LmuModel model, int count, int steps, int seed)
    {
        var rng = new Random(seed);
        var x = new float[count * steps * model.InputSize];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)((rng.NextDouble() * 2) - 1);
        }

        if (!model.ReturnSequences && model.OutputSize == 3)
        {
            var labels = Enumerable.Range(0, count).Select(_ => rng.Next(3)).ToArray();
            return SequenceDataset.ForClassification(x, labels, count, steps, model.InputSize, 3);
        }

        var y = new float[count * (model.ReturnSequences ? steps : 1) * model.OutputSize];
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = (float)((rng.NextDouble() * 2) - 1);
        }

        return SequenceDataset.ForRegression(x, y, count, steps, model.InputSize, model.OutputSize, model.ReturnSequences);
    }

    /// <summary>Central finite differences of <paramref name="loss"/> at <paramref name="pd"/> for every parameter but
    /// the frozen θs (step 1e-5, relative 1e-4 for θ), and the analytic <paramref name="grad"/> held to them:
    /// |g − g_fd| ≤ 2e-3·|g_fd| + 1e-3·max|g_fd|.</summary>
    /// <returns>The differences and how many parameters were checked.</returns>
    internal static (double[] Differences, int Checked) AssertMatchesFiniteDifferences(float[] grad, double[] pd, HashSet<int> thetas, HashSet<int> frozen, Func<double[], double> loss)
    {
        var fd = new double[pd.Length];
        for (int i = 0; i < pd.Length; i++)
        {
            if (frozen.Contains(i))
            {
                continue;
            }

            double h = thetas.Contains(i) ? 1e-4 * pd[i] : 1e-5;
            double keep = pd[i];
            pd[i] = keep + h;
            double plus = loss(pd);
            pd[i] = keep - h;
            double minus = loss(pd);
            pd[i] = keep;
            fd[i] = (plus - minus) / (2 * h);
        }

        double scale = fd.Max(Math.Abs);
        Assert.That(scale, Is.GreaterThan(0));
        int checkedCount = 0;
        foreach (int i in Enumerable.Range(0, pd.Length).Where(i => !frozen.Contains(i)))
        {
            double tolerance = (2e-3 * Math.Abs(fd[i])) + (1e-3 * scale);
            Assert.That(grad[i], Is.EqualTo(fd[i]).Within(tolerance), $"parameter {i}{(thetas.Contains(i) ? " (θ)" : string.Empty)}");
            checkedCount++;
        }

        return (fd, checkedCount);
    }

    internal static HashSet<int> FrozenThetas(LmuModel model)
    {
        var frozen = new HashSet<int>();
        foreach (var layer in model.Layers.SelectMany(l => l.Parts))
        {
            if (layer is CellModelLayer c && !c.Options.TrainableTheta)
            {
                frozen.Add(c.ThetaIndex);
            }

            if (layer is FeedforwardModelLayer f && !f.Options.TrainableTheta)
            {
                frozen.Add(f.ThetaIndex);
            }
        }

        return frozen;
    }

    internal static HashSet<int> Thetas(LmuModel model) =>
        model.Layers.SelectMany(l => l.Parts).Select(l => l switch { CellModelLayer c => c.ThetaIndex, FeedforwardModelLayer f => f.ThetaIndex, _ => -1 }).Where(i => i >= 0).ToHashSet();

    private void Check(Net net, bool simulator, int count, int steps) => CheckGradients(Device(simulator), net, count, steps);

    internal static void CheckGradients(LmuDevice device, Net net, int count, int steps, Action<LmuModel>? configure = null)
    {
        using var model = Build(device, net, inputSize: 2);
        configure?.Invoke(model);
        var data = Data(model, count, steps, 11);
        // Random non-zero values in every tensor (the initialisers leave e_m and biases at zero). Getting the parameters
        // builds the model, which assigns the layer offsets that the θ sets below read.
        float[] p = model.ParametersWithNoise(seed: 5, width: 0.6);
        var thetas = Thetas(model);
        var frozen = FrozenThetas(model);

        model.SetParameters(p);
        int lossFrom = model.ReturnSequences ? 2 : 0;
        int[] indices = Enumerable.Range(0, count).ToArray();
        var grad = new float[p.Length];
        double loss = model.ComputeGradients(data, indices, lossFrom, grad);

        double[] pd = p.Select(v => (double)v).ToArray();
        double refLoss = ModelReference.Loss(model, pd, data, indices, lossFrom);
        Assert.That(loss, Is.EqualTo(refLoss).Within(1e-5 * Math.Max(1, Math.Abs(refLoss))), "loss vs double reference");

        var (fd, checkedCount) = AssertMatchesFiniteDifferences(grad, pd, thetas, frozen, q => ModelReference.Loss(model, q, data, indices, lossFrom));
        foreach (int i in thetas.Where(i => !frozen.Contains(i)))
        {
            Assert.That(Math.Abs(fd[i]), Is.GreaterThan(0), "θ must influence the loss");
        }

        Assert.That(checkedCount, Is.GreaterThan(10));
    }

    [Test]
    public void Gradients_MatchFiniteDifferences_Host([Values] Net net) => Check(net, simulator: false, count: 3, steps: 12);

    [Test]
    public void Gradients_MatchFiniteDifferences_CpuSimulator([Values] Net net) => Check(net, simulator: true, count: 2, steps: 8);

    [Test]
    public void Gradients_MatchFiniteDifferences_CpuSimulatorDenseProducts([Values] Net net)
    {
        // Every dense product of the model on the blocked product kernel (forced on: these sizes are far below its
        // automatic threshold), the shifted recurrent sums excepted.
        DeviceBackend? backend = null;
        CheckGradients(Simulator, net, count: 2, steps: 8, model =>
        {
            backend = (DeviceBackend)model.Backend;
            backend.DenseProductUse = ProductUse.Always;
        });
        Assert.That(backend!.DenseProducts, Is.GreaterThan(0));
    }
}
