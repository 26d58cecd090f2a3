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
