using MathNet.Numerics.LinearAlgebra;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Systems;

/// <summary><see cref="DoubleProduct"/> against Math.NET's product: shapes with row and column tails, the parallel
/// path, powers, and the row-major form (agreement to 10⁻¹³ of the scale: the same sums in another order).</summary>
[TestFixture]
public sealed class DoubleProductTests
{
    private static Matrix<double> Random(int rows, int columns, int seed)
    {
        var rng = new Random(seed);
        return Matrix<double>.Build.Dense(rows, columns, (_, _) => rng.NextDouble() - 0.5);
    }

    private static double RelativeError(Matrix<double> actual, Matrix<double> expected) =>
        (actual - expected).Enumerate().Max(Math.Abs) / Math.Max(1e-300, expected.Enumerate().Max(Math.Abs));

    [TestCase(1, 1, 1)]
    [TestCase(17, 33, 5)]
    [TestCase(16, 7, 4)]
    [TestCase(65, 64, 67)]
    [TestCase(130, 300, 9)]
    [TestCase(257, 257, 257)] // parallel, Depth passes with a short last one
    public void Multiply_MatchesMathNet(int m, int k, int n)
    {
        var a = Random(m, k, 1);
        var b = Random(k, n, 2);
        var c = DoubleProduct.Multiply(a, b);
        Assert.That((c.RowCount, c.ColumnCount), Is.EqualTo((m, n)));
        Assert.That(RelativeError(c, a * b), Is.LessThan(1e-13));
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(7)]
    [TestCase(64)]
    public void Power_MatchesRepeatedProducts(int power)
    {
        // A contraction (spectral radius < 1) so that the powers stay of order one.
        var a = Random(37, 37, 3) * 0.2;
        var expected = a;
        for (int i = 1; i < power; i++)
        {
            expected = expected * a;
        }

        Assert.That(RelativeError(DoubleProduct.Power(a, power), expected), Is.LessThan(1e-12));
    }

    [Test]
    public void MultiplyRowMajor_IsTheProductOfRowMajorArrays()
    {
        const int d = 19;
        var a = Random(d, d, 4);
        var b = Random(d, d, 5);
        var result = new double[d * d];
        Array.Fill(result, double.NaN);
        DoubleProduct.MultiplyRowMajor(a.ToRowMajorArray(), b.ToRowMajorArray(), result, d);
        Assert.That(RelativeError(Matrix<double>.Build.DenseOfRowMajor(d, d, result), a * b), Is.LessThan(1e-13));
    }

    [Test]
    public void Multiply_ThrowsForMismatchedShapes() =>
        Assert.That(() => DoubleProduct.Multiply(Random(3, 4, 1), Random(5, 3, 2)),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("b"));

    [Test]
    public void Power_ThrowsForPowersBelowOne() =>
        Assert.That(() => DoubleProduct.Power(Random(3, 3, 1), 0), Throws.TypeOf<ArgumentOutOfRangeException>());
}
