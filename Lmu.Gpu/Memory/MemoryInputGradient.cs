namespace Lmu.Gpu;

/// <summary>The result of <see cref="LinearMemory.RunInputGradient(ReadOnlySpan{float}, int, SequenceMethod)"/>: the
/// adjoint's gradients without λ.</summary>
/// <param name="InputGradient">∂L/∂u_t = B̄ᵀ·λ_t, [B, T, k].</param>
/// <param name="InitialStateGradient">∂L/∂m_(−1) = Āᵀ·λ_0, [B, k, d].</param>
#pragma warning disable CA1819 // Properties should not return arrays: these are the result buffers, by design.
public sealed record MemoryInputGradient(float[] InputGradient, float[] InitialStateGradient);
#pragma warning restore CA1819
