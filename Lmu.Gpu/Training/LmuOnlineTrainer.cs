namespace Lmu.Gpu.Training;

/// <summary>
/// Online training on streams (<see cref="LmuModel.OpenOnlineTraining"/>): every <see cref="Step"/> takes the next piece
/// of B sequences with their targets, runs it from the states the previous piece left, and takes one optimiser step on
/// the piece's loss. This is truncated backpropagation through time with the windows given as they arrive (a model
/// that keeps adapting to a live signal); a series of steps over consecutive pieces equals
/// <see cref="LmuModel.Fit"/> with <see cref="FitOptions.TruncatedSteps"/> over the whole sequences.
/// </summary>
/// <remarks>The trainer keeps its own states; the model's weights and optimiser state are the model's, so streams
/// (<see cref="LmuModel.OpenStream"/>) follow the weights as they change. Calls on one model run one at a time.</remarks>
public sealed class LmuOnlineTrainer : IDisposable
{
    private readonly LmuModel _model;
    private readonly Tensor[] _states;
    private bool _disposed;

    internal LmuOnlineTrainer(LmuModel model, int batch, FitOptions options)
    {
        _model = model;
        Batch = batch;
        Options = options;
        _states = model.AllocateStates(batch, "online training states");
    }

    /// <summary>B: the sequences trained side by side.</summary>
    public int Batch { get; }

    /// <summary>The optimiser settings (<see cref="FitOptions.Optimizer"/>, learning rate, clipping, weight decay).</summary>
    public FitOptions Options { get; }

    /// <summary>Steps run since the trainer was opened or <see cref="Reset"/>.</summary>
    public long StepsRun { get; private set; }

    /// <summary>Runs the next piece from the carried states and takes one optimiser step on its loss.</summary>
    /// <param name="inputs">[B, T, n_x].</param>
    /// <param name="targets">[B, T, O]: a target for every step of the piece.</param>
    /// <param name="steps">T ≥ 1.</param>
    /// <returns>The piece's mean squared error before the step.</returns>
    /// <exception cref="ArgumentException">A length does not match B·T·n_x or B·T·O, or a value is not finite.</exception>
    /// <exception cref="TrainingDivergedException">The loss or the gradient norm is not finite; the weights are unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The trainer or its model was disposed.</exception>
    public double Step(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int steps)
    {
        using var scope = new OperationScope(_model);
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        long inputLength = (long)Batch * steps * _model.InputSize;
        long targetLength = (long)Batch * steps * _model.OutputSize;
        if (inputs.Length != inputLength)
        {
            throw new ArgumentException($"The inputs hold {inputs.Length} values; B·T·n_x = {Batch}·{steps}·{_model.InputSize} = {inputLength}.", nameof(inputs));
        }

        if (targets.Length != targetLength)
        {
            throw new ArgumentException($"The targets hold {targets.Length} values; B·T·O = {Batch}·{steps}·{_model.OutputSize} = {targetLength}.", nameof(targets));
        }

        LinearMemory.ThrowIfNotFinite(inputs, nameof(inputs));
        LinearMemory.ThrowIfNotFinite(targets, nameof(targets));
        double loss = _model.TrainPiece(inputs.ToArray(), targets.ToArray(), Batch, steps, Options, _states);
        StepsRun += steps;
        return loss;
    }

    /// <summary>Sets every sequence's states back to zero (new sequences); the weights stay.</summary>
    /// <exception cref="ObjectDisposedException">The trainer or its model was disposed.</exception>
    public void Reset()
    {
        using var scope = new OperationScope(_model);
        ObjectDisposedException.ThrowIf(_disposed, this);
        _model.ClearStates(_states, Batch);
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
        foreach (var t in _states)
        {
            t.Dispose();
        }

        _model.Forget(this);
    }
}
