using System.Diagnostics;
using Lmu.Gpu.Training;

namespace Lmu.Gpu.Cli.Training;

/// <summary><c>lmu train npz</c>: a model of the user's layers trained on the user's data.</summary>
public static partial class TrainTasks
{
    /// <summary>The layers when none are given: one LMU cell of 64 units and order 64 with θ the sequence length.</summary>
    public static readonly IReadOnlyList<string> DefaultNpzLayers = ["lmu:units=64,order=64"];

    /// <summary>Trains a model of <see cref="TrainSettings.Layers"/> (<see cref="LayerSpec"/>; a dense head of the
    /// targets' width is added unless the last layer is a dense layer of that width) on the arrays of
    /// <see cref="TrainSettings.DataPath"/> (<see cref="NpzDataset"/>), holding out the last
    /// <see cref="TrainSettings.ValidationSplit"/> of the sequences for validation (the weights of the best validation
    /// epoch are kept), and reports on <see cref="TrainSettings.TestPath"/> where given (else on the validation
    /// sequences, else on the training ones): accuracy for labels, NRMSE (over the counted steps: from
    /// <see cref="TrainSettings.LossFromStep"/> to each sequence's length) for targets.</summary>
    /// <param name="s">Settings.</param>
    /// <param name="log">Where to print.</param>
    /// <returns>The report.</returns>
    /// <exception cref="ArgumentException">A bad setting or layer.</exception>
    /// <exception cref="InvalidDataException">The data files do not hold what the task needs, or do not match.</exception>
    public static TaskReport Npz(TrainSettings s, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(log);
        string dataPath = s.DataPath ?? throw new ArgumentException("--data: give the training data (.npz with x and y or labels).");
        if (!(s.ValidationSplit >= 0 && s.ValidationSplit < 1))
        {
            throw new ArgumentException($"--validation-split must lie in [0, 1); it is {s.ValidationSplit}.");
        }

        var pool = NpzDataset.Load(dataPath);
        var test = s.TestPath is { } testPath ? NpzDataset.Load(testPath, pool.IsClassification ? pool.Classes : 0) : null;
        if (test is not null && (test.InputSize != pool.InputSize || test.IsClassification != pool.IsClassification
            || test.SequenceTargets != pool.SequenceTargets || (!test.IsClassification && test.TargetSize != pool.TargetSize)))
        {
            throw new InvalidDataException($"'{s.TestPath}' does not match '{dataPath}': {Describe(test)} against {Describe(pool)}.");
        }

        int validationCount = (int)Math.Ceiling(s.ValidationSplit * pool.Count);
        if (validationCount >= pool.Count)
        {
            throw new ArgumentException($"--validation-split {s.ValidationSplit} leaves no training sequence of {pool.Count}.");
        }

        var train = validationCount > 0 ? pool.Slice(0, pool.Count - validationCount) : pool;
        var validation = validationCount > 0 ? pool.Slice(pool.Count - validationCount, validationCount) : null;
        int outputs = pool.IsClassification ? pool.Classes : pool.TargetSize;
        if (s.LossFromStep < 0 || (pool.SequenceTargets && s.LossFromStep >= pool.Steps))
        {
            throw new ArgumentException($"--loss-from must lie in 0 … {pool.Steps - 1}; it is {s.LossFromStep}.");
        }

        using var device = LmuDevice.Open(s.Accelerator);
        using var model = new LmuModel(device, pool.InputSize, returnSequences: pool.SequenceTargets, seed: s.Seed);
        var layers = s.Layers.Count > 0 ? s.Layers : DefaultNpzLayers;
        foreach (string layer in layers)
        {
            LayerSpec.Add(model, layer, pool.Steps);
        }

        if (model.OutputSize != outputs || !layers[^1].TrimStart().StartsWith("dense", StringComparison.OrdinalIgnoreCase))
        {
            model.AddDense(outputs);
        }

        var options = Options(s, epochs: 10, batch: 32, lr: 1e-3, lossFrom: s.LossFromStep) with
        {
            KeepBestValidation = validation is not null,
            BucketByLength = s.BucketByLength,
        };
        var clock = Stopwatch.StartNew();
        var history = Fit(model, train, options, s, log, validation);
        double seconds = clock.Elapsed.TotalSeconds;

        var (reported, role) = test is not null ? (test, "test") : validation is not null ? (validation, "validation") : (train, "training");
        var eval = model.Evaluate(reported, options.BatchSize, s.LossFromStep, s.Cancellation);
        string sizes = $"{train.Count} train / {validation?.Count ?? 0} validation / {test?.Count ?? 0} test";
        string common = $"{model.ParameterCount:N0} params, {sizes} sequences of {pool.Steps} steps from '{dataPath}', {history.Count} epochs, {seconds:F1} s on {device.Selection}";
        var details = new Dictionary<string, double>
        {
            ["loss"] = eval.Loss, ["parameters"] = model.ParameterCount, ["seconds"] = seconds,
            ["sequences_per_second"] = Throughput(history, train.Count, options),
        };
        TaskReport report;
        if (reported.IsClassification)
        {
            int majority = reported.Labels!.GroupBy(l => l).Max(g => g.Count());
            double chance = 100.0 * majority / reported.Count;
            details["accuracy"] = 100 * eval.Accuracy;
            string summary = string.Create(Inv, $"npz: {role} accuracy {100 * eval.Accuracy:F2} % (loss {eval.Loss:G4}) vs {chance:F1} % for the majority class; {common}");
            report = new TaskReport("npz", history, "accuracy %", 100 * eval.Accuracy, chance, summary, details);
        }
        else
        {
            double power = MeanSquare(reported, s.LossFromStep);
            double nrmse = power > 0 ? 100 * Math.Sqrt(eval.Loss / power) : double.NaN;
            details["nrmse"] = nrmse;
            string summary = string.Create(Inv, $"npz: {role} NRMSE {nrmse:F3} % (MSE {eval.Loss:G4}) vs 100 % for predicting zero; {common}");
            report = new TaskReport("npz", history, "NRMSE %", nrmse, 100, summary, details);
        }

        Finish(history, s, "npz");
        return report;
    }

    /// <summary>The mean square of the targets over the counted elements: every step from
    /// <paramref name="fromStep"/> to each sequence's length for per-step targets, every target otherwise.</summary>
    private static double MeanSquare(SequenceDataset data, int fromStep)
    {
        double sum = 0;
        long counted = 0;
        int width = data.TargetSize;
        for (int n = 0; n < data.Count; n++)
        {
            int first = data.SequenceTargets ? fromStep : 0;
            int last = data.SequenceTargets ? data.Lengths?[n] ?? data.Steps : 1;
            int rows = data.SequenceTargets ? data.Steps : 1;
            for (int t = first; t < last; t++)
            {
                for (int o = 0; o < width; o++)
                {
                    double v = data.Targets![(((long)n * rows) + t) * width + o];
                    sum += v * v;
                    counted++;
                }
            }
        }

        return counted > 0 ? sum / counted : 0;
    }

    private static string Describe(SequenceDataset data) => data.IsClassification
        ? $"n_x = {data.InputSize}, labels"
        : $"n_x = {data.InputSize}, {data.TargetSize} targets {(data.SequenceTargets ? "per step" : "per sequence")}";
}
