using System.Runtime.Intrinsics;
using ILGPU;
using ILGPU.Runtime;
using Lmu.Gpu;
using Lmu.Gpu.Kernels.Spiking;

namespace Lmu.Spiking;

/// <summary>
/// N independent Poisson neurons at per-neuron rates, each taken from a set of up to 65,536 rate levels (an image's
/// pixel intensities as input spike trains, a population's tuning at fixed inputs): neuron i fires
/// Poisson(rate[level_i]·dt) spikes per step. Each level has its integer threshold table
/// (<see cref="PoissonPopulation.Thresholds"/>), and the words come from the same Philox counters as
/// <see cref="PoissonPopulation"/>'s, so the counts are bit-identical on the host path, ILGPU's CPU simulator and any
/// GPU, and a neuron spikes exactly as in a fixed-rate population at its level's rate with the same seed.
/// </summary>
/// <remarks>Continuous rates can be quantised to levels: 65,536 levels over 0 … r_max put every rate within
/// r_max/131,072 of its level. A neuron costs 2 bytes for its level and 4 for its count.</remarks>
public sealed class PoissonLevelPopulation : NeuronPopulation
{
    /// <summary>Entries per level's threshold table (padded with <see cref="uint.MaxValue"/>).</summary>
    private const int TableStride = 16;

    private readonly uint[] _tables;
    private readonly ushort[] _levels;
    private readonly uint[]? _hostCounts;
    private readonly MemoryBuffer1D<uint, Stride1D.Dense>? _counts;
    private readonly MemoryBuffer1D<uint, Stride1D.Dense>? _deviceTables;
    private readonly MemoryBuffer1D<ushort, Stride1D.Dense>? _deviceLevels;
    private readonly Action<KernelConfig, ArrayView<uint>, ArrayView<uint>, ArrayView<ushort>, long, uint, uint, int, int>? _kernel;

    private PoissonLevelPopulation(LmuDevice device, double[] rates, ushort[] levels, double dt, ulong seed)
        : base(device, levels.Length)
    {
        RatesHz = Array.AsReadOnly(rates);
        Dt = dt;
        Seed = seed;
        _levels = levels;
        _tables = new uint[rates.Length * TableStride];
        Array.Fill(_tables, uint.MaxValue);
        for (int l = 0; l < rates.Length; l++)
        {
            PoissonPopulation.Thresholds(rates[l] * dt).CopyTo(_tables, l * TableStride);
        }

        if (device.IsHost)
        {
            _hostCounts = new uint[levels.Length];
            return;
        }

        var acc = device.Accelerator;
        try
        {
            _counts = acc.Allocate1D<uint>(levels.Length);
            _counts.MemSetToZero();
            _deviceTables = acc.Allocate1D(_tables);
            _deviceLevels = acc.Allocate1D(levels);
        }
        catch
        {
            DisposeBuffers();
            throw;
        }

        _kernel = DeviceKernels.GetOrLoad(acc, NeuronKernels.PoissonLevelsRun,
            a => a.LoadStreamKernel<ArrayView<uint>, ArrayView<uint>, ArrayView<ushort>, long, uint, uint, int, int>(NeuronKernels.PoissonLevelsRun));
    }

    /// <summary>The rate of each level in Hz.</summary>
    public IReadOnlyList<double> RatesHz { get; }

    /// <summary>The time step in seconds.</summary>
    public double Dt { get; }

    /// <summary>The seed.</summary>
    public ulong Seed { get; }

