using System.Numerics.Tensors;
using Lmu.Gpu.Kernels.Cell;

namespace Lmu.Gpu.Training;

/// <summary>
/// The host path's LMU cell over whole sequences, forward and backpropagation through time. Sequences are taken eight
/// (or, for small batches, four) at a time in lock step, so every weight vector loaded feeds eight sequences: the d×d
/// memory step, W_m·m, W_h·h and W_x·x (and in the backward pass W_mᵀ·δz, W_hᵀ·δz and Āᵀ·λ) are eight-column products
/// (<see cref="HostScanMath.Product8"/>, register-blocked AVX-512) instead of one matrix-vector product per
/// sequence. The small per-sequence parts (u, du, the θ partial, dL/dx) stay per sequence.
/// </summary>
internal static unsafe class HostCell
{
    /// <summary>Forces the lane width (4 or 8) for calls from the current thread (tests); null for the rule.</summary>
    [ThreadStatic]
    internal static int? LaneWidthOverride;

    /// <summary>Sequences in lock step: 8 where that still gives every core a group of them, else 4.</summary>
    internal static int LaneWidth(int batch) => LaneWidthOverride ?? (batch >= 8 * HostThreads.Limit ? 8 : 4);

    /// <summary>See <see cref="Backend.CellForward"/>; <paramref name="transposes"/> keeps the weights' transposes
    /// between calls (null: made for this call).</summary>
    public static void Forward(CellParams p, int batch, Slice w, Slice sys, Slice x, Slice stateH, Slice stateM, Slice hSeq, Slice mSeq, Slice uSeq,
        TransposeCache? transposes = null)
    {
        float[] wa = w.Tensor.Host!;
        int wo = (int)w.Offset;
        int n = p.Units;
        int kd = p.Channels * p.Order;
        int nx = p.InputSize;

        // Mᵀ layouts for HostScanMath.Product ([j·rows + i] = M[i, j]): the weights are stored row-major M[i, j], so transpose.
        float[] wmT = Transpose(w, p.OffWm, n, kd, transposes);
        float[]? whT = p.Has(CellFlags.HiddenToHidden) ? Transpose(w, p.OffWh, n, n, transposes) : null;
        float[]? wxT = p.Has(CellFlags.InputToHidden) ? Transpose(w, p.OffWx, n, nx, transposes) : null;
        float[] bias = HostScratch.Rent(n);
        if (p.Has(CellFlags.HiddenBias))
        {
            wa.AsSpan(wo + p.OffBh, n).CopyTo(bias);
        }

        float[] sa = sys.Tensor.Host!;
        int so = (int)sys.Offset;
        var job = new ForwardJob(p, batch, x, stateH, stateM, hSeq, mSeq, uSeq, wa, wo, sa, so, wmT, whT, wxT, bias, LaneWidth(batch));
        HostThreads.For((batch + job.Width - 1) / job.Width, job, static (job, group) => ForwardGroup(job, group));
        HostScratch.Return(bias);
    }

