using Lmu.Gpu.Kernels.Cell;
using Lmu.Gpu.Training;

namespace Lmu.Gpu;

/// <summary>
/// A batch of nonlinear LMU cells (paper eqs. 4, 6, 7 with k memory channels) with their weights on the device (or in
/// host memory on the <c>cpu</c> path). <see cref="Run"/> processes whole sequences — one kernel launch per call on a
/// device, a vectorised loop parallel over the batch on the host — and keeps the final (h, m) as the streaming
/// state, so consecutive calls continue the same sequences.
/// </summary>
/// <remarks>Layouts (row-major): inputs [B, T, n_x]; outputs h [B, T, n]; state h [B, n], m [B, k, d].</remarks>
public sealed class LmuCellLayer : IDisposable
{
    private readonly Backend _backend;
    private readonly Tensor _weights;
    private readonly Tensor _system;
    private readonly Tensor _stateH;
    private readonly Tensor _stateM;
    private readonly Tensor _dummy;
    private readonly CellLayout _layout;
    private bool _disposed;

    /// <summary>Uploads the weights and creates zero states for <paramref name="batch"/> sequences.</summary>
    /// <param name="device">The device.</param>
    /// <param name="weights">The cell weights (copied).</param>
    /// <param name="batch">Sequences B ≥ 1.</param>
    /// <exception cref="ArgumentNullException">A reference argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> &lt; 1 or invalid options.</exception>
    /// <exception cref="ArgumentException">A weight is NaN or infinite, or Euler is unstable for θ.</exception>
    /// <exception cref="InsufficientMemoryException">The device cannot hold the weights or states, or the kernel's
    /// shared memory.</exception>
    public LmuCellLayer(LmuDevice device, LmuCellWeights weights, int batch = 1)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(weights);
        ObjectDisposedException.ThrowIf(device.IsDisposed, device);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        Options = weights.Options;
        Options.Validate();
        float[] flat = weights.ToFlat();
        LinearMemory.ThrowIfNotFinite(flat, nameof(weights));
        System = LmuSystem.Create(Options.Order, weights.Theta, Options.Dt, Options.Discretizer);
        Device = device;
        Batch = batch;
        _layout = CellLayout.For(Options);
        _backend = Backend.For(device);
        _weights = _backend.Upload(flat, "cell weights");
        _system = _backend.Upload(CellLayout.SystemBuffer(System), "system matrices");
        _stateH = _backend.Allocate((long)batch * Options.Units, "hidden state");
        _stateM = _backend.Allocate((long)batch * Options.MemorySize, "memory state");
        _dummy = _backend.Allocate(1, "placeholder");
    }

    /// <summary>The device.</summary>
    public LmuDevice Device { get; }

    /// <summary>The cell shape.</summary>
    public LmuCellOptions Options { get; }

    /// <summary>The discretised memory (with the weights' θ).</summary>
    public LmuSystem System { get; }

    /// <summary>Sequences B.</summary>
    public int Batch { get; }

    /// <summary>Runs T steps of every sequence from the current state and keeps the final state.</summary>
    /// <param name="input">Inputs [B, T, n_x].</param>
    /// <param name="steps">T ≥ 1.</param>
    /// <returns>Hidden states h [B, T, n].</returns>
    /// <exception cref="ArgumentException">Wrong input length, a NaN or infinite input, or an output too large.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> &lt; 1.</exception>
    /// <exception cref="ObjectDisposedException">The layer was disposed.</exception>
    public float[] Run(ReadOnlySpan<float> input, int steps)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        long expected = (long)Batch * steps * Options.InputSize;
        if (input.Length != expected)
        {
            throw new ArgumentException(
                $"input has {input.Length} values; expected B·T·n_x = {Batch}·{steps}·{Options.InputSize} = {expected}.", nameof(input));
        }

        long outputLength = (long)Batch * steps * Options.Units;
        if (outputLength > Array.MaxLength)
        {
            throw new ArgumentException($"The output would hold {outputLength:N0} values (B·T·n); run fewer steps at a time.", nameof(steps));
        }

        LinearMemory.ThrowIfNotFinite(input, nameof(input), Options.InputSize);
        using var x = _backend.Upload(input, "input");
        using var h = _backend.Allocate(outputLength, "output");
        var p = _layout.Params(Options, steps, 0, System.Theta);
        _backend.CellForward(p, Batch, _weights.All, _system.All, x.All, _stateH.All, _stateM.All, h.All, _dummy.All, _dummy.All);
        var result = _backend.Download(h.All);
        _backend.Synchronize();
        return result;
    }

    /// <summary>The current hidden states [B, n].</summary>
    /// <returns>A new array.</returns>
    public float[] GetHiddenState()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _backend.Download(_stateH.All);
    }

    /// <summary>The current memory states [B, k, d].</summary>
    /// <returns>A new array.</returns>
    public float[] GetMemoryState()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _backend.Download(_stateM.All);
    }

    /// <summary>Overwrites the states.</summary>
    /// <param name="hidden">[B, n] finite values.</param>
    /// <param name="memory">[B, k, d] finite values.</param>
    /// <exception cref="ArgumentException">Wrong length or a non-finite value.</exception>
    public void SetState(ReadOnlySpan<float> hidden, ReadOnlySpan<float> memory)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (hidden.Length != _stateH.Length || memory.Length != _stateM.Length)
        {
            throw new ArgumentException($"The states need {_stateH.Length} hidden and {_stateM.Length} memory values; got {hidden.Length} and {memory.Length}.", nameof(hidden));
        }

        LinearMemory.ThrowIfNotFinite(hidden, nameof(hidden));
        LinearMemory.ThrowIfNotFinite(memory, nameof(memory));
        _backend.Upload(_stateH.All, hidden);
        _backend.Upload(_stateM.All, memory);
    }

    /// <summary>Sets every state to zero.</summary>
    public void Reset()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _backend.Clear(_stateH.All);
        _backend.Clear(_stateM.All);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _weights.Dispose();
        _system.Dispose();
        _stateH.Dispose();
        _stateM.Dispose();
        _dummy.Dispose();
        _backend.Dispose();
    }
}
