using Lmu.Gpu;

namespace Lmu.Gpu.Tests.Systems;

[TestFixture]
public sealed class LmuSystemTests
{
    [Test]
    public void ContinuousMatrices_MatchHandWorkedOrder3()
    {
        double[] expectedA = [-1, -1, -1, 3, -3, -3, -5, 5, -5];
        double[] expectedB = [1, -3, 5];
        Assert.That(LmuSystem.ContinuousA(3), Is.EqualTo(expectedA));
        Assert.That(LmuSystem.ContinuousB(3), Is.EqualTo(expectedB));
    }

    [TestCase(1.0, 1.0)]
    [TestCase(7.5, 0.5)]
    [TestCase(1e6, 1.0)]
    public void ZeroOrderHold_Order1_MatchesClosedForm(double theta, double dt)
    {
        // A = -1, B = 1: Ā = e^(-dt/θ), B̄ = A⁻¹(Ā - 1)B = 1 - e^(-dt/θ).
        var system = LmuSystem.Create(1, theta, dt);
        double h = dt / theta;
        Assert.That(system.DiscreteA[0], Is.EqualTo(Math.Exp(-h)).Within(1e-15));
        Assert.That(system.DiscreteB[0], Is.EqualTo(ExpM1Negated(h)).Within(1e-16 + 1e-14 * h));
    }

    [Test]
    public void Euler_Order2_MatchesHandWorkedEntries()
    {
        // A = [[-1, -1], [3, -3]], B = [1, -3]; θ = 10, dt = 1.
        var system = LmuSystem.Create(2, 10, 1, Discretizer.Euler);
        Assert.That(system.DiscreteA.ToArray(), Is.EqualTo(new[] { 0.9, -0.1, 0.3, 0.7 }).Within(1e-15));
        Assert.That(system.DiscreteB.ToArray(), Is.EqualTo(new[] { 0.1, -0.3 }).Within(1e-15));
    }

    [TestCase(6, 10.0)]
    [TestCase(12, 1e6)]
    [TestCase(16, 40.0)]
    public void ZeroOrderHold_MatchesTaylorSeriesOfAugmentedExponential(int order, double theta)
    {
        var system = LmuSystem.Create(order, theta);
        var (aBar, bBar) = SeriesZoh(order, theta, 1.0);
        for (int i = 0; i < order * order; i++)
        {
            Assert.That(system.DiscreteA[i], Is.EqualTo(aBar[i]).Within(1e-12), $"Ā[{i}]");
        }

        for (int i = 0; i < order; i++)
        {
            Assert.That(system.DiscreteB[i], Is.EqualTo(bBar[i]).Within(1e-13 * Math.Max(1, Math.Abs(bBar[i]))), $"B̄[{i}]");
        }
    }

    [TestCase(64, 100.0)]
    [TestCase(256, 784.0)]
    [TestCase(512, 1.0)]
    [TestCase(512, 1e6)]
    public void ZeroOrderHold_IsASemigroup_TwoStepsEqualOneDoubleStep(int order, double theta)
    {
        // e^(2hA) = (e^(hA))² exactly; the computed Ā(dt = 2) must match Ā(dt = 1)² (an independent path: different scaling).
        // The bound is relative to the larger of |Ā(2)| and the product of magnitudes |Ā(1)|·|Ā(1)|, which is what the
        // rounding of a product scales with: at d = 512, θ = 1 the entries of Ā(2) are ~10⁻¹⁴, sums of far larger terms
        // that cancel, and two summation orders (fused or not) differ there by ~10⁻¹⁹.
        var one = LmuSystem.Create(order, theta, 1.0);
        var two = LmuSystem.Create(order, theta, 2.0);
        var square = Multiply(one.DiscreteA.ToArray(), one.DiscreteA.ToArray(), order);
        double[] magnitude = one.DiscreteA.ToArray().Select(Math.Abs).ToArray();
        double terms = Multiply(magnitude, magnitude, order).Max();
        double maxAbs = two.DiscreteA.ToArray().Max(Math.Abs);
        double maxErr = 0;
        for (int i = 0; i < order * order; i++)
        {
            maxErr = Math.Max(maxErr, Math.Abs(square[i] - two.DiscreteA[i]));
        }

        Assert.That(maxErr, Is.LessThanOrEqualTo(1e-9 * Math.Max(Math.Max(maxAbs, terms), 1e-300)),
            $"max |Ā(1)² − Ā(2)| = {maxErr:G3}, max |Ā(2)| = {maxAbs:G3}, max |Ā(1)|·|Ā(1)| = {terms:G3}");
        TestContext.Out.WriteLine($"d = {order}, θ = {theta}: max |Ā(1)² − Ā(2)| = {maxErr:G3}, max |Ā(2)| = {maxAbs:G3}, max |Ā(1)|·|Ā(1)| = {terms:G3}");
        // and B̄(2) = Ā(1)·B̄(1) + B̄(1)
        var b2 = Multiply(one.DiscreteA.ToArray(), one.DiscreteB.ToArray(), order, 1);
        double maxB = two.DiscreteB.ToArray().Max(Math.Abs);
        for (int i = 0; i < order; i++)
        {
            Assert.That(b2[i] + one.DiscreteB[i], Is.EqualTo(two.DiscreteB[i]).Within(1e-9 * maxB), $"B̄[{i}]");
        }

        Assert.That(one.DiscreteA.ToArray().All(double.IsFinite), Is.True);
    }

