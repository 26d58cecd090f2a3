using System.Numerics;
using System.Runtime.Intrinsics;
using ILGPU;
using ILGPU.Runtime;
using Lmu.Gpu;
using Lmu.Gpu.Kernels.Spiking;

namespace Lmu.Spiking;

/// <summary>
/// N independent LIF neurons (Nengo's <c>LIF</c>: exact exponential integration, refractory period, sub-step spike
/// timing, voltage floor) driven by constant per-neuron currents. Initial voltages are uniform in [0, 1) from
/// Philox (stream 1), initial refractory times 0.
/// </summary>
/// <remarks>
/// Host path: sixteen neurons per AVX-512 vector; the full-step update <c>v −= (J − v)·expm1(−dt/τ_rc)</c> is vector
/// code and only the lanes that spike, are refractory or hit the floor take the scalar
/// <see cref="SpikeMath.LifStep"/>, which performs the same float operations as the kernel, so the host path and
/// ILGPU's CPU simulator give identical spikes.
/// </remarks>
public sealed class LifPopulation : NeuronPopulation
{
    private const int Chunk = 4096;
    private readonly LifParameters _p;
    private readonly float[]? _v;
    private readonly float[]? _r;
    private readonly float[]? _j;
    private readonly uint[]? _counts;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>? _dv;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>? _dr;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>? _dj;
    private readonly MemoryBuffer1D<uint, Stride1D.Dense>? _dcounts;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<uint>, long, LifParameters, int>? _kernel;

    private LifPopulation(LmuDevice device, long neurons, Func<long, float> current, LifModel model, ulong seed)
        : base(device, neurons)
    {
        Model = model;
        _p = model.Parameters;
        var v = new float[neurons];
        var j = new float[neurons];
        HostThreads.For((neurons + 3) / 4, b =>
        {
            var x = Philox4x32.ForBlock(seed, b, 0, PhiloxStreams.LifInitialVoltage);
            for (int w = 0; w < 4 && 4 * b + w < neurons; w++)
            {
                v[4 * b + w] = SpikeMath.Uniform(x.Word(w));
                j[4 * b + w] = current(4 * b + w);
            }
        });
        if (device.IsHost)
        {
            _v = v;
            _j = j;
            _r = new float[neurons];
            _counts = new uint[neurons];
        }
        else
        {
            var acc = device.Accelerator;
            _dv = acc.Allocate1D(v);
            _dj = acc.Allocate1D(j);
            _dr = acc.Allocate1D<float>(neurons);
            _dr.MemSetToZero();
            _dcounts = acc.Allocate1D<uint>(neurons);
            _dcounts.MemSetToZero();
            _kernel = DeviceKernels.GetOrLoad(acc, NeuronKernels.LifRun, a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<uint>, long, LifParameters, int>(NeuronKernels.LifRun));
        }
    }

    /// <summary>The LIF model.</summary>
    public LifModel Model { get; }

    /// <summary>Creates <paramref name="neurons"/> LIF neurons all driven by <paramref name="current"/>.</summary>
    /// <param name="device">The host path or an accelerator.</param>
    /// <param name="neurons">The number of neurons, ≥ 1.</param>
    /// <param name="current">The input current (finite).</param>
    /// <param name="model">The LIF constants (default: Nengo's, dt = 1 ms).</param>
    /// <param name="seed">The seed of the initial voltages.</param>
    /// <returns>The population.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="device"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The current is NaN or infinite, or the neurons do not fit the
    /// index types or the memory.</exception>
    public static LifPopulation Create(LmuDevice device, long neurons, double current, LifModel? model = null, ulong seed = 1)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (!double.IsFinite(current))
        {
            throw new ArgumentOutOfRangeException(nameof(current), current, "The current must be finite.");
        }

