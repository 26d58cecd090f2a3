using System.Globalization;
using Lmu.Gpu.Training;

namespace Lmu.Gpu.Cli.Training;

/// <summary>
/// A layer given on the command line (<c>lmu train npz --layer</c>) as <c>KIND[:KEY=VALUE,…]</c>, added to a model:
/// <c>lmu</c> (an LMU cell), <c>ff</c> (a feedforward LMU), <c>bi-lmu</c> and <c>bi-ff</c> (a bidirectional pair of
/// either, both halves with the same options), <c>dense</c> and <c>dropout</c>. LMU layers take <c>units</c>,
/// <c>order</c>, <c>theta</c> (in steps; default: the training sequences' length), <c>channels</c>,
/// <c>activation</c>, <c>discretizer</c> (zoh or euler), <c>dt</c>, <c>trainable-theta</c>, <c>memory-bias</c>,
/// <c>hidden-bias</c> and <c>input-to-hidden</c>; cells also <c>hidden-to-memory</c>, <c>memory-to-memory</c> and
/// <c>hidden-to-hidden</c>; bidirectional pairs also <c>merge</c> (concat, sum or ave). <c>dense:UNITS</c> or <c>dense:units=U,activation=A</c>; <c>dropout:RATE</c>.
/// Unset keys keep the library's defaults (units = order = 64 for LMU layers).
/// </summary>
internal static class LayerSpec
{
    private static readonly string[] CommonKeys =
        ["units", "order", "theta", "channels", "activation", "discretizer", "dt", "trainable-theta", "memory-bias", "hidden-bias", "input-to-hidden"];

    private static readonly string[] CellKeys = [.. CommonKeys, "hidden-to-memory", "memory-to-memory", "hidden-to-hidden"];

