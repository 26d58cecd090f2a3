namespace Lmu.Gpu.Kernels.Memory;

/// <summary>
/// Scalar arguments of <see cref="AdjointGemmKernels.ChunkProduct"/>: the adjoint's chunk products over the columns
/// (memory n, chunk c), n·C + c, of B·k memories with T steps in chunks of L (the last one shorter).
/// </summary>
/// <param name="Order">d.</param>
/// <param name="Channels">k.</param>
/// <param name="Steps">T.</param>
/// <param name="ChunkLength">L.</param>
/// <param name="Chunks">C.</param>
/// <param name="Columns">B·k·C.</param>
/// <param name="Rows">M: d for the chunk starts, L for the input gradient.</param>
/// <param name="Depth">K: L·d for the chunk starts, d + L·d for the input gradient.</param>
/// <param name="CarryDepth">The leading depths that read the next chunk's carry: 0 for the chunk starts, d for the
/// input gradient.</param>
/// <param name="InputGradient">0: write the chunk starts [B·k·C, d]; 1: write B̄ᵀ·λ_t [B, T, k].</param>
public readonly record struct AdjointProductParams(int Order, int Channels, int Steps, int ChunkLength, int Chunks,
    long Columns, int Rows, int Depth, int CarryDepth, int InputGradient);
