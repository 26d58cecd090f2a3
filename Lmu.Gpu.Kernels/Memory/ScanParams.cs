using ILGPU;
using ILGPU.Runtime;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>Scalar arguments of the <see cref="ScanKernels"/>.</summary>
/// <param name="Order">d.</param>
/// <param name="Channels">k: sequence n = b·k + ch reads rows (b·T + t)·k + ch.</param>
/// <param name="Steps">T.</param>
/// <param name="ChunkLength">L.</param>
/// <param name="Chunks">C = ⌈T/L⌉; column col = n·C + c.</param>
/// <param name="LastLength">Length of each sequence's last chunk.</param>
/// <param name="Columns">N = B·k·C.</param>
/// <param name="Tile">Columns per group in <see cref="ScanKernels.ChunkSteps"/> (a multiple of 4).</param>
/// <param name="Delays">Decoder rows Q.</param>
/// <param name="Flags">A combination of the <c>Scan*</c> flag constants of <see cref="ScanKernels"/>.</param>
/// <param name="Parts">Threads that share one row of the carry product in <see cref="ScanKernels.Carries"/> (as
/// <see cref="MemorySequenceParams.Parts"/>); 1 means one thread per row.</param>
/// <param name="Chain">In <see cref="ScanKernels.Carries"/> forward: chain only the first <c>Chain</c> chunks of each
/// sequence (the window start computes the rest), writing no final state unless that reaches the last chunk; 0 for
/// all.</param>
public readonly record struct ScanParams(int Order, int Channels, int Steps, int ChunkLength, int Chunks, int LastLength,
    long Columns, int Tile, int Delays, int Flags, int Parts = 1, int Chain = 0);
