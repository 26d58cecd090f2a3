using System.Globalization;

namespace Lmu.Gpu.Cli.Io;

/// <summary>
/// A multi-channel signal read from CSV: one row per step, one column per channel, row-major [T, k] float32
/// samples. The first line may be a header (a line whose fields are all non-numeric). Everything is validated
/// while reading, so a bad file is rejected before any kernel runs: an empty file, a malformed field (the message
/// names the line and column), ragged rows, and NaN or infinite samples (including values that overflow float32).
/// </summary>
internal sealed class CsvSignal
{
    private CsvSignal(float[] samples, int steps, int channels, IReadOnlyList<string>? header)
    {
        Samples = samples;
        Steps = steps;
        Channels = channels;
        Header = header;
    }

    /// <summary>Samples [T, k], row-major.</summary>
    public float[] Samples { get; }

    /// <summary>Steps T (data rows).</summary>
    public int Steps { get; }

    /// <summary>Channels k (columns).</summary>
    public int Channels { get; }

    /// <summary>The header's column names, or null when the file has none.</summary>
    public IReadOnlyList<string>? Header { get; }

    /// <summary>Reads and validates a CSV file.</summary>
    /// <exception cref="InvalidDataException">The content is empty, malformed, ragged or not finite.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static CsvSignal Read(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The input file '{path}' does not exist.", path);
        }

        using var reader = new StreamReader(path, detectEncodingFromByteOrderMarks: true);
        return Parse(reader, path);
    }

    /// <summary>Parses CSV text; <paramref name="source"/> names it in error messages.</summary>
    /// <exception cref="InvalidDataException">The content is empty, malformed, ragged or not finite.</exception>
    public static CsvSignal Parse(TextReader reader, string source)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var samples = new List<float>();
        IReadOnlyList<string>? header = null;
        int channels = 0;
        int firstDataLine = 0;
        int steps = 0;
        int lineNumber = 0;
        int blankLine = 0; // first blank line seen after data; only allowed at the end of the file
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                if (blankLine == 0)
                {
                    blankLine = lineNumber;
                }

                continue;
            }

            if (blankLine != 0)
            {
                throw new InvalidDataException($"{source}: line {blankLine} is empty (blank lines are only allowed at the end of the file).");
            }

            string[] fields = line.Split(',');
            if (header is null && steps == 0 && lineNumber == 1 && IsHeader(fields))
            {
                header = Array.ConvertAll(fields, f => f.Trim());
                channels = fields.Length;
                continue;
            }

            if (channels == 0)
            {
                channels = fields.Length;
            }

            if (fields.Length != channels)
            {
                string reference = steps > 0 ? $"line {firstDataLine}" : "the header";
                throw new InvalidDataException(
                    $"{source}: line {lineNumber} has {fields.Length} field(s) but {reference} has {channels}: every row needs one value per channel.");
            }

            if (steps == 0)
            {
                firstDataLine = lineNumber;
            }

            foreach (float sample in ParseFields(fields, lineNumber, source))
            {
                samples.Add(sample);
            }

            steps++;
        }

        if (steps == 0)
        {
            throw new InvalidDataException(header is null
                ? $"{source} is empty: expected one row per step and one column per channel."
                : $"{source} has a header but no data rows.");
        }

        return new CsvSignal(samples.ToArray(), steps, channels, header);
    }

    /// <summary>One data row's fields as float32 samples.</summary>
    /// <param name="fields">The row split at commas.</param>
    /// <param name="lineNumber">The row's line, for messages.</param>
    /// <param name="source">What is read, for messages.</param>
    /// <returns>The samples.</returns>
    /// <exception cref="InvalidDataException">A field is not a number, or not finite in float32 (the message names the
    /// line and column).</exception>
    public static float[] ParseFields(string[] fields, int lineNumber, string source)
    {
        var samples = new float[fields.Length];
        for (int c = 0; c < fields.Length; c++)
        {
            string field = fields[c].Trim();
            if (!double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
            {
                string shown = field.Length == 0 ? "an empty field" : $"'{Shorten(field)}'";
                throw new InvalidDataException($"{source}: line {lineNumber}, column {c + 1}: {shown} is not a number.");
            }

            float sample = (float)value;
            if (!float.IsFinite(sample))
            {
                string what = double.IsNaN(value) ? "NaN" : double.IsInfinity(value) ? "infinite" : "too large for float32";
                throw new InvalidDataException(
                    $"{source}: line {lineNumber}, column {c + 1}: '{Shorten(field)}' is {what}; samples must be finite.");
            }

            samples[c] = sample;
        }

        return samples;
    }

    /// <summary>Whether a first line is a header: every field non-empty and not a number.</summary>
    /// <param name="fields">The line split at commas.</param>
    /// <returns>True for a header.</returns>
    public static bool IsHeader(string[] fields)
    {
        foreach (string field in fields)
        {
            string trimmed = field.Trim();
            if (trimmed.Length == 0 || double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            {
                return false;
            }
        }

        return true;
    }

    private static string Shorten(string field) => field.Length <= 40 ? field : field[..37] + "...";
}
