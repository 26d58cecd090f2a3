using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using Lmu.Gpu.Kernels.Memory;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Scan;

/// <summary><see cref="WindowGemmKernels.WindowProduct"/> launched directly, at the simulator's default group side (4:
/// blocks of 32 × 32) and at a GPU's (16: blocks of 128 × 128, on the GPU-shaped simulator), and
/// <see cref="WindowTensorKernels.WindowProduct"/> (3×TF32, the mma emulated) on the GPU-shaped simulator, with layouts the engine
/// never produces (an arbitrary weight table, windows that reach back before step 0 in blocks that mix sequences,
/// ends clamped to T − 1, H not a multiple of the stage depth, d across several row blocks), against the window sums in
/// double.</summary>
[TestFixture]
public sealed class WindowProductKernelTests : GpuShapedSimulatorFixture
{
    private Context _context = null!;
    private Accelerator _simulator = null!;

    /// <summary>Opens the default simulated device (16 threads per group: side 4).</summary>
    [OneTimeSetUp]
    public void OpenDefaultSimulator()
    {
        _context = Context.Create(b => b.CPU(CPUDevice.Default).EnableAlgorithms());
        _simulator = _context.CreateCPUAccelerator(0);
    }

    /// <summary>Disposes it.</summary>
    [OneTimeTearDown]
    public void CloseDefaultSimulator()
    {
        _simulator.Dispose();
        _context.Dispose();
    }

    [TestCase(false, 12, 2, 2, 70, 20, 11, 5, 7)]
    [TestCase(false, 40, 1, 3, 70, 21, 9, 0, 9)]
    [TestCase(false, 5, 3, 1, 15, 21, 4, 2, 5)]
    [TestCase(false, 7, 1, 1, 200, 37, 1, 199, 1)]
    [TestCase(true, 12, 2, 2, 100, 16, 7, 15, 16)]
    [TestCase(true, 33, 1, 1, 50, 50, 1, 49, 50)]
    [TestCase(true, 9, 3, 2, 61, 8, 8, 7, 8)]
    [TestCase(true, 9, 3, 2, 61, 24, 3, 23, 24, 55)]
    public void WindowProduct_EqualsTheWindowSums(bool chunkAligned, int order, int channels, int batch, int steps, int horizon,
        int ends, int firstEnd, int stride, int lastEnd = -1)
    {
        // The chunk-aligned cases are phase A: chunk ends from zero at each chunk's start, the last chunk shorter (100 =
        // 6·16 + 4; 61 = 7·8 + 5, whose last end is clamped from 63 to 60); and the first level of the chained carries:
        // segments of 3 chunks of 8 over the 7 whole chunks, the last segment one chunk (ends 23, 47, and 71 clamped to
        // 55, its window from step 48).
        if (lastEnd < 0)
        {
            lastEnd = steps - 1;
        }

        const int outputFirst = 2;
        // The FP32 product at sides 4 and 16, and the 3×TF32 one (its mma emulated) on the GPU-shaped simulator.
        foreach (var (accelerator, tensor) in new[] { (_simulator, false), (GpuShaped, false), (GpuShaped, true) })
        {
            int side = tensor ? ScanTensorKernels.BlockSize / 8 : DeviceMemoryEngine.GemmGroupSide(accelerator);
            string kernel = tensor ? "tf32" : $"side {side}";
            int sequences = batch * channels;
            int outputStride = ends + 3;
            float[] impulse = ScanTestData.Uniform((long)horizon * order, seed: 91);
            float[] input = ScanTestData.Uniform((long)batch * steps * channels, seed: 92);
            var window = new WindowParams(order, channels, steps, horizon, sequences, ends, firstEnd, stride, outputStride, outputFirst, 1);
            var p = new WindowProductParams(window, ChunkStateWeights.PaddedRows(order, side), WindowProductWeights.PaddedDepth(horizon),
                chunkAligned ? 1 : 0, lastEnd);
            float[] weights = WindowProductWeights.Pack(impulse, horizon, order, side);
            if (tensor)
            {
                weights = TensorWeights.Pack(weights, p.PaddedRows, p.PaddedDepth);
            }

            using var w = accelerator.Allocate1D(weights);
            using var u = accelerator.Allocate1D(input);
            using var output = accelerator.Allocate1D<float>((long)sequences * outputStride * order);
            using var final = accelerator.Allocate1D<float>((long)sequences * order);
            output.MemSet(0xFF); // NaN wherever the kernel writes nothing
            final.MemSet(0xFF);
            long blocks = DeviceMemoryEngine.ProductBlocks(window.States, order, side);
            if (tensor)
            {
                var tensorConfig = new KernelConfig(new Index1D(checked((int)blocks)), new Index1D(ScanTensorKernels.GroupThreads),
                    SharedMemoryConfig.RequestDynamic<float>(ScanTensorKernels.SharedFloats(cuda: false)));
                ScanKernelSet.For(accelerator).TensorWindows()(tensorConfig, w.View, u.View, output.View, final.View, p);
            }
            else
            {
                var config = new KernelConfig(new Index1D(checked((int)blocks)), new Index1D(side * side),
                    SharedMemoryConfig.RequestDynamic<float>(ScanGemmKernels.SharedFloats(side)));
                ScanKernelSet.For(accelerator).WindowProduct(config, w.View, u.View, output.View, final.View, p, side);
            }

            accelerator.Synchronize();
            float[] actual = output.GetAsArray1D();
            float[] actualFinal = final.GetAsArray1D();

            for (int n = 0; n < sequences; n++)
            {
                int b = n / channels, ch = n % channels;
                bool hasFinal = false;
                for (int row = 0; row < outputStride; row++)
                {
                    int j = row - outputFirst;
                    for (int i = 0; i < order; i++)
                    {
                        float value = actual[(((long)n * outputStride) + row) * order + i];
                        if (j < 0 || j >= ends)
                        {
                            Assert.That(float.IsNaN(value), Is.True, $"{kernel}: row {row} of sequence {n} is not the kernel's to write");
                            continue;
                        }

                        int unclamped = firstEnd + (j * stride);
                        int e = Math.Min(unclamped, lastEnd);
                        int lowest = Math.Max(0, (chunkAligned ? unclamped : e) - horizon + 1);
                        double expected = 0;
                        for (int q = 0; q <= e - lowest; q++)
                        {
                            expected += (double)impulse[(q * order) + i] * input[((b * steps) + e - q) * channels + ch];
                        }

                        Assert.That(value, Is.EqualTo(expected).Within(1e-5), $"{kernel}: sequence {n}, state {j} (e = {e}), row {i}");
                        if (e == steps - 1)
                        {
                            hasFinal = true;
                            Assert.That(actualFinal[(n * order) + i], Is.EqualTo(value));
                        }
                    }
                }

                if (!hasFinal)
                {
                    Assert.That(actualFinal.Skip(n * order).Take(order).All(float.IsNaN), Is.True, $"{kernel}: sequence {n} has no final state");
                }
            }
        }
    }

