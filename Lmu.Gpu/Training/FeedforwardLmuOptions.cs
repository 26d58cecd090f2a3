namespace Lmu.Gpu.Training;

/// <summary>
/// The feedforward LMU layer (keras-lmu <c>LMUFeedforward</c> with a dense hidden layer; Chilkuri &amp; Eliasmith
/// 2021): the memory is driven by the input only, u_t = e_x·x_t + b_u, m_t = Ā·m_{t−1} + B̄·u_t (k channels), and
/// the output is h_t = f(W_m·m_t + W_x·x_t + b_h). With no recurrence through h the memory sequence can be evaluated
/// in parallel over time.
/// </summary>
public sealed record FeedforwardLmuOptions
{
    /// <summary>Input features n_x per step.</summary>
    public required int InputSize { get; init; }

    /// <summary>Output units n.</summary>
    public required int Units { get; init; }

    /// <summary>Memory order d.</summary>
    public required int Order { get; init; }

    /// <summary>Window θ in units of <see cref="Dt"/>.</summary>
    public required double Theta { get; init; }

    /// <summary>Memory channels k.</summary>
    public int MemoryChannels { get; init; } = 1;

    /// <summary>Output activation f.</summary>
    public Activation Activation { get; init; } = Activation.Relu;

    /// <summary>W_x: the input also feeds the output directly.</summary>
    public bool InputToHidden { get; init; } = true;

    /// <summary>Bias on u.</summary>
    public bool MemoryBias { get; init; }

    /// <summary>Bias on the output.</summary>
    public bool HiddenBias { get; init; } = true;

    /// <summary>Discretisation.</summary>
    public Discretizer Discretizer { get; init; } = Discretizer.ZeroOrderHold;

    /// <summary>Time step.</summary>
    public double Dt { get; init; } = 1.0;

    /// <summary>θ is trained.</summary>
    public bool TrainableTheta { get; init; }

    /// <summary>k·d.</summary>
    public int MemorySize => MemoryChannels * Order;

    /// <summary>Trainable parameter count.</summary>
    public long TrainableParameterCount =>
        ((long)MemoryChannels * InputSize) + ((long)Units * MemorySize) + (InputToHidden ? (long)Units * InputSize : 0)
        + (MemoryBias ? MemoryChannels : 0) + (HiddenBias ? Units : 0) + (TrainableTheta ? 1 : 0);

    /// <summary>Checks every field.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size &lt; 1 or a bad θ/dt.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(InputSize, 1, nameof(InputSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(Units, 1, nameof(Units));
        ArgumentOutOfRangeException.ThrowIfLessThan(MemoryChannels, 1, nameof(MemoryChannels));
        LmuSystem.ValidateOrder(Order);
        LmuSystem.ValidateTheta(Theta);
        if (!(Dt > 0) || double.IsInfinity(Dt))
        {
            throw new ArgumentOutOfRangeException(nameof(Dt), Dt, "dt must be a finite number > 0.");
        }

        if ((long)Units * MemorySize > int.MaxValue / 4)
        {
            throw new ArgumentOutOfRangeException(nameof(Units), Units, "The layer has too many weights for one array.");
        }
    }
}

/// <summary>What the model is trained to minimise.</summary>
public enum LossKind
{
    /// <summary>Mean squared error over every counted output.</summary>
    MeanSquaredError,

    /// <summary>Softmax cross-entropy over class logits (integer labels).</summary>
    SoftmaxCrossEntropy,
}

/// <summary>The optimiser.</summary>
public enum OptimizerKind
{
    /// <summary>Adam (Kingma &amp; Ba), Keras defaults β₁ = 0.9, β₂ = 0.999, ε = 1e-7.</summary>
    Adam,

    /// <summary>Plain stochastic gradient descent.</summary>
    Sgd,
}

/// <summary>Settings of <see cref="LmuModel.Fit"/>.</summary>
public sealed record FitOptions
{
    /// <summary>Passes over the training set.</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Sequences per mini-batch.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Optimiser.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;

    /// <summary>Adam β₁.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>Adam β₂.</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>Adam ε.</summary>
    public double Epsilon { get; init; } = 1e-7;

    /// <summary>Clip the global gradient norm to this value (0: no clipping).</summary>
    public double ClipNorm { get; init; }

    /// <summary>Shuffle the training set every epoch.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Seed of the shuffling.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Sequence outputs: steps before this one are not counted in the loss (washout).</summary>
    public int LossFromStep { get; init; }

    /// <summary>When set, the weights are saved here (atomically) after every epoch that ends with a finite loss
    /// and, with a validation set, the best validation loss so far.</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>With a validation set: at the end, restore the weights of the epoch with the lowest validation loss
    /// (as the paper's best-validation checkpoint).</summary>
    public bool KeepBestValidation { get; init; }

    /// <summary>Called after every mini-batch.</summary>
    public Action<TrainingProgress>? Progress { get; init; }

    /// <summary>Stops after this many mini-batches per epoch (0: all); for quick runs.</summary>
    public int MaxBatchesPerEpoch { get; init; }
}

/// <summary>Progress of <see cref="LmuModel.Fit"/> after one mini-batch.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Epochs">Total epochs.</param>
/// <param name="Batch">1-based mini-batch within the epoch.</param>
/// <param name="Batches">Mini-batches per epoch.</param>
/// <param name="Loss">Mean loss of the epoch so far.</param>
/// <param name="Accuracy">Accuracy of the epoch so far (NaN for regression).</param>
/// <param name="SequencesPerSecond">Training throughput so far.</param>
/// <param name="Elapsed">Time since Fit started.</param>
/// <param name="Remaining">Estimated time left.</param>
public readonly record struct TrainingProgress(int Epoch, int Epochs, int Batch, int Batches, double Loss, double Accuracy, double SequencesPerSecond, TimeSpan Elapsed, TimeSpan Remaining);

/// <summary>One epoch's numbers.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="TrainLoss">Mean training loss.</param>
/// <param name="TrainAccuracy">Training accuracy (NaN for regression).</param>
/// <param name="ValidationLoss">Validation loss (NaN without a validation set).</param>
/// <param name="ValidationAccuracy">Validation accuracy (NaN without one, or for regression).</param>
/// <param name="Seconds">Wall time of the epoch.</param>
public readonly record struct EpochResult(int Epoch, double TrainLoss, double TrainAccuracy, double ValidationLoss, double ValidationAccuracy, double Seconds);

/// <summary>Loss and accuracy of <see cref="LmuModel.Evaluate"/>.</summary>
/// <param name="Loss">Mean loss.</param>
/// <param name="Accuracy">Accuracy (NaN for regression).</param>
public readonly record struct Evaluation(double Loss, double Accuracy);

/// <summary>Training stopped because the loss or the gradients became NaN or infinite.</summary>
public sealed class TrainingDivergedException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public TrainingDivergedException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message.</param>
    public TrainingDivergedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="inner">The cause.</param>
    public TrainingDivergedException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
