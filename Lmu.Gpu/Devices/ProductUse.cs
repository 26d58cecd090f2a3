namespace Lmu.Gpu;

/// <summary>When a device computes with a blocked matrix-product kernel instead of row kernels:
/// <list type="bullet">
/// <item>the scan's states from windows of inputs — phase A's chunk ends, the window start's carries and final states
/// (<see cref="Kernels.Memory.WindowGemmKernels.WindowProduct"/> instead of
/// <see cref="Kernels.Memory.ScanKernels.ChunkEnds"/> and <see cref="Kernels.Memory.WindowKernels.WindowStates"/>;
/// <c>$LMU_WINDOW_PRODUCT</c>);</item>
/// <item>training's dense products (<see cref="Kernels.Training.DenseProductKernels.Product"/> instead of
/// <see cref="Kernels.Training.TrainingKernels.DenseForward"/>, <see cref="Kernels.Training.TrainingKernels.DenseBackwardInput"/>
/// and <see cref="Kernels.Training.TrainingKernels.OuterChunked"/>; <c>$LMU_DENSE_PRODUCT</c>).</item>
/// </list></summary>
internal enum ProductUse
{
    /// <summary>Where the product is large enough to fill the device (<see cref="DeviceMemoryEngine.PrefersWindowProduct"/>,
    /// <see cref="Training.DeviceBackend.PrefersDenseProduct"/>).</summary>
    Auto,

    /// <summary>Always.</summary>
    Always,

    /// <summary>Never: the row kernels only.</summary>
    Never,
}

/// <summary>Reads <see cref="ProductUse"/> from an environment variable (<c>auto</c>, <c>on</c> or <c>off</c>).</summary>
internal static class ProductUseParser
{
    /// <summary>The variable for the scan's window products.</summary>
    public const string Variable = "LMU_WINDOW_PRODUCT";

    /// <summary>The variable for training's dense products.</summary>
    public const string DenseVariable = "LMU_DENSE_PRODUCT";

    /// <summary>Parses a name.</summary>
    /// <param name="name">auto, on or off (any case).</param>
    /// <param name="variable">The variable the name came from, for the message.</param>
    /// <returns>The setting.</returns>
    /// <exception cref="ArgumentException">Any other name.</exception>
    public static ProductUse Parse(string name, string variable = Variable) => name.Trim().ToLowerInvariant() switch
    {
        "auto" => ProductUse.Auto,
        "on" => ProductUse.Always,
        "off" => ProductUse.Never,
        _ => throw new ArgumentException($"${variable}: unknown setting '{name}'; use auto, on or off.", nameof(name)),
    };

    /// <summary>The setting in <paramref name="variable"/>, else <see cref="ProductUse.Auto"/>.</summary>
    /// <param name="variable">The environment variable.</param>
    /// <returns>The setting.</returns>
    public static ProductUse FromEnvironment(string variable = Variable) =>
        EnvironmentSetting.Read(variable, name => Parse(name, variable), ProductUse.Auto);
}
