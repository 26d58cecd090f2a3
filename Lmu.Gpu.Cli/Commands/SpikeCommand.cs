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
        var order = CommonOptions.Order();
        var theta = new Option<double>("--theta") { Description = "Window θ in seconds.", Required = true };
        var perDim = new Option<int>("--neurons-per-dim", "-n") { Description = "Neurons per dimension n (m = d·n).", Required = true };
        var steps = new Option<int>("--steps") { Description = "Time steps (dt = 1 ms by default).", Required = true };
        var seed = CommonOptions.Seed();
        var plot = new Option<string?>("--plot") { Description = "Writes a PNG with a spike raster and the decoded signals." };
        var dt = new Option<double>("--dt") { Description = "Time step in seconds (default 0.001).", DefaultValueFactory = _ => 0.001 };
        var tau = new Option<double>("--tau") { Description = "Synapse time constant τ in seconds (default 0.05).", DefaultValueFactory = _ => 0.05 };
        var type = new Option<string>("--type") { Description = "poisson-relu (default), poisson-lif or lif.", DefaultValueFactory = _ => "poisson-relu" };
        var batch = new Option<int>("--batch") { Description = "Independent LMUs (default 1).", DefaultValueFactory = _ => 1 };
        var cutoff = new Option<double>("--cutoff") { Description = "Input noise cutoff in Hz (default 2).", DefaultValueFactory = _ => 2.0 };
        var mapping = new Option<string>("--mapping") { Description = "discrete (default) or continuous synapse mapping.", DefaultValueFactory = _ => "discrete" };
        var accelerator = CommonOptions.Accelerator();
        var command = new Command("spike", "Runs the spiking LMU memory (d ensembles of n Poisson or LIF neurons) on band-limited noise and prints " +
                                           "the NRMSE of its decoded delay against the exact memory and the neuron updates per second.");
        foreach (var option in new Option[] { order, theta, perDim, steps, seed, plot, dt, tau, type, batch, cutoff, mapping, accelerator })
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
                var other => throw new ArgumentException($"--type: unknown '{other}'; use poisson-relu, poisson-lif or lif."),
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
                $"type={parse.GetValue(type)} accelerator={device.Kind.ToName()} delay_rmse={error.DelayRmse:G4} delay_nrmse={error.DelayNrmse:G4} " +
                $"state_nrmse={error.StateNrmse:G4} spikes={result.TotalSpikes} seconds={result.Seconds:G4} neuron_updates_per_s={result.NeuronUpdatesPerSecond:G4}"));
            if (plotPath is not null)
            {
                WritePlot(plotPath, system, input, b, result, exact, step);
            }

            return 0;
        }));
        return command;
    }

    private static void WritePlot(string path, LmuSystem system, float[] input, int batch, SpikingLmuResult result, double[] exact, double dt)
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

        var plot = new ScottPlot.Plot();
        var input0 = plot.Add.ScatterLine(time, u);
        input0.LegendText = "input u(t)";
        var exactLine = plot.Add.ScatterLine(time, reference);
        exactLine.LegendText = "exact memory: decoded u(t − θ)";
        var spikingLine = plot.Add.ScatterLine(time, spiking);
        spikingLine.LegendText = $"spiking memory ({result.States.Count / steps / d}×{d} ensembles)";
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
