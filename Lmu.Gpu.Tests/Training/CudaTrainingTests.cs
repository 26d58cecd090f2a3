using Lmu.Gpu;
using Lmu.Gpu.Tests.Cell;
using Lmu.Gpu.Training;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Training;

/// <summary>The same checks on a CUDA GPU; every test is ignored when no CUDA device is present.</summary>
[TestFixture]
[Category("Cuda")]
public sealed class CudaTrainingTests
{
    private LmuDevice? _cuda;
    private LmuDevice _host = null!;

    [OneTimeSetUp]
    public void SetUp()
    {
        _host = LmuDevice.Open(AcceleratorKind.Cpu);
        try
        {
            _cuda = LmuDevice.Open(AcceleratorKind.Cuda);
        }
        catch (Exception e) when (e is InvalidOperationException or DllNotFoundException or TypeInitializationException or NotSupportedException)
        {
            _cuda = null;
        }
    }

    [OneTimeTearDown]
    public void TearDown()
    {
        _cuda?.Dispose();
        _host.Dispose();
    }

    private LmuDevice Cuda => _cuda ?? throw new IgnoreException("No CUDA device.");

    [Test]
    public void Forward_MatchesDoubleReference_PaperShape_Cuda()
    {
        var o = new LmuCellOptions { InputSize = 1, Units = 212, Order = 256, Theta = 784, HiddenBias = true, MemoryBias = true };
        var w = CellReference.RandomWeights(o, 1);
        float[] x = CellReference.RandomInput(4 * 300, 2);
        using var layer = new LmuCellLayer(Cuda, w, 4);
        float[] h = layer.Run(x, 300);
        var reference = CellReference.Forward(o, CellReference.ToDouble(w.ToFlat()), CellReference.ToDouble(x), 4, 300);
        Assert.That(CellReference.MaxAbsDiff(h, reference.H), Is.LessThan(1e-3));
    }

    [Test]
    public void Gradients_MatchFiniteDifferences_Cuda([Values] GradientCheckTests.Net net) => GradientCheckTests.CheckGradients(Cuda, net, count: 3, steps: 12);

    [Test]
    public void Fit_MatchesHostPath_Cuda()
    {
        var rng = new Random(3);
        int b = 8;
        int t = 50;
        var x = Enumerable.Range(0, b * t).Select(_ => (float)rng.NextDouble()).ToArray();
        var labels = Enumerable.Range(0, b).Select(i => i % 3).ToArray();
        var data = SequenceDataset.ForClassification(x, labels, b, t, 1, 3);
        LmuModel Make(LmuDevice d) => new LmuModel(d, 1, returnSequences: false)
            .AddLmu(new LmuCellOptions { InputSize = 1, Units = 40, Order = 24, Theta = 50, MemoryChannels = 2, TrainableTheta = true, HiddenBias = true })
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 40, Units = 16, Order = 8, Theta = 20, TrainableTheta = true })
            .AddDense(3);
        using var gpu = Make(Cuda);
        using var cpu = Make(_host);
        var options = new FitOptions { Epochs = 3, BatchSize = 4, LearningRate = 1e-3, ClipNorm = 1 };
        gpu.Fit(data, options);
        cpu.Fit(data, options);
        float[] pg = gpu.GetParameters();
        float[] pc = cpu.GetParameters();
        for (int i = 0; i < pg.Length; i++)
        {
            Assert.That(pg[i], Is.EqualTo(pc[i]).Within(1e-3 + (1e-3 * Math.Abs(pc[i]))), $"parameter {i}");
        }
    }
}
