using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Lmu.Gpu.Kernels.Training;

namespace Lmu.Gpu.Training;

/// <summary>
/// The host path's weight-gradient product dW[P, Q] += Σ_(b, t ≥ shift) dY[b, t, :] ⊗ X[b, t − shift, :], a
/// (P × R)·(R × Q) product over R = B·T rows. The rows are split into one contiguous range per worker, each worker
/// sums its range into a private P × Q buffer (the buffers are added at the end), and a range is taken in chunks of
/// <see cref="ChunkRows"/> rows. With AVX-512 a chunk is packed (dY as 8-row blocks, X 32 columns at a time, both
/// contiguous and zero-padded) and swept by 8 × 32 register tiles (16 accumulators: 2 loads and 8 broadcasts per 16
/// FMAs), the 16 KiB block of X staying in L1; without it, one axpy per row and unit. A single row or column of dW (a
/// layer with one output or one input) takes the axpys too: padded to a tile it would do 8 or 32 times the work.
/// </summary>
/// <remarks>The tile's sums leave through a buffer of the worker's (<see cref="Packs.Tile"/>), not a stack buffer:
/// with a stackalloc in the tile method the JIT stored all 16 accumulators to the stack on every row (measured 34
/// against 91 GFLOP/s on one core).</remarks>
internal static class HostOuter
{
    /// <summary>Rows per chunk: 128 rows of X and dY (≈ 100–250 KiB at the paper's widths) stay in L2.</summary>
    private const int ChunkRows = 128;

    /// <summary>dW += Σ dY ⊗ X over the rows of <paramref name="p"/>.</summary>
    /// <param name="p">Sizes and shift.</param>
    /// <param name="dY">[B, T, P].</param>
    /// <param name="dYOffset">Where dY starts in <paramref name="dY"/>.</param>
    /// <param name="x">[B, T, Q].</param>
    /// <param name="xOffset">Where X starts in <paramref name="x"/>.</param>
    /// <param name="dW">[P, Q], accumulated.</param>
    /// <param name="dWOffset">Where dW starts in <paramref name="dW"/>.</param>
    public static void Accumulate(OuterParams p, float[] dY, int dYOffset, float[] x, int xOffset, float[] dW, int dWOffset)
    {
        var chunks = new List<(int First, int Count)>();
        for (int b = 0; b < p.Batch; b++)
        {
            for (int t = p.Shift; t < p.Steps; t += ChunkRows)
            {
                chunks.Add(((b * p.Steps) + t, Math.Min(ChunkRows, p.Steps - t)));
            }
        }

        long work = (long)p.Batch * p.Steps * p.P * p.Q;
        int workers = Math.Clamp((int)Math.Min(HostThreads.Limit, work / (1 << 20)), 1, Math.Max(1, chunks.Count));
        if (workers == 1)
        {
            var packs = Packs.ForThread(p.P);
            foreach (var (first, count) in chunks)
            {
                Chunk(p, dY, dYOffset, x, xOffset, dW.AsSpan(dWOffset, p.P * p.Q), first, count, packs);
            }

            return;
        }

        var partial = new float[workers][];
        HostThreads.For(workers, wk =>
        {
            var sum = new float[p.P * p.Q];
            var packs = Packs.ForThread(p.P);
            int from = (int)((long)chunks.Count * wk / workers);
            int to = (int)((long)chunks.Count * (wk + 1) / workers);
            for (int c = from; c < to; c++)
            {
                Chunk(p, dY, dYOffset, x, xOffset, sum, chunks[c].First, chunks[c].Count, packs);
            }

            partial[wk] = sum;
        });

        var target = dW.AsSpan(dWOffset, p.P * p.Q);
        foreach (var sum in partial)
        {
            TensorPrimitives.Add(target, sum, target);
        }
    }

    /// <summary>One chunk: rows first … first + count − 1 of dY against rows − shift of X.</summary>
    private static void Chunk(OuterParams p, float[] dY, int dYOffset, float[] x, int xOffset, Span<float> dW, int first, int count, Packs packs)
    {
        if (p.Q == 1)
        {
            ColumnOfX(p, dY, dYOffset, x, xOffset, dW, first, count);
            return;
        }

        if (Vector512.IsHardwareAccelerated && p.P > 1)
        {
            PackedChunk(p, dY, dYOffset, x, xOffset, dW, first, count, packs);
            return;
        }

        // Without AVX-512, and for one row of dW (a layer with one output, where the packed tiles would pad dY's single
        // unit to 8): one axpy per (row, i).
        for (int r = first; r < first + count; r++)
        {
            ReadOnlySpan<float> xr = x.AsSpan(xOffset + ((r - p.Shift) * p.Q), p.Q);
            for (int i = 0; i < p.P; i++)
            {
                float g = dY[dYOffset + (r * p.P) + i];
                if (g == 0)
                {
                    continue;
                }

                Span<float> row = dW.Slice(i * p.Q, p.Q);
                TensorPrimitives.MultiplyAdd(xr, g, row, row);
            }
        }
    }