    [Test]
    public void WindowProductWeights_HoldTheImpulseInWindowOrder()
    {
        // W[i, q] = h_(H−1−q)[i], zero in the padding (d = 5 → 32 rows at side 4, H = 21 → 32 depths).
        const int order = 5, horizon = 21, side = 4;
        float[] impulse = ScanTestData.Uniform((long)horizon * order, seed: 93);
        float[] weights = WindowProductWeights.Pack(impulse, horizon, order, side);
        int depth = WindowProductWeights.PaddedDepth(horizon);
        Assert.That(depth, Is.EqualTo(32));
        Assert.That(weights, Has.Length.EqualTo(32 * 32));
        for (int m = 0; m < 32; m++)
        {
            for (int q = 0; q < depth; q++)
            {
                float expected = m < order && q < horizon ? impulse[((horizon - 1 - q) * order) + m] : 0;
                Assert.That(weights[ChunkStateWeights.At(m, q, depth, side)], Is.EqualTo(expected), $"W[{m}, {q}]");
            }
        }

        Assert.That(() => WindowProductWeights.Pack(impulse.AsSpan(1), horizon, order, side), Throws.ArgumentException.With.Message.Contains("H·d"));
    }

    [TestCase("on", 1, 256, 1, true)]
    [TestCase("off", 100_000, 256, 1, false)]
    [TestCase("auto", 100_032, 256, 132, true)]
    [TestCase("auto", 1_563, 256, 132, false)]
    [TestCase("auto", 8_448, 256, 132, true)]
    [TestCase("auto", 8_320, 256, 132, false)]
    [TestCase("auto", 10, 12, 1, true)]
    public void PrefersWindowProduct_WhereItHasABlockPerMultiprocessor(string use, long states, int order, int multiprocessors, bool expected)
    {
        // Side 16 (128 × 128 blocks): d = 256 has 2 row blocks, so auto needs ⌈132 / 2⌉ = 66 column blocks, 8,448 states.
        // Phase A at B = 64, T = 10⁵, L = 64 has 100,032 states; B = 1 has 1,563.
        Assert.That(DeviceMemoryEngine.PrefersWindowProduct(ProductUseParser.Parse(use), states, order, 16, multiprocessors), Is.EqualTo(expected));
    }

    [TestCase("auto", "Auto")]
    [TestCase(" ON ", "Always")]
    [TestCase("off", "Never")]
    public void ProductUseParser_ParsesNames(string name, string expected) =>
        Assert.That(ProductUseParser.Parse(name).ToString(), Is.EqualTo(expected));

    [Test]
    public void ProductUseParser_ThrowsForOtherNames() =>
        Assert.That(() => ProductUseParser.Parse("sometimes"), Throws.ArgumentException.With.Message.Contains("LMU_WINDOW_PRODUCT"));
}
