using System.Buffers;
using System.Numerics.Tensors;
using Lmu.Gpu.Kernels.Cell;
using Lmu.Gpu.Kernels.Training;

namespace Lmu.Gpu.Training;

/// <summary>
/// The host path's dense products over many rows as register-blocked products (<see cref="HostScanMath.Product8"/>):
/// eight rows per pass over the weights, each vector of weights loaded feeding eight rows, ranges of rows in parallel.
/// One dot product per row and output (<c>TensorPrimitives.Dot</c>) reloads the weights for every row. Used where the
/// product's output has at least <see cref="MinimumWidth"/> values per row (its vector blocks are 16 wide); narrower
/// layers (a Dense(1) head) keep the dot products.
/// </summary>
internal static unsafe class HostDense
{
    /// <summary>The fewest outputs per row for which the blocked product is used.</summary>
    public const int MinimumWidth = 16;

    /// <summary>Rows per parallel range (a multiple of eight).</summary>
    private const int RangeRows = 64;

    /// <summary>Tests and benchmarks: keep the dot products everywhere (the path before the blocked product).</summary>
    internal static bool ForceDots { get; set; }

    /// <summary>Whether a product with <paramref name="width"/> outputs per row takes the blocked product.</summary>
    /// <param name="width">Outputs per row.</param>
    /// <returns>Whether to use it.</returns>
    public static bool Applies(int width) => width >= MinimumWidth && !ForceDots;

    /// <summary>y[r] = act(W·x[r] + b) (or y[r] += W·x[r] + b with <see cref="DenseParams.Accumulate"/>, no activation).</summary>
    /// <param name="p">Sizes, activation, bias and accumulate flags.</param>
    /// <param name="x">[rows, In].</param>
    /// <param name="w">W [Out, In], row-major.</param>
    /// <param name="bias">b [Out].</param>
    /// <param name="y">[rows, Out].</param>
    public static void Forward(DenseParams p, ReadOnlyMemory<float> x, ReadOnlyMemory<float> w, ReadOnlyMemory<float> bias, Memory<float> y)
    {
        // The product wants Wᵀ ([i·Out + o] = W[o, i]): transposed once per call (Out·In values against Rows·Out·In
        // multiply-adds), in 16 × 16 tiles, into a pooled buffer (a weight matrix of the paper's psMNIST model is
        // 1.4 MB: a new array per batch would be a large-object allocation each time).
        float[] wT = ArrayPool<float>.Shared.Rent(p.In * p.Out);
        try
        {
            HostScanMath.Transpose(w.Span, p.Out, p.In, wT);
            ForwardTransposed(p, x, wT, bias, y);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(wT);
        }
    }

    /// <summary><see cref="Forward"/> with Wᵀ given ([i·Out + o] = W[o, i]).</summary>
    /// <param name="p">Sizes, activation, bias and accumulate flags.</param>
    /// <param name="x">[rows, In].</param>
    /// <param name="wT">Wᵀ, at least In·Out values.</param>
    /// <param name="bias">b [Out].</param>
    /// <param name="y">[rows, Out].</param>
    public static void ForwardTransposed(DenseParams p, ReadOnlyMemory<float> x, float[] wT, ReadOnlyMemory<float> bias, Memory<float> y)
    {
        // Zeros (the bias of a layer without one, and the unused columns' input), then a sink for their outputs.
        float[] scratch = HostScratch.Rent(Math.Max(p.In, p.Out) + p.Out);
        Ranges(p.Rows, new ForwardJob(p, x, wT, bias, y, scratch), static (job, from, to) => ForwardRange(job, from, to));
        HostScratch.Return(scratch);
    }

