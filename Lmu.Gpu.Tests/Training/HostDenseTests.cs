using Lmu.Gpu.Kernels.Cell;
using Lmu.Gpu.Kernels.Training;
using Lmu.Gpu.Tests.Scan;
using Lmu.Gpu.Training;

namespace Lmu.Gpu.Tests.Training;

/// <summary>The host path's dense products as blocked products (<see cref="HostDense"/>) against the dot products they
/// replace, through <see cref="HostBackend"/>: row counts with ragged last groups and several parallel ranges, widths
/// past the vector blocks, every flag combination, and an activation; within 10⁻⁵ of the largest value (the dot products
/// sum in another order).</summary>
[TestFixture]
[NonParallelizable] // sets HostDense.ForceDots
public sealed class HostDenseTests
{
    [TestCase(1, 37, 16)]
    [TestCase(5, 16, 20)]
    [TestCase(13, 3, 64)]
    [TestCase(200, 256, 64)]
    [TestCase(131, 70, 33)]
    public void Forward_MatchesTheDotProducts(int rows, int inputs, int outputs)
    {
        foreach (var (bias, accumulate, activation) in new[] { (1, 0, ActivationCode.Tanh), (0, 0, ActivationCode.Linear), (1, 1, ActivationCode.Linear), (0, 1, ActivationCode.Linear) })
        {
            var p = new DenseParams(rows, inputs, outputs, activation, bias, accumulate);
            float[] x = ScanTestData.Uniform((long)rows * inputs, seed: 121);
            float[] w = ScanTestData.Uniform((long)outputs * inputs, seed: 122, scale: 0.3f);
            float[] b = ScanTestData.Uniform(outputs, seed: 123);
            float[] y0 = ScanTestData.Uniform((long)rows * outputs, seed: 124);
            float[] expected = Forward(p, x, w, b, y0, dots: true);
            float[] actual = Forward(p, x, w, b, y0, dots: false);
            Assert.That(HostDense.Applies(outputs), Is.True);
            Assert.That(ScanTestData.RelativeMaxError(actual, expected), Is.LessThanOrEqualTo(1e-5), $"bias {bias}, accumulate {accumulate}");
        }
    }

    [TestCase(1, 16, 37)]
    [TestCase(13, 64, 3)]
    [TestCase(200, 256, 64)]
    [TestCase(131, 33, 70)]
    public void BackwardInput_MatchesTheAxpys(int rows, int inputs, int outputs)
    {
        foreach (int accumulate in new[] { 0, 1 })
        {
            var p = new DenseParams(rows, inputs, outputs, 0, 0, accumulate);
            float[] dZ = ScanTestData.Uniform((long)rows * outputs, seed: 125);
            float[] w = ScanTestData.Uniform((long)outputs * inputs, seed: 126, scale: 0.3f);
            float[] dX0 = ScanTestData.Uniform((long)rows * inputs, seed: 127);
            float[] expected = BackwardInput(p, dZ, w, dX0, dots: true);
            float[] actual = BackwardInput(p, dZ, w, dX0, dots: false);
            Assert.That(ScanTestData.RelativeMaxError(actual, expected), Is.LessThanOrEqualTo(1e-5), $"accumulate {accumulate}");
        }
    }

    [TestCase(300, 1, 64)]  // one input: one axpy per row
    [TestCase(300, 64, 1)]  // one output: one dot per row
    [TestCase(5000, 1, 1)]  // both, over several blocks of rows
    [TestCase(300, 3, 7)]   // a few of each: dots per output
    public void ThinLayers_MatchDoubleSums(int rows, int inputs, int outputs)
    {
        foreach (var (bias, accumulate, activation) in new[] { (1, 0, ActivationCode.Relu), (0, 0, ActivationCode.Tanh), (1, 1, ActivationCode.Linear), (0, 1, ActivationCode.Linear) })
        {
            var p = new DenseParams(rows, inputs, outputs, activation, bias, accumulate);
            float[] x = ScanTestData.Uniform((long)rows * inputs, seed: 131);
            float[] w = ScanTestData.Uniform((long)outputs * inputs, seed: 132);
            float[] b = ScanTestData.Uniform(outputs, seed: 133);
            float[] y0 = ScanTestData.Uniform((long)rows * outputs, seed: 134);
            float[] actual = Forward(p, x, w, b, y0, dots: false);
            var expected = new double[actual.Length];
            for (int r = 0; r < rows; r++)
            {
                for (int o = 0; o < outputs; o++)
                {
                    double z = bias != 0 ? b[o] : 0;
                    for (int i = 0; i < inputs; i++)
                    {
                        z += (double)x[(r * inputs) + i] * w[(o * inputs) + i];
                    }

                    int at = (r * outputs) + o;
                    expected[at] = accumulate != 0 ? y0[at] + z : ((Activation)activation).Apply(z);
                }
            }

            Assert.That(ScanTestData.RelativeMaxError(actual, expected), Is.LessThanOrEqualTo(1e-5), $"forward, bias {bias}, accumulate {accumulate}");

            float[] dZ = ScanTestData.Uniform((long)rows * outputs, seed: 135);
            float[] dX0 = ScanTestData.Uniform((long)rows * inputs, seed: 136);
            float[] dX = BackwardInput(p with { Activation = 0, HasBias = 0 }, dZ, w, dX0, dots: false);
            var expectedDx = new double[dX.Length];
            for (int r = 0; r < rows; r++)
            {
                for (int i = 0; i < inputs; i++)
                {
                    double sum = accumulate != 0 ? dX0[(r * inputs) + i] : 0;
                    for (int o = 0; o < outputs; o++)
                    {
                        sum += (double)dZ[(r * outputs) + o] * w[(o * inputs) + i];
                    }

                    expectedDx[(r * inputs) + i] = sum;
                }
            }

            Assert.That(ScanTestData.RelativeMaxError(dX, expectedDx), Is.LessThanOrEqualTo(1e-5), $"backward, accumulate {accumulate}");
        }
    }

    [Test]
    public void NarrowLayers_KeepTheDotProducts() =>
        Assert.That(new[] { 1, 15, 16 }.Select(HostDense.Applies), Is.EqualTo(new[] { false, false, true }));

    private static float[] Forward(DenseParams p, float[] x, float[] w, float[] b, float[] y0, bool dots)
    {
        var backend = new HostBackend();
        using var xs = new Tensor(x);
        using var ws = new Tensor(w);
        using var bs = new Tensor(b);
        using var ys = new Tensor((float[])y0.Clone());
        HostDense.ForceDots = dots;
        try
        {
            backend.DenseForward(p, xs.All, ws.All, bs.All, ys.All);
        }
        finally
        {
            HostDense.ForceDots = false;
        }

        return ys.Host!;
    }

    private static float[] BackwardInput(DenseParams p, float[] dZ, float[] w, float[] dX0, bool dots)
    {
        var backend = new HostBackend();
        using var zs = new Tensor(dZ);
        using var ws = new Tensor(w);
        using var xs = new Tensor((float[])dX0.Clone());
        HostDense.ForceDots = dots;
        try
        {
            backend.DenseBackwardInput(p, zs.All, ws.All, xs.All);
        }
        finally
        {
            HostDense.ForceDots = false;
        }

        return xs.Host!;
    }
}
