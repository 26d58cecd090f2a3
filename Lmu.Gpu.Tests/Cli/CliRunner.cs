using System.CommandLine;
using Lmu.Gpu.Cli;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Cli;

/// <summary>Runs the <c>lmu</c> command tree in-process with standard output and error captured. Console redirection
/// is process-wide, so every fixture using this is [NonParallelizable].</summary>
internal static class CliRunner
{
    private static readonly object Gate = new();

    public static CliResult Run(params string[] args)
    {
        lock (Gate)
        {
            var oldOut = Console.Out;
            var oldError = Console.Error;
            using var output = new StringWriter();
            using var error = new StringWriter();
            Console.SetOut(output);
            Console.SetError(error);
            try
            {
                var configuration = new InvocationConfiguration { Output = output, Error = error };
                int exit = Program.BuildRoot().Parse(args).Invoke(configuration);
                return new CliResult(exit, output.ToString(), error.ToString());
            }
            finally
            {
                Console.SetOut(oldOut);
                Console.SetError(oldError);
            }
        }
    }
}

internal sealed record CliResult(int ExitCode, string Output, string Error);

/// <summary>A temporary directory removed at dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "lmu-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string Write(string name, string content)
    {
        string path = File(name);
        System.IO.File.WriteAllText(path, content);
        return path;
    }

    public string[] Entries() => Directory.GetFileSystemEntries(Path).Select(System.IO.Path.GetFileName).ToArray()!;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
