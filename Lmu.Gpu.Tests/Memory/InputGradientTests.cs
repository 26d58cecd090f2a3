using ILGPU;
using ILGPU.Runtime;
using Lmu.Gpu.Tests.Scan;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Memory;

/// <summary>
/// <see cref="LinearMemory.RunInputGradient(ReadOnlySpan{float}, int, SequenceMethod)"/>, the adjoint without λ, against
/// <see cref="LinearMemory.RunAdjoint(ReadOnlySpan{float}, int, SequenceMethod)"/>'s ∂u and ∂m₀: on the host (its
/// sequential adjoint chains λ through two buffers, grouped for three or more memories, one at a time below; its scan
/// through the first pass's scratch) and on the simulator (the scan by the chunk products), with one chunk or many, and
/// on device views; and its argument checks.
/// </summary>
[TestFixture]
public sealed class InputGradientTests : SimulatorAndHostFixture
{
    private static void AssertMatchesAdjoint(LinearMemory memory, int steps, SequenceMethod method)
    {
        float[] gradients = ScanTestData.Uniform((long)memory.Batch * steps * memory.Channels * memory.Order, seed: steps);
        var expected = memory.RunAdjoint(gradients, steps, method);
        var actual = memory.RunInputGradient(gradients, steps, method);
        Assert.That(ScanTestData.RelativeMaxError(actual.InputGradient, expected.InputGradient), Is.LessThanOrEqualTo(1e-5), "∂u");
        Assert.That(ScanTestData.RelativeMaxError(actual.InitialStateGradient, expected.InitialStateGradient), Is.LessThanOrEqualTo(1e-5), "∂m₀");
        Assert.That(actual.InitialStateGradient.Any(v => v != 0), Is.True);
    }

    [TestCase(false, 1, 1, SequenceMethod.Sequential)]
    [TestCase(false, 2, 1, SequenceMethod.Sequential)]
    [TestCase(false, 3, 2, SequenceMethod.Sequential)] // six memories: grouped
    [TestCase(false, 2, 2, SequenceMethod.Scan)]
    [TestCase(true, 2, 2, SequenceMethod.Scan)]
    [TestCase(true, 1, 3, SequenceMethod.Sequential)]
    public void RunInputGradient_MatchesRunAdjoint(bool simulator, int batch, int channels, SequenceMethod method)
    {
        var system = LmuSystem.Create(7, 25);
        using var memory = new LinearMemory(simulator ? Simulator : Host, system, batch, channels) { ChunkLength = 9 };
        AssertMatchesAdjoint(memory, 131, method);
    }

    [Test]
    public void RunInputGradient_ScanOfOneChunk_MatchesRunAdjoint([Values] bool simulator)
    {
        // One chunk: the input gradient needs no carries, but ∂m₀ still needs λ_0, the chunk's start.
        var system = LmuSystem.Create(6, 30);
        using var memory = new LinearMemory(simulator ? Simulator : Host, system, 2, 2) { ChunkLength = 64 };
        AssertMatchesAdjoint(memory, 40, SequenceMethod.Scan);
    }

    [Test]
    public void RunInputGradient_OnDeviceViews_MatchesTheSpanOverload()
    {
        var system = LmuSystem.Create(8, 40);
        const int batch = 2, channels = 2, steps = 150;
        using var memory = new LinearMemory(Simulator, system, batch, channels) { ChunkLength = 16 };
        float[] gradients = ScanTestData.Uniform((long)batch * steps * channels * 8, seed: 3);
        var expected = memory.RunInputGradient(gradients, steps, SequenceMethod.Scan);
        var acc = Simulator.Accelerator;
        using var g = acc.Allocate1D(gradients);
        using var du = acc.Allocate1D<float>((long)batch * steps * channels);
        using var dm = acc.Allocate1D<float>(memory.StateLength);
        memory.RunInputGradient(g.View, steps, du.View, dm.View, SequenceMethod.Scan);
        Assert.That(du.GetAsArray1D(), Is.EqualTo(expected.InputGradient));
        Assert.That(dm.GetAsArray1D(), Is.EqualTo(expected.InitialStateGradient));
    }

    [Test]
    public void RunInputGradient_ThrowsForWrongLengthsAndNaN()
    {
        using var memory = new LinearMemory(Host, LmuSystem.Create(4, 10), 2);
        var g = new float[2 * 5 * 4];
        Assert.That(() => memory.RunInputGradient(new float[7], 5),
            Throws.ArgumentException.With.Property(nameof(ArgumentException.ParamName)).EqualTo("stateGradients"));
        Assert.That(() => memory.RunInputGradient(g, 5, new float[9], new float[8]),
            Throws.ArgumentException.With.Property(nameof(ArgumentException.ParamName)).EqualTo("inputGradient"));
        Assert.That(() => memory.RunInputGradient(g, 5, new float[10], new float[7]),
            Throws.ArgumentException.With.Property(nameof(ArgumentException.ParamName)).EqualTo("initialStateGradient"));
        Assert.That(() => memory.RunInputGradient(g, 0), Throws.InstanceOf<ArgumentOutOfRangeException>());
        g[13] = float.NaN;
        Assert.That(() => memory.RunInputGradient(g, 5),
            Throws.ArgumentException.With.Property(nameof(ArgumentException.ParamName)).EqualTo("stateGradients"));
    }

    [Test]
    public void RunInputGradient_ThrowsOnceDisposedAndForViewsOnTheHost()
    {
        var memory = new LinearMemory(Host, LmuSystem.Create(4, 10), 1);
        Assert.That(() => memory.RunInputGradient(default(ArrayView<float>), 5, default, default), Throws.InvalidOperationException);
        memory.Dispose();
        Assert.That(() => memory.RunInputGradient(new float[20], 5), Throws.InstanceOf<ObjectDisposedException>());
    }

    [Test]
    public void ResolveAutoInputGradient_FollowsTheProductRuleOnADevice_AndTheAdjointRuleOnTheHost()
    {
        // d = 8 < 128: the product's chunks are 32 steps, and the scan is taken from four chunks on.
        var system = LmuSystem.Create(8, 40);
        using var device = new LinearMemory(Simulator, system, 2);
        Assert.That(device.ResolveAutoInputGradient(127), Is.EqualTo(SequenceMethod.Sequential));
        Assert.That(device.ResolveAutoInputGradient(128), Is.EqualTo(SequenceMethod.Scan));
        ((DeviceMemoryEngine)device.Engine).StatesKernel = ScanStatesKernel.Steps;
        Assert.That(device.ResolveAutoInputGradient(5000), Is.EqualTo(device.ResolveAutoAdjoint(5000)), "the lock-step kernel's rule");
        using var host = new LinearMemory(Host, system, 2);
        foreach (int steps in new[] { 10, 1000, 100_000 })
        {
            Assert.That(host.ResolveAutoInputGradient(steps), Is.EqualTo(host.ResolveAutoAdjoint(steps)));
        }
    }
}
