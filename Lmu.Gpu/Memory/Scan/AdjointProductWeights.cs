namespace Lmu.Gpu;

/// <summary>
/// The weights of <see cref="Kernels.Memory.AdjointGemmKernels.ChunkProduct"/>, depth-major (Wᵀ [K, M]), computed in
/// double from the system and rounded once.
/// </summary>
internal static class AdjointProductWeights
{
    /// <summary>The chunk starts' Wᵀ [L·d, d]: row q·d + i is row i of Ā^q (so λ⁰_s[i'] = Σ_(q, i) Ā^q[i, i']·g_(s+q)[i]).</summary>
    /// <param name="system">The discretised system.</param>
    /// <param name="chunkLength">L.</param>
    /// <returns>L·d·d floats.</returns>
    public static float[] ChunkStarts(LmuSystem system, int chunkLength)
    {
        int d = system.Order;
        var weights = new float[checked((long)chunkLength * d * d)];
        var power = new double[d * d];
        var next = new double[d * d];
        var a = system.DiscreteA.ToArray();
        for (int i = 0; i < d; i++)
        {
            power[(i * d) + i] = 1;
        }

        for (int q = 0; q < chunkLength; q++)
        {
            long block = (long)q * d * d;
            for (int e = 0; e < d * d; e++)
            {
                weights[block + e] = (float)power[e];
            }

            if (q + 1 < chunkLength)
            {
                DoubleProduct.MultiplyRowMajor(power, a, next, d);
                (power, next) = (next, power);
            }
        }

        return weights;
    }

    /// <summary>The input gradient's Wᵀ [d + L·d, L]: row κ &lt; d holds h_(L−j)[κ] in column j (the next chunk's
    /// carry), row d + q·d + i holds h_(q−j)[i] for j ≤ q and zero for j &gt; q.</summary>
    /// <param name="system">The discretised system.</param>
    /// <param name="chunkLength">L.</param>
    /// <returns>(d + L·d)·L floats.</returns>
    public static float[] InputGradient(LmuSystem system, int chunkLength)
    {
        int d = system.Order;
        int l = chunkLength;
        // h_k = Āᵏ·B̄ for k = 0 … L, in double.
        var h = new double[(l + 1) * d];
        var a = system.DiscreteA;
        system.DiscreteB.CopyTo(h);
        for (int k = 1; k <= l; k++)
        {
            for (int i = 0; i < d; i++)
            {
                double s = 0;
                for (int j = 0; j < d; j++)
                {
                    s += a[(i * d) + j] * h[((k - 1) * d) + j];
                }

                h[(k * d) + i] = s;
            }
        }

        var weights = new float[checked((long)(d + (l * d)) * l)];
        for (int j = 0; j < l; j++)
        {
            for (int i = 0; i < d; i++)
            {
                weights[((long)i * l) + j] = (float)h[((l - j) * d) + i];
            }

            for (int q = j; q < l; q++)
            {
                for (int i = 0; i < d; i++)
                {
                    weights[((long)(d + (q * d) + i) * l) + j] = (float)h[((q - j) * d) + i];
                }
            }
        }

        return weights;
    }
}
