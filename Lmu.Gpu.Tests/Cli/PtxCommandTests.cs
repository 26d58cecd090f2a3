using NUnit.Framework;

namespace Lmu.Gpu.Tests.Cli;

/// <summary><c>lmu ptx</c>: the PTX of the CUDA kernels without a GPU, and its options' errors.</summary>
[TestFixture]
[NonParallelizable]
public sealed class PtxCommandTests
{
    private string _folder = null!;

    [SetUp]
    public void CreateFolder() => _folder = Directory.CreateTempSubdirectory("lmu-ptx-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    [Test]
    public void ChunkStates_IsWrittenWithItsLaunchBounds()
    {
        var result = CliRunner.Run("ptx", "--kernel", "chunk-states", "--out", _folder);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        string ptx = File.ReadAllText(Path.Combine(_folder, "chunk-states.ptx"));
        Assert.That(ptx, Does.Contain(".target sm_80").And.Contain(".maxntid 256, 1, 1").And.Contain(".minnctapersm 2"));
        Assert.That(ptx, Does.Contain("ld.shared.v4.f32"));
    }

    [Test]
    public void ChunkStates_WithoutBoundAtSide8_HasNoLaunchBounds()
    {
        var result = CliRunner.Run("ptx", "--kernel", "chunk-states", "--side", "8", "--groups-per-sm", "0", "--out", _folder);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        string ptx = File.ReadAllText(Path.Combine(_folder, "chunk-states.ptx"));
        Assert.That(ptx, Does.Not.Contain(".maxntid").And.Not.Contain(".minnctapersm"));
    }

    [Test]
    public void All_WritesOneFilePerKernel()
    {
        var result = CliRunner.Run("ptx", "--out", _folder);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        foreach (string name in KernelPtx.Names)
        {
            Assert.That(File.ReadAllText(Path.Combine(_folder, name + ".ptx")), Does.Contain(".entry"), name);
        }
    }

    [TestCase("fft", "16", "2", "Unknown kernel 'fft'")]
    [TestCase("chunk-states", "32", "2", "--side must be 4, 8 or 16")]
    [TestCase("chunk-states", "16", "9", "--groups-per-sm must be 0")]
    public void Run_ThrowsForBadOptions(string kernel, string side, string groups, string message)
    {
        var result = CliRunner.Run("ptx", "--kernel", kernel, "--side", side, "--groups-per-sm", groups, "--out", _folder);
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Contain(message));
    }
}
