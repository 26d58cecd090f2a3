using ILGPU;
using ILGPU.Algorithms;
using Lmu.Gpu.Kernels.Cell;

namespace Lmu.Gpu.Kernels.Training;

/// <summary>Kernels for training: weight gradients, dense layers, losses, optimisers, and the reverse-time adjoint of
/// the linear memory (the sums are in <see cref="ReductionKernels"/>).</summary>
public static class TrainingKernels
{
    /// <summary>dW[i, j] += Σ_{b,t} dY[b, t, i]·X[b, t − Shift, j]; one thread per element of dW.</summary>
    /// <param name="index">Element i·Q + j.</param>
    /// <param name="dY">[B, T, P].</param>
    /// <param name="x">[B, T, Q].</param>
    /// <param name="dW">[P, Q], accumulated.</param>
    /// <param name="p">Sizes.</param>
    public static void Outer(Index1D index, ArrayView<float> dY, ArrayView<float> x, ArrayView<float> dW, OuterParams p)
    {
        int i = index / p.Q;
        int j = index - (i * p.Q);
        float s = 0;
        for (int b = 0; b < p.Batch; b++)
        {
            for (int t = p.Shift; t < p.Steps; t++)
            {
                long row = ((long)b * p.Steps) + t;
                s += dY[(row * p.P) + i] * x[((row - p.Shift) * p.Q) + j];
            }
        }

        dW[index] += s;
    }

    /// <summary>The same sum split over row chunks for parallelism: thread (c, i·Q + j) sums the rows of chunk c into
    /// partial[c, i·Q + j]; <see cref="ReductionKernels.ColumnSumFinish"/> then adds the chunks to dW in chunk order (deterministic).</summary>
    /// <param name="index">c·P·Q + i·Q + j.</param>
    /// <param name="dY">[B, T, P].</param>
    /// <param name="x">[B, T, Q].</param>
    /// <param name="partial">[chunks, P·Q].</param>
    /// <param name="p">Sizes.</param>
    /// <param name="chunkRows">Rows (b, t) per chunk.</param>
    public static void OuterChunked(Index1D index, ArrayView<float> dY, ArrayView<float> x, ArrayView<float> partial, OuterParams p, int chunkRows)
    {
        int elements = p.P * p.Q;
        int chunk = index / elements;
        int element = index - (chunk * elements);
        int i = element / p.Q;
        int j = element - (i * p.Q);
        long first = (long)chunk * chunkRows;
        long last = first + chunkRows;
        long total = (long)p.Batch * p.Steps;
        if (last > total)
        {
            last = total;
        }

        float s = 0;
        for (long row = first; row < last; row++)
        {
            long t = row % p.Steps;
            if (t >= p.Shift)
            {
                s += dY[(row * p.P) + i] * x[((row - p.Shift) * p.Q) + j];
            }
        }

        partial[index] = s;
    }

    /// <summary>Y[r, o] (+)= f(Σ_i X[r, i]·W[o, i] + b[o]); activation only when not accumulating.</summary>
    /// <param name="index">r·O + o.</param>
    /// <param name="x">[R, I].</param>
    /// <param name="w">[O, I].</param>
    /// <param name="bias">[O].</param>
    /// <param name="y">[R, O].</param>
    /// <param name="p">Sizes.</param>
    public static void DenseForward(Index1D index, ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, DenseParams p)
    {
        int r = index / p.Out;
        int o = index - (r * p.Out);
        float s = p.HasBias != 0 ? bias[o] : 0f;
        long xRow = (long)r * p.In;
        for (int i = 0; i < p.In; i++)
        {
            s += x[xRow + i] * w[(o * p.In) + i];
        }

        if (p.Accumulate != 0)
        {
            y[index] += s;
        }
        else
        {
            y[index] = CellKernels.Activate(s, p.Activation);
        }
    }

