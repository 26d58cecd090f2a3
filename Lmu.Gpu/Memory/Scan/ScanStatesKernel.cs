namespace Lmu.Gpu;

/// <summary>How the GPU scan's phase C computes every state of every chunk from the chunk's carry.</summary>
internal enum ScanStatesKernel
{
    /// <summary>Lock-step recurrence: L steps of a d×d by d×tile product per group (<c>ScanKernels.ChunkSteps</c>).</summary>
    Steps,

    /// <summary>One (L·E) × (d + L) by (d + L) × N matrix product (<c>ScanGemmKernels.ChunkStates</c>).</summary>
    Gemm,

    /// <summary>The same product on TF32 tensor cores with float32 accuracy (3×TF32, <c>ScanTensorKernels.ChunkStates</c>):
    /// CUDA devices of compute capability 8.0 or later, and the CPU simulator with groups of 256 threads. Not yet timed
    /// on a GPU, so it is chosen only by name.</summary>
    Tensor,
}

/// <summary>Reads <see cref="ScanStatesKernel"/> from <c>$LMU_SCAN_STATES</c> (<c>steps</c>, <c>gemm</c> or <c>tf32</c>).</summary>
internal static class ScanStatesKernelParser
{
    /// <summary>The environment variable that picks the phase-C kernel.</summary>
    public const string Variable = "LMU_SCAN_STATES";

    /// <summary>Parses a name.</summary>
    /// <param name="name">steps, gemm or tf32 (any case).</param>
    /// <returns>The kernel.</returns>
    /// <exception cref="ArgumentException">Any other name.</exception>
    public static ScanStatesKernel Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "steps" => ScanStatesKernel.Steps,
        "gemm" => ScanStatesKernel.Gemm,
        "tf32" => ScanStatesKernel.Tensor,
        _ => throw new ArgumentException($"${Variable}: unknown phase-C kernel '{name}'; use steps, gemm or tf32.", nameof(name)),
    };

    /// <summary>The kernel named by <c>$LMU_SCAN_STATES</c>, else <see cref="ScanStatesKernel.Gemm"/>: on an H200 at
    /// T = 10⁵ it was 2.0–2.6× faster than the lock-step kernel at d = 64 and 256, B = 1, 16 and 64 (run 8 in
    /// docs/benchmarks/gpu-h200.md).</summary>
    /// <returns>The kernel.</returns>
    public static ScanStatesKernel FromEnvironment() => EnvironmentSetting.Read(Variable, Parse, ScanStatesKernel.Gemm);
}
