using Lmu.Gpu.Kernels.Memory;

namespace Lmu.Gpu;

/// <summary>The host path of <see cref="LinearMemory"/>: vectorised C# over spans, parallel over the B·k memories.</summary>
internal sealed class HostMemoryEngine : IMemoryEngine
{
    private readonly LmuSystem _system;
    private readonly float[] _a;
    private readonly float[] _aT;
    private readonly Dictionary<(int Length, int Last), ScanPlan> _plans = [];
    private readonly int _batch;
    private readonly float[] _bBar;
    private float[] _states;
    private float[]? _nextStates;
    private float[]? _stepInput;
    private readonly int _order;
    private readonly int _count;
    private readonly int _channels;
    private float[]? _windowImpulse;

    public HostMemoryEngine(LmuSystem system, int batch, int channels)
    {
        _system = system;
        _batch = batch;
        _order = system.Order;
        _a = system.DiscreteASingle();
        _aT = system.DiscreteATransposedSingle();
        _bBar = system.DiscreteBSingle();
        _channels = channels;
        _count = batch * channels;
        _states = new float[(long)_count * _order];
    }

    public void Step(ReadOnlySpan<float> input)
    {
        // Into a second state buffer that then takes the first one's place (no allocation after the first step).
        _nextStates ??= new float[_states.Length];
        if (_count == 1)
        {
            HostMemoryMath.Advance(_aT, _bBar, _states, input[0], _nextStates);
            (_states, _nextStates) = (_nextStates, _states);
            return;
        }

        // All memories as one product (HostStep).
        _stepInput ??= new float[_count];
        input[.._count].CopyTo(_stepInput);
        HostStep.Advance(_aT, _bBar, _states, _nextStates, _stepInput);
        (_states, _nextStates) = (_nextStates, _states);
    }

    public void GetStates(Span<float> destination) => _states.CopyTo(destination);

    public void SetStates(ReadOnlySpan<float> source) => source.CopyTo(_states);

    public unsafe void RunSequential(ReadOnlySpan<float> input, int steps, MemoryOutputMode mode, ReadOnlySpan<float> decoders, int delays, Span<float> output)
    {
        // Spans cannot cross into Parallel.For's delegate; pin them for the duration of the run.
        fixed (float* inputPtr = input)
        fixed (float* decoderPtr = decoders)
        fixed (float* outputPtr = output)
        {
            if (GroupedSequential(_count))
            {
                new HostSequence(_aT, _bBar, _states, _channels, inputPtr, steps, mode, decoderPtr, delays, outputPtr).RunAll(_count);
                return;
            }

            var job = new SequenceJob(this, inputPtr, input.Length, steps, mode, decoderPtr, decoders.Length, delays, outputPtr, output.Length);
            if (_count == 1 || (long)steps * _order * _order < 20_000)
            {
                for (int n = 0; n < _count; n++)
                {
                    job.Run(n);
                }
            }
            else
            {
                HostThreads.For(_count, job.Run);
            }
        }
    }

    /// <summary>Whether a sequential run of <paramref name="memories"/> memories steps them in groups of eight
    /// (<see cref="HostSequence"/>) rather than one at a time: from <see cref="GroupedSequentialMemories"/> on.</summary>
    internal static bool GroupedSequential(int memories) => memories >= GroupedSequentialMemories && !ForceOneAtATime;

    /// <summary>The fewest memories for <see cref="GroupedSequential"/>. Measured side by side on the 2-core AVX-512 VM
    /// (docs/benchmarks/foundation-cpu.md): from three memories on the groups win or tie (1.3–4.1× at d = 16 … 512);
    /// two memories one at a time use both cores, and the groups lost there at d = 16 and 256 (0.65–0.77×).</summary>
    internal const int GroupedSequentialMemories = 3;

    /// <summary>Tests and benchmarks: run sequences one memory at a time (the path before groups).</summary>
    internal static bool ForceOneAtATime { get; set; }

