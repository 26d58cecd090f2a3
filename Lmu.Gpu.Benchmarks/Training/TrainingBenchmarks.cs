using BenchmarkDotNet.Attributes;
using Lmu.Gpu.Training;

namespace Lmu.Gpu.Benchmarks.Training;

/// <summary>
/// Training throughput: one optimiser step (forward, BPTT, Adam) on one mini-batch, device-resident weights. The
/// device is <c>$LMU_ACCELERATOR</c> (default auto: CUDA, then OpenCL, then the host path). Sequences per second =
/// batch / mean time. Shapes: <c>mackey-glass</c> (4 × LMU(49, d = 4, θ = 4) + Dense(1), B = 32, T = 1,000),
/// <c>psmnist-small</c> (LMU(32, d = 32, θ = 784) + Dense(10), B = 100, T = 784), <c>psmnist-paper</c> (LMU(212,
/// d = 256, θ = 784) + Dense(10), B = 100, T = 784), <c>psmnist-feedforward</c> (Chilkuri &amp; Eliasmith's
/// feedforward LMU(346, d = 468, θ = 784) + Dense(10), 166k parameters, B = 100, T = 784; output at the last step
/// only, so the memory is the impulse-response product).
/// </summary>
[MemoryDiagnoser]
public class TrainingBenchmarks
{
    private LmuDevice _device = null!;
    private LmuModel _model = null!;
    private SequenceDataset _data = null!;
    private FitOptions _options = null!;

    /// <summary>The model and batch shape.</summary>
    [Params("mackey-glass", "psmnist-small", "psmnist-paper", "psmnist-feedforward")]
    public string Shape { get; set; } = "psmnist-small";

    /// <summary>Builds the model and one batch of data, and runs one warm-up step (kernel compilation).</summary>
    [GlobalSetup]
    public void Setup()
    {
        _device = LmuDevice.Open((string?)null);
        var rng = new Random(1);
        switch (Shape)
        {
            case "mackey-glass":
            {
                _model = new LmuModel(_device, 1, returnSequences: true);
                for (int l = 0; l < 4; l++)
                {
                    _model.AddLmu(new LmuCellOptions { InputSize = _model.Width, Units = 49, Order = 4, Theta = 4 });
                }

                _model.AddDense(1);
                int b = 32;
                int t = 1000;
                _data = SequenceDataset.ForRegression(Random(rng, b * t), Random(rng, b * t), b, t, 1, 1, true);
                break;
            }

            default:
            {
                int units = Shape switch { "psmnist-small" => 32, "psmnist-feedforward" => 346, _ => 212 };
                int order = Shape switch { "psmnist-small" => 32, "psmnist-feedforward" => 468, _ => 256 };
                _model = new LmuModel(_device, 1, returnSequences: false);
                if (Shape == "psmnist-feedforward")
                {
                    _model.AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 1, Units = units, Order = order, Theta = 784 });
                }
                else
                {
                    _model.AddLmu(new LmuCellOptions { InputSize = 1, Units = units, Order = order, Theta = 784 });
                }

                _model.AddDense(10);
                int b = 100;
                _data = SequenceDataset.ForClassification(Random(rng, b * 784), Enumerable.Range(0, b).Select(i => i % 10).ToArray(), b, 784, 1, 10);
                break;
            }
        }

        _options = new FitOptions { Epochs = 1, BatchSize = _data.Count, Shuffle = false };
        _model.Fit(_data, _options);
    }

    /// <summary>One training step on one mini-batch.</summary>
    /// <returns>The loss.</returns>
    [Benchmark]
    public double TrainStep() => _model.Fit(_data, _options)[0].TrainLoss;

    /// <summary>Releases the model and device.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _model.Dispose();
        _device.Dispose();
    }

    private static float[] Random(Random rng, int n)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = (float)rng.NextDouble();
        }

        return x;
    }
}