    /// <summary>One group of <see cref="ForwardJob.Width"/> sequences through every step of <see cref="Forward"/>.</summary>
    private static void ForwardGroup(in ForwardJob job, int group)
    {
        var (p, batch, x, stateH, stateM, hSeq, mSeq, uSeq, wa, wo, sa, so, wmT, whT, wxT, bias, width) = job;
        int n = p.Units;
        int d = p.Order;
        int k = p.Channels;
        int kd = k * d;
        int nx = p.InputSize;
        int steps = p.Steps;
        bool store = p.Has(CellFlags.StoreStates);
        var act = (Activation)p.Activation;
        int b0 = group * width;
        int lanes = Math.Min(width, batch - b0);
        ReadOnlySpan<float> weights = wa.AsSpan(wo);
        float[] h = HostScratch.Rent(width * n), hNext = HostScratch.Rent(width * n), m = HostScratch.Rent(width * kd),
            mNew = HostScratch.Rent(width * kd), u = HostScratch.Rent(width * k), xZero = HostScratch.Rent(nx);
        for (int l = 0; l < lanes; l++)
        {
            stateH.Span.Slice((b0 + l) * n, n).CopyTo(h.AsSpan(l * n, n));
            stateM.Span.Slice((b0 + l) * kd, kd).CopyTo(m.AsSpan(l * kd, kd));
        }

        fixed (float* pm0 = m, pn0 = mNew, ph0 = h, pq0 = hNext, pu = u, pz = xZero, ps = sa, pwm = wmT, pwh = whT, pwx = wxT, pbias = bias, px = x.Span)
        {
            float* paT = ps + so + (2 * d * d) + (2 * d);
            float* pb = ps + so + (d * d);
            float* pm = pm0, pn = pn0, ph = ph0, pq = pq0;
            for (int t = 0; t < steps; t++)
            {
                for (int l = 0; l < lanes; l++)
                {
                    int row = ((b0 + l) * steps) + t;
                    var xt = x.Span.Slice(row * nx, nx);
                    var hl = new ReadOnlySpan<float>(ph + (l * n), n);
                    var ml = new ReadOnlySpan<float>(pm + (l * kd), kd);
                    for (int c = 0; c < k; c++)
                    {
                        u[(l * k) + c] = RowDot(weights, p.OffEx, c, xt)
                            + (p.Has(CellFlags.HiddenToMemory) ? RowDot(weights, p.OffEh, c, hl) : 0)
                            + (p.Has(CellFlags.MemoryToMemory) ? RowDot(weights, p.OffEm, c, ml) : 0)
                            + (p.Has(CellFlags.MemoryBias) ? weights[p.OffBu + c] : 0);
                    }
                }

                for (int c = 0; c < k; c++)
                {
                    var cols = default(HostScanMath.Columns8);
                    for (int l = 0; l < width; l++)
                    {
                        cols.Set(l, pm + (l * kd) + (c * d), pn + (l * kd) + (c * d), pb, l < lanes ? pu[(l * k) + c] : 0f);
                    }

                    HostScanMath.Product(paT, d, d, ref cols, width);
                }

                // h' = f(W_m·m' + b_h + W_h·h + W_x·x), into hNext (a lane's own y may be its bias).
                var hc = default(HostScanMath.Columns8);
                for (int l = 0; l < width; l++)
                {
                    hc.Set(l, pn + (l * kd), pq + (l * n), pbias, 1f);
                }

                HostScanMath.Product(pwm, n, kd, ref hc, width);
                if (pwh != null)
                {
                    for (int l = 0; l < width; l++)
                    {
                        hc.Set(l, ph + (l * n), pq + (l * n), pq + (l * n), 1f);
                    }

                    HostScanMath.Product(pwh, n, n, ref hc, width);
                }

                if (pwx != null)
                {
                    for (int l = 0; l < width; l++)
                    {
                        float* xl = l < lanes ? px + ((long)(((b0 + l) * steps) + t) * nx) : pz;
                        hc.Set(l, xl, pq + (l * n), pq + (l * n), 1f);
                    }

                    HostScanMath.Product(pwx, n, nx, ref hc, width);
                }

                for (int l = 0; l < lanes; l++)
                {
                    int row = ((b0 + l) * steps) + t;
                    var next = new Span<float>(pq + (l * n), n);
                    act.ApplyInPlace(next);
                    next.CopyTo(hSeq.Span.Slice(row * n, n));
                    if (store)
                    {
                        new ReadOnlySpan<float>(pn + (l * kd), kd).CopyTo(mSeq.Span.Slice(row * kd, kd));
                        u.AsSpan(l * k, k).CopyTo(uSeq.Span.Slice(row * k, k));
                    }
                }

                float* swap = ph;
                ph = pq;
                pq = swap;
                swap = pm;
                pm = pn;
                pn = swap;
            }

            for (int l = 0; l < lanes; l++)
            {
                new ReadOnlySpan<float>(ph + (l * n), n).CopyTo(stateH.Span.Slice((b0 + l) * n, n));
                new ReadOnlySpan<float>(pm + (l * kd), kd).CopyTo(stateM.Span.Slice((b0 + l) * kd, kd));
            }
        }

        HostScratch.Return(h, hNext, m, mNew, u, xZero);
    }

