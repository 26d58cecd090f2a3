using ILGPU;

namespace Lmu.Gpu.Kernels.Spiking;

/// <summary>
/// Kernels for independent neuron populations. Explicitly grouped with a grid-stride loop over long indices, so
/// any launch shape gives the same result; all steps of a launch run inside the kernel (the neurons do not
/// interact), with the per-neuron state in registers.
/// </summary>
public static class NeuronKernels
{
    /// <summary>Fixed-rate Poisson neurons: thread per block of four neurons; for each of <paramref name="steps"/>
    /// steps from <paramref name="step0"/>, one Philox call gives the four neurons' words, turned into counts by the
    /// integer threshold table. The counts are added to <paramref name="counts"/>.</summary>
    /// <param name="counts">Spike counts per neuron (length ≥ <paramref name="neurons"/>), accumulated.</param>
    /// <param name="thresholds">The Poisson threshold table (see <see cref="SpikeMath.ThresholdCount"/>).</param>
    /// <param name="thresholdCount">Valid entries in the table (≥ 1).</param>
    /// <param name="neurons">The number of neurons.</param>
    /// <param name="seedLow">Seed bits 0–31.</param>
    /// <param name="seedHigh">Seed bits 32–63.</param>
    /// <param name="step0">The first step.</param>
    /// <param name="steps">The number of steps.</param>
    public static void PoissonRun(ArrayView<uint> counts, ArrayView<uint> thresholds, int thresholdCount, long neurons,
        uint seedLow, uint seedHigh, int step0, int steps)
    {
        long blocks = (neurons + 3) / 4;
        long stride = (long)Grid.DimX * Group.DimX;
        uint t0 = thresholds[0];
        for (long b = Grid.GlobalIndex.X; b < blocks; b += stride)
        {
            uint n0 = 0, n1 = 0, n2 = 0, n3 = 0;
            uint lo = (uint)b;
            uint hi = (uint)((ulong)b >> 32);
            for (int s = 0; s < steps; s++)
            {
                var x = Philox4x32.Generate(lo, hi, (uint)(step0 + s), PhiloxStreams.PoissonPopulation, seedLow, seedHigh);
                n0 += SpikeMath.ThresholdCount(x.X0, t0, thresholds, thresholdCount);
                n1 += SpikeMath.ThresholdCount(x.X1, t0, thresholds, thresholdCount);
                n2 += SpikeMath.ThresholdCount(x.X2, t0, thresholds, thresholdCount);
                n3 += SpikeMath.ThresholdCount(x.X3, t0, thresholds, thresholdCount);
            }

            AddBlockCounts(counts, 4 * b, neurons, n0, n1, n2, n3);
        }
    }

    /// <summary>Poisson neurons at per-neuron rates from a set of levels: as <see cref="PoissonRun"/>, with neuron i's
    /// words turned into counts by the threshold table of its level, <c>tables[levels[i]·16 …]</c> (16 entries per
    /// level, padded with <see cref="uint.MaxValue"/>). The same Philox counters as <see cref="PoissonRun"/>, so a neuron
    /// spikes as a fixed-rate population at its level's rate would.</summary>
    /// <param name="counts">Spike counts per neuron, accumulated.</param>
    /// <param name="tables">The levels' threshold tables, 16 entries each.</param>
    /// <param name="levels">Each neuron's level.</param>
    /// <param name="neurons">The number of neurons.</param>
    /// <param name="seedLow">Seed bits 0–31.</param>
    /// <param name="seedHigh">Seed bits 32–63.</param>
    /// <param name="step0">The first step.</param>
    /// <param name="steps">The number of steps.</param>
    public static void PoissonLevelsRun(ArrayView<uint> counts, ArrayView<uint> tables, ArrayView<ushort> levels, long neurons,
        uint seedLow, uint seedHigh, int step0, int steps)
    {
        long blocks = (neurons + 3) / 4;
        long stride = (long)Grid.DimX * Group.DimX;
        for (long b = Grid.GlobalIndex.X; b < blocks; b += stride)
        {
            long i = 4 * b;
            var t0 = tables.SubView(levels[i] * 16L, 16);
            var t1 = tables.SubView((i + 1 < neurons ? levels[i + 1] : 0) * 16L, 16);
            var t2 = tables.SubView((i + 2 < neurons ? levels[i + 2] : 0) * 16L, 16);
            var t3 = tables.SubView((i + 3 < neurons ? levels[i + 3] : 0) * 16L, 16);
            uint n0 = 0, n1 = 0, n2 = 0, n3 = 0;
            uint lo = (uint)b;
            uint hi = (uint)((ulong)b >> 32);
            for (int s = 0; s < steps; s++)
            {
                var x = Philox4x32.Generate(lo, hi, (uint)(step0 + s), PhiloxStreams.PoissonPopulation, seedLow, seedHigh);
                n0 += SpikeMath.ThresholdCount(x.X0, t0[0], t0, 16);
                n1 += SpikeMath.ThresholdCount(x.X1, t1[0], t1, 16);
                n2 += SpikeMath.ThresholdCount(x.X2, t2[0], t2, 16);
                n3 += SpikeMath.ThresholdCount(x.X3, t3[0], t3, 16);
            }

            AddBlockCounts(counts, i, neurons, n0, n1, n2, n3);
        }
    }

    /// <summary>Adds a block's four counts to neurons <paramref name="i"/> … <paramref name="i"/> + 3, those that exist.</summary>
    /// <param name="counts">Spike counts per neuron.</param>
    /// <param name="i">The block's first neuron.</param>
    /// <param name="neurons">The number of neurons.</param>
    /// <param name="n0">The first neuron's spikes.</param>
    /// <param name="n1">The second's.</param>
    /// <param name="n2">The third's.</param>
    /// <param name="n3">The fourth's.</param>
    private static void AddBlockCounts(ArrayView<uint> counts, long i, long neurons, uint n0, uint n1, uint n2, uint n3)
    {
        counts[i] += n0;
        if (i + 1 < neurons)
        {
            counts[i + 1] += n1;
        }

        if (i + 2 < neurons)
        {
            counts[i + 2] += n2;
        }

        if (i + 3 < neurons)
        {
            counts[i + 3] += n3;
        }
    }

    /// <summary>LIF neurons with constant input currents: thread per neuron, <paramref name="steps"/> steps of
    /// <see cref="SpikeMath.LifStep"/> in registers; spikes are added to <paramref name="counts"/>.</summary>
    /// <param name="voltage">Voltages, updated.</param>
    /// <param name="refractory">Remaining refractory times, updated.</param>
    /// <param name="current">Input currents.</param>
    /// <param name="counts">Spike counts, accumulated.</param>
    /// <param name="neurons">The number of neurons.</param>
    /// <param name="parameters">The LIF constants.</param>
    /// <param name="steps">The number of steps.</param>
    public static void LifRun(ArrayView<float> voltage, ArrayView<float> refractory, ArrayView<float> current,
        ArrayView<uint> counts, long neurons, LifParameters parameters, int steps)
    {
        long stride = (long)Grid.DimX * Group.DimX;
        for (long i = Grid.GlobalIndex.X; i < neurons; i += stride)
        {
            float v = voltage[i];
            float r = refractory[i];
            float j = current[i];
            uint n = 0;
            for (int s = 0; s < steps; s++)
            {
                n += SpikeMath.LifStep(ref v, ref r, j, parameters);
            }

            voltage[i] = v;
            refractory[i] = r;
            counts[i] += n;
        }
    }
}
