using ILGPU;
using ILGPU.Runtime;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>Kernels for the batched linear LMU memory m_t = Ā·m_{t−1} + B̄·u_t.</summary>
public static class LinearMemoryKernels
{
    /// <summary>
    /// Advances B·k independent memories by T steps, sequentially in time, one group per memory. The state lives in
    /// shared memory for the whole launch, so a sequence costs one launch and one or two barriers per step. With
    /// P = <see cref="MemorySequenceParams.Parts"/> &gt; 1, P threads share each row of Ā·m (each sums a segment
    /// of d/P terms with eight independent accumulators, for memory-level parallelism) and the partial sums are
    /// added in shared memory. Ā is read transposed so that neighbouring threads read neighbouring addresses.
    /// </summary>
    /// <param name="aTransposed">Āᵀ, d×d (element [j·d + i] = Ā[i, j]).</param>
    /// <param name="bBar">B̄, length d.</param>
    /// <param name="decoders">Decoder rows, Q×d (only read in <see cref="MemoryOutputMode.Decoded"/>).</param>
    /// <param name="states">States [B·k, d]: read at the start, written with the final state at the end.</param>
    /// <param name="input">Inputs [B, T, k].</param>
    /// <param name="output">Per-step output (see <see cref="MemoryOutputMode"/>); may be empty for FinalOnly.</param>
    /// <param name="p">Sizes and mode.</param>
    /// <remarks>Grid: B·k groups; group size a multiple of the warp size, at least P·d when P &gt; 1; dynamic
    /// shared memory: (2 + P)·d floats, plus d² with <see cref="MemorySequenceParams.MatrixInShared"/>. The host
    /// validates every size before launching.</remarks>
    public static void Sequence(
        ArrayView<float> aTransposed,
        ArrayView<float> bBar,
        ArrayView<float> decoders,
        ArrayView<float> states,
        ArrayView<float> input,
        ArrayView<float> output,
        MemorySequenceParams p)
    {
        var shared = SharedMemory.GetDynamic<float>();
        int d = p.Order;
        int parts = p.Parts;
        int n = Grid.IdxX;
        int tid = Group.IdxX;
        int g = Group.DimX;
        int batch = n / p.Channels;
        int channel = n - batch * p.Channels;
        long stateBase = (long)n * d;

        // Segment of the j-sum that this thread owns when rows are shared (parts > 1).
        int row = tid % d;
        int part = tid / d;
        int segment = (d + parts - 1) / parts;
        int j0 = part * segment;
        int j1 = j0 + segment < d ? j0 + segment : d;
        bool active = part < parts;
        int partials = 2 * d;

        for (int i = tid; i < d; i += g)
        {
            shared[i] = states[stateBase + i];
        }

        var matrix = aTransposed;
        if (p.MatrixInShared != 0)
        {
            int matrixAt = (2 + parts) * d;
            for (int i = tid; i < d * d; i += g)
            {
                shared[matrixAt + i] = aTransposed[i];
            }

            matrix = shared.SubView(matrixAt, d * d);
        }

        Group.Barrier();
        int current = 0;
        for (int t = 0; t < p.Steps; t++)
        {
            long index = ((long)batch * p.Steps + t) * p.Channels + channel;
            float u = input[index];
            int next = d - current;
            if (parts > 1)
            {
                if (active)
                {
                    shared[partials + part * d + row] = DotSegment(matrix, shared, d, row, current, j0, j1);
                }

                Group.Barrier();
                for (int i = tid; i < d; i += g)
                {
                    float acc = bBar[i] * u;
                    for (int q = 0; q < parts; q++)
                    {
                        acc += shared[partials + q * d + i];
                    }

                    shared[next + i] = acc;
                }
            }
            else
            {
                for (int i = tid; i < d; i += g)
                {
                    shared[next + i] = bBar[i] * u + DotSegment(matrix, shared, d, i, current, 0, d);
                }
            }

            Group.Barrier();
            if (p.Mode == MemoryOutputMode.AllStates)
            {
                for (int i = tid; i < d; i += g)
                {
                    output[index * d + i] = shared[next + i];
                }
            }
            else if (p.Mode == MemoryOutputMode.Decoded)
            {
                for (int q = tid; q < p.Delays; q += g)
                {
                    float y = 0;
                    for (int j = 0; j < d; j++)
                    {
                        y += decoders[q * d + j] * shared[next + j];
                    }

                    output[index * p.Delays + q] = y;
                }
            }

            current = next;
        }

        for (int i = tid; i < d; i += g)
        {
            states[stateBase + i] = shared[current + i];
        }
    }

    /// <summary>Σ_{j0 ≤ j &lt; j1} Āᵀ[j, i]·m[j] with eight independent accumulators (ILGPU 1.5.3 does not unroll
    /// loops, so the unrolling is written out to keep eight loads in flight).</summary>
    internal static float DotSegment(ArrayView<float> aTransposed, ArrayView<float> shared, int d, int i, int offset, int j0, int j1)
    {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        int j = j0;
        for (; j + 7 < j1; j += 8)
        {
            int a = j * d + i;
            s0 += aTransposed[a] * shared[offset + j];
            s1 += aTransposed[a + d] * shared[offset + j + 1];
            s2 += aTransposed[a + 2 * d] * shared[offset + j + 2];
            s3 += aTransposed[a + 3 * d] * shared[offset + j + 3];
            s4 += aTransposed[a + 4 * d] * shared[offset + j + 4];
            s5 += aTransposed[a + 5 * d] * shared[offset + j + 5];
            s6 += aTransposed[a + 6 * d] * shared[offset + j + 6];
            s7 += aTransposed[a + 7 * d] * shared[offset + j + 7];
        }

        for (; j < j1; j++)
        {
            s0 += aTransposed[j * d + i] * shared[offset + j];
        }

        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    }
}