    /// <summary>See <see cref="Backend.CellBackward"/>.</summary>
    public static void Backward(CellParams p, int batch, Slice w, Slice sys, Slice x, Slice hSeq, Slice mSeq, Slice uSeq, Slice gradH, Slice dZ, Slice dU, Slice dX, Slice thetaPartial)
    {
        float[] wa = w.Tensor.Host!;
        int wo = (int)w.Offset;
        float[] sa = sys.Tensor.Host!;
        int so = (int)sys.Offset;
        int n = p.Units;
        int d = p.Order;
        int k = p.Channels;
        int kd = k * d;
        int nx = p.InputSize;
        int steps = p.Steps;
        var act = (Activation)p.Activation;
        bool thetaGrad = p.Has(CellFlags.ThetaGradient);
        bool euler = p.Has(CellFlags.Euler);
        bool hh = p.Has(CellFlags.HiddenToHidden);

        int width = LaneWidth(batch);
        HostThreads.For((batch + width - 1) / width, group =>
        {
            int b0 = group * width;
            int lanes = Math.Min(width, batch - b0);
            ReadOnlySpan<float> weights = wa.AsSpan(wo);
            ReadOnlySpan<float> bBar = sa.AsSpan(so + (d * d), d);
            ReadOnlySpan<float> aC = sa.AsSpan(so + (d * d) + d, d * d);
            ReadOnlySpan<float> bC = sa.AsSpan(so + (2 * d * d) + d, d);
            var zeros = new float[Math.Max(d, n)];
            var dh = new float[width * n];
            var dm = new float[width * kd];
            var dmNew = new float[width * kd];
            var dz = new float[width * n];
            var du = new float[k];
            var am = new float[d];
            var sum = new float[n];
            var thetaAcc = new double[width];
            fixed (float* pdm0 = dm, pdn0 = dmNew, pdh = dh, pdz = dz, pzero = zeros, pw = wa, ps = sa)
            {
                // W_m [n, kd] row-major is (W_mᵀ)ᵀ: the HostScanMath.Product layout of W_mᵀ. Likewise W_h for W_hᵀ and Ā for Āᵀ.
                float* pwm = pw + wo + p.OffWm;
                float* pwh = pw + wo + p.OffWh;
                float* pa = ps + so;
                float* pdm = pdm0, pdn = pdn0;
                for (int t = steps - 1; t >= 0; t--)
                {
                    for (int l = 0; l < lanes; l++)
                    {
                        int row = ((b0 + l) * steps) + t;
                        var dzl = dz.AsSpan(l * n, n);
                        TensorPrimitives.Add(gradH.Span.Slice(row * n, n), dh.AsSpan(l * n, n), sum);
                        act.Backward(hSeq.Span.Slice(row * n, n), sum, dzl);
                        dzl.CopyTo(dZ.Span.Slice(row * n, n));
                    }

                    // λ += W_mᵀ·δz (λ = dm holds Āᵀ·λ_(t+1) + …).
                    var cols = default(HostScanMath.Columns8);
                    for (int l = 0; l < width; l++)
                    {
                        cols.Set(l, pdz + (l * n), pdm + (l * kd), pdm + (l * kd), 1f);
                    }

                    HostScanMath.Product(pwm, kd, n, ref cols, width);
                    if (hh)
                    {
                        for (int l = 0; l < width; l++)
                        {
                            cols.Set(l, pdz + (l * n), pdh + (l * n), pzero, 0f);
                        }

                        HostScanMath.Product(pwh, n, n, ref cols, width);
                    }
                    else
                    {
                        Array.Clear(dh);
                    }

                    for (int l = 0; l < lanes; l++)
                    {
                        int row = ((b0 + l) * steps) + t;
                        var dml = new Span<float>(pdm + (l * kd), kd);
                        for (int c = 0; c < k; c++)
                        {
                            du[c] = TensorPrimitives.Dot(bBar, dml.Slice(c * d, d));
                        }

                        du.CopyTo(dU.Span.Slice(row * k, k));
                        if (thetaGrad)
                        {
                            thetaAcc[l] += ThetaTerm(aC, bC, mSeq, uSeq, row, t, k, d, kd, euler, dml, am);
                        }

                        if (p.Has(CellFlags.HiddenToMemory))
                        {
                            var dhl = dh.AsSpan(l * n, n);
                            for (int c = 0; c < k; c++)
                            {
                                TensorPrimitives.MultiplyAdd(weights.Slice(p.OffEh + (c * n), n), du[c], dhl, dhl);
                            }
                        }

                        if (p.Has(CellFlags.InputGradient))
                        {
                            Span<float> dx = dX.Span.Slice(row * nx, nx);
                            dx.Clear();
                            if (p.Has(CellFlags.InputToHidden))
                            {
                                for (int j = 0; j < n; j++)
                                {
                                    TensorPrimitives.MultiplyAdd(weights.Slice(p.OffWx + (j * nx), nx), dz[(l * n) + j], dx, dx);
                                }
                            }

                            for (int c = 0; c < k; c++)
                            {
                                TensorPrimitives.MultiplyAdd(weights.Slice(p.OffEx + (c * nx), nx), du[c], dx, dx);
                            }
                        }
                    }

                    // λ carried back: Āᵀ·λ per channel (then + e_mᵀ·du where memory feeds memory).
                    for (int c = 0; c < k; c++)
                    {
                        for (int l = 0; l < width; l++)
                        {
                            cols.Set(l, pdm + (l * kd) + (c * d), pdn + (l * kd) + (c * d), pzero, 0f);
                        }

                        HostScanMath.Product(pa, d, d, ref cols, width);
                    }

                    if (p.Has(CellFlags.MemoryToMemory))
                    {
                        for (int l = 0; l < lanes; l++)
                        {
                            int row = ((b0 + l) * steps) + t;
                            var dnl = new Span<float>(pdn + (l * kd), kd);
                            for (int c = 0; c < k; c++)
                            {
                                TensorPrimitives.MultiplyAdd(weights.Slice(p.OffEm + (c * kd), kd), dU.Span[(row * k) + c], dnl, dnl);
                            }
                        }
                    }

                    float* swap = pdm;
                    pdm = pdn;
                    pdn = swap;
                }
            }

            if (thetaGrad)
            {
                for (int l = 0; l < lanes; l++)
                {
                    thetaPartial.Span[b0 + l] = (float)(thetaAcc[l] * p.ThetaScale);
                }
            }
        });
    }

