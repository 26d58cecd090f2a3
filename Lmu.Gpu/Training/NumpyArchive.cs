using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;

namespace Lmu.Gpu.Training;

/// <summary>
/// Reads numpy's <c>.npz</c> archives and <c>.npy</c> files (format versions 1–3) of float (32 or 64 bits), integer
/// (8 to 64 bits, signed or not) or bool arrays, in C or Fortran order and either byte order, into float32 row-major
/// arrays: the way weights leave a Python session
/// (<c>np.savez("lmu.npz", **{w.name: w.numpy() for w in layer.weights})</c>) for
/// <see cref="LmuModel.ImportKeras(int, KerasLmuWeights)"/>.
/// </summary>
public static class NumpyArchive
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Reads every array of an <c>.npz</c> archive, keyed by name (the entry name without <c>.npy</c>; Keras
    /// names such as <c>lmu/kernel:0</c> come through as saved), or the one array of a <c>.npy</c> file, keyed by the
    /// file's name without its extension.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The arrays.</returns>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is neither an archive of arrays nor an array, or an array is of
    /// another dtype (complex, string, object), or is truncated; the message names the file and the entry.</exception>
    public static IReadOnlyDictionary<string, NumpyArray> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No numpy file at '{path}'.", path);
        }

        using var file = File.OpenRead(path);
        Span<byte> head = stackalloc byte[6];
        int got = file.ReadAtLeast(head, 6, throwOnEndOfStream: false);
        file.Position = 0;
        if (got == 6 && head.SequenceEqual(Magic))
        {
            return new Dictionary<string, NumpyArray> { [Path.GetFileNameWithoutExtension(path)] = ReadArray(file, path) };
        }

        var result = new Dictionary<string, NumpyArray>(StringComparer.Ordinal);
        try
        {
            using var zip = new ZipArchive(file, ZipArchiveMode.Read);
            foreach (var entry in zip.Entries.Where(e => e.Name.Length > 0))
            {
                string name = entry.FullName.EndsWith(".npy", StringComparison.Ordinal) ? entry.FullName[..^4] : entry.FullName;
                using var stream = entry.Open();
                using var buffer = new MemoryStream();
                stream.CopyTo(buffer);
                buffer.Position = 0;
                result[name] = ReadArray(buffer, $"{path}: {entry.FullName}");
            }
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: not a numpy .npz archive or .npy file ({e.Message}).", e);
        }

        return result;
    }

    /// <summary>Writes arrays to an <c>.npz</c> archive (each a float32, C-order <c>.npy</c> entry named by its key), as
    /// <c>np.savez</c> does, so that <c>np.load(path)[name]</c> gives them back in Python. The file is written to a
    /// temporary name beside <paramref name="path"/> and renamed over it.</summary>
    /// <param name="path">The file.</param>
    /// <param name="arrays">The arrays by name (a Keras weight name such as <c>lmu/kernel:0</c> is fine).</param>
    /// <exception cref="ArgumentException">There are no arrays, a name is empty, or an array's shape does not hold its
    /// values (the message names it).</exception>
    public static void Write(string path, IReadOnlyDictionary<string, NumpyArray> arrays)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(arrays);
        if (arrays.Count == 0)
        {
            throw new ArgumentException("Give at least one array.", nameof(arrays));
        }

        foreach (var (name, array) in arrays)
        {
            if (string.IsNullOrEmpty(name))
            {
                throw new ArgumentException("An array has an empty name.", nameof(arrays));
            }

            long count = array.Shape.Aggregate(1L, (a, b) => a * b);
            if (array.Shape.Any(d => d < 0) || count != array.Values.Length)
            {
                throw new ArgumentException($"'{name}': shape [{string.Join(", ", array.Shape)}] holds {count} values, not {array.Values.Length}.", nameof(arrays));
            }
        }

        string temporary = path + ".tmp-" + Environment.ProcessId;
        try
        {
            using (var zip = ZipFile.Open(temporary, ZipArchiveMode.Create))
            {
                foreach (var (name, array) in arrays)
                {
                    using var entry = zip.CreateEntry(name + ".npy", CompressionLevel.Fastest).Open();
                    WriteArray(entry, array);
                }
            }

            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>Writes one array as a format 1.0 <c>.npy</c> (float32, little-endian, C order).</summary>
    /// <param name="stream">Where to write.</param>
    /// <param name="array">The array.</param>
    public static void WriteArray(Stream stream, NumpyArray array)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(array);
        string shape = array.Shape.Count == 1
            ? $"({array.Shape[0]},)"
            : "(" + string.Join(", ", array.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")";
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}";
        int padding = (64 - ((10 + dict.Length + 1) % 64)) % 64;
        string header = dict + new string(' ', padding) + "\n";
        Span<byte> head = stackalloc byte[10];
        Magic.CopyTo(head);
        head[6] = 1;
        head[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(head[8..], checked((ushort)header.Length));
        stream.Write(head);
        stream.Write(Encoding.Latin1.GetBytes(header));
        var bytes = new byte[array.Values.Length * sizeof(float)];
        for (int i = 0; i < array.Values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), array.Values[i]);
        }

        stream.Write(bytes);
    }

    /// <summary>Reads one <c>.npy</c> array from a stream.</summary>
    /// <param name="stream">The stream, at the array's first byte.</param>
    /// <param name="name">What to call it in errors.</param>
    /// <returns>The array.</returns>
    /// <exception cref="InvalidDataException">Not an array this reader takes, or truncated.</exception>
    public static NumpyArray ReadArray(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var reader = new BinaryReader(stream);
        byte[] magic = reader.ReadBytes(8);
        if (magic.Length < 8 || !magic.AsSpan(0, 6).SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{name}: not a numpy .npy array (no \\x93NUMPY magic).");
        }

        int major = magic[6];
        int headerLength = major switch
        {
            1 => reader.ReadUInt16(),
            2 or 3 => checked((int)reader.ReadUInt32()),
            _ => throw new InvalidDataException($"{name}: .npy format version {major}.{magic[7]} is not one of 1, 2, 3."),
        };
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(reader.ReadBytes(headerLength));
        string descr = HeaderField(header, "descr", name);
        bool fortran = HeaderField(header, "fortran_order", name) == "True";
        var shape = ParseShape(HeaderField(header, "shape", name), name);
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var (kind, size, big) = ParseDescr(descr.Trim('\'', '"'), name);
        if (count * size > Array.MaxLength)
        {
            throw new InvalidDataException($"{name}: {count} values are too many for one array.");
        }

        byte[] data = reader.ReadBytes((int)(count * size));
        if (data.Length != count * size)
        {
            throw new InvalidDataException($"{name}: truncated: {data.Length} of {count * size} bytes of data.");
        }

        var values = new float[count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = Element(data.AsSpan(i * size, size), kind, big);
        }

        return new NumpyArray(shape, fortran && shape.Length > 1 ? ToRowMajor(values, shape) : values);
    }

    /// <summary>A dtype string such as <c>&lt;f4</c>, <c>|u1</c> or <c>&gt;i8</c>: its kind (f, i, u or b), item size and
    /// byte order.</summary>
    private static (char Kind, int Size, bool BigEndian) ParseDescr(string descr, string name)
    {
        var match = Regex.Match(descr, @"^([<>|=]?)([fiub])([1248])$");
        var result = match.Success ? (Kind: match.Groups[2].Value[0], Size: match.Groups[3].Value[0] - '0', BigEndian: match.Groups[1].Value == ">") : default;
        bool known = match.Success && result.Kind switch
        {
            'f' => result.Size is 4 or 8,
            'b' => result.Size == 1,
            _ => true,
        };
        return known
            ? result
            : throw new InvalidDataException($"{name}: dtype '{descr}' is not a float (float32, float64), integer (8 to 64 bits, signed or not) or bool array.");
    }

    /// <summary>One element as float32 (integers beyond 2²⁴ round to the nearest float).</summary>
    private static float Element(ReadOnlySpan<byte> bytes, char kind, bool big) => (kind, bytes.Length) switch
    {
        ('f', 4) => big ? BinaryPrimitives.ReadSingleBigEndian(bytes) : BinaryPrimitives.ReadSingleLittleEndian(bytes),
        ('f', _) => (float)(big ? BinaryPrimitives.ReadDoubleBigEndian(bytes) : BinaryPrimitives.ReadDoubleLittleEndian(bytes)),
        ('i', 1) => (sbyte)bytes[0],
        ('i', 2) => big ? BinaryPrimitives.ReadInt16BigEndian(bytes) : BinaryPrimitives.ReadInt16LittleEndian(bytes),
        ('i', 4) => big ? BinaryPrimitives.ReadInt32BigEndian(bytes) : BinaryPrimitives.ReadInt32LittleEndian(bytes),
        ('i', _) => big ? BinaryPrimitives.ReadInt64BigEndian(bytes) : BinaryPrimitives.ReadInt64LittleEndian(bytes),
        ('u' or 'b', 1) => bytes[0],
        ('u', 2) => big ? BinaryPrimitives.ReadUInt16BigEndian(bytes) : BinaryPrimitives.ReadUInt16LittleEndian(bytes),
        ('u', 4) => big ? BinaryPrimitives.ReadUInt32BigEndian(bytes) : BinaryPrimitives.ReadUInt32LittleEndian(bytes),
        _ => big ? BinaryPrimitives.ReadUInt64BigEndian(bytes) : BinaryPrimitives.ReadUInt64LittleEndian(bytes),
    };

    /// <summary>The value of one key of the header dictionary: a quoted string, True/False, or a tuple.</summary>
    private static string HeaderField(string header, string key, string name)
    {
        var match = Regex.Match(header, $@"['""]{key}['""]\s*:\s*('[^']*'|""[^""]*""|\([^)]*\)|True|False)");
        return match.Success ? match.Groups[1].Value : throw new InvalidDataException($"{name}: the .npy header has no '{key}': {header.Trim()}");
    }

    private static int[] ParseShape(string tuple, string name)
    {
        var parts = tuple.Trim('(', ')').Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var shape = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i].TrimEnd('L'), NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]))
            {
                throw new InvalidDataException($"{name}: bad shape {tuple}.");
            }
        }

        return shape;
    }

    /// <summary>Column-major (Fortran) values to row-major.</summary>
    private static float[] ToRowMajor(float[] values, int[] shape)
    {
        var result = new float[values.Length];
        var index = new int[shape.Length];
        for (int c = 0; c < result.Length; c++)
        {
            // c is the row-major position of index; its column-major position walks the dimensions from the first.
            long f = 0;
            long stride = 1;
            for (int d = 0; d < shape.Length; d++)
            {
                f += index[d] * stride;
                stride *= shape[d];
            }

            result[c] = values[f];
            for (int d = shape.Length - 1; d >= 0 && ++index[d] == shape[d]; d--)
            {
                index[d] = 0;
            }
        }

        return result;
    }
}
