using Lmu.Gpu.Kernels.Training;

namespace Lmu.Gpu.Training;

/// <summary>
/// Two LMU layers over one input: the forward layer reads each sequence from its first step, the backward layer from
/// its last real step back to its first. Step t of the output joins the forward output after steps 0…t and the
/// backward output after steps L−1…t (<see cref="Merge"/>: side by side, forward first, as Keras's <c>Bidirectional</c>
/// with <c>merge_mode="concat"</c>; or their sum or mean).
/// At the last step only (<see cref="ModelLayer.LastStepOnly"/>) it is [forward output at step L − 1, backward output
/// after the whole sequence], as Keras gives with <c>return_sequences=False</c>.
/// </summary>
/// <remarks>The backward layer runs forwards over the input with each sequence's L real steps reversed (the padding
/// stays at the end, so it never reaches a real step); its outputs and the gradients move back the same way. At the
/// last step only, a feedforward half gives its last output itself (<see cref="ModelLayer.LastStepOnly"/>: the
/// memory's final state by the impulse-response product where θ is fixed, no T-long sequence), a cell half runs its
/// sequence and the output is taken at the last real step.</remarks>
internal sealed class BidirectionalModelLayer : ModelLayer
{
    private Tensor? _reversedInput;
    private Tensor? _forwardOutput;
    private Tensor? _backwardOutput;
    private Tensor? _forwardGradient;
    private Tensor? _backwardGradient;
    private Tensor? _reversedInputGradient;
    private Tensor? _forwardLast;
    private Tensor? _backwardLast;
    private Tensor? _forwardLastGradient;
    private Tensor? _backwardLastGradient;
    private int _offset;

    public BidirectionalModelLayer(LmuMemoryLayer forward, LmuMemoryLayer backward, BidirectionalMerge merge = BidirectionalMerge.Concat)
    {
        if (forward.InputWidth != backward.InputWidth)
        {
            throw new ArgumentException($"The forward layer takes {forward.InputWidth} inputs and the backward layer {backward.InputWidth}; both read the same input.", nameof(backward));
        }

        if (merge != BidirectionalMerge.Concat && forward.OutputWidth != backward.OutputWidth)
        {
            throw new ArgumentException($"A {merge.ToString().ToLowerInvariant()} of the two halves needs the same units; the forward layer has {forward.OutputWidth} and the backward layer {backward.OutputWidth}.", nameof(merge));
        }

        ForwardLayer = forward;
        BackwardLayer = backward;
        Merge = merge;
        InputWidth = forward.InputWidth;
        OutputWidth = merge == BidirectionalMerge.Concat ? forward.OutputWidth + backward.OutputWidth : forward.OutputWidth;
    }

    /// <summary>How the halves' outputs are joined.</summary>
    public BidirectionalMerge Merge { get; }

    /// <summary>The layer that reads the sequence in order.</summary>
    public LmuMemoryLayer ForwardLayer { get; }

    /// <summary>The layer that reads the sequence from its end.</summary>
    public LmuMemoryLayer BackwardLayer { get; }

    /// <summary>The forward layer's parameters, then the backward layer's.</summary>
    public override int Offset
    {
        get => _offset;
        set
        {
            _offset = value;
            ForwardLayer.Offset = value;
            BackwardLayer.Offset = value + ForwardLayer.ParameterLength;
        }
    }

    public override IEnumerable<ModelLayer> Parts => [ForwardLayer, BackwardLayer];

    public override bool SupportsLastStepOnly => true;

    public override int ParameterLength => ForwardLayer.ParameterLength + BackwardLayer.ParameterLength;

    public override long TrainableCount => ForwardLayer.TrainableCount + BackwardLayer.TrainableCount;

    public override bool IsSequence => true;

    private int ForwardWidth => ForwardLayer.OutputWidth;

    private int BackwardWidth => BackwardLayer.OutputWidth;

