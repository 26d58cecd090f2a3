using Lmu.Gpu.Training;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Training;

/// <summary>
/// A streaming step on the host path allocates nothing once warm: the cell and dense layers take their per-call
/// scratch from a pool, their loop bodies are static methods handed their data by value (no closures), and
/// single-group loops skip <see cref="Parallel"/>. Measured with <see cref="HostThreads.Limit"/> = 1, where everything
/// runs on the calling thread, so <see cref="GC.GetAllocatedBytesForCurrentThread"/> sees every byte.
/// </summary>
[TestFixture]
[NonParallelizable] // sets the process-wide HostThreads.Limit
public sealed class StreamAllocationTests
{
    [TearDown]
    public void RestoreThreads() => HostThreads.Reset();

    [TestCase(1)]
    [TestCase(16)]
    public void Step_AllocatesNothing_OnceWarm(int batch)
    {
        HostThreads.Limit = 1;
        using var device = LmuDevice.Open(AcceleratorKind.Cpu);
        using var model = new LmuModel(device, 2, returnSequences: true, seed: 4)
            .AddLmu(new LmuCellOptions { InputSize = 2, Units = 32, Order = 16, Theta = 20, HiddenBias = true })
            .AddLmu(new LmuCellOptions { InputSize = 32, Units = 24, Order = 8, Theta = 10 })
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 24, Units = 16, Order = 12, Theta = 30 })
            .AddDense(3);
        using var stream = model.OpenStream(batch);
        var input = new float[batch * 2];
        var output = new float[stream.OutputLength(1)];
        for (int i = 0; i < 50; i++)
        {
            input[i % input.Length] = 0.01f * i;
            stream.Run(input, 1, output);
        }

        const int calls = 100;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < calls; i++)
        {
            stream.Run(input, 1, output);
        }

        long perStep = (GC.GetAllocatedBytesForCurrentThread() - before) / calls;

        // Before the pooled scratch a step allocated each cell's lane copies (h, h', m, m', u, a zero row and the
        // bias: 6 KB per cell at B = 16) and the dense layer's zero rows on every call, then a few hundred bytes of
        // closures and enumerators.
        Assert.That(perStep, Is.Zero, $"{perStep} bytes per step");
        Assert.That(output, Has.All.Not.NaN);
    }
}