    /// <summary>Adds the layer <paramref name="spec"/> describes to <paramref name="model"/>.</summary>
    /// <param name="model">The model; the layer's input size is its current width.</param>
    /// <param name="spec">KIND[:KEY=VALUE,…].</param>
    /// <param name="defaultTheta">θ where the spec gives none (the training sequences' length).</param>
    /// <exception cref="ArgumentException">An unknown kind or key, a value that does not parse, or options the library
    /// refuses; the message quotes the spec.</exception>
    public static void Add(LmuModel model, string spec, double defaultTheta)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(spec);
        int colon = spec.IndexOf(':', StringComparison.Ordinal);
        string kind = (colon < 0 ? spec : spec[..colon]).Trim().ToLowerInvariant();
        string rest = colon < 0 ? string.Empty : spec[(colon + 1)..];
        try
        {
            switch (kind)
            {
                case "lmu":
                    model.AddLmu(Cell(Keys(rest, CellKeys), model.Width, defaultTheta));
                    break;
                case "bi-lmu":
                    var cellKeys = Keys(rest, [.. CellKeys, "merge"]);
                    model.AddBidirectional(Cell(cellKeys, model.Width, defaultTheta), merge: Merge(cellKeys));
                    break;
                case "ff":
                    model.AddFeedforwardLmu(Feedforward(Keys(rest, CommonKeys), model.Width, defaultTheta));
                    break;
                case "bi-ff":
                    var feedforwardKeys = Keys(rest, [.. CommonKeys, "merge"]);
                    model.AddBidirectional(Feedforward(feedforwardKeys, model.Width, defaultTheta), merge: Merge(feedforwardKeys));
                    break;
                case "dense":
                    var dense = Keys(rest, ["units", "activation"], bare: "units");
                    model.AddDense(Int(dense, "units", null), dense.TryGetValue("activation", out string? a) ? ActivationExtensions.Parse(a) : Activation.Linear);
                    break;
                case "dropout":
                    model.AddDropout(Double(Keys(rest, ["rate"], bare: "rate"), "rate", null));
                    break;
                default:
                    throw new ArgumentException($"unknown kind '{kind}'; use lmu, ff, bi-lmu, bi-ff, dense or dropout");
            }
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            throw new ArgumentException($"--layer '{spec}': {e.Message}", e);
        }
    }

    /// <summary>The keys LMU cells and feedforward layers share, read once; the activation defaults differ.</summary>
    private readonly record struct Memory(int Units, int Order, double Theta, int Channels, Activation? Activation, Discretizer Discretizer,
        double Dt, bool TrainableTheta, bool MemoryBias, bool? HiddenBias, bool InputToHidden)
    {
        public static Memory Read(Dictionary<string, string> keys, double defaultTheta) => new(
            Int(keys, "units", 64), Int(keys, "order", 64), Double(keys, "theta", defaultTheta), Int(keys, "channels", 1),
            keys.TryGetValue("activation", out string? a) ? ActivationExtensions.Parse(a) : null, ReadDiscretizer(keys), Double(keys, "dt", 1),
            Bool(keys, "trainable-theta", false), Bool(keys, "memory-bias", false),
            keys.ContainsKey("hidden-bias") ? Bool(keys, "hidden-bias", false) : null, Bool(keys, "input-to-hidden", true));
    }

    private static LmuCellOptions Cell(Dictionary<string, string> keys, int inputSize, double defaultTheta)
    {
        var m = Memory.Read(keys, defaultTheta);
        return new()
        {
            InputSize = inputSize, Units = m.Units, Order = m.Order, Theta = m.Theta, MemoryChannels = m.Channels,
            Activation = m.Activation ?? Activation.Tanh, Discretizer = m.Discretizer, Dt = m.Dt, TrainableTheta = m.TrainableTheta,
            MemoryBias = m.MemoryBias, HiddenBias = m.HiddenBias ?? false, InputToHidden = m.InputToHidden,
            HiddenToMemory = Bool(keys, "hidden-to-memory", true),
            MemoryToMemory = Bool(keys, "memory-to-memory", true),
            HiddenToHidden = Bool(keys, "hidden-to-hidden", true),
        };
    }

    private static FeedforwardLmuOptions Feedforward(Dictionary<string, string> keys, int inputSize, double defaultTheta)
    {
        var m = Memory.Read(keys, defaultTheta);
        return new()
        {
            InputSize = inputSize, Units = m.Units, Order = m.Order, Theta = m.Theta, MemoryChannels = m.Channels,
            Activation = m.Activation ?? Activation.Relu, Discretizer = m.Discretizer, Dt = m.Dt, TrainableTheta = m.TrainableTheta,
            MemoryBias = m.MemoryBias, HiddenBias = m.HiddenBias ?? true, InputToHidden = m.InputToHidden,
        };
    }

    /// <summary>KEY=VALUE pairs separated by commas; with <paramref name="bare"/>, a lone value is that key's.</summary>
    private static Dictionary<string, string> Keys(string text, string[] allowed, string? bare = null)
    {
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            string key = eq < 0 ? bare ?? throw new ArgumentException($"'{part}' is not KEY=VALUE") : part[..eq].Trim().ToLowerInvariant();
            string value = eq < 0 ? part : part[(eq + 1)..].Trim();
            if (!allowed.Contains(key))
            {
                throw new ArgumentException($"unknown key '{key}' (keys: {string.Join(", ", allowed)})");
            }

            if (!keys.TryAdd(key, value))
            {
                throw new ArgumentException($"'{key}' is given twice");
            }
        }

        return keys;
    }

    private static int Int(Dictionary<string, string> keys, string key, int? fallback) =>
        keys.TryGetValue(key, out string? v)
            ? int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i) ? i : throw new ArgumentException($"{key}={v} is not an integer")
            : fallback ?? throw new ArgumentException($"{key} is required");

    private static double Double(Dictionary<string, string> keys, string key, double? fallback) =>
        keys.TryGetValue(key, out string? v)
            ? double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : throw new ArgumentException($"{key}={v} is not a number")
            : fallback ?? throw new ArgumentException($"{key} is required");

    private static bool Bool(Dictionary<string, string> keys, string key, bool fallback) =>
        !keys.TryGetValue(key, out string? v) ? fallback : v.ToLowerInvariant() switch
        {
            "true" or "1" or "yes" or "on" => true,
            "false" or "0" or "no" or "off" => false,
            _ => throw new ArgumentException($"{key}={v} is not true or false"),
        };

    private static BidirectionalMerge Merge(Dictionary<string, string> keys) =>
        !keys.TryGetValue("merge", out string? v) ? BidirectionalMerge.Concat : v.ToLowerInvariant() switch
        {
            "concat" => BidirectionalMerge.Concat,
            "sum" => BidirectionalMerge.Sum,
            "ave" or "average" or "mean" => BidirectionalMerge.Average,
            _ => throw new ArgumentException($"merge={v} is not concat, sum or ave"),
        };

    private static Discretizer ReadDiscretizer(Dictionary<string, string> keys) =>
        !keys.TryGetValue("discretizer", out string? v) ? Gpu.Discretizer.ZeroOrderHold : v.ToLowerInvariant() switch
        {
            "zoh" => Gpu.Discretizer.ZeroOrderHold,
            "euler" => Gpu.Discretizer.Euler,
            _ => throw new ArgumentException($"discretizer={v} is not zoh or euler"),
        };
}
