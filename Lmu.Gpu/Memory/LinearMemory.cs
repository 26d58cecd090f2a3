using System.Numerics;
using Lmu.Gpu.Kernels.Memory;

namespace Lmu.Gpu;

/// <summary>
/// A batch of LMU linear memories m_t = Ā·m_{t−1} + B̄·u_t: B sequences × k channels, each an order-d state, kept
/// on the device (or in host memory on the <c>cpu</c> path). Advance it one step at a time with <see cref="Step(ReadOnlySpan{float})"/>
/// (streaming) or run whole sequences with <see cref="RunStates(ReadOnlySpan{float}, int, SequenceMethod)"/>,
/// <see cref="RunFinalState(ReadOnlySpan{float}, int, SequenceMethod)"/> and
/// <see cref="RunDecoded(ReadOnlySpan{float}, int, ReadOnlySpan{double}, SequenceMethod)"/>. Every run starts from the
/// current states and leaves the final states as current.
/// </summary>
/// <remarks>
/// Layouts (row-major): inputs [B, T, k]; states [B, k, d]; all states [B, T, k, d]; decoded outputs [B, T, k, Q]
/// for Q delays. Arguments are validated before anything runs on the device; on an error nothing is changed.
/// On a device, each run also has an overload on ILGPU views (<c>ArrayView&lt;float&gt;</c>) of the memory's
/// accelerator, so that inputs and outputs stay in device memory.
/// Not thread-safe, as a BLAS or cuDNN handle is not: a memory holds its states and its scan's scratch, so give each
/// thread its own (they can share one <see cref="LmuDevice"/>). A trained <see cref="Training.LmuModel"/> and its
/// streams, by contrast, may be called from several threads.
/// </remarks>
public sealed partial class LinearMemory : IDisposable
{
    private readonly IMemoryEngine _engine;
    private bool _disposed;
    private int _chunkLength;

