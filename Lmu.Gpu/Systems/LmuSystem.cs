using System.Collections.Concurrent;
using System.Numerics.Tensors;
using MathNet.Numerics.LinearAlgebra;

namespace Lmu.Gpu;

/// <summary>
/// The LMU's linear memory θ·ṁ(t) = A·m(t) + B·u(t) of order d, with
/// A[i,j] = (2i+1)·(i &lt; j ? −1 : (−1)^(i−j+1)) and B[i] = (2i+1)·(−1)^i, discretised with time step dt into
/// m_t = Ā·m_{t−1} + B̄·u_t. All matrices are computed and held in double precision, row-major.
/// </summary>
/// <remarks>
/// The zero-order hold is computed from one matrix exponential of the augmented (d+1)×(d+1) matrix
/// [[A·dt/θ, B·dt/θ], [0, 0]], whose top-right column is B̄: no inverse of A is formed. Instances are immutable
/// and thread-safe.
/// </remarks>
public sealed class LmuSystem
{
    /// <summary>The largest supported order d.</summary>
    public const int MaxOrder = 1024;

    /// <summary>The largest supported θ/dt ratio (in steps).</summary>
    public const double MaxThetaSteps = 1e9;

    private static readonly ConcurrentDictionary<(int Order, double Dt), double> EulerThresholds = new();

    private readonly double[] _a;
    private readonly double[] _b;
    private readonly double[] _aBar;
    private readonly double[] _bBar;

    private LmuSystem(int order, double theta, double dt, Discretizer discretizer, double[] aBar, double[] bBar)
    {
        Order = order;
        Theta = theta;
        Dt = dt;
        Discretizer = discretizer;
        _a = ContinuousA(order);
        _b = ContinuousB(order);
        _aBar = aBar;
        _bBar = bBar;
    }

    /// <summary>The order d: the number of Legendre coefficients in the state.</summary>
    public int Order { get; }

    /// <summary>The window length θ, in the same unit as <see cref="Dt"/>.</summary>
    public double Theta { get; }

    /// <summary>The time step dt.</summary>
    public double Dt { get; }

    /// <summary>The discretisation used for <see cref="DiscreteA"/> and <see cref="DiscreteB"/>.</summary>
    public Discretizer Discretizer { get; }

    /// <summary>The continuous A (without the 1/θ factor), d×d row-major.</summary>
    public ReadOnlySpan<double> A => _a;

    /// <summary>The continuous B (without the 1/θ factor), length d.</summary>
    public ReadOnlySpan<double> B => _b;

    /// <summary>The discrete Ā, d×d row-major.</summary>
    public ReadOnlySpan<double> DiscreteA => _aBar;

    /// <summary>The discrete B̄, length d.</summary>
    public ReadOnlySpan<double> DiscreteB => _bBar;

    /// <summary>Builds and discretises the LMU memory.</summary>
    /// <param name="order">The order d, 1 … <see cref="MaxOrder"/>.</param>
    /// <param name="theta">The window θ &gt; 0 (finite), in the unit of <paramref name="dt"/>.</param>
    /// <param name="dt">The time step &gt; 0 (finite); 1 means θ is counted in steps.</param>
    /// <param name="discretizer">Zero-order hold (default) or Euler.</param>
    /// <returns>The discretised system.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range, NaN or infinite, or θ/dt
    /// exceeds <see cref="MaxThetaSteps"/>.</exception>
    /// <exception cref="ArgumentException">Euler was asked for with a θ too small for the order: the system would
    /// diverge. The message names the smallest stable θ.</exception>
    public static LmuSystem Create(int order, double theta, double dt = 1.0, Discretizer discretizer = Discretizer.ZeroOrderHold)
    {
        ValidateOrder(order);
        ValidateTheta(theta);
        if (!(dt > 0) || double.IsInfinity(dt))
        {
            throw new ArgumentOutOfRangeException(nameof(dt), dt, "dt must be a finite number > 0.");
        }

        if (theta / dt > MaxThetaSteps)
        {
            throw new ArgumentOutOfRangeException(nameof(theta), theta,
                $"θ/dt = {theta / dt:G4} exceeds the supported {MaxThetaSteps:G4} steps.");
        }

        double h = dt / theta;
        int d = order;
        double[] a = ContinuousA(d);
        double[] b = ContinuousB(d);
        double[] aBar = new double[d * d];
        double[] bBar = new double[d];
        switch (discretizer)
        {
            case Discretizer.ZeroOrderHold:
            {
                var m = Matrix<double>.Build.Dense(d + 1, d + 1);
                for (int i = 0; i < d; i++)
                {
                    for (int j = 0; j < d; j++)
                    {
                        m[i, j] = a[i * d + j] * h;
                    }

                    m[i, d] = b[i] * h;
                }

                var e = MatrixExponential.Exp(m);
                for (int i = 0; i < d; i++)
                {
                    for (int j = 0; j < d; j++)
                    {
                        aBar[i * d + j] = e[i, j];
                    }

                    bBar[i] = e[i, d];
                }

                break;
            }

            case Discretizer.Euler:
            {
                for (int i = 0; i < d; i++)
                {
                    for (int j = 0; j < d; j++)
                    {
                        aBar[i * d + j] = (i == j ? 1.0 : 0.0) + a[i * d + j] * h;
                    }

                    bBar[i] = b[i] * h;
                }

                // Stability is monotone in θ (each eigenvalue λ of A gives |1 + λ·dt/θ| ≤ 1 for all θ above a bound), so a
                // θ at or above the cached threshold (a θ found stable) needs no spectral radius: a training step with
                // a trainable θ rebuilds the system every step, and the radius costs 36 products of d×d matrices.
                bool knownStable = EulerThresholds.TryGetValue((order, 1.0), out double threshold) && theta / dt >= threshold;
                double rho = knownStable ? 0 : SpectralRadius(aBar, d);
                if (rho > 1 + 1e-9)
                {
                    double minimum = MinimumStableEulerTheta(order, dt);
                    throw new ArgumentException(
                        $"Euler discretisation of order {order} with θ = {theta:G6} (dt = {dt:G6}) is unstable " +
                        $"(spectral radius of Ā = {rho:G6} > 1) and would diverge. The smallest stable θ for order " +
                        $"{order} is about {minimum:G4}; use θ ≥ {minimum * 1.01:G4} or the zero-order hold.",
                        nameof(theta));
                }

                break;
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(discretizer), discretizer, "Unknown discretizer.");
        }

        return new LmuSystem(order, theta, dt, discretizer, aBar, bBar);
    }