    /// <summary>One column of X (a layer with one input): dW[i, 0] += Σ_r dY[r, i]·x_r, a matrix-vector product summed
    /// in vector registers over the chunk's rows, 4·W units at a time. The packed tiles would pad X's single column to
    /// 32, and one axpy per row would store dW back at every row.</summary>
    private static void ColumnOfX(OuterParams p, float[] dY, int dYOffset, float[] x, int xOffset, Span<float> dW, int first, int count)
    {
        int width = System.Numerics.Vector<float>.Count;
        int block = 4 * width;
        int i0 = 0;
        for (; i0 + block <= p.P; i0 += block)
        {
            var s0 = System.Numerics.Vector<float>.Zero;
            var s1 = System.Numerics.Vector<float>.Zero;
            var s2 = System.Numerics.Vector<float>.Zero;
            var s3 = System.Numerics.Vector<float>.Zero;
            for (int r = first; r < first + count; r++)
            {
                var xs = new System.Numerics.Vector<float>(x[xOffset + r - p.Shift]);
                var row = dY.AsSpan(dYOffset + (r * p.P) + i0, block);
                s0 += new System.Numerics.Vector<float>(row) * xs;
                s1 += new System.Numerics.Vector<float>(row[width..]) * xs;
                s2 += new System.Numerics.Vector<float>(row[(2 * width)..]) * xs;
                s3 += new System.Numerics.Vector<float>(row[(3 * width)..]) * xs;
            }

            var target = dW.Slice(i0, block);
            (new System.Numerics.Vector<float>(target) + s0).CopyTo(target);
            (new System.Numerics.Vector<float>(target[width..]) + s1).CopyTo(target[width..]);
            (new System.Numerics.Vector<float>(target[(2 * width)..]) + s2).CopyTo(target[(2 * width)..]);
            (new System.Numerics.Vector<float>(target[(3 * width)..]) + s3).CopyTo(target[(3 * width)..]);
        }

        for (int i = i0; i < p.P; i++)
        {
            float sum = 0;
            for (int r = first; r < first + count; r++)
            {
                sum += dY[dYOffset + (r * p.P) + i] * x[xOffset + r - p.Shift];
            }

            dW[i] += sum;
        }
    }

    /// <summary>A worker's packed copies of one chunk: dY as [⌈P/8⌉ blocks][rows][8] and 32 columns of X as
    /// [rows][32], zero-padded past P and Q, so the 8 × 32 tiles read contiguous memory (X's 16 KiB block stays in L1
    /// while every block of dY sweeps it).</summary>
    private sealed class Packs
    {
        [ThreadStatic]
        private static Packs? _cached;

        private Packs(int blocks)
        {
            Blocks = blocks;
            Y = new float[blocks * 8 * ChunkRows];
        }

        /// <summary>8-row blocks of dY the buffer holds.</summary>
        public int Blocks { get; }

        public float[] Y { get; }

        public float[] X { get; } = new float[32 * ChunkRows];

        /// <summary>One 8 × 32 tile of sums on its way to dW.</summary>
        public float[] Tile { get; } = new float[8 * 32];

        /// <summary>The calling thread's buffers, reused across calls (every training step calls this several times,
        /// and dY's pack is over 85 KB: a fresh one each call would be a large-object allocation).</summary>
        public static Packs ForThread(int units)
        {
            int blocks = (units + 7) / 8;
            if (_cached is null || _cached.Blocks < blocks)
            {
                _cached = new Packs(blocks);
            }

            return _cached;
        }
    }

