using BenchmarkDotNet.Attributes;

namespace Lmu.Gpu.Benchmarks.Memory;

/// <summary>
/// The adjoint λ_t = g_t + Āᵀ·λ_(t+1) over T steps with ∂u and ∂m₀ (<see cref="LinearMemory.RunAdjoint(ReadOnlySpan{float}, int, Span{float}, Span{float}, Span{float}, SequenceMethod)"/>,
/// what training runs backwards): sequential (reverse steps; from three memories in groups of eight) vs the chunked
/// scan (each chunk twice: from zero, then from its carry) vs auto. θ = 1,000 steps; random gradients in [−1, 1]; the
/// outputs preallocated. The accelerator is $LMU_ACCELERATOR (default cpu, the host path).
/// </summary>
[MemoryDiagnoser(false)]
public class AdjointBenchmarks
{
    private LmuDevice _device = null!;
    private LinearMemory _memory = null!;
    private float[] _gradients = null!;
    private float[] _lambda = null!;
    private float[] _inputGradient = null!;
    private float[] _initialGradient = null!;

    /// <summary>Sequence length T.</summary>
    [Params(1_000, 100_000)]
    public int Steps { get; set; }

    /// <summary>Order d.</summary>
    [Params(64, 256)]
    public int Order { get; set; }

    /// <summary>Sequences B.</summary>
    [Params(1, 16)]
    public int Batch { get; set; }

    /// <summary>sequential, scan or auto.</summary>
    [Params("sequential", "scan", "auto")]
    public string Method { get; set; } = "scan";

    /// <summary>Builds the memory, the gradients and the outputs.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _device = LmuDevice.Open(Environment.GetEnvironmentVariable("LMU_ACCELERATOR") ?? "cpu");
        _memory = new LinearMemory(_device, LmuSystem.Create(Order, 1_000), Batch);
        var rng = new Random(1);
        long length = (long)Batch * Steps * Order;
        _gradients = new float[length];
        for (long i = 0; i < length; i++)
        {
            _gradients[i] = (float)(rng.NextDouble() * 2 - 1);
        }

        _lambda = new float[length];
        _inputGradient = new float[(long)Batch * Steps];
        _initialGradient = new float[_memory.StateLength];
    }

    /// <summary>Releases the memory and the device.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _memory.Dispose();
        _device.Dispose();
    }

    /// <summary>One adjoint run of B sequences.</summary>
    [Benchmark]
    public void Run() => _memory.RunAdjoint(_gradients, Steps, _lambda, _inputGradient, _initialGradient, SequenceMethodParser.ParseMethod(Method));
}
