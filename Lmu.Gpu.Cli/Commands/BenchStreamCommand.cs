using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Lmu.Gpu.Training;

namespace Lmu.Gpu.Cli.Commands;

/// <summary><c>lmu bench stream</c>: times streaming inference (<see cref="LmuModelStream"/>) of one of the paper's
/// model shapes, B sequences fed P steps per call, and prints one line
/// <c>model=… accelerator=… B=… piece=… median_s=… steps_per_s=…</c> (steps_per_s counts sequence steps, B·P per
/// call).</summary>
/// <remarks>Untimed calls come first, for three seconds by default (kernel compilation, the transposes the host keeps, and
/// the JIT's tiers: measured on the host, a step of the Mackey-Glass model took 466 µs after 200 calls, and 20–38 µs
/// once the JIT had finished). The state carries on from call to call, as in a real stream.</remarks>
internal static class BenchStreamCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = $"The model: {string.Join(", ", BenchmarkModels.Names)} (default mackey-glass).", DefaultValueFactory = _ => "mackey-glass" };
        var batch = new Option<int>("--batch", "-B") { Description = "Sequences fed side by side B (default 1).", DefaultValueFactory = _ => 1 };
        var piece = new Option<int>("--piece", "-P") { Description = "Steps per call P (default 1: one step at a time).", DefaultValueFactory = _ => 1 };
        var warmup = new Option<double>("--warmup") { Description = "Seconds of untimed calls first (default 3; at least three calls).", DefaultValueFactory = _ => 3 };
        var accelerator = CommonOptions.Accelerator();
        var repeat = new Option<int>("--repeat", "-n") { Description = "Timed calls; the median is printed (default 1001).", DefaultValueFactory = _ => 1001 };
        var command = new Command("stream", "Times streaming inference of a paper-sized LMU model, P steps per call.");
        foreach (var option in new Option[] { model, batch, piece, accelerator, repeat, warmup })
        {
            command.Options.Add(option);
        }

        command.SetAction(parse => CommandRunner.Guard(() =>
        {
            string name = parse.GetValue(model) ?? "mackey-glass";
            int b = parse.GetValue(batch);
            int p = parse.GetValue(piece);
            int repeats = parse.GetValue(repeat);
            double warmSeconds = parse.GetValue(warmup);
            if (b < 1 || p < 1 || repeats < 1 || !(warmSeconds >= 0))
            {
                throw new ArgumentException("--batch, --piece and --repeat must be ≥ 1, and --warmup ≥ 0.");
            }

            if (Array.IndexOf(BenchmarkModels.Names, name) < 0)
            {
                throw new ArgumentException($"--model: unknown model '{name}'; expected {string.Join(", ", BenchmarkModels.Names)}.");
            }

            using var device = LmuDevice.Open(parse.GetValue(accelerator));
            using var lmu = BenchmarkModels.Create(name, device);
            using var stream = lmu.OpenStream(b);
            var rng = new Random(1);
            var inputs = new float[(long)b * p * lmu.InputSize];
            for (int i = 0; i < inputs.Length; i++)
            {
                inputs[i] = (float)((rng.NextDouble() * 2) - 1);
            }

            var outputs = new float[stream.OutputLength(p)];
            long warmStart = Stopwatch.GetTimestamp();
            for (int w = 0; w < 3 || Stopwatch.GetElapsedTime(warmStart).TotalSeconds < warmSeconds; w++)
            {
                stream.Run(inputs, p, outputs);
            }

            var times = new double[repeats];
            for (int r = 0; r < repeats; r++)
            {
                long start = Stopwatch.GetTimestamp();
                stream.Run(inputs, p, outputs);
                times[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            }

            double median = Timings.Median(times);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"model={name} accelerator={device.Selection} B={b} piece={p} median_s={median:G4} steps_per_s={b * (double)p / median:G4}"));
            return 0;
        }));
        return command;
    }
}
