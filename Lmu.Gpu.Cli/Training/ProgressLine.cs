using System.Globalization;
using Lmu.Gpu.Training;

namespace Lmu.Gpu.Cli.Training;

/// <summary>A live one-line progress display on standard error (carriage return, at most 10 updates a second);
/// when standard error is redirected it prints one line per epoch instead.</summary>
internal sealed class ProgressLine : IDisposable
{
    private readonly bool _enabled;
    private readonly bool _interactive;
    private DateTime _last = DateTime.MinValue;
    private int _lastEpochPrinted;
    private int _width;

    public ProgressLine(bool enabled)
    {
        _enabled = enabled;
        _interactive = !Console.IsErrorRedirected;
    }

    public void Report(TrainingProgress p)
    {
        if (!_enabled)
        {
            return;
        }

        bool epochEnd = p.Batch == p.Batches;
        string line = string.Create(CultureInfo.InvariantCulture,
            $"epoch {p.Epoch}/{p.Epochs} batch {p.Batch}/{p.Batches}  loss {p.Loss:G4}{(double.IsNaN(p.Accuracy) ? string.Empty : $"  acc {100 * p.Accuracy:F1} %")}  {p.SequencesPerSecond:F1} seq/s  elapsed {Format(p.Elapsed)}  left {Format(p.Remaining)}");
        if (_interactive)
        {
            if (!epochEnd && (DateTime.UtcNow - _last).TotalMilliseconds < 100)
            {
                return;
            }

            _last = DateTime.UtcNow;
            Console.Error.Write("\r" + line.PadRight(_width));
            _width = line.Length;
        }
        else if (epochEnd && p.Epoch != _lastEpochPrinted)
        {
            _lastEpochPrinted = p.Epoch;
            Console.Error.WriteLine(line);
        }
    }

    public void Done()
    {
        if (_enabled && _interactive && _width > 0)
        {
            Console.Error.WriteLine();
            _width = 0;
        }
    }

    public void Dispose() => Done();

    private static string Format(TimeSpan t) => t.TotalHours >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours}:{t.Minutes:D2}:{t.Seconds:D2}")
        : string.Create(CultureInfo.InvariantCulture, $"{t.Minutes:D2}:{t.Seconds:D2}");
}
