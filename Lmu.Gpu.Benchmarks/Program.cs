using BenchmarkDotNet.Running;

namespace Lmu.Gpu.Benchmarks;

/// <summary>Entry point of the benchmark suite.</summary>
public static class Program
{
    /// <summary>Runs the benchmarks chosen on the command line.</summary>
    /// <param name="args">BenchmarkDotNet arguments.</param>
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
