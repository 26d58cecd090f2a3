using ILGPU;
using ILGPU.Runtime;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>
/// The adjoint's input gradient B̄ᵀ·λ_t as two matrix products on the FP32 product loop of phase C
/// (<see cref="GemmLoop"/>), for the runs that need no λ (a feedforward layer's backward pass with a fixed θ). With
/// λ_t = g_t + Āᵀ·λ_(t+1) and h_k = Āᵏ·B̄, for chunk c of steps s … e:
/// <list type="bullet">
/// <item>chunk starts from zero: λ⁰_s = Σ_(q &lt; L) (Āᵀ)^q·g_(s+q), a d × L·d by L·d × (B·k·C) product with
/// Wᵀ = [I; Ā; …; Ā^(L−1)] (row block q is Ā^q);</item>
/// <item>then the reverse carries (phase B, as the lock-step adjoint's) turn them into λ_s of every chunk;</item>
/// <item>the input gradient: B̄ᵀ·λ_(s+j) = h_(L−j)ᵀ·λ_(e+1) + Σ_(q ≥ j) h_(q−j)ᵀ·g_(s+q), an L × (d + L·d) product
/// whose Z columns are [λ_(e+1); g_s; …; g_e].</item>
/// </list>
/// That is 2·d² + 2·L·d multiply-adds per step, about the forward product's 2·d·(d + L), in place of two lock-step
/// passes (<see cref="ScanKernels.ChunkSteps"/>) of 2·d² each.
/// </summary>
public static class AdjointGemmKernels
{
    /// <summary>
    /// Y = W·Z for blocks of 8·side × 8·side outputs in the band order of <see cref="GemmBlockOrder"/> (rows: the
    /// chunk start's d entries, or the chunk's L steps; columns: (memory, chunk) = n·C + c). Shared memory:
    /// <see cref="ScanGemmKernels.SharedFloats"/> floats.
    /// </summary>
    /// <param name="weightsT">Wᵀ [K, M] (AdjointProductWeights).</param>
    /// <param name="gradients">g [B, T, k, d].</param>
    /// <param name="carries">λ at every chunk's first step [B·k·C, d] (input gradient only).</param>
    /// <param name="output">Chunk starts from zero [B·k·C, d], or B̄ᵀ·λ_t [B, T, k].</param>
    /// <param name="p">Sizes.</param>
    /// <param name="side">Threads along each side of the group: 1, 2, 4, 8 or 16 (a constant of the compiled kernel).</param>
    public static void ChunkProduct(ArrayView<float> weightsT, ArrayView<float> gradients, ArrayView<float> carries,
        ArrayView<float> output, AdjointProductParams p, SpecializedValue<int> side)
    {
        var shared = SharedMemory.GetDynamic<float>();
        var columns = AdjointColumns.Allocate();
        var thread = GemmThread.Current(side.Value);
        int g = thread.Side;
        int size = thread.BlockSize;
        int paddedRows = (p.Rows + size - 1) / size * size;
        GemmBlockOrder.Origin(Grid.IdxX, paddedRows, p.Columns, size, out _, out int m0, out long n0);
        for (int n = thread.Thread; n < size; n += thread.Threads)
        {
            columns.Fill(p, n0, n);
        }

        Group.Barrier();
        var block = new AdjointBlock(weightsT, gradients, carries, columns, p, m0, g, thread.SideLog2, thread.Thread);
        int depthEnd = (p.Depth + g - 1) / g * g;
        var acc = GemmLoop.Multiply(block, shared, depthEnd, thread.Row, thread.Column);

        for (int r = 0; r < 8; r++)
        {
            int m = m0 + thread.Row + (r * g);
            if (m >= p.Rows)
            {
                break;
            }

            var values = acc.Row(r);
            for (int c = 0; c < 8; c++)
            {
                int n = thread.Column + (c * g);
                long at = columns.OutputAt[n];
                if (at < 0)
                {
                    continue;
                }

                if (p.InputGradient == 0)
                {
                    output[at + m] = values[c];
                }
                else if (m < columns.ValidSteps[n])
                {
                    output[at + ((long)m * p.Channels)] = values[c];
                }
            }
        }
    }
}
