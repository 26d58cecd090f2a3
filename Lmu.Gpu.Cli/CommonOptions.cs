using System.CommandLine;

namespace Lmu.Gpu.Cli;

/// <summary>Options shared by several commands.</summary>
internal static class CommonOptions
{
    /// <summary>--accelerator: auto, cpu, cuda, opencl or cpu-sim, the last three with an optional :index; defaults to
    /// LMU_ACCELERATOR, else auto.</summary>
    public static Option<string?> Accelerator() => new("--accelerator", "-a")
    {
        Description = "auto (CUDA, then OpenCL, then CPU), cpu (host SIMD path), cuda, opencl, or cpu-sim " +
                      "(ILGPU's CPU simulator, for testing kernels); cuda:1 picks the second CUDA GPU (lmu info numbers them). " +
                      "Default: $LMU_ACCELERATOR, else auto.",
    };

    /// <summary>--order: the memory order d.</summary>
    public static Option<int> Order(int? defaultValue = null)
    {
        var option = new Option<int>("--order", "-d") { Description = "Memory order d (number of Legendre coefficients)." };
        if (defaultValue is int value)
        {
            option.DefaultValueFactory = _ => value;
        }
        else
        {
            option.Required = true;
        }

        return option;
    }

    /// <summary>--theta: the window θ, in steps of dt.</summary>
    public static Option<double> Theta(double? defaultValue = null)
    {
        var option = new Option<double>("--theta") { Description = "Window length θ (in units of dt; with dt = 1, in steps)." };
        if (defaultValue is double value)
        {
            option.DefaultValueFactory = _ => value;
        }
        else
        {
            option.Required = true;
        }

        return option;
    }

    /// <summary>--dt: the time step.</summary>
    public static Option<double> Dt() => new("--dt") { Description = "Time step dt (default 1).", DefaultValueFactory = _ => 1.0 };

    /// <summary>--discretizer: zoh or euler.</summary>
    public static Option<string> Discretizer() => new("--discretizer")
    {
        Description = "zoh (zero-order hold, default) or euler.",
        DefaultValueFactory = _ => "zoh",
    };

    /// <summary>--seed: the random seed.</summary>
    public static Option<int> Seed() => new("--seed") { Description = "Random seed (default 1).", DefaultValueFactory = _ => 1 };

    /// <summary>Parses a discretizer name.</summary>
    public static Discretizer ParseDiscretizer(string? name) => name?.Trim().ToUpperInvariant() switch
    {
        "ZOH" or null or "" => Gpu.Discretizer.ZeroOrderHold,
        "EULER" => Gpu.Discretizer.Euler,
        _ => throw new ArgumentException($"--discretizer: unknown '{name}'; use zoh or euler."),
    };
}
