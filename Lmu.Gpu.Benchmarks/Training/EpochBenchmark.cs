using BenchmarkDotNet.Attributes;
using Lmu.Gpu.Training;

namespace Lmu.Gpu.Benchmarks.Training;

/// <summary>What the one-epoch training benchmarks share: a device, a model, its data and options, the timed epoch and
/// the cleanup. A subclass builds them in its <c>[GlobalSetup]</c>.</summary>
public abstract class EpochBenchmark
{
    /// <summary>The device (<c>$LMU_ACCELERATOR</c>, default auto).</summary>
    protected LmuDevice Device { get; set; } = null!;

    /// <summary>The model trained.</summary>
    protected LmuModel Model { get; set; } = null!;

    /// <summary>The training data.</summary>
    protected SequenceDataset TrainingData { get; set; } = null!;

    /// <summary>The options of one epoch.</summary>
    protected FitOptions Options { get; set; } = null!;

    /// <summary>Frees the model and the device.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        Model.Dispose();
        Device.Dispose();
    }

    /// <summary>One epoch of <see cref="LmuModel.Fit"/>.</summary>
    /// <returns>The epoch's training loss.</returns>
    [Benchmark]
    public double Epoch() => Model.Fit(TrainingData, Options)[0].TrainLoss;
}
