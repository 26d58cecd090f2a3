using NUnit.Framework;

namespace Lmu.Gpu.Tests.Scan;

[TestFixture]
public sealed class ScanValidationTests
{
    [Test]
    public void RunStates_Scan_ThrowsForZeroSteps()
    {
        using var device = LmuDevice.Open(AcceleratorKind.Cpu);
        using var memory = new LinearMemory(device, LmuSystem.Create(4, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => memory.RunStates(ReadOnlySpan<float>.Empty, 0, SequenceMethod.Scan));
    }

    [Test]
    public void RunStates_Scan_ThrowsForNaN()
    {
        using var device = LmuDevice.Open(AcceleratorKind.Cpu);
        using var memory = new LinearMemory(device, LmuSystem.Create(4, 10));
        var input = new float[10];
        input[7] = float.NaN;
        var e = Assert.Throws<ArgumentException>(() => memory.RunStates(input, 10, SequenceMethod.Scan));
        Assert.That(e!.Message, Does.Contain("NaN"));
    }

    [Test]
    public void RunStates_Scan_ThrowsForOutputsThatOverflowAnArray()
    {
        using var device = LmuDevice.Open(AcceleratorKind.Cpu);
        using var memory = new LinearMemory(device, LmuSystem.Create(512, 10), batch: 8);
        var input = new float[8 * 1_000_000];
        Assert.Throws<ArgumentException>(() => memory.RunStates(input, 1_000_000, SequenceMethod.Scan));
    }

    [Test]
    public void RunAdjoint_ThrowsForWrongLengthAndNaN()
    {
        using var device = LmuDevice.Open(AcceleratorKind.Cpu);
        using var memory = new LinearMemory(device, LmuSystem.Create(4, 10));
        Assert.Throws<ArgumentException>(() => memory.RunAdjoint(new float[7], 2));
        var g = new float[8];
        g[3] = float.PositiveInfinity;
        Assert.Throws<ArgumentException>(() => memory.RunAdjoint(g, 2));
    }

    [Test]
    public void ParseMethod_AcceptsNamesAndThrowsForUnknown()
    {
        Assert.That(SequenceMethodParser.ParseMethod(" Scan "), Is.EqualTo(SequenceMethod.Scan));
        Assert.That(SequenceMethodParser.ParseMethod("auto"), Is.EqualTo(SequenceMethod.Auto));
        Assert.That(SequenceMethodParser.ParseMethod("SEQUENTIAL"), Is.EqualTo(SequenceMethod.Sequential));
        Assert.Throws<ArgumentException>(() => SequenceMethodParser.ParseMethod("fft"));
    }
}
