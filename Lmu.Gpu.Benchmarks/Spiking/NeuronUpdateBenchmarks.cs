using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Jobs;
using Lmu.Spiking;

namespace Lmu.Gpu.Benchmarks.Spiking;

/// <summary>Neuron updates per second of independent populations: <see cref="Steps"/> steps of
/// <see cref="Neurons"/> neurons per operation (dt = 1 ms; Poisson at 20 Hz or at 256 levels of mean 20 Hz, LIF at the
/// constant current that gives 20 Hz). Divide Neurons·Steps by the mean time for updates per second.</summary>
[SimpleJob(RuntimeMoniker.Net10_0, launchCount: 1, warmupCount: 1, iterationCount: 7, invocationCount: 1)]
[MinColumn]
[MedianColumn]
public class NeuronUpdateBenchmarks
{
    private LmuDevice? _device;

    /// <summary>The neuron model: poisson (one rate), poisson-levels (per-neuron rates from 256 levels over 0 … 40 Hz)
    /// or lif.</summary>
    [Params("poisson", "poisson-levels", "lif")]
    public string Type { get; set; } = "poisson";

    /// <summary>The accelerator: cpu (host path) by default; cuda where a GPU is present (pass
    /// <c>--envVars LMU_BENCH_ACCELERATOR:cuda</c>).</summary>
    [Params("env")]
    public string Accelerator { get; set; } = "env";

    /// <summary>The population size.</summary>
    [Params(1_000_000, 10_000_000)]
    public long Neurons { get; set; }

    /// <summary>Steps per operation.</summary>
    [Params(200)]
    public int Steps { get; set; }

    /// <summary>Opens the device.</summary>
    [GlobalSetup]
    public void Setup() => _device = LmuDevice.Open(Environment.GetEnvironmentVariable("LMU_BENCH_ACCELERATOR") ?? "cpu");

    /// <summary>Closes the device.</summary>
    [GlobalCleanup]
    public void Cleanup() => _device?.Dispose();

    private NeuronPopulation? _population;

    /// <summary>Creates a fresh population (not timed).</summary>
    [IterationSetup]
    public void CreatePopulation() => _population = Type switch
    {
        "poisson" => PoissonPopulation.Create(_device!, Neurons, 20),
        "poisson-levels" => PoissonLevelPopulation.Create(_device!, LevelRates, [.. Enumerable.Range(0, checked((int)Neurons)).Select(i => (ushort)(i % LevelRates.Length))]),
        _ => LifPopulation.Create(_device!, Neurons, new LifModel().CurrentForRate(20)),
    };

    /// <summary>Frees the population.</summary>
    [IterationCleanup]
    public void FreePopulation()
    {
        _population?.Dispose();
        _population = null;
    }

    /// <summary>Simulates <see cref="Steps"/> steps of the population.</summary>
    /// <returns>The number of steps run.</returns>
    [Benchmark]
    public long Simulate()
    {
        _population!.Run(Steps);
        _population.Synchronize();
        return _population.Step;
    }

    /// <summary>poisson-levels: 256 rates evenly over 0 … 40 Hz (mean 20 Hz), neuron i at level i mod 256.</summary>
    private static readonly double[] LevelRates = [.. Enumerable.Range(0, 256).Select(l => 40.0 * l / 255)];
}
