namespace Lmu.Gpu;

/// <summary>When the device scan computes states from windows of inputs — phase A's chunk ends, the window start's
/// carries and final states — as one matrix product (<see cref="Kernels.Memory.WindowGemmKernels.WindowProduct"/>)
/// instead of by the row kernels (<see cref="Kernels.Memory.ScanKernels.ChunkEnds"/>,
/// <see cref="Kernels.Memory.WindowKernels.WindowStates"/>).</summary>
internal enum WindowProductUse
{
    /// <summary>Where the product has at least one block of outputs per multiprocessor
    /// (<see cref="DeviceMemoryEngine.PrefersWindowProduct"/>).</summary>
    Auto,

    /// <summary>Always.</summary>
    Always,

    /// <summary>Never: the row kernels only.</summary>
    Never,
}

/// <summary>Reads <see cref="WindowProductUse"/> from <c>$LMU_WINDOW_PRODUCT</c> (<c>auto</c>, <c>on</c> or
/// <c>off</c>).</summary>
internal static class WindowProductUseParser
{
    /// <summary>The environment variable.</summary>
    public const string Variable = "LMU_WINDOW_PRODUCT";

    /// <summary>Parses a name.</summary>
    /// <param name="name">auto, on or off (any case).</param>
    /// <returns>The setting.</returns>
    /// <exception cref="ArgumentException">Any other name.</exception>
    public static WindowProductUse Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "auto" => WindowProductUse.Auto,
        "on" => WindowProductUse.Always,
        "off" => WindowProductUse.Never,
        _ => throw new ArgumentException($"${Variable}: unknown setting '{name}'; use auto, on or off.", nameof(name)),
    };

    /// <summary>The setting in <c>$LMU_WINDOW_PRODUCT</c>, else <see cref="WindowProductUse.Auto"/>.</summary>
    /// <returns>The setting.</returns>
    public static WindowProductUse FromEnvironment() => EnvironmentSetting.Read(Variable, Parse, WindowProductUse.Auto);
}
