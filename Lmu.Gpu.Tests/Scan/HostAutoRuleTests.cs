using Lmu.Gpu.Kernels.Memory;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Scan;

/// <summary>
/// The host's <see cref="SequenceMethod.Auto"/> rule where many memories run at once: the sequential run steps them in
/// groups of eight, so once whole groups keep every core busy the scan's parallel chunks gain nothing forward and its
/// adjoint does about twice the work (measured 1.6–2.4× slower on two cores, docs/benchmarks/scan-cpu.md). The rule
/// is checked at a stated core count, so that these cases do not depend on the machine running the tests.
/// </summary>
[TestFixture]
public sealed class HostAutoRuleTests
{
    private LmuDevice _device = null!;

    [OneTimeSetUp]
    public void OpenDevice() => _device = LmuDevice.Open(AcceleratorKind.Cpu);

    [OneTimeTearDown]
    public void CloseDevice() => _device.Dispose();

    [TestCase(64, 16, 100_000, true, TestName = "B·k = 16 on two cores: one whole group per core")]
    [TestCase(256, 32, 2_000, true, TestName = "B·k = 32: two whole groups per core")]
    [TestCase(256, 24, 1_000, true, TestName = "B·k = 24, T ≤ L: the scan has one chunk per sequence, the same three groups")]
    [TestCase(64, 24, 10_000, false, TestName = "B·k = 24: three groups leave one core idle half the time")]
    [TestCase(64, 12, 10_000, false, TestName = "B·k = 12: the second group is half empty")]
    [TestCase(64, 8, 10_000, false, TestName = "B·k = 8: one group, one core")]
    [TestCase(64, 2, 100_000, false, TestName = "B·k = 2: not stepped in groups")]
    public void Forward_SequentialGroupsKeepUp_OnTwoCores(int order, int memories, int steps, bool expected) =>
        Assert.That(HostMemoryEngine.SequentialGroupsKeepUp(order, memories, steps, HostMemoryEngine.ForwardScanCost, processors: 2),
            Is.EqualTo(expected));

    [TestCase(64, 16, 100_000, true)]
    [TestCase(64, 24, 10_000, true)]
    [TestCase(64, 12, 10_000, true)]
    [TestCase(256, 12, 2_000, true)]
    [TestCase(64, 8, 10_000, false)]
    [TestCase(256, 8, 2_000, false)]
    public void Adjoint_SequentialGroupsKeepUp_OnTwoCores(int order, int memories, int steps, bool expected) =>
        Assert.That(HostMemoryEngine.SequentialGroupsKeepUp(order, memories, steps, HostMemoryEngine.AdjointScanCost, processors: 2),
            Is.EqualTo(expected));

    [Test]
    public void SequentialGroupsKeepUp_NotWhereTheGroupsCannotFillTheCores()
    {
        // Sixteen cores: two groups of eight leave fourteen idle, the scan's chunks fill them.
        Assert.Multiple(() =>
        {
            Assert.That(HostMemoryEngine.SequentialGroupsKeepUp(64, 16, 100_000, HostMemoryEngine.AdjointScanCost, processors: 16), Is.False);
            Assert.That(HostMemoryEngine.SequentialGroupsKeepUp(64, 128, 100_000, HostMemoryEngine.ForwardScanCost, processors: 16), Is.True);
        });
    }

    [Test]
    public void ResolveAuto_FollowsTheRuleAtThisMachinesCores([Values(1, 8, 16, 24, 64)] int batch)
    {
        const int order = 64, steps = 10_000;
        using var memory = new LinearMemory(_device, LmuSystem.Create(order, 1_000), batch);
        int cores = Environment.ProcessorCount;
        bool scan = HostMemoryEngine.PrefersScan(order, batch, steps);
        var forward = scan && !HostMemoryEngine.SequentialGroupsKeepUp(order, batch, steps, HostMemoryEngine.ForwardScanCost, cores);
        var adjoint = scan && !HostMemoryEngine.SequentialGroupsKeepUp(order, batch, steps, HostMemoryEngine.AdjointScanCost, cores);
        Assert.Multiple(() =>
        {
            Assert.That(memory.ResolveAuto(steps), Is.EqualTo(forward ? SequenceMethod.Scan : SequenceMethod.Sequential));
            Assert.That(memory.ResolveAutoAdjoint(steps), Is.EqualTo(adjoint ? SequenceMethod.Scan : SequenceMethod.Sequential));
            Assert.That(memory.Engine.PrefersScan(steps, MemoryOutputMode.Decoded), Is.EqualTo(forward), "decoded as all states");
            Assert.That(memory.Engine.PrefersScan(steps, MemoryOutputMode.FinalOnly), Is.True, "final-only keeps the scan");
        });
    }

    [Test]
    public void ResolveAutoAdjoint_ThrowsForZeroStepsAndAfterDispose()
    {
        var memory = new LinearMemory(_device, LmuSystem.Create(4, 10));
        Assert.That(() => memory.ResolveAutoAdjoint(0), Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("steps"));
        memory.Dispose();
        Assert.That(() => memory.ResolveAutoAdjoint(10), Throws.TypeOf<ObjectDisposedException>());
        Assert.That(() => memory.ResolveAuto(10), Throws.TypeOf<ObjectDisposedException>());
    }
}
