namespace Lmu.Gpu.Training;

/// <summary>One epoch's numbers.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="TrainLoss">Mean training loss over the epoch (per sequence; with per-step targets of different lengths, per counted step), each batch at the weights it was run with.</param>
/// <param name="TrainAccuracy">Training accuracy (NaN for regression).</param>
/// <param name="ValidationLoss">Validation loss (NaN without a validation set).</param>
/// <param name="ValidationAccuracy">Validation accuracy (NaN without one, or for regression).</param>
/// <param name="Seconds">Wall time of the epoch.</param>
public readonly record struct EpochResult(int Epoch, double TrainLoss, double TrainAccuracy, double ValidationLoss, double ValidationAccuracy, double Seconds)
{
    /// <summary>The learning rate of the epoch (<see cref="FitOptions.LearningRate"/>, or what
    /// <see cref="FitOptions.LearningRateSchedule"/> gave).</summary>
    public double LearningRate { get; init; }
}
