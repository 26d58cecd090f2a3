using ILGPU;
using ILGPU.Runtime;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>
/// Kernels of the chunked parallel scan of m_t = Ā·m_(t−1) + B̄·u_t (and of its adjoint λ_t = g_t + Āᵀ·λ_(t+1)):
/// phase A <see cref="ChunkEnds"/> (each chunk's end state from the impulse response), phase B <see cref="Carries"/>
/// (serial over one sequence's chunks, one group per sequence; for long chains the host runs it in two levels, segments
/// of chunks through <see cref="ChunkSteps"/> with a vector input and <see cref="Carries"/> across the segments),
/// phase C <see cref="ChunkSteps"/> (every chunk's steps from its carry, a tile of chunks per group in lock step: a d×d
/// by d×tile product per step).
/// </summary>
public static class ScanKernels
{
    /// <summary>Flag: run each chunk backwards in time (the adjoint).</summary>
    public const int ScanReverse = 1;

    /// <summary>Flag: the per-step input is a d-vector g_t ([rows, d]) instead of u_t·B̄.</summary>
    public const int ScanVectorInput = 2;

    /// <summary>Flag: write every state to the output ([rows, d]).</summary>
    public const int ScanWriteStates = 4;

    /// <summary>Flag: write decoded outputs C·m_t ([rows, Q]) to the second output.</summary>
    public const int ScanDecode = 8;

    /// <summary>Flag: start every chunk from zero (else from its carry: forward, chunk c starts from carries[col−1]
    /// or, for c = 0, the initial state; reverse, from carries[col+1] or zero for the last chunk).</summary>
    public const int ScanFromZero = 16;

    /// <summary>Flag: write each chunk's last state to <c>ends</c>[col].</summary>
    public const int ScanWriteEnds = 32;

    /// <summary>Flag: in <see cref="ChunkSteps"/>, each work item is a 4×4 register tile (rows i, i + d/4, i + d/2,
    /// i + 3d/4 of four columns), so every matrix load feeds four FMAs and every state load four more. Needs d
    /// divisible by 4.</summary>
    public const int ScanTile4x4 = 64;

    /// <summary>Flag, with <see cref="ScanTile4x4"/>: the tile's states live in a single shared buffer (tile·d floats)
    /// and the new states wait in registers across a barrier, so the tile can hold twice the columns (more columns
    /// share each pass over Mᵀ). Needs one thread per work item: (d/4)·(tile/4) threads at least.</summary>
    public const int ScanSingleBuffer = 128;

    /// <summary>The most columns in a tile of <see cref="ChunkSteps"/> (the size of its per-column tables).</summary>
    public const int MaxTile = 64;

    /// <summary>Phase A: s_col = Σ_q h_(len−1−q)·u_(cL+q), one group per column, threads over the d rows.</summary>
    /// <param name="impulse">h, [L, d].</param>
    /// <param name="input">u, [B, T, k].</param>
    /// <param name="ends">Chunk end states [N, d].</param>
    /// <param name="p">Sizes.</param>
    public static void ChunkEnds(ArrayView<float> impulse, ArrayView<float> input, ArrayView<float> ends, ScanParams p)
    {
        long col = Grid.IdxX;
        int d = p.Order;
        var column = ChunkColumn.Of(col, p.Chunks, p.Channels, p.Steps, p.ChunkLength, p.LastLength, p.Columns);
        int len = column.Length;
        long firstRow = column.FirstRow;
        for (int i = Group.IdxX; i < d; i += Group.DimX)
        {
            // Running 64-bit indices: one add each per term instead of a 64-bit multiply-add per load (ptxas, sm_90:
            // 37 instructions per two terms, against 98 per four before).
            float acc0 = 0, acc1 = 0;
            long h = ((long)(len - 1) * d) + i;
            long u = firstRow;
            int q = 0;
            for (; q + 1 < len; q += 2)
            {
                acc0 += impulse[h] * input[u];
                acc1 += impulse[h - d] * input[u + p.Channels];
                h -= 2 * d;
                u += 2 * p.Channels;
            }

            if (q < len)
            {
                acc0 += impulse[h] * input[u];
            }

            ends[col * d + i] = acc0 + acc1;
        }
    }

