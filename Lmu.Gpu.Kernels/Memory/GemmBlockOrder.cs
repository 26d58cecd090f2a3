namespace Lmu.Gpu.Kernels.Memory;

/// <summary>
/// The launch order of the matrix-product kernels' blocks (<see cref="ScanGemmKernels.ChunkStates"/>,
/// <see cref="ScanTensorKernels.ChunkStates"/>): bands of <see cref="ScanGemmKernels.BandBlocks"/> row blocks, down
/// the band's rows for one column block, then the next column block. The groups resident at one time share a band's W
/// rows (a few MB, kept in L2 while the band sweeps all columns) and a few Z columns, whatever the size of W (75 MB at
/// d = 512, L = 64, more than L2 holds).
/// </summary>
public static class GemmBlockOrder
{
    /// <summary>The row block and column block of group <paramref name="id"/>.</summary>
    /// <param name="id">The group's index in the grid.</param>
    /// <param name="rowBlocks">Row blocks (M / block rows).</param>
    /// <param name="columnBlocks">Column blocks (⌈N / block columns⌉).</param>
    /// <param name="rowBlock">Its row block.</param>
    /// <param name="columnBlock">Its column block.</param>
    public static void Locate(long id, int rowBlocks, long columnBlocks, out int rowBlock, out long columnBlock)
    {
        int bands = ScanGemmKernels.BandBlocks;
        int band = (int)(id / (bands * columnBlocks));
        long inBand = id - (band * bands * columnBlocks);
        int bandHeight = Math.Min(bands, rowBlocks - (band * bands));
        columnBlock = inBand / bandHeight;
        rowBlock = (band * bands) + (int)(inBand - (columnBlock * bandHeight));
    }

    /// <summary>The block of group <paramref name="id"/> for an M × N product in blocks of
    /// <paramref name="size"/> × <paramref name="size"/>: its row block and the first row and column of its outputs.</summary>
    /// <param name="id">The group's index in the grid.</param>
    /// <param name="paddedRows">M, a multiple of <paramref name="size"/>.</param>
    /// <param name="columns">N.</param>
    /// <param name="size">Rows (and columns) of a block.</param>
    /// <param name="rowBlock">Its row block.</param>
    /// <param name="m0">Its first row: rowBlock·size.</param>
    /// <param name="n0">Its first column.</param>
    public static void Origin(long id, int paddedRows, long columns, int size, out int rowBlock, out int m0, out long n0)
    {
        Locate(id, paddedRows / size, (columns + size - 1) / size, out rowBlock, out long columnBlock);
        m0 = rowBlock * size;
        n0 = columnBlock * size;
    }
}
