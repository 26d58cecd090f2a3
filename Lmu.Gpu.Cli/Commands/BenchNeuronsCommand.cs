using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Lmu.Spiking;

namespace Lmu.Gpu.Cli.Commands;

/// <summary><c>lmu bench neurons</c>: times N independent Poisson or LIF neurons and prints one result line.</summary>
internal static class BenchNeuronsCommand
{
    public static Command Create()
    {
        var type = new Option<string>("--type")
        {
            Description = "poisson (fixed rate), poisson-levels (per-neuron rates from 256 levels spread over 0 … 2·rate, mean rate) or lif (constant current).",
            Required = true,
        };
        var neurons = new Option<long>("--neurons", "-n") { Description = "Number of neurons.", Required = true };
        var steps = new Option<int>("--steps") { Description = "Time steps per timed run (dt = 1 ms).", Required = true };
        var rate = new Option<double>("--rate") { Description = "Poisson rate, or the LIF rate the constant current is set for (Hz, default 20).", DefaultValueFactory = _ => 20.0 };
        var reps = new Option<int>("--reps") { Description = "Timed runs; the median is reported (default 5).", DefaultValueFactory = _ => 5 };
        var seed = CommonOptions.Seed();
        var accelerator = CommonOptions.Accelerator();
        var command = new Command("neurons", "Simulates N independent neurons (Poisson at a fixed rate or LIF at a constant current, dt = 1 ms) " +
                                             "and prints type=… accelerator=… neurons=… steps=… median_s=… neuron_updates_per_s=… spikes=….");
        foreach (var option in new Option[] { type, neurons, steps, rate, reps, seed, accelerator })
        {
            command.Options.Add(option);
        }

        command.SetAction(parse => CommandRunner.Guard(() =>
        {
            string kind = parse.GetValue(type)?.Trim().ToUpperInvariant() switch
            {
                "POISSON" => "poisson",
                "POISSON-LEVELS" => "poisson-levels",
                "LIF" => "lif",
                var other => throw new ArgumentException($"--type: unknown '{other}'; use poisson, poisson-levels or lif."),
            };
            long n = parse.GetValue(neurons);
            int t = parse.GetValue(steps);
            double hz = parse.GetValue(rate);
            int r = parse.GetValue(reps);
            ulong s = (ulong)parse.GetValue(seed);
            if (n < 1)
            {
                throw new ArgumentException("--neurons must be ≥ 1.");
            }

            if (t < 1)
            {
                throw new ArgumentException("--steps must be ≥ 1.");
            }

            if (r < 1 || r > 1000)
            {
                throw new ArgumentException("--reps must be in 1 … 1000.");
            }

            if (!(hz > 0) || double.IsInfinity(hz))
            {
                throw new ArgumentException("--rate must be a finite number of Hz > 0.");
            }

            var model = new LifModel();
            double current = kind == "lif" ? model.CurrentForRate(hz) : 0;
            using var device = LmuDevice.Open(parse.GetValue(accelerator));
            var times = new List<double>();
            long spikes = -1;
            for (int rep = -1; rep < r; rep++)
            {
                int runSteps = rep < 0 ? Math.Min(t, 2) : t;
                double seconds;
                long total;
                using (NeuronPopulation population = kind switch
                {
                    "poisson" => PoissonPopulation.Create(device, n, hz, model.Dt, s),
                    "poisson-levels" => PoissonLevelPopulation.Create(device, LevelRates(hz),
                        [.. Enumerable.Range(0, checked((int)n)).Select(i => (ushort)(i % Levels))], model.Dt, s),
                    _ => LifPopulation.Create(device, n, current, model, s),
                })
                {
                    population.Synchronize();
                    var watch = Stopwatch.StartNew();
                    population.Run(runSteps);
                    population.Synchronize();
                    seconds = watch.Elapsed.TotalSeconds;
                    total = population.TotalSpikes();
                }

                if (rep >= 0)
                {
                    times.Add(seconds);
                    if (spikes >= 0 && spikes != total)
                    {
                        throw new InvalidOperationException($"Repetition {rep} gave {total} spikes, not {spikes}: the simulation is not deterministic.");
                    }

                    spikes = total;
                }
            }

            double median = Timings.Median(times);
            var c = CultureInfo.InvariantCulture;
            Console.Out.WriteLine(string.Create(c,
                $"type={kind} accelerator={device.Selection} neurons={n} steps={t} median_s={median:G6} neuron_updates_per_s={n * (double)t / median:G4} spikes={spikes}"));
            return 0;
        }));
        return command;
    }

    /// <summary>Rate levels of <c>poisson-levels</c>.</summary>
    private const int Levels = 256;

    /// <summary>256 rates evenly over 0 … 2·<paramref name="mean"/> (their mean is <paramref name="mean"/>).</summary>
    private static double[] LevelRates(double mean) => [.. Enumerable.Range(0, Levels).Select(l => 2 * mean * l / (Levels - 1))];
}
