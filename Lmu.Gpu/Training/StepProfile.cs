using System.Diagnostics;

namespace Lmu.Gpu.Training;

/// <summary>
/// Where a training step's time goes: each <see cref="Mark"/> synchronises the backend and adds the time since the
/// previous mark to a label (data upload, each layer's parts, the loss, the optimiser). The synchronisations cost a
/// little on a device, so a profiled step is slightly slower than an unprofiled one; the shares are what it shows.
/// </summary>
internal sealed class StepProfile
{
    private readonly Dictionary<string, double> _seconds = [];
    private readonly List<string> _order = [];
    private Backend? _backend;
    private long _last;

    /// <summary>Training steps profiled.</summary>
    public int Steps { get; private set; }

    /// <summary>Starts a step: synchronises, and the next mark counts from here.</summary>
    /// <param name="backend">The model's backend.</param>
    public void Begin(Backend backend)
    {
        _backend = backend;
        backend.Synchronize();
        _last = Stopwatch.GetTimestamp();
        Steps++;
    }

    /// <summary>Adds the time since the previous mark (or <see cref="Begin"/>) to <paramref name="label"/>, after the
    /// backend has finished what was queued. Does nothing outside a step.</summary>
    /// <param name="label">What ran.</param>
    public void Mark(string label)
    {
        if (_backend is null)
        {
            return;
        }

        _backend.Synchronize();
        long now = Stopwatch.GetTimestamp();
        if (!_seconds.ContainsKey(label))
        {
            _order.Add(label);
            _seconds[label] = 0;
        }

        _seconds[label] += Stopwatch.GetElapsedTime(_last, now).TotalSeconds;
        _last = now;
    }

    /// <summary>Ends a step: later marks are ignored until the next <see cref="Begin"/>.</summary>
    public void End() => _backend = null;

    /// <summary>The mean seconds per step of each label, in the order they were first marked.</summary>
    /// <returns>(label, seconds) pairs.</returns>
    public IReadOnlyList<(string Label, double Seconds)> MeanPerStep() =>
        _order.Select(label => (label, _seconds[label] / Math.Max(1, Steps))).ToList();
}