    /// <summary>dX[r, i] (+)= Σ_o dZ[r, o]·W[o, i].</summary>
    /// <param name="index">r·I + i.</param>
    /// <param name="dZ">[R, O].</param>
    /// <param name="w">[O, I].</param>
    /// <param name="dX">[R, I].</param>
    /// <param name="p">Sizes.</param>
    public static void DenseBackwardInput(Index1D index, ArrayView<float> dZ, ArrayView<float> w, ArrayView<float> dX, DenseParams p)
    {
        int r = index / p.In;
        int i = index - (r * p.In);
        float s = 0;
        long zRow = (long)r * p.Out;
        for (int o = 0; o < p.Out; o++)
        {
            s += dZ[zRow + o] * w[(o * p.In) + i];
        }

        if (p.Accumulate != 0)
        {
            dX[index] += s;
        }
        else
        {
            dX[index] = s;
        }
    }

    /// <summary>dZ = dY·f′ (f′ from the output Y); Y may alias nothing else.</summary>
    /// <param name="index">Element.</param>
    /// <param name="y">Activation outputs.</param>
    /// <param name="dY">Upstream gradient.</param>
    /// <param name="dZ">Output.</param>
    /// <param name="activation">An <see cref="ActivationCode"/>.</param>
    public static void ActivationBackward(Index1D index, ArrayView<float> y, ArrayView<float> dY, ArrayView<float> dZ, int activation) =>
        dZ[index] = dY[index] * CellKernels.Derivative(y[index], activation);

    /// <summary>Applies an activation in place.</summary>
    /// <param name="index">Element.</param>
    /// <param name="y">Values.</param>
    /// <param name="activation">An <see cref="ActivationCode"/>.</param>
    public static void ActivateInPlace(Index1D index, ArrayView<float> y, int activation) =>
        y[index] = CellKernels.Activate(y[index], activation);

    /// <summary>Squared error with a step mask: for element (b, t, o) with t·O + o ≥ <paramref name="fromElement"/>,
    /// loss = (y − target)², dY = scale·2·(y − target); otherwise both are 0.</summary>
    /// <param name="index">Element of [B, T, O].</param>
    /// <param name="y">Predictions.</param>
    /// <param name="target">Targets.</param>
    /// <param name="dY">Gradient.</param>
    /// <param name="loss">Per-element squared error.</param>
    /// <param name="stepsOut">T·O (elements per sequence).</param>
    /// <param name="fromElement">fromStep·O.</param>
    /// <param name="scale">1 / (number of counted elements).</param>
    public static void SquaredError(Index1D index, ArrayView<float> y, ArrayView<float> target, ArrayView<float> dY, ArrayView<float> loss, int stepsOut, int fromElement, float scale)
    {
        SquaredErrorTerm(index, y, target, dY, loss, index % stepsOut >= fromElement, scale);
    }

    /// <summary>One element of a masked squared error: loss = (y − target)², dY = scale·2·(y − target) where
    /// <paramref name="counted"/>, else both 0 (shared by <see cref="SquaredError"/> and
    /// <see cref="LengthKernels.SquaredError"/>).</summary>
    /// <param name="index">The element.</param>
    /// <param name="y">Predictions.</param>
    /// <param name="target">Targets.</param>
    /// <param name="dY">Gradient.</param>
    /// <param name="loss">Per-element squared error.</param>
    /// <param name="counted">Whether the element is in the loss.</param>
    /// <param name="scale">1 / (number of counted elements).</param>
    public static void SquaredErrorTerm(Index1D index, ArrayView<float> y, ArrayView<float> target, ArrayView<float> dY, ArrayView<float> loss, bool counted, float scale)
    {
        float diff = counted ? y[index] - target[index] : 0f;
        loss[index] = diff * diff;
        dY[index] = 2f * scale * diff;
    }

