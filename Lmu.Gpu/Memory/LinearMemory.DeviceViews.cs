using ILGPU;
using ILGPU.Runtime;
using Lmu.Gpu.Kernels.Memory;

namespace Lmu.Gpu;

// The overloads on ILGPU views: streaming steps, states and sequence runs on data that stays on the device, for
// applications that keep their inputs and outputs in device memory and chain their own kernels around the memory.
public sealed partial class LinearMemory
{
    /// <summary>Advances every memory by one step with B·k inputs ([B, k]) in a device view: the overload of
    /// <see cref="Step(ReadOnlySpan{float})"/> for inputs that another kernel produced on the device.</summary>
    /// <param name="input">Exactly B·k values on this memory's accelerator; not checked for NaN.</param>
    /// <exception cref="InvalidOperationException">This memory runs on the host path.</exception>
    /// <exception cref="ArgumentException">A view that is invalid, of the wrong length or on another accelerator.</exception>
    public void Step(ArrayView<float> input)
    {
        var engine = DeviceEngine();
        RequireView(input, (long)Batch * Channels, nameof(input));
        engine.StepOnDevice(input);
    }

    /// <summary>Copies the current states [B, k, d] into a device view (device to device, no host transfer).</summary>
    /// <param name="destination">Exactly <see cref="StateLength"/> values on this memory's accelerator.</param>
    /// <exception cref="InvalidOperationException">This memory runs on the host path.</exception>
    /// <exception cref="ArgumentException">A view that is invalid, of the wrong length or on another accelerator.</exception>
    public void GetStates(ArrayView<float> destination)
    {
        var engine = DeviceEngine();
        RequireView(destination, StateLength, nameof(destination));
        engine.CopyStatesTo(destination);
    }

    /// <summary>Overwrites the states [B, k, d] from a device view (device to device; not checked for NaN).</summary>
    /// <param name="states">Exactly <see cref="StateLength"/> values on this memory's accelerator.</param>
    /// <exception cref="InvalidOperationException">This memory runs on the host path.</exception>
    /// <exception cref="ArgumentException">A view that is invalid, of the wrong length or on another accelerator.</exception>
    public void SetStates(ArrayView<float> states)
    {
        var engine = DeviceEngine();
        RequireView(states, StateLength, nameof(states));
        engine.CopyStatesFrom(states);
    }

    /// <summary>Runs T steps on device-resident inputs and writes every state into a device view: the overload of
    /// <see cref="RunStates(ReadOnlySpan{float}, int, SequenceMethod)"/> without host transfers.</summary>
    /// <param name="input">u [B, T, k]: exactly B·T·k values in a buffer of this memory's accelerator
    /// (<see cref="LmuDevice.Accelerator"/>).</param>
    /// <param name="steps">T ≥ 1.</param>
    /// <param name="states">m [B, T, k, d]: exactly B·T·k·d values on the same accelerator, not overlapping
    /// <paramref name="input"/>; every value is overwritten.</param>
    /// <param name="method">How to evaluate the sequence.</param>
    /// <remarks>The call returns after the device has finished. The inputs are not checked for NaN or infinity
    /// (that would need a transfer); such a value runs through into the states. The states start from the current
    /// states, which end as the final ones, as in the span overloads.</remarks>
    /// <exception cref="InvalidOperationException">This memory runs on the host path (<c>cpu</c>), which has no
    /// device buffers; use the span overloads.</exception>
    /// <exception cref="ArgumentException">A view that is invalid, of the wrong length, on another accelerator, or
    /// overlapping the other.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> &lt; 1 or an unknown method.</exception>
    /// <exception cref="InsufficientMemoryException">The device cannot hold the scan's scratch buffers.</exception>
    public void RunStates(ArrayView<float> input, int steps, ArrayView<float> states, SequenceMethod method = SequenceMethod.Auto)
    {
        var engine = DeviceEngineFor(steps, method);
        RequireView(input, (long)Batch * steps * Channels, nameof(input));
        RequireView(states, ViewLength(steps, Order), nameof(states));
        RequireDisjoint(input, nameof(input), states, nameof(states));
        engine.RunOnDevice(input, steps, MemoryOutputMode.AllStates, [], 0, states, Scans(method, steps, MemoryOutputMode.AllStates), ChunkLength);
    }

