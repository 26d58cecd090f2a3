using NUnit.Framework;

namespace Lmu.Gpu.Tests.Scan;

/// <summary>The host scan's register-blocked products against double sums.</summary>
[TestFixture]
public sealed unsafe class HostScanMathTests
{
    [TestCase(64, 64)]
    [TestCase(256, 256)]
    [TestCase(50, 20)]
    [TestCase(212, 256)]
    [TestCase(7, 9)]
    public void Product8_EqualsDoubleSums(int rows, int cols)
    {
        // rows = 50: one 32-row block, then a 16-row block and the last 2 rows as a block overlapping it; 212 (the
        // paper's psMNIST cell): six 32-row blocks, a 16-row block and an overlapped tail of 4; rows = 7: the scalar
        // path only. Every column has its own x, bias and scale, so a crossed column or a dropped bias term shows.
        var rng = new Random(rows * 31 + cols);
        float[] mT = Random(rng, rows * cols);
        float[] x = Random(rng, 8 * cols);
        float[] bias = Random(rng, 8 * rows);
        float[] scale = Random(rng, 8);
        var y = new float[8 * rows];
        fixed (float* mp = mT)
        fixed (float* xp = x)
        fixed (float* bp = bias)
        fixed (float* yp = y)
        {
            var low = default(HostScanMath.Columns);
            var high = default(HostScanMath.Columns);
            for (int q = 0; q < 8; q++)
            {
                (q < 4 ? ref low : ref high).Set(q & 3, xp + q * cols, yp + q * rows, bp + q * rows, scale[q]);
            }

            HostScanMath.Product8(mp, rows, cols, ref low, ref high);
        }

        double worst = 0;
        for (int q = 0; q < 8; q++)
        {
            for (int i = 0; i < rows; i++)
            {
                double expected = (double)bias[q * rows + i] * scale[q];
                for (int j = 0; j < cols; j++)
                {
                    expected += (double)mT[j * rows + i] * x[q * cols + j];
                }

                worst = Math.Max(worst, Math.Abs(y[q * rows + i] - expected));
            }
        }

        // Sums of up to 256 products of values in [−1, 1]: float32 rounding stays far below 1e-4.
        Assert.That(worst, Is.LessThanOrEqualTo(1e-4));
    }

    [TestCase(50, 20)]
    [TestCase(212, 40)]
    public void Product8_InPlace_AddsToItsOwnBias(int rows, int cols)
    {
        // y += M·x with y its own bias (scale 1), as the host cell accumulates W_h·h onto W_m·m: the overlapped tail
        // block reads rows that the block before it has already rewritten, and must store only its own rows.
        var rng = new Random(rows + cols);
        float[] mT = Random(rng, rows * cols);
        float[] x = Random(rng, 8 * cols);
        float[] y = Random(rng, 8 * rows);
        float[] before = (float[])y.Clone();
        fixed (float* mp = mT)
        fixed (float* xp = x)
        fixed (float* yp = y)
        {
            var columns = default(HostScanMath.Columns8);
            for (int q = 0; q < 8; q++)
            {
                columns.Set(q, xp + q * cols, yp + q * rows, yp + q * rows, 1f);
            }

            HostScanMath.Product(mp, rows, cols, ref columns, 8);
        }

        double worst = 0;
        for (int q = 0; q < 8; q++)
        {
            for (int i = 0; i < rows; i++)
            {
                double expected = before[q * rows + i];
                for (int j = 0; j < cols; j++)
                {
                    expected += (double)mT[j * rows + i] * x[q * cols + j];
                }

                worst = Math.Max(worst, Math.Abs(y[q * rows + i] - expected));
            }
        }

        Assert.That(worst, Is.LessThanOrEqualTo(1e-4));
    }

    private static float[] Random(Random rng, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = (float)(rng.NextDouble() * 2 - 1);
        }

        return values;
    }
}