    /// <summary>Softmax cross-entropy per row: loss[r] = −log softmax(z_r)[label], dZ = scale·(softmax − onehot),
    /// correct[r] = 1 when the arg-max is the label.</summary>
    /// <param name="index">Row r.</param>
    /// <param name="logits">[R, C].</param>
    /// <param name="labels">[R].</param>
    /// <param name="dZ">[R, C].</param>
    /// <param name="loss">[R].</param>
    /// <param name="correct">[R].</param>
    /// <param name="classes">C.</param>
    /// <param name="scale">1 / R.</param>
    public static void SoftmaxCrossEntropy(Index1D index, ArrayView<float> logits, ArrayView<int> labels, ArrayView<float> dZ, ArrayView<float> loss, ArrayView<float> correct, int classes, float scale)
    {
        long row = (long)(int)index * classes;
        float max = logits[row];
        int arg = 0;
        for (int c = 1; c < classes; c++)
        {
            float v = logits[row + c];
            if (v > max)
            {
                max = v;
                arg = c;
            }
        }

        float sum = 0;
        for (int c = 0; c < classes; c++)
        {
            sum += XMath.Exp(logits[row + c] - max);
        }

        int label = labels[index];
        for (int c = 0; c < classes; c++)
        {
            float prob = XMath.Exp(logits[row + c] - max) / sum;
            dZ[row + c] = scale * (prob - (c == label ? 1f : 0f));
        }

        loss[index] = XMath.Log(sum) + max - logits[row + label];
        correct[index] = arg == label ? 1f : 0f;
    }

    /// <summary>dst[b, :] = src[b, T − 1, :].</summary>
    /// <param name="index">b·n + i.</param>
    /// <param name="src">[B, T, n].</param>
    /// <param name="dst">[B, n].</param>
    /// <param name="steps">T.</param>
    /// <param name="width">n.</param>
    public static void SelectLast(Index1D index, ArrayView<float> src, ArrayView<float> dst, int steps, int width)
    {
        int b = index / width;
        int i = index - (b * width);
        dst[index] = src[((((long)b * steps) + steps - 1) * width) + i];
    }

    /// <summary>dst[b, T − 1, :] = src[b, :] (the rest of dst must already be zero).</summary>
    /// <param name="index">b·n + i.</param>
    /// <param name="src">[B, n].</param>
    /// <param name="dst">[B, T, n].</param>
    /// <param name="steps">T.</param>
    /// <param name="width">n.</param>
    public static void ScatterLast(Index1D index, ArrayView<float> src, ArrayView<float> dst, int steps, int width)
    {
        int b = index / width;
        int i = index - (b * width);
        dst[((((long)b * steps) + steps - 1) * width) + i] = src[index];
    }

    /// <summary>One Adam update of every parameter.</summary>
    /// <param name="index">Parameter.</param>
    /// <param name="w">Parameters.</param>
    /// <param name="grad">Gradients.</param>
    /// <param name="m">First moments.</param>
    /// <param name="v">Second moments.</param>
    /// <param name="p">Hyper-parameters.</param>
    public static void Adam(Index1D index, ArrayView<float> w, ArrayView<float> grad, ArrayView<float> m, ArrayView<float> v, AdamParams p)
    {
        float g = grad[index] * p.GradScale;
        float mi = (p.Beta1 * m[index]) + ((1f - p.Beta1) * g);
        float vi = (p.Beta2 * v[index]) + ((1f - p.Beta2) * g * g);
        m[index] = mi;
        v[index] = vi;
        w[index] -= p.LearningRate * (mi / p.Correction1) / (XMath.Sqrt(vi / p.Correction2) + p.Epsilon);
    }

    /// <summary>One plain SGD update: w −= lr·scale·g.</summary>
    /// <param name="index">Parameter.</param>
    /// <param name="w">Parameters.</param>
    /// <param name="grad">Gradients.</param>
    /// <param name="step">lr·scale.</param>
    public static void Sgd(Index1D index, ArrayView<float> w, ArrayView<float> grad, float step) => w[index] -= step * grad[index];

