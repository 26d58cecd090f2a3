namespace Lmu.Gpu;

/// <summary>How the continuous LMU memory θ·ṁ = A·m + B·u is turned into the discrete update
/// m_t = Ā·m_{t−1} + B̄·u_t.</summary>
public enum Discretizer
{
    /// <summary>Zero-order hold: Ā = e^(A·dt/θ), B̄ = A⁻¹(Ā − I)·B. Exact for piecewise-constant input and
    /// stable for every θ &gt; 0. The default, as in the paper.</summary>
    ZeroOrderHold = 0,

    /// <summary>Forward Euler: Ā = I + A·dt/θ, B̄ = B·dt/θ. Only stable when θ/dt is large enough for the order
    /// (see <see cref="LmuSystem.MinimumStableEulerTheta"/>).</summary>
    Euler = 1,
}
