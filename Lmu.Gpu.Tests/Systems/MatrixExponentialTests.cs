using MathNet.Numerics.LinearAlgebra;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Systems;

/// <summary><see cref="MatrixExponential"/> against closed forms: a non-normal Jordan block at norms that fall in every
/// Taylor degree's range and in the scaled path, a rotation, and e^X·e^(−X) = I; and its argument checks.</summary>
[TestFixture]
public sealed class MatrixExponentialTests
{
    private static double MaxAbs(Matrix<double> m) => m.Enumerate().Max(Math.Abs);

    /// <summary>X = t·(−I + N) with N the 6×6 shift: e^X[i, i + k] = e^(−t)·t^k/k!. ‖X‖₁ = 2t puts the cases in the
    /// ranges of degrees 4, 6, 9, 12 and 16 and then at 1, 3 and 7 squarings.</summary>
    [TestCase(1e-5)]
    [TestCase(3e-3)]
    [TestCase(0.03)]
    [TestCase(0.1)]
    [TestCase(0.25)]
    [TestCase(0.6)]
    [TestCase(3.0)]
    [TestCase(30.0)]
    public void Exp_OfJordanBlock_MatchesClosedForm(double t)
    {
        const int n = 6;
        var x = Matrix<double>.Build.Dense(n, n, (i, j) => i == j ? -t : j == i + 1 ? t : 0);
        var expected = Matrix<double>.Build.Dense(n, n, (i, j) =>
        {
            if (j < i)
            {
                return 0;
            }

            double term = Math.Exp(-t);
            for (int k = 1; k <= j - i; k++)
            {
                term *= t / k;
            }

            return term;
        });

        var actual = MatrixExponential.Exp(x);
        double error = MaxAbs(actual - expected) / MaxAbs(expected);
        Assert.That(error, Is.LessThanOrEqualTo(1e-14), $"t = {t}: max |Δ| / max |e^X| = {error:G3}");
    }

    [TestCase(0.5)]
    [TestCase(10.0)]
    [TestCase(1000.0)]
    public void Exp_OfRotationGenerator_IsTheRotation(double angle)
    {
        var x = Matrix<double>.Build.DenseOfArray(new[,] { { 0, -angle }, { angle, 0 } });
        var r = MatrixExponential.Exp(x);
        // e^X = [[cos, −sin], [sin, cos]]; the argument's own rounding (relative 2⁻⁵³ of the angle) bounds the error.
        double tolerance = 1e-15 * Math.Max(1, angle) * 16;
        Assert.That(r[0, 0], Is.EqualTo(Math.Cos(angle)).Within(tolerance));
        Assert.That(r[1, 1], Is.EqualTo(Math.Cos(angle)).Within(tolerance));
        Assert.That(r[1, 0], Is.EqualTo(Math.Sin(angle)).Within(tolerance));
        Assert.That(r[0, 1], Is.EqualTo(-Math.Sin(angle)).Within(tolerance));
    }

    [TestCase(17, 0.3)]
    [TestCase(40, 8.0)]
    [TestCase(129, 20.0)]
    public void Exp_TimesExpOfNegation_IsIdentity(int n, double norm)
    {
        var rng = new Random(n);
        var x = Matrix<double>.Build.Dense(n, n, (_, _) => rng.NextDouble() - 0.5);
        x = x * (norm / x.L1Norm());
        var plus = MatrixExponential.Exp(x);
        var minus = MatrixExponential.Exp(-x);
        var product = plus * minus;
        double error = MaxAbs(product - Matrix<double>.Build.DenseIdentity(n));
        double scale = (plus.L1Norm() * minus.L1Norm()) + 1;
        Assert.That(error, Is.LessThanOrEqualTo(1e-13 * scale), $"max |e^X·e^(−X) − I| = {error:G3}, ‖e^X‖·‖e^(−X)‖ = {scale:G3}");
    }

    [Test]
    public void Exp_OfZero_IsIdentity() =>
        Assert.That(MatrixExponential.Exp(Matrix<double>.Build.Dense(5, 5)), Is.EqualTo(Matrix<double>.Build.DenseIdentity(5)));

    [Test]
    public void Exp_ThrowsForNonSquare() =>
        Assert.That(() => MatrixExponential.Exp(Matrix<double>.Build.Dense(2, 3)),
            Throws.ArgumentException.With.Property(nameof(ArgumentException.ParamName)).EqualTo("m"));

    [Test]
    public void Exp_ThrowsForNaN()
    {
        var x = Matrix<double>.Build.Dense(3, 3);
        x[1, 2] = double.NaN;
        Assert.That(() => MatrixExponential.Exp(x),
            Throws.ArgumentException.With.Property(nameof(ArgumentException.ParamName)).EqualTo("m"));
    }
}
