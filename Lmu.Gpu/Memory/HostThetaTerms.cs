namespace Lmu.Gpu;

/// <summary>
/// The θ gradient's part of the sequential adjoint (<see cref="HostSequence.Adjoint"/>) for a trainable θ: per step a
/// second eight-column product a_t = A_θ·m_ref + u_t·b_θ (A_θ, b_θ: the system's θ-derivative terms; m_ref = m_t for
/// zero-order hold, m_(t−1) for Euler), whose dot with λ_t adds to each memory's θ sum.
/// </summary>
/// <param name="aTransposed">A_θ transposed (element [j·d + i] = A_θ[i, j]).</param>
/// <param name="b">b_θ.</param>
/// <param name="euler">Whether m_ref is the previous state (Euler) rather than the current one.</param>
/// <param name="states">m [B, T, k, d] of the forward run.</param>
/// <param name="inputs">u [B, T, k].</param>
/// <param name="sums">Σ_t λ_t·a_t per memory [B·k] out (in double).</param>
internal sealed unsafe class HostThetaTerms(float[] aTransposed, float[] b, bool euler, float* states, float* inputs, double[] sums)
{
    /// <summary>A_θ transposed.</summary>
    public float[] ATransposed => aTransposed;

    /// <summary>b_θ.</summary>
    public float[] B => b;

    /// <summary>Sums per memory, written by the adjoint.</summary>
    public double[] Sums => sums;

    /// <summary>m_ref of memory row <paramref name="row"/> at step <paramref name="t"/> (<paramref name="zero"/> for
    /// Euler's t = 0).</summary>
    public float* Reference(long row, int t, int channels, int d, float* zero) =>
        !euler ? states + (row * d) : t > 0 ? states + ((row - channels) * d) : zero;

    /// <summary>u at memory row <paramref name="row"/>.</summary>
    public float Input(long row) => inputs[row];
}
