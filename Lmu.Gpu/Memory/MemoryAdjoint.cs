namespace Lmu.Gpu;

/// <summary>The result of <see cref="LinearMemory.RunAdjoint(ReadOnlySpan{float}, int, SequenceMethod)"/>.</summary>
/// <param name="Lambda">λ_t = g_t + Āᵀ·λ_(t+1) = ∂L/∂m_t (total), [B, T, k, d].</param>
/// <param name="InputGradient">∂L/∂u_t = B̄ᵀ·λ_t, [B, T, k].</param>
/// <param name="InitialStateGradient">∂L/∂m_(−1) = Āᵀ·λ_0 (the gradient for the states the run started from),
/// [B, k, d].</param>
#pragma warning disable CA1819 // Properties should not return arrays: these are the result buffers, by design.
public sealed record MemoryAdjoint(float[] Lambda, float[] InputGradient, float[] InitialStateGradient);
#pragma warning restore CA1819
