using ILGPU;
using ILGPU.Runtime;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>
/// Phase C of the chunked scan as one matrix product (the chunked form of Mamba-2 / Chilkuri &amp; Eliasmith with a
/// dense Ā): every output of a chunk is a fixed linear function of the chunk's carry and its L inputs,
/// y_(j,e) = Σ_r W[(j, e), r]·z_r with z = [x_c (d, padded to D); u_(cL) … u_(cL+L−1)] and W = [Ā^(j+1) | H_(j−q) (q ≤ j)] for
/// states (E = d) or C·W for decoded outputs (E = Q). All chunks together are Y = W·Z, an (L·E) × K by K × N product
/// (K = D + L, padded): side × side threads per group, 8 × 8 outputs per thread in registers, blocks of 8·side rows
/// and columns staged through shared memory side depths at a time (the next stage's global loads in flight while the
/// current one is multiplied), four 16-byte shared loads per 64 multiply-adds (see <see cref="GemmBlock"/>). A block
/// whose rows end at step j stops at depth D + j + 1 (rounded up to a stage): the inputs after step j have no weight
/// there, which saves about L/2 of the d + L depths. Each output is written once, straight to its place in the
/// [B, T, k, E] output.
/// </summary>
public static class ScanGemmKernels
{
    /// <summary>The granularity of the padded depth K (a multiple of every stage depth, side ≤ 16).</summary>
    public const int BlockDepth = 16;

    /// <summary>Row blocks per band of the launch order (see <see cref="ChunkStates"/>).</summary>
    public const int BandBlocks = 16;

    /// <summary>The most columns of a block (8·side): the size of its per-column tables.</summary>
    public const int MaxBlockColumns = 128;

    /// <summary>Dynamic shared memory of <see cref="ChunkStates"/> in floats: one stage of the W block and of the Z
    /// block with its rows 8·side + 4 apart.</summary>
    /// <param name="side">Threads along each side of the group.</param>
    /// <returns>side·(8·side + 8·side + 4).</returns>
    public static int SharedFloats(int side) => side * ((16 * side) + 4);

    /// <summary>The state each chunk starts from, for <see cref="ChunkStates"/>: starts[col·d + k] = initial[s·d + k] for
    /// the first chunk of sequence s = col / C, else carries[(col − 1)·d + k] (the previous chunk's end). A grid-stride
    /// loop over the N·d values.</summary>
    /// <param name="index">This thread's first value.</param>
    /// <param name="initial">Initial states [n, d].</param>
    /// <param name="carries">Chunk end states [N, d].</param>
    /// <param name="starts">[N, d] out.</param>
    /// <param name="p">Sizes (Order, Chunks, Columns).</param>
    /// <param name="stride">Threads launched.</param>
    public static void ChunkStarts(Index1D index, ArrayView<float> initial, ArrayView<float> carries, ArrayView<float> starts,
        ScanGemmParams p, int stride)
    {
        long total = p.Columns * p.Order;
        if (total <= int.MaxValue - stride)
        {
            // 32-bit divisions (a few instructions) where the indices fit (stride included, so i never wraps), instead
            // of the 64-bit division routine.
            for (int i = index; i < total; i += stride)
            {
                int col = i / p.Order;
                int seq = col / p.Chunks;
                starts[i] = col == seq * p.Chunks ? initial[((long)seq * p.Order) + (i - (col * p.Order))] : carries[i - p.Order];
            }

            return;
        }

        for (long i = index; i < total; i += stride)
        {
            long col = i / p.Order;
            long seq = col / p.Chunks;
            starts[i] = col == seq * p.Chunks ? initial[(seq * p.Order) + (i - (col * p.Order))] : carries[i - p.Order];
        }
    }

