namespace Lmu.Gpu.Cli.Training;

/// <summary>A <c>lmu train</c> task was stopped between mini-batches (<see cref="TrainSettings.Cancellation"/>); the
/// message says where, and what the checkpoint file holds.</summary>
public sealed class TrainingStoppedException : OperationCanceledException
{
    /// <summary>Creates the exception.</summary>
    public TrainingStoppedException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Where training stopped.</param>
    public TrainingStoppedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Where training stopped.</param>
    /// <param name="inner">The cancellation.</param>
    public TrainingStoppedException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
