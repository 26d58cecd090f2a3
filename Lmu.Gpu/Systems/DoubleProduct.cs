using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using MathNet.Numerics.LinearAlgebra;

namespace Lmu.Gpu;

/// <summary>
/// Dense double-precision matrix products for the host's system setup (the matrix exponential, Ā^L for the scan's
/// plans, the window search): register-blocked SIMD over column-major storage, column blocks in parallel. Math.NET's
/// managed product runs at 2–3 GFLOP/s on the development VM (17.8 ms at n = 257, 84 ms at n = 513), and a scan plan
/// or a matrix exponential takes 10–20 of them.
/// </summary>
internal static class DoubleProduct
{
    /// <summary>Columns of C per block (one broadcast of B each per depth).</summary>
    private const int BlockColumns = 4;

    /// <summary>Returns a·b for dense matrices (Math.NET's column-major storage read and written directly).</summary>
    /// <exception cref="ArgumentException">The inner dimensions differ.</exception>
    public static Matrix<double> Multiply(Matrix<double> a, Matrix<double> b)
    {
        if (a.ColumnCount != b.RowCount)
        {
            throw new ArgumentException($"a is {a.RowCount}×{a.ColumnCount} and b {b.RowCount}×{b.ColumnCount}: the inner dimensions differ.", nameof(b));
        }

        var c = new double[a.RowCount * b.ColumnCount];
        ColumnMajor(ColumnMajorArray(a), ColumnMajorArray(b), c, a.RowCount, a.ColumnCount, b.ColumnCount);
        return Matrix<double>.Build.Dense(a.RowCount, b.ColumnCount, c);
    }

