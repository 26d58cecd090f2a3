using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ILGPU;
using ILGPU.Runtime;
using Lmu.Gpu;
using Lmu.Gpu.Kernels.Spiking;

namespace Lmu.Spiking;

/// <summary>
/// A batch of independent spiking LMU memories: order d held by d one-dimensional NEF ensembles of n neurons
/// (m = d·n per LMU), coupled through a lowpass synapse τ with the factorised recurrent transform A' and input
/// transform B' (<see cref="SynapseMapping"/>); weights are never formed as m×m matrices. All LMUs of the batch
/// share the ensemble parameters and have independent spikes.
/// </summary>
/// <remarks>
/// Per step t (e = b·d + i): z ← a·z + (1 − a)·y (filtered decoded spikes), ũ ← a·ũ + (1 − a)·u_t,
/// s ← A'·z + B'·ũ (the represented state, reported as the decoded memory), J = gain·e·s_i/r_i + bias, spikes,
/// y_e = r_i·Σ_k d_k·count_k/dt. With y = s (no spike noise) this is exactly s_t = Ā·s_(t−1) + B̄·u_t for the discrete
/// mapping. Host path: parallel over ensemble chunks with a fixed reduction order (deterministic for any core
/// count); device path: three kernels per step (<see cref="SpikingLmuKernels"/>).
/// </remarks>
public sealed class SpikingLmu
{
    private const int HostChunk = 8192;
    private readonly float[] _gain;
    private readonly float[] _bias;
    private readonly float[] _decoder;
    private readonly float[] _aPrime;
    private readonly float[] _bPrime;

    private SpikingLmu(SpikingLmuOptions options, LmuSystem system, float[] gain, float[] bias, float[] decoder, float[] aPrime, float[] bPrime, double decay)
    {
        Options = options;
        System = system;
        _gain = gain;
        _bias = bias;
        _decoder = decoder;
        _aPrime = aPrime;
        _bPrime = bPrime;
        Decay = decay;
    }

    /// <summary>The configuration.</summary>
    public SpikingLmuOptions Options { get; }

    /// <summary>The (non-spiking) LMU system, ZOH-discretised with the options' θ and dt.</summary>
    public LmuSystem System { get; }

    /// <summary>The synapse decay a = e^(−dt/τ).</summary>
    public double Decay { get; }

    /// <summary>Neurons per LMU, m = d·n.</summary>
    public long NeuronsPerLmu => (long)Options.Order * Options.NeuronsPerDimension;

    /// <summary>All neurons, B·d·n.</summary>
    public long Neurons => NeuronsPerLmu * Options.Batch;

    /// <summary>Validates the options, builds the d ensembles and solves their decoders (host, double).</summary>
    /// <param name="options">The configuration.</param>
    /// <returns>The network.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range: order, θ, dt, τ ≤ 0 or dt ≥ τ, n,
    /// batch, rates, radii, or B·d·n beyond the index types.</exception>
    public static SpikingLmu Create(SpikingLmuOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        SpikingValidation.TimeStep(options.Dt, nameof(options.Dt));
        SpikingValidation.TimeConstant(options.Tau, options.Dt, nameof(options.Tau));
        if (options.NeuronsPerDimension < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.NeuronsPerDimension, "NeuronsPerDimension must be ≥ 1.");
        }

