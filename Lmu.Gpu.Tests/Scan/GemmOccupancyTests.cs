using ILGPU.Runtime;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Scan;

/// <summary>The launch bounds of the matrix-product phase C (<see cref="GemmOccupancy"/>); that they reach the PTX is
/// checked in <c>KernelPtxTests</c>.</summary>
[TestFixture]
public sealed class GemmOccupancyTests
{
    [TestCase("0", 0)]
    [TestCase(" 2 ", 2)]
    [TestCase("8", 8)]
    public void Parse_ReadsGroupCounts(string value, int expected) => Assert.That(GemmOccupancy.Parse(value), Is.EqualTo(expected));

    [TestCase("9")]
    [TestCase("-1")]
    [TestCase("two")]
    [TestCase("")]
    public void Parse_ThrowsForValuesOutsideZeroToEight(string value) =>
        Assert.That(() => GemmOccupancy.Parse(value), Throws.ArgumentException.With.Message.Contains(GemmOccupancy.Variable));

    [Test]
    public void For_BoundsCudaOnly()
    {
        var cuda = GemmOccupancy.For(AcceleratorType.Cuda, 16, 2);
        Assert.That(cuda.MaxNumThreadsPerGroup, Is.EqualTo(256));
        Assert.That(cuda.MinNumGroupsPerMultiprocessor, Is.EqualTo(2));
        Assert.That(GemmOccupancy.For(AcceleratorType.Cuda, 16, 0), Is.EqualTo(KernelSpecialization.Empty));
        Assert.That(GemmOccupancy.For(AcceleratorType.CPU, 4, 2), Is.EqualTo(KernelSpecialization.Empty));
        Assert.That(GemmOccupancy.For(AcceleratorType.OpenCL, 16, 2), Is.EqualTo(KernelSpecialization.Empty));
    }
}
