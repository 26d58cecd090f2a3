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
/// <param name="PaddedDepth">K = d + L rounded up to <see cref="ScanGemmKernels.BlockDepth"/>.</param>
public readonly record struct ScanGemmParams(int Order, int Channels, int Steps, int ChunkLength, int Chunks, int LastLength,
    long Columns, int Width, int PaddedRows, int PaddedDepth);

/// <summary>
/// Phase C of the chunked scan as one matrix product (the chunked form of Mamba-2 / Chilkuri &amp; Eliasmith with a
/// dense Ā): every output of a chunk is a fixed linear function of the chunk's carry and its L inputs,
/// y_(j,e) = Σ_r W[(j, e), r]·z_r with z = [x_c (d); u_(cL) … u_(cL+L−1)] and W = [Ā^(j+1) | H_(j−q) (q ≤ j)] for
/// states (E = d) or C·W for decoded outputs (E = Q). All chunks together are Y = W·Z, an (L·E) × (d + L) by
/// (d + L) × N product: side × side threads per group, 8 × 8 outputs per thread in registers, blocks of 8·side rows
/// and columns staged through shared memory side depths at a time (the next stage's global loads in flight while the
/// current one is multiplied), four 16-byte shared loads per 64 multiply-adds (see <see cref="GemmBlock"/>). A block
/// whose rows end at step j stops at depth d + j + 1 (rounded up to a stage): the inputs after step j have no weight
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

    /// <summary>Dynamic shared memory of <see cref="ChunkStates"/> in floats: one stage of the Wᵀ block and of the Z
    /// block with its rows 8·side + 4 apart.</summary>
    /// <param name="side">Threads along each side of the group.</param>
    /// <returns>side·(8·side + 8·side + 4).</returns>
    public static int SharedFloats(int side) => side * ((16 * side) + 4);

    /// <summary>
    /// Y = W·Z for blocks of 8·side × 8·side outputs, one group of side² threads per block, blocks numbered in bands of
    /// <see cref="BandBlocks"/> row blocks, along M within a band. Shared memory: <see cref="SharedFloats"/> floats.
    /// </summary>
    /// <param name="weightsT">Wᵀ, [r·PaddedRows + m] = W[m, r], zero-padded to PaddedDepth × PaddedRows.</param>
    /// <param name="input">u [B, T, k].</param>
    /// <param name="initial">Initial states [n, d] (the carry of each sequence's first chunk).</param>
    /// <param name="carries">Chunk end states [N, d]: column col starts from carries[col − 1].</param>
    /// <param name="output">[B, T, k, E].</param>
    /// <param name="p">Sizes.</param>
    /// <param name="side">Threads along each side of the group: 1, 2, 4, 8 or 16 (a constant of the compiled kernel).</param>
    public static void ChunkStates(ArrayView<float> weightsT, ArrayView<float> input, ArrayView<float> initial,
        ArrayView<float> carries, ArrayView<float> output, ScanGemmParams p, SpecializedValue<int> side)
    {
        var shared = SharedMemory.GetDynamic<float>();
        var shared4 = shared.Cast<Float4>().AsAligned16();

        // Per column of the block, computed once (the only divisions): where its carry and its first input row are,
        // whether the carry is the sequence's initial state, and the chunk's length (0 past the last column).
        var carryAt = SharedMemory.Allocate<long>(MaxBlockColumns);
        var inputAt = SharedMemory.Allocate<long>(MaxBlockColumns);
        var lengthOf = SharedMemory.Allocate<int>(MaxBlockColumns);
        var fromInitial = SharedMemory.Allocate<int>(MaxBlockColumns);
        int g = side.Value;
        int log = g >= 16 ? 4 : g >= 8 ? 3 : g >= 4 ? 2 : g >= 2 ? 1 : 0;
        int threads = g << log;
        int size = 8 * g;
        int t = Group.IdxX;
        int tm = t & (g - 1);
        int tn = t >> log;
        // Blocks in bands of BandBlocks row blocks: down the band's rows for one column block, then the next column
        // block. The groups resident at one time share a band's W rows (a few MB, kept in L2 while the band sweeps
        // all columns) and a few Z columns, whatever the size of W (75 MB at d = 512, L = 64, more than L2 holds).
        int mBlocks = p.PaddedRows / size;
        long nBlocks = (p.Columns + size - 1) / size;
        long id = Grid.IdxX;
        int band = (int)(id / (BandBlocks * nBlocks));
        long inBand = id - (band * BandBlocks * nBlocks);
        int bandHeight = Math.Min(BandBlocks, mBlocks - (band * BandBlocks));
        long blockN = inBand / bandHeight;
        int blockM = (band * BandBlocks) + (int)(inBand - (blockN * bandHeight));
        int m0 = blockM * size;
        long n0 = blockN * size;
        int d = p.Order;
        for (int n = t; n < size; n += threads)
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
        var block = new GemmBlock(weightsT, input, initial, carries, carryAt, inputAt, lengthOf, fromInitial, g, log, t, m0,
            d, p.Channels, p.PaddedRows);

        // The block's rows end at step jMax: depths past d + jMax carry zero weight (inputs after the step).
        int rows = p.ChunkLength * p.Width;
        int lastStep = (Math.Min(m0 + size, rows) - 1) / p.Width;
        int depthEnd = Math.Min(p.PaddedDepth, (d + lastStep + g) & ~(g - 1));
        int operands = g * size / 4;
        int operandStride = (size / 4) + 1;
        var acc = default(Tile8x8);
        var stage = default(GemmStage);
        stage.Load(block, 0);
        for (int k0 = 0; k0 < depthEnd; k0 += g)
        {
            stage.Store(block, shared);
            Group.Barrier();
            if (k0 + g < depthEnd)
            {
                stage.Load(block, k0 + g);
            }

            // Depth kk: the thread's rows at Float4 2·side·kk + tm (+ side), its columns at
            // 2·side² + (2·side + 1)·kk + tn (+ side).
            int a = tm;
            int b = operands + tn;
            for (int kk = 0; kk < g; kk++)
            {
                var a0 = shared4[a];
                var a1 = shared4[a + g];
                var b0 = shared4[b];
                var b1 = shared4[b + g];
                acc.Fma(a0.X, a0.Y, a0.Z, a0.W, a1.X, a1.Y, a1.Z, a1.W, b0.X, b0.Y, b0.Z, b0.W, b1.X, b1.Y, b1.Z, b1.W);
                a += 2 * g;
                b += operandStride;
            }

            Group.Barrier();
        }

        // Row m = j·E + e of column n goes to output[(inputAt[n] + j·k)·E + e] when j is inside the chunk.
        for (int r = 0; r < 8; r++)
        {
            int m = m0 + tm + r * g;
            if (m >= rows)
            {
                break;
            }

            int j = m / p.Width;
            int e = m - j * p.Width;
            var values = acc.Row(r);
            for (int c = 0; c < 8; c++)
            {
                int n = tn + c * g;
                if (j < lengthOf[n])
                {
                    output[(inputAt[n] + (long)j * p.Channels) * p.Width + e] = values[c];
                }
            }
        }
    }
}
