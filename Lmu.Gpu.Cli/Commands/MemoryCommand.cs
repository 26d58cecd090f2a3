using System.CommandLine;
using System.Globalization;
using System.Text;
using Lmu.Gpu.Cli.Io;

namespace Lmu.Gpu.Cli.Commands;

/// <summary><c>lmu memory</c>: runs a CSV signal through the linear memory and writes the decoded delayed signals
/// as CSV.</summary>
internal static class MemoryCommand
{
    public static Command Create()
    {
        var order = CommonOptions.Order();
        var theta = CommonOptions.Theta();
        var dt = CommonOptions.Dt();
        var discretizer = CommonOptions.Discretizer();
        var accelerator = CommonOptions.Accelerator();
        var input = new Option<string>("--input", "-i")
        {
            Description = "Input CSV: one row per step, one column per channel; a header row is allowed.",
            Required = true,
        };
        var output = new Option<string?>("--output", "-o")
        {
            Description = "Output CSV (written atomically). Default: standard output.",
        };
        var delays = new Option<string>("--delays")
        {
            Description = "Comma-separated delay fractions r in [0, 1] of θ to decode (u(t − r·θ)).",
            DefaultValueFactory = _ => "1",
        };
        var method = new Option<string>("--method")
        {
            Description = "auto, sequential or scan: how the sequence is evaluated.",
            DefaultValueFactory = _ => "auto",
        };

        var command = new Command("memory",
            "Runs a signal (CSV, one column per channel) through the LMU memory and writes the decoded delayed " +
            "signals u(t − r·θ) as CSV: header c0_r1,…; row t is P̃(r)·m_t after u_t has entered; columns are " +
            "channel-major (c0·r0, c0·r1, …, c1·r0, …).");
        command.Options.Add(order);
        command.Options.Add(theta);
        command.Options.Add(input);
        command.Options.Add(delays);
        command.Options.Add(output);
        command.Options.Add(accelerator);
        command.Options.Add(method);
        command.Options.Add(dt);
        command.Options.Add(discretizer);
        command.SetAction(parse => CommandRunner.Guard(() =>
        {
            // Everything is validated before a device is opened or a kernel runs.
            var sequenceMethod = ParseMethod(parse.GetValue(method));
            double[] fractions = ParseDelays(parse.GetValue(delays));
            var disc = CommonOptions.ParseDiscretizer(parse.GetValue(discretizer));
            string? outputPath = parse.GetValue(output);
            var signal = CsvSignal.Read(parse.GetValue(input)!);
            var system = LmuSystem.Create(parse.GetValue(order), parse.GetValue(theta), parse.GetValue(dt), disc);

            float[] decoded;
            using (var device = LmuDevice.Open(parse.GetValue(accelerator)))
            using (var memory = new LinearMemory(device, system, 1, signal.Channels))
            {
                decoded = memory.RunDecoded(signal.Samples, signal.Steps, fractions, sequenceMethod);
            }

            void Write(TextWriter writer) => WriteCsv(writer, decoded, signal.Steps, signal.Channels, fractions);
            AtomicFile.WriteTextOrStandardOutput(outputPath, Write);

            return 0;
        }));
        return command;
    }

    /// <summary>Parses auto, sequential or scan (case-insensitive).</summary>
    /// <exception cref="ArgumentException">The name is unknown.</exception>
    public static SequenceMethod ParseMethod(string? name) => name?.Trim().ToUpperInvariant() switch
    {
        null or "" or "AUTO" => SequenceMethod.Auto,
        "SEQUENTIAL" => SequenceMethod.Sequential,
        "SCAN" => SequenceMethod.Scan,
        _ => throw new ArgumentException($"--method: unknown '{name}'; use auto, sequential or scan."),
    };

    /// <summary>Parses a comma-separated list of delay fractions in [0, 1].</summary>
    /// <exception cref="ArgumentException">The list is empty, or an entry is not a number in [0, 1].</exception>
    public static double[] ParseDelays(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new ArgumentException("--delays: give at least one delay fraction in [0, 1], e.g. 1,0.5.");
        }

        string[] parts = text.Split(',');
        var result = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            string part = parts[i].Trim();
            if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out double r) || !double.IsFinite(r))
            {
                throw new ArgumentException($"--delays: entry {i + 1} '{part}' is not a number.");
            }

            if (r < 0 || r > 1)
            {
                throw new ArgumentException($"--delays: entry {i + 1} is {part}; delay fractions must lie in [0, 1] (fractions of θ).");
            }

            result[i] = r;
        }

        return result;
    }

    /// <summary>The output column name for channel <paramref name="channel"/> and delay fraction <paramref name="r"/>.</summary>
    public static string ColumnName(int channel, double r) =>
        string.Create(CultureInfo.InvariantCulture, $"c{channel}_r{r.ToString("R", CultureInfo.InvariantCulture)}");

    private static void WriteCsv(TextWriter writer, float[] decoded, int steps, int channels, double[] fractions)
    {
        int q = fractions.Length;
        int width = channels * q;
        var line = new StringBuilder(width * 12);
        for (int c = 0; c < channels; c++)
        {
            for (int j = 0; j < q; j++)
            {
                if (line.Length > 0)
                {
                    line.Append(',');
                }

                line.Append(ColumnName(c, fractions[j]));
            }
        }

        writer.WriteLine(line.ToString());
        for (int t = 0; t < steps; t++)
        {
            line.Clear();
            // decoded is [B = 1, T, k, Q]: row t holds channel-major values, already in output column order.
            var row = decoded.AsSpan(t * width, width);
            for (int i = 0; i < width; i++)
            {
                if (i > 0)
                {
                    line.Append(',');
                }

                line.Append(row[i].ToString("R", CultureInfo.InvariantCulture));
            }

            writer.WriteLine(line.ToString());
        }
    }
}
