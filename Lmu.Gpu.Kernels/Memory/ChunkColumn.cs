namespace Lmu.Gpu.Kernels.Memory;

/// <summary>Where scan column col = n·C + c (chunk c of sequence n = b·k + ch) reads its inputs: the row of its
/// chunk's first step in u [B, T, k] and the chunk's length. Computed once per column (two 64-bit divisions), by
/// the chunk-ends kernel and into the per-column tables of the chunk-step and chunk-state kernels.</summary>
/// <param name="FirstRow">(b·T + c·L)·k + ch; step j of the chunk is row FirstRow + j·k.</param>
/// <param name="Length">L, L_r for the sequence's last chunk, or 0 for a column past the last one.</param>
/// <param name="Chunk">c.</param>
public readonly record struct ChunkColumn(long FirstRow, int Length, int Chunk)
{
    /// <summary>The place of column <paramref name="col"/>.</summary>
    /// <param name="col">The column.</param>
    /// <param name="chunks">C.</param>
    /// <param name="channels">k.</param>
    /// <param name="steps">T.</param>
    /// <param name="chunkLength">L.</param>
    /// <param name="lastLength">L_r.</param>
    /// <param name="columns">N = B·k·C: columns from here on have length 0.</param>
    /// <returns>Its first row, length and chunk.</returns>
    public static ChunkColumn Of(long col, int chunks, int channels, int steps, int chunkLength, int lastLength, long columns)
    {
        long seq = col / chunks;
        int c = (int)(col - (seq * chunks));
        long b = seq / channels;
        long ch = seq - (b * channels);
        int length = col >= columns ? 0 : c == chunks - 1 ? lastLength : chunkLength;
        return new ChunkColumn((((b * steps) + ((long)c * chunkLength)) * channels) + ch, length, c);
    }
}
