using ILGPU;
using ILGPU.Runtime;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>Scalar arguments of <see cref="ScanGemmKernels.ChunkStates"/>.</summary>
/// <param name="Order">d.</param>
/// <param name="Channels">k: sequence n = b·k + ch reads rows (b·T + t)·k + ch.</param>
/// <param name="Steps">T.</param>
/// <param name="ChunkLength">L.</param>
/// <param name="Chunks">C = ⌈T/L⌉; column col = n·C + c.</param>
/// <param name="LastLength">Length of each sequence's last chunk.</param>
/// <param name="Columns">N = B·k·C.</param>
/// <param name="Width">E: outputs per step (d for states, Q for decoded outputs).</param>
/// <param name="PaddedRows">M rounded up to the block (8·side): the row count of the weights (M = L·E real rows).</param>
/// <param name="PaddedDepth">K = D + L rounded up to <see cref="ScanGemmKernels.BlockDepth"/>.</param>
/// <param name="CarryDepth">D: d rounded up to the group side (the rows of W past d have zero weight).</param>
public readonly record struct ScanGemmParams(int Order, int Channels, int Steps, int ChunkLength, int Chunks, int LastLength,
    long Columns, int Width, int PaddedRows, int PaddedDepth, int CarryDepth);
