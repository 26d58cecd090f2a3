using Lmu.Gpu.Kernels.Cell;

namespace Lmu.Gpu;

/// <summary>Activation functions of the LMU hidden state and of dense layers.</summary>
public enum Activation
{
    /// <summary>tanh (the paper's default).</summary>
    Tanh = ActivationCode.Tanh,

    /// <summary>Identity.</summary>
    Linear = ActivationCode.Linear,

    /// <summary>max(0, x).</summary>
    Relu = ActivationCode.Relu,

    /// <summary>Logistic sigmoid 1 / (1 + e^−x).</summary>
    Sigmoid = ActivationCode.Sigmoid,
}

/// <summary>Parsing and evaluation helpers for <see cref="Activation"/>.</summary>
public static class ActivationExtensions
{
    /// <summary>Parses tanh, linear, relu or sigmoid (case-insensitive).</summary>
    /// <param name="name">The name.</param>
    /// <returns>The activation.</returns>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    public static Activation Parse(string name) => name?.Trim().ToUpperInvariant() switch
    {
        "TANH" => Activation.Tanh,
        "LINEAR" or "NONE" or "IDENTITY" => Activation.Linear,
        "RELU" => Activation.Relu,
        "SIGMOID" => Activation.Sigmoid,
        _ => throw new ArgumentException($"Unknown activation '{name}'; use tanh, linear, relu or sigmoid.", nameof(name)),
    };

    /// <summary>f(z) in double precision (the reference).</summary>
    /// <param name="activation">The activation.</param>
    /// <param name="z">The pre-activation.</param>
    /// <returns>f(z).</returns>
    public static double Apply(this Activation activation, double z) => activation switch
    {
        Activation.Tanh => Math.Tanh(z),
        Activation.Relu => z > 0 ? z : 0,
        Activation.Sigmoid => 1 / (1 + Math.Exp(-z)),
        _ => z,
    };

    /// <summary>Applies the activation in place over a span (SIMD).</summary>
    internal static void ApplyInPlace(this Activation activation, Span<float> values)
    {
        switch (activation)
        {
            case Activation.Tanh:
                System.Numerics.Tensors.TensorPrimitives.Tanh(values, values);
                break;
            case Activation.Sigmoid:
                System.Numerics.Tensors.TensorPrimitives.Sigmoid(values, values);
                break;
            case Activation.Relu:
                System.Numerics.Tensors.TensorPrimitives.Max(values, 0f, values);
                break;
        }
    }

    /// <summary>dz = dy·f′ with f′ taken from the outputs y.</summary>
    internal static void Backward(this Activation activation, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dz)
    {
        switch (activation)
        {
            case Activation.Tanh:
                for (int i = 0; i < y.Length; i++)
                {
                    dz[i] = dy[i] * (1f - (y[i] * y[i]));
                }

                break;
            case Activation.Sigmoid:
                for (int i = 0; i < y.Length; i++)
                {
                    dz[i] = dy[i] * y[i] * (1f - y[i]);
                }

                break;
            case Activation.Relu:
                for (int i = 0; i < y.Length; i++)
                {
                    dz[i] = y[i] > 0 ? dy[i] : 0f;
                }

                break;
            default:
                dy.CopyTo(dz);
                break;
        }
    }
}
