namespace Lmu.Gpu.Training;

/// <summary>The optimiser.</summary>
public enum OptimizerKind
{
    /// <summary>Adam (Kingma &amp; Ba), Keras defaults β₁ = 0.9, β₂ = 0.999, ε = 1e-7.</summary>
    Adam,

    /// <summary>Plain stochastic gradient descent.</summary>
    Sgd,
}
