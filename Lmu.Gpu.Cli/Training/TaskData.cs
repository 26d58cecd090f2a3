using System.Buffers.Binary;
using System.IO.Compression;

namespace Lmu.Gpu.Cli.Training;

/// <summary>Data generators and readers of the training tasks.</summary>
public static class TaskData
{
    /// <summary>Band-limited white noise (as nengo's <c>WhiteSignal</c>): a sum of every harmonic k/L of the
    /// duration L up to <paramref name="cutoffHz"/>, with Gaussian amplitudes and uniform phases, scaled to
    /// max |x| = 1.</summary>
    /// <param name="steps">Samples.</param>
    /// <param name="dt">Seconds per sample.</param>
    /// <param name="cutoffHz">Highest frequency.</param>
    /// <param name="rng">Random source.</param>
    /// <returns>The signal.</returns>
    public static float[] WhiteNoise(int steps, double dt, double cutoffHz, Random rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        double duration = steps * dt;
        int harmonics = Math.Max(1, (int)Math.Floor(cutoffHz * duration));
        var signal = new double[steps];
        for (int k = 1; k <= harmonics; k++)
        {
            double amplitude = Gaussian(rng);
            double phase = rng.NextDouble() * 2 * Math.PI;
            double w = 2 * Math.PI * k / duration;
            for (int t = 0; t < steps; t++)
            {
                signal[t] += amplitude * Math.Sin((w * t * dt) + phase);
            }
        }

        double max = signal.Max(Math.Abs);
        return signal.Select(v => (float)(v / Math.Max(max, 1e-12))).ToArray();
    }

    /// <summary>Mackey-Glass series dx/dt = 0.2·x(t−τ)/(1 + x(t−τ)¹⁰) − 0.1·x, integrated with forward Euler at
    /// <paramref name="substeps"/> sub-steps per sample, history initialised to 1.2 ± 0.1 (uniform), squashed by
    /// tanh(x − 1), after <paramref name="washout"/> discarded samples. Not centred.</summary>
    /// <param name="series">Number of series.</param>
    /// <param name="length">Samples kept per series.</param>
    /// <param name="seed">Seed.</param>
    /// <param name="tau">Delay τ (17).</param>
    /// <param name="substeps">Euler sub-steps per sample (10).</param>
    /// <param name="washout">Discarded initial samples (100).</param>
    /// <returns>[series, length] row-major.</returns>
    public static float[] MackeyGlass(int series, int length, int seed, double tau = 17, int substeps = 10, int washout = 100)
    {
        var rng = new Random(seed);
        var result = new float[series * length];
        double dt = 1.0 / substeps;
        int historyLength = (int)Math.Round(tau / dt);
        for (int s = 0; s < series; s++)
        {
            var history = new double[historyLength];
            for (int i = 0; i < historyLength; i++)
            {
                history[i] = 1.2 + ((rng.NextDouble() * 0.2) - 0.1);
            }

            double x = history[historyLength - 1];
            int head = 0;
            for (int n = 0; n < washout + length; n++)
            {
                for (int k = 0; k < substeps; k++)
                {
                    double delayed = history[head];
                    double next = x + (dt * ((0.2 * delayed / (1 + Math.Pow(delayed, 10))) - (0.1 * x)));
                    history[head] = x;
                    head = (head + 1) % historyLength;
                    x = next;
                }

                if (n >= washout)
                {
                    result[(s * length) + n - washout] = (float)Math.Tanh(x - 1);
                }
            }
        }

        return result;
    }

    /// <summary>Reads an IDX file (optionally gzip-compressed): unsigned-byte images [N, rows·cols] or labels [N].</summary>
    /// <param name="path">The file.</param>
    /// <param name="dimensions">The sizes read from the header.</param>
    /// <returns>The raw bytes.</returns>
    /// <exception cref="InvalidDataException">Not an unsigned-byte IDX file, or truncated (the message names it).</exception>
    public static byte[] ReadIdx(string path, out int[] dimensions)
    {
        using var file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var memory = new MemoryStream();
        try
        {
            stream.CopyTo(memory);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"The IDX file '{path}' is corrupt: {e.Message}", e);
        }

        byte[] all = memory.ToArray();
        if (all.Length < 4 || all[0] != 0 || all[1] != 0 || all[2] != 0x08 || all[3] < 1 || all[3] > 4)
        {
            throw new InvalidDataException($"'{path}' is not an unsigned-byte IDX file (bad magic number).");
        }

        int count = all[3];
        if (all.Length < 4 + (4 * count))
        {
            throw new InvalidDataException($"The IDX file '{path}' is truncated (incomplete header).");
        }

        dimensions = new int[count];
        long total = 1;
        for (int i = 0; i < count; i++)
        {
            dimensions[i] = BinaryPrimitives.ReadInt32BigEndian(all.AsSpan(4 + (4 * i)));
            total *= dimensions[i];
        }

        int offset = 4 + (4 * count);
        if (dimensions.Any(d => d < 0) || all.Length - offset != total)
        {
            throw new InvalidDataException($"The IDX file '{path}' is truncated or corrupt: it holds {all.Length - offset} data bytes; its header announces {total}.");
        }

        return all[offset..];
    }

    /// <summary>Finds an IDX file by base name in a directory (plain or .gz).</summary>
    /// <param name="directory">Where to look.</param>
    /// <param name="names">Accepted base names (e.g. train-images-idx3-ubyte, train-images.idx3-ubyte).</param>
    /// <returns>The path.</returns>
    /// <exception cref="FileNotFoundException">None exists; the message names the directory and the names.</exception>
    public static string FindIdx(string directory, params string[] names)
    {
        ArgumentNullException.ThrowIfNull(names);
        foreach (string name in names)
        {
            foreach (string candidate in new[] { name, name + ".gz" })
            {
                string path = Path.Combine(directory, candidate);
                if (File.Exists(path))
                {
                    return path;
                }
            }
        }

        throw new FileNotFoundException($"No {names[0]}[.gz] in '{directory}'.", Path.Combine(directory, names[0]));
    }

    /// <summary>Writes an unsigned-byte IDX file (used to build small test datasets).</summary>
    /// <param name="path">The file.</param>
    /// <param name="data">The bytes.</param>
    /// <param name="dimensions">The sizes.</param>
    public static void WriteIdx(string path, byte[] data, params int[] dimensions)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(dimensions);
        using var stream = File.Create(path);
        stream.Write([0, 0, 0x08, (byte)dimensions.Length]);
        Span<byte> buffer = stackalloc byte[4];
        foreach (int d in dimensions)
        {
            BinaryPrimitives.WriteInt32BigEndian(buffer, d);
            stream.Write(buffer);
        }

        stream.Write(data);
    }

    internal static double Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble();
        double u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
