using ILGPU;
using ILGPU.Algorithms;

namespace Lmu.Gpu.Kernels.Cell;

/// <summary>
/// Kernels of the nonlinear LMU cell (Voelker et al. 2019, eqs. 4, 6, 7, generalised to k memory channels):
/// u_t = e_x·x_t + e_h·h_{t−1} + e_m·m_{t−1} (+ b_u); m_t = Ā·m_{t−1} + B̄·u_t (per channel);
/// h_t = f(W_x·x_t + W_h·h_{t−1} + W_m·m_t (+ b_h)).
/// One group per sequence; the recurrent state lives in dynamic shared memory and the whole sequence runs in one
/// launch with a group barrier between the phases of each step.
/// </summary>
/// <remarks>
/// The system buffer holds, in order: Ā (d×d row-major), B̄ (d), A (d×d row-major, continuous, without 1/θ), B (d),
/// Āᵀ (d×d). Weights are one flat vector addressed through the offsets of <see cref="CellParams"/>; every matrix is
/// row-major. The host validates every size before launching.
/// </remarks>
public static class CellKernels
{
    /// <summary>Floats of dynamic shared memory <see cref="Forward"/> needs.</summary>
    /// <param name="units">n.</param>
    /// <param name="memorySize">k·d.</param>
    /// <param name="channels">k.</param>
    /// <param name="groupSize">Threads per group.</param>
    /// <returns>The count.</returns>
    public static int ForwardSharedFloats(int units, int memorySize, int channels, int groupSize) =>
        (2 * units) + (2 * memorySize) + channels + (channels * groupSize);

    /// <summary>Floats of dynamic shared memory <see cref="Backward"/> needs.</summary>
    /// <param name="units">n.</param>
    /// <param name="memorySize">k·d.</param>
    /// <param name="channels">k.</param>
    /// <param name="groupSize">Threads per group.</param>
    /// <returns>The count.</returns>
    public static int BackwardSharedFloats(int units, int memorySize, int channels, int groupSize) =>
        (2 * units) + (2 * memorySize) + channels + (channels * groupSize) + groupSize;

    /// <summary>Applies an activation.</summary>
    /// <param name="z">The pre-activation.</param>
    /// <param name="code">An <see cref="ActivationCode"/>.</param>
    /// <returns>f(z).</returns>
    public static float Activate(float z, int code)
    {
        if (code == ActivationCode.Tanh)
        {
            return XMath.Tanh(z);
        }

        if (code == ActivationCode.Relu)
        {
            return z > 0 ? z : 0;
        }

        if (code == ActivationCode.Sigmoid)
        {
            return 1f / (1f + XMath.Exp(-z));
        }

        return z;
    }

    /// <summary>The activation's derivative, expressed through its output y = f(z).</summary>
    /// <param name="y">The activation output.</param>
    /// <param name="code">An <see cref="ActivationCode"/>.</param>
    /// <returns>f′(z).</returns>
    public static float Derivative(float y, int code)
    {
        if (code == ActivationCode.Tanh)
        {
            return 1f - (y * y);
        }

        if (code == ActivationCode.Relu)
        {
            return y > 0 ? 1f : 0f;
        }

        if (code == ActivationCode.Sigmoid)
        {
            return y * (1f - y);
        }

        return 1f;
    }

