using System.Numerics.Tensors;
using Lmu.Gpu.Kernels.Cell;
using Lmu.Gpu.Kernels.Memory;
using Lmu.Gpu.Kernels.Training;

namespace Lmu.Gpu.Training;

/// <summary>The host path: vectorised C# (TensorPrimitives, <see cref="HostMemoryMath"/>), parallel over the batch.</summary>
internal sealed class HostBackend : Backend
{
    /// <summary>The weights' transposes that the products take, kept while the weights are unchanged (inference
    /// and streaming run the same weights many times).</summary>
    private readonly TransposeCache _transposes = new();

    /// <summary>Ones for the column sums (grown as needed, never written after it is filled).</summary>
    private float[] _ones = [];

    public HostBackend() => Memory = new HostMemorySequence();

    public override bool IsHost => true;

    public override Tensor Allocate(long length, string what)
    {
        if (length > Array.MaxLength)
        {
            throw new InsufficientMemoryException($"The {what} buffer would need {length:N0} floats, more than one array holds.");
        }

        try
        {
            return new Tensor(new float[length]);
        }
        catch (OutOfMemoryException e)
        {
            throw new InsufficientMemoryException($"Out of host memory allocating the {what} buffer ({length * 4 / 1048576.0:F1} MiB).", e);
        }
    }

    public override LabelTensor AllocateLabels(int count) => new(new int[count]);

    public override void UploadLabels(LabelTensor destination, ReadOnlySpan<int> labels) => labels.CopyTo(destination.Host);

    public override void Upload(Slice destination, ReadOnlySpan<float> source)
    {
        source.CopyTo(destination.Span);
        destination.Tensor.MarkWritten();
    }

    public override void Download(Slice source, Span<float> destination) => source.Span.CopyTo(destination);

    public override void Clear(Slice slice)
    {
        slice.Span.Clear();
        slice.Tensor.MarkWritten();
    }

    public override void Copy(Slice source, Slice destination)
    {
        source.Span.CopyTo(destination.Span);
        destination.Tensor.MarkWritten();
    }

    public override void Synchronize()
    {
    }

    public override void CellForward(CellParams p, int batch, Slice w, Slice sys, Slice x, Slice stateH, Slice stateM, Slice hSeq, Slice mSeq, Slice uSeq) =>
        HostCell.Forward(p, batch, w, sys, x, stateH, stateM, hSeq, mSeq, uSeq, _transposes);

    public override void CellBackward(CellParams p, int batch, Slice w, Slice sys, Slice x, Slice hSeq, Slice mSeq, Slice uSeq, Slice gradH, Slice dZ, Slice dU, Slice dX, Slice thetaPartial) =>
        HostCell.Backward(p, batch, w, sys, x, hSeq, mSeq, uSeq, gradH, dZ, dU, dX, thetaPartial);

    public override void Outer(OuterParams p, Slice dY, Slice x, Slice dW) =>
        HostOuter.Accumulate(p, dY.Tensor.Host!, (int)dY.Offset, x.Tensor.Host!, (int)x.Offset, dW.Tensor.Host!, (int)dW.Offset);

    /// <remarks>A column sum is the weight gradient against a column of ones (<see cref="HostOuter"/>'s one-column path,
    /// summed over all rows in vector registers and stored once); adding a row at a time stored db back at every row.</remarks>
    public override void ColumnSum(Slice dY, Slice db, int rows, int width)
    {
        var ones = _ones;
        if (ones.Length < rows)
        {
            ones = new float[rows];
            Array.Fill(ones, 1f);
            _ones = ones;
        }

        HostOuter.Accumulate(new OuterParams(1, rows, width, 1, 0), dY.Tensor.Host!, (int)dY.Offset, ones, 0, db.Tensor.Host!, (int)db.Offset);
    }

