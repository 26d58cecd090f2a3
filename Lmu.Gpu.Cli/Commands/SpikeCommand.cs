using System.CommandLine;
using System.Globalization;
using Lmu.Gpu.Cli.Io;
using Lmu.Spiking;

namespace Lmu.Gpu.Cli.Commands;

/// <summary><c>lmu spike</c>: runs the spiking LMU memory on band-limited noise and compares its decoded delay with
/// the exact (non-spiking) memory.</summary>
internal static class SpikeCommand
{
    public static Command Create()
    {
        var order = CommonOptions.Order(0);
        var theta = new Option<double>("--theta") { Description = "Window θ in seconds.", Required = true };
        var perDim = new Option<int>("--neurons-per-dim", "-n") { Description = "Neurons per dimension n (m = d·n); required without --sweep." };
        var steps = new Option<int>("--steps") { Description = "Time steps (dt = 1 ms by default).", Required = true };
        var seed = CommonOptions.Seed();
        var plot = new Option<string?>("--plot") { Description = "Writes a PNG with a spike raster and the decoded signals." };
        var dt = new Option<double>("--dt") { Description = "Time step in seconds (default 0.001).", DefaultValueFactory = _ => 0.001 };
        var tau = new Option<double>("--tau") { Description = "Synapse time constant τ in seconds (default 0.05).", DefaultValueFactory = _ => 0.05 };
        var type = new Option<string>("--type") { Description = "poisson-relu (default), poisson-lif, lif or spiking-relu (regular spiking over the ReLU rate, as Loihi runs).", DefaultValueFactory = _ => "poisson-relu" };
        var batch = new Option<int>("--batch") { Description = "Independent LMUs (default 1).", DefaultValueFactory = _ => 1 };
        var cutoff = new Option<double>("--cutoff") { Description = "Input noise cutoff in Hz (default 2).", DefaultValueFactory = _ => 2.0 };
        var mapping = new Option<string>("--mapping") { Description = "discrete (default) or continuous synapse mapping.", DefaultValueFactory = _ => "discrete" };
        var sweep = new Option<string?>("--sweep")
        {
            Description = "Error-scaling sweep: comma-separated order:neurons-per-dim pairs (e.g. 2:500,2:5000,4:2500); " +
                          "prints a markdown table and the log-log slope of the delay RMSE against m for the most frequent " +
                          "order; --order and --neurons-per-dim are then ignored, --plot draws RMSE against m.",
        };
        var csv = new Option<string?>("--csv") { Description = "With --sweep: also writes the table as CSV." };
        var repeats = new Option<int>("--repeats")
        {
            Description = "With --sweep: runs each point with seeds S … S+R−1 (input and network) and reports the RMS of the errors (default 1).",
            DefaultValueFactory = _ => 1,
        };
        var accelerator = CommonOptions.Accelerator();
        var command = new Command("spike", "Runs the spiking LMU memory (d ensembles of n Poisson or LIF neurons) on band-limited noise and prints " +
                                           "the NRMSE of its decoded delay against the exact memory and the neuron updates per second.");
        foreach (var option in new Option[] { order, theta, perDim, steps, seed, plot, dt, tau, type, batch, cutoff, mapping, sweep, csv, repeats, accelerator })
        {
            command.Options.Add(option);
        }

        command.SetAction(parse => CommandRunner.Guard(() =>
        {
            var neuronType = parse.GetValue(type)?.Trim().ToUpperInvariant() switch
            {
                "POISSON-RELU" or "POISSON" => NeuronType.PoissonRectifiedLinear,
                "POISSON-LIF" => NeuronType.PoissonLif,
                "LIF" => NeuronType.Lif,
                "SPIKING-RELU" or "RELU" => NeuronType.SpikingRectifiedLinear,
                var other => throw new ArgumentException($"--type: unknown '{other}'; use poisson-relu, poisson-lif, lif or spiking-relu."),
            };
            var map = parse.GetValue(mapping)?.Trim().ToUpperInvariant() switch
            {
                "DISCRETE" => SynapseMapping.Discrete,
                "CONTINUOUS" => SynapseMapping.Continuous,
                var other => throw new ArgumentException($"--mapping: unknown '{other}'; use discrete or continuous."),
            };
            int t = parse.GetValue(steps);
            int b = parse.GetValue(batch);
            if (t < 1 || b < 1)
            {
                throw new ArgumentException("--steps and --batch must be ≥ 1.");
            }

            string? plotPath = parse.GetValue(plot);
            if (plotPath is not null && !plotPath.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            {
                throw new ArgumentException("--plot must name a .png file.");
            }

            ulong s = (ulong)parse.GetValue(seed);
            double step = parse.GetValue(dt);
            _ = new LowpassSynapse(parse.GetValue(tau), step); // validates τ > dt before any work
            string? sweepText = parse.GetValue(sweep);
            if (sweepText is not null)
            {
                return Sweep(sweepText, parse.GetValue(theta), t, step, parse.GetValue(tau), neuronType, map, s, parse.GetValue(cutoff),
                    parse.GetValue(accelerator), plotPath, parse.GetValue(csv), parse.GetValue(repeats));
            }

            if (parse.GetValue(order) < 1 || parse.GetValue(perDim) < 1)
            {
                throw new ArgumentException("--order and --neurons-per-dim are required (≥ 1) without --sweep.");
            }

            var system = LmuSystem.Create(parse.GetValue(order), parse.GetValue(theta), step);
            var input = BandLimitedNoise.Generate(t, b, step, parse.GetValue(cutoff), 0.5, s);
            var options = new SpikingLmuOptions
            {
                Order = system.Order,
                Theta = system.Theta,
                NeuronsPerDimension = parse.GetValue(perDim),
                Batch = b,
                Dt = step,
                Tau = parse.GetValue(tau),
                NeuronType = neuronType,
                Mapping = map,
                Seed = s,
                Radii = SpikingLmu.MeasureRadii(system, input, b),
            };
            var lmu = SpikingLmu.Create(options);
            using var device = LmuDevice.Open(parse.GetValue(accelerator));
            var result = lmu.Run(device, input, plotPath is null ? 0 : 64);
            var exact = SpikingLmu.ExactMemory(system, input, b);
            var error = SpikingLmuError.Compute(system, result.States, exact);
            var c = CultureInfo.InvariantCulture;
            Console.Out.WriteLine(string.Create(c,
                $"order={system.Order} theta={system.Theta:G4} neurons_per_dim={options.NeuronsPerDimension} neurons={lmu.Neurons} batch={b} steps={t} " +
                $"type={parse.GetValue(type)} accelerator={device.Selection} delay_rmse={error.DelayRmse:G4} delay_nrmse={error.DelayNrmse:G4} " +
                $"state_nrmse={error.StateNrmse:G4} spikes={result.TotalSpikes} seconds={result.Seconds:G4} neuron_updates_per_s={result.NeuronUpdatesPerSecond:G4}"));
            if (plotPath is not null)
            {
                WritePlot(plotPath, system, input, b, result, exact, step, options.NeuronsPerDimension);
            }

            return 0;
        }));
        return command;
    }

    private static int Sweep(string text, double theta, int steps, double dt, double tau, NeuronType type, SynapseMapping map,
        ulong seed, double cutoff, string? acceleratorName, string? plotPath, string? csvPath, int repeats)
    {
        if (repeats < 1 || repeats > 100)
        {
            throw new ArgumentException("--repeats must be in 1 … 100.");
        }

        var pairs = new List<(int Order, int PerDim)>();
        foreach (var item in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = item.Split(':');
            if (parts.Length != 2 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out int d) ||
                !int.TryParse(parts[1], CultureInfo.InvariantCulture, out int n) || d < 1 || n < 1)
            {
                throw new ArgumentException($"--sweep: '{item}' is not order:neurons-per-dim with both ≥ 1.");
            }

            pairs.Add((d, n));
        }

        if (pairs.Count == 0)
        {
            throw new ArgumentException("--sweep needs at least one order:neurons-per-dim pair.");
        }

        using var device = LmuDevice.Open(acceleratorName);
        var c = CultureInfo.InvariantCulture;
        var rows = new List<(int D, int N, long M, SpikingLmuError Error, double Seconds, double Rate)>();
        Console.Out.WriteLine("| d | n per dim | m = d·n | delay RMSE | delay NRMSE | state NRMSE | sim seconds | neuron updates/s |");
        Console.Out.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var (d, n) in pairs)
        {
            var system = LmuSystem.Create(d, theta, dt);
            double delay2 = 0, ndelay2 = 0, state2 = 0, seconds = 0, updates = 0;
            long neurons = 0;
            for (int r = 0; r < repeats; r++)
            {
                var input = BandLimitedNoise.Generate(steps, 1, dt, cutoff, 0.5, seed + (ulong)r);
                var lmu = SpikingLmu.Create(new SpikingLmuOptions
                {
                    Order = d, Theta = theta, NeuronsPerDimension = n, Dt = dt, Tau = tau, NeuronType = type, Mapping = map,
                    Seed = seed + (ulong)r, Radii = SpikingLmu.MeasureRadii(system, input, 1),
                });
                var result = lmu.Run(device, input);
                var one = SpikingLmuError.Compute(system, result.States, SpikingLmu.ExactMemory(system, input, 1));
                delay2 += one.DelayRmse * one.DelayRmse;
                ndelay2 += one.DelayNrmse * one.DelayNrmse;
                state2 += one.StateNrmse * one.StateNrmse;
                seconds += result.Seconds;
                updates += result.NeuronUpdatesPerSecond;
                neurons = lmu.Neurons;
            }

            var error = new SpikingLmuError(Math.Sqrt(delay2 / repeats), Math.Sqrt(ndelay2 / repeats), Math.Sqrt(state2 / repeats));
            var result1 = (Seconds: seconds / repeats, NeuronUpdatesPerSecond: updates / repeats);
            rows.Add((d, n, neurons, error, result1.Seconds, result1.NeuronUpdatesPerSecond));
            Console.Out.WriteLine(string.Create(c,
                $"| {d} | {n} | {neurons} | {error.DelayRmse:G4} | {error.DelayNrmse:G4} | {error.StateNrmse:G4} | {result1.Seconds:G4} | {result1.NeuronUpdatesPerSecond:G3} |"));
        }

