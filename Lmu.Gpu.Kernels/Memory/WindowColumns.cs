using ILGPU;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>
/// The per-column tables of the window products (<see cref="WindowGemmKernels.WindowProduct"/>,
/// <see cref="WindowTensorKernels.WindowProduct"/>), in shared memory: for column n of the block (state c = n0 + n,
/// state c mod J of sequence c / J) where its window starts in u, how many of its leading steps read as zero, where its
/// state goes and whether it is also a final state.
/// </summary>
/// <param name="StartAt">Where the input of the window's first step would be.</param>
/// <param name="SkipOf">The window's leading steps that read as zero.</param>
/// <param name="RowOf">The output row, or −1 for a column past the last state.</param>
/// <param name="FinalOf">The sequence whose final state this is, or −1.</param>
public readonly record struct WindowColumns(ArrayView<long> StartAt, ArrayView<int> SkipOf, ArrayView<long> RowOf, ArrayView<long> FinalOf)
{
    /// <summary>Allocates the tables for blocks of <see cref="ScanGemmKernels.MaxBlockColumns"/> columns.</summary>
    /// <returns>The tables.</returns>
    public static WindowColumns Allocate() => new(
        SharedMemory.Allocate<long>(ScanGemmKernels.MaxBlockColumns),
        SharedMemory.Allocate<int>(ScanGemmKernels.MaxBlockColumns),
        SharedMemory.Allocate<long>(ScanGemmKernels.MaxBlockColumns),
        SharedMemory.Allocate<long>(ScanGemmKernels.MaxBlockColumns));

    /// <summary>Fills column <paramref name="n"/>'s entries. Columns past the last state read the last one's window and
    /// are not written.</summary>
    /// <param name="p">Sizes.</param>
    /// <param name="n0">The block's first state.</param>
    /// <param name="n">The column of the block.</param>
    public void Fill(WindowProductParams p, long n0, int n)
    {
        var w = p.Window;
        long states = w.States;
        long c = Math.Min(n0 + n, states - 1);
        long sequence = c / w.Ends;
        long j = c - (sequence * w.Ends);
        long unclamped = w.FirstEnd + (j * w.EndStride);
        long end = Math.Min(unclamped, p.LastEnd);
        long first = end - w.Horizon + 1;
        long lowest = Math.Max(0, p.ChunkAligned != 0 ? unclamped - w.Horizon + 1 : first);
        long b = sequence / w.Channels;
        long ch = sequence - (b * w.Channels);
        StartAt[n] = (((b * w.Steps) + first) * w.Channels) + ch;
        SkipOf[n] = (int)(lowest - first);
        bool real = n0 + n < states;
        RowOf[n] = real ? (sequence * w.OutputStride) + w.OutputFirst + j : -1;
        FinalOf[n] = real && w.WriteFinal != 0 && end == w.Steps - 1 ? sequence : -1;
    }

    /// <summary>Writes row <paramref name="m"/> of column <paramref name="n"/>'s state (and final state).</summary>
    /// <param name="output">States [rows, d].</param>
    /// <param name="final">Final states [n, d].</param>
    /// <param name="order">d.</param>
    /// <param name="n">The column of the block.</param>
    /// <param name="m">The row (m &lt; d).</param>
    /// <param name="value">The value.</param>
    public void Write(ArrayView<float> output, ArrayView<float> final, int order, int n, int m, float value)
    {
        long row = RowOf[n];
        if (row >= 0)
        {
            output[(row * order) + m] = value;
        }

        long sequence = FinalOf[n];
        if (sequence >= 0)
        {
            final[(sequence * order) + m] = value;
        }
    }
}
