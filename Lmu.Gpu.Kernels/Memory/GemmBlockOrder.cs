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
}
