using System.Runtime.CompilerServices;
using Lmu.Gpu.Kernels.Memory;

namespace Lmu.Gpu;

/// <summary>
/// The chunked parallel scan on the host (vectorised C#, parallel over chunks). Phase A: each chunk's end state from
/// the impulse response, s_c = Σ_q h_(len−1−q)·u_(cL+q). Phase B: the carries S_c = Ā^len·S_(c−1) + s_c, serial over
/// the chunks of one sequence (parallel over sequences), starting from the current state. Phase C: every chunk runs
/// its L steps from its carry, eight chunks in lock step per worker (<see cref="HostScanMath.Product8"/>), writing each
/// state (or its decoded outputs) exactly once.
/// </summary>
internal static unsafe class HostScan
{
    /// <summary>Chunks run in lock step by one worker in phase C (<see cref="HostScanMath.Product8"/>).</summary>
    private const int Width = 8;

    /// <summary>The forward scan; see <see cref="IMemoryEngine.RunScan"/>. <paramref name="states"/> [n, d] holds
    /// m_(−1) on entry and the final states on exit.</summary>
    public static void Forward(float[] aT, float[] bBar, ScanPlan plan, float* input, int batch, int channels,
        float[] states, MemoryOutputMode mode, float* decoders, int delays, float* output)
    {
        int d = bBar.Length;
        int n = batch * channels;
        int chunks = plan.Chunks;
        int length = plan.ChunkLength;
        int steps = plan.Steps;
        float[] initial = (float[])states.Clone();
        var carries = new float[(long)n * chunks * d];

        fixed (float* h = plan.Impulse)
        fixed (float* carry = carries)
        {
            float* hp = h;
            float* cp = carry;

            // Phase A: chunk end states, independent per (sequence, chunk).
            ParallelRanges((long)n * chunks, 64, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (from, to) =>
            {
                for (long col = from; col < to; col++)
                {
                    int seq = (int)(col / chunks);
                    int c = (int)(col - (long)seq * chunks);
                    int b = seq / channels, ch = seq - b * channels;
                    int len = c == chunks - 1 ? plan.LastLength : length;
                    float* u = input + ((long)b * steps + (long)c * length) * channels + ch;
                    HostScanMath.ChunkEndState(hp, d, u, channels, len, cp + col * d);
                }
            });

            // Phase B: carries, serial over the chunks of each sequence.
            HostThreads.For(n, seq =>
            {
                var s = new float[d];
                for (int c = 0; c < chunks; c++)
                {
                    var dst = new Span<float>(cp + ((long)seq * chunks + c) * d, d);
                    dst.CopyTo(s);
                    ReadOnlySpan<float> previous = c == 0
                        ? initial.AsSpan(seq * d, d)
                        : new ReadOnlySpan<float>(cp + ((long)seq * chunks + c - 1) * d, d);
                    HostMemoryMath.Advance(c == chunks - 1 ? plan.LastPowerT : plan.PowerT, s, previous, 1f, dst);
                }

                new ReadOnlySpan<float>(cp + ((long)seq * chunks + chunks - 1) * d, d).CopyTo(states.AsSpan(seq * d, d));
            });

            if (mode == MemoryOutputMode.FinalOnly)
            {
                return;
            }

            // Phase C: every state from its chunk's carry, eight chunks in lock step.
            long columns = (long)n * chunks;
            long groups = (columns + Width - 1) / Width;
            fixed (float* a = aT)
            fixed (float* bb = bBar)
            fixed (float* init = initial)
            fixed (float* fin = states)
            {
                float* ap = a, bp = bb, ip = init, fp = fin;
                ParallelRanges(groups, 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (from, to) =>
                {
                    // Scratch: two buffers per column (2·Width), two for discarded outputs, one of zeros.
                    var scratch = new float[(2 * Width + 3) * d];
                    fixed (float* sp = scratch)
                    {
                        var zero = sp + (2 * Width + 2) * d;
                        var x = stackalloc nint[Width];
                        var yOut = stackalloc nint[Width];
                        var uPtr = stackalloc nint[Width];
                        var lens = stackalloc int[Width];
                        var seqs = stackalloc int[Width];
                        var chs = stackalloc int[Width];
                        for (long g = from; g < to; g++)
                        {
                            int maxLen = 0;
                            for (int q = 0; q < Width; q++)
                            {
                                long col = g * Width + q;
                                if (col >= columns)
                                {
                                    lens[q] = 0;
                                    x[q] = (nint)zero;
                                    continue;
                                }

                                int seq = (int)(col / chunks);
                                int c = (int)(col - (long)seq * chunks);
                                seqs[q] = seq;
                                chs[q] = c;
                                lens[q] = c == chunks - 1 ? plan.LastLength : length;
                                maxLen = Math.Max(maxLen, lens[q]);
                                x[q] = (nint)(c == 0 ? ip + (long)seq * d : cp + ((long)seq * chunks + c - 1) * d);
                            }

                            for (int j = 0; j < maxLen; j++)
                            {
                                var cols = default(HostScanMath.Columns8);
                                for (int q = 0; q < Width; q++)
                                {
                                    float* y;
                                    float s = 0;
                                    long row = 0;
                                    if (j < lens[q])
                                    {
                                        int seq = seqs[q];
                                        int b = seq / channels, ch = seq - b * channels;
                                        row = ((long)b * steps + (long)chs[q] * length + j) * channels + ch;
                                        s = input[row];
                                        y = mode == MemoryOutputMode.AllStates ? output + row * d : sp + (q * 2 + (j & 1)) * d;
                                    }
                                    else
                                    {
                                        y = sp + (2 * Width + (q & 1)) * d; // discarded
                                        x[q] = (nint)zero;
                                    }

                                    yOut[q] = (nint)y;
                                    uPtr[q] = (nint)row;
                                    cols.Set(q, (float*)x[q], y, bp, s);
                                }

                                HostScanMath.Product(ap, d, d, ref cols, Width);
                                for (int q = 0; q < Width; q++)
                                {
                                    if (j >= lens[q])
                                    {
                                        continue;
                                    }

                                    float* y = (float*)yOut[q];
                                    if (mode == MemoryOutputMode.Decoded)
                                    {
                                        float* o = output + (long)uPtr[q] * delays;
                                        for (int r = 0; r < delays; r++)
                                        {
                                            o[r] = HostScanMath.Dot(decoders + (long)r * d, y, d);
                                        }
                                    }

                                    if (j == lens[q] - 1 && chs[q] == chunks - 1)
                                    {
                                        new ReadOnlySpan<float>(y, d).CopyTo(new Span<float>(fp + (long)seqs[q] * d, d));
                                    }

                                    x[q] = (nint)y;
                                }
                            }
                        }
                    }
                });
            }
        }
    }

