using BenchmarkDotNet.Attributes;

namespace Lmu.Gpu.Benchmarks.Systems;

/// <summary>
/// The host's setup in double before a memory runs: <see cref="LmuSystem.Create"/> (the zero-order hold's matrix
/// exponential: a degree-16 Taylor series and its squarings, all on the SIMD double product) and a scan plan's tables
/// (Ā^L by squaring and the impulse response, L = 1,024). A trainable θ rebuilds the system at every training step. Each
/// iteration builds the system for a θ it has not seen, so no cache can answer.
/// </summary>
[MemoryDiagnoser(false)]
[MedianColumn]
public class SystemSetupBenchmarks
{
    private LmuSystem _system = null!;
    private double _theta = 1_000;

    /// <summary>Order d.</summary>
    [Params(64, 256, 512)]
    public int Order { get; set; }

    /// <summary>Builds the system the plan benchmark reads.</summary>
    [GlobalSetup]
    public void Setup() => _system = LmuSystem.Create(Order, 1_000);

    /// <summary>One system of order d (θ about 1,000 steps, ZOH).</summary>
    /// <returns>The system.</returns>
    [Benchmark]
    public LmuSystem Create()
    {
        _theta += 1e-3;
        return LmuSystem.Create(Order, _theta);
    }

    /// <summary>A scan plan of chunk length 1,024 for T = 10⁵.</summary>
    /// <returns>The plan.</returns>
    [Benchmark]
    public object Plan() => ScanPlan.Create(_system, 100_000, 1_024);
}
