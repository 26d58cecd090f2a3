using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Lmu.Gpu.Cli.Io;

namespace Lmu.Gpu.Cli.Commands;

/// <summary><c>lmu delay</c>: the delay demo. Band-limited white noise goes through the memory; the decoded
/// u(t − θ) is compared with the true delayed input.</summary>
internal static class DelayCommand
{
    public static Command Create()
    {
        var order = CommonOptions.Order();
        var theta = CommonOptions.Theta();
        var steps = new Option<int>("--steps", "-T") { Description = "Number of steps T (must exceed θ).", Required = true };
        var seed = CommonOptions.Seed();
        var cutoff = new Option<double>("--cutoff")
        {
            Description = "Noise band limit in cycles per θ.",
            DefaultValueFactory = _ => 1.0,
        };
        var plot = new Option<string?>("--plot") { Description = "Write a PNG of the input, the decoded u(t − θ) and the true delayed input." };
        var accelerator = CommonOptions.Accelerator();
        var command = new Command("delay",
            "Delay demo: band-limited white noise through the memory; prints the NRMSE of the decoded u(t − θ) " +
            "against the true delayed input (over steps ≥ θ) and the time taken.");
        command.Options.Add(order);
        command.Options.Add(theta);
        command.Options.Add(steps);
        command.Options.Add(seed);
        command.Options.Add(cutoff);
        command.Options.Add(plot);
        command.Options.Add(accelerator);
        command.SetAction(parse => CommandRunner.Guard(() =>
        {
            var options = new DelayDemo.Options(parse.GetValue(order), parse.GetValue(theta), parse.GetValue(steps),
                parse.GetValue(seed), parse.GetValue(cutoff));
            options.Validate();
            string? plotPath = parse.GetValue(plot);
            if (plotPath is not null)
            {
                PlotWriter.CheckTarget(plotPath);
            }

            var total = Stopwatch.StartNew();
            using var device = LmuDevice.Open(parse.GetValue(accelerator));
            var result = DelayDemo.Run(device, options);
            var o = Console.Out;
            var ci = CultureInfo.InvariantCulture;
            o.WriteLine(string.Create(ci,
                $"lmu delay: order {options.Order}, θ = {options.Theta:G6} steps, {options.Steps} steps, noise band-limited to {options.Cutoff:G4} cycle(s) per θ (seed {options.Seed})"));
            o.WriteLine($"accelerator: {device}");
            o.WriteLine(string.Create(ci,
                $"NRMSE of decoded u(t − θ): {result.Nrmse:F5}  (over steps {result.FirstScored} … {options.Steps - 1}; system built with θ' = θ + 0.5 for the ZOH half-step)"));
            o.WriteLine(string.Create(ci, $"  (without the half-step correction, θ' = θ: NRMSE {result.UncorrectedNrmse:F5})"));
            if (plotPath is not null)
            {
                PlotWriter.Write(plotPath, result, options);
                o.WriteLine($"plot: {plotPath}");
            }

            o.WriteLine(string.Create(ci,
                $"time: memory run {result.RunSeconds:F3} s, total {total.Elapsed.TotalSeconds:F3} s"));
            return 0;
        }));
        return command;
    }
}