    public override void DenseForward(DenseParams p, Slice x, Slice w, Slice bias, Slice y)
    {
        float[] xa = x.Tensor.Host!;
        int xo = (int)x.Offset;
        float[] ya = y.Tensor.Host!;
        int yo = (int)y.Offset;
        float[] wa = w.Tensor.Host!;
        int wo = (int)w.Offset;
        float[] ba = bias.Tensor.Host!;
        int bo = (int)bias.Offset;
        if (HostDense.Applies(p.Out) && p.In > 1)
        {
            var xs = xa.AsMemory(xo, p.Rows * p.In);
            var bs = ba.AsMemory(bo, p.HasBias != 0 ? p.Out : 0);
            var ys = ya.AsMemory(yo, p.Rows * p.Out);
            if (_transposes.Holds(p.Out, p.In))
            {
                HostDense.ForwardTransposed(p, xs, _transposes.Get(w, p.Out, p.In), bs, ys);
            }
            else
            {
                HostDense.Forward(p, xs, wa.AsMemory(wo, p.Out * p.In), bs, ys);
            }

            return;
        }

        DenseForwardRows(p, xa, xo, wa, wo, ba, bo, ya, yo);
    }

    /// <summary>The dense forward pass for few outputs (one dot per output and row), or one input (y_r (+)= x_r·W[:, 0]
    /// + b, one axpy per row: the blocked product would pad the single input to a block), over blocks of rows. A method
    /// of its own, so that its closure is made only when this path runs.</summary>
    private static void DenseForwardRows(DenseParams p, float[] xa, int xo, float[] wa, int wo, float[] ba, int bo, float[] ya, int yo) =>
        ForRowBlocks(p.Rows, new RowsJob(p, xa, xo, wa, wo, ba, bo, ya, yo), static (job, from, to) => DenseForwardRange(job, from, to));

    /// <summary>Rows [<paramref name="from"/>, <paramref name="to"/>) of <see cref="DenseForwardRows"/>.</summary>
    private static void DenseForwardRange(in RowsJob job, int from, int to)
    {
        var (p, xa, xo, wa, wo, ba, bo, ya, yo) = job;
        ReadOnlySpan<float> bias = p.HasBias != 0 ? ba.AsSpan(bo, p.Out) : default;
        for (int r = from; r < to; r++)
        {
            ReadOnlySpan<float> xr = xa.AsSpan(xo + (r * p.In), p.In);
            Span<float> yr = ya.AsSpan(yo + (r * p.Out), p.Out);
            if (p.In == 1)
            {
                ReadOnlySpan<float> column = wa.AsSpan(wo, p.Out);
                if (p.Accumulate != 0)
                {
                    TensorPrimitives.MultiplyAdd(column, xr[0], yr, yr);
                }
                else
                {
                    TensorPrimitives.Multiply(column, xr[0], yr);
                }

                if (!bias.IsEmpty)
                {
                    TensorPrimitives.Add(yr, bias, yr);
                }

                continue;
            }

            for (int o = 0; o < p.Out; o++)
            {
                float s = TensorPrimitives.Dot(xr, wa.AsSpan(wo + (o * p.In), p.In)) + (bias.IsEmpty ? 0f : bias[o]);
                yr[o] = p.Accumulate != 0 ? yr[o] + s : s;
            }
        }

        if (p.Accumulate == 0)
        {
            ((Activation)p.Activation).ApplyInPlace(ya.AsSpan(yo + (from * p.Out), (to - from) * p.Out));
        }
    }

    /// <summary>What <see cref="DenseForwardRange"/> reads.</summary>
    private readonly record struct RowsJob(DenseParams P, float[] Xa, int Xo, float[] Wa, int Wo, float[] Ba, int Bo, float[] Ya, int Yo);