    /// <summary>
    /// Phase B, one group per sequence, serial over its chunks. Forward: S_c = P_c·S_(c−1) + s_c for c = 0 … C−1 with
    /// S_(−1) = the initial state and P_c = Ā^L (<paramref name="powerT"/>) or Ā^(L_r) for the last chunk
    /// (<paramref name="lastPowerT"/>); S_(C−1) also goes to <paramref name="final"/> (with
    /// <see cref="ScanParams.Chain"/>, only c &lt; Chain, and no final state unless Chain reaches C). Reverse (adjoint):
    /// X_c = x_c + P·X_(c+1) for c = C−2 … 0. Done in place in <paramref name="carries"/>.
    /// </summary>
    /// <param name="powerT">Pᵀ, [j·d + i] = P[i, j].</param>
    /// <param name="lastPowerT">Pᵀ of the last chunk (forward only).</param>
    /// <param name="initial">Initial states [n, d] (forward only).</param>
    /// <param name="carries">[N, d]: chunk end states in, carries out.</param>
    /// <param name="final">Final states [n, d] (forward only).</param>
    /// <param name="p">Sizes; only <see cref="ScanReverse"/> of the flags is read.</param>
    /// <remarks>Dynamic shared memory: (2 + P)·d floats; the group holds at least P·d threads when P &gt; 1.</remarks>
    public static void Carries(ArrayView<float> powerT, ArrayView<float> lastPowerT, ArrayView<float> initial,
        ArrayView<float> carries, ArrayView<float> final, ScanParams p)
    {
        var shared = SharedMemory.GetDynamic<float>();
        int d = p.Order;
        long seq = Grid.IdxX;
        bool reverse = (p.Flags & ScanReverse) != 0;
        long baseCol = seq * p.Chunks;
        for (int i = Group.IdxX; i < d; i += Group.DimX)
        {
            shared[i] = reverse ? carries[(baseCol + p.Chunks - 1) * d + i] : initial[seq * d + i];
        }

        Group.Barrier();

        // As in LinearMemoryKernels.Sequence: with parts > 1, P threads share a row, each summing a segment.
        int parts = p.Parts;
        int tid = Group.IdxX;
        int rowOfThread = tid % d;
        int part = tid / d;
        int segment = (d + parts - 1) / parts;
        int j0 = part * segment;
        int j1 = j0 + segment < d ? j0 + segment : d;
        int partials = 2 * d;
        int current = 0;
        int count = reverse ? p.Chunks - 1 : p.Chain > 0 && p.Chain < p.Chunks ? p.Chain : p.Chunks;
        for (int s = 0; s < count; s++)
        {
            int c = reverse ? p.Chunks - 2 - s : s;
            bool last = !reverse && c == p.Chunks - 1;
            var matrix = last ? lastPowerT : powerT;
            int next = d - current;
            long row = (baseCol + c) * d;
            if (parts > 1)
            {
                if (part < parts)
                {
                    shared[partials + part * d + rowOfThread] = LinearMemoryKernels.DotSegment(matrix, shared, d, rowOfThread, current, j0, j1);
                }

                Group.Barrier();
                for (int i = tid; i < d; i += Group.DimX)
                {
                    float acc = carries[row + i];
                    for (int q = 0; q < parts; q++)
                    {
                        acc += shared[partials + q * d + i];
                    }

                    shared[next + i] = acc;
                    carries[row + i] = acc;
                }
            }
            else
            {
                for (int i = tid; i < d; i += Group.DimX)
                {
                    float acc = carries[row + i] + LinearMemoryKernels.DotSegment(matrix, shared, d, i, current, 0, d);
                    shared[next + i] = acc;
                    carries[row + i] = acc;
                }
            }

            Group.Barrier();
            current = next;
        }

        if (!reverse && count == p.Chunks)
        {
            for (int i = Group.IdxX; i < d; i += Group.DimX)
            {
                final[seq * d + i] = shared[current + i];
            }
        }
    }