    /// <summary>Runs B sequences of T steps forward, one group per sequence.</summary>
    /// <param name="w">Flat weights.</param>
    /// <param name="sys">System matrices (see the class remarks).</param>
    /// <param name="x">Inputs [B, T, n_x].</param>
    /// <param name="stateH">Hidden states [B, n]: read at the start, written with h_{T−1} at the end.</param>
    /// <param name="stateM">Memory states [B, k·d]: read at the start, written at the end.</param>
    /// <param name="hSeq">Outputs h_t [B, T, n].</param>
    /// <param name="mSeq">Memories m_t [B, T, k·d] (written only with <see cref="CellFlags.StoreStates"/>).</param>
    /// <param name="uSeq">Memory inputs u_t [B, T, k] (written only with <see cref="CellFlags.StoreStates"/>).</param>
    /// <param name="p">Sizes, flags, offsets.</param>
    /// <remarks>Grid: B groups; dynamic shared memory: <see cref="ForwardSharedFloats"/>.</remarks>
    public static void Forward(
        ArrayView<float> w,
        ArrayView<float> sys,
        ArrayView<float> x,
        ArrayView<float> stateH,
        ArrayView<float> stateM,
        ArrayView<float> hSeq,
        ArrayView<float> mSeq,
        ArrayView<float> uSeq,
        CellParams p)
    {
        var sh = SharedMemory.GetDynamic<float>();
        int n = p.Units;
        int d = p.Order;
        int k = p.Channels;
        int kd = k * d;
        int nx = p.InputSize;
        int b = Grid.IdxX;
        int tid = Group.IdxX;
        int g = Group.DimX;
        int mOff = 2 * n;
        int uOff = mOff + (2 * kd);
        int sOff = uOff + k;
        int aTOff = (2 * d * d) + (2 * d);
        int bBarOff = d * d;
        bool store = p.Has(CellFlags.StoreStates);

        for (int i = tid; i < n; i += g)
        {
            sh[i] = stateH[((long)b * n) + i];
        }

        for (int q = tid; q < kd; q += g)
        {
            sh[mOff + q] = stateM[((long)b * kd) + q];
        }

        Group.Barrier();
        int cur = 0;
        for (int t = 0; t < p.Steps; t++)
        {
            long row = ((long)b * p.Steps) + t;
            long xRow = row * nx;
            int hc = cur * n;
            int hn = (1 - cur) * n;
            int mc = mOff + (cur * kd);
            int mn = mOff + ((1 - cur) * kd);

            for (int c = 0; c < k; c++)
            {
                float partial = 0;
                for (int j = tid; j < nx; j += g)
                {
                    partial += w[p.OffEx + (c * nx) + j] * x[xRow + j];
                }

                if (p.Has(CellFlags.HiddenToMemory))
                {
                    for (int j = tid; j < n; j += g)
                    {
                        partial += w[p.OffEh + (c * n) + j] * sh[hc + j];
                    }
                }

                if (p.Has(CellFlags.MemoryToMemory))
                {
                    for (int j = tid; j < kd; j += g)
                    {
                        partial += w[p.OffEm + (c * kd) + j] * sh[mc + j];
                    }
                }

                sh[sOff + (c * g) + tid] = partial;
            }

            Group.Barrier();
            for (int c = tid; c < k; c += g)
            {
                float s = p.Has(CellFlags.MemoryBias) ? w[p.OffBu + c] : 0f;
                for (int r = 0; r < g; r++)
                {
                    s += sh[sOff + (c * g) + r];
                }

                sh[uOff + c] = s;
                if (store)
                {
                    uSeq[(row * k) + c] = s;
                }
            }

            Group.Barrier();
            for (int q = tid; q < kd; q += g)
            {
                int c = q / d;
                int i = q - (c * d);
                float acc = sys[bBarOff + i] * sh[uOff + c];
                int mBase = mc + (c * d);
                for (int j = 0; j < d; j++)
                {
                    acc += sys[aTOff + (j * d) + i] * sh[mBase + j];
                }

                sh[mn + q] = acc;
                if (store)
                {
                    mSeq[(row * kd) + q] = acc;
                }
            }

            Group.Barrier();
            for (int i = tid; i < n; i += g)
            {
                float z = p.Has(CellFlags.HiddenBias) ? w[p.OffBh + i] : 0f;
                if (p.Has(CellFlags.InputToHidden))
                {
                    for (int j = 0; j < nx; j++)
                    {
                        z += w[p.OffWx + (i * nx) + j] * x[xRow + j];
                    }
                }

                if (p.Has(CellFlags.HiddenToHidden))
                {
                    for (int j = 0; j < n; j++)
                    {
                        z += w[p.OffWh + (i * n) + j] * sh[hc + j];
                    }
                }

                for (int j = 0; j < kd; j++)
                {
                    z += w[p.OffWm + (i * kd) + j] * sh[mn + j];
                }

                float h = Activate(z, p.Activation);
                sh[hn + i] = h;
                hSeq[(row * n) + i] = h;
            }

            Group.Barrier();
            cur = 1 - cur;
        }

        for (int i = tid; i < n; i += g)
        {
            stateH[((long)b * n) + i] = sh[(cur * n) + i];
        }

        for (int q = tid; q < kd; q += g)
        {
            stateM[((long)b * kd) + q] = sh[mOff + (cur * kd) + q];
        }
    }

