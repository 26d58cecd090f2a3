using Lmu.Gpu.Training;

namespace Lmu.Gpu.Cli.Training;

/// <summary>
/// A <see cref="SequenceDataset"/> from a numpy <c>.npz</c> archive (<c>lmu train npz</c>): <c>x</c> [N, T, n_x]
/// (or [N, T] for one input), and either <c>y</c> [N, T, O] (targets at every step), <c>y</c> [N, O] (one target
/// vector per sequence, at its last step) or <c>labels</c> [N] (integer classes, at the last step); optionally
/// <c>lengths</c> [N] (each sequence's real steps, 1 … T, the rest padding). Arrays may be float or integer.
/// </summary>
internal static class NpzDataset
{
    /// <summary>Reads and checks the archive.</summary>
    /// <param name="path">The file.</param>
    /// <param name="classes">The number of classes for labels (0: the largest label + 1).</param>
    /// <returns>The dataset.</returns>
    /// <exception cref="InvalidDataException">An array is missing, of the wrong shape, or holds values that do not fit
    /// (a label or length that is not a whole number in range, a NaN input); the message names the file and array.</exception>
    public static SequenceDataset Load(string path, int classes = 0)
    {
        var arrays = NumpyArchive.Read(path);
        var (x, count, steps, inputs, lengths) = Inputs(arrays, path);

        bool hasY = arrays.TryGetValue("y", out var y);
        bool hasLabels = arrays.TryGetValue("labels", out var labels);
        if (hasY == hasLabels)
        {
            throw new InvalidDataException($"'{path}': give exactly one of y (regression targets) and labels (classes); it has {(hasY ? "both" : "neither")}.");
        }

        SequenceDataset data;
        if (hasLabels)
        {
            if (labels!.Shape.Count != 1 || labels.Shape[0] != count)
            {
                throw new InvalidDataException($"'{path}': labels has shape [{Shape(labels)}]; it must be [{count}] (one per sequence of x).");
            }

            int[] values = WholeNumbers(labels.Values, path, "labels", 0, classes > 0 ? classes - 1 : int.MaxValue - 1);
            data = SequenceDataset.ForClassification(x, values, count, steps, inputs, classes > 0 ? classes : values.Max() + 1);
        }
        else if (y!.Shape.Count == 3 && y.Shape[0] == count && y.Shape[1] == steps && y.Shape[2] >= 1)
        {
            data = SequenceDataset.ForRegression(x, y.Values, count, steps, inputs, y.Shape[2], sequenceTargets: true);
        }
        else if (y.Shape.Count == 2 && y.Shape[0] == count && y.Shape[1] >= 1)
        {
            data = SequenceDataset.ForRegression(x, y.Values, count, steps, inputs, y.Shape[1], sequenceTargets: false);
        }
        else
        {
            throw new InvalidDataException($"'{path}': y has shape [{Shape(y)}]; it must be [{count}, {steps}, O] (a target at every step) or [{count}, O] (one per sequence).");
        }

        if (hasY && Array.FindIndex(y!.Values, v => !float.IsFinite(v)) is >= 0 and int nan)
        {
            throw new InvalidDataException($"'{path}': y holds {y.Values[nan]} at flat index {nan}; targets must be finite.");
        }

        return lengths is null ? data : data.WithLengths(lengths);
    }

    /// <summary>The inputs of an archive: <c>x</c> [N, T, n_x] (or [N, T]) and, where present, <c>lengths</c> [N]
    /// (<c>lmu predict</c> reads only these).</summary>
    /// <param name="arrays">The archive's arrays.</param>
    /// <param name="path">The file, for messages.</param>
    /// <returns>x's values, N, T, n_x, and the lengths or null.</returns>
    /// <exception cref="InvalidDataException">x is missing, of the wrong shape or not finite, or a length is not a
    /// whole number in 1 … T.</exception>
    public static (float[] X, int Count, int Steps, int Inputs, int[]? Lengths) Inputs(IReadOnlyDictionary<string, NumpyArray> arrays, string path)
    {
        var x = Get(arrays, path, "x");
        if (x.Shape.Count is not (2 or 3) || x.Shape[0] < 1 || x.Shape[1] < 1 || (x.Shape.Count == 3 && x.Shape[2] < 1))
        {
            throw new InvalidDataException($"'{path}': x has shape [{Shape(x)}]; it must be [N, T, n_x] or [N, T] with every dimension ≥ 1.");
        }

        int count = x.Shape[0];
        int steps = x.Shape[1];
        int bad = Array.FindIndex(x.Values, v => !float.IsFinite(v));
        if (bad >= 0)
        {
            throw new InvalidDataException($"'{path}': x holds {x.Values[bad]} at flat index {bad}; inputs must be finite.");
        }

        int[]? lengths = null;
        if (arrays.TryGetValue("lengths", out var given))
        {
            if (given.Shape.Count != 1 || given.Shape[0] != count)
            {
                throw new InvalidDataException($"'{path}': lengths has shape [{Shape(given)}]; it must be [{count}].");
            }

            lengths = WholeNumbers(given.Values, path, "lengths", 1, steps);
        }

        return (x.Values, count, steps, x.Shape.Count == 3 ? x.Shape[2] : 1, lengths);
    }

    private static NumpyArray Get(IReadOnlyDictionary<string, NumpyArray> arrays, string path, string name) =>
        arrays.TryGetValue(name, out var array)
            ? array
            : throw new InvalidDataException($"'{path}' has no array '{name}' (it has: {string.Join(", ", arrays.Keys)}).");

    private static int[] WholeNumbers(float[] values, string path, string name, int min, int max)
    {
        var result = new int[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            float v = values[i];
            if (!(v >= min && v <= max) || v != MathF.Round(v))
            {
                throw new InvalidDataException($"'{path}': {name}[{i}] is {v}; it must be a whole number in {min} … {max}.");
            }

            result[i] = (int)v;
        }

        return result;
    }

    private static string Shape(NumpyArray array) => string.Join(", ", array.Shape);
}
