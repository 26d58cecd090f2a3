using System.CommandLine;
using System.Globalization;
using System.Text;
using Lmu.Gpu.Cli.Io;
using Lmu.Gpu.Training;

namespace Lmu.Gpu.Cli.Commands;

/// <summary>
/// <c>lmu predict</c>: runs a saved model (<c>lmu train --save</c>, <see cref="LmuModel.Save"/>) over a signal through
/// an <see cref="LmuModelStream"/>. From a CSV file it writes the outputs as CSV; from standard input it reads one step
/// per line and writes each step's outputs as soon as the step has run, so it can sit at the end of a pipe.
/// </summary>
/// <remarks>Output columns <c>y0,…</c>, one per model output. A model that outputs at every step gives one row per
/// step; a last-step model gives one row per piece (its output as if the sequence ended there): with a file and the
/// default piece, one row for the whole sequence; from standard input, one row per step. A model with a bidirectional
/// layer (not <see cref="LmuModel.IsCausal"/>) runs the whole file as one sequence through
/// <see cref="LmuModel.Predict(float[], int, int, int, CancellationToken)"/>; it takes no pieces and no standard input.</remarks>
internal static class PredictCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "The weights file (lmu train --save).", Required = true };
        var input = new Option<string?>("--input", "-i")
        {
            Description = "Input CSV: one row per step, one column per model input; a header row is allowed. Or a numpy .npz of many sequences: x [N, T, n_x] (or [N, T]) and optionally lengths [N]; its outputs go to --output FILE.npz as y ([N, T, O] or [N, O]). Without --input, steps are read from standard input, one line each, and every step's outputs are written as it runs.",
        };
        var output = new Option<string?>("--output", "-o") { Description = "Output CSV (written atomically; needs --input). Default: standard output." };
        var piece = new Option<int?>("--piece", "-P") { Description = "Steps per stream call with --input (default: the whole file in one)." };
        var accelerator = CommonOptions.Accelerator();
        var command = new Command("predict", "Runs a saved model over a CSV signal, or over steps streamed on standard input, and writes its outputs as CSV.");
        foreach (var option in new Option[] { model, input, output, piece, accelerator })
        {
            command.Options.Add(option);
        }

        command.SetAction(parse => CommandRunner.Guard(() =>
        {
            string? inputPath = parse.GetValue(input);
            string? outputPath = parse.GetValue(output);
            int? pieceSteps = parse.GetValue(piece);
            if (inputPath is null && (outputPath is not null || pieceSteps is not null))
            {
                throw new ArgumentException("--output and --piece need --input (standard input is streamed one step per line to standard output).");
            }

            if (pieceSteps is < 1)
            {
                throw new ArgumentException("--piece must be ≥ 1.");
            }

            if (inputPath is not null && IsNumpy(inputPath))
            {
                return PredictArchive(parse.GetValue(model)!, inputPath, outputPath, pieceSteps, parse.GetValue(accelerator));
            }

            // The file is read and checked before a device is opened.
            var signal = inputPath is null ? null : CsvSignal.Read(inputPath);
            using var device = LmuDevice.Open(parse.GetValue(accelerator));
            using var lmu = LmuModel.Load(device, parse.GetValue(model)!);
            if (signal is not null && signal.Channels != lmu.InputSize)
            {
                throw new InvalidDataException($"{inputPath} has {signal.Channels} column(s); the model takes {lmu.InputSize} input(s) per step.");
            }

            if (!lmu.IsCausal && (signal is null || pieceSteps is not null))
            {
                throw new ArgumentException("The model has a bidirectional layer, which reads the sequence from its end: give the whole sequence with --input (no --piece, no standard input).");
            }

            var rows = new List<float[]>();
            void Add(float[] y)
            {
                for (int r = 0; r < y.Length / lmu.OutputSize; r++)
                {
                    rows.Add(y[(r * lmu.OutputSize)..((r + 1) * lmu.OutputSize)]);
                }
            }

            if (!lmu.IsCausal)
            {
                Add(lmu.Predict(signal!.Samples, 1, signal.Steps));
            }
            else
            {
                using var stream = lmu.OpenStream();
                if (signal is null)
                {
                    Stream(stream, Console.In, Console.Out);
                    return 0;
                }

                int p = Math.Min(pieceSteps ?? signal.Steps, signal.Steps);
                for (int from = 0; from < signal.Steps; from += p)
                {
                    int length = Math.Min(p, signal.Steps - from);
                    Add(stream.Run(signal.Samples.AsSpan(from * lmu.InputSize, length * lmu.InputSize), length));
                }
            }

            void Write(TextWriter writer)
            {
                writer.WriteLine(Header(lmu.OutputSize));
                foreach (float[] row in rows)
                {
                    writer.WriteLine(Row(row));
                }
            }

            AtomicFile.WriteTextOrStandardOutput(outputPath, Write);

            return 0;
        }));
        return command;
    }

    private static bool IsNumpy(string path) =>
        path.EndsWith(".npz", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase);

    /// <summary>Many sequences from an archive (<see cref="Training.NpzDataset.Inputs"/>) through
    /// <see cref="LmuModel.Predict(float[], int, int, int[], int, CancellationToken)"/>, the outputs to an archive as y.</summary>
    private static int PredictArchive(string modelPath, string inputPath, string? outputPath, int? pieceSteps, string? accelerator)
    {
        if (outputPath is null || !outputPath.EndsWith(".npz", StringComparison.OrdinalIgnoreCase) || pieceSteps is not null)
        {
            throw new ArgumentException("An .npz input needs --output FILE.npz (its outputs are written there as y) and takes no --piece.");
        }

        var (x, count, steps, inputs, lengths) = Training.NpzDataset.Inputs(NumpyArchive.Read(inputPath), inputPath);
        using var device = LmuDevice.Open(accelerator);
        using var lmu = LmuModel.Load(device, modelPath);
        if (inputs != lmu.InputSize)
        {
            throw new InvalidDataException($"{inputPath}: x has {inputs} input(s) per step; the model takes {lmu.InputSize}.");
        }

        float[] y = lmu.Predict(x, count, steps, lengths);
        int[] shape = lmu.ReturnSequences ? [count, steps, lmu.OutputSize] : [count, lmu.OutputSize];
        NumpyArchive.Write(outputPath, new Dictionary<string, NumpyArray> { ["y"] = new NumpyArray(shape, y) });
        return 0;
    }

    /// <summary>One step per line of <paramref name="reader"/> (a header first is allowed; blank lines are skipped),
    /// each step's outputs written and flushed before the next line is read.</summary>
    /// <exception cref="InvalidDataException">A line is malformed or has the wrong number of fields; the rows before it
    /// have been written.</exception>
    internal static void Stream(LmuModelStream stream, TextReader reader, TextWriter writer)
    {
        writer.WriteLine(Header(stream.OutputSize));
        writer.Flush();
        int lineNumber = 0;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            string[] fields = line.Split(',');
            if (lineNumber == 1 && CsvSignal.IsHeader(fields))
            {
                continue;
            }

            if (fields.Length != stream.InputSize)
            {
                throw new InvalidDataException($"standard input: line {lineNumber} has {fields.Length} field(s); the model takes {stream.InputSize} input(s) per step.");
            }

            float[] y = stream.Step(CsvSignal.ParseFields(fields, lineNumber, "standard input"));
            writer.WriteLine(Row(y));
            writer.Flush();
        }
    }

    private static string Header(int outputs) => string.Join(',', Enumerable.Range(0, outputs).Select(i => $"y{i}"));

    private static string Row(ReadOnlySpan<float> values)
    {
        var line = new StringBuilder(values.Length * 12);
        for (int i = 0; i < values.Length; i++)
        {
            if (i > 0)
            {
                line.Append(',');
            }

            line.Append(values[i].ToString("R", CultureInfo.InvariantCulture));
        }

        return line.ToString();
    }
}
