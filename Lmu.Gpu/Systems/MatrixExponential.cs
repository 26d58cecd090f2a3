using MathNet.Numerics.LinearAlgebra;

namespace Lmu.Gpu;

/// <summary>Dense matrix exponential by scaling and squaring with a diagonal Padé approximant
/// (Higham 2005, "The scaling and squaring method for the matrix exponential revisited"), in double.</summary>
internal static class MatrixExponential
{
    // Largest 1-norms for which the Padé approximant of degree m has backward error below 2^-53 (Higham 2005, Table 2.3).
    private const double Theta3 = 1.495585217958292e-2;
    private const double Theta5 = 2.539398330063230e-1;
    private const double Theta7 = 9.504178996162932e-1;
    private const double Theta9 = 2.097847961257068e0;
    private const double Theta13 = 5.371920351148152e0;

    private static readonly double[] Pade3 = [120, 60, 12, 1];
    private static readonly double[] Pade5 = [30240, 15120, 3360, 420, 30, 1];
    private static readonly double[] Pade7 = [17297280, 8648640, 1995840, 277200, 25200, 1512, 56, 1];
    private static readonly double[] Pade9 = [17643225600, 8821612800, 2075673600, 302702400, 30270240, 2162160, 110880, 3960, 90, 1];
    private static readonly double[] Pade13 =
    [
        64764752532480000, 32382376266240000, 7771770303897600, 1187353796428800, 129060195264000,
        10559470521600, 670442572800, 33522128640, 1323241920, 40840800, 960960, 16380, 182, 1,
    ];

    /// <summary>Returns e^M for a square matrix M.</summary>
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

        var identity = Matrix<double>.Build.DenseIdentity(m.RowCount);
        if (norm <= Theta3)
        {
            return PadeLow(m, identity, Pade3);
        }

        if (norm <= Theta5)
        {
            return PadeLow(m, identity, Pade5);
        }

        if (norm <= Theta7)
        {
            return PadeLow(m, identity, Pade7);
        }

        if (norm <= Theta9)
        {
            return PadeLow(m, identity, Pade9);
        }

        int s = Math.Max(0, (int)Math.Ceiling(Math.Log2(norm / Theta13)));
        var scaled = s == 0 ? m : m.Multiply(Math.Pow(2, -s));
        var r = Pade13Approximant(scaled, identity);
        for (int i = 0; i < s; i++)
        {
            r = DoubleProduct.Multiply(r, r);
        }

        return r;
    }

    private static Matrix<double> PadeLow(Matrix<double> a, Matrix<double> identity, double[] b)
    {
        // U = A·Σ b_{2k+1} A^{2k}, V = Σ b_{2k} A^{2k}
        var a2 = DoubleProduct.Multiply(a, a);
        var power = identity;
        var u = identity.Multiply(b[1]);
        var v = identity.Multiply(b[0]);
        for (int k = 1; 2 * k < b.Length; k++)
        {
            power = DoubleProduct.Multiply(power, a2);
            v = v.Add(power.Multiply(b[2 * k]));
            if (2 * k + 1 < b.Length)
            {
                u = u.Add(power.Multiply(b[2 * k + 1]));
            }
        }

        u = DoubleProduct.Multiply(a, u);
        return v.Subtract(u).Solve(v.Add(u));
    }

    private static Matrix<double> Pade13Approximant(Matrix<double> a, Matrix<double> identity)
    {
        double[] b = Pade13;
        var a2 = DoubleProduct.Multiply(a, a);
        var a4 = DoubleProduct.Multiply(a2, a2);
        var a6 = DoubleProduct.Multiply(a4, a2);
        var innerU = a6.Multiply(b[13]).Add(a4.Multiply(b[11])).Add(a2.Multiply(b[9]));
        var u = DoubleProduct.Multiply(a, DoubleProduct.Multiply(a6, innerU)
            .Add(a6.Multiply(b[7])).Add(a4.Multiply(b[5])).Add(a2.Multiply(b[3])).Add(identity.Multiply(b[1])));
        var innerV = a6.Multiply(b[12]).Add(a4.Multiply(b[10])).Add(a2.Multiply(b[8]));
        var v = DoubleProduct.Multiply(a6, innerV)
            .Add(a6.Multiply(b[6])).Add(a4.Multiply(b[4])).Add(a2.Multiply(b[2])).Add(identity.Multiply(b[0]));
        return v.Subtract(u).Solve(v.Add(u));
    }
}
