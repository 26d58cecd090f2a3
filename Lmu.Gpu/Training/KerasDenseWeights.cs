namespace Lmu.Gpu.Training;

/// <summary>A Keras <c>Dense</c> layer's weights, for <see cref="LmuModel.ImportKeras(int, KerasDenseWeights)"/>.</summary>
public sealed record KerasDenseWeights
{
    /// <summary><c>kernel</c> [inputs, units], row-major.</summary>
    public required float[] Kernel { get; init; }

    /// <summary><c>bias</c> [units], or null (<c>use_bias=False</c>: zero).</summary>
    public float[]? Bias { get; init; }
}
