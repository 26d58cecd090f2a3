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

    /// <summary>Resolves the kind to use: an explicit name wins, else <c>LMU_ACCELERATOR</c>, else auto.</summary>
    /// <param name="explicitName">A name given by the caller, or null.</param>
    /// <returns>The kind.</returns>
    /// <exception cref="ArgumentException">A name (explicit or from the environment) is unknown.</exception>
    public static AcceleratorKind Resolve(string? explicitName)
    {
        if (!string.IsNullOrWhiteSpace(explicitName))
        {
            return Parse(explicitName);
        }

        string? fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return AcceleratorKind.Auto;
        }

        try
        {
            return Parse(fromEnvironment);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{EnvironmentVariable}: {e.Message}", nameof(explicitName), e);
        }
    }
}
