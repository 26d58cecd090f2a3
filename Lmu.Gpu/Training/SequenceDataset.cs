namespace Lmu.Gpu.Training;

/// <summary>
/// Sequences for training or evaluation: inputs [N, T, n_x] with either regression targets — per step [N, T, O] or
/// per sequence [N, O] — or integer class labels [N]. Sequences shorter than T are padded at the end and their
/// lengths given with <see cref="WithLengths"/>.
/// </summary>
public sealed class SequenceDataset
{
    private SequenceDataset(float[] inputs, int count, int steps, int inputSize, float[]? targets, int targetSize, bool sequenceTargets, int[]? labels, int classes, int[]? lengths = null)
    {
        Lengths = lengths;
        Inputs = inputs;
        Count = count;
        Steps = steps;
        InputSize = inputSize;
        Targets = targets;
        TargetSize = targetSize;
        SequenceTargets = sequenceTargets;
        Labels = labels;
        Classes = classes;
    }

    /// <summary>Inputs [N, T, n_x].</summary>
    public float[] Inputs { get; }

    /// <summary>N.</summary>
    public int Count { get; }

    /// <summary>T.</summary>
    public int Steps { get; }

    /// <summary>n_x.</summary>
    public int InputSize { get; }

    /// <summary>Regression targets, or null for classification.</summary>
    public float[]? Targets { get; }

    /// <summary>O (outputs per target row) for regression, else the class count.</summary>
    public int TargetSize { get; }

    /// <summary>True when targets are per step [N, T, O].</summary>
    public bool SequenceTargets { get; }

    /// <summary>Class labels, or null for regression.</summary>
    public int[]? Labels { get; }

    /// <summary>Number of classes (classification).</summary>
    public int Classes { get; }

    /// <summary>True for classification.</summary>
    public bool IsClassification => Labels is not null;

    /// <summary>Each sequence's real steps (1 … T), or null when every sequence has all T. A shorter sequence is
    /// padded at the end: its padding never reaches the loss, the accuracy or the gradients (per-step targets count
    /// steps t &lt; L only; a last-step output is taken at step L − 1), whatever the padding holds.</summary>
    public int[]? Lengths { get; }

    /// <summary>The same sequences with per-sequence lengths: sequence i holds <paramref name="lengths"/>[i] real
    /// steps, followed by padding up to T (what a batch of sequences of different lengths looks like once padded at the
    /// end). The arrays are shared, not copied (the lengths are).</summary>
    /// <param name="lengths">[N], each in 1 … T.</param>
    /// <returns>The dataset with <see cref="Lengths"/> set.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="lengths"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="lengths"/> does not hold N values, or one is outside
    /// 1 … T (the message names the first).</exception>
    /// <remarks>The models are causal, so the outputs at a sequence's real steps never depend on its padding: training
    /// with lengths gives each sequence the loss and gradients it would have alone at its own length. The memories still
    /// run over all T steps of every sequence.</remarks>
    public SequenceDataset WithLengths(int[] lengths)
    {
        ArgumentNullException.ThrowIfNull(lengths);
        if (lengths.Length != Count)
        {
            throw new ArgumentException($"lengths has {lengths.Length} values; expected one per sequence ({Count}).", nameof(lengths));
        }

        for (int i = 0; i < lengths.Length; i++)
        {
            if (lengths[i] < 1 || lengths[i] > Steps)
            {
                throw new ArgumentException($"lengths[{i}] = {lengths[i]} is outside 1…{Steps} (the padded length T).", nameof(lengths));
            }
        }

        return new SequenceDataset(Inputs, Count, Steps, InputSize, Targets, TargetSize, SequenceTargets, Labels, Classes, (int[])lengths.Clone());
    }