    public override void Initialize(Span<float> parameters, Random rng)
    {
        ForwardLayer.Initialize(parameters[..ForwardLayer.ParameterLength], rng);
        BackwardLayer.Initialize(parameters[ForwardLayer.ParameterLength..], rng);
    }

    public override void Prepare(Backend backend, ReadOnlySpan<float> parameters)
    {
        ForwardLayer.Prepare(backend, parameters[..ForwardLayer.ParameterLength]);
        BackwardLayer.Prepare(backend, parameters[ForwardLayer.ParameterLength..]);
    }

    public override void AfterUpdate(Backend backend, Tensor parameters)
    {
        ForwardLayer.AfterUpdate(backend, parameters);
        BackwardLayer.AfterUpdate(backend, parameters);
    }

    public override bool NeedsAllSteps(int steps) => ForwardLayer.NeedsAllSteps(steps) || BackwardLayer.NeedsAllSteps(steps);

    public override void EnsureWorkspace(Backend backend, int batch, int steps)
    {
        ForwardLayer.LastStepOnly = LastStepOnly && ForwardLayer.SupportsLastStepOnly;
        BackwardLayer.LastStepOnly = LastStepOnly && BackwardLayer.SupportsLastStepOnly;
        ForwardLayer.EnsureWorkspace(backend, batch, steps);
        BackwardLayer.EnsureWorkspace(backend, batch, steps);
        long rows = (long)batch * steps;
        EnsureTensor(backend, ref _reversedInput, rows * InputWidth, "reversed input");
        // A half that gives its last output itself (a last-step feedforward layer) needs no T-long outputs here.
        if (!ForwardLayer.LastStepOnly)
        {
            EnsureTensor(backend, ref _forwardOutput, rows * ForwardWidth, "forward layer outputs");
            EnsureTensor(backend, ref _forwardGradient, rows * ForwardWidth, "forward layer output gradients");
        }

        if (!BackwardLayer.LastStepOnly)
        {
            EnsureTensor(backend, ref _backwardOutput, rows * BackwardWidth, "backward layer outputs (reversed time)");
            EnsureTensor(backend, ref _backwardGradient, rows * BackwardWidth, "backward layer output gradients (reversed time)");
        }

        EnsureTensor(backend, ref _reversedInputGradient, rows * InputWidth, "backward layer input gradients (reversed time)");
        if (LastStepOnly)
        {
            EnsureTensor(backend, ref _forwardLast, (long)batch * ForwardWidth, "forward layer last outputs");
            EnsureTensor(backend, ref _backwardLast, (long)batch * BackwardWidth, "backward layer last outputs");
            EnsureTensor(backend, ref _forwardLastGradient, (long)batch * ForwardWidth, "forward layer last output gradients");
            EnsureTensor(backend, ref _backwardLastGradient, (long)batch * BackwardWidth, "backward layer last output gradients");
        }
    }

    public override void Forward(Backend backend, Slice w, Slice x, Slice y, int batch, int steps)
    {
        long rows = (long)batch * steps;
        var reversed = _reversedInput!.Sub(0, rows * InputWidth);
        backend.MoveSteps(x, reversed, Move(batch, steps, InputWidth, InputWidth, 0, InputWidth, 0, reverse: true), Lengths);
        if (LastStepOnly)
        {
            // The backward layer's last real step (in its reversed time) has read the whole sequence.
            var forwardLast = _forwardLast!.Sub(0, (long)batch * ForwardWidth);
            var backwardLast = _backwardLast!.Sub(0, (long)batch * BackwardWidth);
            ForwardLast(backend, ForwardLayer, ForwardWeights(w), x, _forwardOutput, forwardLast, batch, steps);
            ForwardLast(backend, BackwardLayer, BackwardWeights(w), reversed, _backwardOutput, backwardLast, batch, steps);
            Join(backend, forwardLast, backwardLast, y, batch, 1, reverse: false);
            return;
        }

        var forwardOutput = _forwardOutput!.Sub(0, rows * ForwardWidth);
        var backwardOutput = _backwardOutput!.Sub(0, rows * BackwardWidth);
        ForwardLayer.Forward(backend, ForwardWeights(w), x, forwardOutput, batch, steps);
        BackwardLayer.Forward(backend, BackwardWeights(w), reversed, backwardOutput, batch, steps);
        Join(backend, forwardOutput, backwardOutput, y, batch, steps, reverse: true);
    }