    /// <summary>Creates the population on <paramref name="device"/>, all counts zero.</summary>
    /// <param name="device">The host path or an accelerator.</param>
    /// <param name="ratesHz">The levels' rates in Hz (1 … 65,536 of them), each ≥ 0 with rate·dt ≤
    /// <see cref="PoissonPopulation.MaxMeanPerStep"/>.</param>
    /// <param name="levels">Each neuron's level (an index into <paramref name="ratesHz"/>); one entry per neuron.</param>
    /// <param name="dt">The time step in seconds, in (0, 1].</param>
    /// <param name="seed">The seed.</param>
    /// <returns>The population.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="device"/> is null.</exception>
    /// <exception cref="ArgumentException">There are no rates or more than 65,536, no neurons, or a neuron's level is not
    /// an index of <paramref name="ratesHz"/> (the message names the first).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A rate is negative, NaN or too large for dt, dt is out of range, or
    /// the neurons do not fit the memory.</exception>
    public static PoissonLevelPopulation Create(LmuDevice device, ReadOnlySpan<double> ratesHz, ReadOnlySpan<ushort> levels, double dt = 0.001, ulong seed = 1)
    {
        ArgumentNullException.ThrowIfNull(device);
        SpikingValidation.TimeStep(dt);
        if (ratesHz.IsEmpty || ratesHz.Length > ushort.MaxValue + 1)
        {
            throw new ArgumentException($"Give 1 … 65,536 rate levels, not {ratesHz.Length}.", nameof(ratesHz));
        }

        for (int l = 0; l < ratesHz.Length; l++)
        {
            SpikingValidation.Rate(ratesHz[l], nameof(ratesHz));
            if (ratesHz[l] * dt > PoissonPopulation.MaxMeanPerStep)
            {
                throw new ArgumentOutOfRangeException(nameof(ratesHz), ratesHz[l],
                    $"ratesHz[{l}]·dt = {ratesHz[l] * dt:G4} spikes per step exceeds {PoissonPopulation.MaxMeanPerStep}; use a smaller dt.");
            }
        }

        if (levels.IsEmpty)
        {
            throw new ArgumentException("The population needs at least one neuron (one level per neuron).", nameof(levels));
        }

        CheckLevels(levels, ratesHz.Length);

        SpikingValidation.Neurons(levels.Length, sizeof(uint) + sizeof(ushort), device, nameof(levels));
        return new PoissonLevelPopulation(device, ratesHz.ToArray(), levels.ToArray(), dt, seed);
    }

    /// <summary>Gives every neuron a new level (a new image presented, a new stimulus), for the steps run after this
    /// call; the counts and the step counter go on.</summary>
    /// <param name="levels">Each neuron's level, one per neuron.</param>
    /// <exception cref="ArgumentException"><paramref name="levels"/> does not hold one value per neuron, or a value is not
    /// a level (the message names the first); nothing is changed.</exception>
    /// <exception cref="ObjectDisposedException">The population was disposed.</exception>
    public void SetLevels(ReadOnlySpan<ushort> levels)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (levels.Length != Neurons)
        {
            throw new ArgumentException($"levels holds {levels.Length} values; one per neuron ({Neurons}) was expected.", nameof(levels));
        }

