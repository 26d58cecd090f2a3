using Lmu.Gpu.Cli;
using Lmu.Gpu.Cli.Training;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Training;

/// <summary>The <c>lmu train</c> tasks learn in CI-sized runs (host path), and bad data gives clear errors.</summary>
[TestFixture]
public sealed class TrainTaskTests
{
    private string _dir = null!;

    [OneTimeSetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "lmu-train-tasks-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_dir);
    }

    [OneTimeTearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static TrainSettings Quick => new() { Quick = true, Accelerator = "cpu", Progress = false };

    [Test]
    public void Capacity_Quick_BeatsZeroBaseline()
    {
        var report = TrainTasks.Capacity(Quick, TextWriter.Null);

        // Predicting zero is 100 % NRMSE; require the mean over the five delays below 25 %.
        Assert.That(report.History[^1].TrainLoss, Is.LessThan(report.History[0].TrainLoss));
        Assert.That(report.Metric, Is.LessThan(25));
        Assert.That(report.Summary, Does.StartWith("capacity: test NRMSE"));
    }

    [Test]
    public void Capacity_Resume_StartsFromTheSavedWeights()
    {
        string path = Path.Combine(_dir, "capacity-resume.lmuw");
        var first = TrainTasks.Capacity(Quick with { SavePath = path }, TextWriter.Null);
        var log = new StringWriter();
        var resumed = TrainTasks.Capacity(Quick with { ResumePath = path, Epochs = 1 }, log);

        // The resumed run's first epoch starts where the saved (best-validation) weights left off, far below a fresh
        // first epoch.
        Assert.That(log.ToString(), Does.Contain($"resumed from the weights and optimiser state in '{path}'"));
        Assert.That(resumed.History[0].TrainLoss, Is.LessThan(0.5 * first.History[0].TrainLoss));
    }

    [Test]
    public void Capacity_Patience_StopsEarly_AndPsmnistRefusesIt()
    {
        // Too large a learning rate for the quick task: the validation loss stops improving within the 25 epochs.
        var report = TrainTasks.Capacity(Quick with { LearningRate = 0.3, Patience = 2 }, TextWriter.Null);
        Assert.That(report.History, Has.Count.LessThan(25));
        var e = Assert.Throws<ArgumentException>(() => TrainTasks.Psmnist(Quick with { Patience = 2 }, TextWriter.Null));
        Assert.That(e!.Message, Does.StartWith("--patience"));
    }

    [Test]
    public void Resume_ThrowsForAnotherModelsFile()
    {
        string path = Path.Combine(_dir, "capacity-other.lmuw");
        TrainTasks.Capacity(Quick with { SavePath = path, Epochs = 1 }, TextWriter.Null);
        var e = Assert.Throws<InvalidDataException>(() => TrainTasks.MackeyGlass(Quick with { ResumePath = path, Epochs = 1 }, TextWriter.Null));
        Assert.That(e!.Message, Does.Contain("--resume").And.Contain(path));
    }

    [Test]
    public void MackeyGlass_Quick_BeatsZeroAndCopyBaselines()
    {
        var report = TrainTasks.MackeyGlass(Quick, TextWriter.Null);

        // Predicting zero is 100 %, copying the input ≈ 160 %; require < 60 %.
        Assert.That(report.History[^1].TrainLoss, Is.LessThan(report.History[0].TrainLoss / 5));
        Assert.That(report.Metric, Is.LessThan(60));
        Assert.That(report.Details["copy_nrmse"], Is.GreaterThan(100));
    }

    private string WriteSyntheticIdx(string name, int train, int test)
    {
        // 8×8 images, 3 classes: class c lights up row band c (plus noise). Chance is ≈ 33 %.
        string dir = Path.Combine(_dir, name);
        Directory.CreateDirectory(dir);
        var rng = new Random(3);
        void Write(string prefix, int count)
        {
            var images = new byte[count * 64];
            var labels = new byte[count];
            for (int n = 0; n < count; n++)
            {
                int c = rng.Next(3);
                labels[n] = (byte)c;
                for (int p = 0; p < 64; p++)
                {
                    int band = p / 8 / 3;
                    images[(n * 64) + p] = (byte)Math.Clamp((band == c ? 160 : 40) + rng.Next(-40, 40), 0, 255);
                }
            }

            TaskData.WriteIdx(Path.Combine(dir, $"{prefix}-images-idx3-ubyte"), images, count, 8, 8);
            TaskData.WriteIdx(Path.Combine(dir, $"{prefix}-labels-idx1-ubyte"), labels, count);
        }

        Write("train", train);
        Write("t10k", test);
        return dir;
    }

    [Test]
    public void Psmnist_SyntheticIdx_BeatsChance()
    {
        string dir = WriteSyntheticIdx("synthetic", 300, 90);
        var report = TrainTasks.Psmnist(Quick with { DataDirectory = dir, Epochs = 15, BatchSize = 30, LearningRate = 1e-2 }, TextWriter.Null);
        Assert.That(report.Metric, Is.GreaterThan(60));
    }

    [Test]
    public void Psmnist_SyntheticIdx_Feedforward_BeatsChance()
    {
        string dir = WriteSyntheticIdx("synthetic-ff", 300, 90);
        var report = TrainTasks.Psmnist(Quick with { DataDirectory = dir, Model = "feedforward", Epochs = 10, BatchSize = 30, LearningRate = 1e-2 }, TextWriter.Null);
        Assert.That(report.Metric, Is.GreaterThan(60));
    }

    [Test]
    public void Psmnist_ThrowsNamingMissingDirectory()
    {
        string dir = Path.Combine(_dir, "nope");
        var e = Assert.Throws<DirectoryNotFoundException>(() => TrainTasks.Psmnist(Quick with { DataDirectory = dir }, TextWriter.Null));
        Assert.That(e!.Message, Does.Contain(dir));
    }

    [Test]
    public void Psmnist_ThrowsNamingCorruptIdx()
    {
        string dir = WriteSyntheticIdx("corrupt", 10, 10);
        string images = Path.Combine(dir, "train-images-idx3-ubyte");
        File.WriteAllBytes(images, File.ReadAllBytes(images)[..100]);
        var e = Assert.Throws<InvalidDataException>(() => TrainTasks.Psmnist(Quick with { DataDirectory = dir }, TextWriter.Null));
        Assert.That(e!.Message, Does.Contain(images).And.Contain("truncated"));
    }

    [Test]
    public void Psmnist_ThrowsForLabelOutOfRange()
    {
        string dir = WriteSyntheticIdx("labels", 10, 10);
        var labels = new byte[10];
        labels[4] = 200;
        TaskData.WriteIdx(Path.Combine(dir, "train-labels-idx1-ubyte"), labels, 10);
        var e = Assert.Throws<InvalidDataException>(() => TrainTasks.Psmnist(Quick with { DataDirectory = dir }, TextWriter.Null));
        Assert.That(e!.Message, Does.Contain("label 4 is 200"));
    }

    [Test]
    public void Cli_TrainCapacity_PrintsSummaryAndPlot()
    {
        string plot = Path.Combine(_dir, "curve.png");
        var output = new StringWriter();
        var saved = Console.Out;
        int code;
        try
        {
            Console.SetOut(output);
            code = Program.BuildRoot().Parse(["train", "capacity", "--quick", "--epochs", "3", "--accelerator", "cpu", "--no-progress", "--plot", plot]).Invoke();
        }
        finally
        {
            Console.SetOut(saved);
        }

        Assert.That(code, Is.EqualTo(0));
        Assert.That(output.ToString(), Does.Contain("capacity: test NRMSE"));
        Assert.That(new FileInfo(plot).Length, Is.GreaterThan(1000));
    }

    [Test]
    public void Cli_TrainPsmnist_MissingData_ExitsWithOneLineError()
    {
        var error = new StringWriter();
        var saved = Console.Error;
        int code;
        try
        {
            Console.SetError(error);
            code = Program.BuildRoot().Parse(["train", "psmnist", "--data", Path.Combine(_dir, "missing"), "--accelerator", "cpu"]).Invoke();
        }
        finally
        {
            Console.SetError(saved);
        }

        Assert.That(code, Is.EqualTo(1));
        Assert.That(error.ToString(), Does.StartWith("lmu: ").And.Contain("missing"));
    }
}