        int fitOrder = rows.GroupBy(r => r.D).OrderByDescending(g => g.Count()).First().Key;
        var fit = rows.Where(r => r.D == fitOrder).ToArray();
        double slope = double.NaN, intercept = double.NaN;
        if (fit.Length >= 2)
        {
            var lx = fit.Select(r => Math.Log10(r.M)).ToArray();
            var ly = fit.Select(r => Math.Log10(r.Error.DelayRmse)).ToArray();
            double mx = lx.Average(), my = ly.Average();
            slope = lx.Zip(ly).Sum(p => (p.First - mx) * (p.Second - my)) / lx.Sum(x => (x - mx) * (x - mx));
            intercept = my - slope * mx;
        }

        Console.Out.WriteLine(string.Create(c, $"fit order={fitOrder} points={fit.Length} loglog_slope={slope:F3} (delay RMSE ≈ {Math.Pow(10, intercept):G3}·m^{slope:F3})"));
        foreach (var group in rows.GroupBy(r => r.M).Where(g => g.Select(r => r.D).Distinct().Count() >= 3))
        {
            var lx = group.Select(r => Math.Log10(r.D)).ToArray();
            var ly = group.Select(r => Math.Log10(r.Error.DelayRmse)).ToArray();
            double mx = lx.Average(), my = ly.Average();
            double dSlope = lx.Zip(ly).Sum(p => (p.First - mx) * (p.Second - my)) / lx.Sum(x => (x - mx) * (x - mx));
            Console.Out.WriteLine(string.Create(c, $"fit m={group.Key} orders={string.Join('/', group.Select(r => r.D))} loglog_slope_vs_d={dSlope:F3}"));
        }
        if (csvPath is not null)
        {
            AtomicFile.WriteText(csvPath, w =>
            {
                w.WriteLine("order,neurons_per_dim,neurons,delay_rmse,delay_nrmse,state_nrmse,seconds,neuron_updates_per_s");
                foreach (var r in rows)
                {
                    w.WriteLine(string.Create(c, $"{r.D},{r.N},{r.M},{r.Error.DelayRmse:R},{r.Error.DelayNrmse:R},{r.Error.StateNrmse:R},{r.Seconds:R},{r.Rate:R}"));
                }
            });
        }

