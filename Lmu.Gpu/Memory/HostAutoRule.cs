namespace Lmu.Gpu;

/// <summary>
/// The host path's <see cref="SequenceMethod.Auto"/> rule: whether a run of n = B·k memories of order d over T steps
/// takes the chunked scan (<see cref="HostScan"/>) or the sequential run (<see cref="HostSequence"/>, or one memory at a
/// time below three memories). Measured on the 2-core AVX-512 development VM; see docs/benchmarks/scan-cpu.md.
/// </summary>
internal static class HostAutoRule
{
    /// <summary>The host's <see cref="SequenceMethod.Auto"/> rule for runs that write every step (all states, decoded
    /// outputs, the adjoint) on this machine's cores, without an engine.</summary>
    /// <param name="order">d.</param>
    /// <param name="memories">n = B·k.</param>
    /// <param name="steps">T.</param>
    /// <param name="scanCost"><see cref="ForwardScanCost"/> or <see cref="AdjointScanCost"/>.</param>
    internal static bool PrefersScan(int order, int memories, int steps, double scanCost) =>
        PrefersScan(order, memories, steps, scanCost, HostThreads.Limit);

    /// <summary>
    /// The rule for <paramref name="processors"/> cores. Where the sequential run steps its memories in groups of eight
    /// (<see cref="HostMemoryEngine.GroupedSequential"/>) and the run is long enough to go parallel, both methods spend their time in the
    /// same eight-column product, and the rule compares how many group steps each core makes
    /// (<see cref="GroupSteps"/>). Smaller runs, and one or two memories (stepped one at a time), keep the measured
    /// thresholds of <see cref="PrefersScan(int, int, int)"/>, which take this machine's core count.
    /// </summary>
    /// <param name="order">d.</param>
    /// <param name="memories">n = B·k.</param>
    /// <param name="steps">T.</param>
    /// <param name="scanCost"><see cref="ForwardScanCost"/> or <see cref="AdjointScanCost"/>.</param>
    /// <param name="processors">P.</param>
    internal static bool PrefersScan(int order, int memories, int steps, double scanCost, int processors)
    {
        if (HostMemoryEngine.GroupedSequential(memories) && steps >= MinimumLockStepSteps
            && (long)steps * memories * order * order >= HostSequence.ParallelWork)
        {
            var (sequential, scan) = GroupSteps(order, memories, steps, scanCost, processors);
            return scan < sequential;
        }

        return PrefersScan(order, memories, steps);
    }

    /// <summary>The scan's work per column step against the grouped sequential run's, forward: the same product (phases
    /// A and B add about 1/d and C/T of it, within the spread of the measurements).</summary>
    internal const double ForwardScanCost = 1.0;

    /// <summary>The same for the adjoint scan, which runs every chunk twice (from zero, then from its carry): measured
    /// 1.5–2.0× the grouped sequential adjoint's time where both keep the cores busy (docs/benchmarks/scan-cpu.md).</summary>
    internal const double AdjointScanCost = 2.0;

    /// <summary>
    /// Group steps per core (one group step: eight memories, or eight chunks, advanced by one step) of the grouped
    /// sequential run, ⌈G/P⌉·T with G = ⌈n/8⌉ groups on one core each, and of the scan,
    /// cost·⌈⌈n·C/8⌉/P⌉·L with its n·C chunks of L steps (its chunk rule) in groups of eight. From one full group per
    /// core on the scan has nothing left to gain and its extra passes only cost; with fewer groups than cores, or
    /// groups that leave a core idle, its chunks spread the work.
    /// </summary>
    /// <param name="order">d.</param>
    /// <param name="memories">n = B·k.</param>
    /// <param name="steps">T.</param>
    /// <param name="scanCost">The scan's work per column step relative to the sequential run's.</param>
    /// <param name="processors">P.</param>
    internal static (double Sequential, double Scan) GroupSteps(int order, int memories, int steps, double scanCost, int processors)
    {
        long groups = Ceiling(memories, HostSequence.Width);
        int length = Math.Min(steps, ScanPlan.ChooseChunkLength(steps, memories, order, 16L * processors));
        long chunkGroups = Ceiling((long)memories * Ceiling(steps, length), HostSequence.Width);
        return ((double)Ceiling(groups, processors) * steps, scanCost * Ceiling(chunkGroups, processors) * length);
    }

    private static long Ceiling(long value, long by) => (value + by - 1) / by;

    /// <summary>The host's rule against the sequential run one memory at a time, and for runs too small for
    /// <see cref="GroupSteps"/>; final-only runs (without the window) take it too.</summary>
    internal static bool PrefersScan(int order, int memories, int steps)
    {
        // Measured on a 2-core AVX-512 Xeon (docs/benchmarks/scan-cpu.md): the scan wins once there are a few
        // chunks per core; below that the sequential loop has less overhead. From d = 128 and eight memories on, the
        // scan's phase C — eight memories stepped in lock step, each vector of Āᵀ loaded once for all eight — beats
        // the one-memory-at-a-time loop even with one or two chunks per sequence (d = 256, B = 8…64, T = 64…4,000:
        // 1.3–2.0× forward, 1.2–1.7× adjoint); at d = 64 the adjoint does not gain there, so smaller orders keep the
        // first rule.
        int length = HostMemoryEngine.ChooseChunkLength(order, memories, steps);
        long columns = (long)memories * ((steps + length - 1) / length);
        bool manyChunks = steps >= 4 * length && columns >= 4L * HostThreads.Limit;
        bool lockStep = order >= MinimumLockStepOrder && memories >= MinimumLockStepMemories && steps >= MinimumLockStepSteps;
        return manyChunks || lockStep;
    }

    /// <summary>The smallest order at which <see cref="PrefersScan(int, int, int)"/> takes the scan for its lock-step phase C alone.</summary>
    internal const int MinimumLockStepOrder = 128;

    /// <summary>The fewest memories (B·k) for that rule: one lock-step group of eight.</summary>
    internal const int MinimumLockStepMemories = 8;

    /// <summary>The fewest steps for that rule (at d = 256, B = 8, T = 16 the sequential loop still won).</summary>
    internal const int MinimumLockStepSteps = 64;
}
