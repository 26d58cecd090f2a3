using ILGPU;
using ILGPU.Runtime;
using Lmu.Gpu.Kernels.Memory;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Scan;

/// <summary>
/// The adjoint's input gradient B̄ᵀ·λ_t by the two chunk products (<see cref="AdjointGemmKernels"/>) against the
/// reverse recursion λ_t = g_t + Āᵀ·λ_(t+1) in double, on the default CPU simulator (groups of up to 4 × 4) and on the
/// GPU-shaped one (8 × 8 and 16 × 16 groups, the eight-depth column loads where d is a multiple of 8): several channels,
/// T not a multiple of L, one chunk, many chunks with the two-level carries, and against the lock-step adjoint.
/// </summary>
[TestFixture]
public sealed class AdjointProductTests : BothSimulatorsFixture
{
    /// <summary>B̄ᵀ·λ_t [B, T, k] in double.</summary>
    private static double[] Reference(LmuSystem system, float[] gradients, int batch, int steps, int channels)
    {
        int d = system.Order;
        var a = system.DiscreteA;
        var b = system.DiscreteB;
        var result = new double[(long)batch * steps * channels];
        var lambda = new double[d];
        var next = new double[d];
        for (int n = 0; n < batch; n++)
        {
            for (int ch = 0; ch < channels; ch++)
            {
                Array.Clear(lambda);
                for (int t = steps - 1; t >= 0; t--)
                {
                    long g = ((((long)n * steps) + t) * channels + ch) * d;
                    for (int i = 0; i < d; i++)
                    {
                        double s = gradients[g + i];
                        for (int j = 0; j < d; j++)
                        {
                            s += a[(j * d) + i] * lambda[j];
                        }

                        next[i] = s;
                    }

                    (lambda, next) = (next, lambda);
                    double du = 0;
                    for (int i = 0; i < d; i++)
                    {
                        du += b[i] * lambda[i];
                    }

                    result[((((long)n * steps) + t) * channels) + ch] = du;
                }
            }
        }

        return result;
    }

    private static float[] InputGradient(Accelerator accelerator, LmuSystem system, float[] gradients, int batch, int steps, int channels,
        int chunk, ScanStatesKernel kernel, out int products)
    {
        using var engine = new DeviceMemoryEngine(accelerator, system, batch, channels) { StatesKernel = kernel };
        using var g = accelerator.Allocate1D(gradients);
        using var du = accelerator.Allocate1D<float>((long)batch * steps * channels);
        engine.ScanInputGradient(g.View, steps, du.View, chunk);
        products = engine.LastAdjointProducts;
        return du.GetAsArray1D();
    }

    [TestCase(false, 3, 2, 2, 37, 5)]   // d not a multiple of 8: element by element; 8 chunks, the last 2 steps long
    [TestCase(false, 8, 1, 3, 40, 8)]   // the straight eight-depth reads; T a multiple of L
    [TestCase(false, 6, 2, 1, 9, 16)]   // one chunk, shorter than L: no carries
    [TestCase(true, 16, 2, 2, 150, 16)] // 2 × 2 groups (16 rows); 10 chunks, the last 6 steps long
    [TestCase(true, 40, 1, 2, 300, 64)] // 8 × 8 groups: 64 × 64 blocks for d = 40 and for L = 64 steps, eight-depth reads
    [TestCase(true, 72, 1, 1, 100, 16)] // 16 × 16 groups for the chunk starts (d = 72 > 64), eight-depth reads
    [TestCase(true, 70, 2, 1, 50, 16)]  // 16 × 16 groups, d not a multiple of 8: element by element
    [TestCase(true, 12, 3, 1, 700, 4)]  // 175 chunks: the two-level reverse carries
    public void ScanInputGradient_ByProducts_MatchesDoubleRecursion(bool gpuShaped, int order, int batch, int channels, int steps, int chunk)
    {
        var accelerator = Simulator(gpuShaped);
        var system = LmuSystem.Create(order, 30);
        float[] gradients = ScanTestData.Uniform((long)batch * steps * channels * order, seed: order + steps);
        double[] expected = Reference(system, gradients, batch, steps, channels);
        float[] actual = InputGradient(accelerator, system, gradients, batch, steps, channels, chunk, ScanStatesKernel.Gemm, out int products);
        Assert.That(products, Is.EqualTo(1), "the products ran");
        Assert.That(ScanTestData.RelativeMaxError(actual, expected), Is.LessThanOrEqualTo(1e-5));
    }

    [Test]
    public void ScanInputGradient_ByProducts_MatchesTheLockStepAdjoint()
    {
        const int order = 10, batch = 2, channels = 2, steps = 123, chunk = 7;
        var system = LmuSystem.Create(order, 20);
        float[] gradients = ScanTestData.Uniform((long)batch * steps * channels * order, seed: 5, scale: 300f);
        float[] products = InputGradient(DefaultSimulator, system, gradients, batch, steps, channels, chunk, ScanStatesKernel.Gemm, out int byProducts);
        float[] lockStep = InputGradient(DefaultSimulator, system, gradients, batch, steps, channels, chunk, ScanStatesKernel.Steps, out int none);
        Assert.That((byProducts, none), Is.EqualTo((1, 0)));
        Assert.That(ScanTestData.RelativeMaxError(products, lockStep), Is.LessThanOrEqualTo(1e-5));
    }

    [Test]
    public void ChunkStartWeights_AreThePowersOfA()
    {
        var system = LmuSystem.Create(5, 7);
        float[] weights = AdjointProductWeights.ChunkStarts(system, 3);
        var a = system.DiscreteA;
        for (int i = 0; i < 5; i++)
        {
            for (int j = 0; j < 5; j++)
            {
                Assert.That(weights[(i * 5) + j], Is.EqualTo(i == j ? 1f : 0f), "Ā⁰");
                Assert.That(weights[25 + (i * 5) + j], Is.EqualTo((float)a[(i * 5) + j]), "Ā¹");
                double square = 0;
                for (int k = 0; k < 5; k++)
                {
                    square += a[(i * 5) + k] * a[(k * 5) + j];
                }

                Assert.That(weights[50 + (i * 5) + j], Is.EqualTo(square).Within(1e-6), "Ā²");
            }
        }
    }
}
