namespace Lmu.Gpu;

/// <summary>The host's final-only run by the window start (<see cref="ScanWindow"/>): each sequence's final state
/// from its last H inputs, m_(T−1) = Σ_(k&lt;H) h_k·u_(T−1−k), 2·H·d operations instead of the scan's 2·T·d plus its
/// carries.</summary>
/// <remarks>The sum is a d × H by H × B product with the impulse table as its transposed matrix
/// (h_k[i] = [k·d + i]), so it runs on the scan's register-blocked kernel (<see cref="HostScanMath.Product8"/>): eight
/// sequences per pass over the table, each h_k row loaded once for all eight. One sequence at a time instead (an
/// axpy per k) re-read the 1.8 MB table from memory per sequence: 6.6 ms against about 1 ms for B = 16, d = 256.</remarks>
internal static unsafe class HostWindow
{
    private const int Width = 8;

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

        // Inputs of each sequence's window, newest first (the product's x columns); then a zero column and scratch for
        // the unused columns of the last group, and zeros for the bias (scale 0).
        int groups = (count + Width - 1) / Width;
        var window = new float[((long)count + 1) * horizon];
        for (int n = 0; n < count; n++)
        {
            int b = n / channels, ch = n - (b * channels);
            for (int k = 0; k < horizon; k++)
            {
                window[((long)n * horizon) + k] = input[(int)((((long)b * steps) + steps - 1 - k) * channels) + ch];
            }
        }

        var scratch = new float[2 * d];
        fixed (float* h = impulse)
        fixed (float* w = window)
        fixed (float* y = states)
        fixed (float* s = scratch)
        {
            float* hp = h, wp = w, yp = y, sp = s;
            void Group(int g)
            {
                var columns = default(HostScanMath.Columns8);
                for (int q = 0; q < Width; q++)
                {
                    int n = (g * Width) + q;
                    bool used = n < count;
                    columns.Set(q, wp + ((long)(used ? n : count) * horizon), used ? yp + ((long)n * d) : sp + d, sp, 0f);
                }

                HostScanMath.Product(hp, d, horizon, ref columns, count - (g * Width) > 4 ? 8 : 4);
            }

            if (groups == 1)
            {
                Group(0);
            }
            else
            {
                Parallel.For(0, groups, Group);
            }
        }
    }
}