    /// <summary>Runs <paramref name="body"/> over blocks of rows in parallel (a few blocks per thread, at least 256 rows
    /// each): one task per row would cost more than a row's work where rows are short. The body gets its data in
    /// <paramref name="state"/>, so a static body allocates nothing for a single block.</summary>
    private static void ForRowBlocks<TState>(int rows, TState state, Action<TState, int, int> body)
    {
        int size = Math.Max(256, rows / (4 * HostThreads.Limit));
        int blocks = (rows + size - 1) / size;
        if (blocks <= 1)
        {
            body(state, 0, rows);
            return;
        }

        HostThreads.For(blocks, (state, body, size, rows), static (s, b) => s.body(s.state, b * s.size, Math.Min(s.rows, (b + 1) * s.size)));
    }

    /// <summary><see cref="ForRowBlocks{TState}"/> for a body that captures its data.</summary>
    private static void ForRowBlocks(int rows, Action<int, int> body) => ForRowBlocks(rows, body, static (b, from, to) => b(from, to));

    public override void DenseBackwardInput(DenseParams p, Slice dZ, Slice w, Slice dX)
    {
        float[] za = dZ.Tensor.Host!;
        int zo = (int)dZ.Offset;
        float[] xa = dX.Tensor.Host!;
        int xo = (int)dX.Offset;
        float[] wa = w.Tensor.Host!;
        int wo = (int)w.Offset;
        if (HostDense.Applies(p.In))
        {
            HostDense.BackwardInput(p, za.AsMemory(zo, p.Rows * p.Out), wa.AsMemory(wo, p.Out * p.In), xa.AsMemory(xo, p.Rows * p.In));
            return;
        }

        // Few inputs: one axpy per output and row, or for one input one dot per row (dX_r (+)= dZ_r·W[:, 0]), over blocks
        // of rows.
        ForRowBlocks(p.Rows, (from, to) =>
        {
            for (int r = from; r < to; r++)
            {
                Span<float> dx = xa.AsSpan(xo + (r * p.In), p.In);
                if (p.In == 1)
                {
                    float dot = TensorPrimitives.Dot(za.AsSpan(zo + (r * p.Out), p.Out), wa.AsSpan(wo, p.Out));
                    dx[0] = p.Accumulate != 0 ? dx[0] + dot : dot;
                    continue;
                }

                if (p.Accumulate == 0)
                {
                    dx.Clear();
                }

                for (int o = 0; o < p.Out; o++)
                {
                    float g = za[zo + (r * p.Out) + o];
                    if (g != 0)
                    {
                        TensorPrimitives.MultiplyAdd(wa.AsSpan(wo + (o * p.In), p.In), g, dx, dx);
                    }
                }
            }
        });
    }

    public override void ActivationBackward(Slice y, Slice dY, Slice dZ, Activation activation) => activation.Backward(y.Span, dY.Span, dZ.Span);

    public override void ActivateInPlace(Slice y, Activation activation) => activation.ApplyInPlace(y.Span);

    public override double SquaredError(Slice y, Slice target, Slice dY, int stepsOut, int fromElement, float scale)
    {
        Span<float> ys = y.Span;
        Span<float> ts = target.Span;
        Span<float> gs = dY.Span;
        double sum = 0;
        for (int i = 0; i < ys.Length; i++)
        {
            if (i % stepsOut < fromElement)
            {
                gs[i] = 0;
                continue;
            }

            float diff = ys[i] - ts[i];
            sum += (double)diff * diff;
            gs[i] = 2f * scale * diff;
        }

        return sum;
    }

    public override (double Loss, int Correct) SoftmaxCrossEntropy(Slice logits, LabelTensor labels, Slice dZ, int rows, int classes, float scale)
    {
        Span<float> z = logits.Span;
        Span<float> g = dZ.Span;
        int[] lab = labels.Host!;
        double loss = 0;
        int correct = 0;
        for (int r = 0; r < rows; r++)
        {
            Span<float> zr = z.Slice(r * classes, classes);
            Span<float> gr = g.Slice(r * classes, classes);
            int arg = TensorPrimitives.IndexOfMax(zr);
            float max = zr[arg];
            double sum = 0;
            for (int c = 0; c < classes; c++)
            {
                sum += Math.Exp(zr[c] - max);
            }

            int label = lab[r];
            for (int c = 0; c < classes; c++)
            {
                gr[c] = scale * (float)((Math.Exp(zr[c] - max) / sum) - (c == label ? 1 : 0));
            }

            loss += Math.Log(sum) + max - zr[label];
            correct += arg == label ? 1 : 0;
        }

        return (loss, correct);
    }

