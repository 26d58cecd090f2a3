using System.Globalization;

namespace Lmu.Gpu;

/// <summary>
/// How many stage buffers the matrix-product phase C (<c>ScanGemmKernels.ChunkStates</c>) keeps in shared memory: 1
/// (store a stage, wait, multiply, wait: two barriers per stage) or 2 (store the next stage into the other buffer while
/// this one is multiplied: one barrier per stage, twice the shared memory, 33 KB per group at 16 × 16 threads). From
/// <c>$LMU_GEMM_BUFFERS</c>, default 1 (the layout timed on an H200), so that a GPU run can time both side by side.
/// </summary>
internal static class GemmStageBuffers
{
    /// <summary>The environment variable that sets the buffer count.</summary>
    public const string Variable = "LMU_GEMM_BUFFERS";

    /// <summary>The buffer count when the variable is unset.</summary>
    public const int Default = 1;

    /// <summary>Parses a buffer count.</summary>
    /// <param name="value">1 or 2.</param>
    /// <returns>The count.</returns>
    /// <exception cref="ArgumentException">Anything else.</exception>
    public static int Parse(string value)
    {
        if (!int.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int buffers) || buffers is < 1 or > 2)
        {
            throw new ArgumentException($"${Variable}: '{value}' is not a stage buffer count (1 or 2).", nameof(value));
        }

        return buffers;
    }

    /// <summary>The count from <c>$LMU_GEMM_BUFFERS</c>, else <see cref="Default"/>.</summary>
    /// <returns>1 or 2.</returns>
    public static int FromEnvironment() => EnvironmentSetting.Read(Variable, Parse, Default);
}
