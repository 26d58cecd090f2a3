using Lmu.Gpu.Cli.Io;
using Lmu.Gpu.Training;

namespace Lmu.Gpu.Cli.Training;

/// <summary>Writes the learning curve (training loss, and test/validation loss when known, per epoch) as a PNG.</summary>
internal static class LearningCurve
{
    public static void Save(string path, IReadOnlyList<EpochResult> history, string task)
    {
        var plot = PlotFont.NewPlot();
        double[] epochs = history.Select(h => (double)h.Epoch).ToArray();
        var train = plot.Add.Scatter(epochs, history.Select(h => Math.Log10(Math.Max(h.TrainLoss, 1e-12))).ToArray());
        train.LegendText = "training loss";
        if (history.Any(h => !double.IsNaN(h.ValidationLoss)))
        {
            var val = plot.Add.Scatter(epochs, history.Select(h => Math.Log10(Math.Max(h.ValidationLoss, 1e-12))).ToArray());
            val.LegendText = "validation loss";
        }

        plot.Title($"lmu train {task}: learning curve");
        plot.XLabel("epoch");
        plot.YLabel("log10(loss)");
        plot.ShowLegend();
        AtomicFile.WriteFile(path, temp => plot.SavePng(temp, 900, 500));
    }
}
