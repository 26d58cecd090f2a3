using System.Runtime.InteropServices;

namespace Lmu.Gpu.Cli.Training;

/// <summary>
/// Turns the first Ctrl+C (SIGINT) or SIGTERM during training into a cancellation request, so that
/// <see cref="Lmu.Gpu.Training.LmuModel.Fit"/> stops after its current mini-batch with consistent weights. A second
/// signal ends the process at once, as it would without this handler.
/// </summary>
internal sealed class StopSignal : IDisposable
{
    private readonly CancellationTokenSource _source = new();
    private readonly PosixSignalRegistration[] _registrations;
    private int _signals;

    public StopSignal()
    {
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle),
        ];
    }

    /// <summary>Cancelled by the first signal.</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>The signal that cancelled <see cref="Token"/> (SIGINT or SIGTERM), once it has.</summary>
    public PosixSignal? Received { get; private set; }

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _source.Dispose();
    }

    private void Handle(PosixSignalContext context)
    {
        if (Interlocked.Increment(ref _signals) > 1)
        {
            // The second signal: let the default handling end the process.
            return;
        }

        context.Cancel = true;
        Received = context.Signal;
        Console.Error.WriteLine();
        Console.Error.WriteLine($"lmu: {(context.Signal == PosixSignal.SIGINT ? "Ctrl+C" : context.Signal.ToString())}: stopping after the current mini-batch (send it again to quit at once)");
        _source.Cancel();
    }
}
