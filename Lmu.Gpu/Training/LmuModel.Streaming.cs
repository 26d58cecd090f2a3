namespace Lmu.Gpu.Training;

/// <summary>Streaming inference: <see cref="OpenStream"/> and the forward pass that carries each layer's state.</summary>
public sealed partial class LmuModel
{
    private readonly List<LmuModelStream> _streams = [];

    /// <summary>
    /// Opens a stream of <paramref name="batch"/> sequences that are fed in pieces of any length: each
    /// <see cref="LmuModelStream.Run(ReadOnlySpan{float}, int)"/> continues from the states the previous one left, so the
    /// outputs equal those of <see cref="Predict(float[], int, int, int, CancellationToken)"/> on the whole sequence (to float32 rounding).
    /// </summary>
    /// <param name="batch">B ≥ 1: sequences advanced side by side.</param>
    /// <returns>The stream, at zero state. Dispose it (or the model) to free its buffers.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> &lt; 1.</exception>
    /// <exception cref="InvalidOperationException">The model has no layers, or has a bidirectional layer
    /// (<see cref="AddBidirectional(LmuCellOptions, LmuCellOptions?, BidirectionalMerge)"/>: its backward half needs each sequence's end first).</exception>
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    /// <remarks>A stream runs with the model's current weights at every call, so it follows <see cref="Fit"/> and
    /// <see cref="SetParameters"/>. Several streams may be open at once; each keeps its own states. A model and its
    /// streams may be called from several threads: the calls run one at a time (they share the model's buffers), so a
    /// server can give each session its own stream of one model.</remarks>
    public LmuModelStream OpenStream(int batch = 1)
    {
        using var scope = new OperationScope(this);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        EnsureBuilt();
        if (!IsCausal)
        {
            throw new InvalidOperationException("The model has a bidirectional layer, which reads each sequence from its end, so it cannot be streamed; run whole sequences with Predict.");
        }

        var stream = new LmuModelStream(this, batch);
        _streams.Add(stream);
        return stream;
    }

    /// <summary>True when every output depends only on the inputs up to its step, so the model can be streamed
    /// (<see cref="OpenStream"/>); false with a bidirectional layer
    /// (<see cref="AddBidirectional(LmuCellOptions, LmuCellOptions?, BidirectionalMerge)"/>), whose backward half needs each sequence's
    /// end first.</summary>
    public bool IsCausal => !_layers.Any(l => l is BidirectionalModelLayer);

    /// <summary>Called by a stream's <see cref="LmuModelStream.Dispose"/>.</summary>
    internal void Forget(LmuModelStream stream) => _streams.Remove(stream);

    private ModelLayer[]? _sequenceLayers;
    private ModelLayer[]? _headLayers;

    /// <summary>The sequence layers, in order (a stream keeps one state per layer); fixed once the model is built, so
    /// kept (a stream's step asks for them on every call).</summary>
    internal IReadOnlyList<ModelLayer> SequenceLayers => _params is null
        ? _layers.Where(l => l.IsSequence).ToArray()
        : _sequenceLayers ??= _layers.Where(l => l.IsSequence).ToArray();

    /// <summary>The head layers, in order (kept as <see cref="SequenceLayers"/>).</summary>
    internal IReadOnlyList<ModelLayer> HeadLayers => _params is null
        ? _layers.Where(l => !l.IsSequence).ToArray()
        : _headLayers ??= _layers.Where(l => !l.IsSequence).ToArray();

    /// <summary>One stream run: the input is in <paramref name="activations"/>[0], the sequence layers write
    /// activations[1…], the head reads the last step (or every step) and writes <paramref name="head"/>[1…]; returns
    /// the output slice.</summary>
    internal Slice ForwardStream(int batch, int steps, Tensor[] activations, Tensor[] head, Tensor[] states)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var sequence = SequenceLayers;
        bool lastStepLayer = EndsWithLastStepLayer(sequence);
        for (int s = 0; s < sequence.Count; s++)
        {
            var layer = sequence[s];
            var y = lastStepLayer && s == sequence.Count - 1
                ? SeqSlice(head[0], batch, 1, layer.OutputWidth)
                : SeqSlice(activations[s + 1], batch, steps, layer.OutputWidth);
            layer.ForwardStream(_backend, ParamSlice(_params!, layer), SeqSlice(activations[s], batch, steps, layer.InputWidth),
                y, batch, steps, states[s].Sub(0, layer.StreamStateLength(batch)));
        }

        int headSteps = ReturnSequences ? steps : 1;
        int width = sequence.Count > 0 ? sequence[^1].OutputWidth : InputSize;
        if (!ReturnSequences && !lastStepLayer)
        {
            _backend.SelectLast(SeqSlice(activations[^1], batch, steps, width), SeqSlice(head[0], batch, 1, width), batch, steps, width);
        }

        var headLayers = HeadLayers;
        for (int h = 0; h < headLayers.Count; h++)
        {
            var layer = headLayers[h];
            layer.Forward(_backend, ParamSlice(_params!, layer), SeqSlice(head[h], batch, headSteps, layer.InputWidth),
                SeqSlice(head[h + 1], batch, headSteps, layer.OutputWidth), batch, headSteps);
        }

        return SeqSlice(head[^1], batch, headSteps, OutputSize);
    }

    private void DisposeStreams()
    {
        foreach (var stream in _streams.ToArray())
        {
            stream.Dispose();
        }
    }
}
