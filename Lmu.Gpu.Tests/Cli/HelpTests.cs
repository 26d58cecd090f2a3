using System.CommandLine;
using Lmu.Gpu.Cli;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Cli;

[TestFixture]
[NonParallelizable]
public class HelpTests
{
    private static IEnumerable<string[]> CommandPaths()
    {
        static IEnumerable<string[]> Walk(Command command, string[] path)
        {
            yield return path;
            foreach (var sub in command.Subcommands)
            {
                foreach (var p in Walk(sub, [.. path, sub.Name]))
                {
                    yield return p;
                }
            }
        }

        return Walk(Program.BuildRoot(), []);
    }

    [TestCaseSource(nameof(CommandPaths))]
    public void EveryCommand_HasHelp(string[] path)
    {
        var result = CliRunner.Run([.. path, "--help"]);
        Assert.That(result.ExitCode, Is.EqualTo(0));
        Assert.That(result.Output, Does.Contain("Usage:"));
    }

    [Test]
    public void ExpectedCommands_AreRegistered()
    {
        var names = Program.BuildRoot().Subcommands.Select(c => c.Name).ToArray();
        Assert.That(names, Is.SupersetOf(new[] { "info", "matrices", "memory", "delay", "selftest" }));
    }

    [Test]
    public void MissingRequiredOption_IsNonZero()
    {
        var result = CliRunner.Run("memory", "--order", "4");
        Assert.That(result.ExitCode, Is.Not.EqualTo(0));
    }
}
