using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lmu.Gpu.Training;

/// <summary>
/// Saving and loading weights. File format (version 1), see docs/results/training-file-format.md:
/// line 1 the ASCII magic <c>LMU-WEIGHTS 1</c>; line 2 a one-line UTF-8 JSON header (input size, return-sequences
/// flag, trained sequence length, the layers with every option, the parameter count and an FNV-1a 64-bit checksum of
/// the parameter bytes, hex); then the flat parameter vector as little-endian float32, layer by layer. Files are
/// written to a temporary name and renamed, so a crash never leaves a half-written file under the real name.
/// </summary>
public sealed partial class LmuModel
{
    private const string Magic = "LMU-WEIGHTS 1";

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Saves the model's structure and weights (atomically).</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public void Save(string path) => Write(path, withOptimizerState: false);

    /// <summary>Saves the model's structure, weights and optimiser state (Adam's moments and step count, the dropout
    /// masks' step), atomically: a checkpoint that <see cref="Load"/> restores so that training continues exactly as
    /// if it had not stopped. <see cref="FitOptions.CheckpointPath"/> writes these.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="IOException">The file cannot be written.</exception>
    /// <remarks>The file is the weights file (format version 2 when it holds optimiser state: the moments follow the
    /// weights, docs/results/training-file-format.md); about three times the size of <see cref="Save(string)"/>'s with
    /// Adam.</remarks>
    public void SaveCheckpoint(string path) => Write(path, withOptimizerState: true);

