using System.Globalization;
using Lmu.Gpu.Cli.Commands;

namespace Lmu.Gpu.Cli.Io;

/// <summary>Renders the delay demo as a PNG with ScottPlot (written atomically).</summary>
internal static class PlotWriter
{
    /// <summary>How many windows θ of the run are drawn (from step 0), so that single cycles stay visible.</summary>
    public const int WindowsShown = 6;

    /// <summary>Checks that a PNG can be written to <paramref name="path"/> before any work is done.</summary>
    /// <exception cref="ArgumentException">The name does not end in .png.</exception>
    /// <exception cref="IOException">The directory does not exist.</exception>
    public static void CheckTarget(string path)
    {
        if (!path.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"--plot: '{path}' must end in .png.");
        }

        string directory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        if (!Directory.Exists(directory))
        {
            throw new IOException($"--plot: the directory '{directory}' does not exist.");
        }
    }

    /// <summary>Draws the first <see cref="WindowsShown"/>·θ steps of input, decoded and true delayed input.</summary>
    public static void Write(string path, DelayDemo.Result result, DelayDemo.Options options)
    {
        int shown = (int)Math.Min(result.Input.Length, Math.Ceiling(WindowsShown * options.Theta));
        var plot = PlotFont.NewPlot();
        var input = plot.Add.Signal(result.Input[..shown]);
        input.LegendText = "input u(t)";
        input.LineWidth = 1;
        var target = plot.Add.Signal(result.Target[..shown]);
        target.LegendText = "true u(t − θ)";
        target.LineWidth = 3;
        var decoded = plot.Add.Signal(Array.ConvertAll(result.Decoded[..shown], x => (double)x));
        decoded.LegendText = "decoded u(t − θ)";
        decoded.LineWidth = 1.5f;
        decoded.LinePattern = ScottPlot.LinePattern.Dashed;
        var ci = CultureInfo.InvariantCulture;
        plot.Title(string.Create(ci,
            $"LMU delay: d = {options.Order}, θ = {options.Theta:G6} steps, NRMSE = {result.Nrmse:F4} (first {shown} of {options.Steps} steps)"));
        plot.XLabel("step t");
        plot.YLabel("signal");
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        AtomicFile.WriteFile(path, temp => plot.SavePng(temp, 1400, 500));
    }
}
