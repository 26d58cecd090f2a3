using ILGPU;
using ILGPU.Runtime;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>Scalar arguments of <see cref="WindowGemmKernels.WindowProduct"/>.</summary>
/// <param name="Window">The states to compute, their windows (H = <see cref="WindowParams.Horizon"/>) and where they
/// go.</param>
/// <param name="PaddedRows">d rounded up to the block (8·side): the row count of the weights.</param>
/// <param name="PaddedDepth">H rounded up to <see cref="ScanGemmKernels.BlockDepth"/>.</param>
/// <param name="ChunkAligned">1: state j's window starts no earlier than FirstEnd + j·EndStride − H + 1 even where its
/// end is clamped to T − 1 (chunk ends from zero at the chunk's start, phase A: the last, shorter chunk reads only its
/// own steps); 0: every window is the H steps up to its end (from step 0 at the latest).</param>
/// <param name="LastEnd">The step that ends are clamped to: T − 1, or for the segment ends of the chained carries'
/// first level the last step before the sequence's last chunk.</param>
public readonly record struct WindowProductParams(WindowParams Window, int PaddedRows, int PaddedDepth, int ChunkAligned, int LastEnd);
