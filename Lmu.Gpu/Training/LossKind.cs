namespace Lmu.Gpu.Training;

/// <summary>What the model is trained to minimise.</summary>
public enum LossKind
{
    /// <summary>Mean squared error over every counted output.</summary>
    MeanSquaredError,

    /// <summary>Softmax cross-entropy over class logits (integer labels).</summary>
    SoftmaxCrossEntropy,
}