    /// <summary>The adjoint scan λ_t = g_t + Āᵀ·λ_(t+1) (λ_T = 0) in reverse time, with the input gradient
    /// B̄ᵀ·λ_t and the gradient Āᵀ·λ_0 of the initial state. <paramref name="aRowMajor"/> is Ā row-major (that is,
    /// (Āᵀ)ᵀ in the layout of <see cref="HostScanMath.Product8"/>). With <paramref name="lambda"/> null, λ is not written
    /// (the third pass chains it through the scratch buffers of the first) and λ_0 comes from the first chunk's carry.</summary>
    public static void Adjoint(float[] aRowMajor, float[] bBar, ScanPlan plan, float* gradients, int batch, int channels,
        float* lambda, float* inputGradient, float* initialGradient)
    {
        int d = bBar.Length;
        int n = batch * channels;
        int chunks = plan.Chunks;
        int length = plan.ChunkLength;
        int steps = plan.Steps;
        long columns = (long)n * chunks;
        var local = new float[columns * d];
        fixed (float* a = aRowMajor)
        fixed (float* bb = bBar)
        fixed (float* lp = local)
        {
            float* ap = a, bp = bb, loc = lp;

            // Pass 1 (from zero) writes each chunk's start value into local; pass 2 turns it into the true start value
            // X_c; pass 3 (from X_(c+1)) writes λ and B̄ᵀλ.
            for (int pass = 1; pass <= 3; pass += 2)
            {
                bool write = pass == 3;
                if (write)
                {
                    HostThreads.For(n, seq =>
                    {
                        var s = new float[d];
                        for (int c = chunks - 2; c >= 0; c--)
                        {
                            var dst = new Span<float>(loc + ((long)seq * chunks + c) * d, d);
                            dst.CopyTo(s);
                            HostMemoryMath.Advance(plan.AdjointPowerT, s, new ReadOnlySpan<float>(loc + ((long)seq * chunks + c + 1) * d, d), 1f, dst);
                        }
                    });
                }

                ParallelRanges((columns + Width - 1) / Width, 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (from, to) =>
                {
                    // Scratch as in the forward phase C: two buffers per column, two discarded, one of zeros.
                    var scratch = new float[(2 * Width + 3) * d];
                    fixed (float* sp = scratch)
                    {
                        var zero = sp + (2 * Width + 2) * d;
                        var x = stackalloc nint[Width];
                        var lens = stackalloc int[Width];
                        var seqs = stackalloc int[Width];
                        var chs = stackalloc int[Width];
                        for (long g = from; g < to; g++)
                        {
                            int maxLen = 0;
                            for (int q = 0; q < Width; q++)
                            {
                                long col = g * Width + q;
                                x[q] = (nint)zero;
                                lens[q] = 0;
                                if (col >= columns)
                                {
                                    continue;
                                }

                                int seq = (int)(col / chunks);
                                int c = (int)(col - (long)seq * chunks);
                                seqs[q] = seq;
                                chs[q] = c;
                                lens[q] = c == chunks - 1 ? plan.LastLength : length;
                                maxLen = Math.Max(maxLen, lens[q]);
                                if (write && c < chunks - 1)
                                {
                                    x[q] = (nint)(loc + ((long)seq * chunks + c + 1) * d);
                                }
                            }

                            // Step j runs time t = cL + len − 1 − j (reverse).
                            for (int j = 0; j < maxLen; j++)
                            {
                                var cols = default(HostScanMath.Columns8);
                                for (int q = 0; q < Width; q++)
                                {
                                    float* y = sp + (2 * Width + (q & 1)) * d;
                                    float* bias = zero;
                                    float* source = j < lens[q] ? (float*)x[q] : zero;
                                    if (j < lens[q])
                                    {
                                        int seq = seqs[q];
                                        int b = seq / channels, ch = seq - b * channels;
                                        long row = ((long)b * steps + (long)chs[q] * length + lens[q] - 1 - j) * channels + ch;
                                        bias = gradients + row * d;
                                        y = write && lambda != null ? lambda + row * d : sp + (q * 2 + (j & 1)) * d;
                                    }

                                    cols.Set(q, source, y, bias, 1f);
                                    if (j < lens[q])
                                    {
                                        x[q] = (nint)y;
                                    }
                                }

                                HostScanMath.Product(ap, d, d, ref cols, Width);
                                if (write)
                                {
                                    for (int q = 0; q < Width; q++)
                                    {
                                        if (j < lens[q])
                                        {
                                            int seq = seqs[q];
                                            int b = seq / channels, ch = seq - b * channels;
                                            long row = ((long)b * steps + (long)chs[q] * length + lens[q] - 1 - j) * channels + ch;
                                            inputGradient[row] = HostScanMath.Dot(bp, (float*)x[q], d);
                                        }
                                    }
                                }
                            }

                            if (!write)
                            {
                                for (int q = 0; q < Width; q++)
                                {
                                    if (lens[q] > 0)
                                    {
                                        long col = g * Width + q;
                                        new ReadOnlySpan<float>((float*)x[q], d).CopyTo(new Span<float>(loc + col * d, d));
                                    }
                                }
                            }
                        }
                    }
                });
            }

            if (lambda != null)
            {
                FinishInitialGradient(aRowMajor, lambda, batch, channels, steps, d, initialGradient);
            }
            else
            {
                // λ_0 of memory n is its first chunk's start value X_0, row n·C of local; compact it to [B·k, d] (a T of 1).
                var first = new float[(long)n * d];
                for (int seq = 0; seq < n; seq++)
                {
                    new ReadOnlySpan<float>(loc + (long)seq * chunks * d, d).CopyTo(first.AsSpan(seq * d, d));
                }

                fixed (float* f = first)
                {
                    FinishInitialGradient(aRowMajor, f, batch, channels, 1, d, initialGradient);
                }
            }
        }
    }

