using ILGPU;
using ILGPU.Runtime;
using Lmu.Gpu.Kernels.Memory;

namespace Lmu.Gpu;

/// <summary>
/// The tensor-core product's inner step on a known tile (<see cref="TensorFragmentKernels.StepOnTile"/>) against the
/// 3×TF32 product computed on the host: the check that isolates the GPU's <c>mma.sync</c> fragments and the inline PTX
/// from the kernel's staging (<c>lmu selftest</c> runs it first on CUDA; the tests run it on the CPU simulator).
/// </summary>
internal static class TensorFragmentCheck
{
    /// <summary>Rows of the block (W's rows in a stage).</summary>
    public const int Rows = ScanTensorKernels.BlockSize;

    /// <summary>Columns of the block (Z's columns).</summary>
    public const int Columns = ScanTensorKernels.BlockSize;

    /// <summary>Depths of a stage.</summary>
    public const int Depths = ScanTensorKernels.StageDepth;

    /// <summary>The tile as the kernel fills it: W's fragments through <see cref="TensorTile.WeightUnit"/> (as
    /// <see cref="TensorWeights.Pack"/> lays them out) and Z's through <see cref="TensorTile.OperandUnit"/> with
    /// <see cref="TensorStage"/>'s component order (b0 big, b1 big, b0 small, b1 small); the skipped units are NaN.</summary>
    /// <param name="w">W [128, 16].</param>
    /// <param name="z">Z [16, 128].</param>
    /// <returns><see cref="TensorTile.Bytes"/> / 4 floats.</returns>
    public static float[] FillTile(float[,] w, float[,] z)
    {
        var tile = new float[TensorTile.Bytes / 4];
        Array.Fill(tile, float.NaN);
        for (int m = 0; m < Rows; m++)
        {
            for (int r = 0; r < Depths; r++)
            {
                int half = r / 8, k = r % 8, row = m % 16, lane = TensorTile.WeightLane(row, k), component = TensorTile.WeightComponent(row, k);
                float big = TensorTile.RoundTf32(w[m, r]);
                tile[(4 * TensorTile.WeightUnit(half, m / 16, 0, lane)) + component] = big;
                tile[(4 * TensorTile.WeightUnit(half, m / 16, 1, lane)) + component] = TensorTile.SmallTf32(w[m, r], big);
            }
        }

        for (int r = 0; r < Depths; r++)
        {
            for (int n = 0; n < Columns; n++)
            {
                int half = r / 8, k = r % 8;
                int unit = TensorTile.OperandUnit(half, n / 8, TensorTile.OperandLane(k, n % 8));
                float big = TensorTile.RoundTf32(z[r, n]);
                tile[(4 * unit) + (k >> 2)] = big;
                tile[(4 * unit) + 2 + (k >> 2)] = TensorTile.SmallTf32(z[r, n], big);
            }
        }

        return tile;
    }

    /// <summary>A random stage: W [128, 16] and Z [16, 128], uniform in [−1, 1).</summary>
    /// <param name="seed">The seed.</param>
    /// <returns>W and Z.</returns>
    public static (float[,] W, float[,] Z) RandomOperands(int seed)
    {
        var random = new Random(seed);
        var w = new float[Rows, Depths];
        var z = new float[Depths, Columns];
        for (int m = 0; m < Rows; m++)
        {
            for (int k = 0; k < Depths; k++)
            {
                w[m, k] = (float)((random.NextDouble() * 2) - 1);
            }
        }

        for (int k = 0; k < Depths; k++)
        {
            for (int n = 0; n < Columns; n++)
            {
                z[k, n] = (float)((random.NextDouble() * 2) - 1);
            }
        }

        return (w, z);
    }

