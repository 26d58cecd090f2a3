namespace Lmu.Gpu.Cli.Io;

/// <summary>
/// The font of every plot <c>lmu</c> writes: DejaVu Sans 2.37 (Bitstream Vera licence, Fonts/LICENSE-DejaVu.txt),
/// embedded in the executable. On a machine with no fonts installed (containers, the GPU machines the benchmarks run
/// on) SkiaSharp finds no typeface and ScottPlot draws the lines without a single title, label or tick number; with
/// the embedded font the plot is the same everywhere.
/// </summary>
internal static class PlotFont
{
    /// <summary>The family name the font is registered under.</summary>
    public const string Name = "DejaVu Sans";

    private const string Resource = "Lmu.Gpu.Cli.Fonts.DejaVuSans.ttf";

    private static readonly Lazy<string> Registered = new(Register);

    /// <summary>A new plot whose text uses the embedded font (registered with ScottPlot on the first call).</summary>
    /// <returns>The plot.</returns>
    public static ScottPlot.Plot NewPlot()
    {
        _ = Registered.Value;
        return new ScottPlot.Plot();
    }

    /// <summary>The font file ScottPlot reads: the embedded font written once to the temporary folder (ScottPlot loads
    /// fonts from files).</summary>
    internal static string FilePath => Registered.Value;

    private static string Register()
    {
        using var stream = typeof(PlotFont).Assembly.GetManifestResourceStream(Resource)
            ?? throw new InvalidOperationException($"The embedded font '{Resource}' is missing from lmu.");
        string folder = Path.Combine(Path.GetTempPath(), "lmu-fonts");
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, $"DejaVuSans-2.37-{stream.Length}.ttf");
        if (!File.Exists(path) || new FileInfo(path).Length != stream.Length)
        {
            // A private temporary file renamed into place, so that concurrent runs never read a half-written font.
            string temp = Path.Combine(folder, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
            using (var file = File.Create(temp))
            {
                stream.CopyTo(file);
            }

            File.Move(temp, path, overwrite: true);
        }

        ScottPlot.Fonts.AddFontFile(Name, path, bold: false, italic: false);
        ScottPlot.Fonts.AddFontFile(Name, path, bold: true, italic: false);
        ScottPlot.Fonts.Default = Name;
        return path;
    }
}
