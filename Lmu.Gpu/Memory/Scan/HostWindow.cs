namespace Lmu.Gpu;

/// <summary>The host's final-only run by the window start (<see cref="ScanWindow"/>): each sequence's final state
/// from its last H inputs, m_(T−1) = Σ_(k&lt;H) h_k·u_(T−1−k), 2·H·d operations instead of the scan's 2·T·d plus its
/// carries.</summary>
/// <remarks>The sum is a d × H by H × B product, run on the scan's register-blocked kernel
/// (<see cref="HostScanMath.Product8"/>): eight sequences per pass over the impulse table, each of its rows loaded once
/// for all eight. The table is stored oldest input first (<see cref="Reversed"/>), so that a sequence's window is its
/// last H inputs as they lie in memory: with one channel the product reads them in place; with k channels each group
/// of eight gathers them (stride k) into 8·H floats of its own. One sequence at a time instead (an axpy per k)
/// re-read the 1.8 MB table from memory for every sequence: 6.6 ms against 0.28 ms for B = 16, d = 256.</remarks>
internal static unsafe class HostWindow
{
    private const int Width = 8;

    /// <summary>The impulse table in window order: row j (j &lt; H) holds h_(H−1−j), the weight of the input j steps
    /// after the window's first.</summary>
    /// <param name="impulse">h [H, d] (<see cref="ScanWindow.Impulse"/>).</param>
    /// <param name="order">d.</param>
    /// <returns>A new [H, d] table.</returns>
    public static float[] Reversed(float[] impulse, int order)
    {
        int horizon = impulse.Length / order;
        var reversed = new float[impulse.Length];
        for (int j = 0; j < horizon; j++)
        {
            Array.Copy(impulse, (long)(horizon - 1 - j) * order, reversed, (long)j * order, order);
        }

        return reversed;
    }

    /// <summary>Overwrites <paramref name="states"/> [B·k, d] with each sequence's final state.</summary>
    /// <param name="windowImpulse">The impulse table in window order, [H, d] (<see cref="Reversed"/>).</param>
    /// <param name="order">d.</param>
    /// <param name="input">u [B, T, k].</param>
    /// <param name="batch">B.</param>
    /// <param name="channels">k.</param>
    /// <param name="steps">T ≥ H.</param>
    /// <param name="states">The final states [B·k, d].</param>
    public static void Final(float[] windowImpulse, int order, ReadOnlySpan<float> input, int batch, int channels, int steps, float[] states)
    {
        int d = order;
        int horizon = windowImpulse.Length / d;
        if (horizon > steps)
        {
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"The window of {horizon} steps is longer than the run.");
        }

        int count = batch * channels;
        int groups = (count + Width - 1) / Width;
        fixed (float* h = windowImpulse)
        fixed (float* u = input)
        fixed (float* y = states)
        {
            float* hp = h, up = u, yp = y;
            void Group(int g)
            {
                // Scratch: the gathered windows (k > 1), a zero window for unused columns, zeros for the bias (scale
                // 0) and a row for discarded outputs.
                var scratch = new float[((channels > 1 ? Width : 0) + 1) * (long)horizon + (2 * d)];
                fixed (float* s = scratch)
                {
                    float* zeroWindow = s + ((channels > 1 ? Width : 0) * (long)horizon);
                    float* bias = zeroWindow + horizon;
                    float* discard = bias + d;
                    var columns = default(HostScanMath.Columns8);
                    for (int q = 0; q < Width; q++)
                    {
                        int n = (g * Width) + q;
                        if (n >= count)
                        {
                            columns.Set(q, zeroWindow, discard, bias, 0f);
                            continue;
                        }

                        int b = n / channels, ch = n - (b * channels);
                        float* first = up + ((((long)b * steps) + steps - horizon) * channels) + ch;
                        float* x = first;
                        if (channels > 1)
                        {
                            x = s + ((long)q * horizon);
                            for (int j = 0; j < horizon; j++)
                            {
                                x[j] = first[(long)j * channels];
                            }
                        }

                        columns.Set(q, x, yp + ((long)n * d), bias, 0f);
                    }

                    HostScanMath.Product(hp, d, horizon, ref columns, count - (g * Width) > 4 ? 8 : 4);
                }
            }

            if (groups == 1)
            {
                Group(0);
            }
            else
            {
                HostThreads.For(groups, Group);
            }
        }
    }
}