    /// <summary>The 3×TF32 product W_small·Z_big + W_big·Z_small + W_big·Z_big at (<paramref name="m"/>,
    /// <paramref name="n"/>), in double.</summary>
    /// <param name="w">W [128, 16].</param>
    /// <param name="z">Z [16, 128].</param>
    /// <param name="m">Row.</param>
    /// <param name="n">Column.</param>
    /// <returns>The product.</returns>
    public static double Product(float[,] w, float[,] z, int m, int n)
    {
        double sum = 0;
        for (int k = 0; k < Depths; k++)
        {
            float wBig = TensorTile.RoundTf32(w[m, k]), zBig = TensorTile.RoundTf32(z[k, n]);
            float wSmall = TensorTile.SmallTf32(w[m, k], wBig), zSmall = TensorTile.SmallTf32(z[k, n], zBig);
            sum += ((double)wSmall * zBig) + ((double)wBig * zSmall) + ((double)wBig * zBig);
        }

        return sum;
    }

    /// <summary>The block row and column of thread <paramref name="thread"/>'s tile value (r, c): warp w's rows
    /// 64·(w mod 2) + 16·(r / 2) + 8·(r mod 2) + g, columns 32·(w / 2) + 8·(c / 2) + 2·q + c mod 2 (lane 4·g + q).</summary>
    /// <param name="thread">Thread of the group (0 … 255).</param>
    /// <param name="r">Tile row (0 … 7).</param>
    /// <param name="c">Tile column (0 … 7).</param>
    /// <returns>The block row and column.</returns>
    public static (int Row, int Column) Place(int thread, int r, int c)
    {
        int warp = thread >> 5, lane = thread & 31, g = lane >> 2, q = lane & 3;
        return (((warp & 1) * 64) + ((r >> 1) * 16) + ((r & 1) * 8) + g, ((warp >> 1) * 32) + ((c >> 1) * 8) + (2 * q) + (c & 1));
    }

    /// <summary>Runs the step on a random tile and returns max |device − host| / max |host| over all 256 × 64
    /// accumulators (+∞ for a non-finite value).</summary>
    /// <param name="accelerator">A device that runs the tensor-core kernel (<see cref="DeviceMemoryEngine.SupportsTensorKernel"/>).</param>
    /// <param name="seed">Seed of the random W and Z (uniform in [−1, 1)).</param>
    /// <returns>The relative error.</returns>
    /// <exception cref="NotSupportedException">The device cannot run it.</exception>
    public static double Run(Accelerator accelerator, int seed)
    {
        if (!DeviceMemoryEngine.SupportsTensorKernel(accelerator))
        {
            throw new NotSupportedException($"{accelerator.Name} cannot run the tensor-core kernels.");
        }

        var (w, z) = RandomOperands(seed);
        int threads = ScanTensorKernels.GroupThreads;
        using var owned = new OwnedBuffers();
        var tile = DeviceBuffers.Upload(accelerator, FillTile(w, z), owned);
        var output = DeviceBuffers.Allocate(accelerator, threads * 64L, "tensor fragment check", owned);
        var kernel = DeviceKernels.GetOrLoad(accelerator, TensorFragmentKernels.StepOnTile,
            a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>>(TensorFragmentKernels.StepOnTile));
        kernel(new KernelConfig(new Index1D(1), new Index1D(threads),
            SharedMemoryConfig.RequestDynamic<float>(ScanTensorKernels.SharedFloats(accelerator.AcceleratorType == AcceleratorType.Cuda))),
            tile.View, output.View);
        accelerator.Synchronize();
        var actual = new float[threads * 64];
        output.View.AsContiguous().CopyToCPU(actual);

        double difference = 0, scale = 0;
        for (int t = 0; t < threads; t++)
        {
            for (int r = 0; r < 8; r++)
            {
                for (int c = 0; c < 8; c++)
                {
                    var (m, n) = Place(t, r, c);
                    double expected = Product(w, z, m, n);
                    float value = actual[(t * 64) + (8 * r) + c];
                    if (!float.IsFinite(value))
                    {
                        return double.PositiveInfinity;
                    }

                    difference = Math.Max(difference, Math.Abs(value - expected));
                    scale = Math.Max(scale, Math.Abs(expected));
                }
            }
        }

        return difference / Math.Max(scale, 1e-30);
    }
}
