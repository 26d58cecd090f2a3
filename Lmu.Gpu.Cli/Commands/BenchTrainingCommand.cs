using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Lmu.Gpu.Training;

namespace Lmu.Gpu.Cli.Commands;

/// <summary><c>lmu bench training</c>: times one training step (forward, backpropagation, Adam) of a
/// sequence-to-sequence feedforward LMU on random data and prints one line
/// <c>model=feedforward method=… accelerator=… d=… T=… B=… n=… median_s=… sequences_per_s=…</c>.</summary>
/// <remarks>The model is FeedforwardLmu(n units, order d, θ = T/2, fixed unless --trainable-theta) + Dense(1) with a loss at every step (the
/// input delayed by ten steps as target), so the memory sequence and its adjoint run in full: sequentially, by the
/// chunked scan, or as <see cref="LmuModel.SequenceMethod"/>'s auto rule picks. Untimed steps come first (at least three,
/// then up to 40 or three seconds: kernel compilation, scan plans, the JIT's tiers); the weights stay on the device.</remarks>
internal static class BenchTrainingCommand
{
    public static Command Create()
    {
        var order = CommonOptions.Order();
        var steps = new Option<int>("--steps", "-T") { Description = "Sequence length T.", Required = true };
        var batch = new Option<int>("--batch", "-B") { Description = "Sequences per mini-batch B (default 16).", DefaultValueFactory = _ => 16 };
        var units = new Option<int>("--units") { Description = "Hidden units n of the layer (default 64).", DefaultValueFactory = _ => 64 };
        var method = new Option<string>("--method", "-m") { Description = "sequential, scan or auto: how the memory and its adjoint run.", DefaultValueFactory = _ => "auto" };
        var accelerator = CommonOptions.Accelerator();
        var repeat = new Option<int>("--repeat", "-n") { Description = "Timed steps; the median is printed (default 5).", DefaultValueFactory = _ => 5 };
        var seed = CommonOptions.Seed();
        var trainableTheta = new Option<bool>("--trainable-theta")
        {
            Description = "Train θ too (its gradient from the sequential adjoint, or from the scan's λ under --method scan); the line then says theta=trainable.",
        };
        var denseProduct = new Option<string?>("--dense-product")
        {
            Description = "On a device: auto, on or off: the layers' dense products on the blocked product kernel or the row kernels (default $LMU_DENSE_PRODUCT, else auto); the line then says dense=product, rows or mixed.",
        };
        var profile = new Option<bool>("--profile")
        {
            Description = "After timing, run as many steps again synchronising after each part (data upload, each layer's encoders, memory, dense products and adjoint, the loss, the optimiser) and print the mean time of each part, one line each after the result line.",
        };
        var command = new Command("training", "Times one training step of a sequence-to-sequence feedforward LMU (memory sequential, by the scan, or auto).");
        foreach (var option in new Option[] { order, steps, batch, units, method, accelerator, repeat, seed, trainableTheta, denseProduct, profile })
        {
            command.Options.Add(option);
        }

        command.SetAction(parse => CommandRunner.Guard(() =>
        {
            int d = parse.GetValue(order);
            int t = parse.GetValue(steps);
            int b = parse.GetValue(batch);
            int n = parse.GetValue(units);
            int repeats = parse.GetValue(repeat);
            if (t < 1 || b < 1 || n < 1 || repeats < 1)
            {
                throw new ArgumentException("--steps, --batch, --units and --repeat must be ≥ 1.");
            }

            if ((long)b * t * d > Array.MaxLength)
            {
                throw new ArgumentException($"B·T·d = {(long)b * t * d:N0} memory values exceed one array; lower --steps or --batch.");
            }

            var sequenceMethod = SequenceMethodParser.ParseMethod(parse.GetValue(method) ?? "auto");
            using var device = LmuDevice.Open(parse.GetValue(accelerator));
            using var model = new LmuModel(device, 1, returnSequences: true, seed: parse.GetValue(seed)) { SequenceMethod = sequenceMethod }
                .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 1, Units = n, Order = d, Theta = t / 2.0, TrainableTheta = parse.GetValue(trainableTheta) })
                .AddDense(1);
            var backend = model.Backend as DeviceBackend;
            if (parse.GetValue(denseProduct) is { } productName)
            {
                if (backend is null)
                {
                    throw new ArgumentException("--dense-product applies to a device (cuda, opencl, cpu-sim), not to the host path.");
                }

                backend.DenseProductUse = ProductUseParser.Parse(productName, ProductUseParser.DenseVariable);
            }

            var data = DelayData(b, t, parse.GetValue(seed));
            var options = new FitOptions { Epochs = 1, BatchSize = b, Shuffle = false };
            // Warm-up: at least three steps, then up to 40 steps or three seconds, so that kernels are compiled and the
            // JIT has moved the host code to its optimised tier. The host code called once per step reaches that tier
            // after 30 calls: measured at d = 64, T = 1,000, B = 16, steps took 90–175 ms for the first ten and a steady
            // 42–50 ms from the twelfth on.
            long warmStart = Stopwatch.GetTimestamp();
            for (int w = 0; w < 3 || (w < 40 && Stopwatch.GetElapsedTime(warmStart).TotalSeconds < 3); w++)
            {
                model.Fit(data, options);
            }

            var times = new double[repeats];
            for (int r = 0; r < repeats; r++)
            {
                long start = Stopwatch.GetTimestamp();
                model.Fit(data, options);
                times[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            }

            string name = sequenceMethod.ToName();
            if (sequenceMethod == SequenceMethod.Auto)
            {
                var layer = model.Layers.OfType<FeedforwardModelLayer>().Single();
                string forward = layer.UsesScan(model.Backend, b, t) ? "scan" : "sequential";
                string adjoint = layer.UsesAdjointScan(model.Backend, b, t) ? "scan" : "sequential";
                name = "auto(" + (forward == adjoint ? forward : forward + "/adjoint-" + adjoint) + ")";
            }

            StepProfile? stepProfile = null;
            if (parse.GetValue(profile))
            {
                stepProfile = new StepProfile();
                model.Backend.Profile = stepProfile;
                for (int r = 0; r < repeats; r++)
                {
                    model.Fit(data, options);
                }

                model.Backend.Profile = null;
            }

            string dense = string.Empty;
            if (backend is not null)
            {
                // The row kernels still take the products below the threshold (the Dense(1) output layer's, for one).
                int products = backend.DenseProducts;
                dense = products == 0 ? " dense=rows" : backend.DenseProductUse == ProductUse.Always ? " dense=product" : " dense=mixed";
            }

            double median = Timings.Median(times);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"model=feedforward method={name}{(parse.GetValue(trainableTheta) ? " theta=trainable" : "")}{dense} accelerator={device.Selection} d={d} T={t} B={b} n={n} median_s={median:G4} sequences_per_s={b / median:G4}"));
            if (stepProfile is not null)
            {
                var parts = stepProfile.MeanPerStep();
                double total = parts.Sum(p => p.Seconds);
                foreach (var (label, seconds) in parts)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"profile: {label}: {seconds * 1e3:F3} ms ({100 * seconds / Math.Max(total, 1e-12):F1} %)"));
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"profile: total {total * 1e3:F3} ms per step (mean of {stepProfile.Steps} steps, synchronised after each part)"));
            }
            return 0;
        }));
        return command;
    }

    /// <summary>Uniform noise in [−1, 1] and, as the target, the same noise ten steps later (zero before).</summary>
    private static SequenceDataset DelayData(int batch, int steps, int seed)
    {
        var rng = new Random(seed);
        var x = new float[batch * steps];
        var y = new float[batch * steps];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)(rng.NextDouble() * 2 - 1);
            y[i] = i % steps >= 10 ? x[i - 10] : 0;
        }

        return SequenceDataset.ForRegression(x, y, batch, steps, 1, 1, sequenceTargets: true);
    }
}
