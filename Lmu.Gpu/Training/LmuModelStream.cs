namespace Lmu.Gpu.Training;

/// <summary>
/// Streaming inference with a trained <see cref="LmuModel"/>: B sequences fed in pieces of any length, one step
/// (<see cref="Step(ReadOnlySpan{float})"/>) or many (<see cref="Run(ReadOnlySpan{float}, int)"/>) at a time. Each
/// run continues from the states the previous one left (every LMU cell's hidden state and memory, every feedforward
/// layer's memory), so a sequence cut into pieces gives the outputs of <see cref="LmuModel.Predict(float[], int, int, int, CancellationToken)"/> on the whole of
/// it. Created by <see cref="LmuModel.OpenStream"/>.
/// </summary>
/// <remarks>
/// Layouts (row-major): inputs [B, T, n_x]; outputs [B, T, O] for a model with
/// <see cref="LmuModel.ReturnSequences"/>, else [B, O] at the last step of the piece (what the model would output
/// if the sequences ended there). A feedforward layer's memory runs by the scan or step by step as the model's
/// <see cref="LmuModel.SequenceMethod"/> decides for the piece's length. The states stay where the model runs (device
/// memory on a GPU); only inputs and outputs are copied. Arguments are checked before anything runs; on an error the
/// states are unchanged.
/// </remarks>
public sealed class LmuModelStream : IDisposable
{
    private readonly LmuModel _model;
    private readonly Backend _backend;
    private readonly Tensor[] _states;
    private readonly Tensor[] _saved;
    private Tensor[] _activations = [];
    private Tensor[] _head = [];
    private int _capacitySteps;
    private bool _disposed;

    internal LmuModelStream(LmuModel model, int batch)
    {
        _model = model;
        _backend = model.Backend;
        Batch = batch;
        var sequence = model.SequenceLayers;
        _states = new Tensor[sequence.Count];
        _saved = new Tensor[sequence.Count];
        try
        {
            for (int s = 0; s < sequence.Count; s++)
            {
                long length = Math.Max(1, sequence[s].StreamStateLength(batch));
                _states[s] = _backend.Allocate(length, "stream states");
                _saved[s] = _backend.Allocate(length, "stream states before a run");
                _backend.Clear(_states[s].All);
            }
        }
        catch
        {
            DisposeBuffers();
            throw;
        }
    }

    /// <summary>B: the sequences advanced side by side.</summary>
    public int Batch { get; }

    /// <summary>n_x: inputs per step of each sequence.</summary>
    public int InputSize => _model.InputSize;

    /// <summary>O: outputs per step (or per piece, for a model that outputs at the last step only).</summary>
    public int OutputSize => _model.OutputSize;

    /// <summary>Steps run since the stream was opened or last <see cref="Reset()"/>.</summary>
    public long StepsRun { get; private set; }

    /// <summary>Output values per run of <paramref name="steps"/> steps: B·T·O, or B·O for a model that outputs at
    /// the last step only.</summary>
    /// <param name="steps">T.</param>
    /// <returns>The length of <see cref="Run(ReadOnlySpan{float}, int)"/>'s result.</returns>
    public long OutputLength(int steps) => (long)Batch * (_model.ReturnSequences ? steps : 1) * _model.OutputSize;

    /// <summary>Advances every sequence by one step.</summary>
    /// <param name="input">x_t [B, n_x].</param>
    /// <returns>The outputs at this step [B, O].</returns>
    /// <exception cref="ArgumentException"><paramref name="input"/> does not hold B·n_x values, or holds a NaN or
    /// infinity.</exception>
    /// <exception cref="ObjectDisposedException">The stream or its model was disposed.</exception>
    public float[] Step(ReadOnlySpan<float> input) => Run(input, 1);

