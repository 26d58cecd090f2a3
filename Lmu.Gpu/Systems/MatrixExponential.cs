using MathNet.Numerics.LinearAlgebra;

namespace Lmu.Gpu;

/// <summary>
/// Dense matrix exponential in double by scaling and squaring with a truncated Taylor series evaluated by the
/// Paterson–Stockmeyer scheme: products only, no linear solve.
/// </summary>
/// <remarks>
/// <para>
/// The degree m and the scaling 2^−s follow the backward-error analysis of Al-Mohy &amp; Higham ("A new scaling and
/// squaring algorithm for the matrix exponential", 2009; "Computing the action of the matrix exponential", 2011): the
/// Taylor polynomial T_m(X) equals e^(X + ΔX) with ‖ΔX‖ ≤ 2⁻⁵³·‖X‖ whenever α(X) ≤ θ_m, where α is the smallest of
/// ‖X‖₁, max(‖X²‖₁^(1/2), ‖X³‖₁^(1/3)) and max(‖X³‖₁^(1/3), ‖X⁴‖₁^(1/4)). For the LMU's strongly non-normal A these
/// are below ‖X‖₁, which saves squarings (fewer roundings) as well as time.
/// </para>
/// <para>
/// Degree 16 costs six products and is the cheapest per unit of log₂ θ_m, so every larger matrix is scaled to it.
/// Higham's Padé approximant of degree 13 needs 2–3 fewer products but a solve with d right-hand sides, which
/// Math.NET's managed LU runs at about 1 GFLOP/s: at d = 512 that solve took 384 ms of a 759 ms
/// <see cref="LmuSystem.Create"/>, while the products run on <see cref="DoubleProduct"/> at 16 ms each.
/// </para>
/// </remarks>
internal static class MatrixExponential
{
    /// <summary>The Taylor degrees used, each the highest reachable with its number of products.</summary>
    private static readonly int[] Degrees = [4, 6, 9, 12, 16];

    /// <summary>θ_m for <see cref="Degrees"/>: the largest α with Σ_k |c_k|·α^(k−1) ≤ 2⁻⁵³, where Σ_k c_k·x^k is the
    /// series of log(e^(−x)·T_m(x)) (computed to 60 digits; they agree with Al-Mohy &amp; Higham's tables).</summary>
    private static readonly double[] Thetas =
    [
        3.397168839976962e-4, 9.065656407595102e-3, 8.957760203223343e-2, 2.996158913811580e-1, 7.802874256626574e-1,
    ];

    /// <summary>Powers of X computed for each degree (Paterson–Stockmeyer's block size q).</summary>
    private static readonly int[] BlockSizes = [2, 3, 3, 4, 4];

    /// <summary>Returns e^M for a square matrix M.</summary>
    /// <exception cref="ArgumentException">M is not square, or has NaN or infinite entries.</exception>
    public static Matrix<double> Exp(Matrix<double> m)
    {
        if (m.RowCount != m.ColumnCount)
        {
            throw new ArgumentException("The matrix must be square.", nameof(m));
        }

        double norm = m.L1Norm();
        if (double.IsNaN(norm) || double.IsInfinity(norm))
        {
            throw new ArgumentException("The matrix contains NaN or infinite entries.", nameof(m));
        }

        for (int k = 0; k < Degrees.Length - 1; k++)
        {
            if (norm <= Thetas[k])
            {
                return Taylor(Powers(m, BlockSizes[k]), Degrees[k]);
            }
        }

        int top = Degrees.Length - 1;
        var powers = Powers(m, BlockSizes[top]);
        double alpha = Math.Min(norm, Math.Min(
            Math.Max(Math.Sqrt(powers[2].L1Norm()), Math.Cbrt(powers[3].L1Norm())),
            Math.Max(Math.Cbrt(powers[3].L1Norm()), Math.Pow(powers[4].L1Norm(), 0.25))));
        int s = Math.Max(0, (int)Math.Ceiling(Math.Log2(alpha / Thetas[top])));
        for (int p = 1; p < powers.Length; p++)
        {
            // Scaling by a power of two is exact: (X/2^s)^p = X^p·2^(−s·p).
            var data = powers[p].AsColumnMajorArray();
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = Math.ScaleB(data[i], -s * p);
            }
        }

        var r = Taylor(powers, Degrees[top]);
        for (int i = 0; i < s; i++)
        {
            r = DoubleProduct.Multiply(r, r);
        }

        return r;
    }

    /// <summary>I, X, X², …, X^q (q − 1 products).</summary>
    private static Matrix<double>[] Powers(Matrix<double> x, int q)
    {
        var powers = new Matrix<double>[q + 1];
        powers[0] = Matrix<double>.Build.DenseIdentity(x.RowCount);
        powers[1] = Matrix<double>.Build.DenseOfMatrix(x);
        for (int p = 2; p <= q; p++)
        {
            powers[p] = p % 2 == 0
                ? DoubleProduct.Multiply(powers[p / 2], powers[p / 2])
                : DoubleProduct.Multiply(powers[p - 1], powers[1]);
        }

        return powers;
    }

    /// <summary>
    /// T_m(X) = Σ_(k ≤ m) X^k/k! by Paterson–Stockmeyer: with q = powers.Length − 1, T_m = Σ_j (X^q)^j·P_j where
    /// P_j = Σ_(i &lt; q) X^i/(qj + i)!, evaluated by Horner in X^q. Where q divides m the last block, X^m/m!, is folded
    /// into the one below it as a multiple of X^q, which saves one product.
    /// </summary>
    private static Matrix<double> Taylor(Matrix<double>[] powers, int m)
    {
        int q = powers.Length - 1;
        int blocks = m / q;
        Matrix<double> result;
        if (m % q == 0)
        {
            blocks--;
            result = Block(powers, blocks, m);
            AddScaled(result, powers[q], 1 / Factorial(m));
        }
        else
        {
            result = Block(powers, blocks, m);
        }

        for (int j = blocks - 1; j >= 0; j--)
        {
            result = DoubleProduct.Multiply(result, powers[q]);
            AddScaled(result, Block(powers, j, m), 1);
        }

        return result;
    }

    /// <summary>P_j = Σ_(i &lt; q, qj + i ≤ m) X^i/(qj + i)!.</summary>
    private static Matrix<double> Block(Matrix<double>[] powers, int j, int m)
    {
        int q = powers.Length - 1;
        var block = Matrix<double>.Build.Dense(powers[0].RowCount, powers[0].ColumnCount);
        for (int i = 0; i < q && (q * j) + i <= m; i++)
        {
            AddScaled(block, powers[i], 1 / Factorial((q * j) + i));
        }

        return block;
    }

    /// <summary>target += scale·source, in place.</summary>
    private static void AddScaled(Matrix<double> target, Matrix<double> source, double scale)
    {
        var t = target.AsColumnMajorArray();
        var s = source.AsColumnMajorArray();
        for (int i = 0; i < t.Length; i++)
        {
            t[i] += scale * s[i];
        }
    }

    private static double Factorial(int n)
    {
        double f = 1;
        for (int i = 2; i <= n; i++)
        {
            f *= i;
        }

        return f;
    }
}
