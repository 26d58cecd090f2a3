using NUnit.Framework;

namespace Lmu.Gpu.Tests.Spiking;

[NonParallelizable]
public class SpikingCliTests
{
    private static (int Code, string Output) Run(params string[] args)
    {
        var original = Console.Out;
        using var writer = new StringWriter();
        try
        {
            Console.SetOut(writer);
            int code = global::Lmu.Gpu.Cli.Program.BuildRoot().Parse(args).Invoke();
            return (code, writer.ToString());
        }
        finally
        {
            Console.SetOut(original);
        }
    }

    [Test]
    public void BenchNeurons_PrintsOneResultLine()
    {
        var (code, output) = Run("bench", "neurons", "--type", "poisson", "--neurons", "10000", "--steps", "100", "--reps", "3", "--accelerator", "cpu");
        Assert.That(code, Is.EqualTo(0));
        Assert.That(output.Trim(), Does.Match(@"^type=poisson accelerator=cpu neurons=10000 steps=100 median_s=\S+ neuron_updates_per_s=\S+ spikes=\d+$"));
    }

    [Test]
    public void BenchNeurons_Lif_FiresAtTheRequestedRate()
    {
        var (code, output) = Run("bench", "neurons", "--type", "lif", "--neurons", "1000", "--steps", "1000", "--rate", "20", "--reps", "1", "--accelerator", "cpu");
        Assert.That(code, Is.EqualTo(0));
        Assert.That(output, Does.Contain("spikes=20000"));
    }

    [Test]
    public void Spike_PrintsErrorAndWritesPlot()
    {
        string png = Path.Combine(Path.GetTempPath(), $"spike-{Environment.ProcessId}.png");
        try
        {
            var (code, output) = Run("spike", "--order", "2", "--theta", "0.2", "--neurons-per-dim", "200", "--steps", "400",
                "--cutoff", "5", "--accelerator", "cpu", "--plot", png);
            Assert.That(code, Is.EqualTo(0));
            Assert.That(output, Does.Match(@"delay_nrmse=\S+ state_nrmse=\S+ spikes=\d+ seconds=\S+ neuron_updates_per_s=\S+"));
            Assert.That(new FileInfo(png).Length, Is.GreaterThan(1000));
        }
        finally
        {
            File.Delete(png);
        }
    }

    [Test]
    public void Spike_RejectsTauNotAboveDt()
    {
        var (code, _) = Run("spike", "--order", "2", "--theta", "0.2", "--neurons-per-dim", "10", "--steps", "100", "--tau", "0.0005", "--accelerator", "cpu");
        Assert.That(code, Is.EqualTo(1));
    }
}
