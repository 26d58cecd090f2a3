using BenchmarkDotNet.Attributes;
using Lmu.Gpu.Training;

namespace Lmu.Gpu.Benchmarks.Training;

/// <summary>
/// One training epoch over sequences of different lengths padded to T = 1,000: 256 sequences with lengths
/// log-uniform over 50 … 1,000 (mean ≈ 330), an LMU cell (n = 64, d = 64, θ = 1,000, hidden-to-hidden only) + Dense(4)
/// classifier, batches of 32. <see cref="Data"/>: <c>padded</c> (no lengths: every sequence runs all T steps and the
/// output is taken at T − 1), <c>lengths</c> (<see cref="SequenceDataset.WithLengths"/>: each batch runs to its
/// longest sequence) and <c>bucketed</c> (lengths and <see cref="FitOptions.BucketByLength"/>). The device is
/// <c>$LMU_ACCELERATOR</c> (default auto).
/// </summary>
[MemoryDiagnoser]
public class SequenceLengthBenchmarks : EpochBenchmark
{
    private const int Count = 256, Steps = 1000;

    /// <summary>How the lengths are used.</summary>
    [Params("padded", "lengths", "bucketed")]
    public string Data { get; set; } = "bucketed";

    /// <summary>Builds the data and the model, and runs one epoch untimed.</summary>
    [GlobalSetup]
    public void Setup()
    {
        Device = LmuDevice.Open((string?)null);
        var rng = new Random(1);
        float[] x = [.. Enumerable.Range(0, Count * Steps).Select(_ => (float)((2 * rng.NextDouble()) - 1))];
        int[] labels = [.. Enumerable.Range(0, Count).Select(i => i % 4)];
        int[] lengths = [.. Enumerable.Range(0, Count).Select(_ => Math.Min(Steps, (int)Math.Round(50 * Math.Pow(20, rng.NextDouble()))))];
        TrainingData = SequenceDataset.ForClassification(x, labels, Count, Steps, 1, 4);
        if (Data != "padded")
        {
            TrainingData = TrainingData.WithLengths(lengths);
        }

        Options = new FitOptions { Epochs = 1, BatchSize = 32, Seed = 5, BucketByLength = Data == "bucketed" };
        Model = new LmuModel(Device, 1, returnSequences: false, seed: 3)
            .AddLmu(new LmuCellOptions
            {
                InputSize = 1, Units = 64, Order = 64, Theta = Steps, HiddenToMemory = false, MemoryToMemory = false, InputToHidden = false, HiddenToHidden = true,
            })
            .AddDense(4);
        Model.Fit(TrainingData, Options);
    }
}