    /// <summary>The reverse-time sequential adjoint (reference and <see cref="SequenceMethod.Sequential"/>).</summary>
    /// <remarks>With <paramref name="lambda"/> null only ∂u and ∂m₀ are written: λ is chained through two buffers per
    /// memory, and λ_0 kept for ∂m₀.</remarks>
    public static void AdjointSequential(float[] aRowMajor, float[] bBar, float* gradients, int batch, int channels, int steps,
        float* lambda, float* inputGradient, float* initialGradient)
    {
        int d = bBar.Length;
        int n = batch * channels;
        // λ_0 of every memory, compact [B·k, d], where λ is not written.
        var first = lambda == null ? new float[(long)n * d] : [];
        fixed (float* firstLambda = first)
        {
            if (HostMemoryEngine.GroupedSequential(n))
            {
                HostSequence.Adjoint(aRowMajor, bBar, gradients, batch, channels, steps, lambda, inputGradient, firstLambda: firstLambda);
            }
            else
            {
                float* g0 = gradients, l0 = lambda, du0 = inputGradient, f0 = firstLambda;
                HostThreads.For(n, seq =>
                {
                    int b = seq / channels, ch = seq - b * channels;
                    var zero = new float[d];
                    var own = l0 == null ? new float[2 * d] : [];
                    ReadOnlySpan<float> x = zero;
                    for (int t = steps - 1; t >= 0; t--)
                    {
                        long row = ((long)b * steps + t) * channels + ch;
                        var y = l0 != null ? new Span<float>(l0 + row * d, d) : own.AsSpan((t & 1) * d, d);
                        HostMemoryMath.Advance(aRowMajor, new ReadOnlySpan<float>(g0 + row * d, d), x, 1f, y);
                        du0[row] = System.Numerics.Tensors.TensorPrimitives.Dot(bBar, y);
                        x = y;
                    }

                    if (l0 == null)
                    {
                        x.CopyTo(new Span<float>(f0 + (long)seq * d, d));
                    }
                });
            }

            // λ_0 of memory (b, ch): in λ at row b·T·k + ch, or in the compact copy at row b·k + ch (a T of 1).
            FinishInitialGradient(aRowMajor, lambda != null ? lambda : firstLambda, batch, channels, lambda != null ? steps : 1, d, initialGradient);
        }
    }