    /// <summary>Returns the continuous A of the given order (without 1/θ), d×d row-major.</summary>
    /// <param name="order">The order d.</param>
    /// <returns>A new array.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="order"/> is out of range.</exception>
    public static double[] ContinuousA(int order)
    {
        ValidateOrder(order);
        var a = new double[order * order];
        for (int i = 0; i < order; i++)
        {
            for (int j = 0; j < order; j++)
            {
                double sign = i < j ? -1 : ((i - j + 1) % 2 == 0 ? 1 : -1);
                a[i * order + j] = (2 * i + 1) * sign;
            }
        }

        return a;
    }

    /// <summary>Returns the continuous B of the given order (without 1/θ).</summary>
    /// <param name="order">The order d.</param>
    /// <returns>A new array of length d.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="order"/> is out of range.</exception>
    public static double[] ContinuousB(int order)
    {
        ValidateOrder(order);
        var b = new double[order];
        for (int i = 0; i < order; i++)
        {
            b[i] = (2 * i + 1) * (i % 2 == 0 ? 1 : -1);
        }

        return b;
    }

    /// <summary>The decoder vector P̃ᵢ(r) for a delay r·θ (r in [0, 1]); see
    /// <see cref="ShiftedLegendre.Evaluate"/>.</summary>
    /// <param name="r">The delay fraction in [0, 1].</param>
    /// <returns>A new array of length d.</returns>
    public double[] Decoder(double r) => ShiftedLegendre.Evaluate(Order, r);

    /// <summary>The impulse response h_k = Āᵏ·B̄ for k = 0 … <paramref name="length"/> − 1, row-major
    /// (length × d): the state after a unit input at step 0 and zeros after.</summary>
    /// <param name="length">The number of steps, ≥ 1.</param>
    /// <returns>A new array of length·d values.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> &lt; 1 or too large to hold.</exception>
    public double[] ImpulseResponse(int length)
    {
        if (length < 1 || (long)length * Order > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "The length must be ≥ 1 and fit in one array.");
        }

        int d = Order;
        var h = new double[(long)length * d];
        _bBar.CopyTo(h, 0);
        for (int k = 1; k < length; k++)
        {
            MultiplyVector(_aBar, d, h.AsSpan((k - 1) * d, d), h.AsSpan(k * d, d));
        }

