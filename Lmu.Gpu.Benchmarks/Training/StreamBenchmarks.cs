using BenchmarkDotNet.Attributes;
using Lmu.Gpu.Training;

namespace Lmu.Gpu.Benchmarks.Training;

/// <summary>
/// Streaming inference (<see cref="LmuModelStream"/>): the latency of one step, and of a 100-step piece, for B
/// sequences fed side by side; <see cref="Predict100"/> runs the same 100 steps through <see cref="LmuModel.Predict(float[], int, int, int, System.Threading.CancellationToken)"/>
/// (from zero, no states carried) for the overhead of the stream. The device is <c>$LMU_ACCELERATOR</c> (default
/// auto). Shapes: <c>mackey-glass</c> (4 × LMU cell(49, d = 4) + Dense(1), outputs per step), <c>psmnist-paper</c>
/// (LMU cell(212, d = 256) + Dense(10), output at the last step), <c>psmnist-feedforward</c> (feedforward LMU(346,
/// d = 468) + Dense(10), output at the last step).
/// </summary>
[MemoryDiagnoser]
public class StreamBenchmarks
{
    private LmuDevice _device = null!;
    private LmuModel _model = null!;
    private LmuModelStream _stream = null!;
    private float[] _step = [];
    private float[] _piece = [];
    private float[] _stepOutput = [];
    private float[] _pieceOutput = [];

    /// <summary>The model.</summary>
    [Params("mackey-glass", "psmnist-paper", "psmnist-feedforward")]
    public string Shape { get; set; } = "mackey-glass";

    /// <summary>B: sequences advanced side by side.</summary>
    [Params(1, 64)]
    public int Batch { get; set; } = 1;

    /// <summary>Builds the model, opens the stream and warms both paths up (kernel compilation, buffers).</summary>
    [GlobalSetup]
    public void Setup()
    {
        _device = LmuDevice.Open((string?)null);
        _model = BenchmarkModels.Create(Shape, _device);
        var rng = new Random(1);
        _step = Random(rng, Batch);
        _piece = Random(rng, Batch * 100);
        _stream = _model.OpenStream(Batch);
        _stepOutput = new float[_stream.OutputLength(1)];
        _pieceOutput = new float[_stream.OutputLength(100)];
        _stream.Run(_piece, 100, _pieceOutput);
        _stream.Run(_step, 1, _stepOutput);
        _model.Predict(_piece, Batch, 100, Batch);
    }

    /// <summary>One step of every sequence.</summary>
    /// <returns>An output.</returns>
    [Benchmark]
    public float Step()
    {
        _stream.Run(_step, 1, _stepOutput);
        return _stepOutput[0];
    }

    /// <summary>100 steps of every sequence in one call.</summary>
    /// <returns>An output.</returns>
    [Benchmark]
    public float Piece100()
    {
        _stream.Run(_piece, 100, _pieceOutput);
        return _pieceOutput[0];
    }

    /// <summary>The same 100 steps by <see cref="LmuModel.Predict(float[], int, int, int, System.Threading.CancellationToken)"/>, from zero state.</summary>
    /// <returns>An output.</returns>
    [Benchmark(Baseline = true)]
    public float Predict100() => _model.Predict(_piece, Batch, 100, Batch)[0];

    /// <summary>Releases the stream, model and device.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _stream.Dispose();
        _model.Dispose();
        _device.Dispose();
    }

    private static float[] Random(Random rng, int length)
    {
        var values = new float[length];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)((rng.NextDouble() * 2) - 1);
        }

        return values;
    }
}
