using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Lmu.Gpu.Cli.Io;

namespace Lmu.Gpu.Cli.Commands;

/// <summary>
/// <c>lmu capacity</c>: the LMU paper's memory-capacity experiment with LMU-0, an untrained LMU of order d = 100
/// with θ = T − 0.5 steps (θ = 1 s, dt = 1/T s), fed band-limited white noise (10 cycles per window of T steps,
/// max |u| = 1) on sequences of 2.5·T steps; its outputs are the Legendre decoders for the input delayed by
/// 0, T/4, T/2, 3T/4 and T steps, and the MSE against the true delayed input is measured on steps ≥ T. All
/// sequences run as one batch; prints one line per T and delay.
/// </summary>
internal static class CapacityCommand
{
    private static readonly double[] Fractions = [0, 0.25, 0.5, 0.75, 1];

    public static Command Create()
    {
        var steps = new Option<int[]>("--steps", "-T")
        {
            Description = "Window lengths T (default 100 1000 10000 100000).",
            AllowMultipleArgumentsPerToken = true,
            DefaultValueFactory = _ => [100, 1_000, 10_000, 100_000],
        };
        var sequences = new Option<int>("--sequences", "-N") { Description = "Test sequences (default 100).", DefaultValueFactory = _ => 100 };
        var method = new Option<string>("--method", "-m") { Description = "auto, sequential or scan (default scan).", DefaultValueFactory = _ => "scan" };
        var order = CommonOptions.Order(100);
        var accelerator = CommonOptions.Accelerator();
        var plot = new Option<string?>("--plot") { Description = "Also write a log-log plot of MSE against T to this PNG file." };
        var seed = CommonOptions.Seed();
        var command = new Command("capacity", "The paper's memory-capacity experiment (LMU-0, delays 0…T) with MSE per T and delay.");
        foreach (var option in new Option[] { steps, sequences, method, order, accelerator, plot, seed })
        {
            command.Options.Add(option);
        }

        command.SetAction(parse => CommandRunner.Guard(() =>
        {
            int[] windows = parse.GetValue(steps) ?? [];
            int count = parse.GetValue(sequences);
            int d = parse.GetValue(order);
            int firstSeed = parse.GetValue(seed);
            var sequenceMethod = SequenceMethodParser.ParseMethod(parse.GetValue(method) ?? "scan");
            string? plotPath = parse.GetValue(plot);
            if (windows.Length == 0 || windows.Any(t => t < 4 || t > 100_000_000))
            {
                throw new ArgumentException("--steps: each T must be in 4 … 100,000,000.");
            }

            if (count < 1)
            {
                throw new ArgumentException("--sequences must be ≥ 1.");
            }

            using var device = LmuDevice.Open(parse.GetValue(accelerator));
            var results = new double[windows.Length, Fractions.Length];
            for (int w = 0; w < windows.Length; w++)
            {
                int window = windows[w];
                long length = (long)window * 5 / 2;
                if (length * count * Fractions.Length > Array.MaxLength)
                {
                    throw new ArgumentException($"T = {window} with {count} sequences needs {length * count * Fractions.Length:N0} outputs, more than one array; use fewer --sequences.");
                }

                int seqLength = (int)length;
                var input = new float[(long)count * seqLength];
                Parallel.For(0, count, n =>
                    WhiteNoise.BandLimited(seqLength, 10, window, unchecked(firstSeed * 1_000_003 + n)).CopyTo(input, (long)n * seqLength));
                var system = LmuSystem.Create(d, window - 0.5);
                using var memory = new LinearMemory(device, system, count);
                long start = Stopwatch.GetTimestamp();
                float[] decoded = memory.RunDecoded(input, seqLength, Fractions, sequenceMethod);
                double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                for (int q = 0; q < Fractions.Length; q++)
                {
                    int delay = (int)Math.Round(Fractions[q] * window);
                    double sum = 0;
                    for (int n = 0; n < count; n++)
                    {
                        long row = (long)n * seqLength;
                        for (int t = window; t < seqLength; t++)
                        {
                            double e = decoded[(row + t) * Fractions.Length + q] - input[row + t - delay];
                            sum += e * e;
                        }
                    }

                    double mse = sum / ((double)count * (seqLength - window));
                    results[w, q] = mse;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"T={window} delay={Fractions[q]:0.##}T delay_steps={delay} d={d} sequences={count} mse={mse:E3} method={memory.ResolveMethod(sequenceMethod, seqLength).ToName()} accelerator={device.Selection} run_s={seconds:F3}"));
                }
            }

            if (plotPath is not null)
            {
                WritePlot(plotPath, windows, results);
            }

            return 0;
        }));
        return command;
    }

    private static void WritePlot(string path, int[] windows, double[,] results)
    {
        var plot = PlotFont.NewPlot();
        double[] xs = windows.Select(t => Math.Log10(t)).ToArray();
        for (int q = 0; q < Fractions.Length; q++)
        {
            double[] ys = Enumerable.Range(0, windows.Length).Select(w => Math.Log10(results[w, q])).ToArray();
            var line = plot.Add.Scatter(xs, ys);
            line.LegendText = string.Create(CultureInfo.InvariantCulture, $"delay {Fractions[q]:0.##}·T");
        }

        plot.Title("LMU-0 memory capacity (d = 100, θ = T − 0.5, 10 Hz white noise)");
        plot.XLabel("log10 T (steps per window)");
        plot.YLabel("log10 test MSE");
        plot.ShowLegend();
        AtomicFile.WriteFile(path, temporary => plot.SavePng(temporary, 800, 500));
    }
}
