namespace Lmu.Gpu;

/// <summary>Parses accelerator names as given on the command line or in <c>LMU_ACCELERATOR</c>.</summary>
public static class AcceleratorKindParser
{
    /// <summary>The environment variable that picks the accelerator when none is given explicitly.</summary>
    public const string EnvironmentVariable = "LMU_ACCELERATOR";

    /// <summary>The names accepted by <see cref="Parse"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["auto", "cpu", "cuda", "opencl", "cpu-sim"];

    /// <summary>Parses an accelerator name (case-insensitive): auto, cpu, cuda, opencl or cpu-sim.</summary>
    /// <param name="name">The name.</param>
    /// <returns>The kind.</returns>
    /// <exception cref="ArgumentException">The name is unknown; the message lists the valid names.</exception>
    public static AcceleratorKind Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToUpperInvariant() switch
        {
            "AUTO" => AcceleratorKind.Auto,
            "CPU" or "HOST" => AcceleratorKind.Cpu,
            "CUDA" => AcceleratorKind.Cuda,
            "OPENCL" or "CL" => AcceleratorKind.OpenCL,
            "CPU-SIM" or "CPUSIM" or "SIMULATOR" => AcceleratorKind.CpuSimulator,
            _ => throw new ArgumentException(
                $"Unknown accelerator '{name}'. Valid names: {string.Join(", ", Names)}.", nameof(name)),
        };
    }

    /// <summary>Returns the canonical name of a kind (the inverse of <see cref="Parse"/>).</summary>
    /// <param name="kind">The kind.</param>
    /// <returns>Its name.</returns>
    public static string ToName(this AcceleratorKind kind) => kind switch
    {
        AcceleratorKind.Auto => "auto",
        AcceleratorKind.Cpu => "cpu",
        AcceleratorKind.Cuda => "cuda",
        AcceleratorKind.OpenCL => "opencl",
        AcceleratorKind.CpuSimulator => "cpu-sim",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown accelerator kind."),
    };

    /// <summary>Parses a device name: a kind as <see cref="Parse"/> takes it, optionally followed by <c>:index</c>
    /// (<c>cuda:1</c>, the second CUDA device; case-insensitive, surrounding spaces ignored).</summary>
    /// <param name="name">The name.</param>
    /// <returns>The selection; the index is 0 when none is given.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    /// <exception cref="ArgumentException">The kind is unknown, or the index is not a non-negative integer, or an
    /// index other than 0 is given for auto or cpu (which have one device each).</exception>
    public static DeviceSelection ParseSelection(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        int colon = name.LastIndexOf(':');
        if (colon < 0)
        {
            return new DeviceSelection(Parse(name));
        }

        var kind = Parse(name[..colon]);
        string indexText = name[(colon + 1)..].Trim();
        if (!int.TryParse(indexText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int index))
        {
            throw new ArgumentException(
                $"Bad device index '{indexText}' in '{name.Trim()}': write {kind.ToName()}:N with N = 0, 1, … as lmu info numbers the devices.",
                nameof(name));
        }

        if (index != 0 && kind is AcceleratorKind.Auto or AcceleratorKind.Cpu)
        {
            throw new ArgumentException(
                $"'{name.Trim()}': {kind.ToName()} has a single device (index 0); name the backend to pick one of several GPUs, e.g. cuda:{index}.",
                nameof(name));
        }

        return new DeviceSelection(kind, index);
    }

    /// <summary>Resolves the kind to use: an explicit name wins, else <c>LMU_ACCELERATOR</c>, else auto.</summary>
    /// <param name="explicitName">A name given by the caller, or null.</param>
    /// <returns>The kind.</returns>
    /// <exception cref="ArgumentException">A name (explicit or from the environment) is unknown.</exception>
    public static AcceleratorKind Resolve(string? explicitName) => ResolveSelection(explicitName).Kind;

    /// <summary>Resolves the device to use: an explicit name wins, else <c>LMU_ACCELERATOR</c>, else auto. Either
    /// may carry an index (<c>cuda:1</c>).</summary>
    /// <param name="explicitName">A name given by the caller, or null.</param>
    /// <returns>The selection.</returns>
    /// <exception cref="ArgumentException">A name (explicit or from the environment) is unknown or has a bad
    /// index; one from the environment says so.</exception>
    public static DeviceSelection ResolveSelection(string? explicitName)
    {
        if (!string.IsNullOrWhiteSpace(explicitName))
        {
            return ParseSelection(explicitName);
        }

        string? fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return new DeviceSelection(AcceleratorKind.Auto);
        }

        try
        {
            return ParseSelection(fromEnvironment);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{EnvironmentVariable}: {e.Message}", nameof(explicitName), e);
        }
    }
}
