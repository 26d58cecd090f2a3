using ILGPU;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>A 4×4 register tile of partial products for <see cref="ScanKernels.ChunkSteps"/>: A_rc = Σ_k
/// Mᵀ[k, i0 + r·stride]·x_c[k] for four rows r and four state columns c.</summary>
public struct Tile4x4Sums
{
#pragma warning disable CS1591 // the sixteen accumulators A_rc (row r, column c) need no comment each
    public float A00, A01, A02, A03, A10, A11, A12, A13, A20, A21, A22, A23, A30, A31, A32, A33;
#pragma warning restore CS1591

    /// <summary>Accumulates the tile over all k: rows i0, i0 + stride, i0 + 2·stride, i0 + 3·stride of
    /// <paramref name="matrixT"/>ᵀ times the four state columns stored from <paramref name="x0"/> in
    /// <paramref name="shared"/> (d floats each).</summary>
    /// <param name="matrixT">Mᵀ, [k·d + i] = M[i, k].</param>
    /// <param name="shared">The tile's states.</param>
    /// <param name="d">The order (a multiple of 4).</param>
    /// <param name="i0">The first row.</param>
    /// <param name="stride">d / 4.</param>
    /// <param name="x0">Offset of the first of the four columns in <paramref name="shared"/>.</param>
    /// <returns>The sixteen sums.</returns>
    public static Tile4x4Sums Accumulate(ArrayView<float> matrixT, ArrayView<float> shared, int d, int i0, int stride, int x0)
    {
        var t = default(Tile4x4Sums);

        // Two k per iteration (d is a multiple of 4): sixteen loads in flight before the first FMA needs
        // one, since ILGPU 1.5.3 does not unroll loops itself.
        for (int k = 0; k < d; k += 2)
        {
            int row = k * d + i0;
            float m0 = matrixT[row];
            float m1 = matrixT[row + stride];
            float m2 = matrixT[row + 2 * stride];
            float m3 = matrixT[row + 3 * stride];
            float n0 = matrixT[row + d];
            float n1 = matrixT[row + d + stride];
            float n2 = matrixT[row + d + 2 * stride];
            float n3 = matrixT[row + d + 3 * stride];
            float s0 = shared[x0 + k];
            float s1 = shared[x0 + d + k];
            float s2 = shared[x0 + 2 * d + k];
            float s3 = shared[x0 + 3 * d + k];
            float t0 = shared[x0 + k + 1];
            float t1 = shared[x0 + d + k + 1];
            float t2 = shared[x0 + 2 * d + k + 1];
            float t3 = shared[x0 + 3 * d + k + 1];
            t.A00 += m0 * s0; t.A01 += m0 * s1; t.A02 += m0 * s2; t.A03 += m0 * s3;
            t.A10 += m1 * s0; t.A11 += m1 * s1; t.A12 += m1 * s2; t.A13 += m1 * s3;
            t.A20 += m2 * s0; t.A21 += m2 * s1; t.A22 += m2 * s2; t.A23 += m2 * s3;
            t.A30 += m3 * s0; t.A31 += m3 * s1; t.A32 += m3 * s2; t.A33 += m3 * s3;
            t.A00 += n0 * t0; t.A01 += n0 * t1; t.A02 += n0 * t2; t.A03 += n0 * t3;
            t.A10 += n1 * t0; t.A11 += n1 * t1; t.A12 += n1 * t2; t.A13 += n1 * t3;
            t.A20 += n2 * t0; t.A21 += n2 * t1; t.A22 += n2 * t2; t.A23 += n2 * t3;
            t.A30 += n3 * t0; t.A31 += n3 * t1; t.A32 += n3 * t2; t.A33 += n3 * t3;
        }

        return t;
    }
}
