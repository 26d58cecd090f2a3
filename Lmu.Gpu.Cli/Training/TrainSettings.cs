using System.Diagnostics;
using System.Globalization;
using Lmu.Gpu.Training;

namespace Lmu.Gpu.Cli.Training;

/// <summary>Settings shared by the <c>lmu train</c> tasks; null values mean the task's default (quick or full).</summary>
public sealed record TrainSettings
{
    /// <summary>auto, cpu, cuda, opencl, cpu-sim, or null for $LMU_ACCELERATOR / auto.</summary>
    public string? Accelerator { get; init; }

    /// <summary>Seed of data, initialisation and shuffling.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>CI-sized run: small model, small data.</summary>
    public bool Quick { get; init; }

    /// <summary>Epochs.</summary>
    public int? Epochs { get; init; }

    /// <summary>Mini-batch size.</summary>
    public int? BatchSize { get; init; }

    /// <summary>Learning rate.</summary>
    public double? LearningRate { get; init; }

    /// <summary>Gradient clipping by global norm (0: none).</summary>
    public double ClipNorm { get; init; }

    /// <summary>Early stopping: epochs without a better validation loss before training stops (0: never).</summary>
    public int Patience { get; init; }

    /// <summary>Where to save the weights (after every good epoch).</summary>
    public string? SavePath { get; init; }

    /// <summary>A model file whose weights the run starts from (same task and model), or null.</summary>
    public string? ResumePath { get; init; }

    /// <summary>Where to write the learning-curve PNG.</summary>
    public string? PlotPath { get; init; }

    /// <summary>Show the live progress line.</summary>
    public bool Progress { get; init; } = true;

    /// <summary>psmnist: directory with the IDX files (default: Debian's dataset-fashion-mnist).</summary>
    public string? DataDirectory { get; init; }

    /// <summary>psmnist: paper (LMU cell n = 212, d = 256, θ = 784) or feedforward.</summary>
    public string Model { get; init; } = "paper";

    /// <summary>psmnist: use at most this many training images (0: all).</summary>
    public int TrainLimit { get; init; }

    /// <summary>psmnist: use at most this many test images (0: all).</summary>
    public int TestLimit { get; init; }

    /// <summary>capacity: steps per window θ (T).</summary>
    public int? Window { get; init; }

    /// <summary>Truncated backpropagation through time in windows of this many steps (0: whole sequences;
    /// <see cref="Lmu.Gpu.Training.FitOptions.TruncatedSteps"/>).</summary>
    public int TruncatedSteps { get; init; }

    /// <summary>npz: the training data (<see cref="TrainTasks.Npz"/>).</summary>
    public string? DataPath { get; init; }

    /// <summary>npz: the test data, or null.</summary>
    public string? TestPath { get; init; }

    /// <summary>npz: the layers, each as <see cref="LayerSpec"/> reads them.</summary>
    public IReadOnlyList<string> Layers { get; init; } = [];

    /// <summary>npz: the fraction of the training sequences (the last ones) held out for validation.</summary>
    public double ValidationSplit { get; init; }

    /// <summary>npz: per-step targets count from this step on.</summary>
    public int LossFromStep { get; init; }

    /// <summary>npz: batch sequences of similar length (<see cref="Lmu.Gpu.Training.FitOptions.BucketByLength"/>).</summary>
    public bool BucketByLength { get; init; }

    /// <summary>Stops training between mini-batches (<c>lmu train</c>: the first Ctrl+C or SIGTERM); the task then
    /// throws <see cref="TrainingStoppedException"/>.</summary>
    public CancellationToken Cancellation { get; init; }
}
