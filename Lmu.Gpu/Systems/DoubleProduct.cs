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
        int workers = (long)m * k * n < 1L << 18 ? 1 : Math.Min(blocks, 2 * Environment.ProcessorCount);
        if (workers == 1)
        {
            Range(a, b, c, m, k, n, 0, blocks);
            return;
        }

        int per = (blocks + workers - 1) / workers;
        Parallel.For(0, workers, w => Range(a, b, c, m, k, n, w * per, Math.Min(blocks, (w + 1) * per)));
    }

    /// <summary>Column blocks <paramref name="from"/> … <paramref name="to"/> − 1 of C, depth by depth.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Range(double[] a, double[] b, double[] c, int m, int k, int n, int from, int to)
    {
        int lanes = Vector256<double>.Count;
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
                    var c00 = Load(ref c0, i + (j0 * m));
                    var c10 = Load(ref c0, i + (j0 * m) + lanes);
                    var c01 = Load(ref c0, i + ((j0 + 1) * m));
                    var c11 = Load(ref c0, i + ((j0 + 1) * m) + lanes);
                    var c02 = Load(ref c0, i + ((j0 + 2) * m));
                    var c12 = Load(ref c0, i + ((j0 + 2) * m) + lanes);
                    var c03 = Load(ref c0, i + ((j0 + 3) * m));
                    var c13 = Load(ref c0, i + ((j0 + 3) * m) + lanes);
                    for (int p = p0; p < p1; p++)
                    {
                        ref double column = ref Unsafe.Add(ref a0, (p * m) + i);
                        var x0 = Vector256.LoadUnsafe(ref column);
                        var x1 = Vector256.LoadUnsafe(ref column, (nuint)lanes);
                        var y0 = Vector256.Create(Unsafe.Add(ref b0, p + (j0 * k)));
                        var y1 = Vector256.Create(Unsafe.Add(ref b0, p + ((j0 + 1) * k)));
                        var y2 = Vector256.Create(Unsafe.Add(ref b0, p + ((j0 + 2) * k)));
                        var y3 = Vector256.Create(Unsafe.Add(ref b0, p + ((j0 + 3) * k)));
                        c00 = Vector256.FusedMultiplyAdd(x0, y0, c00);
                        c10 = Vector256.FusedMultiplyAdd(x1, y0, c10);
                        c01 = Vector256.FusedMultiplyAdd(x0, y1, c01);
                        c11 = Vector256.FusedMultiplyAdd(x1, y1, c11);
                        c02 = Vector256.FusedMultiplyAdd(x0, y2, c02);
                        c12 = Vector256.FusedMultiplyAdd(x1, y2, c12);
                        c03 = Vector256.FusedMultiplyAdd(x0, y3, c03);
                        c13 = Vector256.FusedMultiplyAdd(x1, y3, c13);
                    }

                    Store(ref c0, c00, c10, i + (j0 * m), lanes);
                    Store(ref c0, c01, c11, i + ((j0 + 1) * m), lanes);
                    Store(ref c0, c02, c12, i + ((j0 + 2) * m), lanes);
                    Store(ref c0, c03, c13, i + ((j0 + 3) * m), lanes);
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

    private static Vector256<double> Load(ref double c, int at) => Vector256.LoadUnsafe(ref Unsafe.Add(ref c, at));

    private static void Store(ref double c, Vector256<double> low, Vector256<double> high, int at, int lanes)
    {
        low.StoreUnsafe(ref Unsafe.Add(ref c, at));
        high.StoreUnsafe(ref Unsafe.Add(ref c, at + lanes));
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
