using System.Diagnostics;

namespace Lmu.Gpu;

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
