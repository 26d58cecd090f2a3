using ILGPU;

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
/// <param name="PaddedRows">M rounded up to the block: the row count of the weights (M = L·E real rows).</param>
/// <param name="PaddedDepth">K = d + L rounded up to <see cref="ScanGemmKernels.BlockDepth"/>.</param>
/// <param name="GroupRows">Threads along M in a group (the block is 8·GroupRows rows).</param>
/// <param name="GroupColumns">Threads along N in a group (the block is 8·GroupColumns ≤
/// <see cref="ScanGemmKernels.MaxBlockColumns"/> columns).</param>
/// <param name="BlockRowsLog2">log₂(8·GroupRows); GroupRows is a power of two.</param>
public readonly record struct ScanGemmParams(int Order, int Channels, int Steps, int ChunkLength, int Chunks, int LastLength,
    long Columns, int Width, int PaddedRows, int PaddedDepth, int GroupRows, int GroupColumns, int BlockRowsLog2);

/// <summary>
/// Phase C of the chunked scan as one matrix product (the chunked form of Mamba-2 / Chilkuri &amp; Eliasmith with a
/// dense Ā): every output of a chunk is a fixed linear function of the chunk's carry and its L inputs,
/// y_(j,e) = Σ_r W[(j, e), r]·z_r with z = [x_c (d); u_(cL) … u_(cL+L−1)] and W = [Ā^(j+1) | H_(j−q) (q ≤ j)] for
/// states (E = d) or C·W for decoded outputs (E = Q). All chunks together are Y = W·Z, an (L·E) × (d + L) by
/// (d + L) × N product computed with 8×8 register tiles and shared-memory blocks of depth
/// <see cref="BlockDepth"/>; each output is written once, straight to its place in the [B, T, k, E] output.
/// The Z block's rows are padded by one float so that its column-wise stores do not all hit one bank.
/// </summary>
public static class ScanGemmKernels
{
    /// <summary>The depth (K) of one shared-memory block.</summary>
    public const int BlockDepth = 16;

    /// <summary>The most columns of a block (8·GroupColumns): the size of its per-column tables.</summary>
    public const int MaxBlockColumns = 128;

    /// <summary>Dynamic shared memory of <see cref="ChunkStates"/> in floats: the Wᵀ block and the padded Z block.</summary>
    /// <param name="groupRows">Threads along M.</param>
    /// <param name="groupColumns">Threads along N.</param>
    /// <returns>BlockDepth·(8·groupRows + 8·groupColumns + 1).</returns>
    public static int SharedFloats(int groupRows, int groupColumns) => BlockDepth * ((8 * groupRows) + (8 * groupColumns) + 1);