    /// <summary>a^power for a square matrix and power ≥ 1, by repeated squaring.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="power"/> &lt; 1.</exception>
    public static Matrix<double> Power(Matrix<double> a, int power)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(power, 1);
        Matrix<double>? result = null;
        var square = a;
        while (true)
        {
            if ((power & 1) != 0)
            {
                result = result is null ? square : Multiply(result, square);
            }

            power >>= 1;
            if (power == 0)
            {
                return result!;
            }

            square = Multiply(square, square);
        }
    }

    /// <summary>result = a·b for d×d row-major arrays (as column-major, that is bᵀ·aᵀ = (a·b)ᵀ).</summary>
    public static void MultiplyRowMajor(double[] a, double[] b, double[] result, int d) => ColumnMajor(b, a, result, d, d, d);

    /// <summary>Depths per pass: a 16-row strip of A over this depth (16 KB) stays in L1 while it serves every column
    /// block of the worker's range.</summary>
    private const int Depth = 128;

    /// <summary>C [m×n] = A [m×k] · B [k×n], all column-major.</summary>
    internal static void ColumnMajor(double[] a, double[] b, double[] c, int m, int k, int n)
    {
        Array.Clear(c);
        int blocks = (n + BlockColumns - 1) / BlockColumns;
        int workers = (long)m * k * n < 1L << 18 ? 1 : Math.Min(blocks, 2 * HostThreads.Limit);
        if (workers == 1)
        {
            Range(a, b, c, m, k, n, 0, blocks);
            return;
        }

        int per = (blocks + workers - 1) / workers;
        HostThreads.For(workers, w => Range(a, b, c, m, k, n, w * per, Math.Min(blocks, (w + 1) * per)));
    }

    /// <summary>Column blocks <paramref name="from"/> … <paramref name="to"/> − 1 of C, depth by depth, in 512-bit
    /// vectors where the processor has them (AVX-512: 1.5–1.8× the 256-bit path on the development VM at n = 256 and
    /// 512), else 256-bit. Each element's sum runs over the depths in the same order either way.</summary>
    private static void Range(double[] a, double[] b, double[] c, int m, int k, int n, int from, int to)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            Range<Wide, Vector512<double>>(a, b, c, m, k, n, from, to);
        }
        else
        {
            Range<Narrow, Vector256<double>>(a, b, c, m, k, n, from, to);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Range<TOps, TVector>(double[] a, double[] b, double[] c, int m, int k, int n, int from, int to)
        where TOps : struct, IVectorOps<TVector>
        where TVector : struct
    {
        int lanes = TOps.Lanes;
        int step = 2 * lanes;
        int vectorRows = m - (m % step);
        int full = Math.Min(to, n / BlockColumns); // a ragged last block is left to the element loop below
        ref double a0 = ref a[0];
        ref double b0 = ref b[0];
        ref double c0 = ref c[0];
        for (int p0 = 0; p0 < k; p0 += Depth)
        {
            int p1 = Math.Min(k, p0 + Depth);
            for (int i = 0; i < vectorRows; i += step)
            {
                for (int block = from; block < full; block++)
                {
                    int j0 = block * BlockColumns;
                    var c00 = TOps.Load(ref c0, i + (j0 * m));
                    var c10 = TOps.Load(ref c0, i + (j0 * m) + lanes);
                    var c01 = TOps.Load(ref c0, i + ((j0 + 1) * m));
                    var c11 = TOps.Load(ref c0, i + ((j0 + 1) * m) + lanes);
                    var c02 = TOps.Load(ref c0, i + ((j0 + 2) * m));
                    var c12 = TOps.Load(ref c0, i + ((j0 + 2) * m) + lanes);
                    var c03 = TOps.Load(ref c0, i + ((j0 + 3) * m));
                    var c13 = TOps.Load(ref c0, i + ((j0 + 3) * m) + lanes);
                    for (int p = p0; p < p1; p++)
                    {
                        int column = (p * m) + i;
                        var x0 = TOps.Load(ref a0, column);
                        var x1 = TOps.Load(ref a0, column + lanes);
                        var y0 = TOps.Broadcast(Unsafe.Add(ref b0, p + (j0 * k)));
                        var y1 = TOps.Broadcast(Unsafe.Add(ref b0, p + ((j0 + 1) * k)));
                        var y2 = TOps.Broadcast(Unsafe.Add(ref b0, p + ((j0 + 2) * k)));
                        var y3 = TOps.Broadcast(Unsafe.Add(ref b0, p + ((j0 + 3) * k)));
                        c00 = TOps.Fma(x0, y0, c00);
                        c10 = TOps.Fma(x1, y0, c10);
                        c01 = TOps.Fma(x0, y1, c01);
                        c11 = TOps.Fma(x1, y1, c11);
                        c02 = TOps.Fma(x0, y2, c02);
                        c12 = TOps.Fma(x1, y2, c12);
                        c03 = TOps.Fma(x0, y3, c03);
                        c13 = TOps.Fma(x1, y3, c13);
                    }

                    TOps.Store(c00, ref c0, i + (j0 * m));
                    TOps.Store(c10, ref c0, i + (j0 * m) + lanes);
                    TOps.Store(c01, ref c0, i + ((j0 + 1) * m));
                    TOps.Store(c11, ref c0, i + ((j0 + 1) * m) + lanes);
                    TOps.Store(c02, ref c0, i + ((j0 + 2) * m));
                    TOps.Store(c12, ref c0, i + ((j0 + 2) * m) + lanes);
                    TOps.Store(c03, ref c0, i + ((j0 + 3) * m));
                    TOps.Store(c13, ref c0, i + ((j0 + 3) * m) + lanes);
                }
            }
        }

        // The rows past the vector blocks, and a ragged last column block, element by element (added to what the
        // vector blocks left there: nothing, since they skip both).
        for (int block = from; block < to; block++)
        {
            int j0 = block * BlockColumns;
            int width = Math.Min(BlockColumns, n - j0);
            Scalar(a, b, c, m, k, j0, width, width < BlockColumns ? 0 : vectorRows);
        }
    }

    /// <summary>The vector operations of the product's inner block, for one vector width (the JIT compiles a copy of
    /// <see cref="Range{TOps, TVector}"/> for each).</summary>
    private interface IVectorOps<TVector>
        where TVector : struct
    {
        static abstract int Lanes { get; }

        static abstract TVector Load(ref double origin, int at);

        static abstract TVector Broadcast(double value);

        static abstract TVector Fma(TVector x, TVector y, TVector sum);

        static abstract void Store(TVector value, ref double origin, int at);
    }

    /// <summary>512-bit vectors of eight doubles.</summary>
    private readonly struct Wide : IVectorOps<Vector512<double>>
    {
        public static int Lanes => Vector512<double>.Count;

        public static Vector512<double> Load(ref double origin, int at) => Vector512.LoadUnsafe(ref Unsafe.Add(ref origin, at));

        public static Vector512<double> Broadcast(double value) => Vector512.Create(value);

        public static Vector512<double> Fma(Vector512<double> x, Vector512<double> y, Vector512<double> sum) => Vector512.FusedMultiplyAdd(x, y, sum);

        public static void Store(Vector512<double> value, ref double origin, int at) => value.StoreUnsafe(ref Unsafe.Add(ref origin, at));
    }

    /// <summary>256-bit vectors of four doubles.</summary>
    private readonly struct Narrow : IVectorOps<Vector256<double>>
    {
        public static int Lanes => Vector256<double>.Count;

        public static Vector256<double> Load(ref double origin, int at) => Vector256.LoadUnsafe(ref Unsafe.Add(ref origin, at));

        public static Vector256<double> Broadcast(double value) => Vector256.Create(value);

        public static Vector256<double> Fma(Vector256<double> x, Vector256<double> y, Vector256<double> sum) => Vector256.FusedMultiplyAdd(x, y, sum);

        public static void Store(Vector256<double> value, ref double origin, int at) => value.StoreUnsafe(ref Unsafe.Add(ref origin, at));
    }

    /// <summary>Rows <paramref name="from"/> … m − 1 of columns j0 … j0 + width − 1, one at a time.</summary>
    private static void Scalar(double[] a, double[] b, double[] c, int m, int k, int j0, int width, int from)
    {
        for (int j = j0; j < j0 + width; j++)
        {
            for (int i = from; i < m; i++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                {
                    s = Math.FusedMultiplyAdd(a[(p * m) + i], b[p + (j * k)], s);
                }

                c[i + (j * m)] = s;
            }
        }
    }

    private static double[] ColumnMajorArray(Matrix<double> m) => m.AsColumnMajorArray() ?? m.ToColumnMajorArray();
}