        if (plotPath is not null)
        {
            var plot = PlotFont.NewPlot();
            foreach (var group in rows.GroupBy(r => r.D))
            {
                var pts = group.OrderBy(r => r.M).ToArray();
                var line = plot.Add.Scatter(pts.Select(r => Math.Log10(r.M)).ToArray(), pts.Select(r => Math.Log10(r.Error.DelayRmse)).ToArray());
                line.LegendText = $"d = {group.Key}";
            }

            if (!double.IsNaN(slope))
            {
                double x0 = fit.Min(r => Math.Log10(r.M)), x1 = fit.Max(r => Math.Log10(r.M));
                var fitted = plot.Add.Line(x0, intercept + slope * x0, x1, intercept + slope * x1);
                fitted.LegendText = string.Create(c, $"fit d = {fitOrder}: slope {slope:F2}");
                fitted.LinePattern = ScottPlot.LinePattern.Dashed;
            }

            plot.Title(string.Create(c, $"Spiking LMU: decoded-delay RMSE vs neurons (θ = {theta:G3} s, τ = {tau:G3} s, {steps} steps, {repeats} seeds)"));
            plot.XLabel("log10 m (neurons per LMU)");
            plot.YLabel("log10 delay RMSE");
            plot.ShowLegend(ScottPlot.Alignment.UpperRight);
            AtomicFile.WriteFile(plotPath, temp => plot.SavePng(temp, 1000, 650));
        }