    /// <summary>Advances every sequence by <paramref name="steps"/> steps.</summary>
    /// <param name="inputs">[B, T, n_x].</param>
    /// <param name="steps">T ≥ 1.</param>
    /// <returns>[B, T, O], or [B, O] at the last step (<see cref="OutputLength"/>).</returns>
    /// <exception cref="ArgumentException"><paramref name="inputs"/> does not hold B·T·n_x values, or holds a NaN or
    /// infinity.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> &lt; 1, or a piece too long for one
    /// buffer.</exception>
    /// <exception cref="InsufficientMemoryException">The device (or the host) cannot hold the piece's buffers; the states
    /// are unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The stream or its model was disposed.</exception>
    public float[] Run(ReadOnlySpan<float> inputs, int steps)
    {
        ThrowIfDisposed();
        CheckSteps(steps);
        var outputs = new float[OutputLength(steps)];
        Run(inputs, steps, outputs);
        return outputs;
    }

    /// <summary>As <see cref="Run(ReadOnlySpan{float}, int, Span{float})"/> for the sequences that
    /// <paramref name="advance"/> marks; the others hold their states (and get zero outputs), as if they had not been
    /// fed. For batched serving, where at each tick only some sessions have a new input.</summary>
    /// <param name="inputs">[B, T, n_x]; the rows of sequences that do not advance are read but not used.</param>
    /// <param name="steps">T ≥ 1.</param>
    /// <param name="outputs">At least <see cref="OutputLength"/>(T) values; a held sequence's rows are set to 0.</param>
    /// <param name="advance">[B]: true for the sequences to advance by T steps.</param>
    /// <exception cref="ArgumentException"><paramref name="advance"/> does not hold B values, <paramref name="inputs"/> does
    /// not hold B·T·n_x values or holds a NaN or infinity, or <paramref name="outputs"/> is too short.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> &lt; 1, or a piece too long for one
    /// buffer.</exception>
    /// <exception cref="InsufficientMemoryException">The device (or the host) cannot hold the piece's buffers; the states
    /// are unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The stream or its model was disposed.</exception>
    /// <remarks>Every sequence is run and the held ones' states are then put back from the copy each run takes anyway,
    /// so a call costs what a call for all B costs. <see cref="StepsRun"/> counts the call's T.</remarks>
    public void Run(ReadOnlySpan<float> inputs, int steps, Span<float> outputs, ReadOnlySpan<bool> advance)
    {
        if (advance.Length != Batch)
        {
            throw new ArgumentException($"advance holds {advance.Length} values; one per sequence (B = {Batch}) was expected.", nameof(advance));
        }

        using var scope = new OperationScope(_model);
        RunCore(inputs, steps, outputs, advance);
    }

    /// <summary>As <see cref="Run(ReadOnlySpan{float}, int)"/>, into a caller-owned buffer.</summary>
    /// <param name="inputs">[B, T, n_x].</param>
    /// <param name="steps">T ≥ 1.</param>
    /// <param name="outputs">At least <see cref="OutputLength"/>(T) values; the first ones are written.</param>
    /// <exception cref="ArgumentException"><paramref name="inputs"/> does not hold B·T·n_x values or holds a NaN or
    /// infinity, or <paramref name="outputs"/> is too short.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> &lt; 1, or a piece too long for one
    /// buffer.</exception>
    /// <exception cref="InsufficientMemoryException">The device (or the host) cannot hold the piece's buffers; the states
    /// are unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The stream or its model was disposed.</exception>
    public void Run(ReadOnlySpan<float> inputs, int steps, Span<float> outputs)
    {
        using var scope = new OperationScope(_model);
        RunCore(inputs, steps, outputs, default);
    }

