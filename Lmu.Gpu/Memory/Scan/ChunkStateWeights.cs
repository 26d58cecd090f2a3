using System.Numerics.Tensors;

namespace Lmu.Gpu;

/// <summary>
/// The weights of phase C in matrix-product form (<see cref="Kernels.Memory.ScanGemmKernels.ChunkStates"/>): the
/// output j·E + e of a chunk is Σ_r W[(j, e), r]·z_r with z = [carry (d, zero-padded to D); the chunk's L inputs], where
/// W[(j, ·), r &lt; d] = Ā^(j+1)[·, r] and W[(j, ·), D + q] = H_(j−q) = Ā^(j−q)·B̄ for q ≤ j (zero above), or the
/// decoders C times those rows for decoded outputs. Computed in double, stored zero-padded as the kernel reads it: by
/// blocks of 8·side rows, each block's depths one after another ([block][r][row in block], <see cref="At"/>), so that
/// a stage of the kernel (side depths of one block) is one contiguous run of 8·side² floats.
/// </summary>
internal static class ChunkStateWeights
{
    /// <summary>Rows of a block of the kernel: 8 per thread along M.</summary>
    /// <param name="rows">M = L·E.</param>
    /// <param name="groupRows">Threads along M.</param>
    /// <returns>M rounded up to 8·groupRows.</returns>
    public static int PaddedRows(int rows, int groupRows) => (rows + (8 * groupRows) - 1) / (8 * groupRows) * (8 * groupRows);

    /// <summary>Where W[m, r] is stored: (m / 8·side)·K·8·side + r·8·side + m mod 8·side.</summary>
    /// <param name="m">Row (j·E + e).</param>
    /// <param name="r">Depth.</param>
    /// <param name="paddedDepth">K.</param>
    /// <param name="side">Threads along each side of the kernel's groups.</param>
    /// <returns>The index.</returns>
    public static long At(int m, int r, int paddedDepth, int side)
    {
        int block = 8 * side;
        return ((long)(m / block) * paddedDepth * block) + ((long)r * block) + (m % block);
    }

    /// <summary>The rows of W that multiply the carry: d rounded up to the group side, so that every stage of the
    /// kernel (side depths) lies wholly in the carry or wholly in the inputs. The rows past d have zero weight.</summary>
    /// <param name="order">d.</param>
    /// <param name="side">Threads along each side of the kernel's groups (its stage depth).</param>
    /// <returns>The carry depth D.</returns>
    public static int CarryDepth(int order, int side) => (order + side - 1) / side * side;

    /// <summary>K = D + L (<see cref="CarryDepth"/>) rounded up to the kernel's block depth.</summary>
    /// <param name="order">d.</param>
    /// <param name="chunkLength">L.</param>
    /// <param name="side">Threads along each side of the kernel's groups.</param>
    /// <returns>The padded depth.</returns>
    public static int PaddedDepth(int order, int chunkLength, int side)
    {
        int depth = Kernels.Memory.ScanGemmKernels.BlockDepth;
        return (CarryDepth(order, side) + chunkLength + depth - 1) / depth * depth;
    }

    /// <summary>W for all states (E = d), in the kernel's block layout (<see cref="At"/>).</summary>
    /// <param name="system">The discretised system.</param>
    /// <param name="chunkLength">L.</param>
    /// <param name="groupRows">Threads along M in the kernel's groups.</param>
    /// <returns>PaddedDepth × PaddedRows floats.</returns>
    public static float[] States(LmuSystem system, int chunkLength, int groupRows)
    {
        int d = system.Order;
        int rows = checked(chunkLength * d);
        int paddedRows = PaddedRows(rows, groupRows);
        int depth = PaddedDepth(d, chunkLength, groupRows);
        int carryDepth = CarryDepth(d, groupRows);
        var weights = new float[checked((long)paddedRows * depth)];
        double[] h = system.ImpulseResponse(chunkLength);
        double[] a = system.DiscreteA.ToArray();
        double[] power = system.DiscreteA.ToArray();
        var next = new double[d * d];
        for (int j = 0; j < chunkLength; j++)
        {
            int m0 = j * d;
            for (int e = 0; e < d; e++)
            {
                for (int r = 0; r < d; r++)
                {
                    weights[At(m0 + e, r, depth, groupRows)] = (float)power[(e * d) + r];
                }

                for (int q = 0; q <= j; q++)
                {
                    weights[At(m0 + e, carryDepth + q, depth, groupRows)] = (float)h[((j - q) * d) + e];
                }
            }

            if (j + 1 < chunkLength)
            {
                DoubleProduct.MultiplyRowMajor(a, power, next, d);
                (power, next) = (next, power);
            }
        }

        return weights;
    }

    /// <summary>W for decoded outputs (E = Q): C·W, row (j, q) = C_q·Ā^(j+1) and C_q·H_(j−q′), in the kernel's block layout.</summary>
    /// <param name="system">The discretised system.</param>
    /// <param name="decoders">C [Q, d] row-major.</param>
    /// <param name="delays">Q.</param>
    /// <param name="chunkLength">L.</param>
    /// <param name="groupRows">Threads along M in the kernel's groups.</param>
    /// <returns>PaddedDepth × PaddedRows floats.</returns>
    public static float[] Decoded(LmuSystem system, ReadOnlySpan<float> decoders, int delays, int chunkLength, int groupRows)
    {
        int d = system.Order;
        int rows = checked(chunkLength * delays);
        int paddedRows = PaddedRows(rows, groupRows);
        int depth = PaddedDepth(d, chunkLength, groupRows);
        int carryDepth = CarryDepth(d, groupRows);
        var weights = new float[checked((long)paddedRows * depth)];
        double[] h = system.ImpulseResponse(chunkLength);
        ReadOnlySpan<double> aBar = system.DiscreteA;

        // ch[s·Q + q] = C_q·H_s; row[q] = C_q·Ā^(j+1), advanced one power per step.
        var ch = new double[chunkLength * delays];
        var row = new double[delays * d];
        for (int q = 0; q < delays; q++)
        {
            for (int s = 0; s < chunkLength; s++)
            {
                double sum = 0;
                for (int i = 0; i < d; i++)
                {
                    sum += decoders[(q * d) + i] * h[(s * d) + i];
                }

                ch[(s * delays) + q] = sum;
            }

            for (int i = 0; i < d; i++)
            {
                row[(q * d) + i] = decoders[(q * d) + i];
            }
        }

        var next = new double[d];
        for (int j = 0; j < chunkLength; j++)
        {
            for (int q = 0; q < delays; q++)
            {
                // row_q ← row_q·Ā (C_q·Ā^(j+1)).
                var current = row.AsSpan(q * d, d);
                Array.Clear(next);
                for (int i = 0; i < d; i++)
                {
                    double c = current[i];
                    for (int r = 0; r < d; r++)
                    {
                        next[r] += c * aBar[(i * d) + r];
                    }
                }

                next.CopyTo(current);
                int m = (j * delays) + q;
                for (int r = 0; r < d; r++)
                {
                    weights[At(m, r, depth, groupRows)] = (float)current[r];
                }

                for (int s = 0; s <= j; s++)
                {
                    weights[At(m, carryDepth + s, depth, groupRows)] = (float)ch[((j - s) * delays) + q];
                }
            }
        }

        return weights;
    }
}