        return 0;
    }

    private static void WritePlot(string path, LmuSystem system, float[] input, int batch, SpikingLmuResult result, double[] exact, double dt,
        int neuronsPerDimension)
    {
        int d = system.Order;
        int steps = result.Steps;
        var decoder = system.Decoder(1.0);
        var time = new double[steps];
        var u = new double[steps];
        var spiking = new double[steps];
        var reference = new double[steps];
        for (int t = 0; t < steps; t++)
        {
            time[t] = t * dt;
            u[t] = input[t * batch];
            for (int i = 0; i < d; i++)
            {
                spiking[t] += decoder[i] * result.States[t * batch * d + i];
                reference[t] += decoder[i] * exact[(long)t * batch * d + i];
            }
        }

        double top = Math.Max(1.5, u.Concat(reference).Select(Math.Abs).Max() * 1.2);
        var rx = new List<double>();
        var ry = new List<double>();
        int r = result.RasterNeurons;
        for (int t = 0; t < steps; t++)
        {
            for (int k = 0; k < r; k++)
            {
                if (result.Raster[t * r + k] != 0)
                {
                    rx.Add(t * dt);
                    ry.Add(top + 0.05 * k);
                }
            }
        }

        var plot = PlotFont.NewPlot();
        var input0 = plot.Add.ScatterLine(time, u);
        input0.LegendText = "input u(t)";
        var exactLine = plot.Add.ScatterLine(time, reference);
        exactLine.LegendText = "exact memory: decoded u(t − θ)";
        var spikingLine = plot.Add.ScatterLine(time, spiking);
        spikingLine.LegendText = $"spiking memory: {d} ensembles × {neuronsPerDimension} Poisson/LIF neurons";
        if (rx.Count > 0)
        {
            var raster = plot.Add.Markers(rx.ToArray(), ry.ToArray());
            raster.MarkerSize = 2;
            raster.LegendText = $"spikes of the first {r} neurons";
        }

        plot.Title($"Spiking LMU, d = {d}, θ = {system.Theta:G3} s");
        plot.XLabel("time (s)");
        plot.ShowLegend();
        AtomicFile.WriteFile(path, temp => plot.SavePng(temp, 1200, 700));
    }
}
