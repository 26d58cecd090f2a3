using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Jobs;
using Lmu.Spiking;

namespace Lmu.Gpu.Benchmarks.Spiking;

/// <summary>Neuron updates per second of independent populations: <see cref="Steps"/> steps of
/// <see cref="Neurons"/> neurons per operation (dt = 1 ms; Poisson at 20 Hz, LIF at the constant current that gives
/// 20 Hz). Divide Neurons·Steps by the mean time for updates per second.</summary>
[SimpleJob(RuntimeMoniker.Net10_0, launchCount: 1, warmupCount: 1, iterationCount: 7, invocationCount: 1)]
[MinColumn]
[MedianColumn]
public class NeuronUpdateBenchmarks
{
    private LmuDevice? _device;

    /// <summary>The neuron model: poisson or lif.</summary>
    [Params("poisson", "lif")]
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

    private PoissonPopulation? _poisson;
    private LifPopulation? _lif;

    /// <summary>Creates a fresh population (not timed).</summary>
    [IterationSetup]
    public void CreatePopulation()
    {
        if (Type == "poisson")
        {
            _poisson = PoissonPopulation.Create(_device!, Neurons, 20);
        }
        else
        {
            _lif = LifPopulation.Create(_device!, Neurons, new LifModel().CurrentForRate(20));
        }
    }

    /// <summary>Frees the population.</summary>
    [IterationCleanup]
    public void FreePopulation()
    {
        _poisson?.Dispose();
        _lif?.Dispose();
        _poisson = null;
        _lif = null;
    }

    /// <summary>Simulates <see cref="Steps"/> steps of the population.</summary>
    /// <returns>The number of steps run.</returns>
    [Benchmark]
    public long Simulate()
    {
        if (_poisson is not null)
        {
            _poisson.Run(Steps);
            _poisson.Synchronize();
            return _poisson.Step;
        }

        _lif!.Run(Steps);
        _lif.Synchronize();
        return _lif.Step;
    }
}
