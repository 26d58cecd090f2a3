using System.Diagnostics;
using Lmu.Gpu.Cli;
using Lmu.Gpu.Cli.Training;
using Lmu.Gpu.Training;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Cli;

/// <summary><c>lmu train</c> stopped by a signal: it finishes the current mini-batch, leaves the checkpoint at the last
/// epoch it saved, says so, and exits with 130.</summary>
[TestFixture]
[NonParallelizable]
public sealed class TrainCommandTests
{
    private static TrainSettings Quick => new() { Quick = true, Accelerator = "cpu", Progress = false };

    [Test]
    public void Capacity_ThrowsTrainingStopped_ForACancelledToken_AndLeavesTheCheckpoint()
    {
        using var dir = new TempDirectory();
        string path = dir.File("capacity.lmuw");
        TrainTasks.Capacity(Quick with { SavePath = path, Epochs = 1 }, TextWriter.Null);
        byte[] saved = File.ReadAllBytes(path);

        var e = Assert.Throws<TrainingStoppedException>(() =>
            TrainTasks.Capacity(Quick with { SavePath = path, Cancellation = new CancellationToken(canceled: true) }, TextWriter.Null));
        Assert.Multiple(() =>
        {
            Assert.That(e!.Message, Does.Contain("stopped before its first mini-batch").And.Contain($"--resume '{path}'"));
            Assert.That(File.ReadAllBytes(path), Is.EqualTo(saved), "the checkpoint is untouched");
        });
    }

    [Test]
    public void Capacity_StoppedBeforeAnyEpoch_SaysNothingWasWritten()
    {
        using var dir = new TempDirectory();
        string path = dir.File("never.lmuw");
        var e = Assert.Throws<TrainingStoppedException>(() =>
            TrainTasks.Capacity(Quick with { SavePath = path, Cancellation = new CancellationToken(canceled: true) }, TextWriter.Null));
        Assert.Multiple(() =>
        {
            Assert.That(e!.Message, Does.Contain($"'{path}' was not written"));
            Assert.That(File.Exists(path), Is.False);
        });
    }

    [Test]
    public void Guard_ReturnsTheStoppedExitCode()
    {
        var error = Console.Error;
        using var captured = new StringWriter();
        Console.SetError(captured);
        try
        {
            int exit = CommandRunner.Guard(() => throw new TrainingStoppedException("training stopped in epoch 2"));
            Assert.That(exit, Is.EqualTo(130));
            Assert.That(captured.ToString(), Does.StartWith("lmu: training stopped in epoch 2"));
        }
        finally
        {
            Console.SetError(error);
        }
    }

    /// <summary>The real thing: a separate <c>lmu</c> process gets SIGTERM after its third epoch.</summary>
    [Test]
    [Platform(Exclude = "Win", Reason = "POSIX signals")]
    public void Train_StopsOnSigterm_AfterTheCurrentMiniBatch()
    {
        using var dir = new TempDirectory();
        string path = dir.File("signal.lmuw");
        string lmu = Path.Combine(Path.GetDirectoryName(typeof(Program).Assembly.Location)!, "lmu.dll");
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { lmu, "train", "capacity", "--quick", "--epochs", "100000", "--accelerator", "cpu", "--save", path })
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = new System.Text.StringBuilder();
        var thirdEpoch = new TaskCompletionSource();
        process.ErrorDataReceived += (_, line) =>
        {
            lock (stderr)
            {
                stderr.AppendLine(line.Data);
            }

            if (line.Data?.StartsWith("epoch 3/", StringComparison.Ordinal) == true)
            {
                thirdEpoch.TrySetResult();
            }
        };
        process.BeginErrorReadLine();
        try
        {
            Assert.That(thirdEpoch.Task.Wait(TimeSpan.FromSeconds(120)), Is.True, "the run reached its third epoch");
            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                kill.WaitForExit();
            }

            Assert.That(process.WaitForExit(TimeSpan.FromSeconds(60)), Is.True, "it stopped after the signal");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }

        process.WaitForExit();
        string error;
        lock (stderr)
        {
            error = stderr.ToString();
        }

        using var device = LmuDevice.Open(AcceleratorKind.Cpu);
        using var saved = LmuModel.Load(device, path);
        Assert.Multiple(() =>
        {
            Assert.That(process.ExitCode, Is.EqualTo(CommandRunner.StoppedExitCode));
            Assert.That(error, Does.Contain("SIGTERM: stopping after the current mini-batch"));
            Assert.That(error, Does.Match(@"training stopped in epoch \d+ of 100000 after mini-batch \d of \d"));
            Assert.That(error, Does.Contain($"--resume '{path}' continues from them"));
            Assert.That(stdout.Result, Does.Not.Contain("capacity: test NRMSE"), "no final report");
            Assert.That(saved.ParameterCount, Is.EqualTo(294));
        });
    }
}
