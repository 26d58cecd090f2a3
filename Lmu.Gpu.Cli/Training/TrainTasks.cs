using System.Diagnostics;
using System.Globalization;
using Lmu.Gpu.Training;

namespace Lmu.Gpu.Cli.Training;

/// <summary>The <c>lmu train</c> tasks: capacity (delay), Mackey-Glass prediction, psMNIST.</summary>
public static partial class TrainTasks
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The delay task: reproduce band-limited white noise delayed by 0, T/4, T/2, 3T/4 and T steps from a
    /// cell with θ = T; report test NRMSE per delay over steps ≥ T (sequences of 2.5·T steps, 10 Hz noise with
    /// θ = 1 s as in the paper's capacity notebook).</summary>
    /// <param name="s">Settings.</param>
    /// <param name="log">Where to print.</param>
    /// <returns>The report.</returns>
    public static TaskReport Capacity(TrainSettings s, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(log);
        int window = s.Window ?? (s.Quick ? 40 : 100);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 4, "--window");
        int steps = (int)(2.5 * window);
        int trainCount = s.Quick ? 64 : 200;
        int testCount = s.Quick ? 32 : 100;
        double cutoff = s.Quick ? 3 : 10;
        int[] delays = Enumerable.Range(0, 5).Select(i => (int)Math.Round(i * window / 4.0)).ToArray();
        var rng = new Random(s.Seed);
        SequenceDataset Make(int count)
        {
            var x = new float[count * steps];
            var y = new float[count * steps * delays.Length];
            for (int n = 0; n < count; n++)
            {
                float[] signal = TaskData.WhiteNoise(steps, 1.0 / window, cutoff, rng);
                signal.CopyTo(x, n * steps);
                for (int t = 0; t < steps; t++)
                {
                    for (int q = 0; q < delays.Length; q++)
                    {
                        y[(((n * steps) + t) * delays.Length) + q] = t >= delays[q] ? signal[t - delays[q]] : 0f;
                    }
                }
            }

            return SequenceDataset.ForRegression(x, y, count, steps, 1, delays.Length, sequenceTargets: true);
        }

        // The paper: validation_split = 0.2 of the training sequences.
        int validationCount = Math.Max(1, trainCount / 5);
        var pool = Make(trainCount);
        var train = pool.Slice(0, trainCount - validationCount);
        var validation = pool.Slice(trainCount - validationCount, validationCount);
        var test = Make(testCount);
        using var device = LmuDevice.Open(s.Accelerator);
        using var model = new LmuModel(device, 1, returnSequences: true, seed: s.Seed)
            .AddLmu(new LmuCellOptions
            {
                InputSize = 1, Units = s.Quick ? 16 : 50, Order = s.Quick ? 12 : 32, Theta = window,
                Activation = Activation.Linear, HiddenToHidden = false, HiddenToMemory = false, MemoryToMemory = false,
            })
            .AddDense(delays.Length);
        var options = Options(s, epochs: s.Quick ? 25 : 200, batch: s.Quick ? 16 : 50, lr: s.Quick ? 1e-2 : 3e-3, lossFrom: window) with { KeepBestValidation = true };
        var clock = Stopwatch.StartNew();
        var history = Fit(model, train, options, s, log, validation);
        double seconds = clock.Elapsed.TotalSeconds;

        float[] predicted = model.Predict(test.Inputs, testCount, steps, cancellationToken: s.Cancellation);
        var nrmse = new double[delays.Length];
        for (int q = 0; q < delays.Length; q++)
        {
            double err = 0;
            double power = 0;
            for (int n = 0; n < testCount; n++)
            {
                for (int t = window; t < steps; t++)
                {
                    int i = (((n * steps) + t) * delays.Length) + q;
                    double target = test.Targets![i];
                    err += (predicted[i] - target) * (predicted[i] - target);
                    power += target * target;
                }
            }

            nrmse[q] = 100 * Math.Sqrt(err / power);
        }

        double mean = nrmse.Average();
        var details = new Dictionary<string, double> { ["parameters"] = model.ParameterCount, ["seconds"] = seconds, ["sequences_per_second"] = Throughput(history, train.Count, options) };
        for (int q = 0; q < delays.Length; q++)
        {
            details[$"nrmse_delay_{delays[q]}"] = nrmse[q];
        }

        string perDelay = string.Join(", ", delays.Select((d, q) => string.Create(Inv, $"{d}: {nrmse[q]:F1} %")));
        string summary = string.Create(Inv,
            $"capacity: test NRMSE {mean:F1} % mean over delays at the best validation epoch (per delay {perDelay}) vs 100 % for predicting zero; T = {window}, {steps}-step sequences, {train.Count} train / {validation.Count} validation / {testCount} test, {model.ParameterCount:N0} params, {history.Count} epochs, {seconds:F1} s on {device.Selection}");
        Finish(history, s, "capacity");
        return new TaskReport("capacity", history, "NRMSE %", mean, 100, summary, details);
    }

    /// <summary>Mackey-Glass 15-step-ahead prediction (τ = 17, 10 Euler sub-steps per sample, history 1.2 ± 0.1,
    /// tanh(x − 1), 100-sample washout, centred; 128 series × 5,000 steps, 64 train / 64 test) with 4 LMU layers
    /// (49 units, d = 4, θ = 4) + Dense(1) ≈ 18k params; reports test NRMSE beside the paper's corrected numbers.</summary>
    /// <param name="s">Settings.</param>
    /// <param name="log">Where to print.</param>
    /// <returns>The report.</returns>
    public static TaskReport MackeyGlass(TrainSettings s, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(log);
        const int Horizon = 15;
        int series = s.Quick ? 16 : 128;
        int length = s.Quick ? 400 : 5000;
        float[] all = TaskData.MackeyGlass(series, length, s.Seed);
        float mean = (float)all.Average(v => (double)v);
        for (int i = 0; i < all.Length; i++)
        {
            all[i] -= mean;
        }

        int steps = length - Horizon;
        SequenceDataset Make(int first, int count)
        {
            var x = new float[count * steps];
            var y = new float[count * steps];
            for (int n = 0; n < count; n++)
            {
                all.AsSpan(((first + n) * length), steps).CopyTo(x.AsSpan(n * steps));
                all.AsSpan(((first + n) * length) + Horizon, steps).CopyTo(y.AsSpan(n * steps));
            }

            return SequenceDataset.ForRegression(x, y, count, steps, 1, 1, sequenceTargets: true);
        }

        // The paper: 64 training series of which validation_split = 0.5 holds out 32 for validation; 64 test series.
        int half = series / 2;
        int trainSeries = half / 2;
        var train = Make(0, trainSeries);
        var validation = Make(trainSeries, half - trainSeries);
        var test = Make(half, half);
        int layers = s.Quick ? 2 : 4;
        int units = s.Quick ? 16 : 49;
        using var device = LmuDevice.Open(s.Accelerator);
        var model = new LmuModel(device, 1, returnSequences: true, seed: s.Seed);
        try
        {
            for (int l = 0; l < layers; l++)
            {
                model.AddLmu(new LmuCellOptions { InputSize = model.Width, Units = units, Order = 4, Theta = 4 });
            }

            model.AddDense(1);
            var options = Options(s, epochs: s.Quick ? 60 : 100, batch: s.Quick ? 2 : 32, lr: s.Quick ? 1e-2 : 1e-3, lossFrom: 0) with { KeepBestValidation = true };
            var clock = Stopwatch.StartNew();
            var history = Fit(model, train, options, s, log, validation);
            double seconds = clock.Elapsed.TotalSeconds;
            float[] predicted = model.Predict(test.Inputs, half, steps, cancellationToken: s.Cancellation);
            double nrmse = 100 * Nrmse(predicted, test.Targets!);
            double copy = 100 * Nrmse(test.Inputs, test.Targets!);
            string summary = string.Create(Inv,
                $"mackey-glass: test NRMSE {nrmse:F3} % at the best validation epoch (paper, corrected: LSTM 5.872 %, LMU 4.873 %, hybrid 4.473 %; predicting zero 100 %, copying the input {copy:F1} %); {layers} × LMU({units}, d=4, θ=4) + Dense(1), {model.ParameterCount:N0} params, {trainSeries} train / {half - trainSeries} validation / {half} test series × {steps} steps, {history.Count} epochs, {seconds:F1} s on {device.Selection}");
            var details = new Dictionary<string, double>
            {
                ["nrmse"] = nrmse, ["copy_nrmse"] = copy, ["parameters"] = model.ParameterCount, ["seconds"] = seconds,
                ["sequences_per_second"] = Throughput(history, trainSeries, options),
            };
            Finish(history, s, "mackey-glass");
            return new TaskReport("mackey-glass", history, "NRMSE %", nrmse, 100, summary, details);
        }
        finally
        {
            model.Dispose();
        }
    }

    /// <summary>Permuted sequential (Fashion-)MNIST: 784 pixels one per step in a fixed random permutation, classified
    /// at the last step; reports test accuracy. Models: <c>paper</c> (LMU cell n = 212, d = 256, θ = 784, e_x = 1,
    /// other encoders and W_x, W_h zero, W_m Glorot-normal; Dense(10); Adam, batch 100) or <c>feedforward</c>
    /// (Chilkuri &amp; Eliasmith's parallel LMU: feedforward LMU, d = 468, θ = 784, 346 ReLU units fed by the memory
    /// and the pixel; Dense(10); 166,091 parameters; the memory's last state is the impulse-response product).</summary>
    /// <param name="s">Settings.</param>
    /// <param name="log">Where to print.</param>
    /// <returns>The report.</returns>
    public static TaskReport Psmnist(TrainSettings s, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(log);
        if (s.Patience > 0)
        {
            throw new ArgumentException("--patience: the psmnist task holds out no validation set (it reports the test accuracy at the end).");
        }

        string dir = s.DataDirectory ?? FindFashionMnist();
        var (trainX, trainY, rows, cols) = LoadIdxPair(dir, "train");
        var (testX, testY, _, _) = LoadIdxPair(dir, "t10k");
        int pixels = rows * cols;
        int trainCount = Limit(trainY.Length, s.TrainLimit > 0 ? s.TrainLimit : s.Quick ? 1000 : 0);
        int testCount = Limit(testY.Length, s.TestLimit > 0 ? s.TestLimit : s.Quick ? 500 : 0);
        var permutation = Enumerable.Range(0, pixels).ToArray();
        new Random(50).Shuffle(permutation);
        SequenceDataset Make(byte[] images, byte[] labels, int count)
        {
            var x = new float[(long)count * pixels];
            var y = new int[count];
            for (int n = 0; n < count; n++)
            {
                for (int t = 0; t < pixels; t++)
                {
                    x[((long)n * pixels) + t] = images[((long)n * pixels) + permutation[t]] / 255f;
                }

                y[n] = labels[n];
            }

            int classes = Math.Max(10, y.Max() + 1);
            return SequenceDataset.ForClassification(x, y, count, pixels, 1, classes);
        }

        var train = Make(trainX, trainY, trainCount);
        var test = Make(testX, testY, testCount);
        int classes = Math.Max(train.Classes, test.Classes);
        if (train.Classes != test.Classes)
        {
            throw new InvalidDataException($"The training labels have {train.Classes} classes but the test labels {test.Classes}.");
        }

        bool feedforward = s.Model.Equals("feedforward", StringComparison.OrdinalIgnoreCase);
        if (!feedforward && !s.Model.Equals("paper", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"--model: unknown '{s.Model}'; use paper or feedforward.");
        }

        int units = s.Quick ? 32 : feedforward ? 346 : 212;
        int order = s.Quick ? 32 : feedforward ? 468 : 256;
        using var device = LmuDevice.Open(s.Accelerator);
        using var model = new LmuModel(device, 1, returnSequences: false, seed: s.Seed);
        var cell = new LmuCellOptions { InputSize = 1, Units = units, Order = order, Theta = pixels };
        if (feedforward)
        {
            model.AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 1, Units = units, Order = order, Theta = pixels });
        }
        else
        {
            model.AddLmu(cell);
        }

        model.AddDense(classes);
        if (!feedforward)
        {
            // The paper's task-specific initialisation: e_x = 1, e_h = e_m = 0, W_x = W_h = 0, W_m Glorot-normal.
            var w = new LmuCellWeights(cell);
            Array.Fill(w.InputEncoders, 1f);
            var seeded = LmuCellWeights.CreateRandom(w.Options, s.Seed);
            seeded.MemoryKernel.CopyTo(w.MemoryKernel, 0);
            model.SetCellWeights(0, w);
        }

        var options = Options(s, epochs: s.Quick ? 2 : 10, batch: 100, lr: 1e-3, lossFrom: 0);
        var clock = Stopwatch.StartNew();
        var history = Fit(model, train, options, s, log, null);
        double seconds = clock.Elapsed.TotalSeconds;
        var eval = model.Evaluate(test, 100, cancellationToken: s.Cancellation);
        int majority = test.Labels!.GroupBy(l => l).Max(g => g.Count());
        double chance = 100.0 * majority / testCount;
        string summary = string.Create(Inv,
            $"psmnist: test accuracy {100 * eval.Accuracy:F2} % (loss {eval.Loss:F4}) vs {chance:F1} % for the majority class; model {(feedforward ? "feedforward" : "paper")} ({units} units, d = {order}, θ = {pixels}), {model.ParameterCount:N0} params, {trainCount} train / {testCount} test from '{dir}', {history.Count} epochs, {seconds:F1} s on {device.Selection}");
        var details = new Dictionary<string, double>
        {
            ["accuracy"] = 100 * eval.Accuracy, ["loss"] = eval.Loss, ["parameters"] = model.ParameterCount, ["seconds"] = seconds,
            ["sequences_per_second"] = Throughput(history, trainCount, options),
        };
        Finish(history, s, "psmnist");
        return new TaskReport("psmnist", history, "accuracy %", 100 * eval.Accuracy, chance, summary, details);
    }

    private static FitOptions Options(TrainSettings s, int epochs, int batch, double lr, int lossFrom) => new()
    {
        Epochs = s.Epochs ?? epochs,
        BatchSize = s.BatchSize ?? batch,
        LearningRate = s.LearningRate ?? lr,
        ClipNorm = s.ClipNorm,
        EarlyStoppingPatience = s.Patience,
        Seed = s.Seed,
        LossFromStep = lossFrom,
        CheckpointPath = s.SavePath,
        TruncatedSteps = s.TruncatedSteps,
    };

    private static IReadOnlyList<EpochResult> Fit(LmuModel model, SequenceDataset train, FitOptions options, TrainSettings s, TextWriter log, SequenceDataset? validation)
    {
        log.WriteLine(model.Summary());
        if (s.ResumePath is { } path)
        {
            Resume(model, path, log);
        }

        using var progress = new ProgressLine(s.Progress);
        TrainingProgress? last = null;
        IReadOnlyList<EpochResult> history;
        try
        {
            history = model.Fit(train, options with { Progress = p => { last = p; progress.Report(p); } }, validation, s.Cancellation);
        }
        catch (OperationCanceledException) when (s.Cancellation.IsCancellationRequested)
        {
            progress.Done();
            throw new TrainingStoppedException(StoppedMessage(last, options.CheckpointPath));
        }

        progress.Done();
        foreach (var e in history)
        {
            log.WriteLine(string.Create(Inv, $"epoch {e.Epoch}: loss {e.TrainLoss:G5}{(double.IsNaN(e.TrainAccuracy) ? string.Empty : $", accuracy {100 * e.TrainAccuracy:F2} %")}{(double.IsNaN(e.ValidationLoss) ? string.Empty : $", validation loss {e.ValidationLoss:G5}")}, {e.Seconds:F1} s"));
        }

        return history;
    }

    /// <summary>Where a stopped run stands: the last mini-batch done, and what the checkpoint file holds.</summary>
    private static string StoppedMessage(TrainingProgress? last, string? checkpoint)
    {
        string where = last is { } p
            ? string.Create(Inv, $"training stopped in epoch {p.Epoch} of {p.Epochs} after mini-batch {p.Batch} of {p.Batches} (loss {p.Loss:G5})")
            : "training stopped before its first mini-batch";
        string saved = checkpoint is null
            ? "nothing was saved (no --save)"
            : File.Exists(checkpoint)
                ? $"'{checkpoint}' holds the weights of the last epoch it saved; --resume '{checkpoint}' continues from them"
                : $"no epoch had finished, so '{checkpoint}' was not written";
        return $"{where}; {saved}.";
    }

    /// <summary>Continues from the weights and optimiser state saved in <paramref name="path"/> (a checkpoint of
    /// <c>--save</c>; a weights-only file restarts the optimiser), which must hold the same architecture.</summary>
    /// <exception cref="InvalidDataException">The file holds a different model.</exception>
    private static void Resume(LmuModel model, string path, TextWriter log)
    {
        using var saved = LmuModel.Load(model.Device, path);
        if (saved.Summary() != model.Summary())
        {
            throw new InvalidDataException($"--resume: '{path}' holds a different model:{Environment.NewLine}{saved.Summary()}");
        }

        model.ContinueFrom(saved);
        log.WriteLine(model.OptimizerSteps > 0
            ? $"resumed from the weights and optimiser state in '{path}' ({model.OptimizerSteps:N0} Adam steps so far)"
            : $"resumed from the weights in '{path}' (it holds no optimiser state: the optimiser starts afresh)");
    }

    private static double Throughput(IReadOnlyList<EpochResult> history, int count, FitOptions options) =>
        history.Count == 0 ? 0 : count * history.Count / Math.Max(1e-9, history.Sum(h => h.Seconds));

    private static void Finish(IReadOnlyList<EpochResult> history, TrainSettings s, string task)
    {
        if (s.PlotPath is not null)
        {
            LearningCurve.Save(s.PlotPath, history, task);
        }
    }

    private static double Nrmse(float[] predicted, float[] target)
    {
        double err = 0;
        double power = 0;
        for (int i = 0; i < target.Length; i++)
        {
            err += (predicted[i] - target[i]) * (double)(predicted[i] - target[i]);
            power += target[i] * (double)target[i];
        }

        return Math.Sqrt(err / power);
    }

    private static int Limit(int available, int limit) => limit > 0 ? Math.Min(available, limit) : available;

    private static (byte[] Images, byte[] Labels, int Rows, int Cols) LoadIdxPair(string dir, string prefix)
    {
        if (!Directory.Exists(dir))
        {
            throw new DirectoryNotFoundException($"The data directory '{dir}' does not exist.");
        }

        string imagesPath = TaskData.FindIdx(dir, $"{prefix}-images-idx3-ubyte", $"{prefix}-images.idx3-ubyte");
        string labelsPath = TaskData.FindIdx(dir, $"{prefix}-labels-idx1-ubyte", $"{prefix}-labels.idx1-ubyte");
        byte[] images = TaskData.ReadIdx(imagesPath, out int[] imageDims);
        byte[] labels = TaskData.ReadIdx(labelsPath, out int[] labelDims);
        if (imageDims.Length != 3 || labelDims.Length != 1 || imageDims[0] != labelDims[0])
        {
            throw new InvalidDataException($"'{imagesPath}' and '{labelsPath}' do not form an image/label pair (shapes [{string.Join(", ", imageDims)}] and [{string.Join(", ", labelDims)}]).");
        }

        int bad = Array.FindIndex(labels, l => l > 99);
        if (bad >= 0)
        {
            throw new InvalidDataException($"'{labelsPath}': label {bad} is {labels[bad]}, out of range for a classification task.");
        }

        return (images, labels, imageDims[1], imageDims[2]);
    }

    private static string FindFashionMnist()
    {
        var candidates = new List<string>();
        try
        {
            var info = new ProcessStartInfo("dpkg", "-L dataset-fashion-mnist") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var process = Process.Start(info);
            if (process is not null)
            {
                string output = process.StandardOutput.ReadToEnd();
                process.WaitForExit();
                candidates.AddRange(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Where(p => Path.GetFileName(p).StartsWith("train-images", StringComparison.Ordinal))
                    .Select(p => Path.GetDirectoryName(p)!));
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // no dpkg here
        }

        return candidates.FirstOrDefault() ?? throw new FileNotFoundException(
            "Fashion-MNIST was not found: install Debian's dataset-fashion-mnist (apt install dataset-fashion-mnist) or pass --data DIR with train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz].");
    }
}