    /// <summary>
    /// Phase C: each group runs a tile of <see cref="ScanParams.Tile"/> chunks (columns) through their steps in lock
    /// step, y = M·x + (u_t·B̄ or g_t), from their carries. Each thread owns one row i and four columns per work item,
    /// so every element of Mᵀ it loads (coalesced across the group) feeds four FMAs; the tile states live in shared
    /// memory (2·tile·d floats, requested dynamically). <see cref="ScanTile4x4"/> makes each work item a 4×4 register
    /// tile, and <see cref="ScanSingleBuffer"/> keeps one buffer of tile·d floats with one work item per thread.
    /// </summary>
    /// <param name="matrixT">Mᵀ, [j·d + i] = M[i, j] (Āᵀ forward; Ā row-major for the adjoint).</param>
    /// <param name="bias">B̄ (scalar input) — unused with <see cref="ScanVectorInput"/>.</param>
    /// <param name="input">u [B, T, k], or g [B, T, k, d] with <see cref="ScanVectorInput"/>.</param>
    /// <param name="initial">Initial states [n, d] (forward chunks c = 0).</param>
    /// <param name="carries">Carries [N, d].</param>
    /// <param name="decoders">Decoder rows [Q, d] for <see cref="ScanDecode"/>.</param>
    /// <param name="states">All states [B, T, k, d] for <see cref="ScanWriteStates"/>.</param>
    /// <param name="decoded">Decoded outputs [B, T, k, Q] for <see cref="ScanDecode"/>.</param>
    /// <param name="ends">Chunk end states [N, d] for <see cref="ScanWriteEnds"/>.</param>
    /// <param name="p">Sizes (its <see cref="ScanParams.Flags"/> are not read: <paramref name="flagsValue"/> is).</param>
    /// <param name="flagsValue">The <c>Scan*</c> flags as a constant of the compiled kernel: each combination compiles
    /// to its own kernel without the other paths' code, which keeps the registers of the one that runs (ptxas, sm_90:
    /// 48 for the forward 4×4 tile and the adjoint, 64 for the single buffer, against 245 for all paths in one).</param>
    /// <remarks>Each column's output row and chunk length are computed once per launch into shared tables
    /// (<see cref="MaxTile"/> entries), so the step loop has no 64-bit division.</remarks>
    public static void ChunkSteps(ArrayView<float> matrixT, ArrayView<float> bias, ArrayView<float> input,
        ArrayView<float> initial, ArrayView<float> carries, ArrayView<float> decoders, ArrayView<float> states,
        ArrayView<float> decoded, ArrayView<float> ends, ScanParams p, SpecializedValue<int> flagsValue)
    {
        var shared = SharedMemory.GetDynamic<float>();
        int flags = flagsValue.Value;
        int d = p.Order;
        int tile = p.Tile;
        int tileFloats = tile * d;
        long firstCol = (long)Grid.IdxX * tile;
        bool reverse = (flags & ScanReverse) != 0;
        bool vector = (flags & ScanVectorInput) != 0;

        // Per column of the tile: the input row of its first step and its chunk's length (0 past the last column).
        var rowBase = SharedMemory.Allocate<long>(MaxTile);
        var lengthOf = SharedMemory.Allocate<int>(MaxTile);
        for (int g = Group.IdxX; g < tile; g += Group.DimX)
        {
            var column = ChunkColumn.Of(firstCol + g, p.Chunks, p.Channels, p.Steps, p.ChunkLength, p.LastLength, p.Columns);
            lengthOf[g] = column.Length;
            rowBase[g] = column.FirstRow;
        }

        var rows = new TileRows(rowBase, lengthOf, p.Channels, reverse);

        // Load the tile's start states.
        for (int w = Group.IdxX; w < tileFloats; w += Group.DimX)
        {
            int g = w / d;
            int i = w - g * d;
            long col = firstCol + g;
            float x = 0;
            if (col < p.Columns && (flags & ScanFromZero) == 0)
            {
                long seq = col / p.Chunks;
                int c = (int)(col - seq * p.Chunks);
                if (!reverse)
                {
                    x = c == 0 ? initial[seq * d + i] : carries[(col - 1) * d + i];
                }
                else if (c < p.Chunks - 1)
                {
                    x = carries[(col + 1) * d + i];
                }
            }

            shared[w] = x;
        }

        Group.Barrier();
        int current = 0;
        int quads = tile / 4;
        bool tile4 = (flags & ScanTile4x4) != 0;
        bool single = tile4 && (flags & ScanSingleBuffer) != 0;
        for (int j = 0; j < p.ChunkLength; j++)
        {
            int next = single ? 0 : tileFloats - current;
            if (single)
            {
                int stride = d / 4;
                int w = Group.IdxX;
                bool owner = w < stride * quads;
                int quad = w / stride;
                int i0 = w - quad * stride;
                int g0 = quad * 4;
                int x0 = g0 * d;
                var sums = owner ? Tile4x4Sums.Accumulate(matrixT, shared, d, i0, stride, x0) : default;

                // Everyone has read the states of step j − 1; now overwrite them in place.
                Group.Barrier();
                if (owner)
                {
                    StoreTile(sums, rows, g0, j, i0, stride, 0, 0, shared, bias, input, vector, p);
                }
            }
            else if (tile4)
            {
                int stride = d / 4;
                for (int w = Group.IdxX; w < stride * quads; w += Group.DimX)
                {
                    int quad = w / stride;
                    int i0 = w - quad * stride;
                    int g0 = quad * 4;
                    int x0 = current + g0 * d;
                    var sums = Tile4x4Sums.Accumulate(matrixT, shared, d, i0, stride, x0);
                    StoreTile(sums, rows, g0, j, i0, stride, current, next, shared, bias, input, vector, p);
                }
            }
            else
            {
                for (int w = Group.IdxX; w < d * quads; w += Group.DimX)
                {
                    int quad = w / d;
                    int i = w - quad * d;
                    int g0 = quad * 4;
                    float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
                    int x0 = current + g0 * d;
                    for (int k = 0; k < d; k++)
                    {
                        float m = matrixT[k * d + i];
                        a0 += m * shared[x0 + k];
                        a1 += m * shared[x0 + d + k];
                        a2 += m * shared[x0 + 2 * d + k];
                        a3 += m * shared[x0 + 3 * d + k];
                    }

                    StoreQuad(a0, a1, a2, a3, rows, g0, j, i, current, next, shared, bias, input, vector, p);
                }
            }

            Group.Barrier();
            if ((flags & ScanWriteStates) != 0)
            {
                for (int w = Group.IdxX; w < tileFloats; w += Group.DimX)
                {
                    int g = w / d;
                    long row = rows.Row(g, j);
                    if (row >= 0)
                    {
                        states[row * d + (w - g * d)] = shared[next + w];
                    }
                }
            }

            if ((flags & ScanDecode) != 0)
            {
                for (int w = Group.IdxX; w < tile * p.Delays; w += Group.DimX)
                {
                    int g = w / p.Delays;
                    int q = w - g * p.Delays;
                    long row = rows.Row(g, j);
                    if (row >= 0)
                    {
                        float y = 0;
                        for (int i = 0; i < d; i++)
                        {
                            y += decoders[q * d + i] * shared[next + g * d + i];
                        }

                        decoded[row * p.Delays + q] = y;
                    }
                }
            }

            // The next step overwrites the other buffer only after everyone has read this one.
            Group.Barrier();
            current = next;
        }

        if ((flags & ScanWriteEnds) != 0)
        {
            for (int w = Group.IdxX; w < tileFloats; w += Group.DimX)
            {
                long col = firstCol + w / d;
                if (col < p.Columns)
                {
                    ends[firstCol * d + w] = shared[current + w];
                }
            }
        }
    }

