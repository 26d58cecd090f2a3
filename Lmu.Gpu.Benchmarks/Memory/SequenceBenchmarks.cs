using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;

namespace Lmu.Gpu.Benchmarks.Memory;

/// <summary>
/// A 100,000-step sequence run of B memories (k = 1) of order d from zero states to the final state
/// (<see cref="LinearMemory.RunFinalState(ReadOnlySpan{float}, int, SequenceMethod)"/>, sequential method), against plain sequential C# baselines that compute
/// the same final states: a naive double <c>for</c> loop per step, and one <c>TensorPrimitives.Dot</c> per row.
/// </summary>
/// <remarks>
/// [Params]: <see cref="Batch"/> B ∈ {1, 8}, <see cref="Order"/> d ∈ {16, 64}, T = <see cref="Steps"/> = 100,000;
/// <see cref="Accelerator"/>: cpu (host path) and cuda when present. The library call includes uploading the
/// B·T inputs and reading back the final states.
/// </remarks>
[MemoryDiagnoser]
[MedianColumn]
public class SequenceBenchmarks
{
    /// <summary>Steps T per run.</summary>
    public const int Steps = 100_000;

    private LmuDevice _device = null!;
    private LinearMemory _memory = null!;
    private float[] _a = null!;
    private float[] _b = null!;
    private float[] _input = null!;

    /// <summary>Sequences B.</summary>
    [Params(1, 8)]
    public int Batch { get; set; }

    /// <summary>Order d.</summary>
    [Params(16, 64)]
    public int Order { get; set; }

    /// <summary>Accelerator of the <see cref="LinearMemoryRun"/> benchmark.</summary>
    [ParamsSource(typeof(BenchmarkDevices), nameof(BenchmarkDevices.Names))]
    public string Accelerator { get; set; } = "cpu";

    /// <summary>Builds the system, the memory and the inputs [B, T, 1].</summary>
    [GlobalSetup]
    public void Setup()
    {
        var system = LmuSystem.Create(Order, 1000);
        _device = LmuDevice.Open(Accelerator);
        _memory = new LinearMemory(_device, system, Batch, 1);
        _a = Array.ConvertAll(system.DiscreteA.ToArray(), x => (float)x);
        _b = Array.ConvertAll(system.DiscreteB.ToArray(), x => (float)x);
        var random = new Random(1);
        _input = new float[Batch * Steps];
        for (int i = 0; i < _input.Length; i++)
        {
            _input[i] = (float)(2 * random.NextDouble() - 1);
        }

        _memory.RunFinalState(_input.AsSpan(0, Batch), 1, SequenceMethod.Sequential); // warm-up (kernel compilation)
    }

    /// <summary>Releases the memory and device.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _memory.Dispose();
        _device.Dispose();
    }

    /// <summary>Baseline: naive double loop per step.</summary>
    /// <returns>A value of the final states, so the work is not eliminated.</returns>
    [Benchmark(Baseline = true)]
    public float NaiveLoop()
    {
        int d = Order;
        var m = new float[d];
        var next = new float[d];
        float sum = 0;
        for (int b = 0; b < Batch; b++)
        {
            Array.Clear(m);
            for (int t = 0; t < Steps; t++)
            {
                float u = _input[b * Steps + t];
                for (int i = 0; i < d; i++)
                {
                    float acc = _b[i] * u;
                    for (int j = 0; j < d; j++)
                    {
                        acc += _a[i * d + j] * m[j];
                    }

                    next[i] = acc;
                }

                (m, next) = (next, m);
            }

            sum += m[0];
        }

        return sum;
    }

    /// <summary>Baseline: one <c>TensorPrimitives.Dot</c> per row per step.</summary>
    /// <returns>A value of the final states.</returns>
    [Benchmark]
    public float TensorPrimitivesDot()
    {
        int d = Order;
        var m = new float[d];
        var next = new float[d];
        float sum = 0;
        for (int b = 0; b < Batch; b++)
        {
            Array.Clear(m);
            for (int t = 0; t < Steps; t++)
            {
                float u = _input[b * Steps + t];
                for (int i = 0; i < d; i++)
                {
                    next[i] = TensorPrimitives.Dot(_a.AsSpan(i * d, d), m) + _b[i] * u;
                }

                (m, next) = (next, m);
            }

            sum += m[0];
        }

        return sum;
    }

    /// <summary>Baseline: the host path's sequential run before 2026-11-27, one memory at a time (in parallel over the
    /// memories); <see cref="LinearMemoryRun"/> now steps three or more memories in groups of eight
    /// (<see cref="HostSequence"/>). The same call as <see cref="LinearMemoryRun"/> on other accelerators.</summary>
    /// <returns>The final states.</returns>
    [Benchmark]
    public float[] LinearMemoryOneAtATime()
    {
        HostMemoryEngine.ForceOneAtATime = true;
        try
        {
            return LinearMemoryRun();
        }
        finally
        {
            HostMemoryEngine.ForceOneAtATime = false;
        }
    }

    /// <summary>The library: <see cref="LinearMemory.RunFinalState(ReadOnlySpan{float}, int, SequenceMethod)"/> from zero states on <see cref="Accelerator"/>.</summary>
    /// <returns>The final states.</returns>
    [Benchmark]
    public float[] LinearMemoryRun()
    {
        _memory.Reset();
        return _memory.RunFinalState(_input, Steps, SequenceMethod.Sequential);
    }
}