    /// <summary>Not defined: the backward half needs each sequence's end (the model refuses truncated training of a
    /// model with a bidirectional layer before it gets here).</summary>
    public override void ForwardCarried(Backend backend, Slice w, Slice x, Slice y, int batch, int steps, Slice state) =>
        throw new InvalidOperationException("A bidirectional layer cannot run from a carried state.");

    public override void Backward(Backend backend, Slice w, Slice grad, Slice x, Slice y, Slice gradY, Slice? gradX, int batch, int steps)
    {
        long rows = (long)batch * steps;
        var reversed = _reversedInput!.Sub(0, rows * InputWidth);
        var reversedGradient = _reversedInputGradient!.Sub(0, rows * InputWidth);
        var backwardInputGradient = gradX is null ? (Slice?)null : reversedGradient;
        if (LastStepOnly)
        {
            var forwardLastGradient = _forwardLastGradient!.Sub(0, (long)batch * ForwardWidth);
            var backwardLastGradient = _backwardLastGradient!.Sub(0, (long)batch * BackwardWidth);
            Split(backend, gradY, forwardLastGradient, backwardLastGradient, batch, 1, reverse: false);
            BackwardLast(backend, ForwardLayer, ForwardWeights(w), ForwardWeights(grad), x, _forwardOutput, _forwardLast!, _forwardGradient, forwardLastGradient, gradX, batch, steps);
            BackwardLast(backend, BackwardLayer, BackwardWeights(w), BackwardWeights(grad), reversed, _backwardOutput, _backwardLast!, _backwardGradient, backwardLastGradient, backwardInputGradient, batch, steps);
        }
        else
        {
            var forwardGradient = _forwardGradient!.Sub(0, rows * ForwardWidth);
            var backwardGradient = _backwardGradient!.Sub(0, rows * BackwardWidth);
            Split(backend, gradY, forwardGradient, backwardGradient, batch, steps, reverse: true);
            ForwardLayer.Backward(backend, ForwardWeights(w), ForwardWeights(grad), x, _forwardOutput!.Sub(0, rows * ForwardWidth), forwardGradient, gradX, batch, steps);
            BackwardLayer.Backward(backend, BackwardWeights(w), BackwardWeights(grad), reversed, _backwardOutput!.Sub(0, rows * BackwardWidth), backwardGradient, backwardInputGradient, batch, steps);
        }

        if (gradX is { } inputGradient)
        {
            // dL/dx = the forward layer's part (already there) + the backward layer's, moved back into time order.
            backend.MoveSteps(reversedGradient, inputGradient, Move(batch, steps, InputWidth, InputWidth, 0, InputWidth, 0, reverse: true) with { Accumulate = 1 }, Lengths);
        }
    }

    public override void Dispose()
    {
        foreach (var t in new[] { _reversedInput, _forwardOutput, _backwardOutput, _forwardGradient, _backwardGradient, _reversedInputGradient, _forwardLast, _backwardLast, _forwardLastGradient, _backwardLastGradient })
        {
            t?.Dispose();
        }

        ForwardLayer.Dispose();
        BackwardLayer.Dispose();
    }

    /// <summary>One half's output at each sequence's last real step into <paramref name="last"/> [B, n]: by the layer
    /// itself where it runs last-step only, else from its whole output sequence (in <paramref name="outputs"/>, which
    /// only such a half has).</summary>
    private void ForwardLast(Backend backend, LmuMemoryLayer layer, Slice w, Slice x, Tensor? outputs, Slice last, int batch, int steps)
    {
        layer.Lengths = Lengths;
        if (layer.LastStepOnly)
        {
            layer.Forward(backend, w, x, last, batch, steps);
            return;
        }

        var sequence = outputs!.Sub(0, (long)batch * steps * layer.OutputWidth);
        layer.Forward(backend, w, x, sequence, batch, steps);
        backend.SelectFinal(sequence, last, batch, steps, layer.OutputWidth, Lengths);
    }