    private static void FinishInitialGradient(float[] aRowMajor, float* lambda, int batch, int channels, int steps, int d, float* initialGradient)
    {
        var zero = new float[d];
        for (int b = 0; b < batch; b++)
        {
            for (int ch = 0; ch < channels; ch++)
            {
                long row = (long)b * steps * channels + ch;
                HostMemoryMath.Advance(aRowMajor, zero, new ReadOnlySpan<float>(lambda + row * d, d), 0f,
                    new Span<float>(initialGradient + ((long)b * channels + ch) * d, d));
            }
        }
    }

    /// <summary>Splits [0, count) into contiguous ranges of at least <paramref name="grain"/>, about four per core,
    /// and runs them in parallel (inline when there is one range).</summary>
    internal static void ParallelRanges(long count, long grain, Action<long, long> body)
    {
        if (count <= 0)
        {
            return;
        }

        int workers = HostThreads.Limit;
        long ranges = Math.Clamp(count / Math.Max(1, grain), 1, workers * 4L);
        if (ranges == 1 || workers == 1)
        {
            body(0, count);
            return;
        }

        long size = (count + ranges - 1) / ranges;
        HostThreads.For(ranges, r =>
        {
            long from = r * size;
            long to = Math.Min(count, from + size);
            if (from < to)
            {
                body(from, to);
            }
        });
    }
}
