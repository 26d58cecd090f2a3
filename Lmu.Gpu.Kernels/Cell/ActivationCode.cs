namespace Lmu.Gpu.Kernels.Cell;

/// <summary>Activation function codes shared by the kernels (same values as the host enum).</summary>
public static class ActivationCode
{
    /// <summary>tanh.</summary>
    public const int Tanh = 0;

    /// <summary>Identity.</summary>
    public const int Linear = 1;

    /// <summary>max(0, x).</summary>
    public const int Relu = 2;

    /// <summary>1 / (1 + e^−x).</summary>
    public const int Sigmoid = 3;
}
