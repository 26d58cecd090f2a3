using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Lmu.Gpu;

/// <summary>The host scan's inner kernels: four or eight memories (chunk states) advanced together in lock step, so
/// every column of the matrix loaded into registers feeds four or eight states (a register-blocked d×d × d×4 or d×8
/// GEMM step). Unused columns can point at scratch with scale 0.</summary>
internal static unsafe class HostScanMath
{
    /// <summary>Four columns: y_g = M·x_g + s_g·bias_g for g &lt; 4.</summary>
    internal struct Columns
    {
        public float* X0, X1, X2, X3;
        public float* Y0, Y1, Y2, Y3;
        public float* B0, B1, B2, B3;
        public float S0, S1, S2, S3;

        /// <summary>Sets column <paramref name="q"/> (0 … 3): y_q = M·x_q + s·bias_q.</summary>
        public void Set(int q, float* x, float* y, float* bias, float s)
        {
            switch (q)
            {
                case 0: X0 = x; Y0 = y; B0 = bias; S0 = s; break;
                case 1: X1 = x; Y1 = y; B1 = bias; S1 = s; break;
                case 2: X2 = x; Y2 = y; B2 = bias; S2 = s; break;
                default: X3 = x; Y3 = y; B3 = bias; S3 = s; break;
            }
        }
    }

    /// <summary>Eight columns as two <see cref="Columns"/>: column q &lt; 4 in <see cref="Low"/>, else in
    /// <see cref="High"/>.</summary>
    internal struct Columns8
    {
        public Columns Low, High;

        /// <summary>Sets column <paramref name="q"/> (0 … 7): y_q = M·x_q + s·bias_q.</summary>
        public void Set(int q, float* x, float* y, float* bias, float s)
        {
            if (q < 4)
            {
                Low.Set(q, x, y, bias, s);
            }
            else
            {
                High.Set(q - 4, x, y, bias, s);
            }
        }

        /// <summary>Columns <paramref name="from"/> … 7, unused: each reads <paramref name="zero"/> (as x and as bias,
        /// scale 0) and writes to <paramref name="sink"/>, which overlaps no column's x.</summary>
        public void SetUnused(int from, float* zero, float* sink)
        {
            for (int q = from; q < 8; q++)
            {
                Set(q, zero, sink, zero, 0f);
            }
        }
    }

    /// <summary>The first <paramref name="width"/> (1 … 8) columns of <paramref name="c"/>: <see cref="Product8"/> for
    /// more than four (all eight columns set), else <see cref="Product4"/> on <see cref="Columns8.Low"/> (its four set).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Product(float* mT, int rows, int cols, ref Columns8 c, int width)
    {
        if (width > 4)
        {
            Product8(mT, rows, cols, ref c.Low, ref c.High);
        }
        else
        {
            Product4(mT, rows, cols, ref c.Low);
        }
    }

    /// <summary>Runs <see cref="Columns"/> for a rows × cols matrix M: y_g = M·x_g + s_g·bias_g, with
    /// <paramref name="mT"/> = Mᵀ (element [j·rows + i] = M[i, j]). No y may overlap any x; a y may be its own bias
    /// (scale 1: y += M·x), since each block of y is read before it is written.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Product4(float* mT, int rows, int cols, ref Columns c) => Product4Rows(mT, rows, cols, 0, ref c);

