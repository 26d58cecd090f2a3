using Lmu.Gpu;

namespace Lmu.Gpu.Tests.Cell;

/// <summary>Double-precision reference of the nonlinear LMU cell, written directly from the equations.</summary>
internal static class CellReference
{
    public sealed record Result(double[] H, double[] M, double[] U);

    /// <summary>Runs B sequences from the given (or zero) state; flat weights in the <see cref="LmuCellWeights.ToFlat"/>
    /// order, θ taken from the last entry.</summary>
    public static Result Forward(LmuCellOptions o, ReadOnlySpan<double> flat, ReadOnlySpan<double> x, int batch, int steps, double[]? h0 = null, double[]? m0 = null)
    {
        var layout = CellLayout.For(o);
        double theta = flat[layout.Theta];
        var system = LmuSystem.Create(o.Order, theta, o.Dt, o.Discretizer);
        var aBar = system.DiscreteA;
        var bBar = system.DiscreteB;
        int n = o.Units;
        int d = o.Order;
        int k = o.MemoryChannels;
        int kd = k * d;
        int nx = o.InputSize;
        var hs = new double[batch * steps * n];
        var ms = new double[batch * steps * kd];
        var us = new double[batch * steps * k];
        for (int b = 0; b < batch; b++)
        {
            var h = new double[n];
            var m = new double[kd];
            if (h0 is not null)
            {
                Array.Copy(h0, b * n, h, 0, n);
            }

            if (m0 is not null)
            {
                Array.Copy(m0, b * kd, m, 0, kd);
            }

            for (int t = 0; t < steps; t++)
            {
                int row = (b * steps) + t;
                var u = new double[k];
                for (int c = 0; c < k; c++)
                {
                    double s = 0;
                    for (int j = 0; j < nx; j++)
                    {
                        s += flat[layout.Ex + (c * nx) + j] * x[(row * nx) + j];
                    }

                    if (o.HiddenToMemory)
                    {
                        for (int j = 0; j < n; j++)
                        {
                            s += flat[layout.Eh + (c * n) + j] * h[j];
                        }
                    }

                    if (o.MemoryToMemory)
                    {
                        for (int j = 0; j < kd; j++)
                        {
                            s += flat[layout.Em + (c * kd) + j] * m[j];
                        }
                    }

                    if (o.MemoryBias)
                    {
                        s += flat[layout.Bu + c];
                    }

                    u[c] = s;
                }

                var mNew = new double[kd];
                for (int c = 0; c < k; c++)
                {
                    for (int i = 0; i < d; i++)
                    {
                        double s = bBar[i] * u[c];
                        for (int j = 0; j < d; j++)
                        {
                            s += aBar[(i * d) + j] * m[(c * d) + j];
                        }

                        mNew[(c * d) + i] = s;
                    }
                }

                var hNew = new double[n];
                for (int i = 0; i < n; i++)
                {
                    double z = 0;
                    if (o.InputToHidden)
                    {
                        for (int j = 0; j < nx; j++)
                        {
                            z += flat[layout.Wx + (i * nx) + j] * x[(row * nx) + j];
                        }
                    }

                    if (o.HiddenToHidden)
                    {
                        for (int j = 0; j < n; j++)
                        {
                            z += flat[layout.Wh + (i * n) + j] * h[j];
                        }
                    }

                    for (int j = 0; j < kd; j++)
                    {
                        z += flat[layout.Wm + (i * kd) + j] * mNew[j];
                    }

                    if (o.HiddenBias)
                    {
                        z += flat[layout.Bh + i];
                    }

                    hNew[i] = o.Activation.Apply(z);
                }

                h = hNew;
                m = mNew;
                Array.Copy(h, 0, hs, row * n, n);
                Array.Copy(m, 0, ms, row * kd, kd);
                Array.Copy(u, 0, us, row * k, k);
            }
        }

        return new Result(hs, ms, us);
    }

    /// <summary>Random weights with every tensor (including e_m and the biases) non-zero where enabled.</summary>
    public static LmuCellWeights RandomWeights(LmuCellOptions o, int seed, float scale = 0.5f)
    {
        var w = LmuCellWeights.CreateRandom(o, seed);
        var rng = new Random(seed + 1000);
        Fill(rng, w.MemoryEncoders, o.MemoryToMemory ? scale * 0.2f : 0);
        Fill(rng, w.MemoryBias, o.MemoryBias ? scale : 0);
        Fill(rng, w.HiddenBias, o.HiddenBias ? scale : 0);
        return w;
    }

    public static float[] RandomInput(int length, int seed)
    {
        var rng = new Random(seed);
        var x = new float[length];
        for (int i = 0; i < length; i++)
        {
            x[i] = (float)((2 * rng.NextDouble()) - 1);
        }

        return x;
    }

    public static double[] ToDouble(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            result[i] = values[i];
        }

        return result;
    }

    public static double MaxAbsDiff(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        double max = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            max = Math.Max(max, Math.Abs(actual[i] - expected[i]));
        }

        return max;
    }

    private static void Fill(Random rng, float[] values, float scale)
    {
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)(((2 * rng.NextDouble()) - 1) * scale);
        }
    }
}