    /// <summary><see cref="ChunkSteps"/> with the flags read from <paramref name="p"/> at run time: one kernel for every
    /// flag combination, without ILGPU's kernel specialisation (the fallback that <c>$LMU_SPECIALIZE=0</c> selects).</summary>
    /// <param name="matrixT">See <see cref="ChunkSteps"/>.</param>
    /// <param name="bias">See <see cref="ChunkSteps"/>.</param>
    /// <param name="input">See <see cref="ChunkSteps"/>.</param>
    /// <param name="initial">See <see cref="ChunkSteps"/>.</param>
    /// <param name="carries">See <see cref="ChunkSteps"/>.</param>
    /// <param name="decoders">See <see cref="ChunkSteps"/>.</param>
    /// <param name="states">See <see cref="ChunkSteps"/>.</param>
    /// <param name="decoded">See <see cref="ChunkSteps"/>.</param>
    /// <param name="ends">See <see cref="ChunkSteps"/>.</param>
    /// <param name="p">Sizes and flags.</param>
    public static void ChunkStepsUnspecialized(ArrayView<float> matrixT, ArrayView<float> bias, ArrayView<float> input,
        ArrayView<float> initial, ArrayView<float> carries, ArrayView<float> decoders, ArrayView<float> states,
        ArrayView<float> decoded, ArrayView<float> ends, ScanParams p) =>
        ChunkSteps(matrixT, bias, input, initial, carries, decoders, states, decoded, ends, p, SpecializedValue.New(p.Flags));