    /// <summary>
    /// Y = W·Z for a block of 8·GroupRows rows and 8·GroupColumns columns per group (one group per block, blocks
    /// numbered along M first). Shared memory: <see cref="SharedFloats"/> floats.
    /// </summary>
    /// <param name="weightsT">Wᵀ, [r·PaddedRows + m] = W[m, r], zero-padded to PaddedDepth × PaddedRows.</param>
    /// <param name="input">u [B, T, k].</param>
    /// <param name="initial">Initial states [n, d] (the carry of each sequence's first chunk).</param>
    /// <param name="carries">Chunk end states [N, d]: column col starts from carries[col − 1].</param>
    /// <param name="output">[B, T, k, E].</param>
    /// <param name="p">Sizes.</param>
    public static void ChunkStates(ArrayView<float> weightsT, ArrayView<float> input, ArrayView<float> initial,
        ArrayView<float> carries, ArrayView<float> output, ScanGemmParams p)
    {
        var shared = SharedMemory.GetDynamic<float>();

        // Per column of the block, computed once (the only divisions): where its carry and its first input row are,
        // whether the carry is the sequence's initial state, and the chunk's length (0 past the last column).
        var carryAt = SharedMemory.Allocate<long>(MaxBlockColumns);
        var inputAt = SharedMemory.Allocate<long>(MaxBlockColumns);
        var lengthOf = SharedMemory.Allocate<int>(MaxBlockColumns);
        var fromInitial = SharedMemory.Allocate<int>(MaxBlockColumns);
        int gm = p.GroupRows;
        int gn = p.GroupColumns;
        int threads = gm * gn;
        int bm = 8 * gm;
        int bn = 8 * gn;
        int t = Group.IdxX;
        int tm = t % gm;
        int tn = t / gm;
        int mBlocks = p.PaddedRows / bm;
        int blockM = Grid.IdxX % mBlocks;
        long blockN = Grid.IdxX / mBlocks;
        int m0 = blockM * bm;
        long n0 = blockN * bn;
        int d = p.Order;
        for (int n = t; n < bn; n += threads)
        {
            long col = n0 + n;
            long seq = col / p.Chunks;
            int chunk = (int)(col - seq * p.Chunks);
            long b = seq / p.Channels;
            long ch = seq - b * p.Channels;
            bool valid = col < p.Columns;
            lengthOf[n] = !valid ? 0 : chunk == p.Chunks - 1 ? p.LastLength : p.ChunkLength;
            fromInitial[n] = chunk == 0 ? 1 : 0;
            carryAt[n] = !valid ? 0 : chunk == 0 ? seq * d : (col - 1) * d;
            inputAt[n] = (b * p.Steps + (long)chunk * p.ChunkLength) * p.Channels + ch;
        }

        Group.Barrier();
        int bOffset = BlockDepth * bm;
        int bStride = bn + 1;
        int rowMask = bm - 1;
        var acc = default(Tile8x8);
        for (int k0 = 0; k0 < p.PaddedDepth; k0 += BlockDepth)
        {
            // Wᵀ block: consecutive threads read consecutive rows m (coalesced), stored [kk·bm + m] (bm is a power of
            // two: shift and mask instead of a division).
            for (int w = t; w < BlockDepth * bm; w += threads)
            {
                int kk = w >> p.BlockRowsLog2;
                int m = w & rowMask;
                shared[w] = weightsT[(long)(k0 + kk) * p.PaddedRows + m0 + m];
            }

            // Z block: consecutive threads read consecutive k of one column (a carry row, or L consecutive inputs).
            for (int w = t; w < BlockDepth * bn; w += threads)
            {
                int n = w / BlockDepth;
                int kk = w - n * BlockDepth;
                int k = k0 + kk;
                int length = lengthOf[n];
                float z = 0;
                if (k < d)
                {
                    if (length > 0)
                    {
                        z = fromInitial[n] != 0 ? initial[carryAt[n] + k] : carries[carryAt[n] + k];
                    }
                }
                else if (k - d < length)
                {
                    z = input[inputAt[n] + (long)(k - d) * p.Channels];
                }

                shared[bOffset + kk * bStride + n] = z;
            }

            Group.Barrier();
            for (int kk = 0; kk < BlockDepth; kk++)
            {
                int a = kk * bm + tm;
                int b = bOffset + kk * bStride + tn;
                acc.Fma(shared[a], shared[a + gm], shared[a + 2 * gm], shared[a + 3 * gm],
                    shared[a + 4 * gm], shared[a + 5 * gm], shared[a + 6 * gm], shared[a + 7 * gm],
                    shared[b], shared[b + gn], shared[b + 2 * gn], shared[b + 3 * gn],
                    shared[b + 4 * gn], shared[b + 5 * gn], shared[b + 6 * gn], shared[b + 7 * gn]);
            }

            Group.Barrier();
        }

        // Row m = j·E + e of column n goes to output[(inputAt[n] + j·k)·E + e] when j is inside the chunk.
        int rows = p.ChunkLength * p.Width;
        for (int r = 0; r < 8; r++)
        {
            int m = m0 + tm + r * gm;
            if (m >= rows)
            {
                break;
            }

            int j = m / p.Width;
            int e = m - j * p.Width;
            var values = acc.Row(r);
            for (int c = 0; c < 8; c++)
            {
                int n = tn + c * gn;
                if (j < lengthOf[n])
                {
                    output[(inputAt[n] + (long)j * p.Channels) * p.Width + e] = values[c];
                }
            }
        }
    }

}
