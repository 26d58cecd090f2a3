using BenchmarkDotNet.Attributes;

namespace Lmu.Gpu.Benchmarks.Memory;

/// <summary>
/// The final state only (<see cref="LinearMemory.RunFinalState(ReadOnlySpan{float}, int, SequenceMethod)"/>) of B sequences of T steps with θ = 1,000 ≪ T:
/// the sequential run, the chained scan (chunk ends and their carries), and the window start, which computes each
/// final state from its last H inputs (H = 1,792 at d = 256, 2,432 at d = 64; ‖Ā^H‖ &lt; 2⁻²⁴) and so costs the same at
/// every T. The accelerator is <c>$LMU_ACCELERATOR</c> (default cpu, the host path; on a device the window is
/// <see cref="ScanWindowUse"/>).
/// </summary>
[MemoryDiagnoser(false)]
[MedianColumn]
public class FinalStateBenchmarks
{
    private LmuDevice _device = null!;
    private LinearMemory _memory = null!;
    private float[] _input = null!;
    private SequenceMethod _method;

    /// <summary>Sequence length T.</summary>
    [Params(10_000, 100_000)]
    public int Steps { get; set; }

    /// <summary>Order d.</summary>
    [Params(64, 256)]
    public int Order { get; set; }

    /// <summary>Sequences B.</summary>
    [Params(16)]
    public int Batch { get; set; }

    /// <summary>sequential, chained (the scan without the window) or window.</summary>
    [Params("sequential", "chained", "window")]
    public string Method { get; set; } = "window";

    /// <summary>Builds the memory and the input, and computes H once (cached per system, as in an application).</summary>
    [GlobalSetup]
    public void Setup()
    {
        var system = LmuSystem.Create(Order, 1_000);
        _device = LmuDevice.Open(Environment.GetEnvironmentVariable("LMU_ACCELERATOR") ?? "cpu");
        _memory = new LinearMemory(_device, system, Batch);
        _memory.Engine.WindowUse = Method == "window" ? ScanWindowUse.Always : ScanWindowUse.Never;

        _method = Method == "sequential" ? SequenceMethod.Sequential : SequenceMethod.Scan;
        var rng = new Random(1);
        _input = new float[(long)Batch * Steps];
        for (int i = 0; i < _input.Length; i++)
        {
            _input[i] = (float)(rng.NextDouble() * 2 - 1);
        }

        _ = ScanWindow.Horizon(system);
        _memory.RunFinalState(_input, Steps, _method);
    }

    /// <summary>Releases the memory and the device.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _memory.Dispose();
        _device.Dispose();
    }

    /// <summary>One final-only run from zero states.</summary>
    /// <returns>The final states.</returns>
    [Benchmark]
    public float[] Run()
    {
        _memory.Reset();
        return _memory.RunFinalState(_input, Steps, _method);
    }
}
