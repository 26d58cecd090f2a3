using Lmu.Gpu.Kernels.Memory;
using Lmu.Gpu.Kernels.Training;

namespace Lmu.Gpu.Training;

/// <summary>
/// The feedforward LMU layer's memory over whole sequences by the chunked parallel scan — the engines behind
/// <see cref="LinearMemory"/>'s <see cref="SequenceMethod.Scan"/>, host SIMD or device kernels, run on the training
/// tensors in place: the forward states m_t from zero, and the adjoint's input gradient dL/du_t = B̄ᵀ·λ_t with
/// λ_t = g_t + Āᵀ·λ_(t+1), and for a trainable θ the θ sum from λ (<see cref="InputGradientAndTheta"/>).
/// </summary>
/// <remarks>One engine per batch size (a training run sees the mini-batch, the last short batch and the evaluation
/// batch), all rebuilt when the system changes; each keeps its scan plans (Āᴸ, the impulse response) between calls.</remarks>
internal sealed class ScanMemorySequence(Backend backend) : IDisposable
{
    private readonly Dictionary<(int Batch, int Channels), IMemoryEngine> _engines = [];

    /// <summary>The device's phase-C kernel, read from the environment once, as each device engine reads it.</summary>
    private readonly ScanStatesKernel _statesKernel = ScanStatesKernelParser.FromEnvironment();
    private LmuSystem? _system;
    private float[] _initialGradient = [];
    private Tensor? _lambda;
    private Tensor? _thetaSums;

    /// <summary>The chunk length L (0: the engine's rule; tests set a short one to exercise the carries).</summary>
    public int ChunkLength { get; set; }

    /// <summary>Whether the engine's <see cref="SequenceMethod.Auto"/> rule picks the scan for these sizes (asked of the
    /// rule itself: no engine is built for a run that stays sequential).</summary>
    /// <param name="system">The memory's current system.</param>
    /// <param name="batch">B.</param>
    /// <param name="channels">k.</param>
    /// <param name="steps">T.</param>
    /// <returns>True when the scan is the faster choice.</returns>
    public bool Prefers(LmuSystem system, int batch, int channels, int steps) => backend is DeviceBackend
        ? DeviceMemoryEngine.PrefersScan(_statesKernel, system.Order, batch * channels, steps)
        : HostAutoRule.PrefersScan(system.Order, batch * channels, steps, HostAutoRule.ForwardScanCost);

    /// <summary>As <see cref="Prefers"/> for the adjoint (<see cref="IMemoryEngine.PrefersAdjointScan"/>). On a device
    /// with a fixed θ the adjoint needs no λ and runs as chunk products wherever phase C does
    /// (<see cref="DeviceMemoryEngine.AdjointByProduct"/>), so it follows the product's chunk rule; with λ it takes the
    /// lock-step kernel's.</summary>
    /// <param name="system">The memory's current system.</param>
    /// <param name="batch">B.</param>
    /// <param name="channels">k.</param>
    /// <param name="steps">T.</param>
    /// <param name="keepLambda">Whether the adjoint must write λ (a trainable θ).</param>
    /// <returns>True when the scan is the faster choice.</returns>
    public bool PrefersAdjoint(LmuSystem system, int batch, int channels, int steps, bool keepLambda = false) => backend is DeviceBackend
        ? DeviceMemoryEngine.PrefersScan(keepLambda ? ScanStatesKernel.Steps : _statesKernel, system.Order, batch * channels, steps)
        : HostAutoRule.PrefersScan(system.Order, batch * channels, steps, HostAutoRule.AdjointScanCost);

    /// <summary>m [B, T, k, d] from u [B, T, k], starting from zero.</summary>
    /// <param name="system">The memory's current system.</param>
    /// <param name="batch">B.</param>
    /// <param name="channels">k.</param>
    /// <param name="steps">T.</param>
    /// <param name="u">Inputs.</param>
    /// <param name="states">States (written).</param>
    public void Forward(LmuSystem system, int batch, int channels, int steps, Slice u, Slice states)
    {
        switch (Engine(system, batch, channels))
        {
            case DeviceMemoryEngine device:
                device.ScanStatesFromZero(u.View, steps, states.View, ChunkLength);
                break;
            case HostMemoryEngine host:
                host.SetStates(new float[(long)batch * channels * system.Order]);
                host.RunScan(u.Span, steps, MemoryOutputMode.AllStates, ReadOnlySpan<float>.Empty, 0, states.Span, ChunkLength);
                break;
        }
    }

