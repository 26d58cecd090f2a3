using System.Text;

namespace Lmu.Gpu.Cli.Io;

/// <summary>Writes output files so that a failure leaves no partial file behind: the content goes to a temporary
/// file beside the target, which is renamed over it only once complete.</summary>
internal static class AtomicFile
{
    /// <summary>Writes text through <paramref name="write"/> to <paramref name="path"/> atomically, or, without a path,
    /// to standard output in one piece once it is complete (so a failure part-way prints nothing).</summary>
    public static void WriteTextOrStandardOutput(string? path, Action<TextWriter> write)
    {
        if (string.IsNullOrEmpty(path))
        {
            var buffer = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
            write(buffer);
            Console.Out.Write(buffer.ToString());
            Console.Out.Flush();
        }
        else
        {
            WriteText(path, write);
        }
    }

    /// <summary>Writes text through <paramref name="write"/> to <paramref name="path"/> atomically.</summary>
    public static void WriteText(string path, Action<TextWriter> write)
    {
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full) ?? ".";
        if (!Directory.Exists(directory))
        {
            throw new IOException($"The output directory '{directory}' does not exist.");
        }

        string temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            using (var writer = new StreamWriter(temp, false, new UTF8Encoding(false)))
            {
                write(writer);
            }

            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>Writes bytes produced by <paramref name="write"/> (given a temporary path) to <paramref name="path"/>
    /// atomically; used for images rendered by a library that writes files itself.</summary>
    public static void WriteFile(string path, Action<string> write)
    {
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full) ?? ".";
        if (!Directory.Exists(directory))
        {
            throw new IOException($"The output directory '{directory}' does not exist.");
        }

        string temp = Path.Combine(directory, $".{Path.GetFileNameWithoutExtension(full)}.{Environment.ProcessId}.tmp{Path.GetExtension(full)}");
        try
        {
            write(temp);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }
}
