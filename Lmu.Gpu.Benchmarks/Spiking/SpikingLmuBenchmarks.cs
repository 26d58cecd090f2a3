using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Jobs;
using Lmu.Spiking;

namespace Lmu.Gpu.Benchmarks.Spiking;

/// <summary>The spiking LMU memory (NEF, <see cref="SpikingLmu"/>) per neuron type: d = 4 ensembles of
/// <see cref="NeuronsPerDimension"/> neurons, θ = 0.5 s, dt = 1 ms, 500 steps of band-limited noise per operation
/// (synapses, the d×d recurrence and every neuron's update and decoding). Divide 4·NeuronsPerDimension·500 by the mean
/// time for neuron updates per second.</summary>
[SimpleJob(RuntimeMoniker.Net10_0, launchCount: 1, warmupCount: 1, iterationCount: 7)]
[MinColumn]
[MedianColumn]
public class SpikingLmuBenchmarks
{
    private const int Order = 4, Steps = 500;
    private LmuDevice? _device;
    private SpikingLmu? _lmu;
    private float[] _input = [];

    /// <summary>The neuron type: poisson-relu, spiking-relu (regular spiking) or lif.</summary>
    [Params("poisson-relu", "spiking-relu", "lif")]
    public string Type { get; set; } = "poisson-relu";

    /// <summary>Neurons per dimension.</summary>
    [Params(250_000)]
    public int NeuronsPerDimension { get; set; }

    /// <summary>Opens the device (<c>LMU_BENCH_ACCELERATOR</c>, default cpu) and builds the network (decoders solved).</summary>
    [GlobalSetup]
    public void Setup()
    {
        _device = LmuDevice.Open(Environment.GetEnvironmentVariable("LMU_BENCH_ACCELERATOR") ?? "cpu");
        var system = LmuSystem.Create(Order, 0.5, 0.001);
        _input = BandLimitedNoise.Generate(Steps, 1, 0.001, 5, 0.5, 1);
        var type = Type switch
        {
            "spiking-relu" => NeuronType.SpikingRectifiedLinear,
            "lif" => NeuronType.Lif,
            _ => NeuronType.PoissonRectifiedLinear,
        };
        _lmu = SpikingLmu.Create(new SpikingLmuOptions
        {
            Order = Order, Theta = 0.5, NeuronsPerDimension = NeuronsPerDimension, NeuronType = type, Seed = 2,
            MaxRateLow = type == NeuronType.Lif ? 50 : 100, MaxRateHigh = type == NeuronType.Lif ? 100 : 200,
            Radii = SpikingLmu.MeasureRadii(system, _input, 1),
        });
    }

    /// <summary>Closes the device.</summary>
    [GlobalCleanup]
    public void Cleanup() => _device?.Dispose();

    /// <summary>Runs the network over the input.</summary>
    /// <returns>The spikes fired.</returns>
    [Benchmark]
    public long Run() => _lmu!.Run(_device!, _input).TotalSpikes;
}
