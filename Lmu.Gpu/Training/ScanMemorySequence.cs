using Lmu.Gpu.Kernels.Memory;

namespace Lmu.Gpu.Training;

/// <summary>
/// The feedforward LMU layer's memory over whole sequences by the chunked parallel scan — the engines behind
/// <see cref="LinearMemory"/>'s <see cref="SequenceMethod.Scan"/>, host SIMD or device kernels, run on the training
/// tensors in place: the forward states m_t from zero, and the adjoint's input gradient dL/du_t = B̄ᵀ·λ_t with
/// λ_t = g_t + Āᵀ·λ_(t+1). For a fixed θ only: the θ gradient of the sequential adjoint is not formed here.
/// </summary>
/// <remarks>One engine per batch size (a training run sees the mini-batch, the last short batch and the evaluation
/// batch), all rebuilt when the system changes; each keeps its scan plans (Āᴸ, the impulse response) between calls.</remarks>
internal sealed class ScanMemorySequence(Backend backend) : IDisposable
{
    private readonly Dictionary<(int Batch, int Channels), IMemoryEngine> _engines = [];

    /// <summary>The device's phase-C kernel, read from the environment once, as each device engine reads it.</summary>
    private readonly ScanStatesKernel _statesKernel = ScanStatesKernelParser.FromEnvironment();
    private LmuSystem? _system;
    private float[] _lambda = [];
    private float[] _initialGradient = [];

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
        : HostMemoryEngine.PrefersScan(system.Order, batch * channels, steps, HostMemoryEngine.ForwardScanCost);

    /// <summary>As <see cref="Prefers"/> for the adjoint (<see cref="IMemoryEngine.PrefersAdjointScan"/>).</summary>
    /// <param name="system">The memory's current system.</param>
    /// <param name="batch">B.</param>
    /// <param name="channels">k.</param>
    /// <param name="steps">T.</param>
    /// <returns>True when the scan is the faster choice.</returns>
    public bool PrefersAdjoint(LmuSystem system, int batch, int channels, int steps) => backend is DeviceBackend
        ? DeviceMemoryEngine.PrefersScan(ScanStatesKernel.Steps, system.Order, batch * channels, steps)
        : HostMemoryEngine.PrefersScan(system.Order, batch * channels, steps, HostMemoryEngine.AdjointScanCost);

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

    /// <summary>dU [B, T, k] = B̄ᵀ·λ_t from the direct gradients g [B, T, k, d].</summary>
    /// <param name="system">The memory's current system.</param>
    /// <param name="batch">B.</param>
    /// <param name="channels">k.</param>
    /// <param name="steps">T.</param>
    /// <param name="gradients">g.</param>
    /// <param name="inputGradient">dU (written).</param>
    public void InputGradient(LmuSystem system, int batch, int channels, int steps, Slice gradients, Slice inputGradient)
    {
        switch (Engine(system, batch, channels))
        {
            case DeviceMemoryEngine device:
                device.ScanInputGradient(gradients.View, steps, inputGradient.View, ChunkLength);
                break;
            case HostMemoryEngine host:
                // The host adjoint chains its steps through λ, so λ needs its own buffer (kept between calls).
                if (_lambda.Length < gradients.Length)
                {
                    _lambda = new float[gradients.Length];
                }

                long starts = (long)batch * channels * system.Order;
                if (_initialGradient.Length != starts)
                {
                    _initialGradient = new float[starts];
                }

                host.RunAdjoint(gradients.Span, steps, scan: true, ChunkLength, _lambda.AsSpan(0, checked((int)gradients.Length)),
                    inputGradient.Span, _initialGradient);
                break;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
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
            Dispose();
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
