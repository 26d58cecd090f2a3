using BenchmarkDotNet.Attributes;

namespace Lmu.Gpu.Benchmarks.Memory;

/// <summary>
/// All states of the linear memory over T steps: sequential vs the chunked scan vs the fft baseline (keras-lmu's
/// LMUFeedforward: impulse response convolved by FFT of length ≥ 2T, on the host). θ = 1,000 steps; random input in
/// [−1, 1]. The accelerator is $LMU_ACCELERATOR (default cpu, the host path); fft always runs on the host.
/// </summary>
[MemoryDiagnoser(false)]
public class ScanBenchmarks
{
    private LmuDevice _device = null!;
    private LinearMemory _memory = null!;
    private FftMemory? _fft;
    private float[] _input = null!;
    private float[] _output = null!;

    /// <summary>Sequence length T.</summary>
    [Params(1_000, 100_000)]
    public int Steps { get; set; }

    /// <summary>Order d.</summary>
    [Params(64, 256)]
    public int Order { get; set; }

    /// <summary>Sequences B.</summary>
    [Params(1, 16)]
    public virtual int Batch { get; set; }

    /// <summary>sequential, scan, auto or fft.</summary>
    [Params("sequential", "scan", "fft")]
    public virtual string Method { get; set; } = "scan";

    /// <summary>Builds the memory, the input and (for fft) the impulse-response spectra.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var system = LmuSystem.Create(Order, 1_000);
        _device = LmuDevice.Open(Environment.GetEnvironmentVariable("LMU_ACCELERATOR") ?? "cpu");
        _memory = new LinearMemory(_device, system, Batch);
        var rng = new Random(1);
        _input = new float[(long)Batch * Steps];
        for (int i = 0; i < _input.Length; i++)
        {
            _input[i] = (float)(rng.NextDouble() * 2 - 1);
        }

        _output = new float[(long)Batch * Steps * Order];
        _fft = Method == "fft" ? new FftMemory(system, Steps) : null;
    }

    /// <summary>Releases the memory and the device.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _memory.Dispose();
        _device.Dispose();
    }

    /// <summary>One run of all B·T states into a preallocated host buffer (on a GPU this includes the transfers;
    /// <c>lmu bench memory</c> times device-resident runs).</summary>
    [Benchmark]
    public void Run()
    {
        if (_fft is not null)
        {
            _fft.RunStates(_input, Batch, _output);
            return;
        }

        _memory.RunStatesInto(_input, Steps, SequenceMethodParser.ParseMethod(Method), _output);
    }
}

/// <summary>The same runs without fft at B = 16 (a single fft run at B = 16, d = 256, T = 100,000 takes minutes on two
/// cores; <c>lmu bench memory --method fft</c> measures it): sequential, scan and auto (the method
/// <see cref="SequenceMethod.Auto"/> picks, which should time as the faster of the two) at B ∈ {1, 16}.</summary>
public class ScanBatchBenchmarks : ScanBenchmarks
{
    /// <inheritdoc/>
    [Params(1, 16)]
    public override int Batch { get; set; }

    /// <inheritdoc/>
    [Params("sequential", "scan", "auto")]
    public override string Method { get; set; } = "scan";
}

/// <summary>The fft baseline at B = 1.</summary>
public class FftBaselineBenchmarks : ScanBenchmarks
{
    /// <inheritdoc/>
    [Params(1)]
    public override int Batch { get; set; }

    /// <inheritdoc/>
    [Params("fft")]
    public override string Method { get; set; } = "fft";
}
