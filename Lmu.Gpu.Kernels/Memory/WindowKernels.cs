using ILGPU;
using ILGPU.Runtime;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>
/// The window start of the scan: states from their last H inputs alone, S_e = Σ_(k &lt; min(H, e+1)) h_k·u_(e−k)
/// (h_k = Ā^k·B̄). Where ‖Ā^H‖ is below float32's rounding, that is the state itself for every e ≥ H − 1 (and for
/// e &lt; H − 1 from a zero initial state): no carry from earlier chunks is needed, so every chunk's carry, or a
/// final-only run's final state, is computed in parallel.
/// </summary>
public static class WindowKernels
{
    /// <summary>States per group, which share each impulse row loaded.</summary>
    public const int ColumnsPerGroup = 4;

    /// <summary>
    /// One group per <see cref="ColumnsPerGroup"/> consecutive states c (consecutive ends of a sequence, running on
    /// into the next sequence's: a final-only run puts four sequences in a group), threads over the d rows: each thread
    /// loads h_k[i] once (coalesced across the group) for the four states' FMAs, and each input is the same address
    /// across the group. States past n·J repeat the group's first and are not written. Indices are 32-bit within each
    /// sequence's inputs and the impulse table: the host launches it only where T·k and H·d are below 2³¹.
    /// </summary>
    /// <param name="impulse">h [H, d].</param>
    /// <param name="input">u [B, T, k].</param>
    /// <param name="output">States [rows, d] (see <see cref="WindowParams.OutputStride"/>).</param>
    /// <param name="final">Final states [n, d] (with <see cref="WindowParams.WriteFinal"/>).</param>
    /// <param name="p">Sizes.</param>
    public static void WindowStates(ArrayView<float> impulse, ArrayView<float> input, ArrayView<float> output, ArrayView<float> final, WindowParams p)
    {
        long c0 = Grid.IdxX * (long)ColumnsPerGroup;
        long states = p.States;
        var s0 = Column.Of(p, input, c0);
        var s1 = c0 + 1 < states ? Column.Of(p, input, c0 + 1) : s0;
        var s2 = c0 + 2 < states ? Column.Of(p, input, c0 + 2) : s0;
        var s3 = c0 + 3 < states ? Column.Of(p, input, c0 + 3) : s0;

        // Every window holds k ≤ the smallest end; past that, each state stops at its own e + 1.
        int lowest = Min(Min(s0.End, s1.End), Min(s2.End, s3.End));
        int highest = Max(Max(s0.End, s1.End), Max(s2.End, s3.End));
        int common = p.Horizon < lowest + 1 ? p.Horizon : lowest + 1;
        int longest = p.Horizon < highest + 1 ? p.Horizon : highest + 1;
        int d = p.Order;
        int k = p.Channels;
        for (int i = Group.IdxX; i < d; i += Group.DimX)
        {
            float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
            int h = i;
            int u0 = s0.End * k;
            int u1 = s1.End * k;
            int u2 = s2.End * k;
            int u3 = s3.End * k;
            int q = 0;
            for (; q < common; q++)
            {
                float hq = impulse[h];
                a0 += hq * s0.Inputs[u0];
                a1 += hq * s1.Inputs[u1];
                a2 += hq * s2.Inputs[u2];
                a3 += hq * s3.Inputs[u3];
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
                if (q <= s0.End)
                {
                    a0 += hq * s0.Inputs[u0];
                }

                if (q <= s1.End)
                {
                    a1 += hq * s1.Inputs[u1];
                }

                if (q <= s2.End)
                {
                    a2 += hq * s2.Inputs[u2];
                }

                if (q <= s3.End)
                {
                    a3 += hq * s3.Inputs[u3];
                }

                h += d;
                u0 -= k;
                u1 -= k;
                u2 -= k;
                u3 -= k;
            }

            Write(output, final, p, s0, i, a0);
            if (c0 + 1 < states)
            {
                Write(output, final, p, s1, i, a1);
            }

            if (c0 + 2 < states)
            {
                Write(output, final, p, s2, i, a2);
            }

            if (c0 + 3 < states)
            {
                Write(output, final, p, s3, i, a3);
            }
        }
    }

    private static int Min(int a, int b) => a < b ? a : b;

    private static int Max(int a, int b) => a > b ? a : b;

    private static void Write(ArrayView<float> output, ArrayView<float> final, WindowParams p, Column column, int i, float value)
    {
        int d = p.Order;
        output[(column.Row * d) + i] = value;
        if (p.WriteFinal != 0 && column.End == p.Steps - 1)
        {
            final[(column.Sequence * d) + i] = value;
        }
    }

    /// <summary>One state of <see cref="WindowStates"/>: its sequence, end step, output row and the sequence's inputs.</summary>
    private readonly struct Column
    {
        private Column(long sequence, int end, long row, ArrayView<float> inputs)
        {
            Sequence = sequence;
            End = end;
            Row = row;
            Inputs = inputs;
        }

        /// <summary>n.</summary>
        public long Sequence { get; }

        /// <summary>e.</summary>
        public int End { get; }

        /// <summary>The output row.</summary>
        public long Row { get; }

        /// <summary>The sequence's inputs u_t at index t·k.</summary>
        public ArrayView<float> Inputs { get; }

        /// <summary>State <paramref name="c"/> (n = c / J, j = c mod J).</summary>
        public static Column Of(WindowParams p, ArrayView<float> input, long c)
        {
            long sequence = c / p.Ends;
            int j = (int)(c - (sequence * p.Ends));
            long e = p.FirstEnd + ((long)j * p.EndStride);
            int end = e < p.Steps - 1 ? (int)e : p.Steps - 1;
            long b = sequence / p.Channels;
            long ch = sequence - (b * p.Channels);
            var inputs = input.SubView((b * p.Steps * p.Channels) + ch, ((long)(p.Steps - 1) * p.Channels) + 1);
            return new Column(sequence, end, (sequence * p.OutputStride) + p.OutputFirst + j, inputs);
        }
    }
}
