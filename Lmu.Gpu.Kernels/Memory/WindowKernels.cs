using ILGPU;
using ILGPU.Runtime;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>Scalar arguments of <see cref="WindowKernels.WindowStates"/>.</summary>
/// <param name="Order">d.</param>
/// <param name="Channels">k: sequence n = b·k + ch reads rows (b·T + t)·k + ch.</param>
/// <param name="Steps">T.</param>
/// <param name="Horizon">H: the window's length, the rows of the impulse table.</param>
/// <param name="Ends">J: the states computed per sequence.</param>
/// <param name="FirstEnd">e_0, the step of a sequence's first state.</param>
/// <param name="EndStride">The steps between consecutive states: e_j = min(e_0 + j·stride, T − 1).</param>
/// <param name="OutputStride">Rows of the output per sequence: state j of sequence n goes to row
/// n·OutputStride + OutputFirst + j.</param>
/// <param name="OutputFirst">The row offset of state 0 within a sequence's rows.</param>
/// <param name="WriteFinal">1 where a state at e = T − 1 also goes to the final states [n, d], else 0 (an int: kernel
/// arguments must be blittable).</param>
public readonly record struct WindowParams(int Order, int Channels, int Steps, int Horizon, int Ends, int FirstEnd, int EndStride,
    int OutputStride, int OutputFirst, int WriteFinal)
{
    /// <summary>The groups of <see cref="WindowKernels.WindowStates"/> for <paramref name="sequences"/> sequences.</summary>
    /// <param name="sequences">n = B·k.</param>
    /// <returns>n·⌈J / <see cref="WindowKernels.ColumnsPerGroup"/>⌉.</returns>
    public long Groups(long sequences) => sequences * ((Ends + WindowKernels.ColumnsPerGroup - 1) / WindowKernels.ColumnsPerGroup);
}

/// <summary>
/// The window start of the scan: states from their last H inputs alone, S_e = Σ_(k &lt; min(H, e+1)) h_k·u_(e−k)
/// (h_k = Ā^k·B̄). Where ‖Ā^H‖ is below float32's rounding, that is the state itself for every e ≥ H − 1 (and for
/// e &lt; H − 1 from a zero initial state): no carry from earlier chunks is needed, so every chunk's carry, or a
/// final-only run's final state, is computed in parallel.
/// </summary>
public static class WindowKernels
{
    /// <summary>States per group: consecutive ends of one sequence, which share each impulse row loaded.</summary>
    public const int ColumnsPerGroup = 4;

    /// <summary>
    /// One group per <see cref="ColumnsPerGroup"/> consecutive states of one sequence, threads over the d rows: each
    /// thread loads h_k[i] once (coalesced across the group) for the four states' FMAs, and the inputs are the same
    /// address across the group. States j ≥ J of a group repeat the last one's end and are not written. Indices are 32-bit
    /// within the sequence's inputs and the impulse table: the host launches it only where T·k and H·d are below 2³¹
    /// (ptxas, sm_90: 82 instructions per 16 FFMA in the main loop, against 147 with 64-bit indices).
    /// </summary>
    /// <param name="impulse">h [H, d].</param>
    /// <param name="input">u [B, T, k].</param>
    /// <param name="output">States [rows, d] (see <see cref="WindowParams.OutputStride"/>).</param>
    /// <param name="final">Final states [n, d] (with <see cref="WindowParams.WriteFinal"/>).</param>
    /// <param name="p">Sizes.</param>
    public static void WindowStates(ArrayView<float> impulse, ArrayView<float> input, ArrayView<float> output, ArrayView<float> final, WindowParams p)
    {
        int blocks = (p.Ends + ColumnsPerGroup - 1) / ColumnsPerGroup;
        long seq = Grid.IdxX / blocks;
        int j0 = (int)(Grid.IdxX - (seq * blocks)) * ColumnsPerGroup;
        int count = p.Ends - j0 < ColumnsPerGroup ? p.Ends - j0 : ColumnsPerGroup;
        int b = (int)(seq / p.Channels);
        int ch = (int)(seq - ((long)b * p.Channels));
        int last = p.Steps - 1;
        int e0 = End(p, j0, last);
        int e1 = count > 1 ? End(p, j0 + 1, last) : e0;
        int e2 = count > 2 ? End(p, j0 + 2, last) : e1;
        int e3 = count > 3 ? End(p, j0 + 3, last) : e2;

        // Every state's window holds k ≤ e0 (the ends never fall with j); past that, each state stops at its own e + 1.
        int common = p.Horizon < e0 + 1 ? p.Horizon : e0 + 1;
        int longest = p.Horizon < e3 + 1 ? p.Horizon : e3 + 1;
        int d = p.Order;
        int k = p.Channels;

        // 32-bit indices into the sequence's own inputs (T·k < 2³¹ and H·d < 2³¹, checked on the host): one address
        // multiply-add per load instead of 64-bit index arithmetic.
        var sequence = input.SubView(((long)b * p.Steps * k) + ch, ((long)(p.Steps - 1) * k) + 1);
        for (int i = Group.IdxX; i < d; i += Group.DimX)
        {
            float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
            int h = i;
            int u0 = e0 * k;
            int u1 = e1 * k;
            int u2 = e2 * k;
            int u3 = e3 * k;
            int q = 0;
            for (; q < common; q++)
            {
                float hq = impulse[h];
                a0 += hq * sequence[u0];
                a1 += hq * sequence[u1];
                a2 += hq * sequence[u2];
                a3 += hq * sequence[u3];
                h += d;
                u0 -= k;
                u1 -= k;
                u2 -= k;
                u3 -= k;
            }

            // Windows that reach back before step 0 (only the first states of a sequence).
            for (; q < longest; q++)
            {
                float hq = impulse[h];
                if (q <= e1)
                {
                    a1 += hq * sequence[u1];
                }

                if (q <= e2)
                {
                    a2 += hq * sequence[u2];
                }

                a3 += hq * sequence[u3];
                h += d;
                u1 -= k;
                u2 -= k;
                u3 -= k;
            }

            long row = (seq * p.OutputStride) + p.OutputFirst + j0;
            Write(output, final, p, seq, row, e0, d, i, a0, last);
            if (count > 1)
            {
                Write(output, final, p, seq, row + 1, e1, d, i, a1, last);
            }

            if (count > 2)
            {
                Write(output, final, p, seq, row + 2, e2, d, i, a2, last);
            }

            if (count > 3)
            {
                Write(output, final, p, seq, row + 3, e3, d, i, a3, last);
            }
        }
    }

    private static int End(WindowParams p, int j, int last)
    {
        long e = p.FirstEnd + ((long)j * p.EndStride);
        return e < last ? (int)e : last;
    }

    private static void Write(ArrayView<float> output, ArrayView<float> final, WindowParams p, long seq, long row, int end, int d, int i, float value, int last)
    {
        output[(row * d) + i] = value;
        if (p.WriteFinal != 0 && end == last)
        {
            final[(seq * d) + i] = value;
        }
    }
}