    /// <summary>m [B, T, k, d] from u [B, T, k], starting from <paramref name="memoryState"/> [B, k, d] and leaving
    /// the final states there: the engine's run from its current states, by the scan or sequentially.</summary>
    /// <param name="system">The memory's current system.</param>
    /// <param name="batch">B.</param>
    /// <param name="channels">k.</param>
    /// <param name="steps">T.</param>
    /// <param name="u">Inputs.</param>
    /// <param name="states">States (written).</param>
    /// <param name="memoryState">The initial states, overwritten with the final ones.</param>
    /// <param name="scan">Whether to run the scan.</param>
    public void ForwardFrom(LmuSystem system, int batch, int channels, int steps, Slice u, Slice states, Slice memoryState, bool scan) =>
        RunFrom(system, batch, channels, steps, u, states, memoryState, scan, MemoryOutputMode.AllStates);

    /// <summary>As <see cref="ForwardFrom"/> with the final states only (no T-long output): the stream's last-step
    /// layer.</summary>
    /// <param name="system">The memory's current system.</param>
    /// <param name="batch">B.</param>
    /// <param name="channels">k.</param>
    /// <param name="steps">T.</param>
    /// <param name="u">Inputs.</param>
    /// <param name="memoryState">The initial states, overwritten with the final ones.</param>
    /// <param name="scan">Whether to run the scan.</param>
    public void FinalFrom(LmuSystem system, int batch, int channels, int steps, Slice u, Slice memoryState, bool scan) =>
        RunFrom(system, batch, channels, steps, u, default, memoryState, scan, MemoryOutputMode.FinalOnly);

    private void RunFrom(LmuSystem system, int batch, int channels, int steps, Slice u, Slice states, Slice memoryState, bool scan, MemoryOutputMode mode)
    {
        bool all = mode == MemoryOutputMode.AllStates;
        switch (Engine(system, batch, channels))
        {
            case DeviceMemoryEngine device:
                // Queued in order on the default stream; the stream's run synchronises once at its end.
                device.CopyStatesFrom(memoryState.View, synchronize: false);
                device.RunOnDevice(u.View, steps, mode, [], 0, all ? states.View : default, scan, ChunkLength, synchronize: false);
                device.CopyStatesTo(memoryState.View, synchronize: false);
                break;
            case HostMemoryEngine host:
                host.SetStates(memoryState.Span);
                if (steps == 1 && !scan)
                {
                    // One step: the streaming step (B·k memories in one blocked product), not a sequence run.
                    host.Step(u.Span);
                }
                else if (scan)
                {
                    host.RunScan(u.Span, steps, mode, ReadOnlySpan<float>.Empty, 0, all ? states.Span : Span<float>.Empty, ChunkLength);
                }
                else
                {
                    host.RunSequential(u.Span, steps, mode, ReadOnlySpan<float>.Empty, 0, all ? states.Span : Span<float>.Empty);
                }

                host.GetStates(memoryState.Span);
                if (steps == 1 && !scan && all)
                {
                    memoryState.Span.CopyTo(states.Span);
                }

                break;
        }
    }

    /// <summary>dU [B, T, k] = B̄ᵀ·λ_t from the direct gradients g [B, T, k, d].</summary>
    /// <param name="system">The memory's current system.</param>
    /// <param name="batch">B.</param>
    /// <param name="channels">k.</param>
    /// <param name="steps">T.</param>
    /// <param name="gradients">g.</param>
    /// <param name="inputGradient">dU (written).</param>
    public void InputGradient(LmuSystem system, int batch, int channels, int steps, Slice gradients, Slice inputGradient) =>
        Adjoint(system, batch, channels, steps, gradients, inputGradient, keepLambda: false);

    /// <summary>A buffer for ∂m₀ (which the layers do not use: their memories start from zero), kept between calls.</summary>
    private float[] InitialGradient(int batch, int channels, int order)
    {
        long starts = (long)batch * channels * order;
        if (_initialGradient.Length != starts)
        {
            _initialGradient = new float[starts];
        }

        return _initialGradient;
    }

