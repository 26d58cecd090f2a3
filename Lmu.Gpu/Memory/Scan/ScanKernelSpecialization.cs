namespace Lmu.Gpu;

/// <summary>
/// Whether the scan kernels use ILGPU's kernel specialisation (<c>SpecializedValue</c>: the chunk-step flags and the
/// product's group side compiled in as constants, which is what keeps their registers low). <c>$LMU_SPECIALIZE=0</c>
/// loads the same kernels with those values read at run time instead: slower, but a way round if a driver or
/// accelerator mishandles specialised kernels. Default: on.
/// </summary>
internal static class ScanKernelSpecialization
{
    /// <summary>The environment variable.</summary>
    public const string Variable = "LMU_SPECIALIZE";

    /// <summary>For tests: overrides the environment on this thread when set.</summary>
    [ThreadStatic]
    internal static bool? Override;

    /// <summary>Parses the variable's value.</summary>
    /// <param name="value">1, on or true; 0, off or false (any case).</param>
    /// <returns>Whether to specialise.</returns>
    /// <exception cref="ArgumentException">Any other value.</exception>
    public static bool Parse(string value) => value.Trim().ToLowerInvariant() switch
    {
        "1" or "on" or "true" => true,
        "0" or "off" or "false" => false,
        _ => throw new ArgumentException($"${Variable}: '{value}' is neither 1 (specialised kernels) nor 0 (run-time values).", nameof(value)),
    };

    /// <summary>The setting: <see cref="Override"/>, else <c>$LMU_SPECIALIZE</c>, else on.</summary>
    /// <returns>Whether to specialise.</returns>
    public static bool Enabled() => Override ?? EnvironmentSetting.Read(Variable, Parse, true);
}
