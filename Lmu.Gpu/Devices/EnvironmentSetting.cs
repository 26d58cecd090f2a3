namespace Lmu.Gpu;

/// <summary>Reads the library's tuning switches from environment variables (<c>LMU_SCAN_STATES</c>,
/// <c>LMU_GEMM_GROUPS_PER_SM</c>, <c>LMU_SPECIALIZE</c>).</summary>
internal static class EnvironmentSetting
{
    /// <summary>The variable's value through <paramref name="parse"/>, or <paramref name="unset"/> when it is missing or
    /// blank.</summary>
    /// <typeparam name="T">The setting's type.</typeparam>
    /// <param name="variable">The environment variable.</param>
    /// <param name="parse">Parses a value; throws <see cref="ArgumentException"/> naming the variable for a bad one.</param>
    /// <param name="unset">The default.</param>
    /// <returns>The setting.</returns>
    public static T Read<T>(string variable, Func<string, T> parse, T unset)
    {
        string? text = Environment.GetEnvironmentVariable(variable);
        return string.IsNullOrWhiteSpace(text) ? unset : parse(text);
    }
}