        SpikingValidation.Neurons(neurons, 16, device, nameof(neurons));
        return new LifPopulation(device, neurons, _ => (float)current, model ?? new LifModel(), seed);
    }

    /// <summary>Creates one LIF neuron per entry of <paramref name="currents"/>.</summary>
    /// <param name="device">The host path or an accelerator.</param>
    /// <param name="currents">The input currents (finite), at least one.</param>
    /// <param name="model">The LIF constants (default: Nengo's, dt = 1 ms).</param>
    /// <param name="seed">The seed of the initial voltages.</param>
    /// <returns>The population.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A current is NaN or infinite, or there are none.</exception>
    public static LifPopulation Create(LmuDevice device, float[] currents, LifModel? model = null, ulong seed = 1)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(currents);
        for (int i = 0; i < currents.Length; i++)
        {
            if (!float.IsFinite(currents[i]))
            {
                throw new ArgumentOutOfRangeException(nameof(currents), currents[i], $"Current {i} is not finite.");
            }
        }

        SpikingValidation.Neurons(currents.Length, 16, device, nameof(currents));
        return new LifPopulation(device, currents.Length, i => currents[i], model ?? new LifModel(), seed);
    }

    /// <inheritdoc/>
    private protected override uint[]? HostCounts => _counts;

    /// <inheritdoc/>
    private protected override MemoryBuffer1D<uint, Stride1D.Dense>? DeviceCounts => _dcounts;

    /// <inheritdoc/>
    private protected override void DisposeBuffers()
    {
        _dv?.Dispose();
        _dr?.Dispose();
        _dj?.Dispose();
        _dcounts?.Dispose();
    }

    /// <inheritdoc/>
    private protected override void RunDevice(int step0, int steps)
    {
        LaunchSteps(Neurons, step0, steps, 1L << 33, (config, _, n) => _kernel!(config, _dv!.View, _dr!.View, _dj!.View, _dcounts!.View, Neurons, _p, n));
    }

    /// <inheritdoc/>
    private protected override void RunHost(uint step0, int steps)
    {
        long chunks = (Neurons + Chunk - 1) / Chunk;
        var p = _p;
        float[] v = _v!, r = _r!, j = _j!;
        uint[] counts = _counts!;
        long neurons = Neurons;
        HostThreads.For(chunks, c =>
        {
            long i0 = c * Chunk;
            long i1 = Math.Min(neurons, i0 + Chunk);
            long i = i0;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; i + 16 <= i1; i += 16)
                {
                    RunVector16(v, r, j, counts, (int)i, steps, p);
                }
            }

            for (; i < i1; i++)
            {
                float vi = v[i], ri = r[i];
                uint n = 0;
                for (int s = 0; s < steps; s++)
                {
                    n += SpikeMath.LifStep(ref vi, ref ri, j[i], p);
                }

                v[i] = vi;
                r[i] = ri;
                counts[i] += n;
            }
        });
    }

    private static void RunVector16(float[] v, float[] r, float[] j, uint[] counts, int i, int steps, LifParameters p)
    {
        var vv = Vector512.Create(v.AsSpan(i, 16));
        var rv = Vector512.Create(r.AsSpan(i, 16));
        var jv = Vector512.Create(j.AsSpan(i, 16));
        var dt = Vector512.Create(p.Dt);
        var c = Vector512.Create(p.ExpM1Full);
        var one = Vector512.Create(1f);
        var floor = Vector512.Create(p.MinVoltage);
        Span<uint> n = stackalloc uint[16];
        n.Clear();
        for (int s = 0; s < steps; s++)
        {
            var rNew = rv - dt;
            var full = vv - (jv - vv) * c;
            var special = Vector512.GreaterThan(rNew, Vector512<float>.Zero) | Vector512.GreaterThan(full, one) | Vector512.LessThan(full, floor);
            ulong mask = special.ExtractMostSignificantBits();
            if (mask == 0)
            {
                vv = full;
                rv = Vector512<float>.Zero;
                continue;
            }

            var vOld = vv;
            var rOld = rv;
            vv = full;
            rv = Vector512.Max(rNew, Vector512<float>.Zero);
            while (mask != 0)
            {
                int lane = BitOperations.TrailingZeroCount(mask);
                mask &= mask - 1;
                float vl = vOld.GetElement(lane), rl = rOld.GetElement(lane);
                n[lane] += SpikeMath.LifStep(ref vl, ref rl, jv.GetElement(lane), p);
                vv = vv.WithElement(lane, vl);
                rv = rv.WithElement(lane, rl);
            }
        }

        vv.CopyTo(v.AsSpan(i, 16));
        rv.CopyTo(r.AsSpan(i, 16));
        for (int k = 0; k < 16; k++)
        {
            counts[i + k] += n[k];
        }
    }
}
