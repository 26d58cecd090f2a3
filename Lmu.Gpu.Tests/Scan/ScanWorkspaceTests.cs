using NUnit.Framework;

namespace Lmu.Gpu.Tests.Scan;

/// <summary>The device scan's scratch kept between runs (<see cref="ScanWorkspace"/>): runs after runs of other sizes,
/// forward and adjoint in turn, and after <see cref="LinearMemory.ReleaseScratch"/>, each against the host's
/// sequential run, and the scratch held after each.</summary>
[TestFixture]
public sealed class ScanWorkspaceTests : SimulatorAndHostFixture
{
    [Test]
    public void ScanRuns_ReuseAndGrowTheScratch_MatchHostSequential()
    {
        // Long, short, long again: the short run reads views of buffers holding the long run's values past its own
        // length; the product phase C (chunk starts) and the two-level carries (segment ends) take part. In between,
        // an adjoint uses its own scratch.
        const int order = 8, batch = 2, channels = 1;
        var system = LmuSystem.Create(order, 40);
        using var device = new LinearMemory(Simulator, system, batch, channels) { ChunkLength = 4 };
        var engine = (DeviceMemoryEngine)device.Engine;
        engine.StatesKernel = ScanStatesKernel.Gemm;
        engine.CarrySegment = 3;
        engine.WindowUse = ScanWindowUse.Never;
        using var host = new LinearMemory(Host, system, batch, channels);
        Assert.That(engine.ScratchBytes, Is.Zero);

        long held = 0;
        foreach (int steps in new[] { 400, 90, 400 })
        {
            float[] input = ScanTestData.Uniform((long)batch * steps * channels, seed: steps);
            float[] initial = ScanTestData.Uniform((long)batch * channels * order, seed: steps + 1);
            host.SetStates(initial);
            device.SetStates(initial);
            float[] expected = host.RunStates(input, steps, SequenceMethod.Sequential);
            float[] states = device.RunStates(input, steps, SequenceMethod.Scan);
            Assert.That(ScanTestData.RelativeMaxError(states, expected), Is.LessThanOrEqualTo(1e-5), $"T = {steps}");
            Assert.That(ScanTestData.RelativeMaxError(device.GetStates(), host.GetStates()), Is.LessThanOrEqualTo(1e-5), $"T = {steps}");

            float[] gradients = ScanTestData.Uniform((long)batch * steps * channels * order, seed: steps + 2);
            ScanTestData.AssertAdjointsMatch(device.RunAdjoint(gradients, steps, SequenceMethod.Scan),
                host.RunAdjoint(gradients, steps, SequenceMethod.Sequential), 1e-5);
            held = steps == 400 && held == 0 ? engine.ScratchBytes : held;
            Assert.That(engine.ScratchBytes, Is.EqualTo(held), "a run no longer than the longest so far allocates nothing");
        }

        Assert.That(held, Is.GreaterThan(0));
        device.ReleaseScratch();
        Assert.That(engine.ScratchBytes, Is.Zero);
        float[] again = ScanTestData.Uniform((long)batch * 90 * channels, seed: 5);
        host.Reset();
        device.Reset();
        Assert.That(ScanTestData.RelativeMaxError(device.RunStates(again, 90, SequenceMethod.Scan), host.RunStates(again, 90, SequenceMethod.Sequential)),
            Is.LessThanOrEqualTo(1e-5));
    }

    [Test]
    public void ReleaseScratch_ThrowsForADisposedMemory()
    {
        var memory = new LinearMemory(Simulator, LmuSystem.Create(4, 10));
        memory.Dispose();
        Assert.Throws<ObjectDisposedException>(memory.ReleaseScratch);
    }

    [Test]
    public void ReleaseScratch_OnTheHostPath_KeepsTheStates()
    {
        using var memory = new LinearMemory(Host, LmuSystem.Create(4, 10));
        memory.Step([1f]);
        float[] before = memory.GetStates();
        memory.ReleaseScratch();
        Assert.That(memory.GetStates(), Is.EqualTo(before));
    }
}
