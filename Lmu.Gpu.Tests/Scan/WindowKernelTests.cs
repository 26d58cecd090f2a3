using ILGPU;
using ILGPU.Runtime;
using Lmu.Gpu.Kernels.Memory;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Scan;

/// <summary><see cref="WindowKernels.WindowStates"/> launched directly on the CPU simulator with layouts the engine's
/// rules never produce (windows longer than their ends in groups that mix sequences, ends clamped to T − 1), against
/// the window sum S_e = Σ_(q &lt; min(H, e+1)) h_q·u_(e−q) in double.</summary>
[TestFixture]
public sealed class WindowKernelTests : SimulatorAndHostFixture
{
    [TestCase(3, 2, 1, 11, 5, 7)]
    [TestCase(2, 3, 2, 4, 0, 9)]
    [TestCase(5, 1, 1, 1, 29, 1)]
    [TestCase(7, 2, 1, 6, 3, 13)]
    [TestCase(3, 2, 1, 5, 2, 3)]
    public void WindowStates_EqualsTheWindowSum_ForAnyLayout(int order, int channels, int batch, int ends, int firstEnd, int stride)
    {
        // T = 30 steps, H = 20 rows of an arbitrary table: windows of the first ends reach back before step 0, groups of
        // four states run across sequences (n·J not a multiple of 4), and the last ends pass T − 1 and are clamped. In
        // the last case the second group holds ends 14, 2, 5 and 8: its first state's window stops inside the loop over
        // the windows that reach back before step 0.
        const int steps = 30, horizon = 20, outputFirst = 2;
        int sequences = batch * channels;
        int outputStride = ends + 3;
        float[] impulse = ScanTestData.Uniform((long)horizon * order, seed: 81);
        float[] input = ScanTestData.Uniform((long)batch * steps * channels, seed: 82);
        var p = new WindowParams(order, channels, steps, horizon, sequences, ends, firstEnd, stride, outputStride, outputFirst, 1);
        var accelerator = Simulator.Accelerator;
        using var h = accelerator.Allocate1D(impulse);
        using var u = accelerator.Allocate1D(input);
        using var output = accelerator.Allocate1D<float>((long)sequences * outputStride * order);
        using var final = accelerator.Allocate1D<float>((long)sequences * order);
        output.MemSet(0xFF); // every byte 0xFF: NaN wherever the kernel writes nothing
        final.MemSetToZero();
        var config = new KernelConfig(new Index1D(checked((int)p.Groups)), new Index1D(Math.Min(accelerator.MaxNumThreadsPerGroup, 8)));
        ScanKernelSet.For(accelerator).WindowStates(config, h.View, u.View, output.View, final.View, p);
        accelerator.Synchronize();
        float[] actual = output.GetAsArray1D();
        float[] actualFinal = final.GetAsArray1D();

        for (int n = 0; n < sequences; n++)
        {
            int b = n / channels, ch = n % channels;
            for (int row = 0; row < outputStride; row++)
            {
                int j = row - outputFirst;
                for (int i = 0; i < order; i++)
                {
                    float value = actual[(((long)n * outputStride) + row) * order + i];
                    if (j < 0 || j >= ends)
                    {
                        Assert.That(float.IsNaN(value), Is.True, $"row {row} of sequence {n} is not the kernel's to write");
                        continue;
                    }

                    int e = Math.Min(firstEnd + (j * stride), steps - 1);
                    double expected = 0;
                    for (int q = 0; q < Math.Min(horizon, e + 1); q++)
                    {
                        expected += (double)impulse[(q * order) + i] * input[((b * steps) + e - q) * channels + ch];
                    }

                    Assert.That(value, Is.EqualTo(expected).Within(1e-5), $"sequence {n}, state {j} (e = {e}), row {i}");
                    if (e == steps - 1)
                    {
                        Assert.That(actualFinal[(n * order) + i], Is.EqualTo(value));
                    }
                }
            }
        }
    }
}