    private void Write(string path, bool withOptimizerState)
    {
        using var scope = new OperationScope(this);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        float[] parameters = GetParameters();
        bool moments = withOptimizerState && _adamM is not null;
        float[] values = moments ? [.. parameters, .. _backend.Download(_adamM!.All), .. _backend.Download(_adamV!.All)] : parameters;
        byte[] bytes = new byte[values.Length * sizeof(float)];
        for (int i = 0; i < values.Length; i++)
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(i * 4), values[i]);
        }

        var header = new FileHeader
        {
            Version = withOptimizerState ? 2 : 1,
            InputSize = InputSize,
            ReturnSequences = ReturnSequences,
            Seed = _seed,
            SequenceLength = SequenceLength,
            Parameters = parameters.Length,
            Checksum = Fnv1a(bytes).ToString("x16", CultureInfo.InvariantCulture),
            Layers = _layers.Select(ToFile).ToList(),
            Optimizer = withOptimizerState ? new OptimizerEntry { AdamSteps = _adamStep, DropoutSteps = _dropoutStep, Moments = moments } : null,
        };
        string full = Path.GetFullPath(path);
        string? dir = Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(dir))
        {
            Directory.CreateDirectory(dir);
        }

        string temp = full + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(Encoding.ASCII.GetBytes(Magic + "\n"));
                stream.Write(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header, JsonOptions) + "\n"));
                stream.Write(bytes);
                stream.Flush(true);
            }

            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>Loads a model saved by <see cref="Save"/>.</summary>
    /// <param name="device">The device to put it on.</param>
    /// <param name="path">The file.</param>
    /// <returns>The model.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist (the message names it).</exception>
    /// <exception cref="InvalidDataException">The file is not a weights file, is truncated, or its checksum or
    /// structure is wrong (the message names it).</exception>
    public static LmuModel Load(LmuDevice device, string path)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The weights file '{path}' does not exist.", path);
        }

        byte[] all = File.ReadAllBytes(path);
        int first = Array.IndexOf(all, (byte)'\n');
        if (first < 0 || Encoding.ASCII.GetString(all, 0, first) != Magic)
        {
            throw new InvalidDataException($"'{path}' is not an Lmu.Gpu weights file (it does not start with '{Magic}').");
        }

        int second = Array.IndexOf(all, (byte)'\n', first + 1);
        if (second < 0)
        {
            throw new InvalidDataException($"The weights file '{path}' is truncated: its header line is incomplete.");
        }

        FileHeader header;
        try
        {
            header = JsonSerializer.Deserialize<FileHeader>(all.AsSpan(first + 1, second - first - 1), JsonOptions)
                     ?? throw new InvalidDataException("empty header");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The weights file '{path}' has a corrupt header: {e.Message}", e);
        }

        if (header.Version is not (1 or 2))
        {
            throw new InvalidDataException($"The weights file '{path}' is of format version {header.Version}; this library reads versions 1 and 2.");
        }

        long payload = all.LongLength - second - 1;
        long floats = (long)header.Parameters * (header.Optimizer is { Moments: true } ? 3 : 1);
        if (header.Parameters < 0 || payload != floats * sizeof(float))
        {
            throw new InvalidDataException($"The weights file '{path}' is truncated or corrupt: it holds {payload} bytes of weights; the header announces {floats} floats ({floats * 4} bytes).");
        }

        var bytes = all.AsSpan(second + 1);
        if (Fnv1a(bytes).ToString("x16", CultureInfo.InvariantCulture) != header.Checksum)
        {
            throw new InvalidDataException($"The weights file '{path}' is corrupt: its checksum does not match.");
        }

        LmuModel model;
        try
        {
            model = new LmuModel(device, header.InputSize, header.ReturnSequences, header.Seed);
            foreach (var layer in header.Layers ?? [])
            {
                AddFromFile(model, layer);
            }
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new InvalidDataException($"The weights file '{path}' describes an invalid model: {e.Message}", e);
        }

        var parameters = new float[header.Parameters];
        for (int i = 0; i < parameters.Length; i++)
        {
            parameters[i] = BitConverter.ToSingle(bytes.Slice(i * 4, 4));
        }

        if (model.ParameterVectorLength != parameters.Length)
        {
            model.Dispose();
            throw new InvalidDataException($"The weights file '{path}' is corrupt: its layers need {model.ParameterVectorLength} parameters but it holds {parameters.Length}.");
        }

        try
        {
            model.SetParameters(parameters);
            if (header.Optimizer is { } optimizer)
            {
                float[]? moments = null;
                if (optimizer.Moments)
                {
                    moments = new float[2 * parameters.Length];
                    for (int i = 0; i < moments.Length; i++)
                    {
                        moments[i] = BitConverter.ToSingle(bytes.Slice((parameters.Length + i) * 4, 4));
                    }
                }

                model.RestoreOptimizer(optimizer.AdamSteps, optimizer.DropoutSteps, moments);
            }
        }
        catch (ArgumentException e)
        {
            model.Dispose();
            throw new InvalidDataException($"The weights file '{path}' is corrupt: {e.Message}", e);
        }

        model.SequenceLength = header.SequenceLength;
        return model;
    }

    private static void AddFromFile(LmuModel model, LayerEntry e)
    {
        switch (e.Kind)
        {
            case "lmu":
                model.AddLmu(CellOptions(e, model.Width));
                break;
            case "lmu-feedforward":
                model.AddFeedforwardLmu(FeedforwardOptions(e, model.Width));
                break;
            case "bidirectional":
                var forward = e.Forward ?? throw new ArgumentException("a bidirectional layer without its forward layer");
                var backward = e.Backward ?? throw new ArgumentException("a bidirectional layer without its backward layer");
                if (forward.Kind != backward.Kind)
                {
                    throw new ArgumentException($"a bidirectional layer of a '{forward.Kind}' and a '{backward.Kind}' layer");
                }

                var merge = e.Merge switch
                {
                    null or "concat" => BidirectionalMerge.Concat,
                    "sum" => BidirectionalMerge.Sum,
                    "average" => BidirectionalMerge.Average,
                    _ => throw new ArgumentException($"a bidirectional layer with merge '{e.Merge}'"),
                };
                switch (forward.Kind)
                {
                    case "lmu":
                        model.AddBidirectional(CellOptions(forward, model.Width), CellOptions(backward, model.Width), merge);
                        break;
                    case "lmu-feedforward":
                        model.AddBidirectional(FeedforwardOptions(forward, model.Width), FeedforwardOptions(backward, model.Width), merge);
                        break;
                    default:
                        throw new ArgumentException($"a bidirectional layer of kind '{forward.Kind}'");
                }

                break;
            case "dropout":
                model.AddDropout(e.Rate);
                break;
            case "dense":
                model.AddDense(e.Units, ActivationExtensions.Parse(e.Activation ?? "linear"));
                break;
            default:
                throw new ArgumentException($"unknown layer kind '{e.Kind}'");
        }
    }

    private static Discretizer DiscretizerOf(LayerEntry e) =>
        string.Equals(e.Discretizer, "euler", StringComparison.OrdinalIgnoreCase) ? Discretizer.Euler : Discretizer.ZeroOrderHold;

    private static LmuCellOptions CellOptions(LayerEntry e, int inputSize) => new()
    {
        InputSize = inputSize, Units = e.Units, Order = e.Order, Theta = e.Theta, MemoryChannels = e.Channels,
        Activation = ActivationExtensions.Parse(e.Activation ?? "linear"), Discretizer = DiscretizerOf(e), Dt = e.Dt, InputToHidden = e.InputToHidden,
        HiddenToMemory = e.HiddenToMemory, MemoryToMemory = e.MemoryToMemory, HiddenToHidden = e.HiddenToHidden,
        MemoryBias = e.MemoryBias, HiddenBias = e.HiddenBias, TrainableTheta = e.TrainableTheta,
    };

    private static FeedforwardLmuOptions FeedforwardOptions(LayerEntry e, int inputSize) => new()
    {
        InputSize = inputSize, Units = e.Units, Order = e.Order, Theta = e.Theta, MemoryChannels = e.Channels,
        Activation = ActivationExtensions.Parse(e.Activation ?? "linear"), Discretizer = DiscretizerOf(e), Dt = e.Dt, InputToHidden = e.InputToHidden,
        MemoryBias = e.MemoryBias, HiddenBias = e.HiddenBias, TrainableTheta = e.TrainableTheta,
    };

    private static LayerEntry ToFile(ModelLayer layer) => layer switch
    {
        CellModelLayer c => new LayerEntry
        {
            Kind = "lmu", Units = c.Options.Units, Order = c.Options.Order, Theta = c.Options.Theta, Channels = c.Options.MemoryChannels,
            Activation = c.Options.Activation.ToString().ToLowerInvariant(), Discretizer = c.Options.Discretizer == Discretizer.Euler ? "euler" : "zoh",
            Dt = c.Options.Dt, InputToHidden = c.Options.InputToHidden, HiddenToMemory = c.Options.HiddenToMemory, MemoryToMemory = c.Options.MemoryToMemory,
            HiddenToHidden = c.Options.HiddenToHidden, MemoryBias = c.Options.MemoryBias, HiddenBias = c.Options.HiddenBias, TrainableTheta = c.Options.TrainableTheta,
        },
        FeedforwardModelLayer f => new LayerEntry
        {
            Kind = "lmu-feedforward", Units = f.Options.Units, Order = f.Options.Order, Theta = f.Options.Theta, Channels = f.Options.MemoryChannels,
            Activation = f.Options.Activation.ToString().ToLowerInvariant(), Discretizer = f.Options.Discretizer == Discretizer.Euler ? "euler" : "zoh",
            Dt = f.Options.Dt, InputToHidden = f.Options.InputToHidden, MemoryBias = f.Options.MemoryBias, HiddenBias = f.Options.HiddenBias, TrainableTheta = f.Options.TrainableTheta,
        },
        BidirectionalModelLayer b => new LayerEntry
        {
            Kind = "bidirectional", Units = b.OutputWidth, Forward = ToFile(b.ForwardLayer), Backward = ToFile(b.BackwardLayer),
            Merge = b.Merge == BidirectionalMerge.Concat ? null : b.Merge.ToString().ToLowerInvariant(),
        },
        DenseModelLayer d => new LayerEntry { Kind = "dense", Units = d.OutputWidth, Activation = d.Activation.ToString().ToLowerInvariant() },
        DropoutModelLayer o => new LayerEntry { Kind = "dropout", Units = o.OutputWidth, Rate = o.Rate },
        _ => throw new InvalidOperationException("Unknown layer type."),
    };

    private static ulong Fnv1a(ReadOnlySpan<byte> bytes)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte b in bytes)
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }

        return hash;
    }

    private sealed class FileHeader
    {
        public string Format { get; set; } = "lmu-gpu-weights";

        public int Version { get; set; } = 1;

        public int InputSize { get; set; }

        public bool ReturnSequences { get; set; }

        /// <summary>The model's seed (its dropout masks' key); files before it hold none and read as 1, the default.</summary>
        public int Seed { get; set; } = 1;

        public int SequenceLength { get; set; }

        public int Parameters { get; set; }

        public string Checksum { get; set; } = string.Empty;

        public List<LayerEntry>? Layers { get; set; }

        /// <summary>Version 2: the optimiser state of a checkpoint.</summary>
        public OptimizerEntry? Optimizer { get; set; }
    }

    private sealed class OptimizerEntry
    {
        /// <summary>Adam steps taken (its bias corrections).</summary>
        public long AdamSteps { get; set; }

        /// <summary>The dropout masks' step counter.</summary>
        public uint DropoutSteps { get; set; }

        /// <summary>Whether Adam's first and second moments (each one float per parameter) follow the weights.</summary>
        public bool Moments { get; set; }
    }

    private sealed class LayerEntry
    {
        public string Kind { get; set; } = string.Empty;

        public double Rate { get; set; }

        public int Units { get; set; }

        public int Order { get; set; }

        public double Theta { get; set; }

        public int Channels { get; set; } = 1;

        public string? Activation { get; set; }

        public string? Discretizer { get; set; }

        public double Dt { get; set; } = 1;

        public bool InputToHidden { get; set; }

        public bool HiddenToMemory { get; set; }

        public bool MemoryToMemory { get; set; }

        public bool HiddenToHidden { get; set; }

        public bool MemoryBias { get; set; }

        public bool HiddenBias { get; set; }

        public bool TrainableTheta { get; set; }

        /// <summary>A bidirectional layer's forward layer.</summary>
        public LayerEntry? Forward { get; set; }

        /// <summary>A bidirectional layer's backward layer.</summary>
        public LayerEntry? Backward { get; set; }

        /// <summary>A bidirectional layer's merge: absent for side by side, else "sum" or "average".</summary>
        public string? Merge { get; set; }
    }
}