    public override void SelectLast(Slice src, Slice dst, int batch, int steps, int width)
    {
        for (int b = 0; b < batch; b++)
        {
            src.Span.Slice((((b * steps) + steps - 1) * width), width).CopyTo(dst.Span.Slice(b * width, width));
        }
    }

    public override void ScatterLast(Slice src, Slice dst, int batch, int steps, int width)
    {
        for (int b = 0; b < batch; b++)
        {
            src.Span.Slice(b * width, width).CopyTo(dst.Span.Slice(((b * steps) + steps - 1) * width, width));
        }
    }

    public override double SquaredError(Slice y, Slice target, Slice dY, int batch, int steps, int width, int fromStep, LabelTensor lengths, float scale)
    {
        Span<float> ys = y.Span;
        Span<float> ts = target.Span;
        Span<float> gs = dY.Span;
        int[] length = lengths.Host!;
        double sum = 0;
        for (int b = 0; b < batch; b++)
        {
            int first = b * steps * width;
            int from = first + (fromStep * width);
            int to = first + (Math.Max(fromStep, length[b]) * width);
            gs[first..from].Clear();
            gs[to..(first + (steps * width))].Clear();
            for (int i = from; i < to; i++)
            {
                float diff = ys[i] - ts[i];
                sum += (double)diff * diff;
                gs[i] = 2f * scale * diff;
            }
        }

        return sum;
    }

    public override void SelectAt(Slice src, Slice dst, int batch, int steps, int width, LabelTensor lengths)
    {
        dst.Tensor.MarkWritten();
        for (int b = 0; b < batch; b++)
        {
            src.Span.Slice(((b * steps) + lengths.Host![b] - 1) * width, width).CopyTo(dst.Span.Slice(b * width, width));
        }
    }

    public override void ScatterAt(Slice src, Slice dst, int batch, int steps, int width, LabelTensor lengths)
    {
        dst.Tensor.MarkWritten();
        for (int b = 0; b < batch; b++)
        {
            src.Span.Slice(b * width, width).CopyTo(dst.Span.Slice(((b * steps) + lengths.Host![b] - 1) * width, width));
        }
    }

    public override void ShiftSteps(Slice src, Slice dst, int batch, int steps, int width, LabelTensor lengths, bool toEnd)
    {
        dst.Tensor.MarkWritten();
        for (int b = 0; b < batch; b++)
        {
            int real = lengths.Host![b] * width;
            int pad = (steps * width) - real;
            var from = src.Span.Slice(b * steps * width, steps * width);
            var to = dst.Span.Slice(b * steps * width, steps * width);
            if (toEnd)
            {
                to[..pad].Clear();
                from[..real].CopyTo(to[pad..]);
            }
            else
            {
                from[pad..].CopyTo(to);
                to[real..].Clear();
            }
        }
    }

    public override void MoveSteps(Slice src, Slice dst, StepMoveParams p, LabelTensor? lengths)
    {
        dst.Tensor.MarkWritten();
        var from = src.Span;
        var to = dst.Span;
        for (int b = 0; b < p.Batch; b++)
        {
            int length = lengths is null ? p.Steps : lengths.Host![b];
            for (int t = 0; t < p.Steps; t++)
            {
                int s = p.Reverse != 0 ? length - 1 - t : t;
                var target = to.Slice((((b * p.Steps) + t) * p.DestinationWidth) + p.DestinationOffset, p.Width);
                if (s < 0)
                {
                    if (p.Accumulate == 0)
                    {
                        target.Clear();
                    }

                    continue;
                }

                var source = from.Slice((((b * p.Steps) + s) * p.SourceWidth) + p.SourceOffset, p.Width);
                if (p.Accumulate != 0)
                {
                    TensorPrimitives.MultiplyAdd(source, p.Scale, target, target);
                }
                else if (p.Scale != 1f)
                {
                    TensorPrimitives.Multiply(source, p.Scale, target);
                }
                else
                {
                    source.CopyTo(target);
                }
            }
        }
    }

