using Lmu.Gpu.Cli.Io;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Cli;

/// <summary>The embedded plot font (<see cref="PlotFont"/>): machines without installed fonts (the GPU machines)
/// rendered plots with no text at all before it.</summary>
[TestFixture]
public sealed class PlotFontTests
{
    [Test]
    public void NewPlot_UsesTheEmbeddedFont()
    {
        var plot = PlotFont.NewPlot();
        Assert.That(ScottPlot.Fonts.Default, Is.EqualTo(PlotFont.Name));
        plot.Title("capacity");
        Assert.That(plot.Axes.Title.Label.FontName, Is.EqualTo(PlotFont.Name));
    }

    [Test]
    public void FilePath_HoldsTheEmbeddedTrueTypeFont()
    {
        // The file ScottPlot loads is the resource itself: a TrueType font (version 1.0 tag 00 01 00 00), DejaVu Sans
        // 2.37's 759,720 bytes.
        byte[] bytes = File.ReadAllBytes(PlotFont.FilePath);
        Assert.That(bytes, Has.Length.EqualTo(759_720));
        Assert.That(bytes[..4], Is.EqualTo(new byte[] { 0, 1, 0, 0 }));
    }
}