    public int ChooseChunkLength(int steps) => ChooseChunkLength(_order, _count, steps);

    /// <summary>The host's chunk length for an order and B·k memories, without an engine.</summary>
    internal static int ChooseChunkLength(int order, int memories, int steps) =>
        ScanPlan.ChooseChunkLength(steps, memories, order, 16L * HostThreads.Limit);

    /// <summary>For runs that write every step, <see cref="HostAutoRule.PrefersScan(int, int, int, double)"/>; for
    /// final-only runs the scan skips phase C, so <see cref="HostAutoRule.PrefersScan(int, int, int)"/>, and the scan
    /// wherever the window start applies (2·H·d per sequence against the sequential run's 2·T·d²).</summary>
    public bool PrefersScan(int steps, MemoryOutputMode mode) => mode == MemoryOutputMode.FinalOnly
        ? HostAutoRule.PrefersScan(_order, _count, steps) || ScanWindow.For(_system, steps, WindowUse) > 0
        : HostAutoRule.PrefersScan(_order, _count, steps, HostAutoRule.ForwardScanCost);

    /// <summary>As <see cref="PrefersScan(int, MemoryOutputMode)"/> for the adjoint, whose scan does
    /// <see cref="HostAutoRule.AdjointScanCost"/> times the sequential adjoint's work.</summary>
    public bool PrefersAdjointScan(int steps) => HostAutoRule.PrefersScan(_order, _count, steps, HostAutoRule.AdjointScanCost);


    public unsafe void RunScan(ReadOnlySpan<float> input, int steps, MemoryOutputMode mode, ReadOnlySpan<float> decoders, int delays, Span<float> output, int chunkLength)
    {
        // A final-only run where θ ≪ T needs only each sequence's last H inputs (ScanWindow).
        int horizon = mode == MemoryOutputMode.FinalOnly ? ScanWindow.For(_system, steps, WindowUse) : 0;
        if (horizon > 0)
        {
            HostWindow.Final(WindowImpulse(horizon), _order, input, _batch, _channels, steps, _states);
            return;
        }

        var plan = Plan(steps, chunkLength);
        fixed (float* inputPtr = input)
        fixed (float* decoderPtr = decoders)
        fixed (float* outputPtr = output)
        {
            HostScan.Forward(_aT, _bBar, plan, inputPtr, _batch, _channels, _states, mode, decoderPtr, delays, outputPtr);
        }
    }

    public unsafe void RunAdjoint(ReadOnlySpan<float> gradients, int steps, bool scan, int chunkLength, Span<float> lambda, Span<float> inputGradient, Span<float> initialGradient)
    {
        fixed (float* g = gradients)
        fixed (float* l = lambda)
        fixed (float* du = inputGradient)
        fixed (float* dm = initialGradient)
        {
            if (scan)
            {
                HostScan.Adjoint(_a, _bBar, Plan(steps, chunkLength), g, _batch, _channels, l, du, dm);
            }
            else
            {
                HostScan.AdjointSequential(_a, _bBar, g, _batch, _channels, steps, l, du, dm);
            }
        }
    }

    /// <remarks>λ is never held for all T: with no λ span the sequential adjoint chains it through two buffers per
    /// memory, the scan through its per-column scratch.</remarks>
    public void RunInputGradient(ReadOnlySpan<float> gradients, int steps, bool scan, int chunkLength, Span<float> inputGradient, Span<float> initialGradient) =>
        RunAdjoint(gradients, steps, scan, chunkLength, Span<float>.Empty, inputGradient, initialGradient);

    public double[] MeasureStates(ReadOnlySpan<float> input, int steps, bool scan, int chunkLength, int repeats, MemoryOutputMode mode)
    {
        float[] saved = (float[])_states.Clone();
        var output = mode == MemoryOutputMode.FinalOnly ? [] : new float[(long)_count * steps * _order];
        var times = new double[repeats];
        for (int r = -2; r < repeats; r++)
        {
            saved.CopyTo(_states, 0);
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            if (scan)
            {
                RunScan(input, steps, mode, ReadOnlySpan<float>.Empty, 0, output, chunkLength);
            }
            else
            {
                RunSequential(input, steps, mode, ReadOnlySpan<float>.Empty, 0, output);
            }

            if (r >= 0)
            {
                times[r] = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
            }
        }

        saved.CopyTo(_states, 0);
        return times;
    }