    /// <summary>
    /// Reverse-time adjoint of the linear memory, one group per (sequence, channel): λ_t = g_t + Āᵀλ_{t+1},
    /// dL/du_t = B̄·λ_t, and the sequence's θ gradient Σ_t λ_tᵀ(dĀ/dθ·m_{t−1} + dB̄/dθ·u_t).
    /// </summary>
    /// <param name="sys">System matrices as for <see cref="CellKernels"/>.</param>
    /// <param name="mSeq">Forward m_t [B, T, k, d].</param>
    /// <param name="uSeq">Forward u_t [B, T, k].</param>
    /// <param name="gradM">Direct gradients g_t [B, T, k, d].</param>
    /// <param name="dU">Output dL/du_t [B, T, k].</param>
    /// <param name="thetaPartial">Output [B·k] (with <see cref="CellFlags.ThetaGradient"/>).</param>
    /// <param name="p">Sizes and flags.</param>
    /// <remarks>Grid: B·k groups; dynamic shared memory: 3·d + group size floats.</remarks>
    public static void MemoryAdjoint(ArrayView<float> sys, ArrayView<float> mSeq, ArrayView<float> uSeq, ArrayView<float> gradM, ArrayView<float> dU, ArrayView<float> thetaPartial, MemoryAdjointParams p)
    {
        var sh = SharedMemory.GetDynamic<float>();
        int d = p.Order;
        int k = p.Channels;
        int id = Grid.IdxX;
        int b = id / k;
        int c = id - (b * k);
        int tid = Group.IdxX;
        int g = Group.DimX;
        int sOff = 2 * d;
        int bBarOff = d * d;
        int aOff = (d * d) + d;
        int bOff = (2 * d * d) + d;
        bool thetaGrad = (p.Flags & CellFlags.ThetaGradient) != 0;
        bool euler = (p.Flags & CellFlags.Euler) != 0;
        float thetaAcc = 0;
        for (int i = tid; i < 2 * d; i += g)
        {
            sh[i] = 0;
        }

        Group.Barrier();
        int cur = 0;
        for (int t = p.Steps - 1; t >= 0; t--)
        {
            long row = (((long)b * p.Steps) + t) * k + c;
            int lc = cur * d;
            int ln = (1 - cur) * d;
            float partial = 0;
            for (int i = tid; i < d; i += g)
            {
                float lam = sh[lc + i] + gradM[(row * d) + i];
                sh[lc + i] = lam;
                partial += sys[bBarOff + i] * lam;
                if (thetaGrad)
                {
                    float am = 0;
                    long mRow = euler ? (row - k) * d : row * d;
                    if (!euler || t > 0)
                    {
                        for (int j = 0; j < d; j++)
                        {
                            am += sys[aOff + (i * d) + j] * mSeq[mRow + j];
                        }
                    }

                    thetaAcc += lam * (am + (sys[bOff + i] * uSeq[row]));
                }
            }

            sh[sOff + tid] = partial;
            Group.Barrier();
            if (tid == 0)
            {
                float s = 0;
                for (int r = 0; r < g; r++)
                {
                    s += sh[sOff + r];
                }

                dU[row] = s;
            }

            for (int i = tid; i < d; i += g)
            {
                float s = 0;
                for (int j = 0; j < d; j++)
                {
                    s += sys[(j * d) + i] * sh[lc + j];
                }

                sh[ln + i] = s;
            }

            Group.Barrier();
            cur = 1 - cur;
        }

        sh[sOff + tid] = thetaAcc;
        Group.Barrier();
        if (tid == 0 && thetaGrad)
        {
            float s = 0;
            for (int r = 0; r < g; r++)
            {
                s += sh[sOff + r];
            }

            thetaPartial[id] = s * p.ThetaScale;
        }
    }
}