    /// <summary>A run of every sequence, or of those <paramref name="advance"/> marks (empty: all), under the model's
    /// operation scope.</summary>
    private void RunCore(ReadOnlySpan<float> inputs, int steps, Span<float> outputs, ReadOnlySpan<bool> advance)
    {
        ThrowIfDisposed();
        CheckSteps(steps);
        long expected = (long)Batch * steps * _model.InputSize;
        if (inputs.Length != expected)
        {
            throw new ArgumentException($"The inputs hold {inputs.Length} values; B·T·n_x = {Batch}·{steps}·{_model.InputSize} = {expected} were expected.", nameof(inputs));
        }

        LinearMemory.ThrowIfNotFinite(inputs, nameof(inputs), _model.InputSize);

        long length = OutputLength(steps);
        if (outputs.Length < length)
        {
            throw new ArgumentException($"The output buffer holds {outputs.Length} values; {length} are needed.", nameof(outputs));
        }

        EnsureCapacity(steps);
        _backend.Upload(_activations[0].Sub(0, expected), inputs);

        // The states as they were, restored if the run fails part-way (a layer's buffers or the scan's scratch out of
        // memory after an earlier layer has moved its states on): a failed run leaves the stream where it was.
        for (int s = 0; s < _states.Length; s++)
        {
            _backend.Copy(_states[s].All, _saved[s].All);
        }

        try
        {
            var result = _model.ForwardStream(Batch, steps, _activations, _head, _states);
            _backend.Download(result, outputs[..(int)length]);
            if (!advance.IsEmpty)
            {
                Hold(advance, outputs[..(int)length]);
            }

            _backend.Synchronize();
        }
        catch (Exception e) when (e is InsufficientMemoryException or OutOfMemoryException or ILGPU.Runtime.AcceleratorException)
        {
            for (int s = 0; s < _states.Length; s++)
            {
                _backend.Copy(_saved[s].All, _states[s].All);
            }

            _backend.Synchronize();
            throw;
        }

        StepsRun += steps;
    }

    /// <summary>Values in a snapshot of the stream's states (<see cref="GetStates"/>): every sequence layer's states for
    /// the B sequences.</summary>
    public long StateLength => _model.SequenceLayers.Sum(l => l.StreamStateLength(Batch));

    /// <summary>Copies the states of every sequence layer out: a snapshot to restore later with
    /// <see cref="SetStates"/>, on a stream of the same model and batch (for example to suspend a session).</summary>
    /// <param name="destination">At least <see cref="StateLength"/> values.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    /// <exception cref="ObjectDisposedException">The stream or its model was disposed.</exception>
    /// <remarks>The layout is the layers' own (a cell's hidden states, then its memories; a feedforward layer's
    /// memories), in layer order; treat it as opaque.</remarks>
    public void GetStates(Span<float> destination)
    {
        using var scope = new OperationScope(_model);
        ThrowIfDisposed();
        long length = StateLength;
        if (destination.Length < length)
        {
            throw new ArgumentException($"The destination holds {destination.Length} values; the states are {length}.", nameof(destination));
        }

        foreach (var (state, at) in StateParts())
        {
            _backend.Download(state, destination.Slice(at, (int)state.Length));
        }
    }

    /// <summary>Overwrites the states of every sequence layer from a snapshot taken by <see cref="GetStates"/>.</summary>
    /// <param name="source">Exactly <see cref="StateLength"/> finite values.</param>
    /// <exception cref="ArgumentException"><paramref name="source"/> has another length, or a NaN or infinity.</exception>
    /// <exception cref="ObjectDisposedException">The stream or its model was disposed.</exception>
    public void SetStates(ReadOnlySpan<float> source)
    {
        using var scope = new OperationScope(_model);
        ThrowIfDisposed();
        long length = StateLength;
        if (source.Length != length)
        {
            throw new ArgumentException($"The snapshot holds {source.Length} values; this stream's states are {length}.", nameof(source));
        }

        LinearMemory.ThrowIfNotFinite(source, nameof(source));
        foreach (var (state, at) in StateParts())
        {
            _backend.Upload(state, source.Slice(at, (int)state.Length));
        }

        _backend.Synchronize();
    }

    /// <summary>Sets the states of one sequence back to zero, as at the start of a new sequence in its place; the
    /// other sequences go on (batched serving, where sequences end at different times).</summary>
    /// <param name="sequence">The sequence, 0 … B − 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sequence"/> is outside the batch.</exception>
    /// <exception cref="ObjectDisposedException">The stream or its model was disposed.</exception>
    public void Reset(int sequence)
    {
        using var scope = new OperationScope(_model);
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(sequence, Batch);
        foreach (var (layer, offset, length) in SequenceStates(sequence))
        {
            _backend.Clear(_states[layer].Sub(offset, length));
        }

        _backend.Synchronize();
    }

    /// <summary>Sets every state back to zero, as at the start of new sequences.</summary>
    /// <exception cref="ObjectDisposedException">The stream or its model was disposed.</exception>
    public void Reset()
    {
        using var scope = new OperationScope(_model);
        ThrowIfDisposed();
        foreach (var state in _states)
        {
            _backend.Clear(state.All);
        }

        _backend.Synchronize();
        StepsRun = 0;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        using var scope = new OperationScope(_model);
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        DisposeBuffers();
        _model.Forget(this);
    }