    public double[] MeasureAdjoint(ReadOnlySpan<float> gradients, int steps, bool scan, int chunkLength, int repeats)
    {
        var lambda = new float[gradients.Length];
        var inputGradient = new float[(long)_count * steps];
        var initialGradient = new float[_states.Length];
        var times = new double[repeats];
        for (int r = -1; r < repeats; r++)
        {
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            RunAdjoint(gradients, steps, scan, chunkLength, lambda, inputGradient, initialGradient);
            if (r >= 0)
            {
                times[r] = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
            }
        }

        return times;
    }

    public void Dispose()
    {
    }

    /// <summary>Final-only scans take the window start wherever it applies (<see cref="ScanWindowUse.Auto"/>); the
    /// host's all-state runs keep their chained carries, which are a small part of their time.</summary>
    public ScanWindowUse WindowUse { get; set; } = ScanWindowUseParser.FromEnvironment();

    private float[] WindowImpulse(int horizon)
    {
        var cached = _windowImpulse;
        if (cached is null || cached.Length != horizon * _order)
        {
            cached = HostWindow.Reversed(ScanWindow.Impulse(_system, horizon), _order);
            _windowImpulse = cached;
        }

        return cached;
    }

    private ScanPlan Plan(int steps, int chunkLength)
    {
        int length = Math.Min(steps, chunkLength > 0 ? chunkLength : ChooseChunkLength(steps));
        int chunks = (steps + length - 1) / length;
        int last = steps - (chunks - 1) * length;
        lock (_plans)
        {
            if (!_plans.TryGetValue((length, last), out var plan))
            {
                if (_plans.Count > 16)
                {
                    _plans.Clear();
                }

                plan = ScanPlan.Create(_system, steps, length);
                _plans[(length, last)] = plan;
            }

            return plan.ForSteps(steps);
        }
    }

    private sealed unsafe class SequenceJob(
        HostMemoryEngine engine, float* input, int inputLength, int steps, MemoryOutputMode mode,
        float* decoders, int decoderLength, int delays, float* output, long outputLength)
    {
        public void Run(int n)
        {
            int d = engine._order;
            int k = engine._channels;
            int b = n / k;
            int c = n - b * k;
            var inputSpan = new ReadOnlySpan<float>(input, inputLength);
            var decoderSpan = new ReadOnlySpan<float>(decoders, decoderLength);
            var state = engine._states.AsSpan(n * d, d);
            float[] ping = state.ToArray();
            float[] pong = new float[d];
            for (int t = 0; t < steps; t++)
            {
                long row = ((long)b * steps + t) * k + c;
                float u = inputSpan[(int)row];
                if (mode == MemoryOutputMode.AllStates)
                {
                    var dst = new Span<float>(output + row * d, d);
                    var src = t == 0 ? ping : new ReadOnlySpan<float>(output + (row - k) * d, d);
                    HostMemoryMath.Advance(engine._aT, engine._bBar, src, u, dst);
                    if (t == steps - 1)
                    {
                        dst.CopyTo(ping);
                    }
                }
                else
                {
                    HostMemoryMath.Advance(engine._aT, engine._bBar, ping, u, pong);
                    (ping, pong) = (pong, ping);
                    if (mode == MemoryOutputMode.Decoded)
                    {
                        HostMemoryMath.Decode(decoderSpan, delays, ping, new Span<float>(output + row * delays, delays));
                    }
                }
            }

            ping.CopyTo(state);
            _ = outputLength;
        }
    }

    /// <summary>No scratch is kept between runs on the host (each run's buffers are garbage-collected).</summary>
    public void ReleaseScratch()
    {
    }
}
