using ILGPU;

namespace Lmu.Gpu.Kernels.Spiking;

/// <summary>
/// The three per-step kernels of the spiking LMU (batch B, order d, n neurons per dimension, ensemble e = b·d + i):
/// <list type="number">
/// <item><see cref="Filter"/>: per ensemble, z ← a·z + (1 − a)·y (the lowpass synapse on the decoded spikes), y ← 0.</item>
/// <item><see cref="Recur"/>: per ensemble, ũ ← a·ũ + (1 − a)·u_t and s ← A'·z + B'·ũ (the factorised recurrent and
/// input transforms, d×d per LMU, never m×m).</item>
/// <item><see cref="Neurons"/>: per block of four neurons, J = g·s_e + β (encoder and 1/radius folded into g), one
/// Philox call, the spikes, and y_e += d·count (atomic, only for neurons that spiked).</item>
/// </list>
/// </summary>
public static class SpikingLmuKernels
{
    /// <summary>Kernel 1: z ← a·z + (1 − a)·y, y ← 0, for each ensemble.</summary>
    /// <param name="index">The ensemble.</param>
    /// <param name="z">Filtered decoded values, updated.</param>
    /// <param name="y">Decoded spikes of the last step, cleared.</param>
    /// <param name="a">e^(−dt/τ).</param>
    public static void Filter(Index1D index, ArrayView<float> z, ArrayView<float> y, float a)
    {
        z[index] = a * z[index] + (1f - a) * y[index];
        y[index] = 0f;
    }

    /// <summary>Kernel 2: ũ ← a·ũ + (1 − a)·u[t, b] and s ← A'·z + B'·ũ; also records s in the history.</summary>
    /// <param name="index">The ensemble e = b·d + i.</param>
    /// <param name="z">Filtered decoded values (B·d).</param>
    /// <param name="uFiltered">Filtered input per ensemble (B·d), updated.</param>
    /// <param name="s">Represented values (B·d), written.</param>
    /// <param name="input">This step's input per batch element (B).</param>
    /// <param name="aPrime">A' (d×d row-major).</param>
    /// <param name="bPrime">B' (d).</param>
    /// <param name="history">History row of s for this step (B·d), written.</param>
    /// <param name="order">d.</param>
    /// <param name="a">e^(−dt/τ).</param>
    public static void Recur(Index1D index, ArrayView<float> z, ArrayView<float> uFiltered, ArrayView<float> s,
        ArrayView<float> input, ArrayView<float> aPrime, ArrayView<float> bPrime, ArrayView<float> history, int order, float a)
    {
        int e = index;
        int b = e / order;
        int i = e - b * order;
        float u = a * uFiltered[e] + (1f - a) * input[b];
        uFiltered[e] = u;
        float acc = bPrime[i] * u;
        int row = i * order;
        int zBase = b * order;
        for (int j = 0; j < order; j++)
        {
            acc += aPrime[row + j] * z[zBase + j];
        }

        s[e] = acc;
        history[e] = acc;
    }

    /// <summary>Kernel 3: the neurons, one thread per block of four (grid-stride, long indices).</summary>
    /// <param name="s">Represented values (B·d).</param>
    /// <param name="gain">Gain·encoder/radius per ensemble neuron (d·n).</param>
    /// <param name="bias">Bias current (d·n).</param>
    /// <param name="decoder">Decoder·radius/dt (d·n).</param>
    /// <param name="y">Decoded spikes (B·d), accumulated atomically.</param>
    /// <param name="counts">Spike counts per neuron (B·d·n), accumulated.</param>
    /// <param name="voltage">LIF voltages, or the regular spiking neurons' phases (B·d·n; unused otherwise).</param>
    /// <param name="refractory">LIF refractory times (B·d·n; unused otherwise).</param>
    /// <param name="raster">Spike raster, rows of <c>RasterNeurons</c> bytes.</param>
    /// <param name="p">The step constants.</param>
    public static void Neurons(ArrayView<float> s, ArrayView<float> gain, ArrayView<float> bias, ArrayView<float> decoder,
        ArrayView<float> y, ArrayView<uint> counts, ArrayView<float> voltage, ArrayView<float> refractory,
        ArrayView<byte> raster, SpikingLmuStepParameters p)
    {
        long blocks = (p.Neurons + 3) / 4;
        long stride = (long)Grid.DimX * Group.DimX;
        int n = p.NeuronsPerDimension;
        for (long blk = Grid.GlobalIndex.X; blk < blocks; blk += stride)
        {
            var x = Philox4x32.Generate((uint)blk, (uint)((ulong)blk >> 32), p.Step, PhiloxStreams.LmuSpikes, p.SeedLow, p.SeedHigh);
            // two 64-bit divisions per block; the four neurons then step through (ensemble, dimension, index)
            long e = 4 * blk / n;
            int k = (int)(4 * blk - e * n);
            int i = (int)(e % p.Order);
            for (int w = 0; w < 4; w++)
            {
                long g = 4 * blk + w;
                if (g >= p.Neurons)
                {
                    break;
                }

                if (k == n)
                {
                    k = 0;
                    e++;
                    i = i + 1 == p.Order ? 0 : i + 1;
                }

                long within = (long)i * n + k;
                k++;
                float current = gain[within] * s[e] + bias[within];
                uint count;
                if (p.NeuronType == 2)
                {
                    float v = voltage[g];
                    float r = refractory[g];
                    count = SpikeMath.LifStep(ref v, ref r, current, p.Lif);
                    voltage[g] = v;
                    refractory[g] = r;
                }
                else if (p.NeuronType == 3)
                {
                    float v = voltage[g];
                    count = SpikeMath.RegularStep(ref v, current, p.Dt);
                    voltage[g] = v;
                }
                else
                {
                    float rate = p.NeuronType == 0
                        ? SpikeMath.RectifiedLinearRate(current)
                        : SpikeMath.LifRate(current, p.Lif.TauRc, p.Lif.TauRef);
                    count = (uint)SpikeMath.PoissonCount(SpikeMath.Uniform(x.Word(w)), rate * p.Dt);
                }

                if (count != 0)
                {
                    counts[g] += count;
                    Atomic.Add(ref y[e], decoder[within] * count);
                }

                if (g < p.RasterNeurons)
                {
                    raster[(long)p.RasterRow * p.RasterNeurons + g] = (byte)(count > 255 ? 255 : count);
                }
            }
        }
    }
}
