namespace Lmu.Gpu.Training;

/// <summary>
/// The sequential adjoint of a feedforward LMU layer's memory with its θ gradient, on the host, n memories in groups of
/// eight as <see cref="HostSequence.Adjoint"/> steps them: per step one eight-column product for
/// λ_t = g_t + Āᵀ·λ_(t+1), and one for a_t = A_θ·m_ref + u_t·b_θ (A_θ, b_θ: the system's θ-derivative terms; m_ref = m_t
/// for zero-order hold, m_(t−1) for Euler), whose dot with λ_t adds to the memory's θ sum. ∂u_t = B̄ᵀ·λ_t. λ is chained
/// through two buffers per group and not written out.
/// </summary>
internal static unsafe class HostThetaAdjoint
{
    private const int Width = HostSequence.Width;

    /// <summary>Runs every group (in parallel where there are several and the run is long enough).</summary>
    /// <param name="aRowMajor">Ā, row-major.</param>
    /// <param name="bBar">B̄.</param>
    /// <param name="thetaATransposed">A_θ transposed (element [j·d + i] = A_θ[i, j]).</param>
    /// <param name="thetaB">b_θ.</param>
    /// <param name="euler">Whether m_ref is the previous state (Euler) rather than the current one.</param>
    /// <param name="gradients">g [B, T, k, d].</param>
    /// <param name="states">m [B, T, k, d] of the forward run.</param>
    /// <param name="inputs">u [B, T, k].</param>
    /// <param name="batch">B.</param>
    /// <param name="channels">k.</param>
    /// <param name="steps">T.</param>
    /// <param name="inputGradient">∂u [B, T, k] out.</param>
    /// <param name="thetaSums">Σ_t λ_t·a_t per memory [B·k] out (in double).</param>
    public static void Run(float[] aRowMajor, float[] bBar, float[] thetaATransposed, float[] thetaB, bool euler, float* gradients,
        float* states, float* inputs, int batch, int channels, int steps, float* inputGradient, double[] thetaSums)
    {
        int d = bBar.Length;
        int count = batch * channels;
        int groups = (count + Width - 1) / Width;
        var job = new Job(aRowMajor, bBar, thetaATransposed, thetaB, euler, gradients, states, inputs, count, channels, steps, inputGradient, thetaSums);
        if (groups > 1 && 2L * steps * count * d * d >= HostSequence.ParallelWork)
        {
            Parallel.For(0, groups, job.Group);
            return;
        }

        for (int g = 0; g < groups; g++)
        {
            job.Group(g);
        }
    }

    private sealed class Job(float[] aRowMajor, float[] bBar, float[] thetaATransposed, float[] thetaB, bool euler, float* gradients,
        float* states, float* inputs, int count, int channels, int steps, float* inputGradient, double[] thetaSums)
    {
        public void Group(int g)
        {
            int d = bBar.Length;
            int first = g * Width;
            int width = Math.Min(Width, count - first);

            // Zeros, a sink, λ ping and pong per column, then a_t per column.
            var scratch = new float[(2 + (3 * Width)) * d];
            var sums = new double[Width];
            var rows = new long[Width];
            fixed (float* a = aRowMajor, b = bBar, aTheta = thetaATransposed, bTheta = thetaB, zero = scratch)
            {
                float* sink = zero + d;
                float* own = sink + d;
                float* terms = own + (2L * Width * d);
                for (int t = steps - 1; t >= 0; t--)
                {
                    int parity = t & 1;
                    var lambdaColumns = default(HostScanMath.Columns8);
                    var thetaColumns = default(HostScanMath.Columns8);
                    lambdaColumns.SetUnused(width, zero, sink);
                    thetaColumns.SetUnused(width, zero, sink);
                    for (int q = 0; q < width; q++)
                    {
                        long row = HostSequence.Row(first + q, channels, steps, t);
                        rows[q] = row;
                        float* previous = t == steps - 1 ? zero : own + ((((long)(1 - parity) * Width) + q) * d);
                        lambdaColumns.Set(q, previous, own + ((((long)parity * Width) + q) * d), gradients + (row * d), 1f);
                        float* reference = !euler ? states + (row * d) : t > 0 ? states + ((row - channels) * d) : zero;
                        thetaColumns.Set(q, reference, terms + ((long)q * d), bTheta, inputs[row]);
                    }

                    HostScanMath.Product(a, d, d, ref lambdaColumns, width);
                    HostScanMath.Product(aTheta, d, d, ref thetaColumns, width);
                    for (int q = 0; q < width; q++)
                    {
                        float* lambda = own + ((((long)parity * Width) + q) * d);
                        inputGradient[rows[q]] = HostScanMath.Dot(b, lambda, d);
                        sums[q] += HostScanMath.Dot(terms + ((long)q * d), lambda, d);
                    }
                }
            }

            for (int q = 0; q < width; q++)
            {
                thetaSums[first + q] = sums[q];
            }
        }
    }
}
