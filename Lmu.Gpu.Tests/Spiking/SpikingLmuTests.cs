using Lmu.Gpu.Kernels.Spiking;
using Lmu.Spiking;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Spiking;

public class SpikingLmuTests
{
    private static double DelayNrmse(int perDim, out long spikes, NeuronType type = NeuronType.PoissonRectifiedLinear)
    {
        var system = LmuSystem.Create(2, 0.5, 0.001);
        var input = BandLimitedNoise.Generate(1000, 1, 0.001, 3, 0.5, 1);
        var lmu = SpikingLmu.Create(new SpikingLmuOptions
        {
            Order = 2, Theta = 0.5, NeuronsPerDimension = perDim, Seed = 4, Radii = SpikingLmu.MeasureRadii(system, input, 1), NeuronType = type,
        });
        using var device = LmuDevice.Open(AcceleratorKind.Cpu);
        var result = lmu.Run(device, input);
        spikes = result.TotalSpikes;
        return SpikingLmuError.Compute(system, result.States, SpikingLmu.ExactMemory(system, input, 1)).DelayNrmse;
    }

    [Test]
    public void SpikingLmu_ErrorIsSmallAndFallsWithNeurons()
    {
        double small = DelayNrmse(200, out _);
        double large = DelayNrmse(3200, out long spikes);
        Assert.That(spikes, Is.GreaterThan(0));
        Assert.That(large, Is.LessThan(0.05));
        Assert.That(large, Is.LessThan(small / 2), "16× the neurons should cut the error well over 2× (1/√m gives 4×)");
    }

    [Test]
    public void SpikingRectifiedLinear_ErrorIsWellBelowPoisson()
    {
        // Regular spiking has no sampling noise: at the same neurons its error is well below Poisson's (about 6× over
        // m = 10³ … 10⁵ in docs/results/spiking-error-scaling.md), and it still falls with the neurons.
        double small = DelayNrmse(200, out _, NeuronType.SpikingRectifiedLinear);
        double large = DelayNrmse(3200, out long spikes, NeuronType.SpikingRectifiedLinear);
        double poisson = DelayNrmse(3200, out long poissonSpikes);
        TestContext.Out.WriteLine($"spiking ReLU NRMSE {small:G3} (n = 200), {large:G3} (n = 3,200); Poisson {poisson:G3} (n = 3,200)");
        Assert.That(spikes, Is.GreaterThan(poissonSpikes / 2).And.LessThan(poissonSpikes * 2), "the same rates");
        Assert.That(large, Is.LessThan(poisson / 2));
        Assert.That(large, Is.LessThan(small));
    }

    [Test]
    public void SpikingRectifiedLinear_SpikesOncePerWholeUnitOfIntegratedRate()
    {
        float v = 0.25f;
        Assert.That(SpikeMath.RegularStep(ref v, 300f, 0.001f), Is.EqualTo(0u));
        Assert.That(v, Is.EqualTo(0.55f).Within(1e-6));
        Assert.That(SpikeMath.RegularStep(ref v, 2000f, 0.001f), Is.EqualTo(2u), "0.55 + 2 = 2.55: two spikes");
        Assert.That(v, Is.EqualTo(0.55f).Within(1e-5));
        Assert.That(SpikeMath.RegularStep(ref v, -50f, 0.001f), Is.EqualTo(0u), "a negative current adds nothing");
        Assert.That(v, Is.EqualTo(0.55f).Within(1e-5));
        uint total = 0;
        v = 0;
        for (int t = 0; t < 1000; t++)
        {
            total += SpikeMath.RegularStep(ref v, 37.5f, 0.001f);
        }

        Assert.That(total, Is.EqualTo(37u), "37.5 Hz for one second");
    }

    [TestCase(NeuronType.PoissonRectifiedLinear)]
    [TestCase(NeuronType.SpikingRectifiedLinear)]
    public void SpikingLmu_HostPathAndCpuSimulatorAgree(NeuronType type) => HostAndSimulatorAgree(type);

    private static void HostAndSimulatorAgree(NeuronType type)
    {
        // n = 37 (blocks of four neurons straddle ensembles and batch elements), d = 3, B = 3. The simulator adds the
        // decoded spikes atomically in thread order, so the floats may differ in the last bits: compare with tolerances.
        var system = LmuSystem.Create(3, 0.3, 0.001);
        var input = BandLimitedNoise.Generate(150, 3, 0.001, 10, 0.5, 2);
        var lmu = SpikingLmu.Create(new SpikingLmuOptions
        {
            Order = 3, Theta = 0.3, NeuronsPerDimension = 37, Batch = 3, Seed = 8, Radii = SpikingLmu.MeasureRadii(system, input, 3), NeuronType = type,
        });
        using var host = LmuDevice.Open(AcceleratorKind.Cpu);
        using var sim = LmuDevice.Open(AcceleratorKind.CpuSimulator);
        var a = lmu.Run(host, input, 8);
        var b = lmu.Run(sim, input, 8);
        Assert.That(a.TotalSpikes, Is.GreaterThan(0));
        Assert.That(b.TotalSpikes, Is.EqualTo(a.TotalSpikes).Within(a.TotalSpikes / 50 + 2));
        var exact = SpikingLmu.ExactMemory(system, input, 3);
        double ea = SpikingLmuError.Compute(system, a.States, exact).StateNrmse;
        double eb = SpikingLmuError.Compute(system, b.States, exact).StateNrmse;
        Assert.That(eb, Is.EqualTo(ea).Within(0.05));
    }

    [TestCase(NeuronType.PoissonRectifiedLinear)]
    [TestCase(NeuronType.SpikingRectifiedLinear)]
    [TestCase(NeuronType.Lif)]
    [NonParallelizable]
    public void SpikingLmu_VectorHostLoopEqualsScalarHostLoop(NeuronType type)
    {
        var system = LmuSystem.Create(3, 0.3, 0.001);
        var input = BandLimitedNoise.Generate(200, 1, 0.001, 10, 0.5, 3);
        var lmu = SpikingLmu.Create(new SpikingLmuOptions
        {
            Order = 3, Theta = 0.3, NeuronsPerDimension = 1000, Seed = 12, Radii = SpikingLmu.MeasureRadii(system, input, 1), NeuronType = type,
        });
        using var host = LmuDevice.Open(AcceleratorKind.Cpu);
        var vector = lmu.Run(host, input);
        SpikingLmuResult scalar;
        try
        {
            SpikingLmu.DisableVectorPath = true;
            scalar = lmu.Run(host, input);
        }
        finally
        {
            SpikingLmu.DisableVectorPath = false;
        }

        Assert.That(vector.TotalSpikes, Is.EqualTo(scalar.TotalSpikes));
        Assert.That(vector.States, Is.EqualTo(scalar.States));
    }

    [Test]
    public void NoiselessNetwork_DiscreteMappingReproducesZoh()
    {
        // s_t = A'·z + B'·ũ with z = filtered s equals the ZOH memory exactly: check the mapping algebra in double.
        var system = LmuSystem.Create(3, 0.3, 0.001);
        double a = Math.Exp(-0.001 / 0.05);
        int d = 3;
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++)
            {
                double ap = (system.DiscreteA[i * d + j] - (i == j ? a : 0)) / (1 - a);
                double back = a * (i == j ? 1 : 0) + (1 - a) * ap;
                Assert.That(back, Is.EqualTo(system.DiscreteA[i * d + j]).Within(1e-12));
            }
        }
    }
}