        return h;
    }

    /// <summary>The spectral radius of Ā, estimated by repeated renormalised squaring (ρ = lim ‖Ā^(2^k)‖^(1/2^k)),
    /// which stays reliable for this highly non-normal matrix where eigenvalue solvers fail.</summary>
    /// <returns>ρ(Ā); below 1 means the discrete memory is stable.</returns>
    public double SpectralRadius() => SpectralRadius(_aBar, Order);

    /// <summary>The smallest θ for which the Euler discretisation of the given order is stable (Ā = I + A·dt/θ has
    /// spectral radius ≤ 1), found by bisection to 0.5 %. It grows about as d^1.7: roughly 18, 200, 640, 2,100
    /// and 7,200 steps for d = 8, 32, 64, 128, 256.</summary>
    /// <param name="order">The order d.</param>
    /// <param name="dt">The time step (θ scales with it).</param>
    /// <returns>θ_min in the unit of <paramref name="dt"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public static double MinimumStableEulerTheta(int order, double dt = 1.0)
    {
        ValidateOrder(order);
        if (!(dt > 0) || double.IsInfinity(dt))
        {
            throw new ArgumentOutOfRangeException(nameof(dt), dt, "dt must be a finite number > 0.");
        }

        return EulerThresholds.GetOrAdd((order, 1.0), static key => SearchEulerThreshold(key.Order)) * dt;
    }

    internal static void ValidateOrder(int order)
    {
        if (order < 1 || order > MaxOrder)
        {
            throw new ArgumentOutOfRangeException(nameof(order), order, $"The order must be in 1 … {MaxOrder}.");
        }
    }

    internal static void ValidateTheta(double theta)
    {
        if (!(theta > 0) || double.IsInfinity(theta))
        {
            throw new ArgumentOutOfRangeException(nameof(theta), theta, "θ must be a finite number > 0.");
        }
    }

    /// <summary>Ā transposed, in float32 (column j of Ā contiguous): the layout the kernels read.</summary>
    internal float[] DiscreteATransposedSingle()
    {
        int d = Order;
        var t = new float[d * d];
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++)
            {
                t[j * d + i] = (float)_aBar[i * d + j];
            }
        }

        return t;
    }

    /// <summary>Ā as a double matrix (the scan's tables and powers are built from it).</summary>
    internal Matrix<double> DiscreteAMatrix()
    {
        int d = Order;
        return Matrix<double>.Build.Dense(d, d, (i, j) => _aBar[(i * d) + j]);
    }

    /// <summary>Āᵖ in double (repeated squaring, <see cref="DoubleProduct.Power"/>).</summary>
    /// <param name="power">p ≥ 1.</param>
    internal Matrix<double> DiscreteAPower(int power) => DoubleProduct.Power(DiscreteAMatrix(), power);

    /// <summary>Ā in float32, row-major.</summary>
    internal float[] DiscreteASingle() => Array.ConvertAll(_aBar, x => (float)x);

    /// <summary>B̄ in float32.</summary>
    internal float[] DiscreteBSingle() => Array.ConvertAll(_bBar, x => (float)x);

    private static void MultiplyVector(double[] matrix, int d, ReadOnlySpan<double> x, Span<double> y)
    {
        for (int i = 0; i < d; i++)
        {
            y[i] = TensorPrimitives.Dot(matrix.AsSpan(i * d, d), x);
        }
    }

    private static double SpectralRadius(double[] rowMajor, int d)
    {
        const int Squarings = 36;
        var m = Matrix<double>.Build.Dense(d, d, (i, j) => rowMajor[i * d + j]);
        double logScale = 0; // log of the factor divided out so far, per unit power
        double power = 1;
        for (int k = 0; k < Squarings; k++)
        {
            double norm = m.FrobeniusNorm();
            if (norm == 0)
            {
                return 0;
            }

            // m holds Ā^power / exp(logScale·power); renormalise, then square.
            m = m.Divide(norm);
            logScale += Math.Log(norm) / power;
            m = DoubleProduct.Multiply(m, m);
            power *= 2;
        }

        double final = m.FrobeniusNorm();
        return final == 0 ? 0 : Math.Exp(logScale + Math.Log(final) / power);
    }

    private static double SearchEulerThreshold(int order)
    {
        var a = ContinuousA(order);
        int d = order;
        bool Stable(double theta)
        {
            var m = new double[d * d];
            for (int i = 0; i < d * d; i++)
            {
                m[i] = a[i] / theta;
            }

            for (int i = 0; i < d; i++)
            {
                m[i * d + i] += 1;
            }

            return SpectralRadius(m, d) <= 1 + 1e-9;
        }

        // Bracket around the empirical d^1.7 law, then bisect on a log scale.
        double guess = Math.Max(0.5, 0.5 * Math.Pow(order, 1.7));
        double lo = guess / 2, hi = guess * 2;
        while (Stable(lo) && lo > 1e-3)
        {
            lo /= 2;
        }

        while (!Stable(hi))
        {
            hi *= 2;
        }

        while (hi / lo > 1.005)
        {
            double mid = Math.Sqrt(lo * hi);
            if (Stable(mid))
            {
                hi = mid;
            }
            else
            {
                lo = mid;
            }
        }

        return hi;
    }
}
