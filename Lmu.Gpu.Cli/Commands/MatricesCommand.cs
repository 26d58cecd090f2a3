using System.CommandLine;
using System.Globalization;

namespace Lmu.Gpu.Cli.Commands;

/// <summary><c>lmu matrices</c>: prints Ā (d rows) then B̄ (one row) as CSV with round-trippable doubles.</summary>
internal static class MatricesCommand
{
    public static Command Create()
    {
        var order = CommonOptions.Order();
        var theta = CommonOptions.Theta();
        var dt = CommonOptions.Dt();
        var discretizer = CommonOptions.Discretizer();
        var command = new Command("matrices", "Prints the discrete Ā (d rows) and then B̄ (one row) as CSV, with round-trippable doubles.");
        command.Options.Add(order);
        command.Options.Add(theta);
        command.Options.Add(dt);
        command.Options.Add(discretizer);
        command.SetAction(parse => CommandRunner.Guard(() =>
        {
            var system = LmuSystem.Create(parse.GetValue(order), parse.GetValue(theta), parse.GetValue(dt),
                CommonOptions.ParseDiscretizer(parse.GetValue(discretizer)));
            int d = system.Order;
            var output = Console.Out;
            for (int i = 0; i < d; i++)
            {
                output.WriteLine(FormatRow(system.DiscreteA.Slice(i * d, d)));
            }

            output.WriteLine(FormatRow(system.DiscreteB));
            return 0;
        }));
        return command;
    }

    private static string FormatRow(ReadOnlySpan<double> row)
    {
        var parts = new string[row.Length];
        for (int j = 0; j < row.Length; j++)
        {
            parts[j] = row[j].ToString("R", CultureInfo.InvariantCulture);
        }

        return string.Join(',', parts);
    }
}