    /// <summary><see cref="Product4"/> for rows <paramref name="from"/> … rows − 1 only.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Product4Rows(float* mT, int rows, int cols, int from, ref Columns c)
    {
        int i = from;
        if (Vector512.IsHardwareAccelerated)
        {
            var s0 = Vector512.Create(c.S0);
            var s1 = Vector512.Create(c.S1);
            var s2 = Vector512.Create(c.S2);
            var s3 = Vector512.Create(c.S3);
            for (; i + 32 <= rows; i += 32)
            {
                var a00 = Vector512.Load(c.B0 + i) * s0;
                var a01 = Vector512.Load(c.B1 + i) * s1;
                var a02 = Vector512.Load(c.B2 + i) * s2;
                var a03 = Vector512.Load(c.B3 + i) * s3;
                var a10 = Vector512.Load(c.B0 + i + 16) * s0;
                var a11 = Vector512.Load(c.B1 + i + 16) * s1;
                var a12 = Vector512.Load(c.B2 + i + 16) * s2;
                var a13 = Vector512.Load(c.B3 + i + 16) * s3;
                float* row = mT + i;
                for (int j = 0; j < cols; j++, row += rows)
                {
                    var m0 = Vector512.Load(row);
                    var m1 = Vector512.Load(row + 16);
                    var x0 = Vector512.Create(c.X0[j]);
                    var x1 = Vector512.Create(c.X1[j]);
                    var x2 = Vector512.Create(c.X2[j]);
                    var x3 = Vector512.Create(c.X3[j]);
                    a00 = Vector512.FusedMultiplyAdd(m0, x0, a00);
                    a01 = Vector512.FusedMultiplyAdd(m0, x1, a01);
                    a02 = Vector512.FusedMultiplyAdd(m0, x2, a02);
                    a03 = Vector512.FusedMultiplyAdd(m0, x3, a03);
                    a10 = Vector512.FusedMultiplyAdd(m1, x0, a10);
                    a11 = Vector512.FusedMultiplyAdd(m1, x1, a11);
                    a12 = Vector512.FusedMultiplyAdd(m1, x2, a12);
                    a13 = Vector512.FusedMultiplyAdd(m1, x3, a13);
                }

                a00.Store(c.Y0 + i);
                a01.Store(c.Y1 + i);
                a02.Store(c.Y2 + i);
                a03.Store(c.Y3 + i);
                a10.Store(c.Y0 + i + 16);
                a11.Store(c.Y1 + i + 16);
                a12.Store(c.Y2 + i + 16);
                a13.Store(c.Y3 + i + 16);
            }

            for (; i + 16 <= rows; i += 16)
            {
                Rows16(mT, rows, cols, i, ref c, c.Y0 + i, c.Y1 + i, c.Y2 + i, c.Y3 + i);
            }

            if (i < rows && rows >= 16)
            {
                // The last rows − i (< 16) rows as one 16-row block ending at the last row, overlapping the block
                // before it. Only rows i … rows − 1 are stored, so an in-place y (its own bias) has not been written
                // there yet; the overlapped rows are recomputed and dropped.
                int r0 = rows - 16;
                float* block = stackalloc float[64];
                Rows16(mT, rows, cols, r0, ref c, block, block + 16, block + 32, block + 48);
                for (int r = i - r0; r < 16; r++)
                {
                    c.Y0[r0 + r] = block[r];
                    c.Y1[r0 + r] = block[16 + r];
                    c.Y2[r0 + r] = block[32 + r];
                    c.Y3[r0 + r] = block[48 + r];
                }

                i = rows;
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var s0 = Vector256.Create(c.S0);
            var s1 = Vector256.Create(c.S1);
            var s2 = Vector256.Create(c.S2);
            var s3 = Vector256.Create(c.S3);
            for (; i + 8 <= rows; i += 8)
            {
                var a00 = Vector256.Load(c.B0 + i) * s0;
                var a01 = Vector256.Load(c.B1 + i) * s1;
                var a02 = Vector256.Load(c.B2 + i) * s2;
                var a03 = Vector256.Load(c.B3 + i) * s3;
                float* row = mT + i;
                for (int j = 0; j < cols; j++, row += rows)
                {
                    var m0 = Vector256.Load(row);
                    a00 = Vector256.FusedMultiplyAdd(m0, Vector256.Create(c.X0[j]), a00);
                    a01 = Vector256.FusedMultiplyAdd(m0, Vector256.Create(c.X1[j]), a01);
                    a02 = Vector256.FusedMultiplyAdd(m0, Vector256.Create(c.X2[j]), a02);
                    a03 = Vector256.FusedMultiplyAdd(m0, Vector256.Create(c.X3[j]), a03);
                }

                a00.Store(c.Y0 + i);
                a01.Store(c.Y1 + i);
                a02.Store(c.Y2 + i);
                a03.Store(c.Y3 + i);
            }
        }

        for (; i < rows; i++)
        {
            float y0 = c.B0[i] * c.S0, y1 = c.B1[i] * c.S1, y2 = c.B2[i] * c.S2, y3 = c.B3[i] * c.S3;
            for (int j = 0; j < cols; j++)
            {
                float m = mT[j * rows + i];
                y0 = MathF.FusedMultiplyAdd(m, c.X0[j], y0);
                y1 = MathF.FusedMultiplyAdd(m, c.X1[j], y1);
                y2 = MathF.FusedMultiplyAdd(m, c.X2[j], y2);
                y3 = MathF.FusedMultiplyAdd(m, c.X3[j], y3);
            }

            c.Y0[i] = y0;
            c.Y1[i] = y1;
            c.Y2[i] = y2;
            c.Y3[i] = y3;
        }
    }

    /// <summary>Runs two <see cref="Columns"/> (eight columns) for a rows × cols matrix M, as
    /// <see cref="Product4"/> does for four: each vector of Mᵀ loaded feeds eight columns (a 32-row × 8-column register
    /// block of 16 accumulators), which halves the matrix traffic per multiply-add where M is streamed from L2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Product8(float* mT, int rows, int cols, ref Columns c, ref Columns e)
    {
        if (!Vector512.IsHardwareAccelerated)
        {
            Product4(mT, rows, cols, ref c);
            Product4(mT, rows, cols, ref e);
            return;
        }

        int i = 0;
        var s0 = Vector512.Create(c.S0);
        var s1 = Vector512.Create(c.S1);
        var s2 = Vector512.Create(c.S2);
        var s3 = Vector512.Create(c.S3);
        var s4 = Vector512.Create(e.S0);
        var s5 = Vector512.Create(e.S1);
        var s6 = Vector512.Create(e.S2);
        var s7 = Vector512.Create(e.S3);
        float* x0 = c.X0, x1 = c.X1, x2 = c.X2, x3 = c.X3, x4 = e.X0, x5 = e.X1, x6 = e.X2, x7 = e.X3;
        for (; i + 32 <= rows; i += 32)
        {
            var a00 = Vector512.Load(c.B0 + i) * s0;
            var a01 = Vector512.Load(c.B1 + i) * s1;
            var a02 = Vector512.Load(c.B2 + i) * s2;
            var a03 = Vector512.Load(c.B3 + i) * s3;
            var a04 = Vector512.Load(e.B0 + i) * s4;
            var a05 = Vector512.Load(e.B1 + i) * s5;
            var a06 = Vector512.Load(e.B2 + i) * s6;
            var a07 = Vector512.Load(e.B3 + i) * s7;
            var a10 = Vector512.Load(c.B0 + i + 16) * s0;
            var a11 = Vector512.Load(c.B1 + i + 16) * s1;
            var a12 = Vector512.Load(c.B2 + i + 16) * s2;
            var a13 = Vector512.Load(c.B3 + i + 16) * s3;
            var a14 = Vector512.Load(e.B0 + i + 16) * s4;
            var a15 = Vector512.Load(e.B1 + i + 16) * s5;
            var a16 = Vector512.Load(e.B2 + i + 16) * s6;
            var a17 = Vector512.Load(e.B3 + i + 16) * s7;
            float* row = mT + i;
            for (int j = 0; j < cols; j++, row += rows)
            {
                var m0 = Vector512.Load(row);
                var m1 = Vector512.Load(row + 16);
                var v = Vector512.Create(x0[j]);
                a00 = Vector512.FusedMultiplyAdd(m0, v, a00);
                a10 = Vector512.FusedMultiplyAdd(m1, v, a10);
                v = Vector512.Create(x1[j]);
                a01 = Vector512.FusedMultiplyAdd(m0, v, a01);
                a11 = Vector512.FusedMultiplyAdd(m1, v, a11);
                v = Vector512.Create(x2[j]);
                a02 = Vector512.FusedMultiplyAdd(m0, v, a02);
                a12 = Vector512.FusedMultiplyAdd(m1, v, a12);
                v = Vector512.Create(x3[j]);
                a03 = Vector512.FusedMultiplyAdd(m0, v, a03);
                a13 = Vector512.FusedMultiplyAdd(m1, v, a13);
                v = Vector512.Create(x4[j]);
                a04 = Vector512.FusedMultiplyAdd(m0, v, a04);
                a14 = Vector512.FusedMultiplyAdd(m1, v, a14);
                v = Vector512.Create(x5[j]);
                a05 = Vector512.FusedMultiplyAdd(m0, v, a05);
                a15 = Vector512.FusedMultiplyAdd(m1, v, a15);
                v = Vector512.Create(x6[j]);
                a06 = Vector512.FusedMultiplyAdd(m0, v, a06);
                a16 = Vector512.FusedMultiplyAdd(m1, v, a16);
                v = Vector512.Create(x7[j]);
                a07 = Vector512.FusedMultiplyAdd(m0, v, a07);
                a17 = Vector512.FusedMultiplyAdd(m1, v, a17);
            }

            a00.Store(c.Y0 + i);
            a01.Store(c.Y1 + i);
            a02.Store(c.Y2 + i);
            a03.Store(c.Y3 + i);
            a04.Store(e.Y0 + i);
            a05.Store(e.Y1 + i);
            a06.Store(e.Y2 + i);
            a07.Store(e.Y3 + i);
            a10.Store(c.Y0 + i + 16);
            a11.Store(c.Y1 + i + 16);
            a12.Store(c.Y2 + i + 16);
            a13.Store(c.Y3 + i + 16);
            a14.Store(e.Y0 + i + 16);
            a15.Store(e.Y1 + i + 16);
            a16.Store(e.Y2 + i + 16);
            a17.Store(e.Y3 + i + 16);
        }

        if (i < rows)
        {
            // The last rows (fewer than 32) four columns at a time.
            Product4Rows(mT, rows, cols, i, ref c);
            Product4Rows(mT, rows, cols, i, ref e);
        }
    }

    /// <summary>Rows r0 … r0 + 15 of the four columns (AVX-512), stored to <paramref name="y0"/> … <paramref name="y3"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Rows16(float* mT, int rows, int cols, int r0, ref Columns c, float* y0, float* y1, float* y2, float* y3)
    {
        var a0 = Vector512.Load(c.B0 + r0) * Vector512.Create(c.S0);
        var a1 = Vector512.Load(c.B1 + r0) * Vector512.Create(c.S1);
        var a2 = Vector512.Load(c.B2 + r0) * Vector512.Create(c.S2);
        var a3 = Vector512.Load(c.B3 + r0) * Vector512.Create(c.S3);
        float* row = mT + r0;
        for (int j = 0; j < cols; j++, row += rows)
        {
            var m0 = Vector512.Load(row);
            a0 = Vector512.FusedMultiplyAdd(m0, Vector512.Create(c.X0[j]), a0);
            a1 = Vector512.FusedMultiplyAdd(m0, Vector512.Create(c.X1[j]), a1);
            a2 = Vector512.FusedMultiplyAdd(m0, Vector512.Create(c.X2[j]), a2);
            a3 = Vector512.FusedMultiplyAdd(m0, Vector512.Create(c.X3[j]), a3);
        }

        a0.Store(y0);
        a1.Store(y1);
        a2.Store(y2);
        a3.Store(y3);
    }

    /// <summary>acc += Σ_q h[(len−1−q)] · u[q·stride], the chunk end state of phase A (h rows of d floats).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ChunkEndState(float* h, int d, float* u, long stride, int length, float* acc)
    {
        new Span<float>(acc, d).Clear();
        for (int q = 0; q < length; q++)
        {
            float uq = u[q * stride];
            float* row = h + (long)(length - 1 - q) * d;
            int i = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                var vu = Vector512.Create(uq);
                for (; i + 16 <= d; i += 16)
                {
                    Vector512.FusedMultiplyAdd(Vector512.Load(row + i), vu, Vector512.Load(acc + i)).Store(acc + i);
                }
            }

            for (; i < d; i++)
            {
                acc[i] = MathF.FusedMultiplyAdd(row[i], uq, acc[i]);
            }
        }
    }

    /// <summary>Σ a_i·b_i.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(float* a, float* b, int d) =>
        System.Numerics.Tensors.TensorPrimitives.Dot(new ReadOnlySpan<float>(a, d), new ReadOnlySpan<float>(b, d));

    /// <summary>t[j·rows + i] = m[i·cols + j] for the rows × cols matrix m, in 16 × 16 tiles (both sides stay in cache
    /// lines while a tile is copied).</summary>
    public static void Transpose(ReadOnlySpan<float> m, int rows, int cols, Span<float> t)
    {
        const int tile = 16;
        for (int i0 = 0; i0 < rows; i0 += tile)
        {
            int i1 = Math.Min(rows, i0 + tile);
            for (int j0 = 0; j0 < cols; j0 += tile)
            {
                int j1 = Math.Min(cols, j0 + tile);
                for (int i = i0; i < i1; i++)
                {
                    for (int j = j0; j < j1; j++)
                    {
                        t[(j * rows) + i] = m[(i * cols) + j];
                    }
                }
            }
        }
    }
}