    /// <summary>Runs T steps on device-resident inputs and writes the decoded delayed inputs u(t − r·θ) ≈ P̃(r)·m_t
    /// into a device view, without storing the states: the overload of
    /// <see cref="RunDecoded(ReadOnlySpan{float}, int, ReadOnlySpan{double}, SequenceMethod)"/> without host transfers.</summary>
    /// <param name="input">u [B, T, k] on this memory's accelerator.</param>
    /// <param name="steps">T ≥ 1.</param>
    /// <param name="delays">Delay fractions r in [0, 1] (Q ≥ 1 of them).</param>
    /// <param name="output">[B, T, k, Q]: exactly B·T·k·Q values on the same accelerator, not overlapping
    /// <paramref name="input"/>.</param>
    /// <param name="method">How to evaluate the sequence.</param>
    /// <remarks>As <see cref="RunStates(ArrayView{float}, int, ArrayView{float}, SequenceMethod)"/>: returns after
    /// the device has finished; inputs are not checked for NaN.</remarks>
    /// <exception cref="InvalidOperationException">This memory runs on the host path.</exception>
    /// <exception cref="ArgumentException">A bad view (see the states overload), or no delays.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> &lt; 1, a delay outside [0, 1], or an
    /// unknown method.</exception>
    /// <exception cref="InsufficientMemoryException">The device cannot hold the scan's scratch buffers.</exception>
    public void RunDecoded(ArrayView<float> input, int steps, ReadOnlySpan<double> delays, ArrayView<float> output, SequenceMethod method = SequenceMethod.Auto)
    {
        float[] decoders = Array.ConvertAll(ShiftedLegendre.EvaluateMany(Order, delays), x => (float)x);
        var engine = DeviceEngineFor(steps, method);
        RequireView(input, (long)Batch * steps * Channels, nameof(input));
        RequireView(output, ViewLength(steps, delays.Length), nameof(output));
        RequireDisjoint(input, nameof(input), output, nameof(output));
        engine.RunOnDevice(input, steps, MemoryOutputMode.Decoded, decoders, delays.Length, output, Scans(method, steps, MemoryOutputMode.Decoded), ChunkLength);
    }

    /// <summary>Runs T steps on device-resident inputs and keeps only the final states (read them with
    /// <see cref="GetStates()"/>): the overload of <see cref="RunFinalState(ReadOnlySpan{float}, int, SequenceMethod)"/>
    /// without the input transfer.</summary>
    /// <param name="input">u [B, T, k] on this memory's accelerator.</param>
    /// <param name="steps">T ≥ 1.</param>
    /// <param name="method">How to evaluate the sequence.</param>
    /// <exception cref="InvalidOperationException">This memory runs on the host path.</exception>
    /// <exception cref="ArgumentException">A bad view (see the states overload).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> &lt; 1 or an unknown method.</exception>
    public void RunFinalState(ArrayView<float> input, int steps, SequenceMethod method = SequenceMethod.Auto)
    {
        var engine = DeviceEngineFor(steps, method);
        RequireView(input, (long)Batch * steps * Channels, nameof(input));
        engine.RunOnDevice(input, steps, MemoryOutputMode.FinalOnly, [], 0, default, Scans(method, steps, MemoryOutputMode.FinalOnly), ChunkLength);
    }

