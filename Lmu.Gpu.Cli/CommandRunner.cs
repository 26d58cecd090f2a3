namespace Lmu.Gpu.Cli;

/// <summary>Runs a command's body and turns expected failures into a one-line reason and exit code 1.</summary>
internal static class CommandRunner
{
    /// <summary>The exit code of a run stopped by a signal (128 + SIGINT's 2, as a shell reports it).</summary>
    public const int StoppedExitCode = 130;

    /// <summary>Runs <paramref name="body"/>; bad input (argument, format, I/O, device errors) prints
    /// <c>lmu: reason</c> on standard error and returns 1. A run stopped by Ctrl+C or SIGTERM
    /// (<see cref="Training.TrainingStoppedException"/>) prints where it stopped and returns
    /// <see cref="StoppedExitCode"/>.</summary>
    public static int Guard(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Training.TrainingStoppedException e)
        {
            Console.Error.WriteLine($"lmu: {e.Message}");
            return StoppedExitCode;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or IOException or InvalidOperationException
                                      or UnauthorizedAccessException or InvalidDataException or OutOfMemoryException
                                      or NotSupportedException or ILGPU.Runtime.AcceleratorException)
        {
            string message = e.Message;
            if (e is ArgumentException { ParamName: { } name })
            {
                // Drop the " (Parameter 'x')" suffix: the message already says what is wrong.
                message = message.Replace($" (Parameter '{name}')", string.Empty, StringComparison.Ordinal);
            }

            message = message.ReplaceLineEndings(" ");
            Console.Error.WriteLine($"lmu: {message}");
            return 1;
        }
    }
}
