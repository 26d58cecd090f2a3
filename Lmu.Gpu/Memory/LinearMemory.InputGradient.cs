using ILGPU;
using ILGPU.Runtime;

namespace Lmu.Gpu;

/// <summary>The adjoint without λ: the gradients backpropagation needs when θ is fixed.</summary>
public sealed partial class LinearMemory
{
    /// <summary>
    /// The adjoint of <see cref="RunAdjoint(ReadOnlySpan{float}, int, SequenceMethod)"/> without λ: only the input
    /// gradient ∂L/∂u_t = B̄ᵀ·λ_t and the initial-state gradient ∂L/∂m_(−1) = Āᵀ·λ_0, which are all that
    /// backpropagation through a memory with a fixed θ needs. λ (B·T·k·d values, as large as the states) is not returned.
    /// </summary>
    /// <param name="stateGradients">g = ∂L/∂m_t, [B, T, k, d], finite.</param>
    /// <param name="steps">T ≥ 1.</param>
    /// <param name="method">Sequential, Scan or Auto (<see cref="ResolveAutoInputGradient"/>).</param>
    /// <returns>∂L/∂u [B, T, k] and ∂L/∂m_(−1) [B, k, d], equal to <see cref="RunAdjoint(ReadOnlySpan{float}, int, SequenceMethod)"/>'s
    /// to float32 rounding.</returns>
    /// <remarks>
    /// <para>λ is never held for all T on the host (the sequential adjoint chains it through two buffers per memory,
    /// the scan through its per-column scratch) nor by a device's scan, whose input gradient comes from two matrix
    /// products per chunk (the chunk starts from zero, then every step from its chunk's gradients and the next chunk's
    /// carry), about the forward scan's arithmetic, instead of two lock-step passes.</para>
    /// <para>A device's sequential or lock-step (<c>$LMU_SCAN_STATES=steps</c>) adjoint holds λ in a temporary buffer.</para>
    /// </remarks>
    /// <exception cref="ArgumentException">Wrong length, or a NaN or infinite gradient.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> &lt; 1 or an unknown method.</exception>
    /// <exception cref="InsufficientMemoryException">The device cannot hold the buffers.</exception>
    /// <exception cref="ObjectDisposedException">The memory was disposed.</exception>
    public MemoryInputGradient RunInputGradient(ReadOnlySpan<float> stateGradients, int steps, SequenceMethod method = SequenceMethod.Auto)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        var result = new MemoryInputGradient(new float[OutputLength(steps, 1)], new float[StateLength]);
        RunInputGradient(stateGradients, steps, result.InputGradient, result.InitialStateGradient, method);
        return result;
    }

    /// <summary><see cref="RunInputGradient(ReadOnlySpan{float}, int, SequenceMethod)"/> into caller-owned spans.</summary>
    /// <param name="stateGradients">g, [B, T, k, d].</param>
    /// <param name="steps">T ≥ 1.</param>
    /// <param name="inputGradient">∂L/∂u = B̄ᵀ·λ_t, exactly B·T·k values.</param>
    /// <param name="initialStateGradient">∂L/∂m_(−1) = Āᵀ·λ_0, exactly B·k·d values.</param>
    /// <param name="method">How to evaluate the sequence.</param>
    /// <exception cref="ArgumentException">A wrong length, or a NaN or infinite gradient.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> &lt; 1 or an unknown method.</exception>
    /// <exception cref="ObjectDisposedException">The memory was disposed.</exception>
    public void RunInputGradient(ReadOnlySpan<float> stateGradients, int steps, Span<float> inputGradient, Span<float> initialStateGradient,
        SequenceMethod method = SequenceMethod.Auto)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        RequireStateGradients(stateGradients.Length, steps);
        RequireLength(inputGradient.Length, OutputLength(steps, 1), nameof(inputGradient));
        RequireLength(initialStateGradient.Length, StateLength, nameof(initialStateGradient));
        ThrowIfUnknown(method);
        ThrowIfNotFinite(stateGradients, nameof(stateGradients), Order);
        bool scan = ResolveInputGradientMethod(method, steps) == SequenceMethod.Scan;
        _engine.RunInputGradient(stateGradients, steps, scan, ChunkLength, inputGradient, initialStateGradient);
    }

    /// <summary><see cref="RunInputGradient(ReadOnlySpan{float}, int, SequenceMethod)"/> on device views, without host
    /// transfers of the T-long arrays.</summary>
    /// <param name="stateGradients">g [B, T, k, d] on this memory's accelerator.</param>
    /// <param name="steps">T ≥ 1.</param>
    /// <param name="inputGradient">∂L/∂u [B, T, k] on the same accelerator, not overlapping the others.</param>
    /// <param name="initialStateGradient">∂L/∂m_(−1) [B, k, d] on the same accelerator, not overlapping the others.</param>
    /// <param name="method">Sequential, Scan or Auto (<see cref="ResolveAutoInputGradient"/>).</param>
    /// <remarks>Returns after the device has finished; gradients are not checked for NaN. The memory's states are
    /// neither read nor changed.</remarks>
    /// <exception cref="InvalidOperationException">This memory runs on the host path.</exception>
    /// <exception cref="ArgumentException">A view that is invalid, of the wrong length, on another accelerator, or
    /// overlapping another.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> &lt; 1 or an unknown method.</exception>
    /// <exception cref="InsufficientMemoryException">The device cannot hold the scan's scratch buffers.</exception>
    public void RunInputGradient(ArrayView<float> stateGradients, int steps, ArrayView<float> inputGradient, ArrayView<float> initialStateGradient,
        SequenceMethod method = SequenceMethod.Auto)
    {
        var engine = DeviceEngineFor(steps, method);
        RequireView(stateGradients, ViewLength(steps, Order), nameof(stateGradients));
        RequireView(inputGradient, ViewLength(steps, 1), nameof(inputGradient));
        RequireView(initialStateGradient, StateLength, nameof(initialStateGradient));
        RequireDisjoint(stateGradients, nameof(stateGradients), inputGradient, nameof(inputGradient));
        RequireDisjoint(stateGradients, nameof(stateGradients), initialStateGradient, nameof(initialStateGradient));
        RequireDisjoint(inputGradient, nameof(inputGradient), initialStateGradient, nameof(initialStateGradient));
        engine.RunInputGradientOnDevice(stateGradients, steps, ResolveInputGradientMethod(method, steps) == SequenceMethod.Scan, ChunkLength,
            inputGradient, initialStateGradient);
    }

    /// <summary>The method <see cref="SequenceMethod.Auto"/> resolves to for
    /// <see cref="RunInputGradient(ReadOnlySpan{float}, int, SequenceMethod)"/> of T steps. On a device whose scan runs the
    /// input gradient as chunk products it follows the forward scan's rule (the products cost about what the forward
    /// product does); elsewhere it is <see cref="ResolveAutoAdjoint"/>.</summary>
    /// <param name="steps">T ≥ 1.</param>
    /// <returns><see cref="SequenceMethod.Sequential"/> or <see cref="SequenceMethod.Scan"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> &lt; 1.</exception>
    /// <exception cref="ObjectDisposedException">The memory was disposed.</exception>
    public SequenceMethod ResolveAutoInputGradient(int steps)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        return _engine is DeviceMemoryEngine { AdjointByProduct: true } device
            ? DeviceMemoryEngine.PrefersScan(device.StatesKernel, Order, Batch * Channels, steps) ? SequenceMethod.Scan : SequenceMethod.Sequential
            : ResolveAutoAdjoint(steps);
    }

    private SequenceMethod ResolveInputGradientMethod(SequenceMethod method, int steps) =>
        method == SequenceMethod.Auto ? ResolveAutoInputGradient(steps) : method;
}
