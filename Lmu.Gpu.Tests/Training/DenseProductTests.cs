using ILGPU.Runtime;
using Lmu.Gpu.Kernels.Cell;
using Lmu.Gpu.Kernels.Training;
using Lmu.Gpu.Training;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Training;

/// <summary>
/// Training's dense products on the blocked product kernel (<see cref="DenseProductKernels"/>, forced on) against sums in
/// double: the layer's forward pass with bias and activation or accumulating, its input gradient, and its weight
/// gradient with the depth split. Sizes are ragged on every side. The default CPU simulator runs groups of up to
/// 4 × 4 threads (blocks of 8 to 32); the GPU-shaped simulator runs the 16 × 16 and 8 × 8 groups a GPU gets, with the
/// eight-depth column loads.
/// </summary>
[TestFixture]
public sealed class DenseProductTests : BothSimulatorsFixture
{
    private static float[] Random(int length, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
    }

    private static void AssertClose(float[] actual, double[] expected, double[] magnitude, string what)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            // float32 products summed over K terms: the error scales with the sum of the terms' magnitudes.
            double tolerance = (1e-5 * magnitude[i]) + 1e-6;
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(tolerance), $"{what}[{i}]");
        }
    }

    [TestCase(false, 37, 29, 21, ActivationCode.Tanh, 1, 0)]
    [TestCase(false, 41, 33, 5, ActivationCode.Sigmoid, 1, 0)]
    [TestCase(false, 23, 17, 19, ActivationCode.Linear, 1, 1)]
    [TestCase(true, 300, 70, 64, ActivationCode.Relu, 1, 0)]
    [TestCase(true, 150, 45, 130, ActivationCode.Linear, 0, 1)]
    public void DenseForward_ByTheProduct_MatchesDoubleSums(bool gpuShaped, int rows, int inputs, int outputs, int activation, int hasBias, int accumulate)
    {
        float[] x = Random(rows * inputs, 1);
        float[] w = Random(outputs * inputs, 2);
        float[] b = Random(outputs, 3);
        float[] y0 = Random(rows * outputs, 4);
        var expected = new double[rows * outputs];
        var magnitude = new double[rows * outputs];
        for (int r = 0; r < rows; r++)
        {
            for (int o = 0; o < outputs; o++)
            {
                double s = hasBias != 0 ? b[o] : 0;
                double m = Math.Abs(s);
                for (int i = 0; i < inputs; i++)
                {
                    s += (double)x[(r * inputs) + i] * w[(o * inputs) + i];
                    m += Math.Abs((double)x[(r * inputs) + i] * w[(o * inputs) + i]);
                }

                int at = (r * outputs) + o;
                expected[at] = accumulate != 0 ? y0[at] + s : Activate(s, activation);
                magnitude[at] = m + Math.Abs(y0[at]);
            }
        }

        using var backend = new DeviceBackend(Simulator(gpuShaped)) { DenseProductUse = ProductUse.Always };
        using var xs = backend.Upload(x, "x");
        using var ws = backend.Upload(w, "w");
        using var bs = backend.Upload(b, "b");
        using var ys = backend.Upload(y0, "y");
        backend.DenseForward(new DenseParams(rows, inputs, outputs, activation, hasBias, accumulate), xs.All, ws.All, bs.All, ys.All);
        Assert.That(backend.DenseProducts, Is.EqualTo(1), "the product kernel ran");
        AssertClose(backend.Download(ys.All), expected, magnitude, "y");
    }

    [TestCase(false, 45, 19, 13, 0)]
    [TestCase(false, 30, 40, 7, 1)]
    [TestCase(true, 140, 150, 40, 0)]
    [TestCase(true, 70, 64, 33, 1)]
    public void DenseBackwardInput_ByTheProduct_MatchesDoubleSums(bool gpuShaped, int rows, int inputs, int outputs, int accumulate)
    {
        float[] dz = Random(rows * outputs, 5);
        float[] w = Random(outputs * inputs, 6);
        float[] dx0 = Random(rows * inputs, 7);
        var expected = new double[rows * inputs];
        var magnitude = new double[rows * inputs];
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < inputs; i++)
            {
                double s = 0;
                double m = 0;
                for (int o = 0; o < outputs; o++)
                {
                    double term = (double)dz[(r * outputs) + o] * w[(o * inputs) + i];
                    s += term;
                    m += Math.Abs(term);
                }

                int at = (r * inputs) + i;
                expected[at] = accumulate != 0 ? dx0[at] + s : s;
                magnitude[at] = m + Math.Abs(dx0[at]);
            }
        }

        using var backend = new DeviceBackend(Simulator(gpuShaped)) { DenseProductUse = ProductUse.Always };
        using var zs = backend.Upload(dz, "dZ");
        using var ws = backend.Upload(w, "w");
        using var xs = backend.Upload(dx0, "dX");
        backend.DenseBackwardInput(new DenseParams(rows, inputs, outputs, ActivationCode.Linear, 0, accumulate), zs.All, ws.All, xs.All);
        Assert.That(backend.DenseProducts, Is.EqualTo(1), "the product kernel ran");
        AssertClose(backend.Download(xs.All), expected, magnitude, "dX");
    }

    [TestCase(false, 7, 23, 3, 150)]
    [TestCase(false, 12, 9, 2, 1100)]
    [TestCase(true, 64, 130, 2, 900)]
    [TestCase(true, 20, 50, 1, 3000)]
    public void Outer_ByTheProduct_MatchesDoubleSums(bool gpuShaped, int p, int q, int batch, int steps)
    {
        int rows = batch * steps;
        float[] dy = Random(rows * p, 8);
        float[] x = Random(rows * q, 9);
        float[] dw0 = Random(p * q, 10);
        var expected = new double[p * q];
        var magnitude = new double[p * q];
        for (int i = 0; i < p; i++)
        {
            for (int j = 0; j < q; j++)
            {
                double s = dw0[(i * q) + j];
                double m = Math.Abs(s);
                for (int row = 0; row < rows; row++)
                {
                    double term = (double)dy[(row * p) + i] * x[(row * q) + j];
                    s += term;
                    m += Math.Abs(term);
                }

                expected[(i * q) + j] = s;
                magnitude[(i * q) + j] = m;
            }
        }

        var accelerator = Simulator(gpuShaped);
        int side = DeviceMemoryEngine.BlockSide(DeviceMemoryEngine.GemmGroupSide(accelerator), p);
        int splits = DeviceBackend.DenseProductSplits(p, q, rows, side, accelerator.NumMultiprocessors, accelerator.MaxNumThreadsPerMultiprocessor);
        TestContext.Out.WriteLine($"side {side}, splits {splits}");
        if (rows >= 900)
        {
            Assert.That(splits, Is.GreaterThan(1), "this case must split the depth");
        }

        using var backend = new DeviceBackend(accelerator) { DenseProductUse = ProductUse.Always };
        using var dys = backend.Upload(dy, "dY");
        using var xs = backend.Upload(x, "x");
        using var dws = backend.Upload(dw0, "dW");
        backend.Outer(new OuterParams(batch, steps, p, q, 0), dys.All, xs.All, dws.All);
        Assert.That(backend.DenseProducts, Is.EqualTo(1), "the product kernel ran");
        AssertClose(backend.Download(dws.All), expected, magnitude, "dW");
    }

    [Test]
    public void Outer_WithTimeShift_StaysOnTheRowKernel()
    {
        using var backend = new DeviceBackend(DefaultSimulator) { DenseProductUse = ProductUse.Always };
        using var dys = backend.Upload(Random(2 * 10 * 3, 11), "dY");
        using var xs = backend.Upload(Random(2 * 10 * 4, 12), "x");
        using var dws = backend.Upload(new float[12], "dW");
        backend.Outer(new OuterParams(2, 10, 3, 4, 1), dys.All, xs.All, dws.All);
        Assert.That(backend.DenseProducts, Is.Zero);
    }

    [TestCase(16, 64, 8)]
    [TestCase(16, 65, 16)]
    [TestCase(16, 256, 16)]
    [TestCase(16, 1, 1)]
    [TestCase(4, 21, 4)]
    [TestCase(4, 5, 1)]
    public void BlockSide_TakesTheSmallestBlockThatCoversTheRows(int deviceSide, int rows, int expected) =>
        Assert.That(DeviceMemoryEngine.BlockSide(deviceSide, rows), Is.EqualTo(expected));

    [Test]
    public void DenseProductSplits_FillTheDeviceOnlyWhereBlocksAreFew()
    {
        // H100-like: 132 multiprocessors of 2,048 threads. A 64 × 256 weight gradient over 640,000 rows has 4 blocks of
        // 64 × 64: split to the cap. A 64 × 640,000 forward pass has 10,000 blocks: no split. A short depth limits it.
        Assert.That(DeviceBackend.DenseProductSplits(64, 256, 640_000, 8, 132, 2048), Is.EqualTo(256));
        Assert.That(DeviceBackend.DenseProductSplits(64, 640_000, 257, 8, 132, 2048), Is.EqualTo(1));
        Assert.That(DeviceBackend.DenseProductSplits(64, 256, 1000, 8, 132, 2048), Is.EqualTo(3));
    }

    [TestCase("auto", 64, 640_000, 257, true)]
    [TestCase("auto", 1, 640_000, 64, false)]
    [TestCase("auto", 64, 64, 64, false)]
    [TestCase("auto", 64, 640_000, 1, false)]
    [TestCase("on", 1, 3, 2, true)]
    [TestCase("off", 64, 640_000, 257, false)]
    public void PrefersDenseProduct_FollowsTheSetting(string use, int rows, int columns, int depth, bool expected) =>
        Assert.That(DeviceBackend.PrefersDenseProduct(ProductUseParser.Parse(use, ProductUseParser.DenseVariable), rows, columns, depth), Is.EqualTo(expected));

    [Test]
    public void ProductUseParser_ThrowsNamingTheDenseVariable() =>
        Assert.That(() => ProductUseParser.Parse("sometimes", ProductUseParser.DenseVariable),
            Throws.ArgumentException.With.Message.Contains("LMU_DENSE_PRODUCT"));

    private static double Activate(double z, int code) => code switch
    {
        ActivationCode.Tanh => Math.Tanh(z),
        ActivationCode.Relu => Math.Max(0, z),
        ActivationCode.Sigmoid => 1 / (1 + Math.Exp(-z)),
        _ => z,
    };
}
