using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Lmu.Gpu.Kernels.Training;

namespace Lmu.Gpu.Training;

/// <summary>
/// The host path's weight-gradient product dW[P, Q] += Σ_(b, t ≥ shift) dY[b, t, :] ⊗ X[b, t − shift, :], a
/// (P × R)·(R × Q) product over R = B·T rows. The rows are split into one contiguous range per worker, each worker
/// sums its range into a private P × Q buffer (the buffers are added at the end), and a range is taken in chunks of
/// <see cref="ChunkRows"/> rows so that the chunk of dY and X stays in L2 while 4 × 64 register tiles (16 AVX-512
/// accumulators: 4 broadcasts and 4 loads per 16 FMAs) sweep it.
/// </summary>
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
        int workers = Math.Clamp((int)Math.Min(Environment.ProcessorCount, work / (1 << 20)), 1, Math.Max(1, chunks.Count));
        if (workers == 1)
        {
            foreach (var (first, count) in chunks)
            {
                Chunk(p, dY, dYOffset, x, xOffset, dW.AsSpan(dWOffset, p.P * p.Q), first, count);
            }

            return;
        }

        var partial = new float[workers][];
        Parallel.For(0, workers, wk =>
        {
            var sum = new float[p.P * p.Q];
            int from = (int)((long)chunks.Count * wk / workers);
            int to = (int)((long)chunks.Count * (wk + 1) / workers);
            for (int c = from; c < to; c++)
            {
                Chunk(p, dY, dYOffset, x, xOffset, sum, chunks[c].First, chunks[c].Count);
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
    private static void Chunk(OuterParams p, float[] dY, int dYOffset, float[] x, int xOffset, Span<float> dW, int first, int count)
    {
        int q4 = Vector512.IsHardwareAccelerated ? p.Q / 64 * 64 : 0;
        int q16 = Vector512.IsHardwareAccelerated ? p.Q / 16 * 16 : 0;
        int i4 = p.P / 4 * 4;
        for (int i = 0; i < i4; i += 4)
        {
            for (int q = 0; q < q4; q += 64)
            {
                Tile4x64(p, dY, dYOffset + (first * p.P) + i, x, xOffset + ((first - p.Shift) * p.Q) + q, count, dW, (i * p.Q) + q);
            }

            for (int q = q4; q < q16; q += 16)
            {
                Tile4x16(p, dY, dYOffset + (first * p.P) + i, x, xOffset + ((first - p.Shift) * p.Q) + q, count, dW, (i * p.Q) + q);
            }
        }

        // The rest (rows past the last group of four, columns past the last 16): one axpy per (row, i).
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

                int from = i < i4 ? q16 : 0;
                if (from < p.Q)
                {
                    Span<float> row = dW.Slice((i * p.Q) + from, p.Q - from);
                    TensorPrimitives.MultiplyAdd(xr[from..], g, row, row);
                }
            }
        }
    }

    /// <summary>dW[i … i + 3, q … q + 63] += Σ over <paramref name="count"/> rows of dY[r, i …]·X[r, q …].</summary>
    private static void Tile4x64(OuterParams p, float[] dY, int dYStart, float[] x, int xStart, int count, Span<float> dW, int wStart)
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        ReadOnlySpan<float> ys = dY;
        ReadOnlySpan<float> xs = x;
        for (int r = 0; r < count; r++)
        {
            int yo = dYStart + (r * p.P);
            int xo = xStart + (r * p.Q);
            var x0 = Vector512.Create(xs.Slice(xo, 16));
            var x1 = Vector512.Create(xs.Slice(xo + 16, 16));
            var x2 = Vector512.Create(xs.Slice(xo + 32, 16));
            var x3 = Vector512.Create(xs.Slice(xo + 48, 16));
            var g = Vector512.Create(ys[yo]);
            a00 = Vector512.FusedMultiplyAdd(g, x0, a00); a01 = Vector512.FusedMultiplyAdd(g, x1, a01);
            a02 = Vector512.FusedMultiplyAdd(g, x2, a02); a03 = Vector512.FusedMultiplyAdd(g, x3, a03);
            g = Vector512.Create(ys[yo + 1]);
            a10 = Vector512.FusedMultiplyAdd(g, x0, a10); a11 = Vector512.FusedMultiplyAdd(g, x1, a11);
            a12 = Vector512.FusedMultiplyAdd(g, x2, a12); a13 = Vector512.FusedMultiplyAdd(g, x3, a13);
            g = Vector512.Create(ys[yo + 2]);
            a20 = Vector512.FusedMultiplyAdd(g, x0, a20); a21 = Vector512.FusedMultiplyAdd(g, x1, a21);
            a22 = Vector512.FusedMultiplyAdd(g, x2, a22); a23 = Vector512.FusedMultiplyAdd(g, x3, a23);
            g = Vector512.Create(ys[yo + 3]);
            a30 = Vector512.FusedMultiplyAdd(g, x0, a30); a31 = Vector512.FusedMultiplyAdd(g, x1, a31);
            a32 = Vector512.FusedMultiplyAdd(g, x2, a32); a33 = Vector512.FusedMultiplyAdd(g, x3, a33);
        }

        AddRow(dW.Slice(wStart, 64), a00, a01, a02, a03);
        AddRow(dW.Slice(wStart + p.Q, 64), a10, a11, a12, a13);
        AddRow(dW.Slice(wStart + (2 * p.Q), 64), a20, a21, a22, a23);
        AddRow(dW.Slice(wStart + (3 * p.Q), 64), a30, a31, a32, a33);
    }

    /// <summary>dW[i … i + 3, q … q + 15] += Σ over <paramref name="count"/> rows of dY[r, i …]·X[r, q …] (the
    /// columns past the last 64).</summary>
    private static void Tile4x16(OuterParams p, float[] dY, int dYStart, float[] x, int xStart, int count, Span<float> dW, int wStart)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        ReadOnlySpan<float> ys = dY;
        ReadOnlySpan<float> xs = x;
        for (int r = 0; r < count; r++)
        {
            int yo = dYStart + (r * p.P);
            var x0 = Vector512.Create(xs.Slice(xStart + (r * p.Q), 16));
            a0 = Vector512.FusedMultiplyAdd(Vector512.Create(ys[yo]), x0, a0);
            a1 = Vector512.FusedMultiplyAdd(Vector512.Create(ys[yo + 1]), x0, a1);
            a2 = Vector512.FusedMultiplyAdd(Vector512.Create(ys[yo + 2]), x0, a2);
            a3 = Vector512.FusedMultiplyAdd(Vector512.Create(ys[yo + 3]), x0, a3);
        }

        for (int k = 0; k < 4; k++)
        {
            var row = dW.Slice(wStart + (k * p.Q), 16);
            var a = k switch { 0 => a0, 1 => a1, 2 => a2, _ => a3 };
            (Vector512.Create((ReadOnlySpan<float>)row) + a).CopyTo(row);
        }
    }

    private static void AddRow(Span<float> row, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3)
    {
        (Vector512.Create((ReadOnlySpan<float>)row[..16]) + v0).CopyTo(row[..16]);
        (Vector512.Create((ReadOnlySpan<float>)row.Slice(16, 16)) + v1).CopyTo(row.Slice(16, 16));
        (Vector512.Create((ReadOnlySpan<float>)row.Slice(32, 16)) + v2).CopyTo(row.Slice(32, 16));
        (Vector512.Create((ReadOnlySpan<float>)row.Slice(48, 16)) + v3).CopyTo(row.Slice(48, 16));
    }
}
