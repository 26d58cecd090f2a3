using Lmu.Gpu.Kernels.Memory;

namespace Lmu.Gpu;

/// <summary>
/// The host path's sequential run of many memories: groups of eight memories stepped together through the whole
/// sequence, each step a register-blocked d×d by d×8 product (<see cref="HostScanMath.Product8"/>: each vector of Āᵀ
/// loaded serves eight memories), the groups in parallel. One memory at a time (<see cref="HostMemoryMath.Advance"/>)
/// streams all of Āᵀ through the core once per memory and step, from L2 once it no longer fits L1 (d ≳ 100).
/// </summary>
internal sealed unsafe class HostSequence(
    float[] aT, float[] bBar, float[] states, int channels, float* input, int steps, MemoryOutputMode mode,
    float* decoders, int delays, float* output)
{
    /// <summary>Memories per group (the columns of <see cref="HostScanMath.Product8"/>).</summary>
    public const int Width = 8;

    /// <summary>The multiply-adds (T·n·d²) from which several groups run in parallel.</summary>
    public const long ParallelWork = 1L << 22;

    /// <summary>Runs every group: in parallel where there are several and the run is long enough to pay for it.</summary>
    /// <param name="count">B·k memories.</param>
    public void RunAll(int count)
    {
        int d = bBar.Length;
        int groups = (count + Width - 1) / Width;
        if (groups > 1 && (long)steps * count * d * d >= ParallelWork)
        {
            HostThreads.For(groups, g => Run(count, g));
            return;
        }

        for (int g = 0; g < groups; g++)
        {
            Run(count, g);
        }
    }

    /// <summary>Memories 8·g … 8·g + 7 (fewer in the last group: its unused columns read zeros and write to scratch
    /// with scale 0) through all the steps, from and back to their states.</summary>
    /// <param name="count">B·k memories.</param>
    /// <param name="g">The group.</param>
    public void Run(int count, int g)
    {
        int d = bBar.Length;
        int first = g * Width;
        int width = Math.Min(Width, count - first);

        // Per column two state buffers (ping, pong), then a zero source and a sink for the unused columns.
        var buffers = new float[((2 * Width) + 2) * d];
        var rows = new long[Width];
        fixed (float* a = aT, b = bBar, s = states, buffer = buffers)
        {
            float* zero = buffer + (2L * Width * d);
            float* sink = zero + d;
            for (int q = 0; q < width; q++)
            {
                new ReadOnlySpan<float>(s + ((long)(first + q) * d), d).CopyTo(new Span<float>(buffer + ((long)q * d), d));
            }

            int current = 0;
            for (int t = 0; t < steps; t++)
            {
                var cols = default(HostScanMath.Columns8);
                cols.SetUnused(width, zero, sink);
                for (int q = 0; q < width; q++)
                {
                    long row = Row(first + q, channels, steps, t);
                    rows[q] = row;
                    float* x = mode == MemoryOutputMode.AllStates && t > 0
                        ? output + ((row - channels) * d)
                        : buffer + ((((long)current * Width) + q) * d);
                    float* y = mode == MemoryOutputMode.AllStates
                        ? output + (row * d)
                        : buffer + ((((long)(1 - current) * Width) + q) * d);
                    cols.Set(q, x, y, b, input[row]);
                }

                HostScanMath.Product(a, d, d, ref cols, width);
                if (mode == MemoryOutputMode.AllStates)
                {
                    continue;
                }

                current = 1 - current;
                if (mode == MemoryOutputMode.Decoded)
                {
                    for (int q = 0; q < width; q++)
                    {
                        float* m = buffer + ((((long)current * Width) + q) * d);
                        float* y = output + (rows[q] * delays);
                        for (int r = 0; r < delays; r++)
                        {
                            y[r] = HostScanMath.Dot(decoders + ((long)r * d), m, d);
                        }
                    }
                }
            }

            // The last states back into the memory's states.
            for (int q = 0; q < width; q++)
            {
                float* last = mode == MemoryOutputMode.AllStates && steps > 0
                    ? output + (rows[q] * d)
                    : buffer + ((((long)current * Width) + q) * d);
                new ReadOnlySpan<float>(last, d).CopyTo(new Span<float>(s + ((long)(first + q) * d), d));
            }
        }
    }

    /// <summary>The reverse-time adjoint λ_t = g_t + Āᵀ·λ_(t+1) (λ_T = 0) and ∂u_t = B̄ᵀ·λ_t of n memories in groups of
    /// eight, as <see cref="Run"/> steps the forward run: each step Āᵀ (<paramref name="aRowMajor"/> is Ā row-major, i.e.
    /// (Āᵀ)ᵀ) times eight λ columns, with g_t as each column's bias; with <paramref name="theta"/>, also the θ sums.</summary>
    /// <param name="aRowMajor">Ā, row-major.</param>
    /// <param name="bBar">B̄.</param>
    /// <param name="gradients">g [B, T, k, d].</param>
    /// <param name="batch">B.</param>
    /// <param name="channels">k.</param>
    /// <param name="steps">T.</param>
    /// <param name="lambda">λ [B, T, k, d] out, or null where only ∂u is wanted (each group then chains λ through two
    /// buffers of its own).</param>
    /// <param name="inputGradient">∂u [B, T, k] out.</param>
    /// <param name="theta">The θ terms of a trainable θ, or null.</param>
    /// <param name="firstLambda">λ_0 of every memory [B·k, d] out (the initial-state gradient's source where λ is not
    /// written), or null.</param>
    public static void Adjoint(float[] aRowMajor, float[] bBar, float* gradients, int batch, int channels, int steps, float* lambda,
        float* inputGradient, HostThetaTerms? theta = null, float* firstLambda = null)
    {
        int d = bBar.Length;
        int count = batch * channels;
        int groups = (count + Width - 1) / Width;
        if (groups > 1 && (long)steps * count * d * d >= ParallelWork)
        {
            HostThreads.For(groups, g => AdjointGroup(aRowMajor, bBar, gradients, count, channels, steps, lambda, inputGradient, theta, firstLambda, g));
            return;
        }

        for (int g = 0; g < groups; g++)
        {
            AdjointGroup(aRowMajor, bBar, gradients, count, channels, steps, lambda, inputGradient, theta, firstLambda, g);
        }
    }

    private static void AdjointGroup(float[] aRowMajor, float[] bBar, float* gradients, int count, int channels, int steps,
        float* lambda, float* inputGradient, HostThetaTerms? theta, float* firstLambda, int g)
    {
        int d = bBar.Length;
        int first = g * Width;
        int width = Math.Min(Width, count - first);

        // Zeros (λ_T, and the unused columns' source and bias), a sink, then (without a λ output) ping and pong per
        // column, then (with θ) a_t per column.
        var scratch = new float[(2 + (lambda == null ? 2 * Width : 0) + (theta == null ? 0 : Width)) * d];
        var sums = new double[Width];
        var rows = new long[Width];
        var written = stackalloc nint[Width];
        fixed (float* a = aRowMajor, b = bBar, aTheta = theta?.ATransposed, bTheta = theta?.B, zero = scratch)
        {
            float* sink = zero + d;
            float* own = sink + d;
            float* terms = own + (lambda == null ? 2L * Width * d : 0);
            for (int t = steps - 1; t >= 0; t--)
            {
                var cols = default(HostScanMath.Columns8);
                cols.SetUnused(width, zero, sink);
                int parity = t & 1;
                for (int q = 0; q < width; q++)
                {
                    long row = Row(first + q, channels, steps, t);
                    rows[q] = row;
                    float* x;
                    float* y;
                    if (lambda != null)
                    {
                        x = t == steps - 1 ? zero : lambda + ((row + channels) * d);
                        y = lambda + (row * d);
                    }
                    else
                    {
                        x = t == steps - 1 ? zero : own + ((((long)(1 - parity) * Width) + q) * d);
                        y = own + ((((long)parity * Width) + q) * d);
                    }

                    written[q] = (nint)y;
                    cols.Set(q, x, y, gradients + (row * d), 1f);
                }

                HostScanMath.Product(a, d, d, ref cols, width);
                for (int q = 0; q < width; q++)
                {
                    inputGradient[rows[q]] = HostScanMath.Dot(b, (float*)written[q], d);
                }

                if (theta != null)
                {
                    var thetaColumns = default(HostScanMath.Columns8);
                    thetaColumns.SetUnused(width, zero, sink);
                    for (int q = 0; q < width; q++)
                    {
                        thetaColumns.Set(q, theta.Reference(rows[q], t, channels, d, zero), terms + ((long)q * d), bTheta, theta.Input(rows[q]));
                    }

                    HostScanMath.Product(aTheta, d, d, ref thetaColumns, width);
                    for (int q = 0; q < width; q++)
                    {
                        sums[q] += HostScanMath.Dot(terms + ((long)q * d), (float*)written[q], d);
                    }
                }
            }

            if (firstLambda != null)
            {
                // written[q] is λ_0 of column q after the last (t = 0) step.
                for (int q = 0; q < width; q++)
                {
                    new ReadOnlySpan<float>((float*)written[q], d).CopyTo(new Span<float>(firstLambda + ((long)(first + q) * d), d));
                }
            }
        }

        if (theta != null)
        {
            sums.AsSpan(0, width).CopyTo(theta.Sums.AsSpan(first, width));
        }
    }

    /// <summary>The row of memory n = b·k + ch at step t in [B, T, k]-shaped data: (b·T + t)·k + ch.</summary>
    internal static long Row(int n, int channels, int steps, int t)
    {
        int b = n / channels;
        return ((((long)b * steps) + t) * channels) + (n - (b * channels));
    }
}
