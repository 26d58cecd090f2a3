using BenchmarkDotNet.Attributes;
using Lmu.Gpu.Training;

namespace Lmu.Gpu.Benchmarks.Training;

/// <summary>
/// One training step (forward, backpropagation, Adam) of a sequence-to-sequence feedforward LMU — Chilkuri &amp;
/// Eliasmith's layer, FeedforwardLmu(64 units, order d, θ = T/2) + Dense(1), outputs and loss at every step, B = 16
/// sequences of T steps — with its memory and the memory's adjoint evaluated sequentially or by the chunked scan
/// (<see cref="LmuModel.SequenceMethod"/>), or as auto decides for each. θ is fixed. The device is
/// <c>$LMU_ACCELERATOR</c> (default cpu, the host path).
/// </summary>
[MemoryDiagnoser(false)]
public class FeedforwardSequenceBenchmarks
{
    private LmuDevice _device = null!;
    private LmuModel _model = null!;
    private SequenceDataset _data = null!;
    private FitOptions _options = null!;

    /// <summary>Order d of the memory.</summary>
    [Params(64, 256)]
    public int Order { get; set; }

    /// <summary>Sequence length T.</summary>
    [Params(1_000, 4_000)]
    public int Steps { get; set; }

    /// <summary>sequential, scan or auto.</summary>
    [Params("sequential", "scan", "auto")]
    public string Method { get; set; } = "scan";

    /// <summary>Builds the model and one batch, and runs one warm-up step (kernel compilation, scan plans).</summary>
    [GlobalSetup]
    public void Setup()
    {
        const int batch = 16;
        _device = LmuDevice.Open(Environment.GetEnvironmentVariable("LMU_ACCELERATOR") ?? "cpu");
        _model = new LmuModel(_device, 1, returnSequences: true) { SequenceMethod = SequenceMethodParser.ParseMethod(Method) }
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 1, Units = 64, Order = Order, Theta = Steps / 2.0 })
            .AddDense(1);
        var rng = new Random(1);
        var x = new float[batch * Steps];
        var y = new float[batch * Steps];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)(rng.NextDouble() * 2 - 1);
            y[i] = i % Steps >= 10 ? x[i - 10] : 0;
        }

        _data = SequenceDataset.ForRegression(x, y, batch, Steps, 1, 1, sequenceTargets: true);
        _options = new FitOptions { Epochs = 1, BatchSize = batch, Shuffle = false };
        _model.Fit(_data, _options);
    }

    /// <summary>One training step on one mini-batch of 16 sequences.</summary>
    /// <returns>The loss.</returns>
    [Benchmark]
    public double TrainStep() => _model.Fit(_data, _options)[0].TrainLoss;

    /// <summary>Releases the model and the device.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _model.Dispose();
        _device.Dispose();
    }
}
