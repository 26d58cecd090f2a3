namespace Lmu.Gpu;

/// <summary>Parses <see cref="SequenceMethod"/> names for command lines and configuration.</summary>
public static class SequenceMethodParser
{
    /// <summary>Parses auto, sequential or scan (case-insensitive, surrounding spaces ignored).</summary>
    /// <param name="name">The name.</param>
    /// <returns>The method.</returns>
    /// <exception cref="ArgumentException">The name is not one of auto, sequential, scan.</exception>
    public static SequenceMethod ParseMethod(string name) => name?.Trim().ToUpperInvariant() switch
    {
        "AUTO" => SequenceMethod.Auto,
        "SEQUENTIAL" => SequenceMethod.Sequential,
        "SCAN" => SequenceMethod.Scan,
        _ => throw new ArgumentException($"--method: unknown '{name}'; use auto, sequential or scan.", nameof(name)),
    };

    /// <summary>The command-line name of a method (auto, sequential, scan).</summary>
    /// <param name="method">The method.</param>
    /// <returns>Its lower-case name.</returns>
    public static string ToName(this SequenceMethod method) => method switch
    {
        SequenceMethod.Auto => "auto",
        SequenceMethod.Sequential => "sequential",
        SequenceMethod.Scan => "scan",
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, "Unknown sequence method."),
    };
}