    public override void Adam(Slice w, Slice grad, Slice m, Slice v, AdamParams p)
    {
        w.Tensor.MarkWritten();
        Span<float> ws = w.Span;
        Span<float> gs = grad.Span;
        Span<float> ms = m.Span;
        Span<float> vs = v.Span;
        for (int i = 0; i < ws.Length; i++)
        {
            float g = gs[i] * p.GradScale;
            float mi = (p.Beta1 * ms[i]) + ((1f - p.Beta1) * g);
            float vi = (p.Beta2 * vs[i]) + ((1f - p.Beta2) * g * g);
            ms[i] = mi;
            vs[i] = vi;
            ws[i] -= p.LearningRate * (mi / p.Correction1) / (MathF.Sqrt(vi / p.Correction2) + p.Epsilon);
        }
    }

    public override void Dropout(Slice x, Slice y, DropoutParams p)
    {
        float[] xa = x.Tensor.Host!;
        float[] ya = y.Tensor.Host!;
        long xo = x.Offset;
        long yo = y.Offset;
        ForRowBlocks((int)x.Length, (from, to) =>
        {
            // One Philox call per four elements (its four words), where the kernel spends one per element.
            for (int block = from >> 2; block << 2 < to; block++)
            {
                var words = DropoutKernels.Words(p, block);
                for (int j = 0; j < 4; j++)
                {
                    int i = (block << 2) + j;
                    if (i >= from && i < to)
                    {
                        ya[yo + i] = words.Word(j) >= p.Threshold ? xa[xo + i] * p.Scale : 0f;
                    }
                }
            }
        });
        y.Tensor.MarkWritten();
    }

    public override void Sgd(Slice w, Slice grad, float step)
    {
        TensorPrimitives.MultiplyAdd(grad.Span, -step, w.Span, w.Span);
        w.Tensor.MarkWritten();
    }

    public override double SumSquares(Slice grad)
    {
        double s = 0;
        foreach (float g in grad.Span)
        {
            s += (double)g * g;
        }

        return s;
    }

    public override void Dispose() => _transposes.Clear();

    /// <summary>Sequential host evaluation of the memory and its adjoint: three or more memories in groups of eight
    /// (<see cref="HostSequence"/>, as <see cref="LinearMemory"/>'s sequential run; the adjoint's θ gradient through
    /// <see cref="HostThetaTerms"/>), fewer one at a time.</summary>
    private sealed unsafe class HostMemorySequence : IMemorySequenceEngine
    {
        public void Forward(int batch, int channels, int order, int steps, Slice sys, Slice u, Slice mSeq)
        {
            int d = order;
            int k = channels;
            float[] sa = sys.Tensor.Host!;
            int so = (int)sys.Offset;
            if (HostMemoryEngine.GroupedSequential(batch * k))
            {
                // From zero states; Āᵀ and B̄ copied out of the system tensor (d² + d floats against T·B·k·2d² flops).
                float[] aT = sa.AsSpan(so + (2 * d * d) + (2 * d), d * d).ToArray();
                float[] bBar = sa.AsSpan(so + (d * d), d).ToArray();
                fixed (float* input = u.Span, states = mSeq.Span)
                {
                    new HostSequence(aT, bBar, new float[batch * k * d], k, input, steps, MemoryOutputMode.AllStates, null, 0, states)
                        .RunAll(batch * k);
                }

                return;
            }

            HostThreads.For(batch * k, id =>
            {
                int b = id / k;
                int c = id % k;
                ReadOnlySpan<float> aT = sa.AsSpan(so + (2 * d * d) + (2 * d), d * d);
                ReadOnlySpan<float> bBar = sa.AsSpan(so + (d * d), d);
                var m = new float[d];
                for (int t = 0; t < steps; t++)
                {
                    int row = (((b * steps) + t) * k) + c;
                    Span<float> dst = mSeq.Span.Slice(row * d, d);
                    HostMemoryMath.Advance(aT, bBar, m, u.Span[row], dst);
                    dst.CopyTo(m);
                }
            });
        }

