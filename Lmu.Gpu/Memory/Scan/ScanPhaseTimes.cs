using System.Diagnostics;

namespace Lmu.Gpu;

/// <summary>
/// The seconds one device scan spent in each phase (<c>lmu bench memory --phases</c>): A, the chunk end states (with
/// the run's buffer allocations); B, the carries; C, every state of every chunk. Taken by synchronising the device at
/// each phase boundary, so a timed run with phases is a few synchronisations slower than one without.
/// </summary>
/// <param name="Ends">Phase A.</param>
/// <param name="Carries">Phase B.</param>
/// <param name="States">Phase C.</param>
internal readonly record struct ScanPhaseTimes(double Ends, double Carries, double States)
{
    /// <summary>The per-phase medians of several runs.</summary>
    /// <param name="runs">At least one run.</param>
    /// <returns>The medians.</returns>
    /// <exception cref="ArgumentException">No runs.</exception>
    public static ScanPhaseTimes Median(IReadOnlyList<ScanPhaseTimes> runs) =>
        new(Timings.Median(runs.Select(r => r.Ends)), Timings.Median(runs.Select(r => r.Carries)), Timings.Median(runs.Select(r => r.States)));
}
