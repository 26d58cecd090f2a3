using System.Numerics.Tensors;

namespace Lmu.Gpu;

/// <summary>The host's final-only run by the window start (<see cref="ScanWindow"/>): each sequence's final state
/// from its last H inputs, m_(T−1) = Σ_(k&lt;H) h_k·u_(T−1−k), 2·H·d operations instead of the scan's 2·T·d plus its
/// carries.</summary>
internal static class HostWindow
{
    /// <summary>Overwrites <paramref name="states"/> [B·k, d] with each sequence's final state.</summary>
    /// <param name="impulse">h [H, d] (<see cref="ScanWindow.Impulse"/>).</param>
    /// <param name="order">d.</param>
    /// <param name="input">u [B, T, k].</param>
    /// <param name="batch">B.</param>
    /// <param name="channels">k.</param>
    /// <param name="steps">T ≥ H.</param>
    /// <param name="states">The final states [B·k, d].</param>
    public static void Final(float[] impulse, int order, ReadOnlySpan<float> input, int batch, int channels, int steps, float[] states)
    {
        int d = order;
        int horizon = impulse.Length / d;
        if (horizon > steps)
        {
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"The window of {horizon} steps is longer than the run.");
        }

        int count = batch * channels;

        // Inputs of each sequence's window, newest first, so that the workers need no span of the caller's input.
        var window = new float[(long)count * horizon];
        for (int n = 0; n < count; n++)
        {
            int b = n / channels, ch = n - (b * channels);
            for (int k = 0; k < horizon; k++)
            {
                window[((long)n * horizon) + k] = input[(int)((((long)b * steps) + steps - 1 - k) * channels) + ch];
            }
        }

        void Sequence(int n)
        {
            var acc = new float[d];
            for (int k = 0; k < horizon; k++)
            {
                TensorPrimitives.MultiplyAdd(impulse.AsSpan(k * d, d), window[((long)n * horizon) + k], acc, acc);
            }

            acc.CopyTo(states.AsSpan(n * d, d));
        }

        if (count == 1 || (long)count * horizon * d < 1 << 20)
        {
            for (int n = 0; n < count; n++)
            {
                Sequence(n);
            }
        }
        else
        {
            Parallel.For(0, count, Sequence);
        }
    }
}
