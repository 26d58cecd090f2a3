using System.Runtime.Intrinsics;
using ILGPU;
using ILGPU.Runtime;
using Lmu.Gpu;
using Lmu.Gpu.Kernels.Spiking;

namespace Lmu.Spiking;

/// <summary>
/// N independent Poisson neurons at one fixed rate: in each step of length dt, neuron i fires Poisson(rate·dt)
/// spikes, drawn from Philox-4x32-10 keyed by the seed with counter (i / 4, step, stream 0), word i mod 4, through an
/// integer threshold table. The spike counts are therefore bit-identical on the host path, ILGPU's CPU simulator and
/// any GPU, and independent of the launch shape or thread count.
/// </summary>
/// <remarks>
/// The host path runs eight Philox blocks (32 neurons) per AVX-512 instruction stream, all steps of a call with the
/// counts in registers, on all cores; the device path runs one thread per four neurons with all steps in the kernel.
/// </remarks>
public sealed class PoissonPopulation : NeuronPopulation
{
    /// <summary>The largest supported mean count per step, rate·dt: the 16-entry threshold table then covers all
    /// but &lt; 2^−32 of the distribution.</summary>
    public const double MaxMeanPerStep = 2.0;

    private const int ChunkBlocks = 2048;
    private readonly uint[] _thresholds;
    private readonly uint[]? _hostCounts;
    private readonly MemoryBuffer1D<uint, Stride1D.Dense>? _counts;
    private readonly MemoryBuffer1D<uint, Stride1D.Dense>? _table;
    private readonly Action<KernelConfig, ArrayView<uint>, ArrayView<uint>, int, long, uint, uint, int, int>? _kernel;

    private PoissonPopulation(LmuDevice device, long neurons, double rate, double dt, ulong seed)
        : base(device, neurons)
    {
        Rate = rate;
        Dt = dt;
        Seed = seed;
        _thresholds = Thresholds(rate * dt);
        if (device.IsHost)
        {
            _hostCounts = new uint[neurons];
        }
        else
        {
            var acc = device.Accelerator;
            _counts = acc.Allocate1D<uint>(neurons);
            _counts.MemSetToZero();
            _table = acc.Allocate1D(_thresholds);
            _kernel = DeviceKernels.GetOrLoad(acc, NeuronKernels.PoissonRun, a => a.LoadStreamKernel<ArrayView<uint>, ArrayView<uint>, int, long, uint, uint, int, int>(NeuronKernels.PoissonRun));
        }
    }

    /// <summary>The rate in Hz.</summary>
    public double Rate { get; }

    /// <summary>The time step in seconds.</summary>
    public double Dt { get; }

    /// <summary>The seed.</summary>
    public ulong Seed { get; }

    /// <summary>Creates the population on <paramref name="device"/>, all counts zero.</summary>
    /// <param name="device">The host path or an accelerator.</param>
    /// <param name="neurons">The number of neurons, ≥ 1.</param>
    /// <param name="rateHz">The rate in Hz, ≥ 0, with rate·dt ≤ <see cref="MaxMeanPerStep"/>.</param>
    /// <param name="dt">The time step in seconds, in (0, 1].</param>
    /// <param name="seed">The seed.</param>
    /// <returns>The population.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="device"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The rate is negative, NaN or too large for dt, dt is out of range,
    /// or the neurons do not fit the index types or the memory.</exception>
    public static PoissonPopulation Create(LmuDevice device, long neurons, double rateHz, double dt = 0.001, ulong seed = 1)
    {
        ArgumentNullException.ThrowIfNull(device);
        SpikingValidation.Rate(rateHz, nameof(rateHz));
        SpikingValidation.TimeStep(dt);
        if (rateHz * dt > MaxMeanPerStep)
        {
            throw new ArgumentOutOfRangeException(nameof(rateHz), rateHz,
                $"rate·dt = {rateHz * dt:G4} spikes per step exceeds {MaxMeanPerStep}; use a smaller dt.");
        }

        SpikingValidation.Neurons(neurons, sizeof(uint), device, nameof(neurons));
        return new PoissonPopulation(device, neurons, rateHz, dt, seed);
    }