    /// <summary>T ≥ 1, and a piece whose widest activation [B, T, width] fits one array.</summary>
    private void CheckSteps(int steps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        int width = Math.Max(_model.InputSize, _model.OutputSize);
        var layers = _model.SequenceLayers;
        for (int i = 0; i < layers.Count; i++)
        {
            // An indexed loop: foreach over the interface would allocate an enumerator on every step.
            width = Math.Max(width, layers[i].OutputWidth);
        }

        if ((long)Batch * steps * width > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"B·T·width = {Batch}·{steps}·{width} exceeds one array; feed the sequence in shorter pieces.");
        }
    }

    /// <summary>Puts back the states of the sequences <paramref name="advance"/> leaves out, from the copy taken before
    /// the run, and zeroes their outputs.</summary>
    private void Hold(ReadOnlySpan<bool> advance, Span<float> outputs)
    {
        int perSequence = outputs.Length / Batch;
        for (int b = 0; b < Batch; b++)
        {
            if (advance[b])
            {
                continue;
            }

            foreach (var (layer, offset, length) in SequenceStates(b))
            {
                _backend.Copy(_saved[layer].Sub(offset, length), _states[layer].Sub(offset, length));
            }

            outputs.Slice(b * perSequence, perSequence).Clear();
        }
    }

    /// <summary>Where one sequence's states sit: per sequence layer, its ranges of that layer's state tensor.</summary>
    private IEnumerable<(int Layer, long Offset, long Length)> SequenceStates(int sequence)
    {
        var layers = _model.SequenceLayers;
        for (int s = 0; s < layers.Count; s++)
        {
            foreach (var (offset, length) in layers[s].StreamStateRanges(Batch, sequence))
            {
                yield return (s, offset, length);
            }
        }
    }

    /// <summary>Each sequence layer's states and where they sit in a snapshot (<see cref="GetStates"/>).</summary>
    private IEnumerable<(Slice State, int At)> StateParts()
    {
        var sequence = _model.SequenceLayers;
        int at = 0;
        for (int s = 0; s < sequence.Count; s++)
        {
            var state = _states[s].Sub(0, sequence[s].StreamStateLength(Batch));
            yield return (state, at);
            at += (int)state.Length;
        }
    }

    private void ThrowIfDisposed()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
    }

    /// <summary>Activation buffers for pieces of up to <paramref name="steps"/> steps (grown, never shrunk).</summary>
    private void EnsureCapacity(int steps)
    {
        if (steps <= _capacitySteps)
        {
            return;
        }

        DisposeActivations();
        var sequence = _model.SequenceLayers;
        var heads = _model.HeadLayers;
        long rows = (long)Batch * steps;
        long headRows = _model.ReturnSequences ? rows : Batch;
        _activations = new Tensor[sequence.Count + 1];
        _head = new Tensor[heads.Count + 1];
        _activations[0] = _backend.Allocate(rows * _model.InputSize, "stream inputs");
        for (int s = 0; s < sequence.Count; s++)
        {
            _activations[s + 1] = _backend.Allocate(rows * sequence[s].OutputWidth, "stream layer outputs");
        }

        int width = sequence.Count > 0 ? sequence[^1].OutputWidth : _model.InputSize;
        _head[0] = _model.ReturnSequences ? _activations[^1] : _backend.Allocate(headRows * width, "stream last-step outputs");
        for (int h = 0; h < heads.Count; h++)
        {
            _head[h + 1] = _backend.Allocate(headRows * heads[h].OutputWidth, "stream dense outputs");
        }

        _capacitySteps = steps;
    }

    private void DisposeActivations()
    {
        foreach (var tensor in new HashSet<Tensor>(_activations.Concat(_head).Where(t => t is not null)))
        {
            tensor.Dispose();
        }

        _activations = [];
        _head = [];
        _capacitySteps = 0;
    }

    private void DisposeBuffers()
    {
        DisposeActivations();
        foreach (var state in _states.Concat(_saved).Where(s => s is not null))
        {
            state.Dispose();
        }
    }
}
