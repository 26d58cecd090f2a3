namespace Lmu.Gpu.Training;

/// <summary>
/// Sequences for training or evaluation: inputs [N, T, n_x] with either regression targets — per step [N, T, O] or
/// per sequence [N, O] — or integer class labels [N].
/// </summary>
public sealed class SequenceDataset
{
    private SequenceDataset(float[] inputs, int count, int steps, int inputSize, float[]? targets, int targetSize, bool sequenceTargets, int[]? labels, int classes)
    {
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
        if (Labels is not null)
        {
            return new SequenceDataset(inputs, count, Steps, InputSize, null, TargetSize, false, Labels.AsSpan(start, count).ToArray(), Classes);
        }

        int tper = (SequenceTargets ? Steps : 1) * TargetSize;
        return new SequenceDataset(inputs, count, Steps, InputSize, Targets!.AsSpan(start * tper, count * tper).ToArray(), TargetSize, SequenceTargets, null, 0);
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
