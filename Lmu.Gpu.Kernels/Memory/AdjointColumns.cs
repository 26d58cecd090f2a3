using ILGPU;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>
/// The per-column tables of <see cref="AdjointGemmKernels.ChunkProduct"/>, in shared memory: for column n of the block
/// (memory m = c / C, chunk c mod C of the global column c = n0 + n) where its gradients start, how many of its steps
/// exist, where the next chunk's carry is, and where its outputs go.
/// </summary>
/// <param name="GradientAt">g's index of (memory, the chunk's first step, entry 0).</param>
/// <param name="ValidSteps">The chunk's steps (L, or fewer for the last chunk); 0 past the last column.</param>
/// <param name="CarryAt">The carry λ at the next chunk's first step, carries[(m·C + c + 1)·d]; −1 for the last chunk.</param>
/// <param name="OutputAt">The chunk start's row (m·C + c)·d, or dU's index of the chunk's first step; −1 past the last
/// column.</param>
public readonly record struct AdjointColumns(ArrayView<long> GradientAt, ArrayView<int> ValidSteps, ArrayView<long> CarryAt, ArrayView<long> OutputAt)
{
    /// <summary>Allocates the tables for blocks of <see cref="ScanGemmKernels.MaxBlockColumns"/> columns.</summary>
    /// <returns>The tables.</returns>
    public static AdjointColumns Allocate() => new(
        SharedMemory.Allocate<long>(ScanGemmKernels.MaxBlockColumns),
        SharedMemory.Allocate<int>(ScanGemmKernels.MaxBlockColumns),
        SharedMemory.Allocate<long>(ScanGemmKernels.MaxBlockColumns),
        SharedMemory.Allocate<long>(ScanGemmKernels.MaxBlockColumns));

    /// <summary>Fills column <paramref name="n"/>'s entries.</summary>
    /// <param name="p">Sizes.</param>
    /// <param name="n0">The block's first column.</param>
    /// <param name="n">The column of the block.</param>
    public void Fill(AdjointProductParams p, long n0, int n)
    {
        long column = n0 + n;
        bool real = column < p.Columns;
        long memory = real ? column / p.Chunks : 0;
        long c = real ? column - (memory * p.Chunks) : 0;
        long b = memory / p.Channels;
        long ch = memory - (b * p.Channels);
        long first = c * p.ChunkLength;
        long step = (b * p.Steps) + first;
        GradientAt[n] = ((step * p.Channels) + ch) * p.Order;
        ValidSteps[n] = real ? (int)Math.Min(p.ChunkLength, p.Steps - first) : 0;
        CarryAt[n] = real && c < p.Chunks - 1 ? (column + 1) * p.Order : -1;
        OutputAt[n] = !real ? -1 : p.InputGradient != 0 ? (step * p.Channels) + ch : column * p.Order;
    }
}
