namespace Lmu.Gpu.Training;

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