    /// <summary>One chunk with AVX-512: pack dY once, then for each 32-column block of X pack it and sweep it with
    /// every 8-row block of dY (<see cref="Tile8x32"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void PackedChunk(OuterParams p, float[] dY, int dYOffset, float[] x, int xOffset, Span<float> dW, int first, int count, Packs packs)
    {
        int blocks = (p.P + 7) / 8;
        fixed (float* py = dY, px = x, yp = packs.Y, xp = packs.X, tp = packs.Tile, pw = dW)
        {
            for (int r = 0; r < count; r++)
            {
                float* src = py + dYOffset + ((long)(first + r) * p.P);
                for (int b = 0; b < blocks; b++)
                {
                    float* dst = yp + ((((long)b * count) + r) * 8);
                    int i0 = b * 8;
                    int n = Math.Min(8, p.P - i0);
                    for (int k = 0; k < 8; k++)
                    {
                        dst[k] = k < n ? src[i0 + k] : 0f;
                    }
                }
            }

            for (int q = 0; q < p.Q; q += 32)
            {
                int width = Math.Min(32, p.Q - q);
                for (int r = 0; r < count; r++)
                {
                    float* src = px + xOffset + ((long)(first + r - p.Shift) * p.Q) + q;
                    float* dst = xp + (r * 32);
                    if (width == 32)
                    {
                        Vector512.Load(src).Store(dst);
                        Vector512.Load(src + 16).Store(dst + 16);
                    }
                    else
                    {
                        for (int k = 0; k < 32; k++)
                        {
                            dst[k] = k < width ? src[k] : 0f;
                        }
                    }
                }

                for (int b = 0; b < blocks; b++)
                {
                    Tile8x32(yp + ((long)b * count * 8), xp, count, tp);
                    AddTile(tp, pw + ((long)b * 8 * p.Q) + q, p.Q, Math.Min(8, p.P - (b * 8)), width);
                }
            }
        }
    }

    /// <summary>tile[k, c] = Σ_r y[r, k]·x[r, c] for k &lt; 8, c &lt; 32 (16 AVX-512 accumulators).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Tile8x32(float* y, float* x, int count, float* block)
    {
        Vector512<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
        Vector512<float> a40 = default, a41 = default, a50 = default, a51 = default, a60 = default, a61 = default, a70 = default, a71 = default;
        for (int r = 0; r < count; r++, y += 8, x += 32)
        {
            var x0 = Vector512.Load(x);
            var x1 = Vector512.Load(x + 16);
            var g = Vector512.Create(y[0]);
            a00 = Vector512.FusedMultiplyAdd(g, x0, a00);
            a01 = Vector512.FusedMultiplyAdd(g, x1, a01);
            g = Vector512.Create(y[1]);
            a10 = Vector512.FusedMultiplyAdd(g, x0, a10);
            a11 = Vector512.FusedMultiplyAdd(g, x1, a11);
            g = Vector512.Create(y[2]);
            a20 = Vector512.FusedMultiplyAdd(g, x0, a20);
            a21 = Vector512.FusedMultiplyAdd(g, x1, a21);
            g = Vector512.Create(y[3]);
            a30 = Vector512.FusedMultiplyAdd(g, x0, a30);
            a31 = Vector512.FusedMultiplyAdd(g, x1, a31);
            g = Vector512.Create(y[4]);
            a40 = Vector512.FusedMultiplyAdd(g, x0, a40);
            a41 = Vector512.FusedMultiplyAdd(g, x1, a41);
            g = Vector512.Create(y[5]);
            a50 = Vector512.FusedMultiplyAdd(g, x0, a50);
            a51 = Vector512.FusedMultiplyAdd(g, x1, a51);
            g = Vector512.Create(y[6]);
            a60 = Vector512.FusedMultiplyAdd(g, x0, a60);
            a61 = Vector512.FusedMultiplyAdd(g, x1, a61);
            g = Vector512.Create(y[7]);
            a70 = Vector512.FusedMultiplyAdd(g, x0, a70);
            a71 = Vector512.FusedMultiplyAdd(g, x1, a71);
        }

        a00.Store(block);
        a01.Store(block + 16);
        a10.Store(block + 32);
        a11.Store(block + 48);
        a20.Store(block + 64);
        a21.Store(block + 80);
        a30.Store(block + 96);
        a31.Store(block + 112);
        a40.Store(block + 128);
        a41.Store(block + 144);
        a50.Store(block + 160);
        a51.Store(block + 176);
        a60.Store(block + 192);
        a61.Store(block + 208);
        a70.Store(block + 224);
        a71.Store(block + 240);
    }

    /// <summary>w[k, c] += tile[k, c] for the first <paramref name="rows"/> × <paramref name="width"/>.</summary>
    private static unsafe void AddTile(float* block, float* w, int stride, int rows, int width)
    {
        for (int k = 0; k < rows; k++)
        {
            float* wk = w + ((long)k * stride);
            float* bk = block + (k * 32);
            int c = 0;
            if (width == 32)
            {
                (Vector512.Load(wk) + Vector512.Load(bk)).Store(wk);
                (Vector512.Load(wk + 16) + Vector512.Load(bk + 16)).Store(wk + 16);
                c = 32;
            }

            for (; c < width; c++)
            {
                wk[c] += bk[c];
            }
        }
    }

}
