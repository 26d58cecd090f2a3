using BenchmarkDotNet.Attributes;
using ILGPU;
using ILGPU.Runtime;

namespace Lmu.Gpu.Benchmarks.Memory;

/// <summary>
/// All states of the linear memory over T steps on a GPU with the data in device memory (the input uploaded and the
/// [B, T, d] output allocated once; each operation is one run and a synchronise): the sequential kernel against the
/// chunked scan, the same runs as <c>lmu bench memory</c> times. θ = 1,000 steps; random input in [−1, 1].
/// [Params]: d ∈ {64, 256}, B ∈ {1, 16, 64}, T ∈ {1,000; 100,000}; <see cref="Accelerator"/>: cuda when present (the
/// class has no cases otherwise: the CPU simulator measures nothing about GPUs, and the host path has no device
/// memory). The target case is d = 256, B = 64, T = 100,000 (floor ≈ 14 ms on an H100).
/// </summary>
[MemoryDiagnoser(false)]
[MedianColumn]
public class DeviceScanBenchmarks
{
    private LmuDevice _device = null!;
    private LinearMemory _memory = null!;
    private MemoryBuffer1D<float, Stride1D.Dense> _input = null!;
    private MemoryBuffer1D<float, Stride1D.Dense> _states = null!;
    private SequenceMethod _method;

    /// <summary>Sequence length T.</summary>
    [Params(1_000, 100_000)]
    public int Steps { get; set; }

    /// <summary>Order d.</summary>
    [Params(64, 256)]
    public int Order { get; set; }

    /// <summary>Sequences B.</summary>
    [Params(1, 16, 64)]
    public int Batch { get; set; }

    /// <summary>sequential or scan.</summary>
    [Params("sequential", "scan")]
    public string Method { get; set; } = "scan";

    /// <summary>The GPU: cuda when one is present.</summary>
    [ParamsSource(nameof(Accelerators))]
    public string Accelerator { get; set; } = "cuda";

    /// <summary>"cuda" when a CUDA device is present, else nothing.</summary>
    /// <returns>The accelerator names.</returns>
    public static IEnumerable<string> Accelerators() => BenchmarkDevices.Names().Where(name => name != "cpu");

    /// <summary>Builds the memory, uploads the input and allocates the states on the device, and runs once (the
    /// kernels' compilation and the scan's plan and scratch are not timed).</summary>
    [GlobalSetup]
    public void Setup()
    {
        var system = LmuSystem.Create(Order, 1_000);
        _device = LmuDevice.Open(Accelerator);
        _memory = new LinearMemory(_device, system, Batch);
        _method = Method == "scan" ? SequenceMethod.Scan : SequenceMethod.Sequential;
        var rng = new Random(1);
        var input = new float[(long)Batch * Steps];
        for (int i = 0; i < input.Length; i++)
        {
            input[i] = (float)(rng.NextDouble() * 2 - 1);
        }

        _input = _device.Accelerator.Allocate1D(input);
        _states = _device.Accelerator.Allocate1D<float>((long)Batch * Steps * Order);
        Run();
    }

    /// <summary>Releases the buffers, the memory and the device.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _states.Dispose();
        _input.Dispose();
        _memory.Dispose();
        _device.Dispose();
    }

    /// <summary>One run of all B·T states into device memory, synchronised.</summary>
    [Benchmark]
    public void Run()
    {
        _memory.RunStates(_input.View, Steps, _states.View, _method);
        _device.Accelerator.Synchronize();
    }
}