        if (options.Batch < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Batch, "Batch must be ≥ 1.");
        }

        if (!(options.Theta > options.Dt) || double.IsInfinity(options.Theta))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Theta, "θ must be a finite number of seconds > dt.");
        }

        var system = LmuSystem.Create(options.Order, options.Theta, options.Dt);
        int d = options.Order;
        int n = options.NeuronsPerDimension;
        if ((long)d * n > Array.MaxLength || (long)d * n * options.Batch > int.MaxValue * 16L)
        {
            throw new ArgumentOutOfRangeException(nameof(options), (long)d * n * options.Batch, "B·d·n neurons exceed the supported index range.");
        }

        var radii = options.Radii?.ToArray() ?? Enumerable.Repeat(1.0, d).ToArray();
        if (radii.Length != d || radii.Any(r => !(r > 0) || double.IsInfinity(r)))
        {
            throw new ArgumentOutOfRangeException(nameof(options), "Radii must hold d finite numbers > 0.");
        }

        var lif = new LifModel(options.Dt);
        double a = Math.Exp(-options.Dt / options.Tau);
        var aPrime = new float[d * d];
        var bPrime = new float[d];
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++)
            {
                double value = options.Mapping == SynapseMapping.Discrete
                    ? (system.DiscreteA[i * d + j] - (i == j ? a : 0)) / (1 - a)
                    : options.Tau * system.A[i * d + j] / options.Theta + (i == j ? 1 : 0);
                // ensemble i encodes s_i / r_i; the transforms act on the unscaled state
                aPrime[i * d + j] = (float)value;
            }

            bPrime[i] = (float)(options.Mapping == SynapseMapping.Discrete
                ? system.DiscreteB[i] / (1 - a)
                : options.Tau * system.B[i] / options.Theta);
        }

        var gain = new float[d * n];
        var bias = new float[d * n];
        var decoder = new float[d * n];
        for (int i = 0; i < d; i++)
        {
            var ensemble = NefEnsemble.Create(n, options.NeuronType, lif, options.Seed, (long)i * n, options.MaxRateLow,
                options.MaxRateHigh, options.InterceptLow, options.InterceptHigh, options.Regularization);
            for (int k = 0; k < n; k++)
            {
                gain[i * n + k] = (float)(ensemble.Gain[k] / radii[i]);
                bias[i * n + k] = (float)ensemble.Bias[k];
                decoder[i * n + k] = (float)(ensemble.Decoders[k] * radii[i] / options.Dt);
            }
        }

        return new SpikingLmu(options, system, gain, bias, decoder, aPrime, bPrime, a);
    }

    /// <summary>The exact (non-spiking) memory x_t = Ā·x_(t−1) + B̄·u_t in double, for the same input layout.</summary>
    /// <param name="system">The LMU system.</param>
    /// <param name="input">Inputs [t·B + b].</param>
    /// <param name="batch">B.</param>
    /// <returns>States [(t·B + b)·d + i].</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The input length is not a multiple of the batch.</exception>
    public static double[] ExactMemory(LmuSystem system, IReadOnlyList<float> input, int batch)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(input);
        if (batch < 1 || input.Count % batch != 0)
        {
            throw new ArgumentException("The input length must be a multiple of the batch ≥ 1.", nameof(input));
        }

        int d = system.Order;
        int steps = input.Count / batch;
        var result = new double[(long)input.Count * d];
        var x = new double[d];
        var next = new double[d];
        for (int b = 0; b < batch; b++)
        {
            Array.Clear(x);
            for (int t = 0; t < steps; t++)
            {
                double u = input[t * batch + b];
                for (int i = 0; i < d; i++)
                {
                    double acc = system.DiscreteB[i] * u;
                    for (int j = 0; j < d; j++)
                    {
                        acc += system.DiscreteA[i * d + j] * x[j];
                    }

                    next[i] = acc;
                }

                (x, next) = (next, x);
                Array.Copy(x, 0, result, ((long)t * batch + b) * d, d);
            }
        }

        return result;
    }

    /// <summary>The measured radius of each state dimension on an input: max_t,b |x_i| of the exact memory times
    /// <paramref name="margin"/>.</summary>
    /// <param name="system">The LMU system.</param>
    /// <param name="input">Inputs [t·B + b].</param>
    /// <param name="batch">B.</param>
    /// <param name="margin">The factor on the measured maximum, ≥ 1.</param>
    /// <returns>d radii.</returns>
    /// <exception cref="ArgumentException">The input length is not a multiple of the batch, or margin &lt; 1.</exception>
    public static double[] MeasureRadii(LmuSystem system, IReadOnlyList<float> input, int batch, double margin = 1.1)
    {
        if (!(margin >= 1))
        {
            throw new ArgumentException("margin must be ≥ 1.", nameof(margin));
        }

        var states = ExactMemory(system, input, batch);
        int d = system.Order;
        var radii = new double[d];
        for (long k = 0; k < states.Length; k++)
        {
            int i = (int)(k % d);
            radii[i] = Math.Max(radii[i], Math.Abs(states[k]));
        }

        return radii.Select(r => r > 0 ? r * margin : 1.0).ToArray();
    }

    /// <summary>Runs the network from rest on <paramref name="input"/>.</summary>
    /// <param name="device">The host path or an accelerator.</param>
    /// <param name="input">Inputs, step-major [t·B + b]; finite.</param>
    /// <param name="rasterNeurons">How many leading neurons (of LMU 0) to record per step, 0 … 4096.</param>
    /// <returns>The decoded states, raster, spike total and timing.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The input is empty, not a multiple of B, or not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">rasterNeurons is out of range, or the neurons do not fit the memory.</exception>
    public SpikingLmuResult Run(LmuDevice device, float[] input, int rasterNeurons = 0)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(input);
        int batch = Options.Batch;
        if (input.Length == 0 || input.Length % batch != 0)
        {
            throw new ArgumentException("The input must hold T·B values, T ≥ 1.", nameof(input));
        }

        if (input.Any(v => !float.IsFinite(v)))
        {
            throw new ArgumentException("The input must be finite.", nameof(input));
        }

        if (rasterNeurons < 0 || rasterNeurons > 4096)
        {
            throw new ArgumentOutOfRangeException(nameof(rasterNeurons), rasterNeurons, "rasterNeurons must be in 0 … 4096.");
        }

        rasterNeurons = (int)Math.Min(rasterNeurons, Neurons);
        int steps = input.Length / batch;
        long stateBytes = Options.NeuronType switch { NeuronType.Lif => 12, NeuronType.SpikingRectifiedLinear => 8, _ => 4 };
        SpikingValidation.Neurons(Neurons, stateBytes, device);
        return device.IsHost ? RunHost(input, steps, rasterNeurons) : RunDevice(device.Accelerator, input, steps, rasterNeurons);
    }

    private LifParameters LifParameters => new LifModel(Options.Dt).Parameters;

    private float[] InitialVoltages()
    {
        long neurons = Neurons;
        if (!Options.NeuronType.HasVoltage())
        {
            return [];
        }

        var v = new float[neurons];
        {
            HostThreads.For((neurons + 3) / 4, b =>
            {
                var x = Philox4x32.ForBlock(Options.Seed, b, 0, PhiloxStreams.LmuInitialVoltage);
                for (int w = 0; w < 4 && 4 * b + w < neurons; w++)
                {
                    v[4 * b + w] = SpikeMath.Uniform(x.Word(w));
                }
            });
        }

        return v;
    }

    private SpikingLmuResult RunHost(float[] input, int steps, int rasterNeurons)
    {
        int d = Options.Order;
        int n = Options.NeuronsPerDimension;
        int batch = Options.Batch;
        int ensembles = batch * d;
        float a = (float)Decay;
        var lif = LifParameters;
        int type = (int)Options.NeuronType;
        float dt = (float)Options.Dt;
        uint k0 = (uint)Options.Seed, k1 = (uint)(Options.Seed >> 32);
        var voltage = InitialVoltages();
        var refractory = new float[type == 2 ? Neurons : 0];
        var z = new float[ensembles];
        var y = new float[ensembles];
        var uf = new float[ensembles];
        var s = new float[ensembles];
        var states = new float[(long)steps * ensembles];
        var raster = new byte[(long)steps * rasterNeurons];
        int chunksPerEnsemble = (n + HostChunk - 1) / HostChunk;
        int items = ensembles * chunksPerEnsemble;
        var partial = new float[items];
        var spikes = new long[items];
        var watch = Stopwatch.StartNew();
        for (int t = 0; t < steps; t++)
        {
            for (int e = 0; e < ensembles; e++)
            {
                z[e] = a * z[e] + (1f - a) * y[e];
            }

            for (int e = 0; e < ensembles; e++)
            {
                int b = e / d, i = e - b * d;
                float u = a * uf[e] + (1f - a) * input[t * batch + b];
                uf[e] = u;
                float acc = _bPrime[i] * u;
                for (int j = 0; j < d; j++)
                {
                    acc += _aPrime[i * d + j] * z[b * d + j];
                }

                s[e] = acc;
                states[(long)t * ensembles + e] = acc;
            }

            uint step = (uint)t;
            long rasterRow = (long)t * rasterNeurons;
            HostThreads.For(items, item =>
            {
                int e = item / chunksPerEnsemble;
                int i = e % d;
                int c0 = (item - e * chunksPerEnsemble) * HostChunk;
                int c1 = Math.Min(n, c0 + HostChunk);
                long g0 = (long)e * n;
                float se = s[e];
                float sum = 0;
                long count = 0;
                long cached = -1;
                Philox4x32 x = default;
                bool vector = type == 0 && PhiloxHost.IsVectorized && !DisableVectorPath;
                bool regular = type == 3 && Vector512.IsHardwareAccelerated && !DisableVectorPath;
                bool lifVector = type == 2 && Vector512.IsHardwareAccelerated && !DisableVectorPath;
                for (int k = c0; k < c1; k++)
                {
                    long g = g0 + k;
                    if (vector && (g & 31) == 0 && k + 32 <= c1 && g >= rasterNeurons)
                    {
                        PoissonRectifiedLinear32(g, i * n + k, se, dt, step, k0, k1, _gain, _bias, _decoder, ref sum, ref count);
                        k += 31;
                        continue;
                    }

                    if (regular && k + 16 <= c1 && g >= rasterNeurons)
                    {
                        SpikingRectifiedLinear16(voltage, (int)g, i * n + k, se, dt, _gain, _bias, _decoder, ref sum, ref count);
                        k += 15;
                        continue;
                    }

                    if (lifVector && k + 16 <= c1 && g >= rasterNeurons)
                    {
                        Lif16(voltage, refractory, (int)g, i * n + k, se, lif, _gain, _bias, _decoder, ref sum, ref count);
                        k += 15;
                        continue;
                    }

                    long blk = g >> 2;
                    if (blk != cached)
                    {
                        x = Philox4x32.Generate((uint)blk, (uint)((ulong)blk >> 32), step, PhiloxStreams.LmuSpikes, k0, k1);
                        cached = blk;
                    }

                    int w = i * n + k;
                    float current = _gain[w] * se + _bias[w];
                    uint spikesHere;
                    if (type == 2)
                    {
                        spikesHere = SpikeMath.LifStep(ref voltage[g], ref refractory[g], current, lif);
                    }
                    else if (type == 3)
                    {
                        spikesHere = SpikeMath.RegularStep(ref voltage[g], current, dt);
                    }
                    else
                    {
                        float rate = type == 0 ? SpikeMath.RectifiedLinearRate(current) : SpikeMath.LifRate(current, lif.TauRc, lif.TauRef);
                        spikesHere = (uint)SpikeMath.PoissonCount(SpikeMath.Uniform(x.Word((int)(g & 3))), rate * dt);
                    }

                    if (spikesHere != 0)
                    {
                        sum += _decoder[w] * spikesHere;
                        count += spikesHere;
                    }

                    if (g < rasterNeurons)
                    {
                        raster[rasterRow + g] = (byte)Math.Min(spikesHere, 255u);
                    }
                }

                partial[item] = sum;
                spikes[item] += count;
            });
            for (int e = 0; e < ensembles; e++)
            {
                float sum = 0;
                for (int c = 0; c < chunksPerEnsemble; c++)
                {
                    sum += partial[e * chunksPerEnsemble + c];
                }

                y[e] = sum;
            }
        }

        double seconds = watch.Elapsed.TotalSeconds;
        return new SpikingLmuResult(steps, batch, d, states, raster, rasterNeurons, spikes.Sum(), seconds, Neurons);
    }

    /// <summary>Forces the scalar host loop (tests compare it with the vector loop).</summary>
    internal static bool DisableVectorPath { get; set; }

    /// <summary>32 Poisson-ReLU neurons from neuron g (a multiple of 32): one eight-lane Philox call, the words put in
    /// neuron order, currents, rates and the no-spike test in AVX-512, and <see cref="SpikeMath.PoissonCount"/> only
    /// for the few candidate lanes, in neuron order: the same floats and the same sum as the scalar loop.</summary>
    private static void PoissonRectifiedLinear32(long g, int w, float se, float dt, uint step, uint k0, uint k1,
        float[] gain, float[] bias, float[] decoder, ref float sum, ref long count)
    {
        PhiloxHost.Blocks8(g >> 2, out var lo, out var hi);
        PhiloxHost.Generate8(lo, hi, Vector512.Create((ulong)step), Vector512.Create((ulong)PhiloxStreams.LmuSpikes), k0, k1,
            out var x0, out var x1, out var x2, out var x3);
        var pairs01 = x0 | (x1 << 32);
        var pairs23 = x2 | (x3 << 32);
        var first = Avx512F.PermuteVar8x64x2(pairs01, Vector512.Create(0UL, 8, 1, 9, 2, 10, 3, 11), pairs23).AsUInt32();
        var second = Avx512F.PermuteVar8x64x2(pairs01, Vector512.Create(4UL, 12, 5, 13, 6, 14, 7, 15), pairs23).AsUInt32();
        PoissonRectifiedLinear16(first, w, se, dt, gain, bias, decoder, ref sum, ref count);
        PoissonRectifiedLinear16(second, w + 16, se, dt, gain, bias, decoder, ref sum, ref count);
    }

    /// <summary>16 regular spiking neurons from neuron g in AVX-512 (<see cref="SpikeMath.RegularStep"/> lane by lane:
    /// the same multiplies and adds, not fused), the decoded spikes summed in neuron order: the same floats as the
    /// scalar loop.</summary>
    private static void SpikingRectifiedLinear16(float[] voltage, int g, int w, float se, float dt, float[] gain, float[] bias,
        float[] decoder, ref float sum, ref long count)
    {
        var current = (Vector512.Create(new ReadOnlySpan<float>(gain, w, 16)) * Vector512.Create(se)) + Vector512.Create(new ReadOnlySpan<float>(bias, w, 16));
        var v = Vector512.Create(new ReadOnlySpan<float>(voltage, g, 16)) + (Vector512.Max(current, Vector512<float>.Zero) * Vector512.Create(dt));
        var spikes = Vector512.Floor(v);
        (v - spikes).CopyTo(voltage, g);
        ulong mask = Vector512.GreaterThan(spikes, Vector512<float>.Zero).ExtractMostSignificantBits();
        while (mask != 0)
        {
            int lane = global::System.Numerics.BitOperations.TrailingZeroCount(mask);
            mask &= mask - 1;
            float here = spikes.GetElement(lane);
            sum += decoder[w + lane] * here;
            count += (long)here;
        }
    }

    /// <summary>16 LIF neurons from neuron g for one step: the exponential step of every lane in AVX-512, and
    /// <see cref="SpikeMath.LifStep"/> from the old values for the lanes that spike, are refractory or fall below the
    /// floor (as <see cref="LifPopulation"/>'s vector loop), the decoded spikes summed in neuron order: the same floats
    /// as the scalar loop.</summary>
    private static void Lif16(float[] voltage, float[] refractory, int g, int w, float se, LifParameters p, float[] gain, float[] bias,
        float[] decoder, ref float sum, ref long count)
    {
        var current = (Vector512.Create(new ReadOnlySpan<float>(gain, w, 16)) * Vector512.Create(se)) + Vector512.Create(new ReadOnlySpan<float>(bias, w, 16));
        var v = Vector512.Create(new ReadOnlySpan<float>(voltage, g, 16));
        var r = Vector512.Create(new ReadOnlySpan<float>(refractory, g, 16));
        var rNew = r - Vector512.Create(p.Dt);
        var full = v - ((current - v) * Vector512.Create(p.ExpM1Full));
        var special = Vector512.GreaterThan(rNew, Vector512<float>.Zero) | Vector512.GreaterThan(full, Vector512<float>.One)
            | Vector512.LessThan(full, Vector512.Create(p.MinVoltage));
        full.CopyTo(voltage, g);
        Vector512.Max(rNew, Vector512<float>.Zero).CopyTo(refractory, g);
        ulong mask = special.ExtractMostSignificantBits();
        while (mask != 0)
        {
            int lane = global::System.Numerics.BitOperations.TrailingZeroCount(mask);
            mask &= mask - 1;
            float vl = v.GetElement(lane), rl = r.GetElement(lane);
            uint spikes = SpikeMath.LifStep(ref vl, ref rl, current.GetElement(lane), p);
            voltage[g + lane] = vl;
            refractory[g + lane] = rl;
            if (spikes != 0)
            {
                sum += decoder[w + lane] * spikes;
                count += spikes;
            }
        }
    }

    private static void PoissonRectifiedLinear16(Vector512<uint> words, int w, float se, float dt, float[] gain, float[] bias,
        float[] decoder, ref float sum, ref long count)
    {
        var u = Vector512.ConvertToSingle((words >>> 8).AsInt32()) * Vector512.Create(SpikeMath.Inv24);
        var current = Vector512.Create(new ReadOnlySpan<float>(gain, w, 16)) * Vector512.Create(se) + Vector512.Create(new ReadOnlySpan<float>(bias, w, 16));
        var lambda = Vector512.Max(current, Vector512<float>.Zero) * Vector512.Create(dt);
        var candidates = Vector512.GreaterThanOrEqual(u, Vector512<float>.One - lambda) & Vector512.GreaterThan(lambda, Vector512<float>.Zero);
        ulong mask = candidates.ExtractMostSignificantBits();
        while (mask != 0)
        {
            int lane = global::System.Numerics.BitOperations.TrailingZeroCount(mask);
            mask &= mask - 1;
            int spikes = SpikeMath.PoissonCount(u.GetElement(lane), lambda.GetElement(lane));
            if (spikes != 0)
            {
                sum += decoder[w + lane] * spikes;
                count += spikes;
            }
        }
    }

    private SpikingLmuResult RunDevice(Accelerator acc, float[] input, int steps, int rasterNeurons)
    {
        int d = Options.Order;
        int batch = Options.Batch;
        int ensembles = batch * d;
        long neurons = Neurons;
        bool lif = Options.NeuronType == NeuronType.Lif;
        bool voltages = Options.NeuronType.HasVoltage();
        var filter = DeviceKernels.GetOrLoad(acc, SpikingLmuKernels.Filter, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float>(SpikingLmuKernels.Filter));
        var recur = DeviceKernels.GetOrLoad(acc, SpikingLmuKernels.Recur, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>(SpikingLmuKernels.Recur));
        var kernel = DeviceKernels.GetOrLoad(acc, SpikingLmuKernels.Neurons, a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<uint>, ArrayView<float>, ArrayView<float>, ArrayView<byte>, SpikingLmuStepParameters>(SpikingLmuKernels.Neurons));
        using var dInput = acc.Allocate1D(input);
        using var dGain = acc.Allocate1D(_gain);
        using var dBias = acc.Allocate1D(_bias);
        using var dDecoder = acc.Allocate1D(_decoder);
        using var dA = acc.Allocate1D(_aPrime);
        using var dB = acc.Allocate1D(_bPrime);
        using var z = acc.Allocate1D<float>(ensembles);
        using var y = acc.Allocate1D<float>(ensembles);
        using var uf = acc.Allocate1D<float>(ensembles);
        using var s = acc.Allocate1D<float>(ensembles);
        using var history = acc.Allocate1D<float>((long)steps * ensembles);
        using var counts = acc.Allocate1D<uint>(neurons);
        using var voltage = acc.Allocate1D(voltages ? InitialVoltages() : new float[1]);
        using var refractory = acc.Allocate1D<float>(lif ? neurons : 1);
        using var raster = acc.Allocate1D<byte>(Math.Max(1, (long)steps * rasterNeurons));
        foreach (var buffer in new[] { z, y, uf, s })
        {
            buffer.MemSetToZero();
        }

        counts.MemSetToZero();
        refractory.MemSetToZero();
        long blocks = (neurons + 3) / 4;
        int group = Math.Min(acc.MaxNumThreadsPerGroup, 256);
        long maxGroups = Math.Max(1, (long)acc.NumMultiprocessors * Math.Max(1, acc.MaxNumThreadsPerMultiprocessor / group) * 8);
        var config = new KernelConfig((int)Math.Min((blocks + group - 1) / group, maxGroups), group);
        var lifParameters = LifParameters;
        float a = (float)Decay;
        acc.Synchronize();
        var watch = Stopwatch.StartNew();
        for (int t = 0; t < steps; t++)
        {
            filter(ensembles, z.View, y.View, a);
            recur(ensembles, z.View, uf.View, s.View, dInput.View.SubView((long)t * batch, batch), dA.View, dB.View,
                history.View.SubView((long)t * ensembles, ensembles), d, a);
            var p = new SpikingLmuStepParameters(neurons, Options.NeuronsPerDimension, d, (int)Options.NeuronType, (float)Options.Dt,
                lifParameters, (uint)Options.Seed, (uint)(Options.Seed >> 32), (uint)t, rasterNeurons, t);
            kernel(config, s.View, dGain.View, dBias.View, dDecoder.View, y.View, counts.View, voltage.View, refractory.View, raster.View, p);
        }

        acc.Synchronize();
        double seconds = watch.Elapsed.TotalSeconds;
        var total = counts.GetAsArray1D().Sum(c => (long)c);
        var raw = raster.GetAsArray1D();
        return new SpikingLmuResult(steps, batch, d, history.GetAsArray1D(), rasterNeurons == 0 ? [] : raw, rasterNeurons, total, seconds, neurons);
    }
}
