using Lmu.Gpu.Kernels.Memory;

namespace Lmu.Gpu;

/// <summary>The backend behind a <see cref="LinearMemory"/>: the host SIMD path or ILGPU kernels. Arguments are
/// validated by <see cref="LinearMemory"/> before they reach an engine.</summary>
internal interface IMemoryEngine : IDisposable
{
    /// <summary>Advances every state by one step; <paramref name="input"/> has B·k values.</summary>
    void Step(ReadOnlySpan<float> input);

    /// <summary>Copies the states [B·k, d] out.</summary>
    void GetStates(Span<float> destination);

    /// <summary>Overwrites the states [B·k, d].</summary>
    void SetStates(ReadOnlySpan<float> source);

    /// <summary>Runs T steps sequentially from the current states, writes the per-step output for
    /// <paramref name="mode"/>, and leaves the final states as current.</summary>
    void RunSequential(ReadOnlySpan<float> input, int steps, MemoryOutputMode mode, ReadOnlySpan<float> decoders, int delays, Span<float> output);
}
