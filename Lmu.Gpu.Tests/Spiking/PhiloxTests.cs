using System.Runtime.Intrinsics;
using Lmu.Gpu.Kernels.Spiking;
using Lmu.Spiking;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Spiking;

public class PhiloxTests
{
    [Test]
    public void Philox4x32_10_MatchesRandom123KnownAnswer()
    {
        var x = Philox4x32.Generate(0, 0, 0, 0, 0, 0);
        Assert.That(new[] { x.X0, x.X1, x.X2, x.X3 }, Is.EqualTo(new[] { 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u }));
    }

    [Test]
    public void Philox4x32_10_MatchesRandom123KnownAnswer_AllOnes()
    {
        // Random123 kat_vectors: philox4x32 10 ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff
        var x = Philox4x32.Generate(uint.MaxValue, uint.MaxValue, uint.MaxValue, uint.MaxValue, uint.MaxValue, uint.MaxValue);
        Assert.That(new[] { x.X0, x.X1, x.X2, x.X3 }, Is.EqualTo(new[] { 0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu }));
    }

    [Test]
    public void VectorPhilox_MatchesScalarPerLane()
    {
        if (!PhiloxHost.IsVectorized)
        {
            Assert.Ignore("No AVX-512 on this CPU.");
        }

        long block = (1L << 32) - 3;
        PhiloxHost.Blocks8(block, out var lo, out var hi);
        PhiloxHost.Generate8(lo, hi, Vector512.Create(77UL), Vector512.Create(2UL), 0xDEADBEEF, 12345,
            out var x0, out var x1, out var x2, out var x3);
        for (int j = 0; j < 8; j++)
        {
            var s = Philox4x32.ForBlock(12345UL << 32 | 0xDEADBEEF, block + j, 77, 2);
            Assert.That(new[] { (uint)x0.GetElement(j), (uint)x1.GetElement(j), (uint)x2.GetElement(j), (uint)x3.GetElement(j) },
                Is.EqualTo(new[] { s.X0, s.X1, s.X2, s.X3 }), $"lane {j}");
        }
    }
}
