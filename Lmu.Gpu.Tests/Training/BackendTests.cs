using Lmu.Gpu;
using Lmu.Gpu.Kernels.Training;
using Lmu.Gpu.Training;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Training;

/// <summary>Device primitives against the host path.</summary>
[TestFixture]
public sealed class BackendTests
{
    [TestCase(9, 150, 0, 3, 300)]
    [TestCase(8, 212, 1, 2, 257)]
    [TestCase(4, 64, 1, 5, 3)]
    [TestCase(12, 40, 0, 2, 130)]
    public void Outer_Host_MatchesDoubleSums(int p, int q, int shift, int batch, int steps)
    {
        // Sizes that take the blocked path's 4 × 64 tiles, its column and row tails, chunk boundaries (128 rows),
        // several workers and the skipped first step of each sequence (shift 1).
        var rng = new Random(p * q);
        float[] dy = Enumerable.Range(0, batch * steps * p).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        float[] x = Enumerable.Range(0, batch * steps * q).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        using var host = new HostBackend();
        using var a = host.Upload(dy, "dY");
        using var b = host.Upload(x, "x");
        using var w = host.Upload(Enumerable.Repeat(1f, p * q).ToArray(), "dW");
        host.Outer(new OuterParams(batch, steps, p, q, shift), a.All, b.All, w.All);
        float[] actual = host.Download(w.All);
        for (int i = 0; i < p; i++)
        {
            for (int j = 0; j < q; j++)
            {
                double expected = 1;
                for (int n = 0; n < batch; n++)
                {
                    for (int t = shift; t < steps; t++)
                    {
                        expected += (double)dy[(((n * steps) + t) * p) + i] * x[(((n * steps) + t - shift) * q) + j];
                    }
                }

                Assert.That(actual[(i * q) + j], Is.EqualTo(expected).Within(1e-4 * Math.Sqrt(batch * steps)), $"dW[{i}, {j}]");
            }
        }
    }

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
