namespace Lmu.Gpu.Training;

/// <summary>Loss and accuracy of <see cref="LmuModel.Evaluate"/>.</summary>
/// <param name="Loss">Mean loss: per sequence, or per counted step for per-step targets with per-sequence lengths.</param>
/// <param name="Accuracy">Accuracy (NaN for regression).</param>
public readonly record struct Evaluation(double Loss, double Accuracy);