        CheckLevels(levels, RatesHz.Count);
        levels.CopyTo(_levels);
        _deviceLevels?.View.CopyFromCPU(_levels);
    }

    /// <inheritdoc/>
    private protected override void RunDevice(int step0, int steps)
    {
        LaunchSteps((Neurons + 3) / 4, step0, steps, 1L << 34,
            (config, first, n) => _kernel!(config, _counts!.View, _deviceTables!.View, _deviceLevels!.View, Neurons, (uint)Seed, (uint)(Seed >> 32), first, n));
    }

    /// <inheritdoc/>
    private protected override uint[]? HostCounts => _hostCounts;

    private static void CheckLevels(ReadOnlySpan<ushort> levels, int count)
    {
        for (int i = 0; i < levels.Length; i++)
        {
            if (levels[i] >= count)
            {
                throw new ArgumentException($"levels[{i}] = {levels[i]} is not a level: there are {count} rates.", nameof(levels));
            }
        }
    }

    /// <inheritdoc/>
    private protected override MemoryBuffer1D<uint, Stride1D.Dense>? DeviceCounts => _counts;

    /// <inheritdoc/>
    private protected override void DisposeBuffers()
    {
        _counts?.Dispose();
        _deviceTables?.Dispose();
        _deviceLevels?.Dispose();
    }

    /// <summary>The host path: per block of four neurons, one Philox call per step and each word through its neuron's
    /// table (the no-spike test first), on <see cref="HostThreads.Limit"/> threads.</summary>
    private protected override void RunHost(uint step0, int steps)
    {
        uint[] counts = _hostCounts!;
        const int chunkBlocks = 2048;
        long neurons = Neurons;
        long blocks = (neurons + 3) / 4;
        uint k0 = (uint)Seed;
        uint k1 = (uint)(Seed >> 32);
        uint[] tables = _tables;
        ushort[] levels = _levels;
        HostThreads.For((blocks + chunkBlocks - 1) / chunkBlocks, c =>
        {
            // Eight blocks per AVX-512 Philox call where whole, then one block at a time.
            long b1 = Math.Min(blocks, (c + 1) * chunkBlocks);
            Span<int> offsets = stackalloc int[4];
            Span<uint> n = stackalloc uint[4];
            long b = c * chunkBlocks;
            if (PhiloxHost.IsVectorized)
            {
                for (; b + 8 <= b1 && 4 * (b + 8) <= neurons; b += 8)
                {
                    RunVector8(counts, b, step0, steps, k0, k1, tables, levels);
                }
            }

            for (; b < b1; b++)
            {
                int lanes = (int)Math.Min(4, neurons - (4 * b));
                n.Clear();
                for (int w = 0; w < lanes; w++)
                {
                    offsets[w] = levels[(4 * b) + w] * TableStride;
                }

                for (int s = 0; s < steps; s++)
                {
                    var x = Philox4x32.Generate((uint)b, (uint)((ulong)b >> 32), step0 + (uint)s, PhiloxStreams.PoissonPopulation, k0, k1);
                    for (int w = 0; w < lanes; w++)
                    {
                        uint word = x.Word(w);
                        if (word > tables[offsets[w]])
                        {
                            n[w] += PhiloxHost.ThresholdCount(word, tables.AsSpan(offsets[w], TableStride));
                        }
                    }
                }

                for (int w = 0; w < lanes; w++)
                {
                    counts[(4 * b) + w] += n[w];
                }
            }
        });
    }

    /// <summary>Eight blocks (32 neurons) at once: one eight-lane Philox call per step, the no-spike test against each
    /// neuron's first threshold in AVX-512, and the rest of a spiking neuron's table scalar.</summary>
    private static void RunVector8(uint[] counts, long block, uint step0, int steps, uint k0, uint k1, uint[] tables, ushort[] levels)
    {
        PhiloxHost.Blocks8(block, out var lo, out var hi);
        var stream = Vector512.Create((ulong)PhiloxStreams.PoissonPopulation);
        Span<int> offsets = stackalloc int[32];
        Span<ulong> first = stackalloc ulong[32];
        Span<uint> extra = stackalloc uint[32];
        Span<ulong> words = stackalloc ulong[32];
        for (int w = 0; w < 4; w++)
        {
            for (int j = 0; j < 8; j++)
            {
                offsets[(w * 8) + j] = levels[(4 * (block + j)) + w] * TableStride;
                first[(w * 8) + j] = tables[offsets[(w * 8) + j]];
            }
        }

        var t0 = Vector512.Create<ulong>(first[..8]);
        var t1 = Vector512.Create<ulong>(first[8..16]);
        var t2 = Vector512.Create<ulong>(first[16..24]);
        var t3 = Vector512.Create<ulong>(first[24..]);
        Vector512<ulong> n0 = default, n1 = default, n2 = default, n3 = default;
        for (int s = 0; s < steps; s++)
        {
            PhiloxHost.Generate8(lo, hi, Vector512.Create((ulong)(step0 + (uint)s)), stream, k0, k1,
                out var x0, out var x1, out var x2, out var x3);
            var g0 = Vector512.GreaterThan(x0, t0);
            var g1 = Vector512.GreaterThan(x1, t1);
            var g2 = Vector512.GreaterThan(x2, t2);
            var g3 = Vector512.GreaterThan(x3, t3);
            n0 -= g0;
            n1 -= g1;
            n2 -= g2;
            n3 -= g3;
            if (((g0 | g1) | (g2 | g3)) == Vector512<ulong>.Zero)
            {
                continue;
            }

            // A neuron past its first threshold may pass more of its table: those entries one by one.
            x0.CopyTo(words);
            x1.CopyTo(words[8..]);
            x2.CopyTo(words[16..]);
            x3.CopyTo(words[24..]);
            for (int i = 0; i < 32; i++)
            {
                uint word = (uint)words[i];
                if (word > first[i])
                {
                    extra[i] += PhiloxHost.ThresholdCount(word, tables.AsSpan(offsets[i] + 1, TableStride - 1));
                }
            }
        }

        for (int j = 0; j < 8; j++)
        {
            long i = 4 * (block + j);
            counts[i] += (uint)n0.GetElement(j) + extra[j];
            counts[i + 1] += (uint)n1.GetElement(j) + extra[8 + j];
            counts[i + 2] += (uint)n2.GetElement(j) + extra[16 + j];
            counts[i + 3] += (uint)n3.GetElement(j) + extra[24 + j];
        }
    }
}