    /// <summary>
    /// Backpropagation through time for B sequences that started from zero state, one group per sequence, in reverse
    /// time. Writes dL/dz_t and dL/du_t for the weight-gradient reductions, optionally dL/dx_t, and one partial θ
    /// gradient per sequence: Σ_t dm_tᵀ(dĀ/dθ·m_{t−1} + dB̄/dθ·u_t), which for ZOH is −(dt/θ²)·dm_tᵀ(A·m_t + B·u_t)
    /// (A commutes with Ā) and for Euler −(dt/θ²)·dm_tᵀ(A·m_{t−1} + B·u_t).
    /// </summary>
    /// <param name="w">Flat weights.</param>
    /// <param name="sys">System matrices (see the class remarks).</param>
    /// <param name="x">Inputs [B, T, n_x].</param>
    /// <param name="hSeq">Forward h_t [B, T, n].</param>
    /// <param name="mSeq">Forward m_t [B, T, k·d].</param>
    /// <param name="uSeq">Forward u_t [B, T, k].</param>
    /// <param name="gradH">Upstream dL/dh_t [B, T, n].</param>
    /// <param name="dZ">Output dL/dz_t [B, T, n].</param>
    /// <param name="dU">Output dL/du_t [B, T, k].</param>
    /// <param name="dX">Output dL/dx_t [B, T, n_x] (only with <see cref="CellFlags.InputGradient"/>).</param>
    /// <param name="thetaPartial">Output [B]: each sequence's θ gradient (only with <see cref="CellFlags.ThetaGradient"/>).</param>
    /// <param name="p">Sizes, flags, offsets, θ scale.</param>
    /// <remarks>Grid: B groups; dynamic shared memory: <see cref="BackwardSharedFloats"/>.</remarks>
    public static void Backward(
        ArrayView<float> w,
        ArrayView<float> sys,
        ArrayView<float> x,
        ArrayView<float> hSeq,
        ArrayView<float> mSeq,
        ArrayView<float> uSeq,
        ArrayView<float> gradH,
        ArrayView<float> dZ,
        ArrayView<float> dU,
        ArrayView<float> dX,
        ArrayView<float> thetaPartial,
        CellParams p)
    {
        var sh = SharedMemory.GetDynamic<float>();
        int n = p.Units;
        int d = p.Order;
        int k = p.Channels;
        int kd = k * d;
        int nx = p.InputSize;
        int b = Grid.IdxX;
        int tid = Group.IdxX;
        int g = Group.DimX;
        int dhOff = 0;
        int dzOff = n;
        int dmOff = 2 * n;
        int duOff = dmOff + (2 * kd);
        int sOff = duOff + k;
        int rOff = sOff + (k * g);
        int bBarOff = d * d;
        int aOff = (d * d) + d;
        int bOff = (2 * d * d) + d;
        bool thetaGrad = p.Has(CellFlags.ThetaGradient);
        bool euler = p.Has(CellFlags.Euler);
        float thetaAcc = 0;

        for (int i = tid; i < n; i += g)
        {
            sh[dhOff + i] = 0;
        }

        for (int q = tid; q < kd; q += g)
        {
            sh[dmOff + q] = 0;
        }

        Group.Barrier();
        int cur = 0;
        for (int t = p.Steps - 1; t >= 0; t--)
        {
            long row = ((long)b * p.Steps) + t;
            int dmc = dmOff + (cur * kd);
            int dmn = dmOff + ((1 - cur) * kd);

            for (int i = tid; i < n; i += g)
            {
                float dz = (gradH[(row * n) + i] + sh[dhOff + i]) * Derivative(hSeq[(row * n) + i], p.Activation);
                sh[dzOff + i] = dz;
                dZ[(row * n) + i] = dz;
            }

            Group.Barrier();
            for (int q = tid; q < kd; q += g)
            {
                float s = sh[dmc + q];
                for (int j = 0; j < n; j++)
                {
                    s += w[p.OffWm + (j * kd) + q] * sh[dzOff + j];
                }

                sh[dmc + q] = s;
            }

            Group.Barrier();
            for (int c = 0; c < k; c++)
            {
                float partial = 0;
                for (int i = tid; i < d; i += g)
                {
                    partial += sys[bBarOff + i] * sh[dmc + (c * d) + i];
                }

                sh[sOff + (c * g) + tid] = partial;
            }

            if (thetaGrad)
            {
                for (int q = tid; q < kd; q += g)
                {
                    int c = q / d;
                    int i = q - (c * d);
                    float am = 0;
                    if (!euler)
                    {
                        long mRow = (row * kd) + (c * d);
                        for (int j = 0; j < d; j++)
                        {
                            am += sys[aOff + (i * d) + j] * mSeq[mRow + j];
                        }
                    }
                    else if (t > 0)
                    {
                        long mRow = ((row - 1) * kd) + (c * d);
                        for (int j = 0; j < d; j++)
                        {
                            am += sys[aOff + (i * d) + j] * mSeq[mRow + j];
                        }
                    }

                    thetaAcc += sh[dmc + q] * (am + (sys[bOff + i] * uSeq[(row * k) + c]));
                }
            }

            Group.Barrier();
            for (int c = tid; c < k; c += g)
            {
                float s = 0;
                for (int r = 0; r < g; r++)
                {
                    s += sh[sOff + (c * g) + r];
                }

                sh[duOff + c] = s;
                dU[(row * k) + c] = s;
            }

            Group.Barrier();
            for (int i = tid; i < n; i += g)
            {
                float s = 0;
                if (p.Has(CellFlags.HiddenToHidden))
                {
                    for (int j = 0; j < n; j++)
                    {
                        s += w[p.OffWh + (j * n) + i] * sh[dzOff + j];
                    }
                }

                if (p.Has(CellFlags.HiddenToMemory))
                {
                    for (int c = 0; c < k; c++)
                    {
                        s += w[p.OffEh + (c * n) + i] * sh[duOff + c];
                    }
                }

                sh[dhOff + i] = s;
            }

            for (int q = tid; q < kd; q += g)
            {
                int c = q / d;
                int i = q - (c * d);
                float s = 0;
                int mBase = dmc + (c * d);
                for (int j = 0; j < d; j++)
                {
                    s += sys[(j * d) + i] * sh[mBase + j];
                }

                if (p.Has(CellFlags.MemoryToMemory))
                {
                    for (int c2 = 0; c2 < k; c2++)
                    {
                        s += w[p.OffEm + (c2 * kd) + q] * sh[duOff + c2];
                    }
                }

                sh[dmn + q] = s;
            }

            if (p.Has(CellFlags.InputGradient))
            {
                for (int l = tid; l < nx; l += g)
                {
                    float s = 0;
                    if (p.Has(CellFlags.InputToHidden))
                    {
                        for (int j = 0; j < n; j++)
                        {
                            s += w[p.OffWx + (j * nx) + l] * sh[dzOff + j];
                        }
                    }

                    for (int c = 0; c < k; c++)
                    {
                        s += w[p.OffEx + (c * nx) + l] * sh[duOff + c];
                    }

                    dX[(row * nx) + l] = s;
                }
            }

            Group.Barrier();
            cur = 1 - cur;
        }

        sh[rOff + tid] = thetaAcc;
        Group.Barrier();
        if (tid == 0 && thetaGrad)
        {
            float s = 0;
            for (int r = 0; r < g; r++)
            {
                s += sh[rOff + r];
            }

            thetaPartial[b] = s * p.ThetaScale;
        }
    }
}