    /// <summary>One step's term of dL/dθ (before the −dt/θ² scale): λ_t·(A_c·m + B_c·u) per channel, m the state
    /// after the step (ZOH) or before it (Euler).</summary>
    private static double ThetaTerm(ReadOnlySpan<float> aC, ReadOnlySpan<float> bC, Slice mSeq, Slice uSeq, int row, int t, int k, int d, int kd, bool euler, ReadOnlySpan<float> dm, Span<float> am)
    {
        double acc = 0;
        for (int c = 0; c < k; c++)
        {
            float uc = uSeq.Span[(row * k) + c];
            ReadOnlySpan<float> mRef = euler
                ? (t > 0 ? mSeq.Span.Slice(((row - 1) * kd) + (c * d), d) : default)
                : mSeq.Span.Slice((row * kd) + (c * d), d);
            for (int i = 0; i < d; i++)
            {
                am[i] = mRef.IsEmpty ? 0f : TensorPrimitives.Dot(aC.Slice(i * d, d), mRef);
            }

            TensorPrimitives.MultiplyAdd(bC, uc, am, am);
            acc += TensorPrimitives.Dot(am, dm.Slice(c * d, d));
        }

        return acc;
    }

    private static float RowDot(ReadOnlySpan<float> weights, int offset, int row, ReadOnlySpan<float> v) =>
        TensorPrimitives.Dot(weights.Slice(offset + (row * v.Length), v.Length), v);

    /// <summary>The transpose of the rows × cols row-major matrix at <paramref name="offset"/> in the weights: [j·rows + i],
    /// from the cache where it can hold it.</summary>
    private static float[] Transpose(Slice w, int offset, int rows, int cols, TransposeCache? transposes) =>
        transposes is not null && transposes.Holds(rows, cols)
            ? transposes.Get(w.Sub(offset, (long)rows * cols), rows, cols)
            : Transpose(w.Tensor.Host!, (int)w.Offset + offset, rows, cols);

    /// <summary>The transpose of the rows × cols row-major matrix at <paramref name="offset"/>: [j·rows + i].</summary>
    private static float[] Transpose(float[] source, int offset, int rows, int cols)
    {
        var result = new float[rows * cols];
        HostScanMath.Transpose(source.AsSpan(offset, rows * cols), rows, cols, result);
        return result;
    }

    /// <summary>What every group of <see cref="Forward"/> reads: passed by value to a static body, so that a call with one
    /// group (a streaming step of a few sequences) allocates no closure.</summary>
    private readonly record struct ForwardJob(
        CellParams P, int Batch, Slice X, Slice StateH, Slice StateM, Slice HSeq, Slice MSeq, Slice USeq,
        float[] Weights, int WeightOffset, float[] System, int SystemOffset, float[] MemoryKernelT, float[]? HiddenKernelT,
        float[]? InputKernelT, float[] Bias, int Width);
}
