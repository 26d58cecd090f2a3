using System.CommandLine;
using Lmu.Gpu.Cli.Training;

namespace Lmu.Gpu.Cli.Commands;

/// <summary><c>lmu train capacity|mackey-glass|psmnist</c>: trains an LMU model on one of the paper's tasks with a
/// live progress line, prints a final summary line, optionally saves the weights and plots the learning curve.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var command = new Command("train", "Trains an LMU model on one of the paper's tasks (capacity, mackey-glass, psmnist) and prints a summary line.");
        command.Subcommands.Add(Task("capacity", "Delay task: reproduce band-limited white noise delayed by 0…θ steps; reports test NRMSE per delay.", TrainTasks.Capacity, window: true));
        command.Subcommands.Add(Task("mackey-glass", "Mackey-Glass (τ = 17) 15-step-ahead prediction with a 4-layer ≈18k-parameter LMU; reports test NRMSE beside the paper's.", TrainTasks.MackeyGlass));
        command.Subcommands.Add(Task("psmnist", "Permuted sequential Fashion-MNIST (784 pixels one per step); reports test accuracy.", TrainTasks.Psmnist, psmnist: true));
        return command;
    }

    private static Command Task(string name, string description, Func<TrainSettings, TextWriter, TaskReport> run, bool window = false, bool psmnist = false)
    {
        var accelerator = CommonOptions.Accelerator();
        var seed = CommonOptions.Seed();
        var quick = new Option<bool>("--quick") { Description = "CI-sized run: small model and data, a few epochs." };
        var epochs = new Option<int?>("--epochs") { Description = "Epochs (default: the task's)." };
        var batch = new Option<int?>("--batch-size") { Description = "Sequences per mini-batch (default: the task's)." };
        var lr = new Option<double?>("--lr") { Description = "Learning rate (default: the task's; Adam)." };
        var clip = new Option<double>("--clip-norm") { Description = "Clip the gradient's global norm to this value (default 0: off).", DefaultValueFactory = _ => 0 };
        var patience = new Option<int>("--patience") { Description = "Stop once the validation loss has not improved for this many epochs (default 0: never; capacity and mackey-glass hold out a validation set, psmnist does not).", DefaultValueFactory = _ => 0 };
        var save = new Option<string?>("--save") { Description = "Save the weights here after every good epoch (documented format). Ctrl+C or SIGTERM stops after the current mini-batch (exit code 130) and leaves this file at the last epoch it saved." };
        var resume = new Option<string?>("--resume") { Description = "Start from the weights in this model file (saved by --save from the same task and model); the optimiser state starts afresh." };
        var plot = new Option<string?>("--plot") { Description = "Write the learning curve to this PNG file." };
        var noProgress = new Option<bool>("--no-progress") { Description = "Do not show the live progress line." };
        var data = new Option<string?>("--data") { Description = "Directory with the IDX files (default: Debian's dataset-fashion-mnist)." };
        var model = new Option<string>("--model") { Description = "paper (LMU cell, n = 212, d = 256, θ = 784; 102,027 parameters) or feedforward (Chilkuri & Eliasmith: feedforward LMU, 346 units, d = 468, θ = 784; 166,091 parameters).", DefaultValueFactory = _ => "paper" };
        var trainLimit = new Option<int>("--train-limit") { Description = "Use at most this many training images (0: all).", DefaultValueFactory = _ => 0 };
        var testLimit = new Option<int>("--test-limit") { Description = "Use at most this many test images (0: all).", DefaultValueFactory = _ => 0 };
        var windowOption = new Option<int?>("--window") { Description = "Steps per window θ (T); sequences are 2.5·T long." };
        var command = new Command(name, description);
        foreach (var option in new Option[] { accelerator, seed, quick, epochs, batch, lr, clip, patience, save, resume, plot, noProgress })
        {
            command.Options.Add(option);
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
                Quick = parse.GetValue(quick),
                Epochs = parse.GetValue(epochs),
                BatchSize = parse.GetValue(batch),
                LearningRate = parse.GetValue(lr),
                ClipNorm = parse.GetValue(clip),
                Patience = parse.GetValue(patience),
                SavePath = parse.GetValue(save),
                ResumePath = parse.GetValue(resume),
                PlotPath = parse.GetValue(plot),
                Progress = !parse.GetValue(noProgress),
                DataDirectory = psmnist ? parse.GetValue(data) : null,
                Model = psmnist ? parse.GetValue(model) ?? "paper" : "paper",
                TrainLimit = psmnist ? parse.GetValue(trainLimit) : 0,
                TestLimit = psmnist ? parse.GetValue(testLimit) : 0,
                Window = window ? parse.GetValue(windowOption) : null,
                Cancellation = stop.Token,
            };
            if (settings.Epochs is < 1 || settings.BatchSize is < 1 || settings.LearningRate is <= 0 || settings.ClipNorm < 0 || settings.Patience < 0)
            {
                throw new ArgumentException("--epochs and --batch-size must be ≥ 1, --lr > 0, --clip-norm ≥ 0 and --patience ≥ 0.");
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
