using System.CommandLine;
using System.Diagnostics;
using System.Globalization;

namespace Lmu.Gpu.Cli.Commands;

/// <summary><c>lmu bench memory</c>: times the linear memory over a random sequence and prints one line
/// <c>method=… accelerator=… d=… T=… B=… median_s=… states_per_s=…</c> (a state is one d-vector m_t).</summary>
/// <remarks>sequential and scan run on the chosen accelerator with input and output kept on the device (host
/// transfers are not timed; <c>--transfers</c> times the run from and to host arrays instead, method shown as
/// <c>…+transfers</c>); fft is keras-lmu's LMUFeedforward baseline and always runs on the host
/// (accelerator=cpu). Each timed run is preceded by untimed warm-ups.</remarks>
internal static class BenchMemoryCommand
{
    public static Command Create()
    {
        var order = CommonOptions.Order();
        var theta = CommonOptions.Theta();
        var steps = new Option<int>("--steps", "-T") { Description = "Sequence length T.", Required = true };
        var batch = new Option<int>("--batch", "-B") { Description = "Sequences B (default 1).", DefaultValueFactory = _ => 1 };
        var method = new Option<string>("--method", "-m") { Description = "sequential, scan, auto or fft.", DefaultValueFactory = _ => "scan" };
        var accelerator = CommonOptions.Accelerator();
        var repeat = new Option<int>("--repeat", "-n") { Description = "Timed runs; the median is printed (default 5).", DefaultValueFactory = _ => 5 };
        var chunk = new Option<int>("--chunk") { Description = "Scan chunk length L (default 0: the engine's rule).", DefaultValueFactory = _ => 0 };
        var segment = new Option<int>("--carry-segment")
        {
            Description = "Device scan: carries in segments of G chunks (default −1: the engine's rule, ⌈√(C/20)⌉ from about 100 chunks on; 0: one serial pass).",
            DefaultValueFactory = _ => -1,
        };
        var window = new Option<string>("--window")
        {
            Description = "The scan's window start where ‖Ā^H‖ < 2⁻²⁴ and 2·H ≤ T: final-only runs from each sequence's last H inputs (host and device), and on a device each chunk's carry from its last H inputs (auto: final-only runs, and carries where their estimated cost is lower; on; off). Default: $LMU_SCAN_WINDOW, else auto.",
        };
        var windowProduct = new Option<string>("--window-product")
        {
            Description = "Device scan: compute phase A's chunk ends, the first level of the chained carries and the window start's states as one matrix product (on tensor cores where LMU_SCAN_STATES=tf32) (auto: where it has a block of outputs per multiprocessor; on; off: the row kernels). Default: $LMU_WINDOW_PRODUCT, else auto.",
        };
        var phases = new Option<bool>("--phases")
        {
            Description = "Device scan: also time the scan's phases (A chunk ends, B carries, C states) in as many runs again, synchronising at each phase, and print their medians on a second line.",
        };
        var transfers = new Option<bool>("--transfers")
        {
            Description = "Time the run from host arrays (input uploaded, states read back: the span overloads) instead of device-resident buffers.",
        };
        var outputKind = new Option<string>("--output")
        {
            Description = "What each timed run computes: states (all B·T states, default), final (the final states only; the line then says output=final) adjoint (the adjoint of random state gradients: λ, ∂u and ∂m₀, as the public RunAdjoint; output=adjoint) or input-gradient (a device scan's adjoint without λ, only ∂u = B̄ᵀ·λ_t, as a feedforward layer's backward pass with a fixed θ: by the chunk products, or by the lock-step kernel under LMU_SCAN_STATES=steps; the method then says scan(products) or scan(steps)).",
            DefaultValueFactory = _ => "states",
        };
        var check = new Option<int>("--check")
        {
            Description = "After timing, run the memory once more and compare its first N sequences' states with the host's sequential run (a second line: max |Δm| / max |m|); 0 = no check.",
            DefaultValueFactory = _ => 0,
        };
        var seed = CommonOptions.Seed();
        var command = new Command("memory", "Times the linear memory (all states) on random input: sequential, scan, auto, or the fft baseline.");
        foreach (var option in new Option[] { order, theta, steps, batch, method, accelerator, repeat, chunk, segment, window, windowProduct, phases, transfers, outputKind, check, seed })
        {
            command.Options.Add(option);
        }

        command.SetAction(parse => CommandRunner.Guard(() =>
        {
            int d = parse.GetValue(order);
            int t = parse.GetValue(steps);
            int b = parse.GetValue(batch);
            int repeats = parse.GetValue(repeat);
            string name = parse.GetValue(method)?.Trim().ToLowerInvariant() ?? "scan";
            if (t < 1 || b < 1 || repeats < 1)
            {
                throw new ArgumentException("--steps, --batch and --repeat must be ≥ 1.");
            }

            var system = LmuSystem.Create(d, parse.GetValue(theta));
            var rng = new Random(parse.GetValue(seed));
            string outputName = parse.GetValue(outputKind)?.Trim().ToLowerInvariant() ?? "states";
            if (outputName is not ("states" or "final" or "adjoint" or "input-gradient"))
            {
                throw new ArgumentException($"--output must be states, final, adjoint or input-gradient, not '{outputName}'.");
            }

            bool finalOnly = outputName == "final";
            bool inputGradientOnly = outputName == "input-gradient";
            bool adjoint = outputName == "adjoint" || inputGradientOnly;
            long count = (long)b * t;
            if (!finalOnly && count * d > Array.MaxLength)
            {
                throw new ArgumentException($"B·T·d = {count * d:N0} states exceed one array; lower --steps or --batch.");
            }

            var input = new float[count];
            for (long i = 0; i < count; i++)
            {
                input[i] = (float)(rng.NextDouble() * 2 - 1);
            }

            int checkedSequences = parse.GetValue(check);
            if (checkedSequences < 0 || checkedSequences > b)
            {
                throw new ArgumentException($"--check must be 0 … B = {b} sequences, not {checkedSequences}.");
            }

            double[] times;
            string device;
            ScanPhaseTimes? phaseMedians = null;
            int phaseWindow = 0;
            int phaseProducts = 0;
            double? checkError = null;
            if (name == "fft")
            {
                if (finalOnly || adjoint)
                {
                    throw new ArgumentException($"--output {outputName}: the fft baseline computes all states.");
                }

                var fft = new FftMemory(system, t);
                var output = new float[count * d];
                fft.RunStates(input, b, output);
                times = new double[repeats];
                for (int r = 0; r < repeats; r++)
                {
                    long start = Stopwatch.GetTimestamp();
                    fft.RunStates(input, b, output);
                    times[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
                }

                device = "cpu";
                if (checkedSequences > 0)
                {
                    throw new ArgumentException("--check compares a library run with the host's; the fft baseline has none.");
                }
            }
            else
            {
                var sequenceMethod = SequenceMethodParser.ParseMethod(name);
                using var lmuDevice = LmuDevice.Open(parse.GetValue(accelerator));
                using var memory = new LinearMemory(lmuDevice, system, b) { ChunkLength = parse.GetValue(chunk) };
                int carrySegment = parse.GetValue(segment);
                if (carrySegment >= 0)
                {
                    DeviceEngine(memory, "--carry-segment").CarrySegment = carrySegment;
                }

                if (parse.GetValue(window) is { } windowName)
                {
                    memory.Engine.WindowUse = ScanWindowUseParser.Parse(windowName);
                }

                if (parse.GetValue(windowProduct) is { } productName)
                {
                    DeviceEngine(memory, "--window-product").ProductUse = ProductUseParser.Parse(productName);
                }

                bool timePhases = parse.GetValue(phases);
                if (adjoint && (timePhases || parse.GetValue(transfers)))
                {
                    throw new ArgumentException($"--output {outputName} times device-resident adjoint runs; leave out --phases and --transfers.");
                }

                if (timePhases && memory.ResolveMethod(sequenceMethod, t, finalOnly) != SequenceMethod.Scan)
                {
                    throw new ArgumentException("--phases times the phases of the scan; this run is sequential.");
                }

                var phaseEngine = timePhases ? DeviceEngine(memory, "--phases") : null;
                if (sequenceMethod == SequenceMethod.Auto)
                {
                    var resolved = adjoint ? memory.ResolveAdjointMethod(sequenceMethod, t) : memory.ResolveMethod(sequenceMethod, t, finalOnly);
                    name = "auto(" + resolved.ToName() + ")";
                }

                if (adjoint)
                {
                    float[] gradients = new float[count * d];
                    for (long i = 0; i < gradients.Length; i++)
                    {
                        gradients[i] = (float)(rng.NextDouble() * 2 - 1);
                    }

                    if (inputGradientOnly)
                    {
                        if (sequenceMethod != SequenceMethod.Scan)
                        {
                            throw new ArgumentException("--output input-gradient times the device scan's adjoint without λ; use --method scan.");
                        }

                        var engine = DeviceEngine(memory, "--output input-gradient");
                        name = engine.AdjointByProduct ? "scan(products)" : "scan(steps)";
                        times = engine.MeasureInputGradient(gradients, t, memory.ChunkLength, repeats, out float[] inputGradient);
                        if (checkedSequences > 0)
                        {
                            using var host = LmuDevice.Open(AcceleratorKind.Cpu);
                            using var reference = new LinearMemory(host, system, checkedSequences);
                            float[] expected = reference.RunAdjoint(gradients.AsSpan(0, checkedSequences * t * d), t, SequenceMethod.Sequential).InputGradient;
                            checkError = SelfTest.SelfTestResult.Relative(inputGradient.AsSpan(0, expected.Length), expected);
                        }
                    }
                    else
                    {
                        times = memory.MeasureAdjoint(gradients, t, sequenceMethod, repeats);
                        if (checkedSequences > 0)
                        {
                            checkError = CheckAdjointAgainstHost(memory, system, gradients, t, sequenceMethod, checkedSequences);
                        }
                    }
                }
                else if (parse.GetValue(transfers))
                {
                    if (timePhases || finalOnly)
                    {
                        throw new ArgumentException("--transfers times all-state runs from host arrays; leave out --phases and --output final.");
                    }

                    times = TimeWithTransfers(memory, input, t, sequenceMethod, repeats);
                    name += "+transfers";
                }
                else
                {
                    times = memory.MeasureStates(input, t, sequenceMethod, repeats, finalOnly);
                }

                if (phaseEngine is not null)
                {
                    phaseEngine.PhaseLog = [];
                    memory.MeasureStates(input, t, sequenceMethod, repeats, finalOnly);
                    phaseMedians = ScanPhaseTimes.Median(phaseEngine.PhaseLog);
                    phaseWindow = phaseEngine.LastWindow;
                    phaseProducts = phaseEngine.LastWindowProducts;
                    phaseEngine.PhaseLog = null;
                }

                if (checkedSequences > 0 && !adjoint)
                {
                    checkError = CheckAgainstHost(memory, system, input, t, sequenceMethod, checkedSequences, finalOnly);
                }

                device = lmuDevice.Selection.ToString();
            }

            double median = Timings.Median(times);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"method={name}{(outputName == "states" ? "" : " output=" + outputName)} accelerator={device} d={d} T={t} B={b} median_s={median:G4} states_per_s={count / median:G4}"));
            if (phaseMedians is { } ph)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"phases: ends_s={ph.Ends:G4} carries_s={ph.Carries:G4} states_s={ph.States:G4} window_h={phaseWindow} window_products={phaseProducts} (medians of {repeats} runs synchronised at each phase; with window_h > 0 the carries came from windows of H inputs and phase A ran only for the chunks still chained; window_products: launches of the window product, for phase A and the windows)"));
            }

