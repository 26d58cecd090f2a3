namespace Lmu.Gpu.Kernels.Memory;

/// <summary>What <see cref="LinearMemoryKernels.Sequence"/> writes for every step.</summary>
public enum MemoryOutputMode
{
    /// <summary>Nothing per step: only the final states.</summary>
    FinalOnly = 0,

    /// <summary>Every state m_t, laid out [batch, step, channel, order].</summary>
    AllStates = 1,

    /// <summary>Decoded outputs C·m_t, laid out [batch, step, channel, delay].</summary>
    Decoded = 2,
}

/// <summary>Scalar arguments of <see cref="LinearMemoryKernels.Sequence"/>.</summary>
/// <param name="Order">The order d.</param>
/// <param name="Channels">Memory channels k per batch entry.</param>
/// <param name="Steps">Steps T of this launch.</param>
/// <param name="Delays">Rows Q of the decoder matrix (used in <see cref="MemoryOutputMode.Decoded"/>).</param>
/// <param name="Mode">What to write per step.</param>
public readonly record struct MemorySequenceParams(int Order, int Channels, int Steps, int Delays, MemoryOutputMode Mode);
