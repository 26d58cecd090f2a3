using System.Globalization;
using ILGPU.Runtime;

namespace Lmu.Gpu;

/// <summary>
/// The launch bounds of the matrix-product phase C (<c>ScanGemmKernels.ChunkStates</c>) on CUDA: at most side² threads
/// per group and at least G resident groups per multiprocessor (PTX <c>.maxntid</c> / <c>.minnctapersm</c>), which
/// caps ptxas at 65,536 / (side²·G) registers per thread — 128 at 256 threads and G = 2. Without a bound ptxas may give
/// the 64 accumulators, 16 staged values and 16 operands of a thread more than 128 registers, and one group of 8 warps
/// per multiprocessor then stalls at every stage's barriers; with it, two groups alternate. G comes from
/// <c>$LMU_GEMM_GROUPS_PER_SM</c> (0 = no bound; default 2), so that a GPU run can time both.
/// </summary>
internal static class GemmOccupancy
{
    /// <summary>The environment variable that sets G.</summary>
    public const string Variable = "LMU_GEMM_GROUPS_PER_SM";

    /// <summary>G when the variable is unset.</summary>
    public const int DefaultGroupsPerMultiprocessor = 2;

    /// <summary>Parses G.</summary>
    /// <param name="value">An integer 0 … 8 (0: no bound).</param>
    /// <returns>G.</returns>
    /// <exception cref="ArgumentException">Not an integer in 0 … 8.</exception>
    public static int Parse(string value)
    {
        if (!int.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int groups) || groups > 8)
        {
            throw new ArgumentException($"${Variable}: '{value}' is not a group count from 0 (no bound) to 8.", nameof(value));
        }

        return groups;
    }

    /// <summary>G from <c>$LMU_GEMM_GROUPS_PER_SM</c>, else <see cref="DefaultGroupsPerMultiprocessor"/>.</summary>
    /// <returns>G.</returns>
    public static int FromEnvironment() => EnvironmentSetting.Read(Variable, Parse, DefaultGroupsPerMultiprocessor);

    /// <summary>The kernel specialisation for an accelerator: the bounds on CUDA when G &gt; 0, none elsewhere (the CPU
    /// simulator has no registers to bound; OpenCL takes no such hint).</summary>
    /// <param name="type">The accelerator's type.</param>
    /// <param name="side">Threads along each side of the kernel's groups.</param>
    /// <param name="groupsPerMultiprocessor">G.</param>
    /// <returns>The specialisation to load the kernel with.</returns>
    public static KernelSpecialization For(AcceleratorType type, int side, int groupsPerMultiprocessor) =>
        type == AcceleratorType.Cuda && groupsPerMultiprocessor > 0
            ? new KernelSpecialization(side * side, groupsPerMultiprocessor)
            : KernelSpecialization.Empty;
}
