namespace Lmu.Gpu.Training;

/// <summary>Online training: <see cref="OpenOnlineTraining"/> and the piece-by-piece training step.</summary>
public sealed partial class LmuModel
{
    private readonly List<LmuOnlineTrainer> _trainers = [];

    /// <summary>
    /// Opens online training of <paramref name="batch"/> sequences that arrive in pieces: each
    /// <see cref="LmuOnlineTrainer.Step"/> runs the next piece from the states the previous one left and takes one
    /// optimiser step on it (truncated backpropagation through time, one window per call).
    /// </summary>
    /// <param name="batch">B ≥ 1.</param>
    /// <param name="options">The optimiser settings: <see cref="FitOptions.Optimizer"/>, <see cref="FitOptions.LearningRate"/>,
    /// <see cref="FitOptions.Beta1"/>, <see cref="FitOptions.Beta2"/>, <see cref="FitOptions.Epsilon"/>,
    /// <see cref="FitOptions.ClipNorm"/> and <see cref="FitOptions.WeightDecay"/> (the settings of whole runs,
    /// epochs, batches, schedules and validation, do not apply).</param>
    /// <returns>The trainer, at zero state. Dispose it (or the model) to free its states.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> &lt; 1, or a setting is out of range.</exception>
    /// <exception cref="ArgumentException">The model has no outputs at every step, has a bidirectional layer, or
    /// trains θ under Euler (as for <see cref="FitOptions.TruncatedSteps"/>), or <see cref="FitOptions.LossFromStep"/>
    /// is set (every step of a piece counts).</exception>
    /// <remarks>The optimiser state (Adam's moments) is the model's, shared with <see cref="Fit"/>.</remarks>
    public LmuOnlineTrainer OpenOnlineTraining(int batch, FitOptions options)
    {
        using var scope = new OperationScope(this);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentNullException.ThrowIfNull(options);
        CheckOptimizer(options);
        if (options.LossFromStep != 0)
        {
            throw new ArgumentException("LossFromStep does not apply to online training: every step of a piece counts.", nameof(options));
        }

        EnsureBuilt();
        CheckCarriedTraining(nameof(options));
        var trainer = new LmuOnlineTrainer(this, batch, options);
        _trainers.Add(trainer);
        return trainer;
    }

    /// <summary>Called by a trainer's <see cref="LmuOnlineTrainer.Dispose"/>.</summary>
    internal void Forget(LmuOnlineTrainer trainer) => _trainers.Remove(trainer);

    /// <summary>One tensor of states per sequence layer for <paramref name="batch"/> sequences, at zero.</summary>
    internal Tensor[] AllocateStates(int batch, string what)
    {
        var states = SequenceLayers.Select(l => _backend.Allocate(Math.Max(1, l.StreamStateLength(batch)), what)).ToArray();
        ClearStates(states, batch);
        return states;
    }

    /// <summary>Sets the states of <paramref name="batch"/> sequences to zero.</summary>
    internal void ClearStates(Tensor[] states, int batch)
    {
        var layers = SequenceLayers;
        for (int s = 0; s < layers.Count; s++)
        {
            _backend.Clear(states[s].Sub(0, layers[s].StreamStateLength(batch)));
        }
    }

    /// <summary>One optimiser step on a piece [B, T, ·] run from <paramref name="states"/>, which it leaves at the
    /// piece's end.</summary>
    /// <returns>The piece's mean loss.</returns>
    internal double TrainPiece(float[] inputs, float[] targets, int batch, int steps, FitOptions options, Tensor[] states)
    {
        var data = SequenceDataset.ForRegression(inputs, targets, batch, steps, InputSize, OutputSize, sequenceTargets: true);
        EnsureWorkspace(batch, steps);
        int[] indices = [.. Enumerable.Range(0, batch)];
        return TrainStepProfiled(data, indices, options, new Window(0, steps, states)).Loss;
    }

    private void DisposeTrainers()
    {
        foreach (var trainer in _trainers.ToArray())
        {
            trainer.Dispose();
        }
    }
}
