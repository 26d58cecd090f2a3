namespace Lmu.Gpu.Training;

/// <summary>Training stopped because the loss or the gradients became NaN or infinite.</summary>
public sealed class TrainingDivergedException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public TrainingDivergedException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message.</param>
    public TrainingDivergedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="inner">The cause.</param>
    public TrainingDivergedException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
