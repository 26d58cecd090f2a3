using Lmu.Gpu.Tests.Scan;

namespace Lmu.Gpu.Tests.Memory;

/// <summary>The host path's sequential run in groups of eight memories (<see cref="HostSequence"/>): all states, decoded
/// outputs and final states against the double reference from zero states, and against the one-memory-at-a-time run
/// from random initial states; last groups of one to eight memories, k = 1 and 3 channels, orders with rows past the
/// vector blocks, and the parallel path.</summary>
[TestFixture]
[NonParallelizable] // sets HostMemoryEngine.ForceOneAtATime
public sealed class HostSequenceTests
{
    [TestCase(3, 1, 8, 50)]
    [TestCase(5, 1, 37, 40)]
    [TestCase(4, 3, 20, 60)]
    [TestCase(13, 1, 33, 30)]
    [TestCase(20, 1, 16, 25)]
    [TestCase(16, 4, 128, 40)]
    public void Sequential_InGroups_MatchesReferenceAndOneAtATime(int batch, int channels, int order, int steps)
    {
        // 64 memories of d = 128 over 40 steps is 4.2·10⁷ multiply-adds: the groups run in parallel.
        Assert.That(HostMemoryEngine.GroupedSequential(batch * channels), Is.True);
        var system = LmuSystem.Create(order, 20);
        float[] input = ScanTestData.Uniform((long)batch * steps * channels, seed: 111);
        using var device = LmuDevice.Open(AcceleratorKind.Cpu);
        using var memory = new LinearMemory(device, system, batch, channels);
        double[] delays = [0, 0.5, 1];

        double[] reference = ReferenceMemory.RunStates(system, input, batch, steps, channels);
        float[] states = memory.RunStates(input, steps, SequenceMethod.Sequential);
        Assert.That(ScanTestData.RelativeMaxError(states, reference), Is.LessThanOrEqualTo(1e-5));
        memory.Reset();
        float[] decoded = memory.RunDecoded(input, steps, delays, SequenceMethod.Sequential);
        float[] decoders = Array.ConvertAll(ShiftedLegendre.EvaluateMany(order, delays), x => (float)x);
        Assert.That(ScanTestData.RelativeMaxError(decoded, ScanTestData.Decode(reference, decoders, delays.Length, order)), Is.LessThanOrEqualTo(1e-5));

        // From random initial states, every output mode against the one-at-a-time run (the same sums in the same order).
        float[] initial = ScanTestData.Uniform(memory.StateLength, seed: 112, scale: 5f);
        var grouped = ScanTestData.RunAll(memory, input, initial, steps, SequenceMethod.Sequential);
        HostMemoryEngine.ForceOneAtATime = true;
        try
        {
            var single = ScanTestData.RunAll(memory, input, initial, steps, SequenceMethod.Sequential);
            ScanTestData.AssertRunsMatch(grouped, single, 1e-6);
        }
        finally
        {
            HostMemoryEngine.ForceOneAtATime = false;
        }
    }

    [TestCase(3, 1, 8, 50)]
    [TestCase(13, 1, 33, 30)]
    [TestCase(16, 4, 128, 40)]
    public void Adjoint_InGroups_MatchesOneAtATime(int batch, int channels, int order, int steps)
    {
        // λ_t = g_t + Āᵀ·λ_(t+1), ∂u_t = B̄ᵀ·λ_t and ∂m_(−1) = Āᵀ·λ_0, against the one-at-a-time run; its correctness
        // against the forward run is HostScanTests.RunAdjoint_GivesTheGradientOfALinearLoss (six memories: in groups).
        var system = LmuSystem.Create(order, 20);
        float[] gradients = ScanTestData.Uniform((long)batch * steps * channels * order, seed: 113);
        using var device = LmuDevice.Open(AcceleratorKind.Cpu);
        using var memory = new LinearMemory(device, system, batch, channels);
        var grouped = memory.RunAdjoint(gradients, steps, SequenceMethod.Sequential);
        HostMemoryEngine.ForceOneAtATime = true;
        try
        {
            ScanTestData.AssertAdjointsMatch(grouped, memory.RunAdjoint(gradients, steps, SequenceMethod.Sequential), 1e-6);
        }
        finally
        {
            HostMemoryEngine.ForceOneAtATime = false;
        }
    }

    [TestCase(3, 1, 8, 50)]
    [TestCase(13, 1, 33, 31)]
    [TestCase(16, 4, 128, 40)]
    public unsafe void Adjoint_WithoutLambdaOutput_GivesTheSameInputGradient(int batch, int channels, int order, int steps)
    {
        // Training wants ∂u only: each group then chains λ through its own two buffers (odd and even T).
        var system = LmuSystem.Create(order, 20);
        float[] a = system.DiscreteASingle();
        float[] b = system.DiscreteBSingle();
        long rows = (long)batch * steps * channels;
        float[] gradients = ScanTestData.Uniform(rows * order, seed: 114);
        var lambda = new float[rows * order];
        var withLambda = new float[rows];
        var without = new float[rows];
        Array.Fill(without, float.NaN);
        fixed (float* g = gradients, l = lambda, du = withLambda, du2 = without)
        {
            HostSequence.Adjoint(a, b, g, batch, channels, steps, l, du);
            HostSequence.Adjoint(a, b, g, batch, channels, steps, null, du2);
        }

        Assert.That(without, Is.EqualTo(withLambda), "the same sums in the same order");
        Assert.That(withLambda.Any(x => x != 0), Is.True);
    }

    [Test]
    public void GroupedSequential_FromThreeMemories() =>
        Assert.That(new[] { 1, 2, 3, 8 }.Select(HostMemoryEngine.GroupedSequential), Is.EqualTo(new[] { false, false, true, true }));
}