    /// <summary>A regression dataset.</summary>
    /// <param name="inputs">[N, T, n_x].</param>
    /// <param name="targets">[N, T, O] when <paramref name="sequenceTargets"/>, else [N, O].</param>
    /// <param name="count">N.</param>
    /// <param name="steps">T.</param>
    /// <param name="inputSize">n_x.</param>
    /// <param name="targetSize">O.</param>
    /// <param name="sequenceTargets">Per-step targets.</param>
    /// <returns>The dataset.</returns>
    /// <exception cref="ArgumentException">Lengths do not match the sizes, or a value is NaN or infinite.</exception>
    public static SequenceDataset ForRegression(float[] inputs, float[] targets, int count, int steps, int inputSize, int targetSize, bool sequenceTargets)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        CheckInputs(inputs, count, steps, inputSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(targetSize, 1);
        long expected = (long)count * (sequenceTargets ? steps : 1) * targetSize;
        if (targets.Length != expected)
        {
            throw new ArgumentException(
                $"targets has {targets.Length} values; expected {(sequenceTargets ? "N·T·O" : "N·O")} = {expected} for N = {count}, T = {steps}, O = {targetSize}.", nameof(targets));
        }

        LinearMemory.ThrowIfNotFinite(targets, nameof(targets));
        return new SequenceDataset(inputs, count, steps, inputSize, targets, targetSize, sequenceTargets, null, 0);
    }

    /// <summary>A classification dataset (one label per sequence).</summary>
    /// <param name="inputs">[N, T, n_x].</param>
    /// <param name="labels">[N], each in 0 … classes − 1.</param>
    /// <param name="count">N.</param>
    /// <param name="steps">T.</param>
    /// <param name="inputSize">n_x.</param>
    /// <param name="classes">Number of classes ≥ 2.</param>
    /// <returns>The dataset.</returns>
    /// <exception cref="ArgumentException">Lengths do not match, a label is out of range, or an input is not finite.</exception>
    public static SequenceDataset ForClassification(float[] inputs, int[] labels, int count, int steps, int inputSize, int classes)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        CheckInputs(inputs, count, steps, inputSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        if (labels.Length != count)
        {
            throw new ArgumentException($"labels has {labels.Length} values; expected one per sequence ({count}).", nameof(labels));
        }

        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] < 0 || labels[i] >= classes)
            {
                throw new ArgumentException($"labels[{i}] = {labels[i]} is outside 0…{classes - 1} ({classes} classes).", nameof(labels));
            }
        }

        return new SequenceDataset(inputs, count, steps, inputSize, null, classes, false, labels, classes);
    }

    /// <summary>The first <paramref name="count"/> sequences, or a sub-range.</summary>
    /// <param name="start">First sequence.</param>
    /// <param name="count">Sequences.</param>
    /// <returns>A copy.</returns>
    public SequenceDataset Slice(int start, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start + count, Count);
        int per = Steps * InputSize;
        float[] inputs = Inputs.AsSpan(start * per, count * per).ToArray();
        int[]? lengths = Lengths?.AsSpan(start, count).ToArray();
        if (Labels is not null)
        {
            return new SequenceDataset(inputs, count, Steps, InputSize, null, TargetSize, false, Labels.AsSpan(start, count).ToArray(), Classes, lengths);
        }

        int tper = (SequenceTargets ? Steps : 1) * TargetSize;
        return new SequenceDataset(inputs, count, Steps, InputSize, Targets!.AsSpan(start * tper, count * tper).ToArray(), TargetSize, SequenceTargets, null, 0, lengths);
    }

    private static void CheckInputs(float[] inputs, int count, int steps, int inputSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inputSize, 1);
        long expected = (long)count * steps * inputSize;
        if (inputs.Length != expected)
        {
            throw new ArgumentException(
                $"inputs has {inputs.Length} values; expected N·T·n_x = {count}·{steps}·{inputSize} = {expected} (sequence length {steps}).", nameof(inputs));
        }

        LinearMemory.ThrowIfNotFinite(inputs, nameof(inputs), inputSize);
    }
}
