using BenchmarkDotNet.Attributes;
using Lmu.Gpu.Training;

namespace Lmu.Gpu.Benchmarks.Training;

/// <summary>
/// One training epoch on long sequences, whole or in windows (<see cref="FitOptions.TruncatedSteps"/>): 32 sequences
/// of T = 10,000 steps of band-limited noise, targets the input 500 steps earlier, an LMU cell (n = 32, d = 32,
/// θ = 1,000, input→hidden and memory→hidden only) + Dense(1), batches of 16, Adam. <see cref="Window"/>: 0 (whole
/// sequences: 2 optimiser steps per epoch, a 10,000-step workspace) or the window length (2·T/K steps per epoch, a
/// K-step workspace). The device is <c>$LMU_ACCELERATOR</c> (default auto).
/// </summary>
[MemoryDiagnoser]
public class TruncatedTrainingBenchmarks : EpochBenchmark
{
    private const int Count = 32, Steps = 10_000, Delay = 500;

    /// <summary>The window length K (0: whole sequences).</summary>
    [Params(0, 1000, 250)]
    public int Window { get; set; }

    /// <summary>Builds the data and the model, and runs one epoch untimed.</summary>
    [GlobalSetup]
    public void Setup()
    {
        Device = LmuDevice.Open((string?)null);
        var x = new float[Count * Steps];
        var y = new float[Count * Steps];
        for (int n = 0; n < Count; n++)
        {
            float[] signal = WhiteNoise.BandLimited(Steps, cyclesPerWindow: 3, windowSteps: 1000, seed: n + 1);
            signal.CopyTo(x, n * Steps);
            signal.AsSpan(0, Steps - Delay).CopyTo(y.AsSpan((n * Steps) + Delay));
        }

        TrainingData = SequenceDataset.ForRegression(x, y, Count, Steps, 1, 1, sequenceTargets: true);
        Options = new FitOptions { Epochs = 1, BatchSize = 16, Seed = 5, LearningRate = 1e-3, LossFromStep = Delay, TruncatedSteps = Window };
        Model = new LmuModel(Device, 1, returnSequences: true, seed: 3)
            .AddLmu(new LmuCellOptions
            {
                InputSize = 1, Units = 32, Order = 32, Theta = 1000, Activation = Activation.Linear,
                HiddenToHidden = false, HiddenToMemory = false, MemoryToMemory = false,
            })
            .AddDense(1);
        Model.Fit(TrainingData, Options);
    }
}