    [Test]
    public void Decoder_RecoversDelayedSlowSinusoid()
    {
        // d = 12, θ = 1000 steps; u(t) = sin(2π t / 4000), a quarter cycle per window.
        const int Order = 12;
        const double Theta = 1000;
        const int Steps = 4000;
        var system = LmuSystem.Create(Order, Theta);
        var input = new float[Steps];
        for (int t = 0; t < Steps; t++)
        {
            input[t] = (float)Math.Sin(2 * Math.PI * t / 4000.0);
        }

        var states = ReferenceMemory.RunStates(system, input, 1, Steps, 1);
        foreach (double r in new[] { 0.0, 0.5, 1.0 })
        {
            var c = system.Decoder(r);
            double maxErr = 0;
            for (int t = 2000; t < Steps; t++)
            {
                double y = 0;
                for (int i = 0; i < Order; i++)
                {
                    y += c[i] * states[t * Order + i];
                }

                // u_t is held over the step that ends at t, so the held signal leads the samples by half a step and
                // the memory decodes u(t − r·θ + 1/2); compare with the continuous sine delayed by that much.
                double expected = Math.Sin(2 * Math.PI * (t - r * Theta + 0.5) / 4000.0);
                maxErr = Math.Max(maxErr, Math.Abs(y - expected));
            }

            // The half-step alone is worth 2π·0.5/4000 ≈ 7.9e-4 here, so this bound also pins its direction.
            TestContext.Out.WriteLine($"r = {r}: max error {maxErr:G3}");
            Assert.That(maxErr, Is.LessThan(2e-4), $"r = {r}");
        }
    }

    [Test]
    public void ImpulseResponse_EqualsStateAfterUnitImpulse()
    {
        var system = LmuSystem.Create(8, 20);
        const int Length = 50;
        var h = system.ImpulseResponse(Length);
        var input = new float[Length];
        input[0] = 1;
        var states = ReferenceMemory.RunStates(system, input, 1, Length, 1);
        Assert.That(h, Is.EqualTo(states).Within(1e-14));
    }

    [Test]
    public void ShiftedLegendre_HasKnownValues()
    {
        var atOne = ShiftedLegendre.Evaluate(20, 1);
        var atZero = ShiftedLegendre.Evaluate(20, 0);
        for (int i = 0; i < 20; i++)
        {
            Assert.That(atOne[i], Is.EqualTo(1).Within(1e-12));
            Assert.That(atZero[i], Is.EqualTo(i % 2 == 0 ? 1 : -1).Within(1e-12));
        }

        double r = 0.3;
        var c = ShiftedLegendre.Evaluate(4, r);
        Assert.That(c[2], Is.EqualTo(6 * r * r - 6 * r + 1).Within(1e-14));
        Assert.That(c[3], Is.EqualTo(20 * r * r * r - 30 * r * r + 12 * r - 1).Within(1e-14));
    }

    [TestCase(8, 17.7)]
    [TestCase(16, 59.7)]
    [TestCase(32, 196.9)]
    [TestCase(64, 638.7)]
    public void MinimumStableEulerTheta_MatchesPadeRootThresholds(int order, double exact)
    {
        // Exact values from the roots of the Padé denominator (research brief §5.5): θ_min = max |λ|² / (2|Re λ|).
        Assert.That(LmuSystem.MinimumStableEulerTheta(order), Is.EqualTo(exact).Within(1).Percent);
    }

    [Test]
    public void Create_ThrowsForUnstableEuler_NamingSmallestStableTheta()
    {
        var e = Assert.Throws<ArgumentException>(() => LmuSystem.Create(8, 17, 1, Discretizer.Euler));
        Assert.That(e!.ParamName, Is.EqualTo("theta"));
        Assert.That(e.Message, Does.Contain("smallest stable θ for order 8 is about 17.7"));
        Assert.That(LmuSystem.Create(8, 18, 1, Discretizer.Euler).SpectralRadius(), Is.LessThan(1));
    }