    /// <summary>Writes a 4×4 tile of next states: rows i0 + r·stride (r = 0 … 3) of the columns g0 … g0 + 3.</summary>
    private static void StoreTile(Tile4x4Sums t, TileRows rows, int g0, int j, int i0, int stride, int current, int next,
        ArrayView<float> shared, ArrayView<float> bias, ArrayView<float> input, bool vector, ScanParams p)
    {
        StoreQuad(t.A00, t.A01, t.A02, t.A03, rows, g0, j, i0, current, next, shared, bias, input, vector, p);
        StoreQuad(t.A10, t.A11, t.A12, t.A13, rows, g0, j, i0 + stride, current, next, shared, bias, input, vector, p);
        StoreQuad(t.A20, t.A21, t.A22, t.A23, rows, g0, j, i0 + 2 * stride, current, next, shared, bias, input, vector, p);
        StoreQuad(t.A30, t.A31, t.A32, t.A33, rows, g0, j, i0 + 3 * stride, current, next, shared, bias, input, vector, p);
    }

    /// <summary>Writes the next states of row <paramref name="i"/> for the four columns g0 … g0 + 3.</summary>
    private static void StoreQuad(float a0, float a1, float a2, float a3, TileRows rows, int g0, int j, int i, int current, int next,
        ArrayView<float> shared, ArrayView<float> bias, ArrayView<float> input, bool vector, ScanParams p)
    {
        int d = p.Order;
        shared[next + g0 * d + i] = Finish(a0, rows, g0, j, i, current + g0 * d + i, shared, bias, input, vector, p);
        shared[next + (g0 + 1) * d + i] = Finish(a1, rows, g0 + 1, j, i, current + (g0 + 1) * d + i, shared, bias, input, vector, p);
        shared[next + (g0 + 2) * d + i] = Finish(a2, rows, g0 + 2, j, i, current + (g0 + 2) * d + i, shared, bias, input, vector, p);
        shared[next + (g0 + 3) * d + i] = Finish(a3, rows, g0 + 3, j, i, current + (g0 + 3) * d + i, shared, bias, input, vector, p);
    }

    private static float Finish(float acc, TileRows rows, int g, int j, int i, int currentIndex, ArrayView<float> shared,
        ArrayView<float> bias, ArrayView<float> input, bool vector, ScanParams p)
    {
        long row = rows.Row(g, j);
        if (row < 0)
        {
            return shared[currentIndex]; // inactive: keep the last state
        }

        return vector ? acc + input[row * p.Order + i] : acc + bias[i] * input[row];
    }
}
