using System.CommandLine;
using Lmu.Gpu.Cli.Commands;

namespace Lmu.Gpu.Cli;

/// <summary>Entry point of the <c>lmu</c> command.</summary>
public static class Program
{
    /// <summary>Runs the command line.</summary>
    /// <param name="args">The arguments.</param>
    /// <returns>0 on success; 1 on bad input or a failed job, with a one-line reason on standard error.</returns>
    public static int Main(string[] args) => BuildRoot().Parse(args).Invoke();

    /// <summary>Builds the command tree (also used by tests).</summary>
    /// <returns>The root command.</returns>
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("lmu: Legendre Memory Units on GPUs (CUDA, OpenCL) and CPUs, from Lmu.Gpu.");
        root.Subcommands.Add(InfoCommand.Create());
        root.Subcommands.Add(MatricesCommand.Create());
        root.Subcommands.Add(MemoryCommand.Create());
        root.Subcommands.Add(DelayCommand.Create());
        root.Subcommands.Add(SelfTestCommand.Create());
        root.Subcommands.Add(CapacityCommand.Create());
        root.Subcommands.Add(SpikeCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(PredictCommand.Create());
        root.Subcommands.Add(PtxCommand.Create());

        var bench = new Command("bench", "Measures the library's kernels and prints one result line per run.");
        bench.Subcommands.Add(BenchMemoryCommand.Create());
        bench.Subcommands.Add(BenchNeuronsCommand.Create());
        bench.Subcommands.Add(BenchTrainingCommand.Create());
        bench.Subcommands.Add(BenchStreamCommand.Create());
        root.Subcommands.Add(bench);
        return root;
    }
}