    /// <summary>The backward pass of <see cref="ForwardLast"/> from the gradient of the last output.</summary>
    private void BackwardLast(Backend backend, LmuMemoryLayer layer, Slice w, Slice grad, Slice x, Tensor? outputs, Tensor last, Tensor? gradients, Slice lastGradient, Slice? gradX, int batch, int steps)
    {
        layer.Lengths = Lengths;
        int width = layer.OutputWidth;
        if (layer.LastStepOnly)
        {
            layer.Backward(backend, w, grad, x, last.Sub(0, (long)batch * width), lastGradient, gradX, batch, steps);
            return;
        }

        var sequenceGradient = gradients!.Sub(0, (long)batch * steps * width);
        backend.Clear(sequenceGradient);
        backend.ScatterFinal(lastGradient, sequenceGradient, batch, steps, width, Lengths);
        layer.Backward(backend, w, grad, x, outputs!.Sub(0, (long)batch * steps * width), sequenceGradient, gradX, batch, steps);
    }

    /// <summary>The weight of each half in a merged output: ½ for the mean, else 1.</summary>
    private float HalfScale => Merge == BidirectionalMerge.Average ? 0.5f : 1f;

    /// <summary>y [B, T, out] from the halves' outputs [B, T, n_f] and [B, T, n_b] (the backward one in its reversed time
    /// when <paramref name="reverse"/>): side by side, or summed (scaled for the mean).</summary>
    private void Join(Backend backend, Slice forward, Slice backward, Slice y, int batch, int steps, bool reverse)
    {
        var lengths = reverse ? Lengths : null;
        if (Merge == BidirectionalMerge.Concat)
        {
            backend.MoveSteps(forward, y, Move(batch, steps, ForwardWidth, ForwardWidth, 0, OutputWidth, 0, reverse: false), null);
            backend.MoveSteps(backward, y, Move(batch, steps, BackwardWidth, BackwardWidth, 0, OutputWidth, ForwardWidth, reverse), lengths);
            return;
        }

        backend.MoveSteps(forward, y, Move(batch, steps, OutputWidth, OutputWidth, 0, OutputWidth, 0, reverse: false) with { Scale = HalfScale }, null);
        backend.MoveSteps(backward, y, Move(batch, steps, OutputWidth, OutputWidth, 0, OutputWidth, 0, reverse) with { Scale = HalfScale, Accumulate = 1 }, lengths);
    }

    /// <summary>The halves' output gradients from the joined one (<see cref="Join"/>'s transpose).</summary>
    private void Split(Backend backend, Slice gradY, Slice forward, Slice backward, int batch, int steps, bool reverse)
    {
        var lengths = reverse ? Lengths : null;
        bool concat = Merge == BidirectionalMerge.Concat;
        backend.MoveSteps(gradY, forward, Move(batch, steps, ForwardWidth, OutputWidth, 0, ForwardWidth, 0, reverse: false) with { Scale = HalfScale }, null);
        backend.MoveSteps(gradY, backward, Move(batch, steps, BackwardWidth, OutputWidth, concat ? ForwardWidth : 0, BackwardWidth, 0, reverse) with { Scale = HalfScale }, lengths);
    }

    private static StepMoveParams Move(int batch, int steps, int width, int sourceWidth, int sourceOffset, int destinationWidth, int destinationOffset, bool reverse) =>
        new(batch, steps, width, sourceWidth, sourceOffset, destinationWidth, destinationOffset, reverse ? 1 : 0, 0, 0);

    private Slice ForwardWeights(Slice w) => w.Sub(0, ForwardLayer.ParameterLength);

    private Slice BackwardWeights(Slice w) => w.Sub(ForwardLayer.ParameterLength, BackwardLayer.ParameterLength);
}
