using ILGPU;
using ILGPU.Runtime;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>
/// States from windows of their inputs as one matrix product: S_e = Σ_(q &lt; H) W[·, q]·u_(e−H+1+q) with
/// W[·, q] = h_(H−1−q) = Ā^(H−1−q)·B̄. All states together are Y = W·Z, a d × H by H × (n·J) product whose Z columns
/// are windows of the input (each column read where it lies, no copy), on the staging and depth loop of the FP32
/// phase C product (<see cref="GemmLoop"/>). It computes phase A of the chunked scan (every chunk's end from zero at
/// the chunk's start, H = L, <see cref="WindowProductParams.ChunkAligned"/>), the first level of the chained carries
/// (every segment of G chunks' end from zero at its start, H = G·L) and the window start (every chunk's
/// carry, or a final-only run's final states, from their last H ≈ 2θ inputs), with ~1 load of W and Z per 8
/// multiply-adds where <see cref="ScanKernels.ChunkEnds"/> and <see cref="WindowKernels.WindowStates"/> make one or
/// two loads per multiply-add.
/// </summary>
public static class WindowGemmKernels
{
    /// <summary>
    /// Y = W·Z for blocks of 8·side × 8·side outputs (rows: the state's d entries; columns: states c = 0 … n·J − 1, state
    /// c mod J of sequence c / J), one group of side² threads per block, in the band order of
    /// <see cref="GemmBlockOrder"/>. Shared memory: <see cref="ScanGemmKernels.SharedFloats"/> floats.
    /// </summary>
    /// <param name="weights">W [d, H] zero-padded to PaddedRows × PaddedDepth, stored by blocks of 8·side rows
    /// (ChunkStateWeights.At): W[i, q] = h_(H−1−q)[i].</param>
    /// <param name="input">u [B, T, k].</param>
    /// <param name="output">States [rows, d] (see <see cref="WindowParams.OutputStride"/>).</param>
    /// <param name="final">Final states [n, d] (with <see cref="WindowParams.WriteFinal"/>).</param>
    /// <param name="p">Sizes.</param>
    /// <param name="side">Threads along each side of the group: 1, 2, 4, 8 or 16 (a constant of the compiled kernel).</param>
    public static void WindowProduct(ArrayView<float> weights, ArrayView<float> input, ArrayView<float> output,
        ArrayView<float> final, WindowProductParams p, SpecializedValue<int> side)
    {
        var shared = SharedMemory.GetDynamic<float>();
        var columns = WindowColumns.Allocate();
        var w = p.Window;
        var thread = GemmThread.Current(side.Value);
        int g = thread.Side;
        int size = thread.BlockSize;
        int t = thread.Thread;
        GemmBlockOrder.Origin(Grid.IdxX, p.PaddedRows, w.States, size, out _, out int m0, out long n0);
        for (int n = t; n < size; n += thread.Threads)
        {
            columns.Fill(p, n0, n);
        }

        Group.Barrier();
        var block = new WindowBlock(weights, input, columns.StartAt, columns.SkipOf, g, thread.SideLog2, t, (long)m0 * p.PaddedDepth, w.Horizon,
            w.Channels);
        var acc = GemmLoop.Multiply(block, shared, p.PaddedDepth, thread.Row, thread.Column);

        // Row m of column n goes to output[rowOf[n]·d + m] (and the final states): consecutive threads, consecutive rows.
        int d = w.Order;
        for (int r = 0; r < 8; r++)
        {
            int m = m0 + thread.Row + (r * g);
            if (m >= d)
            {
                break;
            }

            var values = acc.Row(r);
            for (int c = 0; c < 8; c++)
            {
                columns.Write(output, final, d, thread.Column + (c * g), m, values[c]);
            }
        }
    }

    /// <summary><see cref="WindowProduct"/> with the group side read at run time (<c>$LMU_SPECIALIZE=0</c>).</summary>
    /// <param name="weights">See <see cref="WindowProduct"/>.</param>
    /// <param name="input">See <see cref="WindowProduct"/>.</param>
    /// <param name="output">See <see cref="WindowProduct"/>.</param>
    /// <param name="final">See <see cref="WindowProduct"/>.</param>
    /// <param name="p">Sizes.</param>
    /// <param name="side">Threads along each side of the group.</param>
    public static void WindowProductUnspecialized(ArrayView<float> weights, ArrayView<float> input, ArrayView<float> output,
        ArrayView<float> final, WindowProductParams p, int side) =>
        WindowProduct(weights, input, output, final, p, SpecializedValue.New(side));
}
