using System.CommandLine;
using Lmu.Gpu.Cli.Training;

namespace Lmu.Gpu.Cli.Commands;

/// <summary><c>lmu train capacity|mackey-glass|psmnist</c>: trains an LMU model on one of the paper's tasks with a
/// live progress line, prints a final summary line, optionally saves the weights and plots the learning curve.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var command = new Command("train", "Trains an LMU model on one of the paper's tasks (capacity, mackey-glass, psmnist) or on your own data (npz) and prints a summary line.");
        command.Subcommands.Add(Task("capacity", "Delay task: reproduce band-limited white noise delayed by 0…θ steps; reports test NRMSE per delay.", TrainTasks.Capacity, window: true));
        command.Subcommands.Add(Task("mackey-glass", "Mackey-Glass (τ = 17) 15-step-ahead prediction with a 4-layer ≈18k-parameter LMU; reports test NRMSE beside the paper's.", TrainTasks.MackeyGlass));
        command.Subcommands.Add(Task("psmnist", "Permuted sequential Fashion-MNIST (784 pixels one per step); reports test accuracy.", TrainTasks.Psmnist, psmnist: true));
        command.Subcommands.Add(Task("npz", "Your own data: trains the layers you give (--layer) on sequences from a numpy .npz (x [N, T, n_x]; y [N, T, O] per step, y [N, O] per sequence, or labels [N]; optional lengths [N]); reports accuracy or NRMSE on --test.", TrainTasks.Npz, npz: true));
        return command;
    }

    private static Command Task(string name, string description, Func<TrainSettings, TextWriter, TaskReport> run, bool window = false, bool psmnist = false, bool npz = false)
    {
        var accelerator = CommonOptions.Accelerator();
        var seed = CommonOptions.Seed();
        var quick = new Option<bool>("--quick") { Description = "CI-sized run: small model and data, a few epochs." };
        var epochs = new Option<int?>("--epochs") { Description = "Epochs (default: the task's)." };
        var batch = new Option<int?>("--batch-size") { Description = "Sequences per mini-batch (default: the task's)." };
        var lr = new Option<double?>("--lr") { Description = "Learning rate (default: the task's; Adam)." };
        var clip = new Option<double>("--clip-norm") { Description = "Clip the gradient's global norm to this value (default 0: off).", DefaultValueFactory = _ => 0 };
        var patience = new Option<int>("--patience") { Description = "Stop once the validation loss has not improved for this many epochs (default 0: never; capacity and mackey-glass hold out a validation set, npz with --validation-split, psmnist none).", DefaultValueFactory = _ => 0 };
        var save = new Option<string?>("--save") { Description = "Save a checkpoint here (the weights and the optimiser state, documented format) after every good epoch. Ctrl+C or SIGTERM stops after the current mini-batch (exit code 130) and leaves this file at the last epoch it saved." };
        var resume = new Option<string?>("--resume") { Description = "Continue from this checkpoint (saved by --save from the same task and model): its weights and optimiser state (Adam moments and step count), so training goes on as if it had not stopped; a weights-only file restarts the optimiser." };
        var truncate = new Option<int>("--truncate") { Description = "Truncated backpropagation through time: run each mini-batch in windows of this many steps, each from the states the one before left and with its own optimiser step; memory for one window instead of the whole sequence (default 0: whole sequences; per-step targets only).", DefaultValueFactory = _ => 0 };
        var plot = new Option<string?>("--plot") { Description = "Write the learning curve to this PNG file." };
        var noProgress = new Option<bool>("--no-progress") { Description = "Do not show the live progress line." };
        var data = new Option<string?>("--data") { Description = "Directory with the IDX files (default: Debian's dataset-fashion-mnist)." };
        var model = new Option<string>("--model") { Description = "paper (LMU cell, n = 212, d = 256, θ = 784; 102,027 parameters) or feedforward (Chilkuri & Eliasmith: feedforward LMU, 346 units, d = 468, θ = 784; 166,091 parameters).", DefaultValueFactory = _ => "paper" };
        var trainLimit = new Option<int>("--train-limit") { Description = "Use at most this many training images (0: all).", DefaultValueFactory = _ => 0 };
        var testLimit = new Option<int>("--test-limit") { Description = "Use at most this many test images (0: all).", DefaultValueFactory = _ => 0 };
        var windowOption = new Option<int?>("--window") { Description = "Steps per window θ (T); sequences are 2.5·T long." };
        var npzData = new Option<string>("--data") { Description = "The training data: a numpy .npz with x [N, T, n_x] (or [N, T]), and y [N, T, O] (targets at every step), y [N, O] (one per sequence) or labels [N] (classes); optionally lengths [N] (real steps of sequences padded at the end). Float or integer arrays.", Required = true };
        var npzTest = new Option<string?>("--test") { Description = "Test data (.npz, the same array names); the summary reports on it (else on the validation sequences, else on the training ones)." };
        var layers = new Option<string[]>("--layer") { Description = "A layer, in order, repeated: KIND[:KEY=VALUE,...]. Kinds: lmu (cell), ff (feedforward LMU), bi-lmu, bi-ff (bidirectional pairs), dense (dense:UNITS or units=,activation=), dropout (dropout:RATE). LMU keys: units, order (default 64 each), theta (default T), channels, activation, discretizer (zoh|euler), dt, trainable-theta, memory-bias, hidden-bias, input-to-hidden; cells also hidden-to-memory, memory-to-memory, hidden-to-hidden; bi- pairs also merge (concat, sum, ave). A dense head of the targets' width is added unless the last layer is one. Default: lmu:units=64,order=64." };
        var validationSplit = new Option<double>("--validation-split") { Description = "Hold out this fraction of the training sequences (the last ones, as Keras does) for validation; the weights of the best validation epoch are kept (default 0).", DefaultValueFactory = _ => 0 };
        var lossFrom = new Option<int>("--loss-from") { Description = "Per-step targets count from this step on (default 0).", DefaultValueFactory = _ => 0 };
        var bucket = new Option<bool>("--bucket-by-length") { Description = "Batch sequences of similar length together (with lengths): faster epochs." };
        var command = new Command(name, description);
        foreach (var option in new Option[] { accelerator, seed, epochs, batch, lr, clip, patience, truncate, save, resume, plot, noProgress })
        {
            command.Options.Add(option);
        }

        if (npz)
        {
            foreach (var option in new Option[] { npzData, npzTest, layers, validationSplit, lossFrom, bucket })
            {
                command.Options.Add(option);
            }
        }
        else
        {
            command.Options.Add(quick);
        }

        if (psmnist)
        {
            command.Options.Add(data);
            command.Options.Add(model);
            command.Options.Add(trainLimit);
            command.Options.Add(testLimit);
        }

        if (window)
        {
            command.Options.Add(windowOption);
        }

        command.SetAction(parse => CommandRunner.Guard(() =>
        {
            using var stop = new StopSignal();
            var settings = new TrainSettings
            {
                Accelerator = parse.GetValue(accelerator),
                Seed = parse.GetValue(seed),
                Quick = !npz && parse.GetValue(quick),
                Epochs = parse.GetValue(epochs),
                BatchSize = parse.GetValue(batch),
                LearningRate = parse.GetValue(lr),
                ClipNorm = parse.GetValue(clip),
                Patience = parse.GetValue(patience),
                TruncatedSteps = parse.GetValue(truncate),
                SavePath = parse.GetValue(save),
                ResumePath = parse.GetValue(resume),
                PlotPath = parse.GetValue(plot),
                Progress = !parse.GetValue(noProgress),
                DataDirectory = psmnist ? parse.GetValue(data) : null,
                Model = psmnist ? parse.GetValue(model) ?? "paper" : "paper",
                TrainLimit = psmnist ? parse.GetValue(trainLimit) : 0,
                TestLimit = psmnist ? parse.GetValue(testLimit) : 0,
                Window = window ? parse.GetValue(windowOption) : null,
                DataPath = npz ? parse.GetValue(npzData) : null,
                TestPath = npz ? parse.GetValue(npzTest) : null,
                Layers = npz ? parse.GetValue(layers) ?? [] : [],
                ValidationSplit = npz ? parse.GetValue(validationSplit) : 0,
                LossFromStep = npz ? parse.GetValue(lossFrom) : 0,
                BucketByLength = npz && parse.GetValue(bucket),
                Cancellation = stop.Token,
            };
            if (settings.Epochs is < 1 || settings.BatchSize is < 1 || settings.LearningRate is <= 0 || settings.ClipNorm < 0 || settings.Patience < 0 || settings.TruncatedSteps < 0)
            {
                throw new ArgumentException("--epochs and --batch-size must be ≥ 1, --lr > 0, --clip-norm ≥ 0, --patience ≥ 0 and --truncate ≥ 0.");
            }

            TaskReport report;
            try
            {
                report = run(settings, Console.Out);
            }
            catch (OperationCanceledException e) when (e is not TrainingStoppedException && stop.Token.IsCancellationRequested)
            {
                string saved = settings.SavePath is null ? string.Empty : $"; '{settings.SavePath}' holds the weights of the last epoch it saved";
                throw new TrainingStoppedException($"training had finished; stopped during the test evaluation{saved}.", e);
            }

            Console.WriteLine(report.Summary);
            return 0;
        }));
        return command;
    }
}