    /// <summary>
    /// Y = W·Z for blocks of 8·side × 8·side outputs, one group of side² threads per block, blocks numbered in bands of
    /// <see cref="BandBlocks"/> row blocks, along M within a band. Shared memory: <see cref="SharedFloats"/> floats.
    /// </summary>
    /// <param name="weights">W, zero-padded to PaddedRows × PaddedDepth and stored by blocks of 8·side rows, each block's
    /// depths one after another: W[m, r] at (m / 8·side)·K·8·side + r·8·side + m mod 8·side.</param>
    /// <param name="input">u [B, T, k].</param>
    /// <param name="starts">The state each chunk starts from, [N, d] (<see cref="ChunkStarts"/>), then at least 16
    /// zeros.</param>
    /// <param name="output">[B, T, k, E].</param>
    /// <param name="p">Sizes.</param>
    /// <param name="side">Threads along each side of the group: 1, 2, 4, 8 or 16 (a constant of the compiled kernel).</param>
    public static void ChunkStates(ArrayView<float> weights, ArrayView<float> input, ArrayView<float> starts,
        ArrayView<float> output, ScanGemmParams p, SpecializedValue<int> side)
    {
        var shared = SharedMemory.GetDynamic<float>();

        // Per column of the block, computed once (the only divisions): where its start state and its first input
        // are, and the chunk's length (0 past the last column, whose start is clamped to the last column's).
        var startAt = SharedMemory.Allocate<long>(MaxBlockColumns);
        var inputAt = SharedMemory.Allocate<long>(MaxBlockColumns);
        var lengthOf = SharedMemory.Allocate<int>(MaxBlockColumns);
        var thread = GemmThread.Current(side.Value);
        int g = thread.Side;
        int size = thread.BlockSize;
        int t = thread.Thread;
        GemmBlockOrder.Origin(Grid.IdxX, p.PaddedRows, p.Columns, size, out _, out int m0, out long n0);
        int d = p.Order;
        for (int n = t; n < size; n += thread.Threads)
        {
            long col = n0 + n;
            var column = ChunkColumn.Of(col, p.Chunks, p.Channels, p.Steps, p.ChunkLength, p.LastLength, p.Columns);
            lengthOf[n] = column.Length;
            startAt[n] = Math.Min(col, p.Columns - 1) * d;
            inputAt[n] = column.FirstRow;
        }

        Group.Barrier();
        var block = new GemmBlock(weights, input, starts, startAt, inputAt, lengthOf, g, thread.SideLog2, t, (long)m0 * p.PaddedDepth,
            p.CarryDepth, p.Channels);

        // The block's rows end at step jMax: depths past D + jMax carry zero weight (inputs after the step).
        int rows = p.ChunkLength * p.Width;
        int lastStep = (Math.Min(m0 + size, rows) - 1) / p.Width;
        int depthEnd = Math.Min(p.PaddedDepth, (p.CarryDepth + lastStep + g) & ~(g - 1));
        var acc = GemmLoop.Multiply(block, shared, depthEnd, thread.Row, thread.Column);

        // Row m = j·E + e of column n goes to output[(inputAt[n] + j·k)·E + e] when j is inside the chunk.
        for (int r = 0; r < 8; r++)
        {
            int m = m0 + thread.Row + (r * g);
            if (m >= rows)
            {
                break;
            }

            int j = m / p.Width;
            int e = m - j * p.Width;
            var values = acc.Row(r);
            for (int c = 0; c < 8; c++)
            {
                int n = thread.Column + (c * g);
                if (j < lengthOf[n])
                {
                    output[(inputAt[n] + (long)j * p.Channels) * p.Width + e] = values[c];
                }
            }
        }
    }

    /// <summary><see cref="ChunkStates"/> with the group side read at run time: without ILGPU's kernel specialisation
    /// (the fallback that <c>$LMU_SPECIALIZE=0</c> selects; its depth loop is not unrolled).</summary>
    /// <param name="weights">See <see cref="ChunkStates"/>.</param>
    /// <param name="input">See <see cref="ChunkStates"/>.</param>
    /// <param name="starts">See <see cref="ChunkStates"/>.</param>
    /// <param name="output">See <see cref="ChunkStates"/>.</param>
    /// <param name="p">Sizes.</param>
    /// <param name="side">Threads along each side of the group.</param>
    public static void ChunkStatesUnspecialized(ArrayView<float> weights, ArrayView<float> input, ArrayView<float> starts,
        ArrayView<float> output, ScanGemmParams p, int side) =>
        ChunkStates(weights, input, starts, output, p, SpecializedValue.New(side));
}