    /// <summary>Creates zeroed memories on <paramref name="device"/>.</summary>
    /// <param name="device">The device to run on.</param>
    /// <param name="system">The discretised LMU system (order d).</param>
    /// <param name="batch">Sequences B ≥ 1.</param>
    /// <param name="channels">Memory channels k ≥ 1 per sequence.</param>
    /// <exception cref="ArgumentNullException">A reference argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> or <paramref name="channels"/> &lt; 1,
    /// or B·k·d overflows.</exception>
    /// <exception cref="InsufficientMemoryException">The device cannot hold the states.</exception>
    public LinearMemory(LmuDevice device, LmuSystem system, int batch = 1, int channels = 1)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(system);
        ObjectDisposedException.ThrowIf(device.IsDisposed, device);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        if ((long)batch * channels * system.Order > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"batch·channels·order = {(long)batch * channels * system.Order} states exceed one array.");
        }

        Device = device;
        System = system;
        Batch = batch;
        Channels = channels;
        _engine = device.IsHost
            ? new HostMemoryEngine(system, batch, channels)
            : new DeviceMemoryEngine(device.Accelerator, system, batch, channels);
    }

    /// <summary>The device.</summary>
    public LmuDevice Device { get; }

    /// <summary>The LMU system.</summary>
    public LmuSystem System { get; }

    /// <summary>Sequences B.</summary>
    public int Batch { get; }

    /// <summary>Channels k per sequence.</summary>
    public int Channels { get; }

    /// <summary>The order d.</summary>
    public int Order => System.Order;

    /// <summary>Number of state values, B·k·d.</summary>
    public int StateLength => Batch * Channels * Order;

    /// <summary>Advances every memory by one step with a new input row of B·k values ([B, k]).</summary>
    /// <param name="input">The inputs u_t.</param>
    /// <exception cref="ArgumentException">Wrong length, or a NaN or infinite value.</exception>
    /// <exception cref="ObjectDisposedException">This memory was disposed.</exception>
    public void Step(ReadOnlySpan<float> input)
    {
        ThrowIfDisposed();
        ValidateInput(input, 1, nameof(input));
        _engine.Step(input);
    }

    /// <summary>Copies the current states [B, k, d] into <paramref name="destination"/>.</summary>
    /// <param name="destination">At least <see cref="StateLength"/> values.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    public void GetStates(Span<float> destination)
    {
        ThrowIfDisposed();
        if (destination.Length < StateLength)
        {
            throw new ArgumentException($"The destination holds {destination.Length} values; {StateLength} are needed.", nameof(destination));
        }

        _engine.GetStates(destination[..StateLength]);
    }

    /// <summary>Returns the current states [B, k, d].</summary>
    /// <returns>A new array.</returns>
    public float[] GetStates()
    {
        var result = new float[StateLength];
        GetStates(result);
        return result;
    }

    /// <summary>Overwrites the states [B, k, d].</summary>
    /// <param name="states">Exactly <see cref="StateLength"/> finite values.</param>
    /// <exception cref="ArgumentException">Wrong length or a non-finite value.</exception>
    public void SetStates(ReadOnlySpan<float> states)
    {
        ThrowIfDisposed();
        if (states.Length != StateLength)
        {
            throw new ArgumentException($"states has {states.Length} values; expected B·k·d = {StateLength}.", nameof(states));
        }

        ThrowIfNotFinite(states, nameof(states));
        _engine.SetStates(states);
    }

    /// <summary>Sets every state to zero.</summary>
    public void Reset() => SetStates(new float[StateLength]);

    /// <summary>Runs T steps and returns every state.</summary>
    /// <param name="input">Inputs [B, T, k].</param>
    /// <param name="steps">T ≥ 1.</param>
    /// <param name="method">How to evaluate the sequence.</param>
    /// <returns>States [B, T, k, d]: entry t is m_t after u_t has entered.</returns>
    /// <exception cref="ArgumentException">Wrong input length, a NaN or infinite input, or an output too large.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> &lt; 1.</exception>
    /// <exception cref="InsufficientMemoryException">The device cannot hold the buffers.</exception>
    public float[] RunStates(ReadOnlySpan<float> input, int steps, SequenceMethod method = SequenceMethod.Auto)
    {
        ThrowIfDisposed();
        ValidateInput(input, steps, nameof(input));
        var output = new float[OutputLength(steps, Order)];
        Run(input, steps, MemoryOutputMode.AllStates, ReadOnlySpan<float>.Empty, 0, output, method);
        return output;
    }

    /// <summary>Runs T steps and returns only the final states (no T-long output is formed).</summary>
    /// <param name="input">Inputs [B, T, k].</param>
    /// <param name="steps">T ≥ 1.</param>
    /// <param name="method">How to evaluate the sequence.</param>
    /// <returns>States [B, k, d] after the last step.</returns>
    /// <exception cref="ArgumentException">Wrong input length or a NaN or infinite input.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> &lt; 1.</exception>
    public float[] RunFinalState(ReadOnlySpan<float> input, int steps, SequenceMethod method = SequenceMethod.Auto)
    {
        ThrowIfDisposed();
        ValidateInput(input, steps, nameof(input));
        Run(input, steps, MemoryOutputMode.FinalOnly, ReadOnlySpan<float>.Empty, 0, Span<float>.Empty, method);
        return GetStates();
    }

    /// <summary>Runs T steps and returns the decoded delayed inputs u(t − r·θ) ≈ P̃(r)·m_t for each delay fraction r,
    /// without storing the states.</summary>
    /// <param name="input">Inputs [B, T, k].</param>
    /// <param name="steps">T ≥ 1.</param>
    /// <param name="delays">Delay fractions r in [0, 1] (Q ≥ 1 of them).</param>
    /// <param name="method">How to evaluate the sequence.</param>
    /// <returns>Outputs [B, T, k, Q].</returns>
    /// <exception cref="ArgumentException">Wrong input length, a NaN or infinite input, no delays, or an output too large.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> &lt; 1 or a delay outside [0, 1].</exception>
    public float[] RunDecoded(ReadOnlySpan<float> input, int steps, ReadOnlySpan<double> delays, SequenceMethod method = SequenceMethod.Auto)
    {
        ThrowIfDisposed();
        float[] decoders = Array.ConvertAll(ShiftedLegendre.EvaluateMany(Order, delays), x => (float)x);
        ValidateInput(input, steps, nameof(input));
        var output = new float[OutputLength(steps, delays.Length)];
        Run(input, steps, MemoryOutputMode.Decoded, decoders, delays.Length, output, method);
        return output;
    }

    /// <summary>Frees the device scratch that the parallel scan keeps between runs.</summary>
    /// <remarks>On a device, a scan run's intermediate buffers (the chunk carries, the final states, the chunk starts of
    /// the matrix-product phase C and the adjoint's carries; each up to B·k·⌈T/L⌉·d floats, about 100 MB at B = 64,
    /// d = 256, T = 100,000) stay allocated after the run and are reused by the next one, growing when a run needs more,
    /// so that repeated runs allocate nothing. This frees them until the next scan; <see cref="Dispose"/> frees them as
    /// well. On the host path it does nothing.</remarks>
    /// <exception cref="ObjectDisposedException">The memory was disposed.</exception>
    public void ReleaseScratch()
    {
        ThrowIfDisposed();
        _engine.ReleaseScratch();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _engine.Dispose();
    }

    internal static void ThrowIfNotFinite(ReadOnlySpan<float> values, string name, int rowLength = 0)
    {
        // Vectorised first pass: x·0 is 0 for every finite x and NaN for ±∞ and NaN, so the sum stays 0 exactly when
        // all values are finite. For 1.6·10⁶ values it takes 0.32 ms on the 2-core VM (memory-bound), against 0.88 ms for
        // the element loop below, which now runs only to name the first bad value.
        var sum = Vector<float>.Zero;
        int width = Vector<float>.Count;
        int end = values.Length - (values.Length % width);
        for (int i = 0; i < end; i += width)
        {
            sum += new Vector<float>(values.Slice(i, width)) * Vector<float>.Zero;
        }

        float tail = 0;
        for (int i = end; i < values.Length; i++)
        {
            tail += values[i] * 0f;
        }

        if (Vector.Sum(sum) + tail == 0f)
        {
            return;
        }

        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                string where = rowLength > 0 ? $" (row {i / rowLength}, column {i % rowLength})" : string.Empty;
                throw new ArgumentException($"{name}[{i}]{where} is {values[i]}: inputs must be finite.", name);
            }
        }
    }

    private void Run(ReadOnlySpan<float> input, int steps, MemoryOutputMode mode, ReadOnlySpan<float> decoders, int delays, Span<float> output, SequenceMethod method)
    {
        switch (method)
        {
            case SequenceMethod.Auto:
            case SequenceMethod.Sequential:
            case SequenceMethod.Scan:
                if (Resolve(method, steps, mode) == SequenceMethod.Scan)
                {
                    _engine.RunScan(input, steps, mode, decoders, delays, output, ChunkLength);
                }
                else
                {
                    _engine.RunSequential(input, steps, mode, decoders, delays, output);
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(method), method, "Unknown sequence method.");
        }
    }

    /// <summary>The method <see cref="SequenceMethod.Auto"/> resolves to for T steps of all states on this memory's
    /// device and sizes (<see cref="SequenceMethod.Sequential"/> or <see cref="SequenceMethod.Scan"/>).</summary>
    /// <param name="steps">T ≥ 1.</param>
    /// <returns>The method a run with <see cref="SequenceMethod.Auto"/> would use.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> &lt; 1.</exception>
    /// <exception cref="ObjectDisposedException">The memory was disposed.</exception>
    public SequenceMethod ResolveAuto(int steps)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        return Resolve(SequenceMethod.Auto, steps, MemoryOutputMode.AllStates);
    }

    /// <summary>The method <see cref="SequenceMethod.Auto"/> resolves to for the adjoint of T steps
    /// (<see cref="RunAdjoint(ReadOnlySpan{float}, int, SequenceMethod)"/>) on this memory's device and sizes. It can
    /// differ from <see cref="ResolveAuto"/>: the adjoint scan does about twice the sequential adjoint's work, the
    /// forward scan about the same.</summary>
    /// <param name="steps">T ≥ 1.</param>
    /// <returns><see cref="SequenceMethod.Sequential"/> or <see cref="SequenceMethod.Scan"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> &lt; 1.</exception>
    /// <exception cref="ObjectDisposedException">The memory was disposed.</exception>
    public SequenceMethod ResolveAutoAdjoint(int steps)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        return _engine.PrefersAdjointScan(steps) ? SequenceMethod.Scan : SequenceMethod.Sequential;
    }

    /// <summary>The scan's chunk length L; 0 (the default) lets the engine choose from B, T, d and the device
    /// (see <see cref="SequenceMethod.Scan"/>). Any value ≥ 1 works for any T; results agree to float32 rounding.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a negative value.</exception>
    public int ChunkLength
    {
        get => _chunkLength;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _chunkLength = value;
        }
    }

    /// <summary>The engine behind this memory (tests and benchmarks pick kernel variants through it).</summary>
    internal IMemoryEngine Engine => _engine;

    /// <summary>
    /// The adjoint (reverse-time) scan that backpropagation through the memory needs. Given the gradients
    /// g_t = ∂L/∂m_t of a loss with respect to every state of a run of T steps, computes
    /// λ_t = g_t + Āᵀ·λ_(t+1) for t = T−1 … 0 (with λ_T = 0), so that λ_t = ∂L/∂m_t including every later step's
    /// dependence on m_t; the input gradient ∂L/∂u_t = B̄ᵀ·λ_t; and the initial-state gradient
    /// ∂L/∂m_(−1) = Āᵀ·λ_0. It uses only Ā and B̄: the memory's states are neither read nor changed.
    /// </summary>
    /// <param name="stateGradients">g, [B, T, k, d] (the layout of <see cref="RunStates(ReadOnlySpan{float}, int, SequenceMethod)"/>), finite.</param>
    /// <param name="steps">T ≥ 1.</param>
    /// <param name="method">Sequential (T reverse steps), Scan (chunked: about twice the arithmetic, parallel over
    /// time), or Auto (<see cref="ResolveAutoAdjoint"/>).</param>
    /// <returns>λ [B, T, k, d], ∂L/∂u [B, T, k] and ∂L/∂m_(−1) [B, k, d].</returns>
    /// <exception cref="ArgumentException">Wrong length or a NaN or infinite gradient, or an output too large.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> &lt; 1 or an unknown method.</exception>
    /// <exception cref="InsufficientMemoryException">The device cannot hold the buffers.</exception>
    public MemoryAdjoint RunAdjoint(ReadOnlySpan<float> stateGradients, int steps, SequenceMethod method = SequenceMethod.Auto)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        long length = OutputLength(steps, Order);
        var result = new MemoryAdjoint(new float[length], new float[OutputLength(steps, 1)], new float[StateLength]);
        RunAdjoint(stateGradients, steps, result.Lambda, result.InputGradient, result.InitialStateGradient, method);
        return result;
    }

    /// <summary><see cref="RunAdjoint(ReadOnlySpan{float}, int, SequenceMethod)"/> into caller-owned spans.</summary>
    /// <param name="stateGradients">g, [B, T, k, d].</param>
    /// <param name="steps">T ≥ 1.</param>
    /// <param name="lambda">λ, exactly B·T·k·d values (may not overlap <paramref name="stateGradients"/>).</param>
    /// <param name="inputGradient">∂L/∂u = B̄ᵀ·λ_t, exactly B·T·k values.</param>
    /// <param name="initialStateGradient">∂L/∂m_(−1) = Āᵀ·λ_0, exactly B·k·d values.</param>
    /// <param name="method">How to evaluate the sequence.</param>
    /// <exception cref="ArgumentException">A wrong length, or a NaN or infinite gradient.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> &lt; 1 or an unknown method.</exception>
    public void RunAdjoint(ReadOnlySpan<float> stateGradients, int steps, Span<float> lambda, Span<float> inputGradient,
        Span<float> initialStateGradient, SequenceMethod method = SequenceMethod.Auto)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        long expected = RequireStateGradients(stateGradients.Length, steps);
        RequireLength(lambda.Length, expected, nameof(lambda));
        RequireLength(inputGradient.Length, OutputLength(steps, 1), nameof(inputGradient));
        RequireLength(initialStateGradient.Length, StateLength, nameof(initialStateGradient));
        ThrowIfUnknown(method);

        ThrowIfNotFinite(stateGradients, nameof(stateGradients), Order);
        bool scan = ResolveAdjointMethod(method, steps) == SequenceMethod.Scan;
        _engine.RunAdjoint(stateGradients, steps, scan, ChunkLength, lambda, inputGradient, initialStateGradient);
    }

    /// <summary><see cref="RunStates(ReadOnlySpan{float}, int, SequenceMethod)"/> into a caller-owned [B, T, k, d] buffer (benchmarks: no allocation per run).</summary>
    internal void RunStatesInto(ReadOnlySpan<float> input, int steps, SequenceMethod method, Span<float> output)
    {
        ThrowIfDisposed();
        ValidateInput(input, steps, nameof(input));
        RequireLength(output.Length, OutputLength(steps, Order), nameof(output));
        Run(input, steps, MemoryOutputMode.AllStates, ReadOnlySpan<float>.Empty, 0, output, method);
    }

    /// <summary>The method a run of T steps with <paramref name="method"/> uses (Auto resolved).</summary>
    internal SequenceMethod ResolveMethod(SequenceMethod method, int steps, bool finalOnly = false) =>
        Resolve(method, steps, finalOnly ? MemoryOutputMode.FinalOnly : MemoryOutputMode.AllStates);

    /// <summary>Times <paramref name="repeats"/> runs of the resolved method with device-resident buffers (for
    /// <c>lmu bench memory</c> and the benchmarks): all states, or with <paramref name="finalOnly"/> the final state
    /// only; returns seconds per run and leaves the states unchanged.</summary>
    internal double[] MeasureStates(ReadOnlySpan<float> input, int steps, SequenceMethod method, int repeats, bool finalOnly = false)
    {
        ThrowIfDisposed();
        ValidateInput(input, steps, nameof(input));
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 1);
        var mode = finalOnly ? MemoryOutputMode.FinalOnly : MemoryOutputMode.AllStates;
        if (!finalOnly)
        {
            _ = OutputLength(steps, Order);
        }

        bool scan = Resolve(method, steps, mode) == SequenceMethod.Scan;
        return _engine.MeasureStates(input, steps, scan, ChunkLength, repeats, mode);
    }

    /// <summary>The method an adjoint run of T steps with <paramref name="method"/> uses (Auto resolved).</summary>
    internal SequenceMethod ResolveAdjointMethod(SequenceMethod method, int steps) =>
        method == SequenceMethod.Auto ? ResolveAutoAdjoint(steps) : method;

    /// <summary>Times <paramref name="repeats"/> adjoint runs of the resolved method with device-resident buffers (for
    /// <c>lmu bench memory --output adjoint</c>); returns seconds per run. The states are neither read nor changed.</summary>
    internal double[] MeasureAdjoint(ReadOnlySpan<float> stateGradients, int steps, SequenceMethod method, int repeats)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 1);
        RequireLength(stateGradients.Length, OutputLength(steps, Order), nameof(stateGradients));
        ThrowIfUnknown(method);
        ThrowIfNotFinite(stateGradients, nameof(stateGradients), Order);
        bool scan = ResolveAdjointMethod(method, steps) == SequenceMethod.Scan;
        return _engine.MeasureAdjoint(stateGradients, steps, scan, ChunkLength, repeats);
    }

    /// <summary>Checks the length of an adjoint's state gradients g [B, T, k, d].</summary>
    /// <returns>B·T·k·d.</returns>
    private long RequireStateGradients(int length, int steps)
    {
        long expected = OutputLength(steps, Order);
        if (length != expected)
        {
            throw new ArgumentException(
                $"stateGradients has {length} values; expected B·T·k·d = {Batch}·{steps}·{Channels}·{Order} = {expected}.",
                "stateGradients");
        }

        return expected;
    }

    private static void RequireLength(int actual, long expected, string name)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"{name} has {actual} values; expected {expected}.", name);
        }
    }

    private SequenceMethod Resolve(SequenceMethod method, int steps, MemoryOutputMode mode) => method switch
    {
        SequenceMethod.Auto => _engine.PrefersScan(steps, mode) ? SequenceMethod.Scan : SequenceMethod.Sequential,
        _ => method,
    };

    private long OutputLength(int steps, int perStep)
    {
        long length = (long)Batch * steps * Channels * perStep;
        if (length > Array.MaxLength)
        {
            throw new ArgumentException(
                $"The output would hold {length:N0} values (B·T·k·{perStep}), more than one array can; run fewer steps at a time or ask for decoded outputs or the final state only.",
                nameof(steps));
        }

        return length;
    }

    private void ValidateInput(ReadOnlySpan<float> input, int steps, string name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        long expected = (long)Batch * steps * Channels;
        if (input.Length != expected)
        {
            throw new ArgumentException(
                $"{name} has {input.Length} values; expected B·T·k = {Batch}·{steps}·{Channels} = {expected}.", name);
        }

        ThrowIfNotFinite(input, name, Channels);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    private static void ThrowIfUnknown(SequenceMethod method)
    {
        if (method is not (SequenceMethod.Auto or SequenceMethod.Sequential or SequenceMethod.Scan))
        {
            throw new ArgumentOutOfRangeException(nameof(method), method, "Unknown sequence method.");
        }
    }
}