    /// <summary>The adjoint scan: dU, and λ in this object's buffer where <paramref name="keepLambda"/> is set (a
    /// trainable θ's gradient reads it).</summary>
    /// <returns>λ [B, T, k, d], or null where it was not kept.</returns>
    private Slice? Adjoint(LmuSystem system, int batch, int channels, int steps, Slice gradients, Slice inputGradient, bool keepLambda)
    {
        var engine = Engine(system, batch, channels);
        if (!keepLambda)
        {
            switch (engine)
            {
                case DeviceMemoryEngine device:
                    device.ScanInputGradient(gradients.View, steps, inputGradient.View, ChunkLength);
                    return null;
                case HostMemoryEngine hostEngine:
                    // λ chained through the scan's scratch, never written for all T.
                    hostEngine.RunInputGradient(gradients.Span, steps, scan: true, ChunkLength, inputGradient.Span, InitialGradient(batch, channels, system.Order));
                    return null;
            }
        }

        if (_lambda is null || _lambda.Length < gradients.Length)
        {
            _lambda?.Dispose();
            _lambda = backend.Allocate(gradients.Length, "adjoint states");
        }

        var lambda = _lambda.Sub(0, gradients.Length);
        switch (engine)
        {
            case DeviceMemoryEngine scanOnDevice:
                scanOnDevice.ScanAdjoint(gradients.View, steps, lambda.View, inputGradient.View, ChunkLength);
                break;
            case HostMemoryEngine host:
                host.RunAdjoint(gradients.Span, steps, scan: true, ChunkLength, lambda.Span, inputGradient.Span, InitialGradient(batch, channels, system.Order));
                break;
        }

        return lambda;
    }

    /// <summary>
    /// As <see cref="InputGradient"/>, and the θ sum of a trainable θ: Σ_t λ_t·(A_θ·m_ref,t + u_t·b_θ) over every
    /// memory and step (unscaled), with m_ref,t = m_t (zero-order hold) or m_(t−1) (Euler, zero at t = 0), as the
    /// sequential adjoint accumulates it. The scan writes λ; the sum is then ⟨A_θ, Σ λ·m_refᵀ⟩ + ⟨b_θ, Σ λ·u⟩, two
    /// outer-product reductions on the backend (d² + d values read back).
    /// </summary>
    /// <param name="system">The memory's current system.</param>
    /// <param name="batch">B.</param>
    /// <param name="channels">k.</param>
    /// <param name="steps">T.</param>
    /// <param name="gradients">g [B, T, k, d].</param>
    /// <param name="inputGradient">dU [B, T, k] (written).</param>
    /// <param name="states">m [B, T, k, d] of the forward run.</param>
    /// <param name="inputs">u [B, T, k].</param>
    /// <param name="systemTensor">The layer's system tensor: Ā, B̄, A_θ (row-major, at d² + d), b_θ (at 2d² + d), ….</param>
    /// <param name="euler">Whether m_ref is the previous state.</param>
    /// <returns>The θ sum, to be scaled by −dt/θ².</returns>
    public double InputGradientAndTheta(LmuSystem system, int batch, int channels, int steps, Slice gradients, Slice inputGradient,
        Slice states, Slice inputs, Slice systemTensor, bool euler)
    {
        int d = system.Order;
        var lambda = Adjoint(system, batch, channels, steps, gradients, inputGradient, keepLambda: true)!.Value;
        if (_thetaSums is null || _thetaSums.Length != (long)d * (d + 1))
        {
            _thetaSums?.Dispose();
            _thetaSums = backend.Allocate((long)d * (d + 1), "θ sums");
        }

        var outer = _thetaSums.Sub(0, (long)d * d);
        var input = _thetaSums.Sub((long)d * d, d);
        backend.Clear(_thetaSums.All);
        int rows = steps * channels; // the (t, c) rows of one sequence; m_(t−1) of the same channel is k rows back
        backend.Outer(new OuterParams(batch, rows, d, d, euler ? channels : 0), lambda, states, outer);
        backend.Outer(new OuterParams(batch, rows, d, 1, 0), lambda, inputs, input);
        float[] sums = backend.Download(_thetaSums.All);
        float[] terms = backend.Download(systemTensor.Sub((long)d * d + d, (long)d * d + d));
        double theta = 0;
        for (int i = 0; i < d * (d + 1); i++)
        {
            theta += (double)terms[i] * sums[i];
        }

        return theta;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        DisposeEngines();
        _lambda?.Dispose();
        _lambda = null;
        _thetaSums?.Dispose();
        _thetaSums = null;
    }

    private void DisposeEngines()
    {
        foreach (var engine in _engines.Values)
        {
            engine.Dispose();
        }

        _engines.Clear();
    }

    private IMemoryEngine Engine(LmuSystem system, int batch, int channels)
    {
        if (!ReferenceEquals(system, _system))
        {
            DisposeEngines();
            _system = system;
        }

        if (!_engines.TryGetValue((batch, channels), out var engine))
        {
            engine = backend is DeviceBackend device
                ? new DeviceMemoryEngine(device.Accelerator, system, batch, channels)
                : new HostMemoryEngine(system, batch, channels);
            _engines[(batch, channels)] = engine;
        }

        return engine;
    }
}
