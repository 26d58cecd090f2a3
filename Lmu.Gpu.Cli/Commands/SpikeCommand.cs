using System.CommandLine;

namespace Lmu.Gpu.Cli.Commands;

/// <summary><c>lmu spike</c> (placeholder).</summary>
internal static class SpikeCommand
{
    public static Command Create() => new("spike", "Runs the spiking LMU memory.");
}