    /// <summary>The adjoint of <see cref="RunAdjoint(ReadOnlySpan{float}, int, SequenceMethod)"/> on device views:
    /// λ_t = g_t + Āᵀ·λ_(t+1), the input gradient B̄ᵀ·λ_t and the initial-state gradient Āᵀ·λ_0, without host
    /// transfers of the T-long arrays.</summary>
    /// <param name="stateGradients">g [B, T, k, d] on this memory's accelerator.</param>
    /// <param name="steps">T ≥ 1.</param>
    /// <param name="lambda">λ [B, T, k, d] on the same accelerator, not overlapping the others.</param>
    /// <param name="inputGradient">∂L/∂u [B, T, k] on the same accelerator, not overlapping the others.</param>
    /// <param name="initialStateGradient">∂L/∂m_(−1) [B, k, d] on the same accelerator, not overlapping the others.</param>
    /// <param name="method">Sequential, Scan or Auto (<see cref="ResolveAutoAdjoint"/>).</param>
    /// <remarks>Returns after the device has finished; gradients are not checked for NaN. The memory's states are
    /// neither read nor changed.</remarks>
    /// <exception cref="InvalidOperationException">This memory runs on the host path.</exception>
    /// <exception cref="ArgumentException">A view that is invalid, of the wrong length, on another accelerator, or
    /// overlapping another.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> &lt; 1 or an unknown method.</exception>
    /// <exception cref="InsufficientMemoryException">The device cannot hold the scan's scratch buffers.</exception>
    public void RunAdjoint(ArrayView<float> stateGradients, int steps, ArrayView<float> lambda, ArrayView<float> inputGradient,
        ArrayView<float> initialStateGradient, SequenceMethod method = SequenceMethod.Auto)
    {
        var engine = DeviceEngineFor(steps, method);
        long all = ViewLength(steps, Order);
        RequireView(stateGradients, all, nameof(stateGradients));
        RequireView(lambda, all, nameof(lambda));
        RequireView(inputGradient, ViewLength(steps, 1), nameof(inputGradient));
        RequireView(initialStateGradient, StateLength, nameof(initialStateGradient));
        var views = new[] { (stateGradients, nameof(stateGradients)), (lambda, nameof(lambda)), (inputGradient, nameof(inputGradient)), (initialStateGradient, nameof(initialStateGradient)) };
        for (int i = 0; i < views.Length; i++)
        {
            for (int j = i + 1; j < views.Length; j++)
            {
                RequireDisjoint(views[i].Item1, views[i].Item2, views[j].Item1, views[j].Item2);
            }
        }

        engine.RunAdjointOnDevice(stateGradients, steps, ResolveAdjointMethod(method, steps) == SequenceMethod.Scan, ChunkLength, lambda, inputGradient, initialStateGradient);
    }

    /// <summary>The device engine for a run of <paramref name="steps"/> with <paramref name="method"/>, both checked.</summary>
    private DeviceMemoryEngine DeviceEngineFor(int steps, SequenceMethod method)
    {
        var engine = DeviceEngine();
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        ThrowIfUnknown(method);
        return engine;
    }

    private DeviceMemoryEngine DeviceEngine()
    {
        ThrowIfDisposed();
        return _engine as DeviceMemoryEngine ?? throw new InvalidOperationException(
            $"This memory runs on the host path ({Device.Kind.ToName()}), which has no device buffers; use the span overloads, or a device (cuda, opencl, cpu-sim) for ILGPU views.");
    }

    /// <summary>B·T·k·<paramref name="perStep"/>: device views are not limited to one managed array's length.</summary>
    private long ViewLength(int steps, int perStep) => (long)Batch * steps * Channels * perStep;

    private bool Scans(SequenceMethod method, int steps, MemoryOutputMode mode) => Resolve(method, steps, mode) == SequenceMethod.Scan;

    private void RequireView(ArrayView<float> view, long expected, string name)
    {
        if (!view.IsValid)
        {
            throw new ArgumentException($"{name} is not a valid view.", name);
        }

        if (((IArrayView)view).Buffer?.Accelerator != Device.Accelerator)
        {
            throw new ArgumentException($"{name} belongs to another accelerator; allocate it on this memory's device ({Device}).", name);
        }

        if (view.Length != expected)
        {
            throw new ArgumentException($"{name} has {view.Length} values; expected {expected}.", name);
        }
    }

    private static void RequireDisjoint(ArrayView<float> a, string aName, ArrayView<float> b, string bName)
    {
        var bufferA = ((IArrayView)a).Buffer;
        if (!ReferenceEquals(bufferA, ((IArrayView)b).Buffer))
        {
            return;
        }

        long startA = ((IContiguousArrayView)a).Index, startB = ((IContiguousArrayView)b).Index;
        if (startA < startB + b.Length && startB < startA + a.Length)
        {
            throw new ArgumentException($"{aName} and {bName} overlap in one device buffer; they must be separate ranges.", aName);
        }
    }
}
