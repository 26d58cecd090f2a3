using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Lmu.Gpu.Cli.SelfTest;

namespace Lmu.Gpu.Cli.Commands;

/// <summary><c>lmu selftest</c>: runs every kernel family on the chosen accelerator against the host double
/// reference and prints a pass/fail table.</summary>
internal static class SelfTestCommand
{
    public static Command Create()
    {
        var accelerator = CommonOptions.Accelerator();
        var command = new Command("selftest",
            "Runs each kernel family on the chosen accelerator against the host double-precision reference and prints " +
            "a pass/fail table (error = max |Δ| / max |reference|). Exit 0 only if every case passes. Sizes are small " +
            "on cpu-sim (a slow simulator) and larger elsewhere.");
        command.Options.Add(accelerator);
        command.SetAction(parse => CommandRunner.Guard(() =>
        {
            using var device = LmuDevice.Open(parse.GetValue(accelerator));
            return Run(device, Console.Out);
        }));
        return command;
    }

    /// <summary>Runs every registered case on <paramref name="device"/>, writes the table, and returns 0 only if all pass.</summary>
    public static int Run(LmuDevice device, TextWriter output)
    {
        var cases = SelfTestRegistry.Cases(device);
        var ci = CultureInfo.InvariantCulture;
        output.WriteLine($"lmu selftest on {device}");
        int nameWidth = Math.Max(4, cases.Max(c => c.Name.Length));
        output.WriteLine(string.Create(ci, $"{"family",-8} {"case".PadRight(nameWidth)} {"error",10} {"tolerance",10} {"time",8}  result"));
        int passed = 0, failed = 0;
        foreach (var test in cases)
        {
            var watch = Stopwatch.StartNew();
            string error, tolerance, verdict;
            try
            {
                var result = test.Run(device);
                error = result.Error.ToString("0.00E+00", ci);
                tolerance = result.Tolerance.ToString("0.00E+00", ci);
                verdict = result.Passed ? "pass" : "FAIL";
            }
            catch (Exception e) when (e is not OutOfMemoryException and not StackOverflowException)
            {
                // One broken case must not hide the others: report it as a failure and go on.
                error = "-";
                tolerance = "-";
                verdict = $"FAIL ({e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")})";
            }

            if (verdict == "pass")
            {
                passed++;
            }
            else
            {
                failed++;
            }

            output.WriteLine(string.Create(ci,
                $"{test.Family,-8} {test.Name.PadRight(nameWidth)} {error,10} {tolerance,10} {watch.Elapsed.TotalSeconds,7:F2}s  {verdict}"));
        }

        output.WriteLine($"{passed} passed, {failed} failed");
        return failed == 0 ? 0 : 1;
    }
}
