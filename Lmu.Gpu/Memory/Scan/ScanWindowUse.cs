namespace Lmu.Gpu;

/// <summary>When the device scan takes the window start (<see cref="ScanWindow"/>).</summary>
internal enum ScanWindowUse
{
    /// <summary>Final-only runs wherever the window applies; the carries of other runs where its estimated cost is
    /// below the chained carries' (<see cref="DeviceMemoryEngine.PrefersWindowCarries(long, int, int, int, int, int, bool, bool, bool)"/>).</summary>
    Auto,

    /// <summary>Wherever the window applies (2·H ≤ T).</summary>
    Always,

    /// <summary>Never: the chained carries only.</summary>
    Never,
}

/// <summary>Reads <see cref="ScanWindowUse"/> from <c>$LMU_SCAN_WINDOW</c> (<c>auto</c>, <c>on</c> or <c>off</c>).</summary>
internal static class ScanWindowUseParser
{
    /// <summary>The environment variable.</summary>
    public const string Variable = "LMU_SCAN_WINDOW";

    /// <summary>Parses a name.</summary>
    /// <param name="name">auto, on or off (any case).</param>
    /// <returns>The setting.</returns>
    /// <exception cref="ArgumentException">Any other name.</exception>
    public static ScanWindowUse Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "auto" => ScanWindowUse.Auto,
        "on" => ScanWindowUse.Always,
        "off" => ScanWindowUse.Never,
        _ => throw new ArgumentException($"${Variable}: unknown setting '{name}'; use auto, on or off.", nameof(name)),
    };

    /// <summary>The setting in <c>$LMU_SCAN_WINDOW</c>, else <see cref="ScanWindowUse.Auto"/>.</summary>
    /// <returns>The setting.</returns>
    public static ScanWindowUse FromEnvironment() => EnvironmentSetting.Read(Variable, Parse, ScanWindowUse.Auto);
}