            if (checkError is { } error)
            {
                string against = inputGradientOnly
                    ? "max |∂u - ∂u_host| / max |∂u_host| against the host's sequential adjoint"
                    : adjoint
                    ? "max |λ - λ_host| / max |λ_host| against the host's sequential adjoint"
                    : "max |m - m_host| / max |m_host| against the host's sequential run";
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"check: sequences={checkedSequences} max_rel_err={error:G3} ({against})"));
            }

            return 0;
        }));
        return command;
    }

    /// <summary>Runs <paramref name="memory"/> once more from zero states into host arrays and compares the first
    /// <paramref name="sequences"/> sequences' states (or, with <paramref name="finalOnly"/>, their final states) with
    /// the host path's sequential run of the same inputs.</summary>
    /// <returns>max |m − m_host| / max |m_host|, or +∞ for a non-finite state.</returns>
    private static double CheckAgainstHost(LinearMemory memory, LmuSystem system, float[] input, int steps, SequenceMethod method, int sequences, bool finalOnly)
    {
        memory.Reset();
        float[] states = finalOnly ? memory.RunFinalState(input, steps, method) : memory.RunStates(input, steps, method);
        memory.Reset();
        using var host = LmuDevice.Open(AcceleratorKind.Cpu);
        using var reference = new LinearMemory(host, system, sequences);
        var part = input.AsSpan(0, sequences * steps);
        float[] expected = finalOnly
            ? reference.RunFinalState(part, steps, SequenceMethod.Sequential)
            : reference.RunStates(part, steps, SequenceMethod.Sequential);
        return SelfTest.SelfTestResult.Relative(states.AsSpan(0, expected.Length), expected);
    }

    /// <summary>Runs the adjoint of <paramref name="gradients"/> once more and compares the first
    /// <paramref name="sequences"/> sequences' λ with the host path's sequential adjoint.</summary>
    /// <returns>max |λ − λ_host| / max |λ_host|, or +∞ for a non-finite value.</returns>
    private static double CheckAdjointAgainstHost(LinearMemory memory, LmuSystem system, float[] gradients, int steps, SequenceMethod method, int sequences)
    {
        float[] lambda = memory.RunAdjoint(gradients, steps, method).Lambda;
        using var host = LmuDevice.Open(AcceleratorKind.Cpu);
        using var reference = new LinearMemory(host, system, sequences);
        float[] expected = reference.RunAdjoint(gradients.AsSpan(0, sequences * steps * system.Order), steps, SequenceMethod.Sequential).Lambda;
        return SelfTest.SelfTestResult.Relative(lambda.AsSpan(0, expected.Length), expected);
    }

    /// <summary>Times <paramref name="repeats"/> runs of <see cref="LinearMemory.RunStates(ReadOnlySpan{float}, int, SequenceMethod)"/>
    /// into one host array (after one untimed run), each from the same initial states: upload, kernels, read-back.</summary>
    private static double[] TimeWithTransfers(LinearMemory memory, float[] input, int steps, SequenceMethod method, int repeats)
    {
        float[] initial = memory.GetStates();
        var output = new float[(long)memory.Batch * steps * memory.Channels * memory.Order];
        var times = new double[repeats];
        for (int r = -1; r < repeats; r++)
        {
            memory.SetStates(initial);
            long start = Stopwatch.GetTimestamp();
            memory.RunStatesInto(input, steps, method, output);
            if (r >= 0)
            {
                times[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            }
        }

        memory.SetStates(initial);
        return times;
    }

    /// <summary>The device engine behind <paramref name="memory"/>, for options that only the device scan has.</summary>
    private static DeviceMemoryEngine DeviceEngine(LinearMemory memory, string option) =>
        memory.Engine as DeviceMemoryEngine
        ?? throw new ArgumentException($"{option} applies to the device scan (--accelerator cuda, opencl or cpu-sim), not the host path.");
}
