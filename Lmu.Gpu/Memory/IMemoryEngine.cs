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

    /// <summary>As <see cref="RunSequential"/>, by the chunked parallel scan with chunk length
    /// <paramref name="chunkLength"/> (0: the engine's rule).</summary>
    void RunScan(ReadOnlySpan<float> input, int steps, MemoryOutputMode mode, ReadOnlySpan<float> decoders, int delays, Span<float> output, int chunkLength);

    /// <summary>The adjoint λ_t = g_t + Āᵀ·λ_(t+1), λ_T = 0; writes λ [B,T,k,d], B̄ᵀ·λ_t [B,T,k] and Āᵀ·λ_0 [B,k,d].
    /// The states are not touched.</summary>
    void RunAdjoint(ReadOnlySpan<float> gradients, int steps, bool scan, int chunkLength, Span<float> lambda, Span<float> inputGradient, Span<float> initialGradient);

    /// <summary>As <see cref="RunAdjoint"/> without λ: writes B̄ᵀ·λ_t [B,T,k] and Āᵀ·λ_0 [B,k,d] only, where the engine
    /// can, without holding λ for all T.</summary>
    void RunInputGradient(ReadOnlySpan<float> gradients, int steps, bool scan, int chunkLength, Span<float> inputGradient, Span<float> initialGradient);

    /// <summary>Times <paramref name="repeats"/> runs of all states, or of the final state only (<paramref name="mode"/>:
    /// <see cref="MemoryOutputMode.AllStates"/> or <see cref="MemoryOutputMode.FinalOnly"/>), after untimed warm-ups,
    /// with the buffers kept in place (on a device, no host transfers are timed); returns seconds per run. States are
    /// restored after.</summary>
    double[] MeasureStates(ReadOnlySpan<float> input, int steps, bool scan, int chunkLength, int repeats, MemoryOutputMode mode);

    /// <summary>Times <paramref name="repeats"/> adjoint runs (λ, ∂u and ∂m₀ of <paramref name="gradients"/>) after an
    /// untimed warm-up, with the buffers kept in place (on a device, no host transfers of g, λ or ∂u are timed);
    /// returns seconds per run.</summary>
    double[] MeasureAdjoint(ReadOnlySpan<float> gradients, int steps, bool scan, int chunkLength, int repeats);

    /// <summary>The chunk length the engine picks for T steps.</summary>
    int ChooseChunkLength(int steps);

    /// <summary>Whether <see cref="SequenceMethod.Auto"/> runs the scan for T steps.</summary>
    bool PrefersScan(int steps, MemoryOutputMode mode);

    /// <summary>Whether <see cref="SequenceMethod.Auto"/> runs the adjoint of T steps by the scan.</summary>
    bool PrefersAdjointScan(int steps);

    /// <summary>When the scan takes the window start (<see cref="ScanWindow"/>): final-only runs on both engines, and on
    /// a device also the chunks' carries. Default <c>$LMU_SCAN_WINDOW</c>, else <see cref="ScanWindowUse.Auto"/>.</summary>
    ScanWindowUse WindowUse { get; set; }

    /// <summary>Frees the scratch kept between scan runs (device engine; the host engine keeps none).</summary>
    void ReleaseScratch();
}
