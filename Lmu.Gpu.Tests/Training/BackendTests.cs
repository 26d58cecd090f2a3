using Lmu.Gpu;
using Lmu.Gpu.Kernels.Training;
using Lmu.Gpu.Training;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Training;

/// <summary>Device primitives against the host path.</summary>
[TestFixture]
public sealed class BackendTests
{
    [TestCase(1, 2, 0)]
    [TestCase(2, 3, 1)]
    [TestCase(3, 5, 1)]
    public void Outer_MatchesHost_CpuSimulator(int p, int q, int shift)
    {
        using var device = LmuDevice.Open(AcceleratorKind.CpuSimulator);
        Assert.That((long)device.Accelerator.NumMultiprocessors * device.Accelerator.MaxNumThreadsPerMultiprocessor, Is.GreaterThan(p * q), "the chunked path must be taken");
        using var sim = new DeviceBackend(device.Accelerator);
        using var host = new HostBackend();
        var rng = new Random(p + q);
        int batch = 3;
        int steps = 40;
        float[] dy = Enumerable.Range(0, batch * steps * p).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        float[] x = Enumerable.Range(0, batch * steps * q).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var parameters = new OuterParams(batch, steps, p, q, shift);
        float[] Run(Backend backend)
        {
            using var a = backend.Upload(dy, "dY");
            using var b = backend.Upload(x, "x");
            using var w = backend.Upload(Enumerable.Repeat(1f, p * q).ToArray(), "dW");
            backend.Outer(parameters, a.All, b.All, w.All);
            return backend.Download(w.All);
        }

        float[] expected = Run(host);
        float[] actual = Run(sim);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(1e-5));
        }
    }
}
