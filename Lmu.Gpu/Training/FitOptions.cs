namespace Lmu.Gpu.Training;

/// <summary>Settings of <see cref="LmuModel.Fit"/>.</summary>
public sealed record FitOptions
{
    /// <summary>Passes over the training set.</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Sequences per mini-batch.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>The learning rate of each epoch (1-based), in place of <see cref="LearningRate"/>; null: the same rate
    /// throughout. For example a step decay, <c>e =&gt; 1e-3 * Math.Pow(0.5, (e - 1) / 10)</c>. It must give finite
    /// numbers &gt; 0. The rate each epoch used is in <see cref="EpochResult.LearningRate"/>.</summary>
    public Func<int, double>? LearningRateSchedule { get; init; }

    /// <summary>Optimiser.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;

    /// <summary>Adam β₁.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>Adam β₂.</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>Adam ε.</summary>
    public double Epsilon { get; init; } = 1e-7;

    /// <summary>Decoupled weight decay λ (AdamW, Loshchilov &amp; Hutter; 0: none): before each gradient step every
    /// weight and bias is multiplied by 1 − lr·λ. The θs of the LMU memories are left alone. With SGD this is L2
    /// regularisation of strength λ/2.</summary>
    public double WeightDecay { get; init; }

    /// <summary>Clip the global gradient norm to this value (0: no clipping).</summary>
    public double ClipNorm { get; init; }

    /// <summary>Shuffle the training set every epoch.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Seed of the shuffling.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Sequence outputs: steps before this one are not counted in the loss (washout).</summary>
    public int LossFromStep { get; init; }

    /// <summary>When set, a checkpoint (<see cref="LmuModel.SaveCheckpoint"/>: the weights and the optimiser state) is
    /// saved here, atomically, after every epoch that ends with a finite loss and, with a validation set, the best
    /// validation loss so far. <see cref="LmuModel.Load"/> of it continues training exactly where it stopped.</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>With a validation set: at the end, restore the weights of the epoch with the lowest validation loss
    /// (as the paper's best-validation checkpoint).</summary>
    public bool KeepBestValidation { get; init; }

    /// <summary>With a validation set: stop once the validation loss has not improved for this many epochs in a row
    /// (0: never). The history then ends at the epoch that stopped; with <see cref="KeepBestValidation"/> the weights
    /// of the best epoch are restored.</summary>
    public int EarlyStoppingPatience { get; init; }

    /// <summary>Called after every mini-batch.</summary>
    public Action<TrainingProgress>? Progress { get; init; }

    /// <summary>Stops after this many mini-batches per epoch (0: all); for quick runs.</summary>
    public int MaxBatchesPerEpoch { get; init; }

    /// <summary>For training data with per-sequence lengths (<see cref="SequenceDataset.WithLengths"/>): form each epoch's
    /// mini-batches from sequences of similar length (the shuffled order sorted by length, stably), and visit the
    /// batches in random order (with <see cref="Shuffle"/>). A batch runs only to its longest sequence, so short
    /// sequences no longer pay for the longest one in the data. The gradient of each batch is unchanged; what changes is
    /// which sequences share a batch.</summary>
    public bool BucketByLength { get; init; }

    /// <summary>Truncated backpropagation through time: each mini-batch of sequences runs in windows of this many steps,
    /// in order, each window starting from the states the previous one left (the first from zero) and taking its own
    /// optimiser step on the gradient of its own loss; no gradient flows across a window's start. The workspace holds
    /// one window, so a model trains on sequences of 10⁵ or 10⁶ steps in the memory of a window (0, or at least the
    /// sequences' length: whole sequences, as without it).</summary>
    /// <remarks>For models with targets at every step (<see cref="LmuModel.ReturnSequences"/>) and causal layers (no
    /// bidirectional layer); θ may be trained under zero-order hold, not under Euler. With
    /// <see cref="SequenceDataset.WithLengths"/> each window counts the real steps inside it, and a batch runs only the
    /// windows before its longest sequence ends. An epoch's loss is the mean over all windows' counted steps; each window
    /// that counts a step is one optimiser step and one dropout mask. Validation runs in windows too.</remarks>
    public int TruncatedSteps { get; init; }
}