    /// <summary>The integer threshold table of Poisson(<paramref name="mean"/>): entry k is round(CDF(k)·2^32) − 1,
    /// ending before the first entry that rounds to 2^32 (which no word exceeds).</summary>
    /// <param name="mean">The mean count, 0 … <see cref="MaxMeanPerStep"/>.</param>
    /// <returns>The table (at least one entry).</returns>
    /// <exception cref="ArgumentOutOfRangeException">The mean is out of range.</exception>
    public static uint[] Thresholds(double mean)
    {
        if (!(mean >= 0) || mean > MaxMeanPerStep)
        {
            throw new ArgumentOutOfRangeException(nameof(mean), mean, $"The mean must be in [0, {MaxMeanPerStep}].");
        }

        var table = new List<uint>();
        double p = Math.Exp(-mean);
        double cdf = p;
        for (int k = 0; k < 16; k++)
        {
            double scaled = Math.Round(cdf * 4294967296.0);
            if (scaled >= 4294967296.0 || k == 15)
            {
                table.Add(uint.MaxValue);
                break;
            }

            table.Add(scaled < 1 ? 0u : (uint)(scaled - 1));
            p *= mean / (k + 1);
            cdf += p;
        }

        return [.. table];
    }

    /// <inheritdoc/>
    private protected override void RunDevice(int step0, int steps)
    {
        LaunchSteps((Neurons + 3) / 4, step0, steps, 1L << 34,
            (config, first, n) => _kernel!(config, _counts!.View, _table!.View, (int)_table.Length, Neurons, (uint)Seed, (uint)(Seed >> 32), first, n));
    }

    /// <inheritdoc/>
    private protected override uint[]? HostCounts => _hostCounts;

    /// <inheritdoc/>
    private protected override MemoryBuffer1D<uint, Stride1D.Dense>? DeviceCounts => _counts;

    /// <inheritdoc/>
    private protected override void DisposeBuffers()
    {
        _counts?.Dispose();
        _table?.Dispose();
    }

    /// <inheritdoc/>
    private protected override void RunHost(uint step0, int steps)
    {
        uint[] counts = _hostCounts!;
        long blocks = (Neurons + 3) / 4;
        long chunks = (blocks + ChunkBlocks - 1) / ChunkBlocks;
        uint k0 = (uint)Seed;
        uint k1 = (uint)(Seed >> 32);
        uint[] table = _thresholds;
        long neurons = Neurons;
        HostThreads.For(chunks, c =>
        {
            long b0 = c * ChunkBlocks;
            long b1 = Math.Min(blocks, b0 + ChunkBlocks);
            long b = b0;
            if (PhiloxHost.IsVectorized)
            {
                for (; b + 8 <= b1 && 4 * (b + 8) <= neurons; b += 8)
                {
                    RunVector8(counts, b, step0, steps, k0, k1, table);
                }
            }

            for (; b < b1; b++)
            {
                for (int s = 0; s < steps; s++)
                {
                    var x = Philox4x32.Generate((uint)b, (uint)((ulong)b >> 32), step0 + (uint)s, PhiloxStreams.PoissonPopulation, k0, k1);
                    for (int w = 0; w < 4 && 4 * b + w < neurons; w++)
                    {
                        counts[4 * b + w] += PhiloxHost.ThresholdCount(x.Word(w), table);
                    }
                }
            }
        });
    }

    private static void RunVector8(uint[] counts, long block, uint step0, int steps, uint k0, uint k1, uint[] table)
    {
        PhiloxHost.Blocks8(block, out var lo, out var hi);
        var stream = Vector512.Create((ulong)PhiloxStreams.PoissonPopulation);
        var t0 = Vector512.Create((ulong)table[0]);
        Vector512<ulong> n0 = default, n1 = default, n2 = default, n3 = default;
        for (int s = 0; s < steps; s++)
        {
            PhiloxHost.Generate8(lo, hi, Vector512.Create((ulong)(step0 + (uint)s)), stream, k0, k1,
                out var x0, out var x1, out var x2, out var x3);
            var g0 = Vector512.GreaterThan(x0, t0);
            var g1 = Vector512.GreaterThan(x1, t0);
            var g2 = Vector512.GreaterThan(x2, t0);
            var g3 = Vector512.GreaterThan(x3, t0);
            n0 -= g0;
            n1 -= g1;
            n2 -= g2;
            n3 -= g3;
            if (((g0 | g1) | (g2 | g3)) != Vector512<ulong>.Zero)
            {
                for (int k = 1; k < table.Length; k++)
                {
                    var tk = Vector512.Create((ulong)table[k]);
                    n0 -= Vector512.GreaterThan(x0, tk);
                    n1 -= Vector512.GreaterThan(x1, tk);
                    n2 -= Vector512.GreaterThan(x2, tk);
                    n3 -= Vector512.GreaterThan(x3, tk);
                }
            }
        }

        long i = 4 * block;
        for (int j = 0; j < 8; j++)
        {
            counts[i + 4 * j] += (uint)n0.GetElement(j);
            counts[i + 4 * j + 1] += (uint)n1.GetElement(j);
            counts[i + 4 * j + 2] += (uint)n2.GetElement(j);
            counts[i + 4 * j + 3] += (uint)n3.GetElement(j);
        }
    }
}