    [TestCase(1.0)]
    [TestCase(0.25)]
    public void Create_Euler_WithTheThresholdCached_StillThrowsBelowItAndBuildsAboveIt(double dt)
    {
        // Once the order's threshold is cached, Create skips the spectral radius at or above it (training rebuilds the
        // system at every step); below it the radius is still computed and the system refused.
        double minimum = LmuSystem.MinimumStableEulerTheta(12, dt);
        Assert.Throws<ArgumentException>(() => LmuSystem.Create(12, minimum * 0.97, dt, Discretizer.Euler));
        var stable = LmuSystem.Create(12, minimum * 1.001, dt, Discretizer.Euler);
        Assert.That(stable.SpectralRadius(), Is.LessThanOrEqualTo(1 + 1e-9));
    }

    [Test]
    public void SpectralRadius_OfZeroOrderHold_MatchesSlowestPole()
    {
        // ρ(Ā) = e^(Re λ_max / θ) with Re λ_max = −3.2128 for d = 4 (brief §5.2).
        var system = LmuSystem.Create(4, 4);
        Assert.That(system.SpectralRadius(), Is.EqualTo(Math.Exp(-3.2128 / 4)).Within(1e-4));
    }

    [TestCase(0)]
    [TestCase(-3)]
    [TestCase(LmuSystem.MaxOrder + 1)]
    public void Create_ThrowsForOrderOutOfRange(int order)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => LmuSystem.Create(order, 10));
        Assert.That(e!.ParamName, Is.EqualTo("order"));
    }

    [TestCase(0.0)]
    [TestCase(-1.0)]
    [TestCase(double.NaN)]
    [TestCase(double.PositiveInfinity)]
    public void Create_ThrowsForBadTheta(double theta)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => LmuSystem.Create(4, theta));
        Assert.That(e!.ParamName, Is.EqualTo("theta"));
    }

    [TestCase(0.0)]
    [TestCase(double.NaN)]
    public void Create_ThrowsForBadDt(double dt)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => LmuSystem.Create(4, 10, dt));
        Assert.That(e!.ParamName, Is.EqualTo("dt"));
    }

    [TestCase(-0.1)]
    [TestCase(1.5)]
    [TestCase(double.NaN)]
    public void Decoder_ThrowsForDelayOutsideWindow(double r)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ShiftedLegendre.Evaluate(4, r));
    }

    // 1 − e^(−h) without cancellation for small h (series), else directly.
    private static double ExpM1Negated(double h)
    {
        if (h > 1e-3)
        {
            return 1 - Math.Exp(-h);
        }

        double term = h, sum = 0;
        for (int k = 1; k < 20; k++)
        {
            sum += term;
            term *= -h / (k + 1);
        }

        return sum;
    }

    private static (double[] ABar, double[] BBar) SeriesZoh(int d, double theta, double dt)
    {
        // Σ_k (M h)^k / k! on the augmented matrix, summed until the terms vanish (‖M h‖ small here).
        int n = d + 1;
        var a = LmuSystem.ContinuousA(d);
        var b = LmuSystem.ContinuousB(d);
        var m = new double[n * n];
        double h = dt / theta;
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++)
            {
                m[i * n + j] = a[i * d + j] * h;
            }

            m[i * n + d] = b[i] * h;
        }

        // scale by 2^-s so the series converges quickly, then square back
        int s = 0;
        double norm = m.Max(Math.Abs) * n;
        while (norm > 0.5)
        {
            norm /= 2;
            s++;
        }

        var scaled = m.Select(x => x / Math.Pow(2, s)).ToArray();
        var sum = new double[n * n];
        var term = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            sum[i * n + i] = 1;
            term[i * n + i] = 1;
        }

        for (int k = 1; k < 40; k++)
        {
            term = Multiply(term, scaled, n).Select(x => x / k).ToArray();
            for (int i = 0; i < sum.Length; i++)
            {
                sum[i] += term[i];
            }
        }

        for (int i = 0; i < s; i++)
        {
            sum = Multiply(sum, sum, n);
        }

        var aBar = new double[d * d];
        var bBar = new double[d];
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++)
            {
                aBar[i * d + j] = sum[i * n + j];
            }

            bBar[i] = sum[i * n + d];
        }

        return (aBar, bBar);
    }

    private static double[] Multiply(double[] x, double[] y, int n, int columns = -1)
    {
        int c = columns < 0 ? n : columns;
        var r = new double[n * c];
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < n; k++)
            {
                double xik = x[i * n + k];
                if (xik == 0)
                {
                    continue;
                }

                for (int j = 0; j < c; j++)
                {
                    r[i * c + j] += xik * y[k * c + j];
                }
            }
        }

        return r;
    }
}