    /// <summary>Rows [<paramref name="from"/>, <paramref name="to"/>) of <see cref="ForwardTransposed"/>.</summary>
    private static void ForwardRange(in ForwardJob job, int from, int to)
    {
        var (p, x, wT, bias, y, scratch) = job;
        int zeros = Math.Max(p.In, p.Out);
        using var xPin = x.Pin();
        using var yPin = y.Pin();
        using var bPin = bias.Pin();
        fixed (float* mT = wT, z = scratch)
        {
            float* xs = (float*)xPin.Pointer;
            float* ys = (float*)yPin.Pointer;
            float* b = (float*)bPin.Pointer;
            for (int r0 = from; r0 < to; r0 += 8)
            {
                var cols = default(HostScanMath.Columns8);
                int width = Math.Min(8, to - r0);
                cols.SetUnused(width, z, z + zeros);
                for (int q = 0; q < width; q++)
                {
                    float* xr = xs + ((long)(r0 + q) * p.In);
                    float* yr = ys + ((long)(r0 + q) * p.Out);
                    if (p.Accumulate != 0)
                    {
                        cols.Set(q, xr, yr, yr, 1f);
                    }
                    else
                    {
                        cols.Set(q, xr, yr, p.HasBias != 0 ? b : z, p.HasBias != 0 ? 1f : 0f);
                    }
                }

                HostScanMath.Product(mT, p.Out, p.In, ref cols, width);
                for (int q = 0; q < width; q++)
                {
                    var yr = new Span<float>(ys + ((long)(r0 + q) * p.Out), p.Out);
                    if (p.Accumulate != 0)
                    {
                        if (p.HasBias != 0)
                        {
                            TensorPrimitives.Add(yr, new ReadOnlySpan<float>(b, p.Out), yr);
                        }
                    }
                    else
                    {
                        ((Activation)p.Activation).ApplyInPlace(yr);
                    }
                }
            }
        }
    }

    /// <summary>dX[r] = Wᵀ·dZ[r] (or += with <see cref="DenseParams.Accumulate"/>).</summary>
    /// <param name="p">Sizes and the accumulate flag.</param>
    /// <param name="dZ">[rows, Out].</param>
    /// <param name="w">W [Out, In], row-major (as the product's Mᵀ for M = Wᵀ).</param>
    /// <param name="dX">[rows, In].</param>
    public static void BackwardInput(DenseParams p, ReadOnlyMemory<float> dZ, ReadOnlyMemory<float> w, Memory<float> dX)
    {
        int zeros = Math.Max(p.In, p.Out);
        float[] scratch = HostScratch.Rent(zeros + p.In); // zeros (the unused columns' input and bias), then a sink for their outputs
        Ranges(p.Rows, (from, to) =>
        {
            using var zPin = dZ.Pin();
            using var wPin = w.Pin();
            using var xPin = dX.Pin();
            fixed (float* z = scratch)
            {
                float* zs = (float*)zPin.Pointer;
                float* mT = (float*)wPin.Pointer;
                float* xs = (float*)xPin.Pointer;
                for (int r0 = from; r0 < to; r0 += 8)
                {
                    var cols = default(HostScanMath.Columns8);
                    int width = Math.Min(8, to - r0);
                    cols.SetUnused(width, z, z + zeros);
                    for (int q = 0; q < width; q++)
                    {
                        float* dx = xs + ((long)(r0 + q) * p.In);
                        cols.Set(q, zs + ((long)(r0 + q) * p.Out), dx, p.Accumulate != 0 ? dx : z, p.Accumulate != 0 ? 1f : 0f);
                    }

                    HostScanMath.Product(mT, p.In, p.Out, ref cols, width);
                }
            }
        });
        HostScratch.Return(scratch);
    }

    /// <summary>Runs [0, rows) in ranges of <see cref="RangeRows"/> rows, in parallel where there are several, the body
    /// given its data in <paramref name="state"/> (a static body then allocates nothing for a single range).</summary>
    private static void Ranges<TState>(int rows, TState state, Action<TState, int, int> body)
    {
        int ranges = (rows + RangeRows - 1) / RangeRows;
        if (ranges <= 1)
        {
            body(state, 0, rows);
            return;
        }

        HostThreads.For(ranges, (state, body, rows), static (s, k) => s.body(s.state, k * RangeRows, Math.Min(s.rows, (k + 1) * RangeRows)));
    }

    /// <summary>What <see cref="ForwardRange"/> reads.</summary>
    private readonly record struct ForwardJob(DenseParams P, ReadOnlyMemory<float> X, float[] WeightsT, ReadOnlyMemory<float> Bias, Memory<float> Y, float[] Scratch);

    /// <summary><see cref="Ranges{TState}"/> for a body that captures its data.</summary>
    private static void Ranges(int rows, Action<int, int> body) => Ranges(rows, body, static (b, from, to) => b(from, to));
}
