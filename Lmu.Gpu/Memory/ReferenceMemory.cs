namespace Lmu.Gpu;

/// <summary>The linear memory in double precision, one plain step at a time: the reference that the float32 host
/// path and kernels are checked against (tests and <c>lmu selftest</c>).</summary>
internal static class ReferenceMemory
{
    /// <summary>Runs [batch, steps, channels] inputs from zero states; returns all states [batch, steps, channels, d].</summary>
    public static double[] RunStates(LmuSystem system, ReadOnlySpan<float> input, int batch, int steps, int channels)
    {
        int d = system.Order;
        var a = system.DiscreteA;
        var bBar = system.DiscreteB;
        var result = new double[(long)batch * steps * channels * d];
        var m = new double[d];
        var next = new double[d];
        for (int b = 0; b < batch; b++)
        {
            for (int c = 0; c < channels; c++)
            {
                Array.Clear(m);
                for (int t = 0; t < steps; t++)
                {
                    double u = input[(b * steps + t) * channels + c];
                    for (int i = 0; i < d; i++)
                    {
                        double acc = bBar[i] * u;
                        var row = a.Slice(i * d, d);
                        for (int j = 0; j < d; j++)
                        {
                            acc += row[j] * m[j];
                        }

                        next[i] = acc;
                    }

                    (m, next) = (next, m);
                    m.CopyTo(result, (((long)b * steps + t) * channels + c) * d);
                }
            }
        }

        return result;
    }
}
