using ILGPU;
using ILGPU.Runtime;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>Kernels for the batched linear LMU memory m_t = Ā·m_{t−1} + B̄·u_t.</summary>
public static class LinearMemoryKernels
{
    /// <summary>
    /// Advances B·k independent memories by T steps, sequentially in time, one group per memory. The state lives in
    /// shared memory (two buffers of d floats, requested dynamically) for the whole launch, so a sequence costs one
    /// launch and one barrier per step. Threads stride over the d rows; Ā is read transposed so that neighbouring
    /// threads read neighbouring addresses.
    /// </summary>
    /// <param name="aTransposed">Āᵀ, d×d (element [j·d + i] = Ā[i, j]).</param>
    /// <param name="bBar">B̄, length d.</param>
    /// <param name="decoders">Decoder rows, Q×d (only read in <see cref="MemoryOutputMode.Decoded"/>).</param>
    /// <param name="states">States [B·k, d]: read at the start, written with the final state at the end.</param>
    /// <param name="input">Inputs [B, T, k].</param>
    /// <param name="output">Per-step output (see <see cref="MemoryOutputMode"/>); may be empty for FinalOnly.</param>
    /// <param name="p">Sizes and mode.</param>
    /// <remarks>Grid: B·k groups; group size any multiple of the warp size up to the accelerator's limit; dynamic
    /// shared memory: 2·d floats. The host validates every size before launching.</remarks>
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
        int n = Grid.IdxX;
        int tid = Group.IdxX;
        int g = Group.DimX;
        int batch = n / p.Channels;
        int channel = n - batch * p.Channels;
        long stateBase = (long)n * d;

        for (int i = tid; i < d; i += g)
        {
            shared[i] = states[stateBase + i];
        }

        Group.Barrier();
        int current = 0;
        for (int t = 0; t < p.Steps; t++)
        {
            long row = ((long)batch * p.Steps + t) * p.Channels + channel;
            float u = input[row];
            int next = d - current;
            for (int i = tid; i < d; i += g)
            {
                float acc = bBar[i] * u;
                for (int j = 0; j < d; j++)
                {
                    acc += aTransposed[j * d + i] * shared[current + j];
                }

                shared[next + i] = acc;
            }

            Group.Barrier();
            if (p.Mode == MemoryOutputMode.AllStates)
            {
                for (int i = tid; i < d; i += g)
                {
                    output[row * d + i] = shared[next + i];
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

                    output[row * p.Delays + q] = y;
                }
            }

            current = next;
        }

        for (int i = tid; i < d; i += g)
        {
            states[stateBase + i] = shared[current + i];
        }
    }
}