        public void Adjoint(MemoryAdjointParams p, int batch, Slice sys, Slice mSeq, Slice u, Slice gradM, Slice dU, Slice thetaPartial)
        {
            int d = p.Order;
            int k = p.Channels;
            float[] sa = sys.Tensor.Host!;
            int so = (int)sys.Offset;
            bool thetaGrad = (p.Flags & CellFlags.ThetaGradient) != 0;
            bool euler = (p.Flags & CellFlags.Euler) != 0;
            if (HostMemoryEngine.GroupedSequential(batch * k))
            {
                // λ chained inside each group, only dL/du written; with θ, also A_θ·m_ref + u·b_θ per step.
                float[] aBarRows = sa.AsSpan(so, d * d).ToArray();
                float[] bBarRow = sa.AsSpan(so + (d * d), d).ToArray();
                var sums = thetaGrad ? new double[batch * k] : null;
                fixed (float* gradients = gradM.Span, states = mSeq.Span, inputs = u.Span, inputGradient = dU.Span)
                {
                    HostThetaTerms? theta = null;
                    if (thetaGrad)
                    {
                        var thetaAT = new float[d * d];
                        HostScanMath.Transpose(sa.AsSpan(so + (d * d) + d, d * d), d, d, thetaAT);
                        theta = new HostThetaTerms(thetaAT, sa.AsSpan(so + (2 * d * d) + d, d).ToArray(), euler, states, inputs, sums!);
                    }

                    HostSequence.Adjoint(aBarRows, bBarRow, gradients, batch, k, p.Steps, null, inputGradient, theta);
                }

                if (sums != null)
                {
                    for (int id = 0; id < sums.Length; id++)
                    {
                        thetaPartial.Span[id] = (float)(sums[id] * p.ThetaScale);
                    }
                }

                return;
            }

            HostThreads.For(batch * k, id =>
            {
                int b = id / k;
                int c = id % k;
                ReadOnlySpan<float> aBar = sa.AsSpan(so, d * d);
                ReadOnlySpan<float> bBar = sa.AsSpan(so + (d * d), d);
                ReadOnlySpan<float> aC = sa.AsSpan(so + (d * d) + d, d * d);
                ReadOnlySpan<float> bC = sa.AsSpan(so + (2 * d * d) + d, d);
                var zeros = new float[d];
                var lam = new float[d];
                var next = new float[d];
                var am = new float[d];
                double thetaAcc = 0;
                for (int t = p.Steps - 1; t >= 0; t--)
                {
                    int row = (((b * p.Steps) + t) * k) + c;
                    TensorPrimitives.Add(lam, gradM.Span.Slice(row * d, d), lam);
                    dU.Span[row] = TensorPrimitives.Dot(bBar, lam);
                    if (thetaGrad)
                    {
                        ReadOnlySpan<float> mRef = euler ? (t > 0 ? mSeq.Span.Slice((row - k) * d, d) : zeros) : mSeq.Span.Slice(row * d, d);
                        for (int i = 0; i < d; i++)
                        {
                            am[i] = TensorPrimitives.Dot(aC.Slice(i * d, d), mRef);
                        }

                        TensorPrimitives.MultiplyAdd(bC, u.Span[row], am, am);
                        thetaAcc += TensorPrimitives.Dot(am, lam);
                    }

                    HostMemoryMath.Advance(aBar, zeros, lam, 0f, next);
                    (lam, next) = (next, lam);
                }

                if (thetaGrad)
                {
                    thetaPartial.Span[id] = (float)(thetaAcc * p.ThetaScale);
                }
            });
        }
    }
}
