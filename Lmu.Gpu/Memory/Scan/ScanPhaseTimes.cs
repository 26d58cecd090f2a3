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

/// <summary>A stopwatch over a device's phases: each <see cref="Lap"/> synchronises the device first, so that it
/// measures the work queued since the previous lap.</summary>
/// <param name="synchronize">Waits for the device.</param>
internal sealed class ScanPhaseClock(Action synchronize)
{
    private long _last;

    /// <summary>Waits for the device and starts timing.</summary>
    public void Start()
    {
        synchronize();
        _last = Stopwatch.GetTimestamp();
    }

    /// <summary>Waits for the device.</summary>
    /// <returns>Seconds since the previous lap (or <see cref="Start"/>).</returns>
    public double Lap()
    {
        synchronize();
        long now = Stopwatch.GetTimestamp();
        double seconds = Stopwatch.GetElapsedTime(_last, now).TotalSeconds;
        _last = now;
        return seconds;
    }
}
