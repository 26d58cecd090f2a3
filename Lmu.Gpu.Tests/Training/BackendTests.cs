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
    [TestCase(64, 1, 0, 3, 300)]  // one column of X: the register-summed matrix-vector path, 64 units in vector blocks
    [TestCase(70, 1, 1, 2, 150)]  // … with a scalar tail of units and the shift
    [TestCase(1, 64, 1, 2, 150)]  // one row of dW: one axpy per row
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

    [TestCase(1000, 1, true)]
    [TestCase(777, 3, true)]
    [TestCase(5000, 70, false)]
    [TestCase(50, 4, false)]
    public void ColumnSum_CpuSimulator_MatchesDoubleSums(int rows, int width, bool inChunks)
    {
        // Chunks of rows (two passes) where the simulator's threads outnumber the columns and the rows make two or more
        // chunks of 64; 70 columns fill its threads, and 50 rows make one chunk: one thread per column.
        using var device = LmuDevice.Open(AcceleratorKind.CpuSimulator);
        var acc = device.Accelerator;
        long capacity = (long)acc.NumMultiprocessors * acc.MaxNumThreadsPerMultiprocessor;
        int chunks = DeviceBackend.ColumnSumChunks(rows, width, capacity);
        Assert.That(chunks > 1, Is.EqualTo(inChunks), $"chunks = {chunks}, simulator threads = {capacity}");
        var rng = new Random(rows + width);
        float[] dy = Enumerable.Range(0, rows * width).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        float[] db0 = Enumerable.Range(0, width).Select(i => (float)i).ToArray();
        using var sim = new DeviceBackend(acc);
        using var a = sim.Upload(dy, "dY");
        using var b = sim.Upload(db0, "db");
        sim.ColumnSum(a.All, b.All, rows, width);
        AssertColumnSums(sim.Download(b.All), dy, db0, rows, width);
    }

    [TestCase(1000, 1)]   // one column: the scalar path
    [TestCase(777, 64)]   // two register blocks of 32 columns (256-bit vectors), several workers
    [TestCase(300, 70)]   // blocks and a scalar tail
    [TestCase(50, 5)]     // the tail only
    public void ColumnSum_Host_MatchesDoubleSums(int rows, int width)
    {
        var rng = new Random(rows * width);
        float[] dy = Enumerable.Range(0, rows * width).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        float[] db0 = Enumerable.Range(0, width).Select(i => (float)i).ToArray();
        using var host = new HostBackend();
        using var a = host.Upload(dy, "dY");
        using var b = host.Upload(db0, "db");
        host.ColumnSum(a.All, b.All, rows, width);
        AssertColumnSums(host.Download(b.All), dy, db0, rows, width);
    }

    /// <summary>db = db0 + Σ_r dY[r, :] in double, within 10⁻⁵·√R.</summary>
    private static void AssertColumnSums(float[] actual, float[] dy, float[] db0, int rows, int width)
    {
        for (int i = 0; i < width; i++)
        {
            double expected = db0[i];
            for (int r = 0; r < rows; r++)
            {
                expected += dy[(r * width) + i];
            }

            Assert.That(actual[i], Is.EqualTo(expected).Within(1e-5 * Math.Sqrt(rows)), $"db[{i}]");
        }
    }

    [TestCase(100)]
    [TestCase(40_000)]
    public void SquaredError_CpuSimulator_MatchesHostLossAndGradient(int length)
    {
        // 40,000 elements reduce the loss on the device to 4,096 partial sums before the read-back.
        var rng = new Random(length);
        float[] y = Enumerable.Range(0, length).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        float[] target = Enumerable.Range(0, length).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        using var device = LmuDevice.Open(AcceleratorKind.CpuSimulator);
        using var sim = new DeviceBackend(device.Accelerator);
        using var host = new HostBackend();
        (double Loss, float[] Gradient) Run(Backend backend)
        {
            using var ys = backend.Upload(y, "y");
            using var ts = backend.Upload(target, "target");
            using var g = backend.Upload(new float[length], "dY");
            double loss = backend.SquaredError(ys.All, ts.All, g.All, stepsOut: 50, fromElement: 10, scale: 1f / length);
            return (loss, backend.Download(g.All));
        }

        var expected = Run(host);
        var actual = Run(sim);
        Assert.That(actual.Loss, Is.EqualTo(expected.Loss).Within(1e-6 * expected.Loss));
        Assert.That(actual.Gradient, Is.EqualTo(expected.Gradient).Within(1e-9));
    }

    [TestCase(640_000, 1, 10_000)]
    [TestCase(640_000, 64, 4_224)]
    [TestCase(100, 64, 1)]
    public void ColumnSumChunks_FillAnH100(int rows, int width, int expected) =>
        // 132 multiprocessors × 2,048 threads; chunks of at least 64 rows.
        Assert.That(DeviceBackend.ColumnSumChunks(rows, width, 132 * 2048), Is.EqualTo(expected));

    [Test]
    public void Outer_Chunked_CpuSimulator_IsBitIdenticalRunToRun()
    {
        // One weight over 4,000 rows: the chunked path, whose chunks are now added in a fixed order (they were atomics).
        using var device = LmuDevice.Open(AcceleratorKind.CpuSimulator);
        using var sim = new DeviceBackend(device.Accelerator);
        var rng = new Random(3);
        float[] dy = Enumerable.Range(0, 4000).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        float[] x = Enumerable.Range(0, 4000).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        using var a = sim.Upload(dy, "dY");
        using var b = sim.Upload(x, "x");
        var results = new HashSet<float>();
        for (int run = 0; run < 5; run++)
        {
            using var w = sim.Upload([0f], "dW");
            sim.Outer(new OuterParams(1, 4000, 1, 1, 0), a.All, b.All, w.All);
            results.Add(sim.Download(w.All)[0]);
        }

        Assert.That(results, Has.Count.EqualTo(1));
        Assert.That(results.Single(), Is.EqualTo(dy.Zip(x, (p, q) => (double)p * q).Sum()).Within(1e-4));
    }
}
