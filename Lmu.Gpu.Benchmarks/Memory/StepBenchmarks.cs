using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;

namespace Lmu.Gpu.Benchmarks.Memory;

/// <summary>
/// One streaming state update m ← Ā·m + B̄·u for B·k memories of order d (float32), through
/// <see cref="LinearMemory.Step(ReadOnlySpan{float})"/>, against two plain sequential C# baselines over the same data: a naive double
/// <c>for</c> loop over the rows of Ā, and one <see cref="TensorPrimitives.Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/>
/// per row; and against the host path's earlier step, one memory at a time (<see cref="PerMemoryAdvance"/>).
/// </summary>
/// <remarks>
/// [Params]: <see cref="Batch"/> B ∈ {1, 64} sequences, <see cref="Channels"/> k ∈ {1, 4} memories per sequence,
/// <see cref="Order"/> d ∈ {32, 256}; <see cref="Accelerator"/>: cpu (host path) and cuda when present. The baselines
/// do not use the accelerator; their ratio column compares each accelerator's Step with them. On CUDA a Step
/// includes the upload of the B·k inputs and a synchronisation, i.e. a streaming call as a user makes it.
/// </remarks>
[MemoryDiagnoser]
[MedianColumn]
public class StepBenchmarks
{
    private LmuDevice _device = null!;
    private LinearMemory _memory = null!;
    private float[] _a = null!;
    private float[] _aT = null!;
    private float[] _b = null!;
    private float[] _states = null!;
    private float[] _next = null!;
    private float[] _input = null!;

    /// <summary>Sequences B.</summary>
    [Params(1, 64)]
    public int Batch { get; set; }

    /// <summary>Channels k per sequence.</summary>
    [Params(1, 4)]
    public int Channels { get; set; }

    /// <summary>Order d.</summary>
    [Params(32, 256)]
    public int Order { get; set; }

    /// <summary>Accelerator of the <see cref="LinearMemoryStep"/> benchmark.</summary>
    [ParamsSource(typeof(BenchmarkDevices), nameof(BenchmarkDevices.Names))]
    public string Accelerator { get; set; } = "cpu";

    /// <summary>Builds the system, the memory and the baseline arrays.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var system = LmuSystem.Create(Order, 1000);
        _device = LmuDevice.Open(Accelerator);
        _memory = new LinearMemory(_device, system, Batch, Channels);
        _a = Array.ConvertAll(system.DiscreteA.ToArray(), x => (float)x);
        _aT = system.DiscreteATransposedSingle();
        _b = Array.ConvertAll(system.DiscreteB.ToArray(), x => (float)x);
        int n = Batch * Channels;
        _states = new float[n * Order];
        _next = new float[Order];
        var random = new Random(1);
        _input = new float[n];
        for (int i = 0; i < n; i++)
        {
            _input[i] = (float)(2 * random.NextDouble() - 1);
        }

        _memory.Step(_input); // warm-up: kernel compilation on an accelerator
    }

    /// <summary>Releases the memory and device.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _memory.Dispose();
        _device.Dispose();
    }

    /// <summary>Baseline: naive double loop over the rows of Ā.</summary>
    [Benchmark(Baseline = true)]
    public void NaiveLoop()
    {
        int d = Order;
        for (int n = 0; n < _input.Length; n++)
        {
            var m = _states.AsSpan(n * d, d);
            float u = _input[n];
            for (int i = 0; i < d; i++)
            {
                float acc = _b[i] * u;
                for (int j = 0; j < d; j++)
                {
                    acc += _a[i * d + j] * m[j];
                }

                _next[i] = acc;
            }

            _next.CopyTo(m);
        }
    }

    /// <summary>Baseline: one <c>TensorPrimitives.Dot</c> per row of Ā.</summary>
    [Benchmark]
    public void TensorPrimitivesDot()
    {
        int d = Order;
        for (int n = 0; n < _input.Length; n++)
        {
            var m = _states.AsSpan(n * d, d);
            float u = _input[n];
            for (int i = 0; i < d; i++)
            {
                _next[i] = TensorPrimitives.Dot(_a.AsSpan(i * d, d), m) + _b[i] * u;
            }

            _next.CopyTo(m);
        }
    }

    /// <summary>Baseline: the host path's step before 2026-11-27, one memory at a time on one thread through the
    /// library's register-blocked matrix-vector kernel (<see cref="HostMemoryMath.Advance"/>), which streams all of Āᵀ
    /// once per memory. <see cref="LinearMemoryStep"/> now advances many memories as one product.</summary>
    [Benchmark]
    public void PerMemoryAdvance()
    {
        int d = Order;
        for (int n = 0; n < _input.Length; n++)
        {
            var m = _states.AsSpan(n * d, d);
            HostMemoryMath.Advance(_aT, _b, m, _input[n], _next);
            _next.CopyTo(m);
        }
    }

    /// <summary>The library: <see cref="LinearMemory.Step(ReadOnlySpan{float})"/> on <see cref="Accelerator"/>.</summary>
    [Benchmark]
    public void LinearMemoryStep() => _memory.Step(_input);
}
