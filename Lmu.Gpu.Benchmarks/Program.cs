using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Lmu.Gpu.Benchmarks;

/// <summary>Entry point of the benchmark suite.</summary>
public static class Program
{
    /// <summary>Runs the benchmarks chosen on the command line (BenchmarkDotNet arguments, e.g.
    /// <c>--filter '*StepBenchmarks*' --job short</c>). <c>--inprocess</c> runs them inside this process with
    /// <see cref="InProcessEmitToolchain"/>: needed on a machine without the .NET SDK (e.g. a GPU box running a
    /// published build), where BenchmarkDotNet cannot build its usual child process.</summary>
    /// <param name="args">BenchmarkDotNet arguments, plus the optional <c>--inprocess</c>.</param>
    public static void Main(string[] args)
    {
        bool inProcess = args.Any(a => a.Equals("--inprocess", StringComparison.OrdinalIgnoreCase));
        string[] rest = args.Where(a => !a.Equals("--inprocess", StringComparison.OrdinalIgnoreCase)).ToArray();
        IConfig? config = null;
        if (inProcess)
        {
            bool shortJob = IndexOfJob(rest) is int i && i + 1 < rest.Length && rest[i + 1].Equals("short", StringComparison.OrdinalIgnoreCase);
            if (shortJob)
            {
                int i2 = IndexOfJob(rest)!.Value;
                rest = [.. rest[..i2], .. rest[(i2 + 2)..]];
            }

            var job = (shortJob ? Job.ShortRun : Job.Default).WithToolchain(InProcessEmitToolchain.Instance);
            config = ManualConfig.Create(DefaultConfig.Instance).AddJob(job);
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(rest, config);
    }

    private static int? IndexOfJob(string[] args)
    {
        int i = Array.FindIndex(args, a => a is "--job" or "-j");
        return i >= 0 ? i : null;
    }
}
